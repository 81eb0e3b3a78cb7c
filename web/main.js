// The page's wiring: creates the engine named by the URL through the JavaScript API,
// hands it to the widgets (web/dashboard/), and keeps them in step with it. The main
// thread never runs Python; every figure on the page comes from the API, and every
// change, made by the controls or by a script through window.cortexkg, arrives as a
// "change" event and triggers one coalesced refresh. The stored state (kg.storage and its
// "storage" events) decides what the page allows: a read-only tab disables every control
// that would change the engine and follows the writer tab live; refused stored data is
// offered for raw export and an explicit reset. Until the engine is ready every control
// is disabled, and the boot line says so.

import { CortexKG } from "./cortexkg.js";
import { ErrorBanner } from "./dashboard/banner.js";
import { Controls } from "./dashboard/controls.js";
import { ColumnDetails } from "./dashboard/details.js";
import { EventLog } from "./dashboard/eventlog.js";
import { Exchange } from "./dashboard/exchange.js";
import { isPageWide, plainMessage } from "./dashboard/fields.js";
import { formatCount } from "./dashboard/format.js";
import { ColumnGrid } from "./dashboard/grid.js";
import { wireGridTools } from "./dashboard/grid-tools.js";
import { LatencyChart } from "./dashboard/latency-chart.js";
import { checkConfig, readParams, toSearch } from "./dashboard/params.js";
import { Refresher } from "./dashboard/refresh.js";
import { SeriesChart } from "./dashboard/series.js";
import { StatCards } from "./dashboard/stats.js";
import { StatusPanel } from "./dashboard/status.js";
import { askPersistence, errorText, StorageStatus } from "./dashboard/storage.js";
import { AllocationsTable } from "./dashboard/table.js";

const byId = (id) => document.getElementById(id);
const root = document.documentElement;
const dashboard = byId("dashboard");

const banner = new ErrorBanner(byId("error-banner"));
const status = new StatusPanel(document);
// Nothing can act before the engine exists: the controls say so by being disabled.
for (const id of ["find-input", "find-button", "table-search", "table-search-button",
  "details-activate", "details-deallocate"]) byId(id).disabled = true;
// The worker starts booting Python now; the widgets below are built while it does
// (start() below awaits the engine before it touches them).
const creating = createEngine();
const storage = new StorageStatus(document, {
  retry: () => flush("retry"),
  reset: () => controls.newEngine((config) =>
    `Reset the engine "${session?.kg.config.name}"? Its stored data, which could not be loaded, ` +
    `is replaced by a new, empty engine of ${formatCount(config.columns)} columns ` +
    `(${config.strategy.replace("_", " ")}). Export the raw data first to keep a copy.`),
});
const stats = new StatCards(byId("stat-cards"));
const log = new EventLog(byId("event-entries"), byId("log-clear"), sessionStorageOrNull());
const details = new ColumnDetails(byId("column-details"), byId("details-actions"));
const chart = new LatencyChart(byId("latency-chart"), byId("latency-summary"));
const series = new SeriesChart(byId("series-chart"), byId("series-summary"));
const grid = new ColumnGrid(
  {
    canvas: byId("column-grid"), minimap: byId("grid-minimap"), marker: byId("selection-marker"),
    tooltip: byId("column-tooltip"), legend: byId("grid-legend"),
  },
  (id) => {
    fillConcept = id !== null;
    if (id === null) details.clear();
    else session?.refresher.schedule(["details"]);
  },
);
const table = new AllocationsTable(document, {
  refresh: () => session?.refresher.schedule(["table"]),
  found: (column) => grid.reveal(column),
  log: (text) => log.add("error", text),
});
const controls = new Controls(document, {
  kg: () => session?.kg ?? null,
  snapshot: () => grid.snapshot,
  settled: () => session?.refresher.settled(),
  succeeded: () => banner.clear(),
  fail,
  log: (text) => log.add("error", text),
  confirm: (question) => window.confirm(question),
  newEngine: (config) => replaceEngine(config),
});
const exchange = new Exchange(document, {
  kg: () => session?.kg ?? null,
  confirm: (question) => window.confirm(question),
  succeeded: () => banner.clear(),
  fail,
  log: (kind, text) => log.add(kind, text),
  importing: (busy) => setReady(!busy),
  imported: () => imported(),
});
controls.setMode("booting");
exchange.setMode("booting");
wireGridTools(document, { grid, details, series, kg: () => session?.kg ?? null, fail });
start(creating);

/** The engine (one per page: a new one is a reset of it), the configuration asked for,
 *  its refresher, the storage state last shown and the configuration last shown; null
 *  until the engine exists. */
let session = null;
/** A column was just selected: its concept goes into the concept field once known. */
let fillConcept = false;

/** Report a failure: next to the control that met it (field), unless it concerns the
 *  whole page (then the banner); always in the log. */
