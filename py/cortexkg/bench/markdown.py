"""``python -m cortexkg.bench.markdown``: BENCHMARKS.md and its plots from results files.

Reads JSON-lines results files (see :mod:`cortexkg.bench.report`): the CPython
benchmark's and the browser's. Engine workloads get a table (ours against the baseline,
with the speedup) and a log-log plot each; any other workload (the browser's page-level
measurements) gets a table of its fields. The goals are judged by
:mod:`cortexkg.bench.goals`; a notes file, when present, is included verbatim under
"Profiles of the goals" (of those missed, and of those met narrowly or after a fix).
"""

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from cortexkg.bench.goals import GOAL_ENGINE, GOAL_RUNTIME, evaluate_goals
from cortexkg.bench.plots import plot_workload
from cortexkg.bench.report import (
    LATENCY_FIELDS, check_floors, duration, number, read_jsonl, speedup)
from cortexkg.bench.runner import (
    AFFINITY_OPS, BASELINE, MEMORY_FILL_MAX, MIXED_ALLOCATE_SHARE, REPEATS, WORKLOADS)

DEFAULT_INPUTS = (Path("bench-results/cpython.jsonl"), Path("bench-results/browser.jsonl"))
DEFAULT_OUT = Path("BENCHMARKS.md")
DEFAULT_PLOTS = Path("docs/bench")
DEFAULT_NOTES = Path("docs/bench/notes.md")
TIMED = [w for w in WORKLOADS if w != "memory"]

METHOD = f"""\
Every engine at every size N runs these workloads:

- **allocate** … **restore**, a chain in which each step works on the state the previous
  one left: allocate ids 1..N one by one (first_fit) into N columns; **deallocate** the odd
  ids; **optimize** once (it moves the N/2 remaining concepts); **batch_allocate** N/2 new
  ids in one call (µs/op is per item); **snapshot**; **restore** it into a new engine.
- **mixed**: N single operations on a new first_fit engine of N columns, a seeded stream of
  {MIXED_ALLOCATE_SHARE:.0%} allocations of new ids and {1 - MIXED_ALLOCATE_SHARE:.0%}
  deallocations of a random allocated id, each timed on its own: mean, p50, p99, p99.9
  (nearest rank) and maximum.
- **affinity16**, **affinity64**: min(N/2, {AFFINITY_OPS:,}) single allocations, each with
  a seeded random embedding of 16 or 64 floats, into an affinity engine of N columns of
  which a random half is allocated (built by relabelling a first_fit engine's snapshot,
  since filling it through the affinity strategy costs a full scan per concept).
- **memory**: bytes per column traced by tracemalloc right after construction, and the
  peak while filling every column one by one (up to N = {MEMORY_FILL_MAX:,}).

Our engines (numpy, reference, wasm: the engine with that scan backend) report the fastest
of {REPEATS} runs. The **baseline** is a line-by-line Python port of the Rust reference
design (`cortexkg/bench/baseline.py`), run once per size: its chain and its mixed stream
each stop at the time budget (`budget_s` under Machine) and report how far they got
("over budget: k of N done"; its µs/op is then the mean over the operations done, and a
speedup against it is marked `~`). Every engine's affinity loop stops at the same budget,
and repeats only while it finishes within it. Times come from `time.perf_counter` (in
Chromium it resolves to 5 µs when the page is cross-origin isolated, 100 µs otherwise). A
speedup is the baseline's µs/op divided by the engine's, in the same runtime. In the
plots, the baseline's lines are dashed and a hollow marker is a run that stopped at its
budget."""


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value, 0 if abs(value) >= 100 else 2 if abs(value) >= 0.01 else 6)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(", ", ": "))
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _sort_key(r: dict) -> tuple:
    return (r.get("runtime") or "", r.get("size") or 0, r.get("engine") == BASELINE)


def _machines(sources: list[tuple[Path, list[dict]]]) -> str:
    names = [f"`{path.as_posix()}`" for path, machines in sources for _ in machines]
    lines = [machine for _, machines in sources for machine in machines]
    keys = list(dict.fromkeys(key for machine in lines for key in machine))
    return _table(["", *names], [[key, *(m.get(key) for m in lines)] for key in keys])


def _goals(records: list[dict]) -> str:
    rows = [[g["goal"], g["measured"],
             {True: "met", False: "**MISSED**", None: "not measured"}[g["met"]]]
            for g in evaluate_goals(records)]
    return _table(["goal", "measured", "verdict"], rows)


def _floors(records: list[dict]) -> str:
    floors = check_floors([r for r in records if r.get("runtime") == "cpython"])
    if not floors:
        return "Not checked: the CPython results have no numpy run at N = 1,000,000."
    rows = [[f["workload"], f"{f['comparison']} {number(f['limit'], 3)} {f['metric']}",
             number(f["measured"], 0 if f["metric"] == "ops_per_s" else 3),
             "met" if f["met"] else "**MISSED**"] for f in floors]
    return _table(["workload", "floor", "measured", "verdict"], rows)


