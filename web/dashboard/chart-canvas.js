// What the page's two charts (latency-chart.js, series.js) share: a canvas sized to its
// CSS width at the device's pixel ratio, filled with the page's chart background, and
// axes with three labels and a caption under the plot, in the page's chart colours
// (--chart-background and --chart-axis: they follow the dark scheme).

/** Call draw() whenever the canvas changes size or the colour scheme changes (the
 *  colours are read when drawing, so a chart drawn before a change would keep the old). */
export function redrawWhenNeeded(canvas, draw) {
  new ResizeObserver(draw).observe(canvas);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
}

/**
 * Size canvas (heightCssPx tall) and clear it; resolves the plot inside padding
 * {left, right, top, bottom}. Returns {ctx, plot: {left, top, width, height}, axis}
 * (axis: the axis colour), or null while the canvas has no width (hidden).
 */
export function chartFrame(canvas, heightCssPx, padding) {
  const cssWidth = canvas.clientWidth;
  if (cssWidth === 0) return null;
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(cssWidth * ratio);
  const height = Math.round(heightCssPx * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const style = getComputedStyle(canvas);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = style.getPropertyValue("--chart-background") || "#ffffff";
  ctx.fillRect(0, 0, cssWidth, heightCssPx);
  const plot = {
    left: padding.left,
    top: padding.top,
    width: cssWidth - padding.left - padding.right,
    height: heightCssPx - padding.top - padding.bottom,
  };
  return { ctx, plot, axis: style.getPropertyValue("--chart-axis") || "#4a5360" };
}

/** The y and x axes of plot, label(fraction) at 0, 1/2 and 1 of its height, and caption
 *  under its left end. */
export function drawAxes({ ctx, plot, axis }, label, caption) {
  ctx.strokeStyle = axis;
  ctx.fillStyle = axis;
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
    ctx.fillText(label(fraction), plot.left - 4, plot.top + plot.height * (1 - fraction));
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(caption, plot.left, plot.top + plot.height + 4);
}
