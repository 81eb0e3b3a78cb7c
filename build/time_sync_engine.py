#!/usr/bin/env python3
"""Time the synchronous engine (web/engine.js) from JavaScript in headless Chromium.

On web/api.html (the main thread; no worker hop by design), after a warm-up engine has
run the call path 40,000 times, for each size: ROUNDS times a new first_fit engine,
allocateConcept(id) for ids 0..k-1 one call at a time (k = min(size, 100,000)), then
deallocateConcept of each, then destroy(). Prints one JSON line per size: the median over
rounds of µs per call (the JS→Python call included), the engine's own mean allocation
time (getAverageTime: from the JavaScript call to the allocation, engine.js passing its
start reading in), and µs per getAllocatedCount() (the cost of any call: JS→Python and
back). python_clocks_us: in the same rounds, on an engine of a second Pyodide in the same
page, the path engine.js took before allocate_concept_at (the bound allocate_concept
reading performance.now() twice and Date.now() once from Python); ratio: allocate_us /
python_clocks_us. best_*: the fastest block of 1,000 calls of all rounds, which is what
the call costs when the thread has a core to itself (other processes on a loaded machine
inflate the medians). A benchmark, not a test: nothing is asserted.

Usage: time_sync_engine.py [--size N ...] [--rounds R]   (needs dist/ built; serves it)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The browser tests' harness serves dist/ and finds Chromium; these scripts measure with it.
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import chromium_args, chromium_executable, serve  # noqa: E402
DEFAULT_SIZES = [1_000, 10_000, 100_000, 1_000_000]

TIME_JS = """async ({sizes, rounds}) => {
  const { loadEngine } = await import('./engine.js');
  const { AllocationEngine, runtime } = await loadEngine();
  // before: engine.js's previous hot path, the bound allocate_concept (clocks read in Python)
  const { boot } = await import('./boot.js');
  const { pyodide } = await boot(() => {});
  const python = pyodide.pyimport('cortexkg._sync_engine');
  const pythonClocks = (size) => {
    const engine = python.create(size, true), allocate = engine.engine.allocate_concept;
    const call = (id) => {
      try { return allocate(id); } catch (error) { throw error; }
    };
    return { call, destroy() { allocate.destroy(); engine.destroy(); } };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const BLOCK = 1000;
  let best = Infinity; // µs per call of the fastest block of the last perCall()
  const perCall = (run, k) => {
    best = Infinity;
    const started = performance.now();
    for (let first = 0; first < k; first += BLOCK) {
      const blockStarted = performance.now();
      for (let i = first; i < Math.min(k, first + BLOCK); i++) run(i);
      best = Math.min(best, (performance.now() - blockStarted) * 1000 / Math.min(BLOCK, k - first));
    }
    return (performance.now() - started) * 1000 / k;
  };
  const warm = new AllocationEngine(20000, true);
  for (let i = 0; i < 2; i++) {
    perCall((id) => warm.allocateConcept(id), 20000);
    perCall((id) => warm.deallocateConcept(id), 20000);
  }
  warm.destroy();
  const warmBefore = pythonClocks(20000);
  perCall(warmBefore.call, 20000);
  warmBefore.destroy();
  const lines = [];
  for (const size of sizes) {
    const k = Math.min(size, 100000);
    const samples = {allocate: [], deallocate: [], engine: [], call: [], python_clocks: []};
    const fastest = {allocate: Infinity, deallocate: Infinity, call: Infinity, python_clocks: Infinity};
    const timed = (name, run) => {
      samples[name].push(perCall(run, k));
      fastest[name] = Math.min(fastest[name], best);
    };
    for (let round = 0; round < rounds; round++) {
      const engine = new AllocationEngine(size, true);
      timed('allocate', (id) => engine.allocateConcept(id));
      samples.engine.push(engine.getAverageTime() * 1000);
      timed('call', () => engine.getAllocatedCount());
      timed('deallocate', (id) => engine.deallocateConcept(id));
      engine.destroy();
      const before = pythonClocks(size);
      timed('python_clocks', before.call);
      before.destroy();
    }
    lines.push({size, calls: k, rounds, backend: runtime.wasmSimd ? 'wasm' : 'other',
                crossOriginIsolated: runtime.crossOriginIsolated,
                ...Object.fromEntries(Object.entries(samples).map(
                  ([name, values]) => [`${name}_us`, +median(values).toFixed(2)])),
                ...Object.fromEntries(Object.entries(fastest).map(
                  ([name, value]) => [`best_${name}_us`, +value.toFixed(2)])),
                ratio: +(median(samples.allocate) / median(samples.python_clocks)).toFixed(3)});
  }
  return lines;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append", help="columns (repeatable)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as logs, serve(ROOT / "dist", Path(logs) / "requests.log") as server, \
            sync_playwright() as playwright:
        url = server.url
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=chromium_args())
        page = chromium.new_page()
        page.set_default_timeout(0)
        page.goto(url + "api.html")
        for line in page.evaluate(TIME_JS, {"sizes": args.size or DEFAULT_SIZES,
                                            "rounds": args.rounds}):
            print(json.dumps(line), flush=True)
        chromium.close()


if __name__ == "__main__":
    main()