def _workload_table(workload: str, records: list[dict]) -> str:
    header = ["runtime", "N", "engine", "total", "µs/op", "ops/s", "speedup"]
    latency = workload == "mixed"
    if latency:
        header += ["p50 µs", "p99 µs", "p99.9 µs", "max µs"]
    rows = []
    for r in sorted(records, key=_sort_key):
        row = [r["runtime"], f"{r['size']:,}", r["engine"], duration(r["seconds"]),
               r["us_per_op"], r["ops_per_s"], speedup(r)]
        if latency:
            row += [r.get(key) for key in LATENCY_FIELDS]
        rows.append([*row, r["note"]])
    return _table([*header, "note"], rows)


def _memory_table(records: list[dict]) -> str:
    rows = [[r["runtime"], f"{r['size']:,}", r["engine"], r.get("state_bytes_per_column"),
             r["bytes_per_column"],
             None if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**20:,.1f} MiB"]
            for r in sorted(records, key=_sort_key)]
    return _table(["runtime", "N", "engine", "column state B/column", "all B/column", "peak"],
                  rows)


def _generic_table(records: list[dict]) -> str:
    keys = [key for key in dict.fromkeys(k for r in records for k in r)
            if key != "workload" and any(r.get(key) not in (None, "") for r in records)]
    return _table(keys, [[r.get(key) for key in keys] for r in sorted(records, key=_sort_key)])


SIDE_BY_SIDE = "side_by_side"
SIDE_ENGINES = {"reference": "reference design, JavaScript port", "sync": "ours: synchronous engine",
                "strict": "ours: async API, strict", "relaxed": "ours: async API, relaxed"}
# measure, the records' field, the reference's field it is divided by (None: no ratio)
SIDE_MEASURES = (
    ("allocate one at a time, mean µs", "us_per_op", "us_per_op"),
    ("allocate one at a time, p50 µs", "p50_us", "p50_us"),
    ("allocate one at a time, p99 µs", "p99_us", "p99_us"),
    ("allocate pipelined, µs per call", "pipelined_us_per_call", "us_per_op"),
    ("batch allocate, µs per item", "batch_us_per_item", "batch_us_per_item"),
    ("the four stats getters, µs", "getters_us", "getters_us"),
    ("`kg.stats` read, µs", "stats_us", "getters_us"),
)
SIDE_METHOD = """\
In one Chromium page (`web/bench/side.js`), at each size N every implementation gets a new
engine of N columns and the same calls: min(2,000, N/4) allocations of new ids called (or
awaited) one at a time, each timed alone (`performance.now`, 5 µs resolution: the p50
and p99 of a few-µs call are quantized, the mean is not); then min(5,000, N/2) pipelined
(issued together, µs per call = the whole span / calls; async API only); then one batch
of min(100,000, N/4) new ids (ours `{columnar: true}`; the reference in calls of 1,000
ids); then 200 reads of the four stats getters (`getFreeColumnCount`,
`getAllocatedCount`, `getAverageTime`, `getAllocationEfficiency`; awaited one after
another through the async API); then `kg.stats` read 10,000 times where the build has it.
Each implementation's calls are warmed up first. **reference**: the reference design
ported line by line (`web/bench/reference.js`, its O(n) `retain` per allocation and the
rest kept on purpose), stopped at its time budget per measurement (then "over budget" in
the note). **sync**: `web/engine.js` in the page's thread. **strict**, **relaxed**: the
async API (`web/cortexkg.js`) in each durability mode; a mode `create()` refuses is shown
as unavailable. Each cell is µs, then in brackets the ratio ours / reference (below 1:
ours is faster); pipelined calls are divided by the reference's single call, `kg.stats`
by its four getters."""


def _side_by_side(records: list[dict]) -> str:
    """The side-by-side table: one row per measure and implementation, one column per N."""
    sizes = sorted({r["size"] for r in records})
    at = {(r["engine"], r["size"]): r for r in records}
    rows, notes = [], []
    for label, field, against in SIDE_MEASURES:
        for engine, name in SIDE_ENGINES.items():
            cells = []
            for n in sizes:
                r, ref = at.get((engine, n)), at.get(("reference", n))
                if r is None:
                    cells.append("-")
                elif not r.get("available", True):
                    cells.append("unavailable")
                elif r.get(field) is None:
                    cells.append("—")
                else:
                    value = r[field]
                    cell = number(value, 0 if value >= 100 else 1 if value >= 10 else 2)
                    base = None if ref is None or engine == "reference" else ref.get(against)
                    if base:
                        ratio = value / base
                        cell += f" ({number(ratio, 0 if ratio >= 100 else 2 if ratio >= 0.01 else 4)}×)"
                    cells.append(cell)
            if any(c not in ("-", "—") for c in cells):
                rows.append([label, name, *cells])
    for r in sorted(records, key=lambda r: (r["size"], list(SIDE_ENGINES).index(r["engine"]))):
        notes.append(f"- {r['engine']}, N = {r['size']:,}: {r['note']}")
    header = ["measure", "implementation", *(f"N = {n:,}" for n in sizes)]
    return "\n\n".join([SIDE_METHOD, _table(header, rows), "\n".join(notes)])


