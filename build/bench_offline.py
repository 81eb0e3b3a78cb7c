#!/usr/bin/env python3
"""Measure a first visit's transfer and an offline second visit; write JSON lines
(bench-results/offline.jsonl).

Usage: .venv/bin/python build/bench_offline.py [--samples 3] [--out PATH] [--site DIR]

It builds the site with the benchmark page (into --site, default .cache/bench-site, as
build/bench_browser.py does) and, for each sample, serves it with build/serve.py (gzip on
for clients that accept it; a server per sample, so its log holds one visit) to headless
Chromium with a new on-disk profile, as a person's browser has, service workers allowed:

- ``first_visit``: the body bytes the server sent from navigation until the page is ready
  and its service worker (web/sw.js) has cached the app (installed and activated), the
  worker's revalidations included; ``ready_bytes``: those sent before ready;
- ``offline_ready``: with the network off, a reload of the same profile to the page's
  ready mark (served by the service worker), against ``pyodide_s``: loadPyodide() alone
  in another new profile, with the network (web/bench/, as bench_browser.py's page_ready
  measures it).

Records are medians of the samples. The first line describes the machine, as
cortexkg.bench.report.write_jsonl writes it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from cortexkg.bench.report import write_jsonl  # noqa: E402
from cortexkg.bench.runner import new_record  # noqa: E402
from harness import App, chromium_args, chromium_executable, load_build_script, serve  # noqa: E402
from playwright.sync_api import Playwright, sync_playwright  # noqa: E402

SITE = ROOT / ".cache" / "bench-site"
DEFAULT_OUT = ROOT / "bench-results" / "offline.jsonl"
READY_MARK = "performance.getEntriesByName('cortexkg-ready')[0].startTime"
# Resolves when the page's service worker is installed (cache.addAll succeeded) and active.
SW_ACTIVATED = """async () => {
    const worker = (await navigator.serviceWorker.ready).active;
    if (worker.state !== "activated") {
        await new Promise((done) => worker.addEventListener("statechange",
            () => { if (worker.state === "activated") done(); }));
    }
    return navigator.serviceWorker.controller === null;
}"""
# A request line of serve.py's log, with its status and body bytes.
LOGGED = re.compile(r'"(?:GET|HEAD) \S+ HTTP/1\.1" (\d{3}) (\d+|-)')


def sent_bytes(log: Path) -> int:
    """The body bytes of every response serve.py has logged so far."""
    return sum(int(size) for _, size in LOGGED.findall(log.read_text()) if size != "-")


def visit(playwright: Playwright, site: Path, log: Path) -> dict:
    """One first visit and one offline reload in a new profile, on a server of its own."""
    with serve(site, log) as server, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable(), args=chromium_args(),
            service_workers="allow")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            app = App(page)
            app.load(lambda: page.goto(server.url))
            ready_bytes = sent_bytes(log)
            uncontrolled = page.evaluate(SW_ACTIVATED)
            first_bytes = sent_bytes(log)
            context.set_offline(True)
            app.load(page.reload)
            offline_s = page.evaluate(READY_MARK) / 1000
            controlled = page.evaluate("navigator.serviceWorker.controller !== null")
        finally:
            context.close()
    if not (uncontrolled and controlled):
        raise RuntimeError("the first visit should be uncontrolled and the offline reload "
                           f"controlled by the service worker: {uncontrolled=}, {controlled=}")
    return {"first_bytes": first_bytes, "ready_bytes": ready_bytes, "offline_s": offline_s}


def pyodide_alone(playwright: Playwright, site: Path, log: Path) -> float:
    """loadPyodide() alone in a new profile, with the network: Pyodide's own load."""
    with serve(site, log) as server, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable(), args=chromium_args())
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server.url + "bench/index.html")
            return page.evaluate("bench.pyodide()")["seconds"]
        finally:
            context.close()


def record(workload: str, seconds: float | None, **fields) -> dict:
    """A record of the dashboard's page in Chromium (size: its default engine's columns)."""
    return {**new_record(workload, 1024, "dashboard", 1, 1, seconds, **fields),
            "runtime": "chromium"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3, help="visits measured (median)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"JSON-lines file (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--site", type=Path, default=SITE,
                        help=f"where to build the site (default: {SITE.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    load_build_script("build_site").build_site(dist=args.site, with_bench=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = args.out.with_name("serve-offline.log")
    visits, pyodide = [], []
    with sync_playwright() as playwright:
        for sample in range(args.samples):
            print(f"bench: offline sample {sample + 1} of {args.samples}", flush=True)
            pyodide.append(pyodide_alone(playwright, args.site, log))
            visits.append(visit(playwright, args.site, log))
        browser_version = playwright.chromium.launch(
            executable_path=chromium_executable(), args=chromium_args())
        version = browser_version.version
        browser_version.close()

    median = statistics.median
    first = [v["first_bytes"] for v in visits]
    offline = [v["offline_s"] for v in visits]
    records = [
        record("first_visit", None, note="body bytes sent until ready and cached (gzip on); "
               f"median of {args.samples}", bytes=median(first),
               ready_bytes=median(v["ready_bytes"] for v in visits), samples=first),
        record("offline_ready", median(offline),
               note=f"reload offline to data-ready (service worker); median of {args.samples}",
               offline_s=median(offline), pyodide_s=median(pyodide),
               offline_samples=offline, pyodide_samples=pyodide),
    ]
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
               "machine": platform.machine(), "browser": version,
               "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "runtime": "chromium",
               "command": shlex.join(["python", "build/bench_offline.py",
                                      *(sys.argv[1:] if argv is None else argv)])}
    write_jsonl(args.out, machine, records)
    print(f"first visit: {median(first) / 1e6:.2f} MB transferred "
          f"({median(v['ready_bytes'] for v in visits) / 1e6:.2f} MB until ready)")
    print(f"offline second visit: ready in {median(offline):.2f} s; "
          f"Pyodide alone {median(pyodide):.2f} s")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
