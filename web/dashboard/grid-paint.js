// Painting the column grid: one image pixel per column (cols = ceil(sqrt(N))), on an
// offscreen canvas that the view (grid-view.js) scales, pans and crops. What a pixel's
// colour means depends on the "colour by" mode; each mode describes its own legend.
// At 1,000,000 columns a snapshot must paint in a few milliseconds, so the state mode
// repaints only the columns whose state changed, and the value modes run one tight loop
// over typed arrays with a 256-entry palette.

// The column states, as Python codes them (tables.js is generated from py/cortexkg/tables.py).
import { ALLOCATED, AVAILABLE, REFRACTORY, STATE_NAMES } from "../tables.js";

export { ALLOCATED, AVAILABLE, REFRACTORY, STATE_NAMES };

// The legend's swatches (style.css) use the same colours.
export const COLOURS = {
  background: "#ffffff",
  available: "#dfe4ea",
  allocated: "#2563eb",
  refractory: "#c2410c",
  // not the subject of the mode: allocated columns under "refractory time left"
  other: "#8c96a3",
};

// A sequential scale from pale yellow (low) to near black (high): every step of it
// stands apart from the pale grey of columns that have no value in the mode.
const SCALE_STOPS = ["#fde68a", "#f59e0b", "#dc2626", "#7e22ce", "#1e1b4b"];

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

const PIXEL = Object.fromEntries(Object.entries(COLOURS).map(([name, hex]) => [name, pixel(rgb(hex))]));

