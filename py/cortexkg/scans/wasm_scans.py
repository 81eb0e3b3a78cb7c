"""wasm scans: the column scans run by the WebAssembly SIMD kernel (``kernel.wat``).

:class:`WasmScans` implements the scan interface over a *kernel*: an object with one
method, ``run(name, args, writes)``, that calls the kernel's export ``name`` with ``args``
(ints, floats, and buffers: ``bytearray`` or ``array.array``) and returns its result.
``writes`` lists the buffers the call may write. Two kernels exist:

- :class:`PyodideKernel`, in the browser: the module is instantiated on Pyodide's own
  linear memory (``web/kernel.js``), so a buffer is passed as its address
  (``array.buffer_info()``, or through ``ctypes`` for a ``bytearray``) and nothing is
  copied; ``writes`` is not needed there;
- ``cortexkg.scans.wasmtime_kernel.WasmtimeKernel``, under CPython: the same module under
  wasmtime with a memory of its own, buffers copied in and out around each call. It
  exists for tests, which is why ``backend="auto"`` never picks it.

Every Python step here is O(1) or O(k) per call (k: the items a call returns or is
given); each O(n) pass over the columns is one kernel call. Lengths are checked here,
before the call, so the kernel only ever touches the ranges of the buffers it is given.
Inputs the engine never passes (item sizes other than 1 and 4 bytes, indices that do not
fit a u32) take the reference implementation, which defines the result anyway.
"""

from __future__ import annotations

import math
from array import array
from typing import Any, Protocol, Sequence

from .. import fields as fdef
from ..columns import ALLOCATED, REFRACTORY
from ..errors import InternalError
from .reference import ReferenceScans

# The kernel's exports, as kernel.wat defines them.
EXPORTS = (
    "count_u8", "indices_u8", "largest_run_u8", "gather_u8", "gather_u32",
    "count_between_u8", "count_between_u32", "count_between_f32", "best_match",
    "init_fields", "compact_plan", "permute_rows", "permute_partition",
    "scatter_u32", "scatter_iota_u32", "without_u32",
    "index_get", "index_insert",
)
_U32_MAX = 2**32 - 1
# Bytes of scratch compact may allocate to move a buffer's allocated rows in streaming
# passes (k rows); a buffer whose rows need more moves by following cycles instead.
PARTITION_SCRATCH = 64 << 20


class Kernel(Protocol):
    """The kernel's exports, callable with buffers."""

    def run(self, name: str, args: tuple, writes: tuple = ()) -> Any:
        """Call export ``name``; buffers in ``args`` are passed by address."""


def _u32(count: int) -> array:
    return array("I", bytes(4 * count))


def _i32(value: int) -> int:
    """A u32 as the i32 with the same bits (what a WebAssembly i32 parameter holds)."""
    return value - (1 << 32) if value >= 1 << 31 else value


def _itemsize(buffer) -> int:
    return getattr(buffer, "itemsize", 1)


def _typecode(buffer) -> str:
    return getattr(buffer, "typecode", "B")


def _as_u32(columns) -> array | None:
    """``columns`` as an ``array('I')`` (no copy when it is one), or None when an item
    is not a u32 (the reference then decides what happens)."""
    if isinstance(columns, array) and columns.typecode == "I":
        return columns
    try:
        return array("I", columns)
    except (OverflowError, TypeError):
        return None


def _bits(values) -> int:
    """log2 of a concept index's capacity (its ``values`` hold a power of two items)."""
    return len(values).bit_length() - 1


def _int_bounds(low, high, top: int) -> tuple[int, int] | None:
    """The integers ``v`` in ``0..top`` with ``low <= v <= high``, as (first, last), or
    None when there are none (NaN bounds included)."""
    if not (low <= top and high >= 0):  # also false for NaN
        return None
    first = 0 if low <= 0 else math.ceil(low)
    last = top if high >= top else math.floor(high)
    return (first, last) if first <= last else None