function fail(error, field = null) {
  const message = plainMessage(error);
  if (field !== null && !isPageWide(error)) field.show(message);
  else banner.show(message);
  log.add("error", message);
}

function sessionStorageOrNull() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage refused (e.g. cookies blocked): the log lives as long as the page
  }
}

// What one refresh of each part fetches and shows.
function refreshParts(kg) {
  let refractoryTimer = null;
  return {
    stats: async () => {
      const [engineStats, fragmentation] = await Promise.all([kg.getStats(), kg.getFragmentation()]);
      stats.update(engineStats, fragmentation);
      series.add(engineStats, fragmentation);
      grid.setExtras({
        refractoryMs: engineStats.refractory_ms,
        halfLifeMs: engineStats.activation_half_life_ms ?? 0,
      });
      details.strategy = engineStats.strategy;
      stats.setStrategy(engineStats.strategy);
      status.showBackend(engineStats.backend);
      // A reset or import made in another tab reaches this one as a "remote" change, and
      // kg.config does not follow it: the engine's own figures do.
      showConfig(kg, {
        name: kg.config.name, columns: engineStats.column_count, strategy: engineStats.strategy,
        dim: engineStats.dim, seed: engineStats.seed, refractoryMs: engineStats.refractory_ms,
        activationHalfLifeMs: engineStats.activation_half_life_ms, durability: kg.config.durability,
      });
      // Refractory columns become available with time, not through a call, so no event
      // says so: look again once their time may be up.
      if (engineStats.refractory > 0 && engineStats.refractory_ms > 0 && refractoryTimer === null) {
        refractoryTimer = setTimeout(() => {
          refractoryTimer = null;
          session.refresher.schedule(["stats", "grid", "details"]);
        }, Math.min(engineStats.refractory_ms, 1000) + 10);
      }
    },
    grid: async () => {
      const snapshot = await kg.getColumnStates();
      // After a reset or an import the engine may have another column count.
      if (snapshot.state.length !== grid.geometry.columnCount) grid.reset(snapshot.state.length);
      grid.update(snapshot);
    },
    table: async () => {
      await table.load(kg);
    },
    latency: async () => {
      // asked in one task, the two travel in one group: no allocation comes between them
      const [times, kinds] = await Promise.all([kg.getAllocationTimes(), kg.getAllocationTimeKinds()]);
      chart.update(times, kinds);
    },
    details: async () => {
      if (grid.selected !== null) {
        await details.load(kg, grid.selected);
        if (fillConcept && details.conceptId !== null) controls.fillConcept(details.conceptId);
        fillConcept = false;
      }
    },
  };
}

/** Make kg the engine the page shows and controls; resolves once everything shows it. */
async function attach(kg, requested) {
  const refresher = new Refresher(refreshParts(kg), fail, dashboard);
  const onChange = (event) => {
    const { kind } = event.detail;
    log.change(event.detail);
    // The whole state was replaced: another configuration, other columns, other rows.
    if (kind === "reset" || kind === "import") showConfig(kg);
    if (kind === "reset" || kind === "import" || kind === "remote") {
      table.reset();
      grid.select(null);
    }
    if (kind === "reset" || kind === "import") {
      controls.forget();
      series.clear();
    }
    refresher.schedule();
  };
  const onLog = (event) => log.add("log", event.detail.message);
  const onStorage = () => storageChanged(kg);
  kg.addEventListener("change", onChange);
  kg.addEventListener("log", onLog);
  kg.addEventListener("storage", onStorage);
  session = { kg, requested, refresher, storage: null, shownConfig: null };
  window.cortexkg = kg;
  grid.reset(kg.config.columns);
  table.reset();
  details.clear();
  showConfig(kg);
  storageChanged(kg);
  storage.opened(kg.storage, kg.config.name, requested.given);
  refresher.schedule();
  await refresher.settled();
}

// The configuration the status line and the new-engine form show: kg.config, or the
// engine's own figures (config). Shown again only when it differs, so the form keeps
// what the user is typing into it.
function showConfig(kg, config = kg.config) {
  const fields = ["name", "columns", "strategy", "dim", "seed", "refractoryMs", "activationHalfLifeMs",
    "durability"];
  const key = JSON.stringify(fields.map((field) => config[field]));
  if (config !== kg.config && key === session.shownConfig) return;
  session.shownConfig = key;
  status.showConfig(config);
  // The form offers the backend asked for ("auto", not the one auto chose).
  controls.fill({ ...kg.config, ...config, backend: session.requested.backend ?? kg.config.backend });
}

