"""build/bench_browser.py --smoke runs end to end and writes well-formed JSON lines and
its table.

The smoke plan runs every measurement once at tiny sizes, so the harness cannot rot
without this failing; its numbers mean nothing. It runs as its own process (it starts its
own server and Chromium), on a site built apart from dist/. No timing is judged here: only
that every measurement is present and is plausible (positive where it is a time or a
size; write_jsonl refuses NaN and infinity).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pathlib import Path

from cortexkg.bench.runner import WORKLOADS
from harness import PYODIDE_VERSION, ROOT, load_build_script

pytestmark = pytest.mark.browser

CHROMIUM_WORKLOADS = {
    "memory_browser", "kernel_scan", "api_allocate", "journal", "snapshot_save",
    "snapshot_load", "recovery", "page_ready", "dashboard_redraw", "longtasks", "side_by_side",
}
# Fields that must be positive numbers, per chromium workload.
POSITIVE = {
    "memory_browser": ("wasm_bytes", "heap_bytes", "bytes_per_column"),
    "kernel_scan": ("seconds", "bytes", "scan_gbs", "pass_gbs"),
    "api_allocate": ("seconds", "sequential_p50_ms", "sequential_p99_ms", "pipelined_p50_ms",
                     "pipelined_p99_ms", "pipelined_us_per_call"),
    "journal": ("seconds", "strict_ms_per_record", "relaxed_ms_per_record",
                "grouped_us_per_record"),
    "snapshot_save": ("seconds", "bytes"),
    "snapshot_load": ("seconds", "bytes"),
    "recovery": ("seconds", "records_replayed"),
    "page_ready": ("seconds", "cold_s", "warm_s", "pyodide_s"),
    "dashboard_redraw": ("seconds", "p50_ms", "max_ms", "acknowledged_ms", "ready_s",
                         "burst_calls", "burst_refreshes"),
    "longtasks": ("seconds", "columns"),
    "side_by_side": ("seconds", "us_per_op", "p50_us", "p99_us", "batch_items",
                     "batch_us_per_item", "getters_us"),
}


SMOKE = load_build_script("bench_browser").SMOKE


@pytest.fixture(scope="module")
def run(site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], list[str]]:
    """The JSON lines and the printed lines of one smoke run (after ``site``, so the
    wheel cache it builds from is current)."""
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "browser.jsonl"
    done = subprocess.run(
        [sys.executable, str(ROOT / "build" / "bench_browser.py"), "--smoke",
         "--out", str(out), "--site", str(folder / "site")],
        timeout=600, capture_output=True, text=True)  # a hang's ceiling only
    assert done.returncode == 0, f"exit status {done.returncode}:\n{done.stderr[-3000:]}"
    printed = done.stdout.splitlines()
    assert printed[-1] == f"wrote {out}"
    return [json.loads(line) for line in out.read_text().splitlines()], printed


@pytest.fixture(scope="module")
def lines(run: tuple[list[dict], list[str]]) -> list[dict]:
    return run[0]


def test_the_table_has_one_row_per_record_in_order(run: tuple[list[dict], list[str]]) -> None:
    lines, printed = run
    rows = [row.split() for row in printed if row.split()[:1] in (["pyodide"], ["chromium"])]
    assert [(r[0], r[1], int(r[2].replace(",", "")), r[3]) for r in rows] == [
        (r["runtime"], r["workload"], r["size"], r["engine"]) for r in lines[1:]]


def test_the_machine_line_comes_first(lines: list[dict]) -> None:
    machine = lines[0]
    assert machine["type"] == "machine" and machine["runtime"] == "chromium"
    assert machine["crossOriginIsolated"] is True
    assert machine["browser"].split(".")[0].isdigit(), machine["browser"]
    assert machine["pyodide"] == PYODIDE_VERSION
    assert machine["python"].startswith("3.")
    assert machine["cpu_count"] >= 1
    assert all(line["type"] == "record" for line in lines[1:])


def test_the_runner_ran_inside_pyodide_on_the_wasm_backend(lines: list[dict]) -> None:
    wasm = {(r["workload"], r["size"]): r for r in lines[1:]
            if r["runtime"] == "pyodide" and r["engine"] == "wasm"}
    assert set(wasm) == {(w, n) for w in WORKLOADS for n in SMOKE.sizes}
    assert {r["engine"] for r in lines[1:] if r["runtime"] == "pyodide"} == {"wasm", "baseline"}
    for (workload, _), r in wasm.items():
        assert r["complete"], r
        if workload != "memory":
            assert r["seconds"] > 0 and r["us_per_op"] > 0, r


def test_every_browser_measurement_is_present_and_plausible(lines: list[dict]) -> None:
    chromium = [r for r in lines[1:] if r["runtime"] == "chromium"]
    assert {r["workload"] for r in chromium} == CHROMIUM_WORKLOADS
    for r in chromium:
        if r["workload"] == "side_by_side" and (r["engine"] == "reference" or not r["available"]):
            continue  # the reference stops at its budget; a refused mode has no numbers
        assert r["complete"], r
        for field in POSITIVE[r["workload"]]:
            assert r[field] > 0, (field, r)
    by_workload = {r["workload"]: r for r in chromium}
    api = by_workload["api_allocate"]
    assert api["sequential_p50_ms"] <= api["sequential_p99_ms"]
    assert api["pipelined_p50_ms"] <= api["pipelined_p99_ms"]
    memory = by_workload["memory_browser"]
    assert memory["heap_bytes"] < memory["wasm_bytes"]
    # the snapshot is loaded on its own; the journal replayed in full (no compaction yet)
    assert by_workload["snapshot_load"]["records_replayed"] == 0
    assert by_workload["recovery"]["records_replayed"] == by_workload["recovery"]["size"]
    tasks = by_workload["longtasks"]
    assert 0 <= tasks["over_50ms"] <= tasks["count"]
    assert tasks["max_ms"] >= 0



def test_side_by_side_has_every_implementation_and_both_durability_modes(
        lines: list[dict]) -> None:
    side = {r["engine"]: r for r in lines[1:] if r["workload"] == "side_by_side"}
    assert set(side) == {"reference", "sync", "strict", "relaxed"}
    assert {r["size"] for r in side.values()} == set(SMOKE.side_sizes)
    # this build has both durability modes and kg.stats: nothing may be reported unavailable
    for engine in ("reference", "sync", "strict", "relaxed"):
        assert side[engine]["available"] and side[engine]["done"] > 0, side[engine]
    for engine in ("strict", "relaxed"):
        r = side[engine]  # the async API's pipelined calls, four getters and kg.stats
        assert r["pipelined_us_per_call"] > 0 and r["getters_p50_us"] > 0 and r["stats_us"] > 0, r
    assert side["reference"]["pipelined_us_per_call"] is None
