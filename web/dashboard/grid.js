// The column grid: one cell per column on a canvas, cols = ceil(sqrt(N)), coloured by
// state and shaded by activation. It must stay smooth at 1,000,000 columns, so it keeps
// its own ImageData, compares each getColumnStates() snapshot with the previous one and
// repaints only the cells that changed (then puts only the rows that hold them).

import { formatCount, formatUnit } from "./format.js";

const AVAILABLE = 0;
const ALLOCATED = 1;
const REFRACTORY = 2;
const STATE_NAMES = ["available", "allocated", "refractory"];

// Colours (the legend's swatches in style.css use the same ones). Allocated cells run
// from blue (activation 0) to navy (activation 1); all of them, and refractory
// amber, stand apart from the pale grey of available columns by well over 3:1.
const COLOURS = {
  background: "#ffffff",
  available: "#dfe4ea",
  refractory: "#c2410c",
  allocatedIdle: "#2563eb",
  allocatedActive: "#172554",
};

// Cells are a whole number of device pixels wide, as many as fit the grid's box (at
// most MAX_CELL), so they stay crisp at every size; a cell never gets smaller than one
// pixel, so 1,000,000 columns make a 1000 x 1000 image that CSS scales to the box.
const MAX_CELL = 48;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function rgb(hex) {
  const value = parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

// One pixel as the Uint32 that ImageData's RGBA bytes form on this machine.
function pixel([r, g, b]) {
  return LITTLE_ENDIAN
    ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

const BACKGROUND = pixel(rgb(COLOURS.background));
const PIXEL_AVAILABLE = pixel(rgb(COLOURS.available));
const PIXEL_REFRACTORY = pixel(rgb(COLOURS.refractory));
// Activation in [0, 1] quantized to 256 shades of the allocated colour.
const PIXEL_ALLOCATED = (() => {
  const idle = rgb(COLOURS.allocatedIdle);
  const active = rgb(COLOURS.allocatedActive);
  const shades = new Uint32Array(256);
  for (let level = 0; level < 256; level++) {
    const t = level / 255;
    shades[level] = pixel(idle.map((from, k) => Math.round(from + (active[k] - from) * t)));
  }
  return shades;
})();

function shadeOf(activation) {
  if (!(activation > 0)) return PIXEL_ALLOCATED[0]; // NaN too
  return PIXEL_ALLOCATED[activation >= 1 ? 255 : Math.round(activation * 255)];
}

// Float32 activations compared by their bits: exact, and NaN equals itself.
const bitsOf = (floats) => new Uint32Array(floats.buffer, floats.byteOffset, floats.length);

/** The grid's geometry for columnCount columns in a box availablePixels wide. */
export function layout(columnCount, availablePixels) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(columnCount)));
  const rows = Math.ceil(columnCount / cols);
  const cell = Math.min(MAX_CELL, Math.max(1, Math.floor(availablePixels / cols)));
  // A one-pixel gap between cells while they are large enough to spare it.
  const gap = cell >= 5 ? 1 : 0;
  return { columnCount, cols, rows, cell, gap, width: cols * cell, height: rows * cell };
}

export class ColumnGrid {
  /**
   * @param {{canvas, marker, tooltip}} elements the canvas, the selection marker, the tooltip
   * @param {(id: number|null) => void} onSelect told whenever the selection changes
   */
  constructor({ canvas, marker, tooltip }, onSelect) {
    this.canvas = canvas;
    this.marker = marker;
    this.tooltip = tooltip;
    this.onSelect = onSelect;
    this.context = canvas.getContext("2d", { alpha: false });
    this.snapshot = null;
    this.selected = null;
    this.hovered = null;
    this.geometry = layout(0, 0);
    this.counts = [0, 0, 0];
    this.box = canvas.parentElement; // the grid's box: its width decides the cell size
    this.image = null;

    canvas.addEventListener("pointermove", (event) => this.hover(event));
    canvas.addEventListener("pointerleave", () => this.hideTooltip());
    canvas.addEventListener("click", (event) => {
      const id = this.columnAt(event);
      if (id !== null) this.select(id);
    });
    canvas.addEventListener("keydown", (event) => this.key(event));
    canvas.addEventListener("blur", () => this.hideTooltip());
    new ResizeObserver(() => {
      this.placeMarker();
      this.hideTooltip();
    }).observe(canvas);
    // A wider or narrower box may fit another cell size: lay out and repaint everything.
    new ResizeObserver(() => {
      if (this.cellFor(this.geometry.columnCount) !== this.geometry.cell) this.relayout();
    }).observe(this.box);
  }

