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
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The runtime files Pyodide fetches from indexURL when it boots (the source map only
# when developer tools are open).
RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.mjs.map",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)

# The runtime files Pyodide fetches (the rest it imports as modules).
RUNTIME_FETCHED = ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")

# Files outside py/ that end up in the wheel: its metadata (hatchling's readme and
# default license-files globs). A change to any of them rebuilds the wheel.
WHEEL_METADATA_GLOBS = (
    "pyproject.toml",
    "README*",
    "LICEN[CS]E*",
    "COPYING*",
    "NOTICE*",
    "AUTHORS*",
)

# The column-scan kernel: its text (in the package, which also runs it under wasmtime in
# the unit tests) and where dist/ serves its binary, which web/kernel.js instantiates.
KERNEL_SOURCE = "py/cortexkg/scans/kernel.wat"
KERNEL_PATH = "kernel/scans.wasm"

# The ES module of the tables the page shares with Python (cortexkg.tables).
TABLES_PATH = "tables.js"

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
# The service worker caches every file the app may load, except what only tools read:
# source maps (developer tools) and declarations (type checkers). Test and benchmark
# pages are not the app.
SERVICE_WORKER = "sw.js"
NOT_CACHED_SUFFIXES = (".map", ".d.ts")
NOT_CACHED_FOLDERS = (TEST_PAGE, BENCH_PAGE)

PIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s+--hash=sha256:([0-9a-f]{64})$")


class BuildError(Exception):
    """An input is missing, unpinned, or differs from its pin; the message says which."""


@dataclass(frozen=True)
class Pin:
    """One line of build/test-wheels.lock."""

    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Runtime:
    """The Pyodide runtime installed by npm."""

    version: str
    directory: Path
    lock: dict

    @property
    def python_version(self) -> str:
        """Major.minor of the runtime's Python, e.g. "3.14", as pip's --python-version wants."""
        return ".".join(self.lock["info"]["python"].split(".")[:2])

    @property
    def platform(self) -> str:
        """The runtime's wheel platform tag, e.g. "pyemscripten_2026_0_wasm32" (PEP 783)."""
        info = self.lock["info"]
        return f"pyemscripten_{info['abi_version']}_{info['arch']}"


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

    manifest = {
        "pyodide": runtime.version,
        "indexURL": runtime_dir,
        # pyodide.loadPackage(urls) with the app's wheel: cortexkg needs nothing else in
        # Pyodide, so no installer (micropip) is loaded or run
        "packages": packages,
        "cortexkg": "wheels/" + app_wheel.name,
        "kernel": KERNEL_PATH,  # WebAssembly.instantiate on Pyodide's memory (kernel.js)
    }
    # The byte size of each file booting fetches (boot.js counts them as they arrive, so
    # its progress moves with the download); pyodide.mjs and pyodide.asm.mjs are imported
    # as modules, which no fetch sees, and the source map only by developer tools.
    fetched = [runtime_dir + name for name in RUNTIME_FETCHED]
    fetched += [*packages, manifest["cortexkg"], KERNEL_PATH]
    manifest["runtimeBytes"] = {path: files[path].stat().st_size for path in fetched}
    generated = {"site.json": json.dumps(manifest, indent=2) + "\n",
                 TABLES_PATH: tables_module(root)}
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


def assemble_kernel(source: Path, target: Path) -> Path:
    """The scan kernel's binary, assembled from source with wasmtime.wat2wasm into target.

    target is rewritten only when the binary changes, so an unchanged kernel keeps its
    copy in dist/ (and its ETag).
    """
    try:
        import wasmtime
    except ImportError:
        raise BuildError(
            "wasmtime is missing: it assembles the scan kernel (run build/setup.sh, which "
            "installs the pinned development dependencies)"
        ) from None
    try:
        binary = wasmtime.wat2wasm(source.read_text())
    except FileNotFoundError:
        raise BuildError(f"{source} is missing: it is the scan kernel's source") from None
    except wasmtime.WasmtimeError as error:
        raise BuildError(f"{source} does not assemble:\n{error}") from None
    if not target.is_file() or target.read_bytes() != binary:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(binary)
        os.replace(partial, target)
    return target


def find_runtime(root: Path) -> Runtime:
    """The Pyodide runtime in node_modules, checked against the version package.json pins."""
    # a development dependency: the package ships the runtime in dist/vendor/, so an app
    # that installs it needs no pyodide of its own
    pinned = json.loads((root / "package.json").read_text())["devDependencies"]["pyodide"]
    directory = root / "node_modules" / "pyodide"
    try:
        installed = json.loads((directory / "package.json").read_text())["version"]
    except FileNotFoundError:
        raise BuildError(f"{directory} is missing: run `npm ci`") from None
    if installed != pinned:
        raise BuildError(
            f"node_modules holds pyodide {installed} but package.json pins {pinned}: run `npm ci`"
        )
    missing = [name for name in RUNTIME_FILES if not (directory / name).is_file()]
    if missing:
        raise BuildError(f"pyodide {installed} in {directory} lacks {', '.join(missing)}")
    lock = json.loads((directory / "pyodide-lock.json").read_text())
    return Runtime(installed, directory, lock)


def read_pins(lock: Path) -> list[Pin]:
    """The requirements of a lock file; any line that is not an exact pin is an error."""
    pins = []
    for number, line in enumerate(lock.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN_LINE.match(line)
        if not match:
            raise BuildError(
                f"{lock}:{number}: expected `name==version --hash=sha256:<64 hex>`, got {line!r}"
            )
        pins.append(Pin(*match.groups()))
    return pins


def fetch_pinned_wheel(pin: Pin, lock: Path, cache: Path, runtime: Runtime) -> Path:
    """The pinned wheel from the cache, downloaded by pip if absent; its sha256 must match.

    pip picks the wheel made for the runtime's Python and platform: a pure one, or one
    built for Pyodide (e.g. hypothesis, which ships compiled code).
    """
    cached = find_wheel(cache, pin)
    if cached is not None:
        check_sha256(
            cached, pin.sha256, f"{lock} pins {pin.name}=={pin.version}",
            "Either the pin or the cached file is wrong: check the pin against PyPI, and if "
            "it is right, delete the cached file and build again.",
        )
        return cached

    print(f"build_site: downloading {pin.name}=={pin.version}", file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as download_dir:
        run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--python-version", runtime.python_version, "--platform", runtime.platform,
             "--disable-pip-version-check",
             "--dest", download_dir, f"{pin.name}=={pin.version}"],
            f"pip could not download {pin.name}=={pin.version}",
        )
        downloaded = find_wheel(Path(download_dir), pin)
        if downloaded is None:
            raise BuildError(f"pip download of {pin.name}=={pin.version} produced no wheel")
        # Checked before it enters the cache, so the cache only ever holds pinned files.
        check_sha256(
            downloaded, pin.sha256, f"{lock} pins {pin.name}=={pin.version}",
            "The index served a different file than the one pinned; review it before "
            "changing the pin.",
        )
        return Path(shutil.move(downloaded, cache / downloaded.name))


def find_wheel(directory: Path, pin: Pin) -> Path | None:
    """The wheel of pin in directory, if there is one (names compared as PEP 427 escapes them)."""
    prefix = f"{re.sub(r'[-_.]+', '_', pin.name)}-{pin.version}-".lower()
    if not directory.is_dir():
        return None
    matches = [path for path in directory.glob("*.whl") if path.name.lower().startswith(prefix)]
    if len(matches) > 1:
        raise BuildError(f"{directory} holds several wheels of {pin.name}=={pin.version}: "
                         f"{', '.join(sorted(path.name for path in matches))}")
    return matches[0] if matches else None


def check_numpy_wheel(wheel: Path, runtime: Runtime) -> str:
    """The file name to serve a numpy wheel under, if its sha256 is the runtime's own."""
    entry = runtime.lock["packages"].get("numpy")
    if entry is None:
        raise BuildError(f"pyodide {runtime.version}'s pyodide-lock.json has no numpy entry")
    if not wheel.is_file():
        raise BuildError(f"--numpy-wheel {wheel} is not a file")
    check_sha256(
        wheel, entry["sha256"],
        f"pyodide {runtime.version}'s pyodide-lock.json lists {entry['file_name']}",
        f"Only the numpy wheel built for Pyodide {runtime.version} is accepted.",
    )
    # Served under the lock's name: loadPackage reads the platform tag from the URL.
    return entry["file_name"]


def check_sha256(path: Path, expected: str, pinned_by: str, advice: str) -> None:
    """Raise BuildError unless the file's sha256 is expected (pinned_by says who expects it)."""
    actual = sha256_file(path)
    if actual != expected:
        raise BuildError(
            f"sha256 mismatch for {path}\n"
            f"  expected {expected} ({pinned_by})\n"
            f"  actual   {actual}\n"
            f"Refusing to ship it. {advice}"
        )


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_app_wheel(root: Path, cache: Path) -> Path:
    """The cortexkg wheel, rebuilt by pip from pyproject.toml only when its sources changed."""
    fingerprint = source_fingerprint(root)
    stamp = cache / "fingerprint"
    wheels = list(cache.glob("*.whl"))
    if len(wheels) == 1 and stamp.is_file() and stamp.read_text() == fingerprint:
        return wheels[0]

    print("build_site: building the cortexkg wheel", file=sys.stderr)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         "--wheel-dir", str(cache), str(root)],
        "building the cortexkg wheel failed",
    )
    wheels = list(cache.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one wheel from pip wheel, found {[w.name for w in wheels]}")
    stamp.write_text(fingerprint)
    return wheels[0]


def source_fingerprint(root: Path) -> str:
    """sha256 over the paths and contents of everything the wheel is built from."""
    sources = {path for pattern in WHEEL_METADATA_GLOBS for path in root.glob(pattern)}
    sources.update(
        path for path in (root / "py").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    digest = hashlib.sha256()
    for path in sorted(sources):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def sync_tree(dist: Path, files: dict[str, Path], generated: dict[str, str]) -> tuple[int, int]:
    """Make dist hold exactly files (copied) and generated (written); return (copied, removed).

    A file is copied only when its size or modification time differs from the copy's
    (copies keep the source's time), and written only when its text differs, so
    unchanged files keep their ETag. Every write goes through a temporary file and a
    rename, so a running server never serves half a file.
    """
    copied = 0
    for relative, source in files.items():
        target = dist / relative
        source_stat = source.stat()
        if target.is_file():
            target_stat = target.stat()
            if (target_stat.st_size, target_stat.st_mtime_ns) == (
                source_stat.st_size, source_stat.st_mtime_ns
            ):
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copy2(source, partial)
        os.replace(partial, target)
        copied += 1
    for relative, text in generated.items():
        target = dist / relative
        if target.is_file() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text)
        os.replace(partial, target)
        copied += 1

    expected = set(files) | set(generated)
    removed = 0
    for path in sorted(dist.rglob("*"), reverse=True):  # children before their folders
        relative = path.relative_to(dist).as_posix()
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif relative not in expected:
            path.unlink()
            removed += 1
    return copied, removed


def run(command: list[str], failure: str) -> None:
    """Run a command quietly; on failure raise BuildError with its output."""
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise BuildError(f"{failure} (exit status {completed.returncode}):\n{output}")


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
