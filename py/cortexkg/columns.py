"""Columnar per-column state: one fixed-size stdlib buffer per field, allocated once.

Column state proper is 13 bytes per column (``state`` 1, ``concept`` 4, ``activation`` 4,
``usage`` 4). The allocation record of the concept in a column (``allocated_at`` 8,
``activated_ms`` 4, ``confidence`` 4) and the receptive ``fields`` (4 * stride) sit beside it. Nothing here is
ever resized, so buffer addresses stay valid for zero-copy views and kernels.
"""

from __future__ import annotations

from array import array

# A column's state, one byte each in ``ColumnStore.state`` (the scans and the kernel read
# these codes; STATE_NAMES are their names in the public API).
AVAILABLE, ALLOCATED, REFRACTORY = 0, 1, 2
STATE_NAMES = ("available", "allocated", "refractory")

# name -> typecode of every per-column buffer except ``fields`` (a bytearray for "B").
ROW_TYPECODES = {
    "state": "B",
    "concept": "I",
    "activation": "f",
    # ms from the allocation (``allocated_at``) to the last activation: activation decays
    # from there (float32 is exact to 8 ms a day after the allocation, plenty for a decay)
    "activated_ms": "f",
    "usage": "I",
    "allocated_at": "d",
    "confidence": "f",
}
if array("I").itemsize != 4:  # every u32 buffer, the kernel's and the snapshots', needs it
    raise ImportError(f"cortexkg needs a 4-byte array('I'), not {array('I').itemsize} bytes")


def _zeros(typecode: str, count: int):
    if typecode == "B":
        return bytearray(count)
    return array(typecode, bytes(array(typecode).itemsize * count))


class ColumnStore:
    """The buffers of ``count`` columns with ``stride`` field floats each."""

    def __init__(self, count: int, stride: int):
        self.stride = stride
        self.state: bytearray = _zeros("B", count)
        self.concept: array = _zeros("I", count)
        self.activation: array = _zeros("f", count)
        self.activated_ms: array = _zeros("f", count)
        self.usage: array = _zeros("I", count)
        self.allocated_at: array = _zeros("d", count)
        self.confidence: array = _zeros("f", count)
        self.fields: array = _zeros("f", count * stride)

    @classmethod
    def adopt(cls, stride: int, buffers: dict) -> "ColumnStore":
        """A store that takes ``buffers`` (by name, of the right types and sizes) as its own."""
        store = cls.__new__(cls)
        store.stride = stride
        for name in (*ROW_TYPECODES, "fields"):
            setattr(store, name, buffers[name])
        return store

    def buffers(self) -> dict:
        """Every buffer by name (the per-column rows, then ``fields``)."""
        out = {name: getattr(self, name) for name in ROW_TYPECODES}
        out["fields"] = self.fields
        return out

    def rows(self) -> list[tuple[object, int]]:
        """``(buffer, width)`` of every buffer, for moving whole columns."""
        rows = [(getattr(self, name), 1) for name in ROW_TYPECODES]
        if self.stride:
            rows.append((self.fields, self.stride))
        return rows

    def place(self, column: int, concept: int, wall_ms: float, confidence: float, query) -> None:
        """Write a new allocation into ``column`` (activation 1.0, usage 0)."""
        self.state[column] = ALLOCATED
        self.concept[column] = concept
        self.activation[column] = 1.0
        self.activated_ms[column] = 0.0
        self.usage[column] = 0
        self.allocated_at[column] = wall_ms
        self.confidence[column] = confidence
        if query is not None:
            stride = self.stride
            self.fields[column * stride : column * stride + stride] = query

    def place_range(self, start: int, concepts: list[int], wall_ms: float) -> None:
        """``place`` for consecutive columns from ``start`` (confidence 1.0, no fields)."""
        stop = start + len(concepts)
        count = len(concepts)
        self.state[start:stop] = bytes([ALLOCATED]) * count
        self.concept[start:stop] = array("I", concepts)
        self.activation[start:stop] = array("f", [1.0]) * count
        self.activated_ms[start:stop] = _zeros("f", count)
        self.usage[start:stop] = _zeros("I", count)
        self.allocated_at[start:stop] = array("d", [wall_ms]) * count
        self.confidence[start:stop] = array("f", [1.0]) * count

    def release(self, column: int, state: int = AVAILABLE) -> None:
        """Reset ``column`` after its concept left; its field stays (it was learned)."""
        self.state[column] = state
        self.concept[column] = 0
        self.activation[column] = 0.0
        self.activated_ms[column] = 0.0
        self.usage[column] = 0
        self.allocated_at[column] = 0.0
        self.confidence[column] = 0.0
