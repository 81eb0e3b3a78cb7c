// The grid's toolbar (colour by, zoom), its search by concept id, the details panel's
// actions (Activate, Deallocate) and the exports (the series as CSV, the grid as PNG).
// Errors go next to the control that met them, through fail(error, field).

import { saveFile } from "./exchange.js";
import { FieldError } from "./fields.js";
import { conceptIdFromText } from "./ids.js";

/**
 * Wire the tools to grid (a ColumnGrid), details (ColumnDetails) and series
 * (SeriesChart); kg() is the engine, or null before it exists.
 */
export function wireGridTools(document, { grid, details, series, kg, fail }) {
  const byId = (id) => document.getElementById(id);
  const select = byId("colour-select");
  select.addEventListener("change", () => grid.setMode(select.value));
  byId("zoom-in").addEventListener("click", () => grid.zoomBy(2));
  byId("zoom-out").addEventListener("click", () => grid.zoomBy(0.5));
  byId("zoom-fit").addEventListener("click", () => grid.fit());

  const findError = new FieldError(byId("find-error"), byId("find-input"));
  byId("find-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const engine = kg();
    if (!engine) return;
    findError.clear();
    try {
      const id = conceptIdFromText(byId("find-input").value);
      const column = await engine.getAllocationInfo(id);
      if (column === null) {
        findError.show(`Concept ${id} is not allocated.`);
        return;
      }
      grid.reveal(column);
    } catch (error) {
      fail(error, findError);
    }
  });

  const detailsError = new FieldError(byId("details-error"), byId("details-activate"));
  const onConcept = (button, call) => button.addEventListener("click", async () => {
    const engine = kg();
    const conceptId = details.conceptId;
    if (!engine || conceptId === null) return;
    detailsError.clear();
    try {
      await call(engine, conceptId);
    } catch (error) {
      fail(error, new FieldError(byId("details-error"), button));
    }
  });
  onConcept(byId("details-activate"), (engine, id) => engine.activateConcept(id));
  onConcept(byId("details-deallocate"), (engine, id) => engine.deallocateConcept(id));

  const name = () => kg()?.config.name ?? "engine";
  byId("series-csv").addEventListener("click", () => {
    saveFile(document, new Blob([series.csv()], { type: "text/csv" }), `cortexkg-${name()}-series.csv`);
  });
  byId("grid-png").addEventListener("click", () => {
    byId("column-grid").toBlob((blob) => {
      if (blob) saveFile(document, blob, `cortexkg-${name()}-grid-${grid.mode}.png`);
    }, "image/png");
  });
}
