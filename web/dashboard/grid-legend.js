// The grid's legend: what each colour means in the current "colour by" mode, with the
// range a scale spans (the painter's, grid-paint.js), and the selection's mark.

import { formatCount, formatDuration, formatUnit } from "./format.js";
import { COLOURS, MODES, SCALE_GRADIENT } from "./grid-paint.js";

export class GridLegend {
  constructor(list) {
    this.list = list;
    this.key = null;
  }

  /** Describe mode's colours; range: [low, high] of its scale, null before any paint.
   *  The list is rebuilt only when what it says changes. */
  show(mode, range) {
    const items = [];
    const swatch = (colour, text) => ({ colour, text });
    if (mode === "state") {
      items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.allocated, "Allocated"),
        swatch(COLOURS.refractory, "Refractory"));
    } else {
      const format = mode === "age" || mode === "refractory"
        ? (v) => formatDuration(v)
        : mode === "usage" ? (v) => `${formatCount(v)} use${v === 1 ? "" : "s"}` : formatUnit;
      const [low, high] = range ?? [0, 1];
      items.push({ gradient: SCALE_GRADIENT, text: `${MODES[mode].scale}: ${format(low)} to ${format(high)}` });
      if (mode === "usage") items.push(swatch(COLOURS.available, "Never used"));
      else if (mode === "refractory") {
        items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.other, "Allocated"));
      } else {
        items.push(swatch(COLOURS.available, "Available"), swatch(COLOURS.refractory, "Refractory"));
      }
    }
    items.push({ selected: true, text: "Selected" });
    const key = JSON.stringify(items);
    if (key === this.key) return;
    this.key = key;
    this.list.dataset.mode = mode;
    this.list.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const mark = document.createElement("span");
      mark.className = item.selected ? "swatch swatch-selected" : item.gradient ? "swatch scale" : "swatch";
      mark.setAttribute("aria-hidden", "true");
      if (item.gradient) mark.style.background = item.gradient;
      else if (item.colour) mark.style.background = item.colour;
      li.append(mark, item.text);
      return li;
    }));
  }
}
