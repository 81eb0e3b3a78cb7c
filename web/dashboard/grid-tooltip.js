// The grid's tooltip: what a getColumnStates() snapshot says about the hovered column,
// placed beside the pointer and kept inside the grid's box.

import { formatCount, formatDuration, formatUnit } from "./format.js";
import { ALLOCATED, activationAt, REFRACTORY, STATE_NAMES } from "./grid-paint.js";

/** Everything snapshot says about column id; activation decayed to now with halfLifeMs. */
export function describeColumn(snapshot, id, halfLifeMs, now) {
  const state = snapshot.state[id];
  return {
    id,
    state: STATE_NAMES[state] ?? `state ${state}`,
    conceptId: state === ALLOCATED ? snapshot.concept[id] : null,
    activation: state === ALLOCATED ? activationAt(snapshot, id, halfLifeMs, now) : snapshot.activation[id],
    confidence: state === ALLOCATED ? snapshot.confidence[id] : null,
    usage: snapshot.usage[id],
    refractoryLeft: state === REFRACTORY && snapshot.refractoryLeftMs ? snapshot.refractoryLeftMs[id] : null,
  };
}

export class GridTooltip {
  constructor(element) {
    this.element = element;
  }

  /** Show column (describeColumn's) beside pointer {x, y} (client coordinates). */
  show(column, pointer) {
    const lines = [`Column ${formatCount(column.id)}`];
    lines.push(column.conceptId === null
      ? `No concept · ${column.state}`
      : `Concept ${column.conceptId} · ${column.state}`);
    let figures = `Activation ${formatUnit(column.activation)}`;
    if (column.confidence !== null) figures += ` · confidence ${formatUnit(column.confidence)}`;
    lines.push(figures);
    lines.push(`Used ${formatCount(column.usage)} time${column.usage === 1 ? "" : "s"}`);
    if (column.refractoryLeft !== null) lines.push(`Available in ${formatDuration(column.refractoryLeft)}`);
    const tooltip = this.element;
    tooltip.replaceChildren(...lines.map((line) => {
      const span = document.createElement("span");
      span.textContent = line;
      return span;
    }));
    tooltip.dataset.column = String(column.id);
    tooltip.hidden = false;
    this.place(pointer);
  }

  // Beside the pointer, kept inside the grid's box so it never widens the page.
  place(pointer) {
    const tooltip = this.element;
    const box = (tooltip.offsetParent ?? tooltip.parentElement).getBoundingClientRect();
    const offset = 14;
    let left = pointer.x - box.left + offset;
    let top = pointer.y - box.top + offset;
    if (left + tooltip.offsetWidth > box.width) {
      left = Math.max(0, pointer.x - box.left - offset - tooltip.offsetWidth);
    }
    if (top + tooltip.offsetHeight > box.height) {
      top = Math.max(0, pointer.y - box.top - offset - tooltip.offsetHeight);
    }
    tooltip.style.left = `${left}px`;
    tooltip.style.top = `${top}px`;
  }

  hide() {
    this.element.hidden = true;
  }
}
