// The page's wiring: creates the engine named by the URL through the JavaScript API,
// hands it to the widgets (web/dashboard/), and keeps them in step with it. The main
// thread never runs Python; every figure on the page comes from the API, and every
// change, made by the controls or by a script through window.cortexkg, arrives as a
// "change" event and triggers one coalesced refresh.

import { CortexKG } from "./cortexkg.js";
import { ErrorBanner, messageOf } from "./dashboard/banner.js";
import { Controls } from "./dashboard/controls.js";
import { ColumnDetails } from "./dashboard/details.js";
import { EventLog } from "./dashboard/eventlog.js";
import { formatCount } from "./dashboard/format.js";
import { ColumnGrid } from "./dashboard/grid.js";
import { LatencyChart } from "./dashboard/latency-chart.js";
import { readParams, toSearch } from "./dashboard/params.js";
import { Refresher } from "./dashboard/refresh.js";
import { StatCards } from "./dashboard/stats.js";
import { StatusPanel } from "./dashboard/status.js";
import { StorageStatus } from "./dashboard/storage.js";
import { AllocationsTable } from "./dashboard/table.js";

const byId = (id) => document.getElementById(id);
const root = document.documentElement;
const dashboard = byId("dashboard");

const banner = new ErrorBanner(byId("error-banner"));
const status = new StatusPanel(document);
const storage = new StorageStatus(byId("status-storage"), byId("storage-notice"));
const stats = new StatCards(byId("stat-cards"));
const log = new EventLog(byId("event-log"), byId("log-clear"));
const details = new ColumnDetails(byId("column-details"));
const chart = new LatencyChart(byId("latency-chart"), byId("latency-summary"));
const grid = new ColumnGrid(
  { canvas: byId("column-grid"), marker: byId("selection-marker"), tooltip: byId("column-tooltip") },
  (id) => {
    if (id === null) details.clear();
    else session?.refresher.schedule(["details"]);
  },
);
const table = new AllocationsTable(document, {
  refresh: () => session?.refresher.schedule(["table"]),
});
const controls = new Controls(document, {
  kg: () => session?.kg ?? null,
  snapshot: () => grid.snapshot,
  settled: () => session?.refresher.settled(),
  succeeded: () => banner.clear(),
  fail,
  newEngine: (config) => replaceEngine(config),
});

/** The engine (one per page: a new one is a reset of it), the configuration asked for
 *  and its refresher; null until the engine exists. */
let session = null;

function fail(error) {
  const message = messageOf(error);
  banner.show(message);
  log.add("error", message);
}

// What one refresh of each part fetches and shows.
function refreshParts(kg) {
  let refractoryTimer = null;
  return {
    stats: async () => {
      const [engineStats, fragmentation] = await Promise.all([kg.getStats(), kg.getFragmentation()]);
      stats.update(engineStats, fragmentation);
      status.showBackend(engineStats.backend);
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
      const times = await kg.getAllocationTimes();
      chart.update(times);
    },
    details: async () => {
      if (grid.selected !== null) await details.load(kg, grid.selected);
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
    refresher.schedule();
  };
  const onLog = (event) => log.add("log", event.detail.message);
  const onStorage = () => storage.show(kg.storage, kg.config.name);
  kg.addEventListener("change", onChange);
  kg.addEventListener("log", onLog);
  kg.addEventListener("storage", onStorage);
  session = { kg, requested, refresher };
  window.cortexkg = kg;
  grid.reset(kg.config.columns);
  table.reset();
  details.clear();
  showConfig(kg);
  storage.show(kg.storage, kg.config.name);
  storage.opened(kg.storage, kg.config.name);
  refresher.schedule();
  await refresher.settled();
}

function showConfig(kg) {
  status.showConfig(kg.config);
  // The form offers the backend asked for ("auto", not the one auto chose).
  controls.fill({ ...kg.config, backend: session.requested.backend ?? kg.config.backend });
}

function setReady(ready) {
  root.dataset.ready = String(ready);
  dashboard.setAttribute("aria-busy", String(!ready));
}

async function start() {
  const { config, ignored } = readParams(location.search);
  status.starting("Starting the Python worker…");
  try {
    const kg = await CortexKG.create({ ...config, onProgress: (message) => status.progress(message) });
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
    storage.show(kg.storage, kg.config.name);
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

// Anything the code above did not catch still reaches the page, not only the console.
window.addEventListener("unhandledrejection", (event) => fail(event.reason));
window.addEventListener("error", (event) => fail(event.error ?? event.message));

start();
