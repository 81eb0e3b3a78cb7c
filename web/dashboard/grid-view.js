// The grid's view: which part of the painted image (grid-paint.js) the canvas shows and
// how large. zoom is CSS pixels per column cell; (x, y) the cell coordinates of the view's
// top-left corner. At "fit" the whole grid shows, cells a whole number of device pixels
// when they are at least one; zooming in makes every column, of a million too, a target
// the pointer can reach. A minimap shows where the view is while zoomed in.

const MAX_ZOOM = 64; // CSS pixels per cell
const MINIMAP_CSS = 120;
const GAP_FROM_DEVICE_PX = 5; // cells this large get a one-pixel gap between them

export class GridView {
  /** @param {{canvas, minimap, marker, box}} elements @param {GridImage} image */
  constructor({ canvas, minimap, marker, box }, image) {
    Object.assign(this, { canvas, minimap, marker, box, image });
    this.context = canvas.getContext("2d", { alpha: false });
    this.minimapContext = minimap.getContext("2d", { alpha: false });
    this.zoom = 1;
    this.fitZoom = 1;
    this.x = 0;
    this.y = 0;
    this.selected = null;
    // The box's height follows the canvas: only its width (and the window's height) size
    // it. Resizing waits for the next frame, so the canvas never changes size inside a
    // ResizeObserver callback (a loop the browser reports as an error).
    this.sizedFor = null;
    const resized = () => requestAnimationFrame(() => {
      const key = `${box.clientWidth}x${window.innerHeight}x${this.ratio}`;
      if (key !== this.sizedFor) this.resize();
    });
    new ResizeObserver(resized).observe(box);
    window.addEventListener("resize", resized);
  }

  get ratio() {
    return window.devicePixelRatio || 1;
  }

  // The canvas keeps the grid's aspect, as wide as the box and at most 68 % of the
  // viewport's height (so statistics, grid and actions share a screen).
  resize() {
    this.sizedFor = `${this.box.clientWidth}x${window.innerHeight}x${this.ratio}`;
    const { cols, rows } = this.image;
    const border = this.canvas.offsetWidth - this.canvas.clientWidth;
    const width = Math.max(0, this.box.clientWidth - border);
    const maxHeight = Math.max(160, window.innerHeight * 0.68);
    let fit = Math.min(width / cols, maxHeight / Math.max(rows, 1));
    // whole device pixels per cell when cells are at least one
    const device = fit * this.ratio;
    if (device >= 1) fit = Math.floor(device) / this.ratio;
    const wasFit = this.isFit();
    this.fitZoom = fit;
    const cssWidth = Math.max(1, cols * fit);
    const cssHeight = Math.max(1, rows * fit);
    this.canvas.style.width = `${cssWidth + border}px`;
    this.canvas.style.height = `${cssHeight + border}px`;
    this.canvas.width = Math.round(cssWidth * this.ratio);
    this.canvas.height = Math.round(cssHeight * this.ratio);
    if (wasFit || this.zoom < fit) this.fit();
    else this.draw();
  }

  /** The whole grid in view. */
  fit() {
    this.zoom = this.fitZoom;
    this.x = 0;
    this.y = 0;
    this.draw();
  }

  isFit() {
    return this.zoom <= this.fitZoom * 1.0001;
  }

  get viewWidth() {
    return this.canvas.clientWidth;
  }

  get viewHeight() {
    return this.canvas.clientHeight;
  }

  /** Zoom by factor about the point (px, py) of the canvas (CSS pixels; default: centre). */
  zoomBy(factor, px = this.viewWidth / 2, py = this.viewHeight / 2) {
    const zoom = Math.min(Math.max(this.fitZoom, MAX_ZOOM), Math.max(this.fitZoom, this.zoom * factor));
    this.x += px / this.zoom - px / zoom;
    this.y += py / this.zoom - py / zoom;
    this.zoom = zoom;
    this.clamp();
    this.draw();
  }

  /** Move the view by (dx, dy) CSS pixels. */
  panBy(dx, dy) {
    this.x -= dx / this.zoom;
    this.y -= dy / this.zoom;
    this.clamp();
    this.draw();
  }

  /** Centre the view on column id, zoomed in to at least minZoom CSS pixels per cell. */
  centreOn(id, minZoom = this.zoom) {
    const { cols } = this.image;
    this.zoom = Math.min(Math.max(this.fitZoom, MAX_ZOOM), Math.max(this.zoom, minZoom));
    const cx = (id % cols) + 0.5;
    const cy = Math.floor(id / cols) + 0.5;
    this.x = cx - this.viewWidth / this.zoom / 2;
    this.y = cy - this.viewHeight / this.zoom / 2;
    this.clamp();
    this.draw();
  }

  /** Bring column id into view if it is outside it. */
  reveal(id) {
    const { cols } = this.image;
    const cx = id % cols;
    const cy = Math.floor(id / cols);
    const w = this.viewWidth / this.zoom;
    const h = this.viewHeight / this.zoom;
    if (cx < this.x || cx + 1 > this.x + w || cy < this.y || cy + 1 > this.y + h) this.centreOn(id);
  }