class WasmScans:
    """Column scans by the WebAssembly SIMD kernel (see the module docstring)."""

    name = "wasm"

    def __init__(self, kernel: Kernel, *, partition_scratch: int = PARTITION_SCRATCH):
        self._kernel = kernel
        self._partition_scratch = partition_scratch  # see PARTITION_SCRATCH
        self._reference = ReferenceScans()
        self._score = array("f", [0.0])  # best_match's second result

    def count(self, state: bytearray, value: int) -> int:
        if not 0 <= value <= 255:
            return self._reference.count(state, value)
        return self._kernel.run("count_u8", (state, len(state), value))

    def indices(self, state: bytearray, value: int, stop: int) -> list[int]:
        if not 0 <= value <= 255:
            return self._reference.indices(state, value, stop)
        n = slice(0, stop).indices(len(state))[1]  # find()'s reading of stop
        total = self._kernel.run("count_u8", (state, n, value))
        out = _u32(total)
        written = self._kernel.run("indices_u8", (state, n, value, out, total), (out,))
        if written != total:
            raise InternalError(f"indices_u8 wrote {written} columns where count_u8 counted {total}")
        return out.tolist()

    def largest_run(self, state: bytearray, value: int) -> int:
        if not 0 <= value <= 255:
            return self._reference.largest_run(state, value)
        return self._kernel.run("largest_run_u8", (state, len(state), value))

    def gather(self, buffer, columns: Sequence[int]) -> list:
        gathered = self._gather(buffer, columns)
        if gathered is None:
            return self._reference.gather(buffer, columns)
        return gathered.tolist() if isinstance(gathered, array) else list(gathered)

    def _gather(self, buffer, columns):
        """``buffer[c] for c in columns`` as a buffer of buffer's type, or None when the
        kernel cannot do it. Raises IndexError for a column outside ``buffer``."""
        size = _itemsize(buffer)
        idx = _as_u32(columns)
        if size not in (1, 4) or idx is None:
            return None
        k = len(idx)
        if size == 1:
            out, export = bytearray(k), "gather_u8"
        else:
            out, export = array(buffer.typecode, bytes(4 * k)), "gather_u32"
        if k:
            done = self._kernel.run(export, (buffer, len(buffer), idx, k, out), (out,))
            if done != k:
                raise IndexError(f"column {idx[done]} is outside the {len(buffer)} columns")
        return out

    def count_between(self, buffer, columns: Sequence[int] | None, low: float, high: float) -> int:
        values = buffer if columns is None else self._gather(buffer, columns)
        typecode = _typecode(buffer)
        if values is None or typecode not in ("B", "I", "f") or _itemsize(buffer) != (
                1 if typecode == "B" else 4):
            return self._reference.count_between(buffer, columns, low, high)
        n = len(values)
        if not n:
            return 0
        if typecode == "f":
            return self._kernel.run("count_between_f32", (values, n, float(low), float(high)))
        bounds = _int_bounds(low, high, 255 if typecode == "B" else _U32_MAX)
        if bounds is None:
            return 0
        if typecode == "B":
            return self._kernel.run("count_between_u8", (values, n, *bounds))
        return self._kernel.run("count_between_u32", (values, n, *map(_i32, bounds)))

    def best_match(self, state: bytearray, fields, stride: int, query) -> tuple[int, float]:
        n = len(state)
        if stride % 4 or len(query) != stride or len(fields) < n * stride:
            raise InternalError(
                f"best_match needs a stride that is a multiple of 4, a query of that length "
                f"and {n} rows of fields: got stride {stride}, query {len(query)}, "
                f"fields {len(fields)}")
        if _typecode(fields) != "f" or _typecode(query) != "f":
            raise InternalError("best_match needs float32 fields and query (array('f'))")
        score = self._score
        column = self._kernel.run(
            "best_match", (state, n, fields, stride, query, score), (score,))
        if column < 0:
            return -1, 0.0
        return column, (math.nan if score[0] != score[0] else score[0])

    def init_fields(self, fields, dim: int, stride: int, seed: int) -> None:
        if not stride:
            return
        if dim > stride or _typecode(fields) != "f" or len(fields) % stride:
            raise InternalError(f"init_fields needs float32 rows of {stride} >= dim {dim} items")
        key = fdef.stream_key(seed, fdef.FIELD_STREAM)
        self._kernel.run(
            "init_fields",
            (fields, len(fields) // stride, dim, stride, _i32(key & _U32_MAX), _i32(key >> 32)),
            (fields,))

    def compact(self, state: bytearray, usage, buffers) -> array:
        n = len(state)
        rows = [(buffer, width * _itemsize(buffer)) for buffer, width in buffers]
        if len(usage) != n or _typecode(usage) != "I" or any(
                len(buffer) * _itemsize(buffer) != n * row for buffer, row in rows):
            raise InternalError(f"compact needs usage (u32) and every buffer to hold {n} rows")
        k = self.count(state, ALLOCATED)
        m = n - self.count(state, REFRACTORY)
        slots, perm, tmp, counts, moved = _u32(m), _u32(m), _u32(k), _u32(256), _u32(k)
        changes = self._kernel.run(
            "compact_plan", (state, n, usage, slots, m, perm, k, tmp, counts, moved),
            (slots, perm, tmp, counts, moved))
        if changes:  # otherwise the permutation is the identity
            # streaming passes through k saved rows where they fit in PARTITION_SCRATCH,
            # else the permutation's cycles through one row (slower: it jumps about)
            limit = self._partition_scratch
            fits = [row for _, row in rows if k * row <= limit]
            scratch = bytearray(max([k * row for row in fits] + [row for _, row in rows]))
            for buffer, row in rows:
                if k * row <= limit:
                    self._kernel.run("permute_partition", (buffer, row, slots, perm, m, k, scratch),
                                     (buffer, scratch))
                else:
                    self._kernel.run("permute_rows", (buffer, row, slots, perm, m, scratch),
                                     (buffer, scratch))
        return moved[:changes]

    def scatter(self, buffer, indices: Sequence[int], values: Sequence[int]) -> None:
        idx = _as_u32(indices)
        iota = isinstance(values, range) and values.step == 1 and 0 <= values.start < 1 << 32
        vals = None if iota else _as_u32(values)
        if (_typecode(buffer) != "I" or idx is None or (vals is None and not iota)
                or len(idx) != len(values)):
            return self._reference.scatter(buffer, indices, values)
        k = len(idx)
        if not k:
            return
        if iota:
            done = self._kernel.run(
                "scatter_iota_u32", (buffer, len(buffer), idx, k, _i32(values.start)), (buffer,))
        else:
            done = self._kernel.run("scatter_u32", (buffer, len(buffer), idx, k, vals), (buffer,))
        if done != k:
            raise IndexError(f"scatter index {idx[done]} is outside the {len(buffer)} items")

    def without(self, buffer, value: int):
        if _typecode(buffer) != "I" or not 0 <= value <= _U32_MAX:
            return self._reference.without(buffer, value)
        out = _u32(len(buffer))
        if len(buffer):
            kept = self._kernel.run("without_u32", (buffer, len(buffer), _i32(value), out), (out,))
            del out[kept:]
        return out

    def index_get(self, values, concept, keys: Sequence[int]) -> array:
        wanted = _as_u32(keys)
        if wanted is None or _typecode(concept) != "I":
            return self._reference.index_get(values, concept, keys)
        out = _u32(len(wanted))
        if len(wanted):
            self._kernel.run(
                "index_get", (values, _bits(values), concept, wanted, len(wanted), out), (out,))
        return out

    def index_insert(self, values, concept, columns: Sequence[int]) -> bool:
        idx = _as_u32(columns)
        if idx is None or _typecode(concept) != "I":
            return self._reference.index_insert(values, concept, columns)
        if not len(idx):
            return True
        result = self._kernel.run(
            "index_insert", (values, _bits(values), concept, len(concept), idx, len(idx)),
            (values,))
        if result == 2:
            raise IndexError(f"a column is outside the {len(concept)} columns")
        return result == 0


class PyodideKernel:
    """The kernel instantiated on Pyodide's own memory (``web/kernel.js``).

    ``exports`` is the instance's exports object (``cortexkg.host.wasm_kernel()``). A
    buffer is passed as its address: the kernel reads and writes it in place. The
    engine's buffers are allocated once and never resized, so their addresses stay valid;
    if Pyodide's memory grows, the kernel sees the grown memory, since it is the same one.
    """

    def __init__(self, exports):
        import ctypes  # a bytearray has no buffer_info(); ctypes reads its address

        # imported here, once per engine: inside Pyodide the import takes milliseconds,
        # which the first allocation would otherwise pay
        self._addressof, self._char = ctypes.addressof, ctypes.c_char
        self._functions = {name: getattr(exports, name) for name in EXPORTS}

    def address(self, buffer) -> int:
        """The address of a buffer's first byte in Pyodide's memory."""
        try:
            return buffer.buffer_info()[0]
        except AttributeError:
            if not len(buffer):
                return 0  # nothing is read at it
            return self._addressof(self._char.from_buffer(buffer))

    def run(self, name: str, args: tuple, writes: tuple = ()) -> Any:
        return self._functions[name](*[
            a if type(a) is int or type(a) is float else self.address(a) for a in args])
