// The page: starts the Python worker and shows what it reports. The main thread never
// runs Python. Errors are shown on the page (role="alert"), never only in the console.

const element = (id) => document.getElementById(id);

function showError(message) {
  element("boot-status").textContent = "The Python worker failed to start.";
  const banner = element("error-banner");
  banner.textContent = message;
  banner.hidden = false;
}

function showRuntime(runtime) {
  element("status-pyodide").textContent = runtime.pyodide;
  element("status-python").textContent = runtime.python;
  element("status-cortexkg").textContent = runtime.cortexkg;
  element("status-isolated").textContent = runtime.crossOriginIsolated
    ? "Yes: allocation times are precise"
    : "No: performance.now() is coarsened, allocation times are rough";
  const timer = element("status-timer");
  timer.value = runtime.timerResolutionMs;
  timer.textContent = `${(runtime.timerResolutionMs * 1000).toFixed(1)} µs`;
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });

worker.addEventListener("message", ({ data }) => {
  switch (data.type) {
    case "progress":
      element("boot-status").textContent = `${data.message}…`;
      break;
    case "ready":
      performance.mark("cortexkg-ready");
      showRuntime(data.runtime);
      element("boot-status").textContent = `Ready in ${(performance.now() / 1000).toFixed(1)} s.`;
      document.documentElement.dataset.ready = "true";
      break;
    case "error":
      showError(data.message);
      break;
  }
});

// A worker script that fails to load or throws outside boot(): report it on the page
// instead of the console's "Uncaught" line.
worker.addEventListener("error", (event) => {
  event.preventDefault();
  showError(event.message || "worker.js could not be loaded.");
});
