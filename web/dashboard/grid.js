// The column grid as the user handles it: hover (tooltip), click and keyboard
// (selection), wheel, drag, pinch and keys (zoom and pan), the minimap, the "colour by"
// mode and its legend. Painting is grid-paint.js's job and the view's geometry
// grid-view.js's; this file turns events into calls on them.

import { formatCount, formatDuration, formatUnit } from "./format.js";
import {
  activationAt, ALLOCATED, COLOURS, GridImage, MODES, REFRACTORY, SCALE_GRADIENT, STATE_NAMES,
} from "./grid-paint.js";
import { GridView } from "./grid-view.js";

const DRAG_THRESHOLD_PX = 4;
const KEY_ZOOM = 2;
const FOUND_ZOOM = 12; // CSS pixels per cell when a search brings a column into view
// Activation decays with time, not through calls: repaint from the last snapshot this often.
const DECAY_REPAINT_MS = 1000;

export class ColumnGrid {
  /**
   * @param {{canvas, minimap, marker, tooltip, legend}} elements
   * @param {(id: number|null) => void} onSelect told whenever the selection changes
   */
  constructor({ canvas, minimap, marker, tooltip, legend }, onSelect) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.legend = legend;
    this.onSelect = onSelect;
    this.image = new GridImage();
    // the wrap around the canvas's frame: its width is the grid's to use
    this.view = new GridView({ canvas, minimap, marker, box: canvas.parentElement.parentElement }, this.image);
    this.snapshot = null;
    this.selected = null;
    this.hovered = null;
    this.mode = "state";
    this.extras = {};
    this.pointers = new Map(); // pointerId -> {x, y}
    this.dragged = false;
    this.decayTimer = null;

    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
    canvas.addEventListener("pointercancel", (event) => this.pointers.delete(event.pointerId));
    canvas.addEventListener("pointerleave", () => this.hideTooltip());
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    canvas.addEventListener("keydown", (event) => this.key(event));
    canvas.addEventListener("blur", () => this.hideTooltip());
    const onMinimap = (event) => {
      if (event.buttons !== 1) return;
      const box = minimap.getBoundingClientRect();
      this.view.moveToMinimap(event.clientX - box.left, event.clientY - box.top);
    };
    minimap.addEventListener("pointerdown", (event) => {
      minimap.setPointerCapture(event.pointerId);
      onMinimap(event);
    });
    minimap.addEventListener("pointermove", onMinimap);
    this.showLegend();
  }

  /** {columnCount}: what the refresh compares with a snapshot's length. */
  get geometry() {
    return { columnCount: this.image.columnCount };
  }

  /** Start over for an engine of columnCount columns (everything repaints on update). */
  reset(columnCount) {
    this.snapshot = null;
    this.hideTooltip();
    this.select(null);
    this.image.reset(columnCount);
    this.view.resize();
    this.view.fit();
    this.publish(0);
    this.canvas.setAttribute("aria-label", columnCount === 0
      ? "Column grid: this engine has no columns."
      : `Column grid: ${formatCount(columnCount)} columns, ${formatCount(this.image.cols)} per row.`);
  }

  /** Colour the columns by mode (a key of MODES); repaints at once. */
  setMode(mode) {
    if (!(mode in MODES)) throw new Error(`Unknown colour mode ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.canvas.dataset.mode = mode;
    if (this.snapshot !== null) this.update(this.snapshot);
    else this.showLegend();
    this.followDecay();
  }

  /** Facts the modes need beside the snapshot: {halfLifeMs, refractoryMs}. */
  setExtras(extras) {
    this.extras = { ...this.extras, ...extras };
    this.followDecay();
  }

  // While activation shows and decays, repaint it every DECAY_REPAINT_MS (from the last
  // snapshot: no call to the engine), and only while the page is visible.
  followDecay() {
    const decaying = this.mode === "activation" && this.extras.halfLifeMs > 0;
    if (decaying && this.decayTimer === null) {
      this.decayTimer = setInterval(() => {
        if (this.snapshot !== null && document.visibilityState === "visible") this.update(this.snapshot);
      }, DECAY_REPAINT_MS);
    } else if (!decaying && this.decayTimer !== null) {
      clearInterval(this.decayTimer);
      this.decayTimer = null;
    }
  }

  /** Show a getColumnStates() snapshot; returns how many cells were repainted. */
  update(snapshot) {
    const started = performance.now();
    if (snapshot.state.length !== this.image.columnCount) {
      throw new Error(`getColumnStates() has ${snapshot.state.length} columns, the grid ${this.image.columnCount}`);
    }
    const painted = this.image.update(snapshot, this.mode, { ...this.extras, now: Date.now() });
    this.snapshot = snapshot;
    if (painted > 0) this.view.draw();
    this.publish(performance.now() - started);
    this.showLegend();
    if (this.hovered !== null) this.showTooltip(this.hovered);
    return painted;
  }

  // Counts and the last redraw's duration as attributes: what tests and scripts wait on.
  publish(redrawMs) {
    const { dataset } = this.canvas;
    const { counts } = this.image;
    dataset.columns = String(this.image.columnCount);
    dataset.allocated = String(counts[ALLOCATED]);
    dataset.refractory = String(counts[REFRACTORY]);
    dataset.redrawMs = redrawMs.toFixed(2);
  }

  showLegend() {
    const items = [];
    const swatch = (colour, text) => ({ colour, text });
    const range = this.image.range;
    if (this.mode === "state") {
      items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.allocated, "Allocated"),
        swatch(COLOURS.refractory, "Refractory"));
    } else {
      const format = this.mode === "age" || this.mode === "refractory"
        ? (v) => formatDuration(v)
        : this.mode === "usage" ? (v) => `${formatCount(v)} use${v === 1 ? "" : "s"}` : formatUnit;
      const [low, high] = range ?? [0, 1];
      items.push({ gradient: SCALE_GRADIENT, text: `${MODES[this.mode].scale}: ${format(low)} to ${format(high)}` });
      if (this.mode === "usage") items.push(swatch(COLOURS.available, "Never used"));
      else if (this.mode === "refractory") {
        items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.other, "Allocated"));
      } else {
        items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.refractory, "Refractory"));
      }
    }
    items.push({ selected: true, text: "Selected" });
    const key = JSON.stringify(items);
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.dataset.mode = this.mode;
    this.legend.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const mark = document.createElement("span");
      mark.className = item.selected ? "swatch swatch-selected" : item.gradient ? "swatch scale" : "swatch";
      mark.setAttribute("aria-hidden", "true");
      if (item.gradient) mark.style.background = item.gradient;
      else if (item.colour) mark.style.background = item.colour;
      li.append(mark, item.text);
      return li;
    }));
  }

  // ---------------------------------------------------------------- pointer and wheel

  local(event) {
    const box = this.canvas.getBoundingClientRect();
    return { x: event.clientX - box.left - this.canvas.clientLeft, y: event.clientY - box.top - this.canvas.clientTop };
  }

  pointerDown(event) {
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, startX: event.clientX, startY: event.clientY });
    this.dragged = false;
    if (this.pointers.size === 2) this.pinchDistance = this.distance();
  }

  pointerMove(event) {
    const pointer = this.pointers.get(event.pointerId);
    if (pointer === undefined) {
      this.hover(event);
      return;
    }
    const dx = event.clientX - pointer.x;
    const dy = event.clientY - pointer.y;
    pointer.x = event.clientX;
    pointer.y = event.clientY;
    if (this.pointers.size >= 2) {
      // Pinch: zoom by the change in distance about the midpoint.
      const distance = this.distance();
      const [a, b] = [...this.pointers.values()];
      const box = this.canvas.getBoundingClientRect();
      if (this.pinchDistance > 0) {
        this.view.zoomBy(distance / this.pinchDistance, (a.x + b.x) / 2 - box.left, (a.y + b.y) / 2 - box.top);
      }
      this.pinchDistance = distance;
      this.dragged = true;
      this.afterViewChange();
      return;
    }
    if (!this.dragged && Math.hypot(event.clientX - pointer.startX, event.clientY - pointer.startY) < DRAG_THRESHOLD_PX) {
      this.hover(event);
      return;
    }
    if (!this.dragged) this.canvas.setPointerCapture(event.pointerId);
    this.dragged = true;
    this.view.panBy(dx, dy);
    this.afterViewChange();
  }

  pointerUp(event) {
    const wasDrag = this.dragged;
    this.pointers.delete(event.pointerId);
    if (this.pointers.size > 0) return;
    if (!wasDrag) {
      const { x, y } = this.local(event);
      const id = this.view.columnAt(x, y);
      if (id !== null) this.select(id);
    }
  }

  distance() {
    const [a, b] = [...this.pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  }

  wheel(event) {
    event.preventDefault();
    const { x, y } = this.local(event);
    // A notch of a mouse wheel (100 px) zooms by about 1.4; trackpads send smaller steps.
    const delta = event.deltaMode === 1 ? event.deltaY * 33 : event.deltaY;
    this.view.zoomBy(Math.exp(-delta * 0.0035), x, y);
    this.afterViewChange();
    this.hover(event);
  }

  afterViewChange() {
    if (this.hovered !== null) this.hideTooltip();
  }

  /** Zoom in (factor > 1) or out about the centre; for the buttons. */
  zoomBy(factor) {
    this.view.zoomBy(factor);
    this.afterViewChange();
  }

  fit() {
    this.view.fit();
    this.afterViewChange();
  }

  /** Select column id, and zoom and scroll so that it shows. */
  reveal(id) {
    this.select(id);
    this.view.centreOn(id, FOUND_ZOOM);
  }

  // ----------------------------------------------------------------------- tooltip

  hover(event) {
    const { x, y } = this.local(event);
    const id = this.view.columnAt(x, y);
    if (id === null) {
      this.hideTooltip();
      return;
    }
    this.hovered = id;
    this.pointer = { x: event.clientX, y: event.clientY };
    this.showTooltip(id);
  }

  /** Everything the snapshot says about column id. */
  describe(id) {
    const snapshot = this.snapshot;
    if (snapshot === null) return null;
    const state = snapshot.state[id];
    return {
      id,
      state: STATE_NAMES[state] ?? `state ${state}`,
      conceptId: state === ALLOCATED ? snapshot.concept[id] : null,
      activation: state === ALLOCATED
        ? activationAt(snapshot, id, this.extras.halfLifeMs, Date.now()) : snapshot.activation[id],
      confidence: state === ALLOCATED ? snapshot.confidence[id] : null,
      usage: snapshot.usage[id],
      refractoryLeft: state === REFRACTORY && snapshot.refractoryLeftMs
        ? snapshot.refractoryLeftMs[id] : null,
    };
  }

  showTooltip(id) {
    const column = this.describe(id);
    if (column === null) return;
    const lines = [`Column ${formatCount(column.id)}`];
    lines.push(column.conceptId === null
      ? `No concept · ${column.state}`
      : `Concept ${column.conceptId} · ${column.state}`);
    let figures = `Activation ${formatUnit(column.activation)}`;
    if (column.confidence !== null) figures += ` · confidence ${formatUnit(column.confidence)}`;
    lines.push(figures);
    lines.push(`Used ${formatCount(column.usage)} time${column.usage === 1 ? "" : "s"}`);
    if (column.refractoryLeft !== null) lines.push(`Available in ${formatDuration(column.refractoryLeft)}`);
    const tooltip = this.tooltip;
    tooltip.replaceChildren(...lines.map((line) => {
      const span = document.createElement("span");
      span.textContent = line;
      return span;
    }));
    tooltip.dataset.column = String(id);
    tooltip.hidden = false;
    this.placeTooltip();
  }

  // Beside the pointer, kept inside the grid's box so it never widens the page.
  placeTooltip() {
    const tooltip = this.tooltip;
    const wrap = tooltip.offsetParent ?? this.canvas.parentElement;
    const box = wrap.getBoundingClientRect();
    const offset = 14;
    let left = this.pointer.x - box.left + offset;
    let top = this.pointer.y - box.top + offset;
    if (left + tooltip.offsetWidth > box.width) {
      left = Math.max(0, this.pointer.x - box.left - offset - tooltip.offsetWidth);
    }
    if (top + tooltip.offsetHeight > box.height) {
      top = Math.max(0, this.pointer.y - box.top - offset - tooltip.offsetHeight);
    }
    tooltip.style.left = `${left}px`;
    tooltip.style.top = `${top}px`;
  }

  hideTooltip() {
    this.hovered = null;
    this.tooltip.hidden = true;
  }

  // --------------------------------------------------------------- selection and keys

  /** Select column id (null: none), mark it, and tell onSelect. */
  select(id) {
    if (id === this.selected) return;
    this.selected = id;
    this.canvas.dataset.selected = id === null ? "" : String(id);
    this.view.select(id);
    this.onSelect(id);
  }

  key(event) {
    const { cols, columnCount } = this.image;
    if (columnCount === 0) return;
    if (event.key === "+" || event.key === "=") return this.keyDone(event, () => this.zoomBy(KEY_ZOOM));
    if (event.key === "-" || event.key === "_") return this.keyDone(event, () => this.zoomBy(1 / KEY_ZOOM));
    if (event.key === "0") return this.keyDone(event, () => this.fit());
    const current = this.selected;
    const moves = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -cols,
      ArrowDown: cols,
      PageUp: -cols * 10,
      PageDown: cols * 10,
    };
    let next;
    if (event.key in moves) next = current === null ? 0 : current + moves[event.key];
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = columnCount - 1;
    else if (event.key === "Escape") next = null;
    else return;
    event.preventDefault();
    if (next !== null) next = Math.min(columnCount - 1, Math.max(0, next));
    this.select(next);
    if (next !== null) this.view.reveal(next);
  }

  keyDone(event, action) {
    event.preventDefault();
    action();
  }
}
