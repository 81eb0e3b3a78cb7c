// The stat cards: one <data> element per figure. Its value attribute is the engine's own
// number (fractions stay fractions), for tests and scripts; its text is for people.

import { formatCount, formatMs, formatPercent } from "./format.js";

export class StatCards {
  constructor(root) {
    this.cards = {};
    for (const element of root.querySelectorAll("data[data-testid^=stat-]")) {
      this.cards[element.dataset.testid.slice("stat-".length)] = element;
    }
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
