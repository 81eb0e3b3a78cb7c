// The unit-test page's worker: boots Python exactly as the app's worker does (../boot.js:
// the runtime, the scan kernel, the cortexkg wheel), then loads micropip and installs the
// test-only wheels with it, writes the project's test files into Pyodide's file system
// and runs pytest on them (runner.py). Everything is fetched from this origin, as
// build_site.py --with-tests lists it in manifest.json.
//
// Messages to the page:
//   {type: "progress", message}  a step before the run
//   {type: "output", line}        a line pytest (or anything in Python) printed
//   {type: "done", result}        the run ended, passed or not; result: runner.py's report
//   {type: "error", message}      the run could not start, or crashed
import { boot } from "../boot.js";

const here = new URL("./", import.meta.url);
// The project's files keep their repository paths under PROJECT_DIR, so that pytest finds
// pyproject.toml (its configuration) and tests/unit/ as in a checkout.
const PROJECT_DIR = "/home/pyodide/cortexkg";
const RUNNER_PATH = "/home/pyodide/pytest_runner.py";

async function main() {
  const progress = (message) => postMessage({ type: "progress", message });
  const { pyodide } = await boot(progress);
  const manifest = await fetchJSON(new URL("manifest.json", here));

  progress(`Installing ${manifest.wheels.length} test wheels`);
  await pyodide.loadPackage(manifest.installer.map((path) => new URL(path, here).href));
  await installWheels(pyodide, manifest.wheels.map((path) => new URL(path, here).href));

  progress(`Writing ${manifest.project.length} project files`);
  await Promise.all([
    ...manifest.project.map((path) =>
      copyFile(pyodide, new URL(`project/${path}`, here), `${PROJECT_DIR}/${path}`)),
    copyFile(pyodide, new URL("runner.py", here), RUNNER_PATH),
  ]);

  progress("Running pytest");
  const output = (line) => postMessage({ type: "output", line });
  pyodide.setStdout({ batched: output });
  pyodide.setStderr({ batched: output });
  const keyword = new URL(import.meta.url).searchParams.get("k");
  return runPytest(pyodide, keyword ? ["-k", keyword] : []);
}

async function fetchJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  return response.json();
}

// deps=False: the lock file lists every wheel the tests need besides what boot() loaded,
// and resolving dependencies could send micropip to PyPI, outside this origin.
async function installWheels(pyodide, urls) {
  const micropip = pyodide.pyimport("micropip");
  const install = micropip.install;
  const requirements = pyodide.toPy(urls);
  try {
    await install.callKwargs(requirements, { deps: false });
  } finally {
    requirements.destroy();
    install.destroy();
    micropip.destroy();
  }
}

async function copyFile(pyodide, url, path) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
  pyodide.FS.writeFile(path, bytes);
}

// runner.run returns its report as JSON text, so no proxy outlives this call. It is
// called with callPromising: the stack switching that gives lets asyncio.run() inside the
// tests wait for the browser's event loop, as it would under CPython.
async function runPytest(pyodide, extraArgs) {
  const runpy = pyodide.pyimport("runpy");
  const namespace = runpy.run_path(RUNNER_PATH);
  const run = namespace.get("run");
  const args = pyodide.toPy(extraArgs);
  try {
    return JSON.parse(await run.callPromising(PROJECT_DIR, args));
  } finally {
    args.destroy();
    run.destroy();
    namespace.destroy();
    runpy.destroy();
  }
}

main().then(
  (result) => postMessage({ type: "done", result }),
  (error) => postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  }),
);