  clamp() {
    const { cols, rows } = this.image;
    const w = this.viewWidth / this.zoom;
    const h = this.viewHeight / this.zoom;
    this.x = Math.min(Math.max(0, this.x), Math.max(0, cols - w));
    this.y = Math.min(Math.max(0, this.y), Math.max(0, rows - h));
  }

  /** The column at canvas point (px, py) in CSS pixels, or null. */
  columnAt(px, py) {
    const { cols, rows, columnCount } = this.image;
    const cx = Math.floor(this.x + px / this.zoom);
    const cy = Math.floor(this.y + py / this.zoom);
    if (cx < 0 || cx >= cols || cy < 0 || cy >= rows) return null;
    const id = cy * cols + cx;
    return id < columnCount ? id : null;
  }

  /** Canvas point (CSS pixels) of the centre of column id. */
  pointOf(id) {
    const { cols } = this.image;
    return {
      x: ((id % cols) + 0.5 - this.x) * this.zoom,
      y: (Math.floor(id / cols) + 0.5 - this.y) * this.zoom,
    };
  }

  draw() {
    const { context, canvas, image, ratio } = this;
    const scale = this.zoom * ratio;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (image.columnCount > 0) {
      // Below a device pixel per cell, smoothing shows density; above, cells stay crisp.
      context.imageSmoothingEnabled = scale < 1;
      context.setTransform(scale, 0, 0, scale, -this.x * scale, -this.y * scale);
      context.drawImage(image.canvas, 0, 0);
      context.setTransform(1, 0, 0, 1, 0, 0);
      if (scale >= GAP_FROM_DEVICE_PX) this.drawGaps(scale);
    }
    this.publish();
    this.placeMarker();
    this.drawMinimap();
  }

  // A one-device-pixel line of background between cells large enough to spare it.
  drawGaps(scale) {
    const { context, canvas, image } = this;
    context.fillStyle = "#ffffff";
    const firstCol = Math.floor(this.x);
    const lastCol = Math.min(image.cols, Math.ceil(this.x + canvas.width / scale));
    for (let c = firstCol + 1; c <= lastCol; c++) {
      context.fillRect(Math.round((c - this.x) * scale) - 1, 0, 1, canvas.height);
    }
    const firstRow = Math.floor(this.y);
    const lastRow = Math.min(image.rows, Math.ceil(this.y + canvas.height / scale));
    for (let r = firstRow + 1; r <= lastRow; r++) {
      context.fillRect(0, Math.round((r - this.y) * scale) - 1, canvas.width, 1);
    }
  }

  // The view as attributes: what tests and scripts read to find a column on screen.
  publish() {
    const { dataset } = this.canvas;
    dataset.zoom = String(this.zoom);
    dataset.viewX = String(this.x);
    dataset.viewY = String(this.y);
    dataset.fit = String(this.isFit());
  }

  drawMinimap() {
    const { minimap, minimapContext: context, image } = this;
    minimap.hidden = this.isFit() || image.columnCount === 0;
    if (minimap.hidden) return;
    const ratio = this.ratio;
    const scale = MINIMAP_CSS / Math.max(image.cols, image.rows);
    const width = Math.max(1, Math.round(image.cols * scale * ratio));
    const height = Math.max(1, Math.round(image.rows * scale * ratio));
    if (minimap.width !== width || minimap.height !== height) {
      minimap.width = width;
      minimap.height = height;
      minimap.style.width = `${width / ratio}px`;
      minimap.style.height = `${height / ratio}px`;
    }
    context.imageSmoothingEnabled = true;
    context.drawImage(image.canvas, 0, 0, width, height);
    const s = scale * ratio;
    context.strokeStyle = "#f59e0b";
    context.lineWidth = Math.max(2, ratio * 2);
    context.strokeRect(this.x * s, this.y * s, Math.max(3, (this.viewWidth / this.zoom) * s),
      Math.max(3, (this.viewHeight / this.zoom) * s));
  }

  /** Centre the view on the minimap point (px, py) in CSS pixels. */
  moveToMinimap(px, py) {
    const scale = MINIMAP_CSS / Math.max(this.image.cols, this.image.rows);
    this.x = px / scale - this.viewWidth / this.zoom / 2;
    this.y = py / scale - this.viewHeight / this.zoom / 2;
    this.clamp();
    this.draw();
  }

  /** Mark column id (null: none). */
  select(id) {
    this.selected = id;
    this.placeMarker();
  }

  // A ring around the selected cell, at least a few pixels wide even when cells are
  // smaller than a pixel on screen; hidden when the cell is out of view.
  placeMarker() {
    const { marker, canvas } = this;
    if (this.selected === null || this.image.columnCount === 0) {
      marker.hidden = true;
      return;
    }
    const { x, y } = this.pointOf(this.selected);
    const size = Math.max(this.zoom, 8);
    const inside = x >= 0 && y >= 0 && x <= this.viewWidth && y <= this.viewHeight;
    marker.hidden = !inside;
    if (!inside) return;
    marker.style.width = `${size}px`;
    marker.style.height = `${size}px`;
    marker.style.left = `${canvas.offsetLeft + canvas.clientLeft + x - size / 2}px`;
    marker.style.top = `${canvas.offsetTop + canvas.clientTop + y - size / 2}px`;
  }
}
