// The grid's input: pointer (hover, click to select, drag to pan, two pointers to pinch),
// wheel (zoom about the pointer), keys (move the selection, zoom, fit) and the minimap
// (press or drag to move the view). Turns events into calls on the grid (grid.js) and
// its view (grid-view.js); draws nothing itself.

const DRAG_THRESHOLD_PX = 4;
const KEY_ZOOM = 2;

export class GridInput {
  /** Listen on canvas and minimap for grid (a ColumnGrid). */
  constructor(canvas, minimap, grid) {
    this.canvas = canvas;
    this.grid = grid;
    this.pointers = new Map(); // pointerId -> {x, y, startX, startY}
    this.dragged = false;
    this.pinchDistance = 0;

    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
    canvas.addEventListener("pointercancel", (event) => this.pointers.delete(event.pointerId));
    canvas.addEventListener("pointerleave", () => grid.hideTooltip());
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    canvas.addEventListener("keydown", (event) => this.key(event));
    canvas.addEventListener("blur", () => grid.hideTooltip());
    const onMinimap = (event) => {
      if (event.buttons !== 1) return;
      const box = minimap.getBoundingClientRect();
      grid.view.moveToMinimap(event.clientX - box.left, event.clientY - box.top);
    };
    minimap.addEventListener("pointerdown", (event) => {
      minimap.setPointerCapture(event.pointerId);
      onMinimap(event);
    });
    minimap.addEventListener("pointermove", onMinimap);
  }

  // The event's position on the canvas, in CSS pixels from its content's corner.
  local(event) {
    const box = this.canvas.getBoundingClientRect();
    return { x: event.clientX - box.left - this.canvas.clientLeft, y: event.clientY - box.top - this.canvas.clientTop };
  }

  hover(event) {
    const { x, y } = this.local(event);
    this.grid.hover(this.grid.view.columnAt(x, y), { x: event.clientX, y: event.clientY });
  }

  pointerDown(event) {
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, startX: event.clientX, startY: event.clientY });
    this.dragged = false;
    if (this.pointers.size === 2) this.pinchDistance = this.distance();
  }

  pointerMove(event) {
    const { grid } = this;
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
        grid.view.zoomBy(distance / this.pinchDistance, (a.x + b.x) / 2 - box.left, (a.y + b.y) / 2 - box.top);
      }
      this.pinchDistance = distance;
      this.dragged = true;
      grid.afterViewChange();
      return;
    }
    if (!this.dragged && Math.hypot(event.clientX - pointer.startX, event.clientY - pointer.startY) < DRAG_THRESHOLD_PX) {
      this.hover(event);
      return;
    }
    if (!this.dragged) this.canvas.setPointerCapture(event.pointerId);
    this.dragged = true;
    grid.view.panBy(dx, dy);
    grid.afterViewChange();
  }

  pointerUp(event) {
    const wasDrag = this.dragged;
    this.pointers.delete(event.pointerId);
    if (this.pointers.size > 0) return;
    if (!wasDrag) {
      const { x, y } = this.local(event);
      const id = this.grid.view.columnAt(x, y);
      if (id !== null) this.grid.select(id);
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
    this.grid.view.zoomBy(Math.exp(-delta * 0.0035), x, y);
    this.grid.afterViewChange();
    this.hover(event);
  }

  key(event) {
    const { grid } = this;
    const { cols, columnCount } = grid.image;
    if (columnCount === 0) return;
    const zoom = { "+": KEY_ZOOM, "=": KEY_ZOOM, "-": 1 / KEY_ZOOM, _: 1 / KEY_ZOOM }[event.key];
    if (zoom !== undefined || event.key === "0") {
      event.preventDefault();
      if (zoom !== undefined) grid.zoomBy(zoom);
      else grid.fit();
      return;
    }
    const current = grid.selected;
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
    grid.select(next);
    if (next !== null) grid.view.reveal(next);
  }
}
