// The engine over time: one sample per statistics refresh (allocated, free,
// fragmentation, mean allocation time), drawn as lines in one unit (percent of the
// columns, and fragmentation's percent) and exported as CSV. Only the latest
// MAX_SAMPLES are kept, so a long session costs a bounded amount of memory.

import { chartFrame, drawAxes, redrawWhenNeeded } from "./chart-canvas.js";
import { formatClock, formatPercent } from "./format.js";

export const MAX_SAMPLES = 2000;
const HEIGHT_CSS_PX = 140;
const PADDING = { left: 44, right: 8, top: 10, bottom: 18 };
const LINES = [
  { key: "allocated", label: "allocated", colour: "#2563eb", dash: [] },
  { key: "free", label: "free", colour: "#0f766e", dash: [6, 3] },
  { key: "fragmentation", label: "fragmentation", colour: "#c2410c", dash: [2, 2] },
];

export class SeriesChart {
  constructor(canvas, caption) {
    this.canvas = canvas;
    this.caption = caption;
    this.samples = [];
    redrawWhenNeeded(canvas, () => this.draw());
  }

  /** A new engine: its series starts afresh. */
  clear() {
    this.samples = [];
    this.draw();
  }

  /** Record getStats() and getFragmentation() as of now. */
  add(stats, fragmentation) {
    const last = this.samples.at(-1);
    const sample = {
      time: Date.now(),
      columns: stats.column_count,
      allocated: stats.allocated,
      free: stats.available,
      fragmentation,
      averageMs: stats.average_time_ms,
    };
    // An unchanged engine adds no point within a second: refreshes come in bursts.
    if (last && sample.time - last.time < 1000 && ["allocated", "free", "fragmentation", "columns"]
      .every((key) => last[key] === sample[key])) return;
    this.samples.push(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
    this.draw();
  }

  /** The samples as CSV text, one line per sample. */
  csv() {
    const lines = ["time,columns,allocated,free,fragmentation,average_allocation_ms"];
    for (const s of this.samples) {
      lines.push([new Date(s.time).toISOString(), s.columns, s.allocated, s.free,
        s.fragmentation, s.averageMs].join(","));
    }
    return `${lines.join("\n")}\n`;
  }

  draw() {
    const frame = chartFrame(this.canvas, HEIGHT_CSS_PX, PADDING);
    if (frame === null) return;
    const { ctx, plot } = frame;
    drawAxes(frame, (fraction) => `${fraction * 100} %`, "older → now");

    const samples = this.samples;
    this.describe();
    if (samples.length === 0 || plot.width <= 0) return;
    const first = samples[0].time;
    const span = Math.max(1, samples.at(-1).time - first);
    const xOf = (s) => plot.left + (samples.length === 1 ? plot.width : ((s.time - first) / span) * plot.width);
    const fractionOf = (s, key) => key === "fragmentation" ? s.fragmentation : s[key] / Math.max(1, s.columns);
    ctx.lineWidth = 1.5;
    for (const line of LINES) {
      ctx.strokeStyle = line.colour;
      ctx.setLineDash(line.dash);
      ctx.beginPath();
      samples.forEach((s, i) => {
        const y = plot.top + plot.height * (1 - fractionOf(s, line.key));
        if (i === 0) ctx.moveTo(xOf(s), y);
        else ctx.lineTo(xOf(s), y);
      });
      if (samples.length === 1) ctx.lineTo(plot.left, plot.top + plot.height * (1 - fractionOf(samples[0], line.key)));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  describe() {
    const samples = this.samples;
    this.caption.dataset.samples = String(samples.length);
    if (samples.length === 0) {
      this.caption.textContent = "No samples yet.";
      return;
    }
    const s = samples.at(-1);
    const share = (n) => formatPercent(n / Math.max(1, s.columns));
    this.caption.textContent =
      `Percent of the columns since ${formatClock(samples[0].time)} (${samples.length} samples): ` +
      `allocated (solid) ${share(s.allocated)}, free (dashed) ${share(s.free)}, ` +
      `fragmentation (dotted) ${formatPercent(s.fragmentation)}.`;
  }
}