  cellFor(columnCount) {
    return layout(columnCount, this.availablePixels()).cell;
  }

  // The box's content width in device pixels, less the canvas border.
  availablePixels() {
    const border = this.canvas.offsetWidth - this.canvas.clientWidth;
    return Math.floor((this.box.clientWidth - border) * (window.devicePixelRatio || 1));
  }

  /** Start over for an engine of columnCount columns (everything repaints on update). */
  reset(columnCount) {
    this.snapshot = null;
    this.hideTooltip();
    this.select(null);
    this.geometry = layout(columnCount, this.availablePixels());
    this.allocateImage();
    this.canvas.setAttribute("aria-label", columnCount === 0
      ? "Column grid: this engine has no columns."
      : `Column grid: ${formatCount(columnCount)} columns, ${formatCount(this.geometry.cols)} per row.`);
  }

  // Size the canvas and its ImageData for this.geometry; every cell is background.
  allocateImage() {
    const { canvas, geometry } = this;
    this.counts = [0, 0, 0];
    canvas.width = geometry.width;
    canvas.height = geometry.height;
    if (geometry.cell > 1) {
      // Exactly cell device pixels per column: crisp cells, no uneven gaps.
      const border = canvas.offsetWidth - canvas.clientWidth; // border-box sizing
      canvas.style.width = `${geometry.width / (window.devicePixelRatio || 1) + border}px`;
      canvas.classList.add("crisp");
    } else {
      // More columns than pixels: CSS scales the image to the box, and its smoothing
      // shows density, which is all the eye can take in at that scale anyway.
      canvas.style.width = "";
      canvas.classList.remove("crisp");
    }
    if (geometry.width * geometry.height === 0) {
      this.image = null;
      this.pixels = null;
    } else {
      this.image = this.context.createImageData(geometry.width, geometry.height);
      this.pixels = new Uint32Array(this.image.data.buffer);
      this.pixels.fill(BACKGROUND);
    }
    this.publish(0);
  }

  relayout() {
    const snapshot = this.snapshot;
    this.geometry = layout(this.geometry.columnCount, this.availablePixels());
    this.allocateImage();
    this.snapshot = null;
    if (snapshot !== null) this.update(snapshot);
    this.placeMarker();
  }

  /**
   * Show a getColumnStates() snapshot, repainting the cells whose state or activation
   * differ from the previous snapshot. Returns how many cells were repainted.
   */
  update(snapshot) {
    const started = performance.now();
    const { state } = snapshot;
    const { columnCount, cols, cell } = this.geometry;
    if (state.length !== columnCount) {
      throw new Error(`getColumnStates() has ${state.length} columns, the grid ${columnCount}`);
    }
    if (this.image === null) {
      this.snapshot = snapshot;
      return 0;
    }
    const activation = snapshot.activation;
    const bits = bitsOf(activation);
    const previous = this.snapshot;
    const previousState = previous?.state;
    const previousBits = previous ? bitsOf(previous.activation) : null;
    const counts = this.counts;
    let firstRow = Infinity;
    let lastRow = -1;
    let painted = 0;

    for (let i = 0; i < columnCount; i++) {
      const s = state[i];
      if (previous !== null) {
        const before = previousState[i];
        if (s === before && bits[i] === previousBits[i]) continue;
        counts[before] -= 1;
      }
      counts[s] += 1;
      const colour = s === ALLOCATED ? shadeOf(activation[i])
        : s === REFRACTORY ? PIXEL_REFRACTORY : PIXEL_AVAILABLE;
      const row = (i / cols) | 0;
      if (row < firstRow) firstRow = row;
      lastRow = row;
      this.paint(i, row, colour);
      painted += 1;
    }

    this.snapshot = snapshot;
    if (painted > 0) {
      const top = firstRow * cell;
      this.context.putImageData(this.image, 0, 0, 0, top, this.geometry.width,
        (lastRow - firstRow + 1) * cell);
    }
    this.publish(performance.now() - started);
    if (this.hovered !== null) this.showTooltip(this.hovered);
    return painted;
  }

