"""The pages only a build that asks for them serves (web/pytest/, web/bench/), and what
dist/pytest/ serves besides web/pytest/: the pinned test wheels, the project files the
unit tests need, and manifest.json, which lists both for the page."""

from __future__ import annotations

import json
from pathlib import Path

from site_checks import BuildError
from site_pins import fetch_pinned_wheel, read_pins
from site_runtime import Runtime

# web/pytest/ holds the page that runs the unit tests inside Pyodide; it and everything it
# needs go to dist/pytest/, and only into a build that asks for them (test code is not
# part of the app).
TEST_PAGE = "pytest"
# What the unit tests need besides the cortexkg wheel, relative to the repository root:
# pyproject.toml carries their pytest configuration; test_session.py checks that the
# session answers exactly the methods web/cortexkg.js calls.
TEST_PROJECT_FILES = ("pyproject.toml", "web/cortexkg.js")
TEST_PROJECT_DIRS = ("tests/unit",)
# The test lock's installer, which the page loads first to install the other wheels.
INSTALLER = ("micropip", "packaging")
# web/bench/ holds the benchmark page; only a build that asks for it serves it.
BENCH_PAGE = "bench"


def add_unit_tests(
    root: Path, runtime: Runtime, lock: Path, cache: Path,
    files: dict[str, Path], generated: dict[str, str],
) -> None:
    """Add what dist/pytest/ serves besides web/pytest/: the wheels the test lock pins, the
    project files the unit tests need, and manifest.json, which lists both for the page."""
    installer, wheels = [], []
    for pin in read_pins(lock):
        wheel = fetch_pinned_wheel(pin, lock, cache, runtime)
        (installer if pin.name in INSTALLER else wheels).append(f"wheels/{wheel.name}")
        files[f"{TEST_PAGE}/wheels/{wheel.name}"] = wheel

    sources = [root / name for name in TEST_PROJECT_FILES]
    for folder in TEST_PROJECT_DIRS:
        if not (root / folder).is_dir():
            raise BuildError(f"{root / folder} is missing: the unit-test page runs it")
        sources.extend(path for path in sorted((root / folder).rglob("*.py"))
                       if "__pycache__" not in path.parts)
    project = []
    for source in sources:
        if not source.is_file():
            raise BuildError(f"{source} is missing: the unit tests need it")
        relative = source.relative_to(root).as_posix()
        project.append(relative)
        files[f"{TEST_PAGE}/project/{relative}"] = source

    manifest = {
        "installer": installer,  # pyodide.loadPackage(urls) first
        "wheels": wheels,  # then micropip.install(url) each, without dependency resolution
        "project": project,  # served under project/, written to the same paths in Python
    }
    generated[f"{TEST_PAGE}/manifest.json"] = json.dumps(manifest, indent=2) + "\n"
