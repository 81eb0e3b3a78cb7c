"""The Pyodide runtime npm installed, checked against the version package.json pins, and
the numpy wheel, accepted only if it is the one the runtime's lock lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from site_checks import BuildError, check_sha256

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
