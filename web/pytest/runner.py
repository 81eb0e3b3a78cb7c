"""Run the unit tests inside Pyodide and report the outcome as plain data.

worker.js writes the project's files (pyproject.toml, tests/unit/) into Pyodide's file
system, loads this file with ``runpy.run_path`` and calls ``run`` through
``callPromising``, so that ``asyncio.run`` inside the tests can wait for the browser's
event loop. The report is JSON text: counts as pytest's summary line has them, every
failure's text, the skip reasons, per-file counts and the cortexkg modules the run never
imported.
"""

from __future__ import annotations

import json
import os
import pkgutil
import sys
import time
from collections import Counter
from importlib import metadata

import pytest

# The unit tests with the project's pytest configuration (pyproject.toml); no cache
# folder, since nothing outlives the page; the slowest tests listed in the output.
DEFAULT_ARGS = ("tests/unit", "-p", "no:cacheprovider", "--durations=10")
# pytest's outcome categories, as its summary line counts them.
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected",
            "warnings")
PER_FILE = ("passed", "failed", "error", "skipped")


class Report:
    """A pytest plugin that keeps what the page shows about a run."""

    def __init__(self) -> None:
        self.selected = 0  # collected and not deselected: the tests meant to run
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.failures: list[dict] = []
        self.skips: Counter[str] = Counter()
        self.files: dict[str, Counter[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = len(session.items)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        # The terminal reporter's own tally, so the counts equal its summary line.
        stats = terminalreporter.stats
        self.counts = {outcome: len(stats.get(outcome, ())) for outcome in OUTCOMES}
        for report in (*stats.get("failed", ()), *stats.get("error", ())):
            self.failures.append({
                "nodeid": report.nodeid,
                "when": getattr(report, "when", "collect"),
                "text": report.longreprtext,
            })
        for report in stats.get("skipped", ()):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
                report.longrepr)
            self.skips[reason.removeprefix("Skipped: ")] += 1
        for outcome in PER_FILE:
            for report in stats.get(outcome, ()):
                path = report.nodeid.split("::")[0]
                self.files.setdefault(path, Counter())[outcome] += 1


def modules_not_imported() -> list[str]:
    """The cortexkg modules the run never imported (package entry points excluded)."""
    imported = set(sys.modules)  # before walk_packages imports the subpackages it walks
    import cortexkg

    every = {name for _, name, _ in pkgutil.walk_packages(cortexkg.__path__, "cortexkg.")
             if not name.endswith(".__main__")}
    return sorted(every - imported)


def run(project_dir: str, extra_args=()) -> str:
    """Run pytest on ``project_dir``'s unit tests; return the report as JSON text."""
    os.chdir(project_dir)
    report = Report()
    start = time.perf_counter()
    exit_code = pytest.main([*DEFAULT_ARGS, *extra_args], plugins=[report])
    seconds = time.perf_counter() - start
    return json.dumps({
        "exitCode": int(exit_code),
        "seconds": seconds,
        "selected": report.selected,
        "counts": report.counts,
        "failures": report.failures,
        "skips": dict(report.skips.most_common()),
        "files": {path: dict(counts) for path, counts in sorted(report.files.items())},
        "modulesNotImported": modules_not_imported(),
        "python": sys.version,
        "platform": sys.platform,
        "pytest": pytest.__version__,
        "hypothesis": installed_version("hypothesis"),
        "numpy": installed_version("numpy"),
    })


def installed_version(name: str) -> str | None:
    """The installed distribution's version, or None; without importing it (pytest could
    not rewrite the asserts of a plugin imported before it starts)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
