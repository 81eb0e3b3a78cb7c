"""The call path before and after a change, side by side in one headless Chromium run.

Usage: .venv/bin/python build/compare_call_path.py [BEFORE_REV ...] [--rounds N] [--columns N ...]
Builds dist/ of each BEFORE_REV (default main; a git archive in a temporary directory) and
of this working tree, serves them all (cross-origin isolated, each on its own origin) and
times the same calls on each, alternating rounds, in both durability modes, at 100K and 1M
columns (or --columns). Prints the best round per figure, and ratios to the first
revision (with several revisions, the same run attributes a change to a commit).
"""
import argparse, contextlib, os, subprocess, sys, tempfile
from pathlib import Path
from playwright.sync_api import sync_playwright
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/browser"))
import harness

MEASURE = r"""async ([columns, round, durability]) => {
  const { CortexKG } = await import('./cortexkg.js');
  const now = () => performance.now();
  const kg = await CortexKG.create({name: `cmp-${columns}-${round}-${durability}`, columns, durability});
  const out = {};
  const quantile = (a, q) => a.sort((x, y) => x - y)[Math.floor(q * (a.length - 1))] * 1000;
  let next = 0;
  for (let i = 0; i < 200; i++) await kg.allocateConcept(next++);  // warm-up
  const waits = [];
  for (let i = 0; i < 1000; i++) { const t = now(); await kg.allocateConcept(next++); waits.push(now() - t); }
  out['awaited allocate p50'] = quantile(waits, 0.5); out['awaited allocate p99'] = quantile(waits, 0.99);
  let t = now();
  await Promise.all(Array.from({length: 5000}, () => kg.allocateConcept(next++)));
  out['pipelined allocate (5,000)'] = (now() - t) * 1000 / 5000;
  const reads = [];
  for (let i = 0; i < 300; i++) { const t = now(); await kg.getFreeColumnCount(); reads.push(now() - t); }
  out['awaited getter p50'] = quantile(reads, 0.5);
  if ('stats' in kg) {
    t = now(); let sum = 0;
    for (let i = 0; i < 100000; i++) sum += kg.stats.allocated;
    out['kg.stats'] = (now() - t) * 1000 / 100000;
  }
  const ids = Uint32Array.from({length: Math.min(100000, columns - next - 10)}, (_, i) => 10_000_000 + i);
  t = now(); await kg.allocateBatch(ids, {columnar: true});
  out['batch per item'] = (now() - t) * 1000 / ids.length;
  await kg.reset(); kg.close();
  return out;
}"""


# A child Python's program: build_site(root, dist, cache) of the build/ given first.
BUILD = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import build_site; "
         "build_site.build_site(root=Path(sys.argv[2]), dist=Path(sys.argv[3]), cache=Path(sys.argv[4]))")


def build(root: Path) -> Path:
    """dist/ of the tree at ``root``, built by that tree's own build_site.py (what a build
    writes changes between revisions: tables.js, sw.js), in a Python of its own: the script
    imports its parts (build/site_*.py) by name, and one process would keep the first
    tree's parts for the second."""
    build_dir, dist = root / "build", root / "dist"
    subprocess.run([sys.executable, "-c", BUILD, str(build_dir), str(root), str(dist), str(ROOT / ".cache")],
                   check=True)
    return dist


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", nargs="*", default=["main"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--columns", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    sites = {}
    for index, rev in enumerate(args.before):
        tree = scratch / f"rev{index}"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        os.symlink(ROOT / "node_modules", tree / "node_modules")
        sites[rev] = build(tree)
    sites["tree"] = build(ROOT)
    labels = list(sites)
    best = {}
    with contextlib.ExitStack() as stack, sync_playwright() as p:
        servers = {label: stack.enter_context(harness.serve(site, scratch / f"{index}.log"))
                   for index, (label, site) in enumerate(sites.items())}
        browser = p.chromium.launch(executable_path=harness.chromium_executable(), args=harness.chromium_args())
        pages = {}
        for label, server in servers.items():
            pages[label] = browser.new_page()
            pages[label].set_default_timeout(600_000)
            pages[label].goto(server.url + "api.html")
        for round in range(args.rounds):
            for columns in args.columns:
                for durability in ("strict", "relaxed"):
                    for label in labels:
                        for figure, value in pages[label].evaluate(MEASURE, [columns, round, durability]).items():
                            key = (f"{durability}: {figure}", columns, label)
                            best[key] = min(best.get(key, float("inf")), value)
        browser.close()
    print(f"best of {args.rounds} rounds, µs per call; tree = working tree; ratios to {labels[0]}")
    print(f"| figure | columns | {' | '.join(labels)} | {' | '.join(f'{l} / {labels[0]}' for l in labels[1:])} |")
    print("|---|---|" + "---|" * (2 * len(labels) - 1))
    for figure, columns in dict.fromkeys((f, c) for f, c, _ in best):
        values = [best.get((figure, columns, label)) for label in labels]
        cells = ["—" if v is None else f"{v:,.2f}" for v in values]
        ratios = [f"{v / values[0]:.2f}" if v is not None and values[0] else "" for v in values[1:]]
        print(f"| {figure} | {columns:,} | {' | '.join(cells)} | {' | '.join(ratios)} |")

if __name__ == "__main__":
    main()
