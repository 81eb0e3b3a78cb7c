// The column grid, coordinated: a getColumnStates() snapshot painted in the "colour by"
// mode (grid-paint.js) into the zoomed and panned view (grid-view.js), with its legend
// (grid-legend.js), the hovered column's tooltip (grid-tooltip.js) and the selection.
// Events reach it through grid-input.js (pointer, wheel, pinch, keys, minimap).

import { formatCount } from "./format.js";
import { ALLOCATED, GridImage, MODES, REFRACTORY } from "./grid-paint.js";
import { GridInput } from "./grid-input.js";
import { GridLegend } from "./grid-legend.js";
import { describeColumn, GridTooltip } from "./grid-tooltip.js";
import { GridView } from "./grid-view.js";

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
    this.onSelect = onSelect;
    this.image = new GridImage();
    // the wrap around the canvas's frame: its width is the grid's to use
    this.view = new GridView({ canvas, minimap, marker, box: canvas.parentElement.parentElement }, this.image);
    this.tooltip = new GridTooltip(tooltip);
    this.legend = new GridLegend(legend);
    this.snapshot = null;
    this.selected = null;
    this.hovered = null; // {id, pointer}: the column under the pointer, where the pointer is
    this.mode = "state";
    this.extras = {};
    this.decayTimer = null;
    new GridInput(canvas, minimap, this);
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
    if (this.hovered !== null) this.showTooltip();
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
    this.legend.show(this.mode, this.image.range);
  }

  // ------------------------------------------------------------ view and tooltip

  /** The pointer is over column id (null: none) at pointer {x, y} (client coordinates). */
  hover(id, pointer) {
    if (id === null) {
      this.hideTooltip();
      return;
    }
    this.hovered = { id, pointer };
    this.showTooltip();
  }

  showTooltip() {
    if (this.snapshot === null) return;
    const { id, pointer } = this.hovered;
    this.tooltip.show(describeColumn(this.snapshot, id, this.extras.halfLifeMs, Date.now()), pointer);
  }

  hideTooltip() {
    this.hovered = null;
    this.tooltip.hide();
  }

  /** The view moved under the pointer: the tooltip no longer describes what is there. */
  afterViewChange() {
    if (this.hovered !== null) this.hideTooltip();
  }

  /** Zoom in (factor > 1) or out about the centre; for the buttons and keys. */
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

  // -------------------------------------------------------------------- selection

  /** Select column id (null: none), mark it, and tell onSelect. */
  select(id) {
    if (id === this.selected) return;
    this.selected = id;
    this.canvas.dataset.selected = id === null ? "" : String(id);
    this.view.select(id);
    this.onSelect(id);
  }
}