/** The scale's colour at t in [0, 1], as "#rrggbb" (for the legend's gradient). */
export function scaleColour(t) {
  const stops = SCALE_STOPS.map(rgb);
  const position = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const index = Math.min(stops.length - 2, Math.floor(position));
  const f = position - index;
  const mixed = stops[index].map((from, k) => Math.round(from + (stops[index + 1][k] - from) * f));
  return `#${mixed.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

const SCALE = (() => {
  const shades = new Uint32Array(256);
  for (let level = 0; level < 256; level++) shades[level] = pixel(rgb(scaleColour(level / 255)));
  return shades;
})();

/** The scale's pixel for t in [0, 1] (NaN and below 0: the low end). */
function scaled(t) {
  if (!(t > 0)) return SCALE[0];
  return SCALE[t >= 1 ? 255 : Math.round(t * 255)];
}

/** CSS gradient of the scale, low to high. */
export const SCALE_GRADIENT =
  `linear-gradient(90deg, ${SCALE_STOPS.join(", ")})`;

// The modes, and what the legend calls each one's scale (state has categories only).
export const MODES = {
  state: {},
  activation: { scale: "Activation of allocated columns" },
  usage: { scale: "Uses of each column (logarithmic)" },
  confidence: { scale: "Confidence of each allocation" },
  age: { scale: "Time since each concept was allocated" },
  refractory: { scale: "Time left before a released column is available" },
};

/**
 * Column i's activation at wall-clock time now: the snapshot holds it as of the last
 * activation, which decays with half-life halfLifeMs from then on (none while 0).
 */
export function activationAt(snapshot, i, halfLifeMs, now) {
  const value = snapshot.activation[i];
  if (!(halfLifeMs > 0) || snapshot.allocatedAt === undefined) return value;
  const since = now - snapshot.allocatedAt[i] - snapshot.activatedMs[i];
  return since > 0 ? value * 0.5 ** (since / halfLifeMs) : value;
}

export class GridImage {
  constructor() {
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { alpha: false });
    this.reset(0);
  }

  /** Start over for columnCount columns: every pixel background, nothing counted. */
  reset(columnCount) {
    const cols = Math.max(1, Math.ceil(Math.sqrt(columnCount)));
    const rows = Math.ceil(columnCount / cols);
    Object.assign(this, { columnCount, cols, rows });
    this.counts = [0, 0, 0];
    this.previous = null;
    this.previousMode = null;
    this.range = null;
    this.canvas.width = cols;
    this.canvas.height = rows;
    if (columnCount === 0) {
      this.image = null;
      this.pixels = null;
      return;
    }
    this.image = this.context.createImageData(cols, rows);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.pixels.fill(PIXEL.background);
    this.context.putImageData(this.image, 0, 0);
  }

  /**
   * Paint a getColumnStates() snapshot in mode; extras: {halfLifeMs, refractoryMs, now
   * (Date.now())}. Returns how many columns were repainted.
   */
  update(snapshot, mode, extras = {}) {
    if (this.image === null) {
      this.previous = snapshot;
      return 0;
    }
    this.count(snapshot);
    const painted = mode === "state" && this.previousMode === "state" && this.previous !== null
      ? this.paintChanges(snapshot)
      : this.paintAll(snapshot, mode, extras);
    this.previous = snapshot;
    this.previousMode = mode;
    return painted;
  }

  count(snapshot) {
    const { state } = snapshot;
    const counts = [0, 0, 0];
    for (let i = 0; i < state.length; i++) counts[state[i]] += 1;
    this.counts = counts;
  }

  paintChanges(snapshot) {
    const { state } = snapshot;
    const previousState = this.previous.state;
    const pixels = this.pixels;
    let first = -1;
    let last = -1;
    let painted = 0;
    for (let i = 0; i < state.length; i++) {
      if (state[i] === previousState[i]) continue;
      pixels[i] = statePixel(state[i]);
      if (first < 0) first = i;
      last = i;
      painted += 1;
    }
    if (painted > 0) this.put(first, last);
    return painted;
  }

  paintAll(snapshot, mode, extras) {
    const { state } = snapshot;
    const n = state.length;
    const pixels = this.pixels;
    this.range = null;
    if (mode === "state") {
      for (let i = 0; i < n; i++) pixels[i] = statePixel(state[i]);
    } else if (mode === "activation") {
      const now = extras.now ?? Date.now();
      for (let i = 0; i < n; i++) {
        pixels[i] = state[i] === ALLOCATED
          ? scaled(activationAt(snapshot, i, extras.halfLifeMs, now)) : statePixel(state[i]);
      }
      this.range = [0, 1];
    } else if (mode === "confidence") {
      const values = snapshot.confidence;
      for (let i = 0; i < n; i++) {
        pixels[i] = state[i] === ALLOCATED ? scaled(values[i]) : statePixel(state[i]);
      }
      this.range = [0, 1];
    } else if (mode === "usage") {
      const usage = snapshot.usage;
      let max = 0;
      for (let i = 0; i < n; i++) if (usage[i] > max) max = usage[i];
      const scale = max > 0 ? 1 / Math.log1p(max) : 0;
      for (let i = 0; i < n; i++) {
        pixels[i] = usage[i] > 0 ? scaled(Math.log1p(usage[i]) * scale) : PIXEL.available;
      }
      this.range = [0, max];
    } else if (mode === "age") {
      const at = snapshot.allocatedAt;
      const now = extras.now ?? Date.now();
      let oldest = 0;
      for (let i = 0; i < n; i++) if (state[i] === ALLOCATED && now - at[i] > oldest) oldest = now - at[i];
      for (let i = 0; i < n; i++) {
        pixels[i] = state[i] === ALLOCATED
          ? scaled(oldest > 0 ? (now - at[i]) / oldest : 0) : statePixel(state[i]);
      }
      this.range = [0, oldest];
    } else if (mode === "refractory") {
      const total = extras.refractoryMs ?? 0;
      const left = snapshot.refractoryLeftMs;
      for (let i = 0; i < n; i++) {
        const s = state[i];
        if (s === REFRACTORY) pixels[i] = scaled(total > 0 ? left[i] / total : 1);
        else pixels[i] = s === ALLOCATED ? PIXEL.other : PIXEL.available;
      }
      this.range = [0, total];
    } else {
      throw new Error(`Unknown colour mode ${JSON.stringify(mode)}`);
    }
    this.put(0, n - 1);
    return n;
  }

  // Put the rows holding columns first..last into the offscreen canvas.
  put(first, last) {
    const top = Math.floor(first / this.cols);
    const bottom = Math.floor(last / this.cols);
    this.context.putImageData(this.image, 0, 0, 0, top, this.cols, bottom - top + 1);
  }
}

function statePixel(state) {
  return state === ALLOCATED ? PIXEL.allocated
    : state === REFRACTORY ? PIXEL.refractory : PIXEL.available;
}
