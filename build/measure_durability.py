"""Awaited allocateConcept one call at a time, strict against relaxed durability (issue 12).

Usage: [NOBUILD=1] .venv/bin/python build/measure_durability.py [--columns 100000] [--calls 4000]
One headless Chromium page, cross-origin isolated; one engine per mode; the modes take
turns in blocks of 250 calls (after 250 warm-up calls each), so that a loaded machine
slows both alike. A third row, awaited getFreeColumnCount() on the relaxed engine, is the
floor: a round trip to the worker and into Python that writes nothing. Prints p50, p90,
p99 and calls/s per row.
"""
import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/browser"))
import harness  # noqa: E402

SCRIPT = """async ([columns, calls]) => {
  const api = await import('./cortexkg.js');
  const engines = {};
  for (const durability of ['strict', 'relaxed']) {
    engines[durability] = await api.CortexKG.create({name: 'measure-' + durability, columns, durability});
    await engines[durability].reset();
  }
  const times = {strict: [], relaxed: [], query: []}, spent = {strict: 0, relaxed: 0, query: 0};
  let next = 0;
  const block = async (durability, n, keep) => {
    const kg = engines[durability === 'query' ? 'relaxed' : durability], started = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      if (durability === 'query') await kg.getFreeColumnCount();
      else await kg.allocateConcept(next++);
      if (keep) times[durability].push(performance.now() - t);
    }
    if (keep) spent[durability] += performance.now() - started;
  };
  const rows = ['strict', 'relaxed', 'query'];
  for (const durability of rows) await block(durability, 250, false);
  for (let done = 0; done < calls; done += 250) for (const durability of rows) await block(durability, 250, true);
  const out = {isolated: crossOriginIsolated};
  for (const [durability, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    const at = (q) => list[Math.min(list.length - 1, Math.floor(q * list.length))] * 1000;
    out[durability] = {p50: at(0.5), p90: at(0.9), p99: at(0.99), perSecond: list.length / spent[durability] * 1000};
  }
  for (const kg of Object.values(engines)) {
    await kg.reset();
    await kg.close();
  }
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()
    if os.environ.get("NOBUILD") is None:
        harness.load_build_script("build_site").build_site()
    with harness.serve(ROOT / "dist", Path("/tmp/measure_durability.log")) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=harness.chromium_executable(), args=harness.chromium_args())
        page = browser.new_page()
        page.set_default_timeout(600_000)
        page.goto(server.url + "api.html")
        out = page.evaluate(SCRIPT, [args.columns, args.calls])
        browser.close()
    print(f"{args.columns:,} columns, {args.calls} awaited calls per mode, crossOriginIsolated={out['isolated']}")
    print("| awaited one at a time | p50 | p90 | p99 | calls/s |\n|---|---|---|---|---|")
    labels = {"strict": "allocateConcept, strict", "relaxed": "allocateConcept, relaxed",
              "query": "getFreeColumnCount (floor)"}
    for mode, label in labels.items():
        r = out[mode]
        print(f"| {label} | {r['p50']:.0f} µs | {r['p90']:.0f} µs | {r['p99']:.0f} µs | {r['perSecond']:,.0f} |")


if __name__ == "__main__":
    main()
