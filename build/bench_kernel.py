#!/usr/bin/env python3
"""Benchmark the scan backends in headless Chromium: the wasm kernel against the reference.

Usage: .venv/bin/python build/bench_kernel.py [--quick] [--sizes 1000,10000,...]
       [--dims 0,16,64] [--backends wasm,reference] [--budget SECONDS] [--json PATH]

It builds dist/ (build_site.py), serves it with build/serve.py and drives web/api.html
through Playwright. Two parts:

1. scan: the kernel's fused dot-product scan (best_match over n available columns of
   stride floats) against a plain memory-bandwidth pass (SIMD loads of the same bytes,
   XOR-folded, from a bench-only module assembled here) in the page, on a
   WebAssembly.Memory of its own. Reported as GB/s of field bytes; floor: the scan within
   3x of the pass's time.
2. engine: per backend, size and dim, an affinity engine in its own worker through the
   JavaScript API. ``allocate``: single allocations of new concepts (derived embeddings),
   one call at a time; ``batch``: one allocateBatch; ``fragmentation`` and ``optimize``.
   Times are the engine's own (performance.now inside the worker: the allocation-time
   window, the "Optimization completed in" log line) and, as ``api``, the page's wall time
   per call, which adds the worker round trip and the durable journal write of each
   mutation; ``fragmentation`` has no engine-side timer, so its engine time is the time per
   call of 50 pipelined calls minus that of 50 pipelined trivial queries (best of up to
   5 rounds). Floor: affinity allocate at
   100K columns, dim 16, <= 1 ms per concept (engine time).

The reference backend is pure Python: each of its measurements stops at a time budget,
and a size whose engine would take longer than the budget to create (estimated from the
size before) is skipped and reported as such. The machine is shared, so every timing is
the best (scan) or the mean (engine) of several runs; rerun for stable numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
DEFAULT_DIMS = (0, 16, 64)
DEFAULT_BACKENDS = ("wasm", "reference")
DEFAULT_JSON = ROOT / "bench-results" / "browser.json"
SCAN_FLOOR = 3.0  # dot-product scan time / bandwidth pass time
ALLOCATE_FLOOR_MS = 1.0  # affinity allocate at 100K columns, dim 16
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

# The bandwidth pass: reads [p, p + bytes) with four independent v128 loads per step and
# folds them with XOR, so nothing but the loads limits it. (Bench-only: not the kernel.)
BANDWIDTH_WAT = """
(module
  (import "env" "memory" (memory 0))
  (func (export "read") (param $p i32) (param $bytes i32) (result i32)
    (local $i i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (block $done
      (loop $step
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $bytes)))
        (local.set $a (v128.xor (local.get $a) (v128.load (i32.add (local.get $p) (local.get $i)))))
        (local.set $b (v128.xor (local.get $b) (v128.load offset=16 (i32.add (local.get $p) (local.get $i)))))
        (local.set $c (v128.xor (local.get $c) (v128.load offset=32 (i32.add (local.get $p) (local.get $i)))))
        (local.set $d (v128.xor (local.get $d) (v128.load offset=48 (i32.add (local.get $p) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $step)))
    (i32x4.extract_lane 0 (v128.xor (v128.xor (local.get $a) (local.get $b))
                                    (v128.xor (local.get $c) (local.get $d))))))
"""

# Part 1, in the page: {kernelUrl, bandwidth (bytes), cases: [{n, dim}], minMs} ->
# [{n, dim, bytes, scanMs, passMs}] (each the best of several timed loops of >= minMs)
SCAN_JS = """async ({kernelUrl, bandwidth, cases, minMs}) => {
  const kernelModule = await WebAssembly.compileStreaming(fetch(kernelUrl));
  const passModule = await WebAssembly.compile(new Uint8Array(bandwidth));
  const out = [];
  for (const {n, dim} of cases) {
    const stride = (dim + 3) & ~3, fieldBytes = n * stride * 4;
    const fields = 64, query = fields + fieldBytes, state = query + stride * 4 + 64;
    const score = state + n + 64, total = score + 64;
    const memory = new WebAssembly.Memory({initial: Math.ceil(total / 65536)});
    const env = {env: {memory}};
    const kernel = (await WebAssembly.instantiate(kernelModule, env)).exports;
    const pass = (await WebAssembly.instantiate(passModule, env)).exports;
    kernel.init_fields(fields, n, dim, stride, 12345, 678);  // seeded unit vectors
    kernel.init_fields(query, 1, dim, stride, 999, 1);
    // state bytes are 0 (available): every column is scored
    const time = (run) => {
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        let loops = 0;
        const start = performance.now();
        let elapsed = 0;
        do { run(); loops++; elapsed = performance.now() - start; } while (elapsed < minMs);
        best = Math.min(best, elapsed / loops);
      }
      return best;
    };
    let sink = 0;
    const scanMs = time(() => { sink ^= kernel.best_match(state, n, fields, stride, query, score); });
    const passMs = time(() => { sink ^= pass.read(fields, fieldBytes); });
    out.push({n, dim, bytes: fieldBytes, scanMs, passMs, sink});
  }
  return out;
}"""

# Part 2, in the page: one engine through the JavaScript API (see the module docstring).
ENGINE_JS = """async ({config, budgetMs, maxSingle, maxBatch, fragRepeats}) => {
  const api = await import('./cortexkg.js');
  const now = () => performance.now();
  let start = now();
  const kg = await api.CortexKG.create(config);
  const createMs = now() - start;
  const logs = [];
  kg.addEventListener('log', (event) => logs.push(event.detail.message));
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
  try {
    const rpc = [];
    for (let i = 0; i < 30; i++) { start = now(); await kg.getAllocatedCount(); rpc.push(now() - start); }
    const rpcMs = mean(rpc.slice(5));
    // single allocations of new concepts, one call at a time
    let next = 1, single = 0;
    start = now();
    while (single < maxSingle && (single < 3 || now() - start < budgetMs)) {
      await kg.allocateConcept(next++);
      single++;
    }
    const singleApiMs = (now() - start) / single;
    let times = Array.from(await kg.getAllocationTimes()).slice(-single);
    const singleMs = mean(times), singleMedianMs = median(times);
    // one batch of new concepts that all fit, sized to the budget from the single
    // allocations' time
    const free = await kg.getFreeColumnCount();
    const batch = Math.min(free, Math.max(2, Math.min(
      maxBatch, Math.floor(budgetMs / Math.max(singleMs, 1e-3)))));
    const ids = Array.from({length: batch}, (_, i) => next + i);
    next += batch;
    start = now();
    await kg.allocateBatch(ids, {columnar: true});
    const batchApiMs = (now() - start) / batch;
    times = Array.from(await kg.getAllocationTimes()).slice(-batch);
    const batchMs = mean(times);
    // fragmentation: release every third concept first, so there are holes
    await kg.deallocateBatch(Array.from({length: next - 1}, (_, i) => i + 1).filter((id) => id % 3 === 0));
    // pipelined, so the worker runs them back to back; the difference from as many
    // trivial queries is the fragmentation scan's own time (best of a few rounds)
    const pipelined = async (call) => {
      const t = now();
      await Promise.all(Array.from({length: fragRepeats}, call));
      return (now() - t) / fragRepeats;
    };
    let fragApiMs = Infinity, fragMs = Infinity;
    start = now();
    for (let round = 0; round < 5 && (round < 2 || now() - start < budgetMs); round++) {
      const scan = await pipelined(() => kg.getFragmentation());
      const trivial = await pipelined(() => kg.getAllocatedCount());
      fragApiMs = Math.min(fragApiMs, scan);
      fragMs = Math.min(fragMs, Math.max(0, scan - trivial));
    }
    logs.length = 0;
    start = now();
    const moved = await kg.optimizeAllocations();
    const optimizeApiMs = now() - start;
    const line = logs.find((m) => m.startsWith('Optimization completed in'));
    const optimizeMs = line ? parseFloat(line.match(/in ([0-9.]+)ms/)[1]) : null;
    const stats = await kg.getStats();
    return {createMs, rpcMs, single, singleMs, singleMedianMs, singleApiMs, batch, batchMs, batchApiMs,
            fragApiMs, fragMs, optimizeMs, optimizeApiMs,
            moved, allocated: stats.allocated, backend: stats.backend};
  } finally {
    kg.close();
  }
}"""


def load_build_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "build" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def chromium_executable() -> str | None:
    """$CORTEXKG_CHROMIUM, else Debian's chromium on PATH; None means Playwright's own."""
    return os.environ.get("CORTEXKG_CHROMIUM") or shutil.which("chromium")


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build" / "serve.py"), "--port", "0", "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r" at (http://127\.0\.0\.1:\d+/)$", process.stdout.readline().rstrip())
    if match is None:
        process.terminate()
        raise SystemExit("bench_kernel: serve.py did not start")
    return process, match[1]


def run_scan(page, url: str, sizes, dims, min_ms: float) -> list[dict]:
    import wasmtime

    cases = [{"n": n, "dim": dim} for dim in dims if dim for n in sizes]
    rows = page.evaluate(SCAN_JS, {"kernelUrl": url + "kernel/scans.wasm",
                                   "bandwidth": list(wasmtime.wat2wasm(BANDWIDTH_WAT)),
                                   "cases": cases, "minMs": min_ms})
    for row in rows:
        row.pop("sink")
        row["ratio"] = row["scanMs"] / row["passMs"]
        row["scanGBs"] = row["bytes"] / row["scanMs"] / 1e6
        row["passGBs"] = row["bytes"] / row["passMs"] / 1e6
    return rows


def run_engines(page, sizes, dims, backends, budget_s: float, quick: bool) -> list[dict]:
    rows = []
    stamp = int(time.time())
    for backend in backends:
        for dim in dims:
            previous = None  # (size, create seconds) of the last size measured
            for n in sizes:
                row = {"backend": backend, "columns": n, "dim": dim}
                if backend == "reference" and previous is not None:
                    estimate = previous[1] * n / previous[0]
                    if estimate > budget_s:
                        row["skipped"] = (f"creating it would take ~{estimate:.0f} s "
                                          f"(budget {budget_s:.0f} s)")
                        rows.append(row)
                        print(f"  {backend:9} {n:>9} dim {dim:>2}: skipped, {row['skipped']}",
                              flush=True)
                        continue
                config = {"name": f"bench-{stamp}-{backend}-{n}-{dim}", "columns": n,
                          "strategy": "affinity", "dim": dim, "backend": backend}
                wasm_s = 0.5 if quick else 2.0
                budget_ms = 1000 * (budget_s / 4 if backend == "reference" else wasm_s)
                result = page.evaluate(ENGINE_JS, {
                    "config": config, "budgetMs": budget_ms, "maxSingle": 100 if quick else 400,
                    "maxBatch": 1000 if quick else 5000, "fragRepeats": 50})
                assert result["backend"] == backend, result
                row.update(result)
                rows.append(row)
                # the worker boot (~3 s) is not part of creating the engine
                previous = (n, max(0.0, result["createMs"] / 1000 - 3.0))
                print(f"  {backend:9} {n:>9} dim {dim:>2}: allocate"
                      f" {row['singleMs'] * 1000:9.1f} us,"
                      f" batch {row['batchMs'] * 1000:9.1f} us/item, fragmentation"
                      f" {row['fragMs'] * 1000:6.0f} us, optimize {row['optimizeMs']:9.2f} ms",
                      flush=True)
    return rows


def format_tables(scan_rows: list[dict], engine_rows: list[dict]) -> str:
    lines = ["Kernel dot-product scan vs memory-bandwidth pass (same bytes, Chromium)", "",
             f"{'columns':>9} {'dim':>4} {'MB':>8} {'scan ms':>10} {'pass ms':>10} "
             f"{'scan GB/s':>10} {'pass GB/s':>10} {'ratio':>6}"]
    for r in scan_rows:
        lines.append(f"{r['n']:>9} {r['dim']:>4} {r['bytes'] / 1e6:>8.2f} {r['scanMs']:>10.4f} "
                     f"{r['passMs']:>10.4f} {r['scanGBs']:>10.2f} {r['passGBs']:>10.2f} "
                     f"{r['ratio']:>6.2f}")
    lines += ["", "Affinity engine through the JavaScript API (engine-side time; api = page wall "
              "time per call)", "",
              f"{'backend':>9} {'columns':>9} {'dim':>4} {'alloc us':>10} {'p50 us':>9} "
              f"{'(api us)':>10} {'batch us/it':>11} {'(api)':>9} {'frag us':>8} "
              f"{'optim ms':>10} {'moved':>7} {'create s':>9}"]
    for r in engine_rows:
        head = f"{r['backend']:>9} {r['columns']:>9} {r['dim']:>4}"
        if "skipped" in r:
            lines.append(f"{head}   skipped: {r['skipped']}")
            continue
        optimize = "-" if r["optimizeMs"] is None else f"{r['optimizeMs']:.2f}"
        lines.append(
            f"{head} {r['singleMs'] * 1000:>10.1f} {r['singleMedianMs'] * 1000:>9.1f} "
            f"{r['singleApiMs'] * 1000:>10.1f} "
            f"{r['batchMs'] * 1000:>11.1f} {r['batchApiMs'] * 1000:>9.1f} "
            f"{r['fragMs'] * 1000:>8.0f} "
            f"{optimize:>10} {r['moved']:>7} {r['createMs'] / 1000:>9.1f}")
    return "\n".join(lines)


def check_floors(scan_rows: list[dict], engine_rows: list[dict]) -> list[str]:
    failures = [f"dot-product scan at {r['n']} columns, dim {r['dim']}: {r['ratio']:.2f}x "
                f"the bandwidth pass (floor {SCAN_FLOOR}x)"
                for r in scan_rows if r["ratio"] > SCAN_FLOOR]
    for r in engine_rows:
        if (r["backend"], r["columns"], r["dim"]) == ("wasm", 100_000, 16) and "skipped" not in r:
            if r["singleMs"] > ALLOCATE_FLOOR_MS:
                failures.append(f"affinity allocate at 100K columns, dim 16: "
                                f"{r['singleMs']:.3f} ms (floor {ALLOCATE_FLOOR_MS} ms)")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short budgets")
    parser.add_argument("--sizes", help="comma-separated column counts")
    parser.add_argument("--dims", help="comma-separated dims")
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS))
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per reference measurement (default 60)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (
        (1_000, 10_000) if args.quick else DEFAULT_SIZES)
    dims = tuple(int(d) for d in args.dims.split(",")) if args.dims else DEFAULT_DIMS
    backends = tuple(args.backends.split(","))

    from playwright.sync_api import sync_playwright

    load_build_script("build_site").build_site()
    server, url = serve(ROOT / "dist")
    try:
        with sync_playwright() as playwright:
            as_root = hasattr(os, "geteuid") and os.geteuid() == 0
            browser = playwright.chromium.launch(
                executable_path=chromium_executable(),
                args=(["--no-sandbox"] if as_root else []) + CHROMIUM_ARGS)
            page = browser.new_context().new_page()
            page.set_default_timeout(0)
            page.goto(url + "api.html")
            print("bench_kernel: scan vs bandwidth pass", flush=True)
            scan_rows = run_scan(page, url, sizes, dims, 20 if args.quick else 100)
            print("bench_kernel: engines", flush=True)
            engine_rows = run_engines(page, sizes, dims, backends, args.budget, args.quick)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print()
    print(format_tables(scan_rows, engine_rows))
    failures = check_floors(scan_rows, engine_rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"scan": scan_rows, "engines": engine_rows,
                                     "floor_failures": failures}, indent=2) + "\n")
    print(f"\nbench_kernel: results in {args.json}")
    for failure in failures:
        print(f"bench_kernel: FLOOR MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
