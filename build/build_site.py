#!/usr/bin/env python3
"""Assemble the static site in dist/ from pinned, verified inputs (stdlib and wasmtime).

Inputs:
  node_modules/pyodide   the Pyodide runtime, exactly the version package.json pins
  pyproject.toml, py/    the cortexkg wheel, built with the project's own build backend
  py/cortexkg/scans/kernel.wat
                         the column-scan kernel's WebAssembly text, assembled with
                         wasmtime.wat2wasm (the binary is never committed)
  web/                   the page, the worker and their assets, copied as they are
  --numpy-wheel PATH     optional: Pyodide's numpy wheel, accepted only if its sha256
                         equals the entry in the runtime's pyodide-lock.json
  --with-tests           optional: also the page that runs the unit tests inside Pyodide,
                         with build/test-wheels.lock (micropip, pytest, hypothesis,
                         their dependencies; checked by sha256) and tests/unit/
  --with-bench           optional: also the benchmark page web/bench/, which
                         build/bench_browser.py drives

Output (dist/):
  index.html, *.js, ...             web/ (without web/pytest/ and web/bench/)
  vendor/pyodide-<version>/...      the runtime; every path under vendor/ carries a
  vendor/numpy-<version>-*.whl      version, so the server may let browsers cache it forever
  wheels/cortexkg-<version>-*.whl   the app's wheel (revalidated on every load)
  kernel/scans.wasm                 the assembled scan kernel (revalidated on every load)
  site.json                         what the worker loads: runtime, packages (numpy, if
                                    given), app wheel, scan kernel, and the byte size of
                                    each file it fetches (runtimeBytes)
  tables.js                         the tables the page shares with Python, written by
                                    py/cortexkg/tables.py (defaults, column states)
  sw.js                             web/sw.js, the service worker, after a line naming
                                    the files it caches for offline use and their
                                    version (a hash of their contents)
  pytest/                           only with --with-tests: the unit tests inside Pyodide
    index.html, *.js, runner.py     web/pytest/, the page that runs them
    wheels/*.whl                    the wheels build/test-wheels.lock pins
    project/...                     pyproject.toml and tests/unit/, which the page writes
                                    into Pyodide's file system
    manifest.json                   the lists of wheels and project files, for the page
  bench/                            only with --with-bench: web/bench/, the benchmark page

Downloads and the built wheel are kept in .cache/ (outside git). A rerun with unchanged
inputs downloads, builds and copies nothing, and dist/ ends up holding exactly this
build's files. Any problem stops the build with BuildError, whose message names the
input and what to do; the command line prints it and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Its parts (build/site_*.py) are imported by name, also when a test or another script
# loads this file from its path.
sys.path.insert(0, str(ROOT / "build"))

from site_artifacts import (  # noqa: E402
    KERNEL_PATH, KERNEL_SOURCE, assemble_kernel, build_app_wheel)
from site_checks import BuildError  # noqa: E402
from site_generated import (  # noqa: E402
    SERVICE_WORKER, TABLES_PATH, service_worker, site_json, tables_module)
from site_pages import BENCH_PAGE, TEST_PAGE, add_unit_tests  # noqa: E402
from site_runtime import RUNTIME_FILES, check_numpy_wheel, find_runtime  # noqa: E402
from site_sync import sync_tree  # noqa: E402


@dataclass(frozen=True)
class BuildResult:
    """How much of dist/ a build changed."""

    files: int
    copied: int
    removed: int


def build_site(
    *,
    root: Path = ROOT,
    dist: Path | None = None,
    cache: Path | None = None,
    numpy_wheel: Path | None = None,
    with_tests: bool = False,
    test_lock: Path | None = None,
    with_bench: bool = False,
) -> BuildResult:
    """Verify every input, then bring dist/ up to date; raise BuildError on any problem.

    ``with_tests`` adds dist/pytest/, the page that runs tests/unit inside Pyodide, with
    the wheels ``test_lock`` pins; ``with_bench`` adds dist/bench/, the benchmark page.
    Nothing in dist/ changes unless every input passed its check.
    """
    dist = dist or root / "dist"
    test_lock = test_lock or root / "build" / "test-wheels.lock"
    cache = cache or root / ".cache"

    runtime = find_runtime(root)
    runtime_dir = f"vendor/pyodide-{runtime.version}/"
    files = {runtime_dir + name: runtime.directory / name for name in RUNTIME_FILES}

    packages = []  # served paths of the wheels the worker loads with pyodide.loadPackage
    if numpy_wheel is not None:
        served_name = check_numpy_wheel(numpy_wheel, runtime)
        packages.append(f"vendor/{served_name}")
        files[f"vendor/{served_name}"] = numpy_wheel

    app_wheel = build_app_wheel(root, cache / "cortexkg-wheel")
    files["wheels/" + app_wheel.name] = app_wheel
    files[KERNEL_PATH] = assemble_kernel(root / KERNEL_SOURCE, cache / KERNEL_PATH)

    generated = {
        "site.json": site_json(runtime, runtime_dir, packages, "wheels/" + app_wheel.name, files),
        TABLES_PATH: tables_module(root),
    }
    if with_tests:
        add_unit_tests(root, runtime, test_lock, cache / "wheels", files, generated)

    web = root / "web"
    for source in sorted(web.rglob("*")):
        relative = source.relative_to(web).as_posix()
        top = relative.split("/")[0]
        if (top == TEST_PAGE and not with_tests) or (top == BENCH_PAGE and not with_bench):
            continue
        if relative in files or relative in generated:
            raise BuildError(f"web/{relative} would overwrite a file the build generates")
        if source.is_file():
            files[relative] = source

    if SERVICE_WORKER in files:
        generated[SERVICE_WORKER] = service_worker(files.pop(SERVICE_WORKER), files, generated)
    copied, removed = sync_tree(dist, files, generated)
    return BuildResult(len(files) + len(generated), copied, removed)


def main(argv: list[str] | None = None) -> int:
    """Command line: build dist/ and print a one-line summary, or the reason it failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--numpy-wheel", type=Path, metavar="PATH",
        help="also serve this numpy wheel; its sha256 must match Pyodide's pyodide-lock.json",
    )
    parser.add_argument(
        "--with-tests", action="store_true",
        help="also build pytest/, the page that runs the unit tests inside Pyodide",
    )
    parser.add_argument(
        "--with-bench", action="store_true",
        help="also build bench/, the benchmark page (build/bench_browser.py drives it)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        result = build_site(numpy_wheel=args.numpy_wheel, with_tests=args.with_tests,
                            with_bench=args.with_bench)
    except BuildError as error:
        print(f"build_site: error: {error}", file=sys.stderr)
        return 1
    print(
        f"build_site: dist/ ready in {time.perf_counter() - start:.1f} s "
        f"({result.files} files, {result.copied} updated, {result.removed} removed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
