#!/usr/bin/env python3
"""Benchmark the app in headless Chromium: page ready, API latency, durability, snapshots.

Usage: .venv/bin/python build/bench_browser.py [--quick] [--json PATH]

It builds dist/ (build_site.py), serves it with build/serve.py and measures, through
Playwright and the real worker:

- ready: navigation to dataset.ready of the dashboard, cold (new profile) and warm (reload);
- api: allocateConcept through the JavaScript API, sequential (await each) and pipelined
  (all issued at once), p50/p99 per call; each call is acknowledged only after its journal
  record is committed; getAllocatedCount (no commit) for comparison;
- durability: raw IndexedDB puts of one small record per transaction, "strict" against
  "relaxed" durability, and many records in one transaction (what group commit does);
- snapshot: an optimize moving half the columns plus its compaction (Python snapshot + one
  IndexedDB transaction), and the load (IndexedDB read + restore, timed in the worker) at
  10K, 100K and 1M columns;
- recovery: reopening an engine after N single allocations (the journal is compacted
  every 10,000 records, so at most that many are replayed after the last snapshot).

Prints a table and writes JSON (default bench-results/browser-app.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import chromium_args, chromium_executable, load_build_script, serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

API = "async () => { window.api = await import('./cortexkg.js'); }"

LATENCY_JS = """async ([count, name]) => {
    const kg = await api.CortexKG.create({name, columns: 4 * count});
    const pct = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
    const timed = async (n, call) => { const out = []; for (let i = 0; i < n; i++) { const t = performance.now(); await call(i); out.push(performance.now() - t); } return out; };
    const seq = await timed(count, (i) => kg.allocateConcept(i));
    const query = await timed(count, () => kg.getAllocatedCount());
    const t0 = performance.now();
    const starts = [], ends = [];
    await Promise.all(Array.from({length: count}, (_, i) => { starts.push(performance.now());
        return kg.allocateConcept(count + i).then(() => { ends[i] = performance.now(); }); }));
    const pipelinedTotal = performance.now() - t0;
    const pipelined = ends.map((e, i) => e - starts[i]);
    const engine = await kg.getAverageTime();
    kg.close();
    return {sequential: [pct(seq, 0.5), pct(seq, 0.99)], query: [pct(query, 0.5), pct(query, 0.99)],
            pipelined: [pct(pipelined, 0.5), pct(pipelined, 0.99)],
            pipelinedPerCall: pipelinedTotal / count, engineAllocateMs: engine};
}"""

DURABILITY_JS = """async (count) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('bench-durability', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('s'); r.onsuccess = () => ok(r.result); });
    const put = (durability, from, n) => new Promise((ok, fail) => {
        const tx = db.transaction('s', 'readwrite', {durability});
        for (let i = 0; i < n; i++) tx.objectStore('s').put({seq: from + i, method: 'allocate_concept', args: [from + i], readings: [1, 2, 3]}, from + i);
        tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
    const out = {};
    for (const durability of ['relaxed', 'strict']) {
        const t = performance.now();
        for (let i = 0; i < count; i++) await put(durability, i, 1);
        out[durability] = (performance.now() - t) / count;
    }
    const t = performance.now(); await put('strict', 0, count);
    out.grouped = (performance.now() - t) / count;
    db.close();
    return out;
}"""

SNAPSHOT_JS = """async ([name, columns]) => {
    const kg = await api.CortexKG.create({name, columns});
    await kg.allocateBatch(Uint32Array.from({length: columns}, (_, i) => i), {columnar: true});
    await kg.deallocateBatch(Uint32Array.from({length: columns / 2}, (_, i) => 2 * i), {columnar: true});
    const t = performance.now();
    await kg.optimizeAllocations();           // moves columns/2 concepts, then compacts
    const optimizeAndSave = performance.now() - t;
    kg.close();
    const again = await api.CortexKG.create({name, columns});
    const restored = again.storage.restored;
    again.close();
    return {optimizeAndSave, load: restored.ms, restored};
}"""

RECOVERY_JS = """async ([name, count]) => {
    const kg = await api.CortexKG.create({name, columns: count});
    // pipelined in chunks: one journal record each, group-committed
    for (let i = 0; i < count; i += 5000) {
        await Promise.all(Array.from({length: Math.min(5000, count - i)}, (_, j) => kg.allocateConcept(i + j)));
    }
    kg.close();
    const again = await api.CortexKG.create({name, columns: count});
    const restored = again.storage.restored;
    again.close();
    return {recover: restored.ms, restored};
}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "browser-app.json")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 2000
    sizes = (10_000,) if args.quick else (10_000, 100_000, 1_000_000)
    journal = 2_000 if args.quick else 100_000

    load_build_script("build_site").build_site()
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version()}}
    log = ROOT / "bench-results" / "serve.log"
    log.parent.mkdir(exist_ok=True)
    with serve(ROOT / "dist", log) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(),
                                             args=chromium_args())
        results["machine"]["browser"] = browser.version
        context = browser.new_context()
        page = context.new_page()
        start = time.perf_counter()
        page.goto(server.url)
        page.wait_for_selector("html[data-ready='true']", timeout=120_000)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        page.reload()
        page.wait_for_selector("html[data-ready='true']", timeout=120_000)
        results["ready_s"] = {"cold": cold, "warm": time.perf_counter() - start}
        results["machine"]["crossOriginIsolated"] = page.evaluate("crossOriginIsolated")
        page.goto(server.url + "api.html")
        page.evaluate(API)
        results["api"] = page.evaluate(LATENCY_JS, [calls, "bench-latency"])
        results["durability_ms_per_record"] = page.evaluate(DURABILITY_JS, calls)
        results["snapshot_ms"] = {
            str(n): page.evaluate(SNAPSHOT_JS, [f"bench-snapshot-{n}", n]) for n in sizes}
        results["recovery_ms"] = page.evaluate(RECOVERY_JS, ["bench-recovery", journal])
        browser.close()

    print_table(results, calls, journal)
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.json}")
    return 0


def print_table(results: dict, calls: int, journal: int) -> None:
    ready, api = results["ready_s"], results["api"]
    print(f"machine: {results['machine']}")
    print(f"page ready: cold {ready['cold']:.2f} s, warm reload {ready['warm']:.2f} s")
    print(f"\nAPI, {calls} calls                    p50 ms    p99 ms")
    for label, key in (("allocateConcept sequential", "sequential"),
                       ("allocateConcept pipelined", "pipelined"), ("getAllocatedCount", "query")):
        p50, p99 = api[key]
        print(f"  {label:32} {p50:8.3f}  {p99:8.3f}")
    print(f"  pipelined throughput: {api['pipelinedPerCall'] * 1000:.1f} µs per acknowledged call; "
          f"engine time per allocation {api['engineAllocateMs'] * 1000:.1f} µs")
    d = results["durability_ms_per_record"]
    print(f"\nIndexedDB, one record per transaction: relaxed {d['relaxed']:.3f} ms, "
          f"strict {d['strict']:.3f} ms; {calls} records in one strict transaction: "
          f"{d['grouped'] * 1000:.1f} µs per record")
    print("\ncolumns     optimize + snapshot save ms   load ms (read + restore in the worker)")
    for n, r in results["snapshot_ms"].items():
        print(f"  {int(n):>9,}   {r['optimizeAndSave']:12.1f}              {r['load']:10.1f}")
    r = results["recovery_ms"]
    print(f"\nrecovery after {journal:,} journaled allocations (compacted as they came): "
          f"{r['recover']:.0f} ms to read and replay; restored {r['restored']}")


if __name__ == "__main__":
    sys.exit(main())
