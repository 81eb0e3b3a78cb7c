"""Column scans: the one narrow, buffer-based interface behind every O(n) pass.

The engine never loops over columns itself; it calls these operations on its buffers
(``state``: bytearray of AVAILABLE/ALLOCATED/REFRACTORY, per-column ``array``s, the
``fields`` float32 buffer; its state codes are :mod:`cortexkg.columns`'s). Implementations:

The concept index (:mod:`cortexkg.concept_index`) is a hash table of columns in one u32
buffer, ``values`` (``EMPTY`` marks a free slot), keyed by the columns' ``concept``
entries; ``concept_index.probes`` defines where a key lives.

- ``reference``: plain Python, the definition and test oracle, and the last fallback;
- ``numpy``: views the buffers with ``numpy.asarray(memoryview(buf))`` (no copy);
- ``wasm``: the WebAssembly SIMD kernel (``kernel.wat``), in the browser on Pyodide's own
  memory (no copy); under CPython the same module under wasmtime, for tests.

Every implementation returns exactly what ``reference`` returns, bit for bit (see
``cortexkg.fields`` for the float32 accumulation order and the PRNG).
"""

from __future__ import annotations

from typing import Protocol, Sequence

from ..errors import InvalidInputError

BACKENDS = ("auto", "numpy", "wasm", "reference")


class ColumnScans(Protocol):
    """Operations over the engine's column buffers."""

    name: str

    def count(self, state: bytearray, value: int) -> int:
        """Number of columns whose state is ``value``."""

    def indices(self, state: bytearray, value: int, stop: int) -> list[int]:
        """Ascending ids of the columns below ``stop`` whose state is ``value``."""

    def largest_run(self, state: bytearray, value: int) -> int:
        """Length of the longest run of consecutive columns whose state is ``value``."""

    def gather(self, buffer, columns: Sequence[int]) -> list:
        """``[buffer[c] for c in columns]``."""

    def count_between(self, buffer, columns: Sequence[int] | None, low: float, high: float) -> int:
        """How many of ``columns`` (None: every item of ``buffer``) hold a value ``v`` with
        ``low <= v <= high`` (NaN never does)."""

    def best_match(self, state: bytearray, fields, stride: int, query) -> tuple[int, float]:
        """Masked argmax of the defined dot product over AVAILABLE columns.

        Returns ``(column, score)``, or ``(-1, 0.0)`` when no column is available. A NaN
        score ranks below every other score; ties go to the lowest column id; when every
        available score is NaN or -inf, the lowest available column wins. A NaN score is
        returned as ``math.nan``: IEEE 754 leaves the payload of an operation on two NaNs
        to the hardware and the compiler's operand order, so it is not part of the result.
        """

    def init_fields(self, fields, dim: int, stride: int, seed: int) -> None:
        """Fill every column's field with its seeded unit vector (see ``cortexkg.fields``)."""

    def compact(self, state: bytearray, usage, buffers: Sequence[tuple[object, int]]):
        """Apply the optimize permutation in place; return the new columns of moved concepts.

        Non-refractory columns, in ascending order, receive: the ALLOCATED columns ordered
        by ``usage`` descending (ties keep column order), then the AVAILABLE columns in
        column order. Refractory columns stay put. Each ``(buffer, width)`` moves rows of
        ``width`` items (``state`` must be among them). Returns an ``array('I')`` of the
        destination columns of allocated concepts whose column changed.
        """

    def scatter(self, buffer, indices: Sequence[int], values: Sequence[int]) -> None:
        """``buffer[indices[i]] = values[i]`` for each i, in order (``values`` may be a
        ``range``). Raises IndexError, writing nothing, when an index is outside."""

    def without(self, buffer, value: int):
        """A new buffer of ``buffer``'s type holding its items other than ``value``, in order."""

    def index_get(self, values, concept, keys: Sequence[int]):
        """The column of each key in the concept index ``values`` over ``concept``
        (``EMPTY`` when absent), as an ``array('I')``."""

    def index_insert(self, values, concept, columns: Sequence[int]) -> bool:
        """Add each of ``columns`` to the concept index ``values``, keyed ``concept[c]``.

        Returns False when a key is already in the index or repeats in the input (the
        index's content is then unspecified). Raises IndexError, before changing anything,
        when a column is outside ``concept``. The index must have room for every key.
        """


def select_scans(backend: str = "auto", enable_simd: bool = True) -> ColumnScans:
    """The scan implementation for ``backend``.

    ``auto`` (when ``enable_simd`` is true) picks the browser's ``wasm`` kernel when the
    page loaded it (WebAssembly SIMD is available), else numpy when it imports, else
    ``reference``; under CPython it never picks ``wasm`` (see :func:`wasm_kernel`).
    """
    if backend not in BACKENDS:
        raise InvalidInputError(f"Invalid backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend == "wasm" or (backend == "auto" and enable_simd):
        kernel = wasm_kernel(allow_wasmtime=backend == "wasm")
        if kernel is not None:
            from .wasm_scans import WasmScans

            return WasmScans(kernel)
        if backend == "wasm":
            raise InvalidInputError(
                "Invalid backend 'wasm': the WebAssembly kernel is not available here "
                "(in the browser it needs WebAssembly SIMD; under CPython, wasmtime)")
    if backend in ("auto", "numpy") and (enable_simd or backend == "numpy"):
        try:
            from .numpy_scans import NumpyScans
        except ImportError:
            if backend == "numpy":
                raise InvalidInputError("Invalid backend 'numpy': numpy is not installed") from None
        else:
            return NumpyScans()
    from .reference import ReferenceScans

    return ReferenceScans()


def wasm_kernel(allow_wasmtime: bool = False):
    """The scan kernel of this platform, or None.

    In Pyodide: the kernel the page instantiated on Pyodide's memory, if it did (see
    :func:`cortexkg.host.wasm_kernel`). Under CPython, only with ``allow_wasmtime`` (an explicit
    ``backend="wasm"``): the same module under wasmtime (when installed), which copies
    buffers in and out of its own memory on every call, for tests
    (:mod:`cortexkg.scans.wasmtime_kernel`).
    """
    from ..host import wasm_kernel as host_kernel

    exports = host_kernel()
    if exports is not None:
        from .wasm_scans import PyodideKernel

        return PyodideKernel(exports)
    if allow_wasmtime:
        try:
            from .wasmtime_kernel import shared_kernel
        except ImportError:
            return None
        return shared_kernel()
    return None
