"""The wheels a lock file pins (build/test-wheels.lock): its lines read as exact pins,
each wheel downloaded by pip for the runtime's Python and platform, and kept in the cache
only once its sha256 equals the pin."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from site_checks import BuildError, check_sha256, run
from site_runtime import Runtime

PIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s+--hash=sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Pin:
    """One line of build/test-wheels.lock."""

    name: str
    version: str
    sha256: str


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