// kg.storage changed (or is new): show it, allow what its mode allows, and log what
// the user should hear about: another tab took over or handed over, saving failed or
// works again, the stored data was refused.
function storageChanged(kg) {
  const now = kg.storage ?? { mode: "memory", saved: true, error: null };
  const before = session.storage;
  session.storage = { ...now };
  storage.show(now, kg.config.name);
  controls.setMode(now.mode);
  exchange.setMode(now.mode);
  if (before === null) {
    if (now.mode === "reader") {
      log.add("storage", `Read-only: another tab is writing to "${kg.config.name}"; this one follows it`);
      log.add("storage", "Changes can be made in the writing tab only; this one takes over when it closes");
    } else if (now.mode === "failed") {
      log.add("error", now.error ?? "The stored data could not be used");
    }
    return;
  }
  if (before.mode !== now.mode) {
    if (now.mode === "writer") {
      log.add("storage", before.mode === "reader"
        ? "The writing tab closed: this tab took over and saves the engine now"
        : "The engine is saved in this browser again");
    } else if (now.mode === "failed") {
      log.add("error", now.error ?? "The stored data could not be used");
    }
    session.refresher.schedule(); // a takeover reloads the stored state
  } else if (now.mode === "writer" && before.saved !== now.saved) {
    if (now.saved) log.add("storage", "Saved: every change is stored in this browser again");
    else log.add("error", `Not saved: ${errorText(now.error) ?? "a write failed"}`);
  }
}

// Write whatever is still buffered: on leaving the page, on hiding it, on "Retry now".
function flush(reason) {
  const kg = session?.kg;
  if (!kg) return;
  kg.flush().catch((error) => {
    if (reason === "retry") fail(error);
  });
}

function setReady(ready) {
  root.dataset.ready = String(ready);
  dashboard.setAttribute("aria-busy", String(!ready));
  for (const id of ["find-input", "find-button", "table-search", "table-search-button",
    "details-activate", "details-deallocate"]) byId(id).disabled = !ready;
}

/** The engine the URL asks for: {kg, config, ignored}. */
async function createEngine() {
  const { config, given, ignored } = readParams(location.search);
  status.starting("Starting the Python worker");
  checkConfig(config);
  const kg = await CortexKG.create({ ...config, onProgress: (message, bytes) => status.progress(message, bytes) });
  return { kg, config: { ...config, given }, ignored };
}

async function start(creating) {
  try {
    const { kg, config, ignored } = await creating;
    status.progress("Showing the engine");
    await attach(kg, config);
    performance.mark("cortexkg-ready");
    status.ready(kg, performance.now() / 1000); // since navigation
    const { columns, strategy, backend } = kg.config;
    log.add("engine", `Engine "${kg.config.name}" ready: ${formatCount(columns)} columns, ` +
      `${strategy}, backend ${backend}` + (kg.storage?.restored ? " (loaded from this browser)" : ""));
    if (ignored.length > 0) {
      log.add("engine", `Ignored unknown URL parameters: ${ignored.join(", ")}`);
    }
    setReady(true);
    // Offline use (web/sw.js): registered now, so its caching revalidates what this visit loaded
    navigator.serviceWorker?.register("sw.js").catch((error) => log.add("error", `Not cached for offline use: ${error.message}`));
  } catch (error) {
    status.failed("The engine could not be created.");
    fail(error);
  }
}

// Replace the engine by a new, empty one (kg.reset: the same instance and name, stored
// atomically, so a reload opens it), then put its configuration in the URL, so a reload
// or a shared link asks for the same kind of engine.
async function replaceEngine(config) {
  const { kg } = session;
  const { name, ...options } = config;
  setReady(false);
  banner.clear();
  try {
    await kg.reset(options);
    session.requested = config;
    showConfig(kg);
    storageChanged(kg);
    storage.say("");
    history.replaceState(null, "", toSearch({ ...config, name: kg.config.name }));
    const { columns, strategy, backend } = kg.config;
    log.add("engine", `New engine: ${formatCount(columns)} columns, ${strategy}, backend ${backend}`);
    await session.refresher.settled();
  } catch (error) {
    fail(error);
  } finally {
    setReady(true);
  }
}

// An import replaced the state (the "change" event refreshed the page): the notice about
// what was loaded is old news, and the URL now names the imported engine's configuration.
async function imported() {
  const { kg } = session;
  storage.say("");
  const config = { ...kg.config, backend: session.requested.backend ?? kg.config.backend };
  session.requested = config;
  history.replaceState(null, "", toSearch(config));
  await session.refresher.settled();
}

// Anything buffered is written before the page goes away or into the background.
window.addEventListener("pagehide", () => flush("pagehide"));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flush("hidden");
});

// Ask once whether the browser keeps this origin's data under storage pressure.
askPersistence().then((answer) => storage.showPersisted(answer));

// Anything the code above did not catch still reaches the page, not only the console.
window.addEventListener("unhandledrejection", (event) => fail(event.reason));
window.addEventListener("error", (event) => fail(event.error ?? event.message));
