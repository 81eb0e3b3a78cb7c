// Number and time formatting shared by the widgets: one place decides how the page
// writes a count, a duration or a fraction.

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567". */
export function formatCount(value) {
  return integer.format(value);
}

/** A duration in ms with precision that suits its size: 0.0123 -> "0.0123 ms". */
export function formatMs(value) {
  if (!Number.isFinite(value)) return "–";
  if (value === 0) return "0 ms";
  const digits = value < 0.01 ? 4 : value < 1 ? 3 : value < 100 ? 2 : 0;
  return `${value.toFixed(digits)} ms`;
}

/** A fraction in 0..1 as a percentage: 0.5 -> "50.00 %". */
export function formatPercent(fraction) {
  return `${(fraction * 100).toFixed(2)} %`;
}

/** A wall-clock time in ms since the epoch as local "HH:MM:SS.mmm". */
export function formatClock(ms) {
  const date = new Date(ms);
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}`;
}

/** A [0, 1] value such as activation or confidence, to three decimals. */
export function formatUnit(value) {
  return value == null ? "–" : Number(value).toFixed(3);
}

/** A span of time in ms, in the unit that suits it: 850 -> "850 ms", 95000 -> "1.6 min". */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
