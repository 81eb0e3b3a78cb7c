"""BuildError, and what raises it for every input: a file's sha256 against its pin, and a
command run quietly (build_site.py's parts share them)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path


class BuildError(Exception):
    """An input is missing, unpinned, or differs from its pin; the message says which."""


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


def run(command: list[str], failure: str) -> None:
    """Run a command quietly; on failure raise BuildError with its output."""
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise BuildError(f"{failure} (exit status {completed.returncode}):\n{output}")
