// Recent allocation latencies (getAllocationTimes(): the last <= 1000, oldest first) as
// bars on a canvas, with the median and p99 as lines; the caption says the same in words.
// The engine records each item of a batch at the batch's mean, which would flatten the
// percentiles into one value. The API does not say which times are batch means, so runs
// of BATCH_RUN or more identical times are taken for batch items: drawn in grey and left
// out of the per-call figures. Every figure is in ms.

import { formatCount, formatMs } from "./format.js";

const COLOURS = {
  background: "#ffffff",
  bar: "#2563eb",
  batch: "#8c96a3",
  clipped: "#c2410c",
  axis: "#4a5360",
  median: "#0f766e",
  p99: "#7c2d12",
};

const HEIGHT_CSS_PX = 160;
// Single calls timed to 5 µs rarely repeat a time three times running; a batch's items
// always do (a batch of two is counted as two calls).
export const BATCH_RUN = 3;
const PADDING = { left: 52, right: 8, top: 10, bottom: 18 };

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
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** Show getAllocationTimes(). */
  update(times) {
    this.times = times;
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const cssWidth = canvas.clientWidth;
    if (cssWidth === 0) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(cssWidth * ratio);
    const height = Math.round(HEIGHT_CSS_PX * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, cssWidth, HEIGHT_CSS_PX);

    const times = this.times;
    const batched = batchItems(times);
    const perCall = Float64Array.from(times.filter((_, i) => !batched[i])).sort();
    const median = percentile(perCall, 0.5);
    const p99 = percentile(perCall, 0.99);
    const max = perCall.length ? perCall[perCall.length - 1] : 0;
    this.describe(perCall.length, times.length - perCall.length, median, p99, max);

    const plot = {
      left: PADDING.left,
      top: PADDING.top,
      width: cssWidth - PADDING.left - PADDING.right,
      height: HEIGHT_CSS_PX - PADDING.top - PADDING.bottom,
    };
    // The scale shows p99 with room to spare; rarer outliers are clipped and drawn in
    // another colour, so one garbage-collection pause does not flatten everything else.
    let batchMax = 0;
    for (let i = 0; i < times.length; i++) if (batched[i] && times[i] > batchMax) batchMax = times[i];
    const top = niceCeiling(Math.max(p99 * 1.25, median * 2, batchMax * 1.1, 1e-3));
    this.axes(ctx, plot, top);
    if (times.length === 0 || plot.width <= 0) return;

    // One bar per sample, or per pixel column (its slowest sample) when they outnumber
    // the pixels.
    const bars = Math.min(times.length, Math.floor(plot.width));
    const barWidth = plot.width / bars;
    for (let bar = 0; bar < bars; bar++) {
      const from = Math.floor((bar * times.length) / bars);
      const to = Math.max(from + 1, Math.floor(((bar + 1) * times.length) / bars));
      let value = 0;
      let batch = true;
      for (let i = from; i < to; i++) {
        if (times[i] > value) value = times[i];
        if (!batched[i]) batch = false;
      }
      const clipped = value > top;
      const h = (Math.min(value, top) / top) * plot.height;
      ctx.fillStyle = clipped ? COLOURS.clipped : batch ? COLOURS.batch : COLOURS.bar;
      ctx.fillRect(plot.left + bar * barWidth, plot.top + plot.height - h,
        Math.max(1, barWidth - (barWidth > 3 ? 1 : 0)), h);
    }
    this.line(ctx, plot, top, median, COLOURS.median, "p50");
    this.line(ctx, plot, top, p99, COLOURS.p99, "p99");
  }

  axes(ctx, plot, top) {
    ctx.strokeStyle = COLOURS.axis;
    ctx.fillStyle = COLOURS.axis;
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.beginPath();
    ctx.moveTo(plot.left - 0.5, plot.top);
    ctx.lineTo(plot.left - 0.5, plot.top + plot.height + 0.5);
    ctx.lineTo(plot.left + plot.width, plot.top + plot.height + 0.5);
    ctx.stroke();
    for (const fraction of [0, 0.5, 1]) {
      const y = plot.top + plot.height * (1 - fraction);
      ctx.fillText(axisLabel(top * fraction), plot.left - 4, y);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText("oldest → newest", plot.left, plot.top + plot.height + 4);
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

  describe(count, batchCount, median, p99, max) {
    const caption = this.caption;
    caption.dataset.samples = String(count + batchCount);
    caption.dataset.calls = String(count);
    caption.dataset.batchItems = String(batchCount);
    const calls = count === 0 ? "" :
      `Last ${formatCount(count)} allocation${count === 1 ? "" : "s"} one call each: ` +
      `median ${formatMs(median)}, p99 ${formatMs(p99)}, slowest ${formatMs(max)}.`;
    const batches = batchCount === 0 ? "" :
      `${formatCount(batchCount)} batch item${batchCount === 1 ? "" : "s"}, timed at their batch's mean (grey), not counted.`;
    caption.textContent = count + batchCount === 0 ? "No allocations timed yet." : [calls, batches].filter(Boolean).join(" ");
  }
}

// Short enough for the axis, in the cards' unit: "0.005 ms", "10 ms".
function axisLabel(ms) {
  if (ms === 0) return "0 ms";
  return `${Number(ms.toPrecision(2))} ms`;
}

/** For each time, whether it belongs to a run of at least `run` identical times (taken
 *  for a batch's items, all recorded at the batch's mean). */
export function batchItems(times, run = BATCH_RUN) {
  const batched = new Uint8Array(times.length);
  for (let start = 0; start < times.length;) {
    let end = start + 1;
    while (end < times.length && times[end] === times[start]) end += 1;
    if (end - start >= run) batched.fill(1, start, end);
    start = end;
  }
  return batched;
}

// 1, 2 or 5 times a power of ten, at or above value.
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
