// The allocations table: one page of getAllocationHistory({start, stop}) at a time, so
// a million live allocations cost no more to show than fifty; or one concept, found with
// getAllocationInfo and getColumn, which the grid then selects.

import { FieldError, plainMessage } from "./fields.js";
import { formatClock, formatCount, formatUnit } from "./format.js";
import { conceptIdFromText } from "./ids.js";

export const PAGE_SIZE = 25;

export class AllocationsTable {
  /**
   * @param {Document} document
   * @param {{refresh: () => void, found: (column: number) => void,
   *   log: (text: string) => void}} host asks for a refresh (the refresher calls load()
   *   back), hears of a concept found, logs a search's error
   */
  constructor(document, host) {
    const byId = (id) => document.getElementById(id);
    this.host = host;
    this.body = byId("allocations-table").tBodies[0];
    this.table = byId("allocations-table");
    this.summary = byId("table-summary");
    this.order = byId("page-order");
    this.search = byId("table-search");
    this.error = new FieldError(byId("table-search-error"), this.search);
    this.pager = {
      first: byId("page-first"),
      prev: byId("page-prev"),
      next: byId("page-next"),
      last: byId("page-last"),
    };
    this.page = 0;
    this.total = 0;
    this.query = null; // the concept id searched for, or null: paging
    this.announced = null; // the search whose column the grid was told to select

    const go = (page) => () => {
      if (this.query !== null) return;
      const target = Math.max(0, Math.min(page(), this.pageCount() - 1));
      if (target === this.page) return;
      this.page = target;
      host.refresh();
    };
    this.pager.first.addEventListener("click", go(() => 0));
    this.pager.prev.addEventListener("click", go(() => this.page - 1));
    this.pager.next.addEventListener("click", go(() => this.page + 1));
    this.pager.last.addEventListener("click", go(() => this.pageCount() - 1));
    this.order.addEventListener("change", () => {
      this.page = 0;
      host.refresh();
    });
    byId("table-search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.search.value.trim();
      this.error.clear();
      this.announced = null;
      this.query = text === "" ? null : text;
      this.page = 0;
      host.refresh();
    });
    byId("table-search-clear").addEventListener("click", () => {
      this.search.value = "";
      this.error.clear();
      this.query = null;
      host.refresh();
    });
  }

  /** A new engine: back to the first page, no search. */
  reset() {
    this.page = 0;
    this.total = 0;
    this.query = null;
    this.search.value = "";
    this.error.clear();
    this.body.replaceChildren();
  }

  pageCount() {
    return Math.max(1, Math.ceil(this.total / PAGE_SIZE));
  }

  /** Fetch and show what the table is set to show (a page, or a search). */
  async load(kg) {
    if (this.query !== null) return this.find(kg, this.query);
    const newest = this.order.value === "newest";
    // Newest first pages from the end with negative indices, as Python slices do, so
    // neither order needs the total before it asks.
    const range = !newest
      ? { start: this.page * PAGE_SIZE, stop: (this.page + 1) * PAGE_SIZE }
      : this.page === 0
        ? { start: -PAGE_SIZE }
        : { start: -(this.page + 1) * PAGE_SIZE, stop: -this.page * PAGE_SIZE };
    const [total, rows] = await Promise.all([
      kg.getAllocatedCount(),
      kg.getAllocationHistory(range),
    ]);
    this.total = total;
    // Allocations released meanwhile may leave this page past the end: step back.
    if (this.page > 0 && this.page >= this.pageCount()) {
      this.page = this.pageCount() - 1;
      return this.load(kg);
    }
    if (newest) rows.reverse();
    this.showRows(rows);
    const first = this.page * PAGE_SIZE;
    this.summary.textContent = total === 0
      ? "No allocations."
      : `Page ${formatCount(this.page + 1)} of ${formatCount(this.pageCount())} · ` +
        `${formatCount(first + 1)}–${formatCount(first + rows.length)} of ${formatCount(total)}`;
    this.table.dataset.page = String(this.page);
    this.table.dataset.total = String(total);
    this.setPager(true);
  }

  async find(kg, text) {
    let column;
    try {
      column = await kg.getAllocationInfo(conceptIdFromText(text));
    } catch (error) {
      // A bad id is reported once, next to the field, not again on every later refresh.
      this.query = null;
      this.failed();
      this.error.show(plainMessage(error));
      this.host.log(plainMessage(error));
      return;
    }
    let rows = [];
    if (column !== null) {
      const info = await kg.getColumn(column);
      rows = [{ conceptId: info.conceptId, columnId: info.id, timestamp: info.timestamp,
        confidence: info.confidence }];
    }
    this.showRows(rows);
    this.summary.textContent = column === null
      ? `Concept ${text} is not allocated.`
      : `Concept ${text} is in column ${formatCount(column)}.`;
    this.table.dataset.page = "search";
    this.setPager(false);
    if (column !== null && this.announced !== text) this.host.found(column);
    this.announced = text; // later refreshes of the same search leave the grid's selection alone
  }

  showRows(rows) {
    this.body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.concept = String(row.conceptId);
      const time = document.createElement("time");
      time.dateTime = new Date(row.timestamp).toISOString();
      time.textContent = formatClock(row.timestamp);
      for (const content of [String(row.conceptId), formatCount(row.columnId), time,
        formatUnit(row.confidence)]) {
        const td = document.createElement("td");
        td.append(content);
        tr.append(td);
      }
      return tr;
    }));
  }

  // The pager stays focusable (aria-disabled, not disabled), so the keyboard focus is
  // never lost when the last page is reached.
  setPager(paging) {
    const atStart = !paging || this.page === 0;
    const atEnd = !paging || this.page >= this.pageCount() - 1;
    for (const [button, off] of [[this.pager.first, atStart], [this.pager.prev, atStart],
      [this.pager.next, atEnd], [this.pager.last, atEnd]]) {
      button.setAttribute("aria-disabled", String(off));
    }
  }

  /** The search failed (e.g. a bad id): show that in the table too. */
  failed() {
    this.body.replaceChildren();
    this.summary.textContent = "No result.";
  }
}
