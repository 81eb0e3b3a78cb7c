// Boot progress and the About panel: Pyodide and Python versions, the scan backend,
// cross-origin isolation and the worker's timer resolution.
//
// The worker reports its boot steps (boot.js): "Loading Pyodide …", "Loading the scan
// kernel", "Installing cortexkg", "Importing cortexkg" (which ends once the engine is
// open); then the page shows the engine (its first refresh). Loading Pyodide is most of
// the wait, mostly its download, which the worker reports in bytes: during that step the
// bar moves through the step with the bytes received (its data-loaded and data-total
// attributes hold them) and the line says how many; each later step moves the bar by one.

// The steps in order, matched by how the worker's message starts; the last one is ours.
const STEPS = ["Starting the Python worker", "Loading Pyodide", "Loading the scan kernel",
  "Installing cortexkg", "Importing cortexkg", "Showing the engine"];
const WAITING = "controls unlock when it is ready";

// "4.2" (MB of 10^6 bytes, one decimal: the download's pace, not its exact count)
const formatMB = (bytes) => (bytes / 1e6).toFixed(1);

export class StatusPanel {
  constructor(document) {
    const byId = (id) => document.getElementById(id);
    this.bootStatus = byId("boot-status");
    this.bootProgress = byId("boot-progress");
    this.version = byId("about-version");
    this.fields = {
      engine: byId("status-engine"),
      backend: byId("status-backend"),
      pyodide: byId("status-pyodide"),
      python: byId("status-python"),
      cortexkg: byId("status-cortexkg"),
      isolated: byId("status-isolated"),
      timer: byId("status-timer"),
    };
    this.step = 0;
    this.message = "";
    this.bytes = null;
    this.clock = null;
  }

  /** A new boot (or engine) starts: the bar restarts. */
  starting(message) {
    this.step = 0;
    this.bytes = null;
    this.bootProgress.hidden = false;
    this.bootProgress.max = STEPS.length;
    this.bootProgress.value = 0;
    this.started = performance.now();
    this.show(message);
    this.clock ??= setInterval(() => this.show(this.message), 250);
  }

  /** One step of booting, as the worker describes it; bytes: {loaded, total} of the
   *  runtime's download while it lasts. */
  progress(message, bytes) {
    const index = STEPS.findIndex((step) => message.startsWith(step));
    if (index > this.step) this.step = index;
    if (bytes) this.bytes = bytes;
    this.show(message);
  }

  show(message) {
    this.message = message;
    const bar = this.bootProgress;
    const { bytes } = this;
    const downloading = bytes !== null && bytes.loaded < bytes.total;
    // the download is the step of loading Pyodide: the bar is through it as far as the bytes
    const within = STEPS[this.step] === "Loading Pyodide" && bytes ? bytes.loaded / bytes.total : 0;
    bar.value = this.step + within;
    bar.dataset.step = String(this.step);
    if (bytes && bar.dataset.loaded !== String(bytes.loaded)) {
      bar.dataset.total = String(bytes.total);
      bar.dataset.loaded = String(bytes.loaded);
    }
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const done = downloading ? `: ${formatMB(bytes.loaded)} of ${formatMB(bytes.total)} MB of the runtime` : "";
    const text = `${message}${done}… ${seconds} s (step ${this.step + 1} of ${STEPS.length}; ${WAITING})`;
    if (this.bootStatus.textContent !== text) this.bootStatus.textContent = text;
  }

  stopClock() {
    clearInterval(this.clock);
    this.clock = null;
  }

  /** Booted: show the runtime of kg and how long it took. */
  ready(kg, seconds) {
    this.stopClock();
    this.bootProgress.value = STEPS.length;
    this.bootProgress.hidden = true;
    this.bootStatus.textContent = `Ready in ${seconds.toFixed(1)} s.`;
    this.showRuntime({ backend: kg.config.backend, ...kg.runtime });
    this.showConfig(kg.config);
  }

  /** Booting failed. */
  failed(message) {
    this.stopClock();
    this.bootProgress.hidden = true;
    this.bootStatus.textContent = message;
  }

  showRuntime(runtime) {
    const { fields } = this;
    fields.backend.textContent = runtime.backend;
    fields.pyodide.textContent = runtime.pyodide;
    fields.python.textContent = runtime.python;
    fields.cortexkg.textContent = runtime.cortexkg;
    fields.isolated.textContent = runtime.crossOriginIsolated
      ? "Yes: allocation times are precise"
      : "No: performance.now() is coarsened, allocation times are rough";
    fields.timer.value = runtime.timerResolutionMs;
    fields.timer.textContent = `${(runtime.timerResolutionMs * 1000).toFixed(1)} µs`;
    // "3.14.2 (main, ...) [Clang ...]": the version is the first word
    const python = String(runtime.python).split(" ")[0];
    this.version.textContent = `cortexkg ${runtime.cortexkg} · Pyodide ${runtime.pyodide} · Python ${python}`;
  }

  showConfig(config) {
    const parts = [
      `"${config.name}"`,
      `${Number(config.columns).toLocaleString("en-US")} columns`,
      config.strategy.replace("_", " "),
    ];
    if (config.dim) parts.push(`dim ${config.dim}`);
    parts.push(`seed ${config.seed}`);
    if (config.refractoryMs) parts.push(`refractory ${config.refractoryMs} ms`);
    if (config.durability === "relaxed") parts.push("relaxed durability");
    this.fields.engine.textContent = parts.join(" · ");
  }

  /** The engine's scan backend as its stats report it (it may differ from "auto"). */
  showBackend(backend) {
    this.fields.backend.textContent = backend;
  }
}
