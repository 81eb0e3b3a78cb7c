#!/usr/bin/env python3
"""Measure the largest engine that can be held and persisted in Pyodide's 32-bit memory.

Each case runs in a fresh browser context (a new worker, so a new wasm memory, and an
empty IndexedDB) through the JavaScript API: create({columns, dim}), fill every column
in batches (a first batch only with fields), exportState(), importState() of that export (two engines alive at once, and
the snapshot written to IndexedDB), close() and create() again (recovery from that
snapshot), then reset(). Every step's outcome and time is printed as one JSON line.

--python instead measures, under CPython with tracemalloc, the bytes per column that the
engine holds and the peak of each persistence step, which the limits in engine.py are
derived from (see docs/bench/notes.md, "Size limits").

Usage: measure_limits.py [--python] [--case COLUMNS[xDIM] ...]   (needs dist/ built)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The browser tests' harness serves dist/ and finds Chromium; these scripts measure with it.
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import chromium_args, chromium_executable, serve  # noqa: E402
DEFAULT_CASES = ["4194304", "8388608", "16777216", "25165824", "33554432", "50000000",
                 "1048576x64", "1048576x128", "1048576x256", "1048576x512"]
CHUNK = 1 << 20  # ids per allocateBatch call while filling

CASE_JS = """async ({columns, dim, chunk}) => {
  const api = await import('./cortexkg.js');
  const steps = [];
  const step = async (name, run) => {
    const started = performance.now();
    try {
      const facts = (await run()) ?? {};
      steps.push({...facts, name, ok: true, s: +((performance.now() - started) / 1000).toFixed(2)});
      return true;
    } catch (error) {
      steps.push({name, ok: false, s: +((performance.now() - started) / 1000).toFixed(2),
                  error: `${error.name}: ${String(error.message).slice(0, 200)}`});
      return false;
    }
  };
  let kg, exported;
  const open = async () => { kg = await api.CortexKG.create({name: 'limits', columns, dim}); };
  if (!await step('create', open)) return steps;
  // every column without fields (the order buffer at its longest); with fields, whose
  // size is what matters, a first batch only (each placement computes an embedding)
  const fill = dim === 0 ? columns : Math.min(columns, 1000);
  const filled = await step('fill', async () => {
    for (let first = 0; first < fill; first += chunk) {
      const count = Math.min(chunk, fill - first);
      await kg.allocateBatch(Uint32Array.from({length: count}, (_, i) => first + i), {columnar: true});
    }
    return {allocated: await kg.getAllocatedCount()};
  });
  if (!filled) return steps;
  if (!await step('export', async () => {
    exported = await kg.exportState();
    return {bytes: exported.byteLength};
  })) return steps;
  if (!await step('import', async () => { await kg.importState(exported); })) return steps;
  exported = null;
  kg.close();
  if (!await step('reopen', async () => {
    await open();
    return {allocated: await kg.getAllocatedCount(), restored: kg.storage.restored !== null};
  })) return steps;
  await step('reset', async () => { await kg.reset(); });
  kg.close();
  return steps;
}"""


def parse_case(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", text)
    if match is None:
        raise SystemExit(f"Invalid case {text!r}: expected COLUMNS or COLUMNSxDIM")
    return int(match[1]), int(match[2] or 0)


def browser(cases: list[tuple[int, int]]) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as logs, serve(ROOT / "dist", Path(logs) / "requests.log") as server, \
            sync_playwright() as playwright:
        url = server.url
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=chromium_args())
        for columns, dim in cases:
            context = chromium.new_context()
            page = context.new_page()
            page.set_default_timeout(0)
            page.goto(url + "api.html")
            started = time.perf_counter()
            try:
                steps = page.evaluate(CASE_JS, {"columns": columns, "dim": dim, "chunk": CHUNK})
            except Exception as error:  # a crashed renderer ends the evaluation
                steps = [{"name": "page", "ok": False, "error": str(error).splitlines()[0]}]
            print(json.dumps({"columns": columns, "dim": dim,
                              "s": round(time.perf_counter() - started, 1), "steps": steps}),
                  flush=True)
            context.close()
        chromium.close()


def python(cases: list[tuple[int, int]]) -> None:
    import tracemalloc
    from array import array

    sys.path.insert(0, str(ROOT / "py"))
    from cortexkg import AllocationEngine, exchange

    for columns, dim in cases:
        tracemalloc.start()
        engine = AllocationEngine(columns, dim=dim, backend="numpy")
        engine.allocate_batch(array("I", range(columns)), columnar=True)
        held = tracemalloc.get_traced_memory()[0]
        steps = {}

        def peak(name, run):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            result = run()
            steps[name] = round((tracemalloc.get_traced_memory()[1] - before) / columns, 1)
            return result

        # the session's paths: compaction, exportState, importState and reset (the new
        # engine and its snapshot for IndexedDB while the old engine is still there)
        peak("snapshot", lambda: b"".join(engine.snapshot_parts()))
        exported = peak("export", lambda: exchange.pack(engine.snapshot_parts()))
        peak("import", lambda: b"".join(
            AllocationEngine.restore(exchange.unpack(exported), backend="numpy").snapshot_parts()))
        peak("reset", lambda: b"".join(
            AllocationEngine(columns, dim=dim, backend="numpy").snapshot_parts()))
        tracemalloc.stop()
        print(json.dumps({"columns": columns, "dim": dim, "held_per_column": round(held / columns, 1),
                          "export_bytes_per_column": round(len(exported) / columns, 1),
                          "peak_above_held_per_column": steps}), flush=True)
        del engine, exported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="measure under CPython instead")
    parser.add_argument("--case", action="append", help="COLUMNS or COLUMNSxDIM (repeatable)")
    args = parser.parse_args()
    cases = [parse_case(text) for text in (args.case or DEFAULT_CASES)]
    (python if args.python else browser)(cases)


if __name__ == "__main__":
    main()
