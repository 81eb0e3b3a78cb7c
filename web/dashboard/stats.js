// The stat cards: one <data> element per figure. Its value attribute is the engine's own
// number (fractions stay fractions), for tests and scripts; its text is for people. Each
// card explains itself on hover and on keyboard focus (a tooltip the figure is
// described by).

import { formatCount, formatMs, formatPercent } from "./format.js";

const HELP = {
  columns: "Columns of the engine: each holds at most one concept.",
  allocated: "Columns that hold a concept now.",
  free: "Columns available for a new concept now (refractory ones are not).",
  refractory: "Released columns resting for the refractory time before they can be allocated again.",
  efficiency: "Allocated columns as a share of all columns.",
  "avg-time": "Mean time the engine took per new allocation over the last 1,000 (each item of a batch counts at the batch's mean).",
  fragmentation: "1 − the longest run of free columns ÷ all free columns: 0 % when the free columns form one block, near 100 % when they are scattered.",
  optimizations: "Times Optimize has run on this engine.",
  "total-allocations": "New allocations made since the engine was created (repeat allocations of a concept do not count).",
  "total-deallocations": "Concepts released since the engine was created.",
};
const AFFINITY =
  " Under affinity each concept goes to the column whose receptive field fits it best, so scattered free columns are expected.";

export class StatCards {
  constructor(root) {
    this.cards = {};
    for (const element of root.querySelectorAll("data[data-testid^=stat-]")) {
      const name = element.dataset.testid.slice("stat-".length);
      this.cards[name] = element;
      const help = document.createElement("span");
      help.className = "help";
      help.id = `help-${name}`;
      help.setAttribute("role", "tooltip");
      help.textContent = HELP[name];
      element.id ||= `stat-${name}`;
      element.tabIndex = 0;
      element.setAttribute("aria-describedby", help.id);
      element.after(help);
    }
  }

  /** Under affinity, fragmentation's explanation says why it is high. */
  setStrategy(strategy) {
    const help = this.cards.fragmentation.nextElementSibling;
    const text = HELP.fragmentation + (strategy === "affinity" ? AFFINITY : "");
    if (help.textContent !== text) help.textContent = text;
  }

  set(name, value, text) {
    const element = this.cards[name];
    const attribute = String(value);
    if (element.value !== attribute) element.value = attribute;
    if (element.textContent !== text) element.textContent = text;
  }

  /** Show getStats() and getFragmentation(). */
  update(stats, fragmentation) {
    this.set("columns", stats.column_count, formatCount(stats.column_count));
    this.set("allocated", stats.allocated, formatCount(stats.allocated));
    this.set("free", stats.available, formatCount(stats.available));
    this.set("refractory", stats.refractory, formatCount(stats.refractory));
    this.set("efficiency", stats.efficiency, formatPercent(stats.efficiency));
    this.set("avg-time", stats.average_time_ms, formatMs(stats.average_time_ms));
    this.set("fragmentation", fragmentation, formatPercent(fragmentation));
    this.set("optimizations", stats.optimization_cycles, formatCount(stats.optimization_cycles));
    this.set("total-allocations", stats.total_allocations, formatCount(stats.total_allocations));
    this.set("total-deallocations", stats.total_deallocations,
      formatCount(stats.total_deallocations));
  }
}
