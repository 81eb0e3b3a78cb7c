// The unit-test page: starts the worker that runs tests/unit inside Pyodide (worker.js)
// and shows what it reports. When the run has ended, window.pytestResult holds runner.py's
// report and <html data-done="true"> says so; a run that could not start or crashed
// shows the error banner instead. The main thread never runs Python.

const element = (id) => document.getElementById(id);

function showError(message) {
  element("status").textContent = "The unit tests could not run.";
  const banner = element("error-banner");
  banner.textContent = message;
  banner.hidden = false;
}

function appendOutput(line) {
  element("output").append(`${line}\n`);
}

// "571 passed, 196 skipped in 41.2 s": pytest's summary line, from the report's counts.
function summaryLine(result) {
  const counts = Object.entries(result.counts)
    .filter(([, count]) => count > 0)
    .map(([outcome, count]) => `${count} ${outcome}`);
  return `${counts.join(", ") || "no tests ran"} in ${result.seconds.toFixed(1)} s`;
}

function showResult(result) {
  window.pytestResult = result;
  const passed = result.exitCode === 0;
  element("status").textContent = passed
    ? "The unit tests passed inside Pyodide."
    : `The unit tests failed inside Pyodide (pytest exit code ${result.exitCode}).`;
  const summary = element("summary");
  summary.textContent = `${summaryLine(result)} — Python ${result.python.split(" ")[0]} on ` +
    `${result.platform}, pytest ${result.pytest}, hypothesis ${result.hypothesis}`;
  summary.className = passed ? "passed" : "failed";
  summary.hidden = false;

  const failures = element("failures");
  for (const failure of result.failures) {
    const details = document.createElement("details");
    const title = document.createElement("summary");
    title.textContent = `${failure.nodeid} (${failure.when})`;
    const text = document.createElement("pre");
    text.textContent = failure.text;
    details.append(title, text);
    failures.append(details);
  }
  failures.hidden = result.failures.length === 0;
  document.documentElement.dataset.done = "true";
}

// ?k=expression selects tests as `pytest -k` does; the worker reads it from its own URL.
const workerURL = new URL("./worker.js", import.meta.url);
const keyword = new URLSearchParams(location.search).get("k");
if (keyword) workerURL.searchParams.set("k", keyword);
const worker = new Worker(workerURL, { type: "module" });

worker.addEventListener("message", ({ data }) => {
  switch (data.type) {
    case "progress":
      element("status").textContent = `${data.message}…`;
      break;
    case "output":
      appendOutput(data.line);
      break;
    case "done":
      showResult(data.result);
      break;
    case "error":
      showError(data.message);
      break;
  }
});

worker.addEventListener("error", (event) => {
  event.preventDefault();
  showError(event.message || "worker.js could not be loaded.");
});
