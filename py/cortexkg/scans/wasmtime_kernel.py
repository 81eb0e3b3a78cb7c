"""The scan kernel under wasmtime, for CPython: the tests' way to run ``kernel.wat``.

This is for tests, not for speed: the kernel gets a memory of its own (wasmtime cannot
import CPython's), so every call copies its buffers in and the ones it writes back out.
In the browser the same module runs on Pyodide's memory and copies nothing
(:class:`cortexkg.scans.wasm_scans.PyodideKernel`).

Each call also checks the kernel's memory discipline: every byte of the memory the call
could see is set first (buffers, and a filler pattern around them), and after the call
every byte outside the buffers listed as written must be unchanged, or
:class:`KernelMemoryError` is raised. ``misalign`` (0..15) shifts where buffers land
relative to 16-byte boundaries, so tests reach every alignment.

wasmtime is a development dependency (``pip install -e .[dev]``); importing this module
without it raises ImportError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import wasmtime

KERNEL_SOURCE = Path(__file__).with_name("kernel.wat")
PAGE = 65536
_FILLER = 0xA5
_GAP = 32  # filler bytes before and after every buffer
_FILL = bytes([_FILLER])

_engine: wasmtime.Engine | None = None
_module: wasmtime.Module | None = None
_shared: "WasmtimeKernel | None" = None


class KernelMemoryError(AssertionError):
    """The kernel wrote outside the buffers a call lets it write."""


def assemble() -> bytes:
    """The kernel's binary, assembled from ``kernel.wat`` (as build/build_site.py does)."""
    return wasmtime.wat2wasm(KERNEL_SOURCE.read_text())


def compiled() -> tuple[wasmtime.Engine, wasmtime.Module]:
    """The assembled and compiled kernel, once per process."""
    global _engine, _module
    if _module is None:
        _engine = wasmtime.Engine()
        _module = wasmtime.Module(_engine, assemble())
    return _engine, _module


def shared_kernel() -> "WasmtimeKernel":
    """One kernel for the process (``select_scans("wasm")`` under CPython)."""
    global _shared
    if _shared is None:
        _shared = WasmtimeKernel()
    return _shared


def _bytes_of(buffer) -> memoryview:
    return memoryview(buffer).cast("B")


class WasmtimeKernel:
    """The kernel instantiated under wasmtime with its own memory (see the module doc)."""

    def __init__(self, misalign: int = 0):
        engine, module = compiled()
        self.misalign = misalign
        self._store = wasmtime.Store(engine)
        self._memory = wasmtime.Memory(self._store, wasmtime.MemoryType(wasmtime.Limits(1, None)))
        instance = wasmtime.Instance(self._store, module, [self._memory])
        exports = instance.exports(self._store)
        self._functions = {export.name: exports[export.name] for export in module.exports}

    def run(self, name: str, args: tuple, writes: tuple = ()) -> Any:
        store, memory = self._store, self._memory
        image = bytearray(_FILL * _GAP)
        places = []  # (start, end) of each buffer argument
        values = []
        for arg in args:
            if type(arg) is int or type(arg) is float:
                values.append(arg)
                continue
            data = _bytes_of(arg)
            shift = (self.misalign + 5 * len(places)) % 16  # a different alignment each
            start = -(-len(image) // 16) * 16 + shift
            image.extend(_FILL * (start - len(image)))
            image.extend(data)
            places.append((start, len(image)))
            image.extend(_FILL * _GAP)
            values.append(start)
        if memory.data_len(store) < len(image):
            memory.grow(store, -(-(len(image) - memory.data_len(store)) // PAGE))
        size = memory.data_len(store)  # all of it is checked, not only the buffers' part
        image.extend(_FILL * (size - len(image)))
        memory.write(store, image, 0)
        result = self._functions[name](store, *values)
        after = memory.read(store, 0, size)
        written = [id(buffer) for buffer in writes]
        buffers = [a for a in args if not (type(a) is int or type(a) is float)]
        for buffer, (start, end) in zip(buffers, places):
            if id(buffer) in written:
                _bytes_of(buffer)[:] = after[start:end]
                image[start:end] = after[start:end]
        if after != image:
            first = next(i for i in range(size) if after[i] != image[i])
            raise KernelMemoryError(
                f"{name} wrote at byte {first} of its memory, outside the buffers it may write")
        return result
