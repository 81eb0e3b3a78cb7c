// Recent allocation latencies (getAllocationTimes(): the last <= 1000, oldest first) as
// bars on a canvas, with the median and p99 of single calls as lines; the caption says
// the same in words. The engine times a batch as a whole and records each of its items at
// the batch's mean; getAllocationTimeKinds() says which times those are, and they are
// drawn in grey and left out of the per-call figures (a 1,000-item batch would otherwise
// flatten the percentiles into one value). Times of unknown kind (restored from a
// snapshot made before kinds were kept) are drawn lighter and counted in neither. Every
// figure is in ms, as on the cards.

import { chartFrame, drawAxes, redrawWhenNeeded } from "./chart-canvas.js";
import { formatCount, formatMs } from "./format.js";

const COLOURS = {
  bar: "#2563eb",
  batch: "#8c96a3",
  unknown: "#cfd5dc",
  clipped: "#c2410c",
  median: "#0f766e",
  p99: "#7c2d12",
};

// getAllocationTimeKinds()
export const CALL = 0;
export const BATCH_MEAN = 1;

const HEIGHT_CSS_PX = 160;
// room on the left for the widest axis label, "0.0005 ms"
const PADDING = { left: 62, right: 8, top: 10, bottom: 18 };

export function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

export class LatencyChart {
  constructor(canvas, caption) {
    this.canvas = canvas;
    this.caption = caption;
    this.times = new Float64Array(0);
    this.kinds = new Uint8Array(0);
    redrawWhenNeeded(canvas, () => this.draw());
  }

  /** Show getAllocationTimes() and getAllocationTimeKinds(), read together (if an
   *  allocation came between them, the newest of the longer one are dropped). */
  update(times, kinds) {
    const length = Math.min(times.length, kinds.length);
    this.times = times.subarray(0, length);
    this.kinds = kinds.subarray(0, length);
    this.draw();
  }

  draw() {
    const frame = chartFrame(this.canvas, HEIGHT_CSS_PX, PADDING);
    if (frame === null) return;
    const { ctx, plot } = frame;

    const { times, kinds } = this;
    const perCall = Float64Array.from(times.filter((_, i) => kinds[i] === CALL)).sort();
    const batchMeans = times.filter((_, i) => kinds[i] === BATCH_MEAN);
    const median = percentile(perCall, 0.5);
    const p99 = percentile(perCall, 0.99);
    const max = perCall.length ? perCall[perCall.length - 1] : 0;
    this.describe({ calls: perCall.length, batchItems: batchMeans.length, unknown: times.length - perCall.length - batchMeans.length,
      median, p99, max, batchMean: batchMeans.reduce((sum, ms) => sum + ms, 0) / Math.max(1, batchMeans.length) });

    // The scale shows p99 with room to spare; rarer outliers are clipped and drawn in
    // another colour, so one garbage-collection pause does not flatten everything else.
    // Without single calls, it shows the slowest of the rest.
    let othersMax = 0;
    for (let i = 0; i < times.length; i++) if (kinds[i] !== CALL && times[i] > othersMax) othersMax = times[i];
    const top = niceCeiling(Math.max(p99 * 1.25, median * 2, othersMax * 1.1, 1e-3));
    drawAxes(frame, (fraction) => axisLabel(top * fraction), "oldest → newest");
    if (times.length === 0 || plot.width <= 0) return;

    // One bar per sample, or per pixel column when they outnumber the pixels: its slowest
    // single call, else its slowest batch mean, else its slowest time of unknown kind.
    const bars = Math.min(times.length, Math.floor(plot.width));
    const barWidth = plot.width / bars;
    for (let bar = 0; bar < bars; bar++) {
      const from = Math.floor((bar * times.length) / bars);
      const to = Math.max(from + 1, Math.floor(((bar + 1) * times.length) / bars));
      let value = 0;
      let kind = Infinity;
      for (let i = from; i < to; i++) {
        if (kinds[i] < kind) {
          kind = kinds[i];
          value = times[i];
        } else if (kinds[i] === kind && times[i] > value) value = times[i];
      }
      const clipped = value > top;
      const h = (Math.min(value, top) / top) * plot.height;
      ctx.fillStyle = clipped ? COLOURS.clipped
        : kind === CALL ? COLOURS.bar : kind === BATCH_MEAN ? COLOURS.batch : COLOURS.unknown;
      ctx.fillRect(plot.left + bar * barWidth, plot.top + plot.height - h,
        Math.max(1, barWidth - (barWidth > 3 ? 1 : 0)), h);
    }
    this.line(ctx, plot, top, median, COLOURS.median, "p50");
    this.line(ctx, plot, top, p99, COLOURS.p99, "p99");
  }

  line(ctx, plot, top, value, colour, label) {
    if (value <= 0) return;
    const y = Math.round(plot.top + plot.height * (1 - Math.min(value, top) / top)) + 0.5;
    ctx.strokeStyle = colour;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.left + plot.width, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = colour;
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(label, plot.left + plot.width, y - 1);
  }

  describe({ calls, batchItems, unknown, median, p99, max, batchMean }) {
    const caption = this.caption;
    caption.dataset.samples = String(calls + batchItems + unknown);
    caption.dataset.calls = String(calls);
    caption.dataset.batchItems = String(batchItems);
    caption.dataset.unknown = String(unknown);
    const plural = (n, word) => `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
    const parts = [];
    if (calls > 0) {
      parts.push(`Last ${plural(calls, "allocation")} one call each: ` +
        `median ${formatMs(median)}, p99 ${formatMs(p99)}, slowest ${formatMs(max)}.`);
    }
    if (batchItems > 0) {
      parts.push(`${plural(batchItems, "batch item")} at their batch's mean (grey): ` +
        `${formatMs(batchMean)} each on average, not counted in the percentiles.`);
    }
    if (unknown > 0) {
      parts.push(`${plural(unknown, "time")} restored from an older snapshot, single or batch ` +
        "unknown (light grey), not counted.");
    }
    caption.textContent = parts.length === 0 ? "No allocations timed yet." : parts.join(" ");
  }
}

// Short enough for the axis, in the cards' unit: "0.005 ms", "10 ms".
function axisLabel(ms) {
  if (ms === 0) return "0 ms";
  return `${Number(ms.toPrecision(2))} ms`;
}

// 1, 2 or 5 times a power of ten, at or above value.
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
