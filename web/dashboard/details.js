// Details of the selected column, from getColumn(id): everything the engine knows about
// it, its receptive field included, and what can be done with its concept (activate,
// deallocate). Under affinity its confidence is the score that chose this column.

import { formatClock, formatCount, formatUnit } from "./format.js";

// A field of dim 4096 is not for reading; its first values and its size are.
const FIELD_VALUES_SHOWN = 8;

export class ColumnDetails {
  /** @param {HTMLElement} root the details list's box @param {HTMLElement} actions the
   *  box of the buttons that act on the column's concept */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.id = null;
    this.column = null;
    this.strategy = "first_fit";
    this.clear();
  }

  /** The concept of the column shown, or null. */
  get conceptId() {
    return this.column?.conceptId ?? null;
  }

  /** Nothing selected. */
  clear() {
    this.id = null;
    this.column = null;
    this.actions.hidden = true;
    this.root.dataset.column = "";
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "No column selected.";
    this.root.replaceChildren(hint);
  }

  /** Fetch and show column id; a newer selection wins over a slower answer. */
  async load(kg, id) {
    this.id = id;
    const column = await kg.getColumn(id);
    if (this.id === id) this.show(column);
  }

  show(column) {
    const rows = [
      ["Column", formatCount(column.id)],
      ["State", column.state],
      ["Concept", column.conceptId === null ? "none" : String(column.conceptId)],
      ["Activation", formatUnit(column.activation)],
      ["Usage", formatCount(column.usage)],
      [this.strategy === "affinity" ? "Affinity score" : "Confidence", formatUnit(column.confidence)],
      ["Allocated at", column.timestamp == null ? "–" : formatClock(column.timestamp)],
    ];
    const field = column.field ?? [];
    if (field.length > 0) {
      const shown = field.slice(0, FIELD_VALUES_SHOWN).map((v) => v.toFixed(3)).join(", ");
      const more = field.length > FIELD_VALUES_SHOWN ? `, … (${field.length} values)` : "";
      rows.push(["Field", `[${shown}${more}]`]);
    }
    const list = document.createElement("dl");
    for (const [term, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = term === "Affinity score" ? "confidence" : term.toLowerCase().replaceAll(" ", "-");
      list.append(dt, dd);
    }
    this.column = column;
    this.root.dataset.column = String(column.id);
    this.root.replaceChildren(list);
    this.actions.hidden = column.conceptId === null;
  }
}