def render(sources: list[tuple[Path, list[dict]]], records: list[dict], plots: dict[str, str],
           notes: str | None, command: str) -> str:
    """The whole of BENCHMARKS.md. ``plots`` maps a workload to its image's relative path."""
    commands = [m["command"] for _, machines in sources for m in machines if "command" in m]
    parts = [
        "# Benchmarks",
        f"Generated on {time.strftime('%Y-%m-%d', time.gmtime())} from "
        + ", ".join(f"`{path.as_posix()}`" for path, _ in sources)
        + ". Do not edit by hand: `npm run bench` measures again and regenerates this file"
        " and its plots (from the repository root, about 25 minutes on the machine below;"
        " `npm run bench -- --quick` takes about a minute and writes to `bench-results/`)."
        " It runs:",
        "```sh\n" + "\n".join([*commands, command]) + "\n```",
        "## Machine",
        _machines(sources),
        "## Method",
        METHOD,
        "## Goals",
        f"Judged from the engine benchmark run in Chromium (runtime `{GOAL_RUNTIME}`, engine"
        f" `{GOAL_ENGINE}`) and the browser's page-level records.",
        _goals(records),
        "## Profiles of the goals",
        notes.strip() if notes else "No notes yet (`docs/bench/notes.md`).",
        "## Floors of the CPython engine (numpy, N = 1M)",
        _floors(records),
        "## Engine workloads",
    ]
    for workload in TIMED:
        selected = [r for r in records if r["workload"] == workload]
        if selected:
            parts.append(f"### {workload}")
            if workload in plots:
                parts.append(f"![{workload}: µs per operation against N]({plots[workload]})")
            parts.append(_workload_table(workload, selected))
    memory = [r for r in records if r["workload"] == "memory"]
    if memory:
        parts += ["### memory", _memory_table(memory)]
    side = [r for r in records if r["workload"] == SIDE_BY_SIDE]
    if side:
        parts += ["## Side by side: the reference design against ours (Chromium)",
                  _side_by_side(side)]
    others = list(dict.fromkeys(r["workload"] for r in records
                                if r["workload"] not in (*WORKLOADS, SIDE_BY_SIDE)))
    if others:
        parts.append("## Browser measurements")
        for workload in others:
            parts += [f"### {workload}",
                      _generic_table([r for r in records if r["workload"] == workload])]
    return "\n\n".join(parts) + "\n"


def generate(inputs: list[Path], out: Path, plots_dir: Path, notes_path: Path | None,
             command: str) -> None:
    """Read ``inputs``, write one plot per engine workload under ``plots_dir``, then ``out``."""
    sources, records = [], []
    for path in inputs:
        machines, file_records = read_jsonl(path)
        sources.append((path, machines))
        records += file_records
    plots = {}
    for workload in TIMED:
        selected = [r for r in records if r["workload"] == workload]
        if any(r["us_per_op"] is not None for r in selected):
            path = plots_dir / f"{workload}.png"
            plot_workload(workload, selected, path)
            plots[workload] = Path(os.path.relpath(path, out.parent)).as_posix()
    notes = notes_path.read_text() if notes_path and notes_path.exists() else None
    out.write_text(render(sources, records, plots, notes, command))


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m cortexkg.bench.markdown``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m cortexkg.bench.markdown",
        description="Write BENCHMARKS.md and its plots from benchmark results (JSON lines).")
    parser.add_argument(
        "inputs", nargs="*", type=Path,
        help="results files (default: those of "
        + ", ".join(p.as_posix() for p in DEFAULT_INPUTS) + " that exist)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"the Markdown file (default: {DEFAULT_OUT})")
    parser.add_argument("--plots", type=Path, default=DEFAULT_PLOTS,
                        help=f"directory of the PNG plots (default: {DEFAULT_PLOTS})")
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES,
                        help="included verbatim under 'Profiles of the goals' when it exists"
                        f" (default: {DEFAULT_NOTES})")
    args = parser.parse_args(argv)
    inputs = args.inputs or [path for path in DEFAULT_INPUTS if path.exists()]
    if not inputs:
        parser.error("no results files: run python -m cortexkg.bench first")
    command = shlex.join(["python", "-m", "cortexkg.bench.markdown", *argv])
    generate(inputs, args.out, args.plots, args.notes, command)
    print(f"wrote {args.out} and {len(list(args.plots.glob('*.png')))} plots in {args.plots}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