  paint(i, row, colour) {
    const { cols, cell, gap, width } = this.geometry;
    const pixels = this.pixels;
    if (cell === 1) {
      pixels[i] = colour; // width === cols: pixel index is the column id
      return;
    }
    const size = cell - gap;
    const x = (i - row * cols) * cell;
    let start = row * cell * width + x;
    for (let y = 0; y < size; y++, start += width) pixels.fill(colour, start, start + size);
  }

  // Counts and the last redraw's duration as attributes: what tests and scripts wait on.
  publish(redrawMs) {
    const { dataset } = this.canvas;
    dataset.columns = String(this.geometry.columnCount);
    dataset.allocated = String(this.counts[ALLOCATED]);
    dataset.refractory = String(this.counts[REFRACTORY]);
    dataset.redrawMs = redrawMs.toFixed(2);
  }

  /** The column under a pointer event, or null outside the cells. */
  columnAt(event) {
    const { cols, cell, columnCount, width, height } = this.geometry;
    const canvas = this.canvas;
    const box = canvas.getBoundingClientRect();
    // The image fills the content box, inside the border.
    const left = box.left + canvas.clientLeft;
    const top = box.top + canvas.clientTop;
    if (canvas.clientWidth === 0 || canvas.clientHeight === 0) return null;
    const x = Math.floor(((event.clientX - left) / canvas.clientWidth) * width / cell);
    const y = Math.floor(((event.clientY - top) / canvas.clientHeight) * height / cell);
    if (x < 0 || x >= cols || y < 0) return null;
    const id = y * cols + x;
    return id < columnCount ? id : null;
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
      activation: snapshot.activation[id],
      confidence: state === ALLOCATED ? snapshot.confidence[id] : null,
      usage: snapshot.usage[id],
    };
  }

  hover(event) {
    const id = this.columnAt(event);
    if (id === null) {
      this.hideTooltip();
      return;
    }
    this.hovered = id;
    this.pointer = { x: event.clientX, y: event.clientY };
    this.showTooltip(id);
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
    const tooltip = this.tooltip;
    tooltip.replaceChildren(...lines.map((line) => {
      const span = document.createElement("span");
      span.textContent = line;
      return span;
    }));
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

  /** Select column id (null: none), mark it, and tell onSelect. */
  select(id) {
    if (id === this.selected) return;
    this.selected = id;
    this.canvas.dataset.selected = id === null ? "" : String(id);
    this.placeMarker();
    this.onSelect(id);
  }

  // A ring around the selected cell, at least a few pixels wide even when cells are
  // smaller than a pixel on screen.
  placeMarker() {
    const marker = this.marker;
    if (this.selected === null || this.geometry.columnCount === 0) {
      marker.hidden = true;
      return;
    }
    const { cols, cell, width } = this.geometry;
    const scale = this.canvas.clientWidth / width;
    const row = Math.floor(this.selected / cols);
    const col = this.selected - row * cols;
    const size = Math.max(cell * scale, 8);
    const centre = (n) => (n + 0.5) * cell * scale;
    marker.style.width = `${size}px`;
    marker.style.height = `${size}px`;
    const canvas = this.canvas;
    marker.style.left = `${canvas.offsetLeft + canvas.clientLeft + centre(col) - size / 2}px`;
    marker.style.top = `${canvas.offsetTop + canvas.clientTop + centre(row) - size / 2}px`;
    marker.hidden = false;
  }

  key(event) {
    const { cols, columnCount } = this.geometry;
    if (columnCount === 0) return;
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
  }
}
