"""Where a CortexKG facade saves its state: a small async ``Storage`` protocol.

A storage holds one byte string (a snapshot). IndexedDB, in the browser, implements the
same protocol in its own module.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    """Async load/save of one state blob."""

    async def load(self) -> bytes | None:
        """The saved bytes, or None when nothing was saved."""

    async def save(self, data: bytes) -> None:
        """Replace the saved bytes atomically."""


class MemoryStorage:
    """Keeps the state in memory (tests, throwaway engines)."""

    def __init__(self) -> None:
        self.data: bytes | None = None

    async def load(self) -> bytes | None:
        return self.data

    async def save(self, data: bytes) -> None:
        self.data = bytes(data)


class FileStorage:
    """Keeps the state in one file, replaced atomically (write, fsync, rename)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    async def load(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    async def save(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
