"""What the build makes from the repository's source: the cortexkg wheel (built by pip,
again only when its sources change) and the scan kernel's binary (assembled from its text
with wasmtime.wat2wasm)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from site_checks import BuildError, run, sha256_file

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
