// Boots Python inside the worker: the Pyodide runtime, the scan kernel and the cortexkg
// wheel, all from this origin, as build/build_site.py lists them in site.json.
// Booting lives here, apart from worker.js, which only translates messages.
import { compileKernel, loadKernel } from "./kernel.js";

/**
 * Load Pyodide and cortexkg from the assets under siteRoot (an absolute folder URL, by
 * default this module's folder: the built site's root; an app may serve site.json and the
 * folders it names anywhere, and a bundler may move this module away from them);
 * onProgress(message, bytes) hears each step, and while the runtime downloads, each
 * hundredth of it: bytes is {loaded, total}, the bytes of the files site.json's
 * runtimeBytes lists received so far and their sum (undefined for a site built without
 * the list). Resolves to {pyodide, runtime}: the Pyodide instance and a plain-data report
 * on it (wasmSimd: whether the WebAssembly SIMD scan kernel was loaded).
 */
export async function boot(onProgress, siteRoot = moduleFolder()) {
  const site = await fetchJSON(new URL("site.json", siteRoot));
  // the download overlaps the steps: its reports name the step under way
  let step = `Loading Pyodide ${site.pyodide}`;
  const download = countDownload(site.runtimeBytes ?? {}, siteRoot, (bytes) => onProgress(step, bytes));
  const say = (message) => {
    step = message;
    onProgress(message, download.bytes());
  };
  try {
    say(step);
    return await load(site, say, siteRoot);
  } finally {
    download.stop();
  }
}

async function load(site, onProgress, siteRoot) {
  // the kernel and the app's wheel are fetched while Pyodide loads
  const kernel = compileKernel(new URL(site.kernel, siteRoot));
  const appWheel = fetchBytes(new URL(site.cortexkg, siteRoot));
  const indexURL = new URL(site.indexURL, siteRoot).href;
  const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
  // Pyodide never settles when its wasm cannot be compiled (a server sending the wrong
  // MIME type, say); a failed check of the same file, or of the kernel, stops booting.
  const pyodide = await Promise.race([
    loadPyodide({ indexURL }),
    checkWasmType(new URL("pyodide.asm.wasm", indexURL)).then(() => new Promise(() => {})),
    kernel.then(() => new Promise(() => {})),
  ]);

  // The column-scan kernel on Pyodide's memory; without WebAssembly SIMD it is skipped and
  // the engine's backend "auto" falls back to numpy or the reference scans.
  onProgress("Loading the scan kernel");
  const wasmSimd = await loadKernel(pyodide, kernel);

  // cortexkg needs nothing else in Pyodide (numpy only if the site serves it), so its
  // pure wheel is unpacked into site-packages: no installer to load and run
  if (site.packages.length > 0) {
    await loadPackages(pyodide, site.packages.map((path) => new URL(path, siteRoot).href), onProgress);
  }
  onProgress("Installing cortexkg");
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(await appWheel, "wheel", { extractDir: sitePackages });

  onProgress("Importing cortexkg");
  return { pyodide, runtime: { ...describe(pyodide), wasmSimd } };
}

// Counts the bytes of the listed files as they arrive, whoever fetches them (Pyodide
// fetches its own with the global fetch, looked up at each call): while booting, fetch
// is wrapped, and a listed file's response is cloned and the clone read to its end. The
// response itself goes on untouched (its URL keeps the browser's compiled-code cache of
// pyodide.asm.wasm), and the clone counts the bytes as decoded, as runtimeBytes lists
// them, whatever the server compressed. Each file counts once (a retry adds nothing).
// report({loaded, total}) hears each hundredth of the total, and the end.
function countDownload(sizes, siteRoot, report) {
  const expected = new Map(Object.entries(sizes).map(([path, size]) => [new URL(path, siteRoot).href, size]));
  const total = [...expected.values()].reduce((sum, size) => sum + size, 0);
  const received = new Map();
  let loaded = 0;
  let reported = 0;
  const bytes = () => (total > 0 ? { loaded, total } : undefined);
  const original = globalThis.fetch;
  if (total === 0) return { bytes, stop() {} };

  const count = async (url, response) => {
    const reader = response.body.getReader();
    let mine = 0; // this response's bytes: a second fetch of a file (a retry) adds only
    for (;;) {    // what the first did not deliver
      const { done, value } = await reader.read();
      if (!done) mine = Math.min(mine + value.byteLength, expected.get(url));
      const before = received.get(url) ?? 0;
      if (mine > before) {
        received.set(url, mine);
        loaded += mine - before;
      }
      if (loaded > reported && (done || loaded - reported >= total / 100)) {
        reported = loaded;
        report({ loaded, total });
      }
      if (done) return;
    }
  };
  const counting = async (resource, init) => {
    const response = await original(resource, init);
    const url = new URL(resource instanceof Request ? resource.url : String(resource), siteRoot).href;
    const method = (init?.method ?? (resource instanceof Request ? resource.method : "GET")).toUpperCase();
    if (expected.has(url) && method === "GET" && response.ok && response.body !== null) {
      // a network error ends the clone as it ends the response, which its reader reports
      count(url, response.clone()).catch(() => {});
    }
    return response;
  };
  globalThis.fetch = counting;
  return {
    bytes,
    stop() {
      if (globalThis.fetch === counting) globalThis.fetch = original;
    },
  };
}

// Not `new URL("./", import.meta.url)`: a bundler would try to bundle a file of that name.
function moduleFolder() {
  const here = import.meta.url;
  return new URL("./", here).href;
}

// Browsers compile WebAssembly only when it is served as application/wasm.
async function checkWasmType(url) {
  const response = await fetch(url, { method: "HEAD" });
  const type = response.headers.get("Content-Type") ?? "none";
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  if (type.split(";")[0].trim() !== "application/wasm") {
    throw new Error(`${url} is served as ${type}; WebAssembly needs application/wasm (fix the server's MIME types)`);
  }
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

async function fetchJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  return response.json();
}

// pyodide.loadPackage reports its steps ("Loading numpy") through
// messageCallback, and a failed package through errorCallback while resolving all the
// same; turn the latter into a rejection so that booting stops at the broken step.
async function loadPackages(pyodide, urls, onProgress) {
  const errors = [];
  await pyodide.loadPackage(urls, {
    messageCallback: onProgress,
    errorCallback: (message) => errors.push(message),
  });
  if (errors.length > 0) throw new Error(errors.join("\n"));
}

// Versions and timing facts for the page, as plain data (every proxy destroyed here).
function describe(pyodide) {
  const sys = pyodide.pyimport("sys");
  const cortexkg = pyodide.pyimport("cortexkg");
  try {
    return {
      pyodide: pyodide.version,
      python: sys.version,
      cortexkg: cortexkg.__version__,
      crossOriginIsolated: self.crossOriginIsolated,
      timerResolutionMs: timerResolutionMs(),
    };
  } finally {
    sys.destroy();
    cortexkg.destroy();
  }
}

// The smallest step performance.now() takes, over 100 steps of a busy loop: about
// 0.005 ms when cross-origin isolated, 0.1 ms when the browser coarsens the clock.
function timerResolutionMs(steps = 100) {
  let smallest = Infinity;
  let last = performance.now();
  for (let seen = 0; seen < steps; ) {
    const now = performance.now();
    if (now !== last) {
      smallest = Math.min(smallest, now - last);
      last = now;
      seen += 1;
    }
  }
  return smallest;
}
