"""The files the build writes instead of copying: site.json (what the worker loads),
tables.js (the tables the page shares with Python) and sw.js (the service worker, after the
list of files it caches and their version)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from site_artifacts import KERNEL_PATH
from site_checks import BuildError, sha256_file
from site_pages import BENCH_PAGE, TEST_PAGE
from site_runtime import RUNTIME_FETCHED, Runtime

# The ES module of the tables the page shares with Python (cortexkg.tables).
TABLES_PATH = "tables.js"
# The service worker caches every file the app may load, except what only tools read:
# source maps (developer tools) and declarations (type checkers). Test and benchmark
# pages are not the app.
SERVICE_WORKER = "sw.js"
NOT_CACHED_SUFFIXES = (".map", ".d.ts")
NOT_CACHED_FOLDERS = (TEST_PAGE, BENCH_PAGE)


def site_json(
    runtime: Runtime, runtime_dir: str, packages: list[str], app_wheel: str,
    files: dict[str, Path],
) -> str:
    """site.json, what the worker loads: the runtime (served under ``runtime_dir``), the
    wheels it loads with pyodide.loadPackage (``packages``), the app's wheel (served at
    ``app_wheel``), the scan kernel, and the byte size of each file booting fetches
    (``files`` maps each served path to its source)."""
    manifest = {
        "pyodide": runtime.version,
        "indexURL": runtime_dir,
        # pyodide.loadPackage(urls) with the app's wheel: cortexkg needs nothing else in
        # Pyodide, so no installer (micropip) is loaded or run
        "packages": packages,
        "cortexkg": app_wheel,
        "kernel": KERNEL_PATH,  # WebAssembly.instantiate on Pyodide's memory (kernel.js)
    }
    # The byte size of each file booting fetches (boot.js counts them as they arrive, so
    # its progress moves with the download); pyodide.mjs and pyodide.asm.mjs are imported
    # as modules, which no fetch sees, and the source map only by developer tools.
    fetched = [runtime_dir + name for name in RUNTIME_FETCHED]
    fetched += [*packages, manifest["cortexkg"], KERNEL_PATH]
    manifest["runtimeBytes"] = {path: files[path].stat().st_size for path in fetched}
    return json.dumps(manifest, indent=2) + "\n"


def tables_module(root: Path) -> str:
    """``cortexkg.tables.javascript_module()`` of the package under ``root``/py (run in a
    child Python, so that it is this tree's package, whatever this process imported)."""
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, cortexkg.tables as t; sys.stdout.write(t.javascript_module())"],
        env={**os.environ, "PYTHONPATH": str(root / "py")}, cwd=root,
        capture_output=True, text=True)
    if result.returncode:
        raise BuildError(f"py/cortexkg/tables.py failed to give tables.js:\n{result.stderr}")
    return result.stdout


def service_worker(source: Path, files: dict[str, Path], generated: dict[str, str]) -> str:
    """web/sw.js after `const PRECACHE = {version, files};`: the served paths it caches and
    "cortexkg-" + a hash of their paths and contents (and of the worker's own text).

    Any change to a cached file changes the worker's text, which is what makes a browser
    install the new worker, and its cache name, which lets it delete the old cache.
    """
    text = source.read_text()
    cached = sorted(
        relative for relative in (*files, *generated)
        if not relative.endswith(NOT_CACHED_SUFFIXES)
        and relative.split("/")[0] not in NOT_CACHED_FOLDERS
    )
    digest = hashlib.sha256(text.encode())
    for relative in cached:
        content = (sha256_file(files[relative]) if relative in files
                   else hashlib.sha256(generated[relative].encode()).hexdigest())
        digest.update(f"\0{relative}\0{content}".encode())
    precache = {"version": f"cortexkg-{digest.hexdigest()[:16]}", "files": cached}
    return f"const PRECACHE = {json.dumps(precache)};\n{text}"
