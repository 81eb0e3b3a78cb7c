"""The concept index: concept id -> column, and the allocation order, in flat u32 buffers.

The index is a linear-probing hash table of columns: ``values[s]``, one ``array('I')``
of ``capacity`` slots, holds the column of the concept in slot ``s``, or ``EMPTY``; the
concept itself is the column's own ``concept`` entry (the column store's buffer), so
the table stores no keys. ``capacity`` is the power of two ``2**bits >= 2 * column_count``:
the table is never more than half full and is allocated once. A concept's home slot is
the top ``bits`` bits of ``concept * HASH_MULTIPLIER mod 2**32`` (Fibonacci hashing); a
lookup walks from there to its column or to a free slot. Removal shifts the later
entries of the run back (no tombstones), so every run stays a valid probe sequence.
Since keys are read through the columns, moving concepts between columns (optimize)
rebuilds the table.

The allocation order (history) is ``order``: columns in allocation order, with ``EMPTY``
where a concept has left, and ``position[column]``, the index of a column's entry in
``order``. Left entries are squeezed out when they outnumber the live ones and before
the order is read.

Why not a dict: a restore (page load) would rebuild it one Python int at a time, about
100 ms per million concepts in CPython and Pyodide alike, with about 100 bytes per
concept, where this takes 12 to 20. Single operations are a few array reads in Python,
and every bulk step (build on restore and optimize, lookups of a batch, squeeze) is one
scan (:mod:`cortexkg.scans`), vectorized by numpy or by the WebAssembly kernel.
"""

from __future__ import annotations

from array import array
from typing import Sequence

from .errors import InternalError, StateError

EMPTY = 0xFFFFFFFF  # a free slot's column in the table; a left entry in the order
HASH_MULTIPLIER = 0x9E3779B1  # Fibonacci hashing: 2**32 / golden ratio
_U32 = 0xFFFFFFFF


def table_bits(column_count: int) -> int:
    """log2 of the table capacity for ``column_count`` columns (capacity >= 2 * count)."""
    return max(1, (2 * column_count - 1).bit_length())


def empty_table(column_count: int) -> array:
    """The free table of an index of ``column_count`` columns."""
    # array * count fills by doubling copies: several times faster than array(bytes)
    return array("I", [EMPTY]) * (1 << table_bits(column_count))


def probes(values: array, concept: array):
    """``(home, slot)`` for the table ``values`` over the columns' ``concept`` buffer (the
    definition every scan implementation follows): ``home(key)`` is the slot where
    ``key``'s probe sequence starts; ``slot(key)`` the slot holding ``key``'s column, or
    the free slot where its probe sequence ends (``values[slot] == EMPTY``), where it
    would go.
    """
    capacity = len(values)
    shift, mask, multiplier = 33 - capacity.bit_length(), capacity - 1, HASH_MULTIPLIER

    def home(key: int) -> int:
        return ((key * multiplier) & _U32) >> shift

    def slot(key: int) -> int:  # home() inlined: this is every allocation's hot path
        s = ((key * multiplier) & _U32) >> shift
        while (column := values[s]) != EMPTY and concept[column] != key:
            s = (s + 1) & mask
        return s

    return home, slot


class ConceptIndex:
    """Concept -> column for ``concept`` (the column store's buffer), and the order.

    ``slot(key)`` is the table's probe (see :func:`probes`): ``values[slot]`` is the
    concept's column, or ``EMPTY`` when it is not mapped; :meth:`add` then takes that
    slot. A column's ``concept`` entry must be written before it is added, and cleared
    only after it is popped.
    """

    def __init__(self, concept: array, scans):
        self._scans = scans
        self.concept = concept
        self.values = empty_table(len(concept))
        self.position = array("I", [0]) * len(concept)
        self.order = array("I")
        self.size = 0  # live concepts
        self._left = 0  # EMPTY entries in order
        self._home, self.slot = probes(self.values, concept)

    def __len__(self) -> int:
        return self.size

    def get(self, key: int) -> int | None:
        """The concept's column, or None."""
        column = self.values[self.slot(key)]
        return None if column == EMPTY else column

    def add(self, column: int, s: int) -> None:
        """Map the concept of ``column``, which is not mapped, to it: the newest
        allocation, whose :meth:`slot` is ``s``."""
        self.values[s] = column
        self.position[column] = len(self.order)
        self.order.append(column)
        self.size += 1

    def pop(self, key: int) -> int | None:
        """Unmap a concept; return its column, or None when it was not mapped."""
        values, concept, home = self.values, self.concept, self._home
        hole = j = self.slot(key)
        column = values[hole]
        if column == EMPTY:
            return None
        mask = len(values) - 1
        while True:  # shift back every entry of the run that may move into the hole
            j = (j + 1) & mask
            moving = values[j]
            if moving == EMPTY:
                break
            if (j - home(concept[moving])) & mask >= (j - hole) & mask:  # hole on its path
                values[hole] = moving
                hole = j
        values[hole] = EMPTY
        self.order[self.position[column]] = EMPTY
        self.size -= 1
        self._left += 1
        if 2 * self._left > len(self.order):
            self._squeeze()
        return column

    def get_many(self, keys: Sequence[int]) -> array:
        """The column of each concept (``EMPTY`` when not mapped), as an ``array('I')``."""
        return self._scans.index_get(self.values, self.concept, keys)

    def add_many(self, columns: array) -> None:
        """:meth:`add` for each of ``columns`` (an ``array('I')``), in allocation order."""
        if not self._scans.index_insert(self.values, self.concept, columns):
            raise InternalError("add_many was given a concept that is mapped already")
        start = len(self.order)
        self.order.extend(columns)
        self._scans.scatter(self.position, columns, range(start, len(self.order)))
        self.size += len(columns)

    def restore(self, order: array, column_count: int) -> None:
        """Map the concepts of the columns of ``order`` (a stored allocation order, an
        ``array('I')`` the index takes as its own) into this empty index; raises
        :class:`StateError` when ``order`` cannot be one of ``column_count`` columns."""
        if len(order) > column_count:
            raise StateError(f"The allocation order holds {len(order)} columns, more than "
                             f"the engine's {column_count}")
        try:
            distinct = self._scans.index_insert(self.values, self.concept, order)
        except IndexError:
            raise StateError("The allocation order names a column outside the engine") from None
        if not distinct:
            raise StateError("The allocation order holds a concept or column twice")
        self.order = order
        self._scans.scatter(self.position, order, range(len(order)))
        self.size = len(order)
        return True

    def moved(self, columns: Sequence[int]) -> None:
        """Concepts moved into ``columns`` (optimize), each column's ``position`` with it."""
        scans = self._scans
        scans.scatter(self.order, scans.gather(self.position, columns), columns)
        self.values[:] = empty_table(len(self.concept))
        if not scans.index_insert(self.values, self.concept, self.columns()):
            raise InternalError("optimize left a concept in two columns")

    def columns(self) -> array:
        """The mapped columns in allocation order (the live ``order``)."""
        if self._left:
            self._squeeze()
        return self.order

    def _squeeze(self) -> None:
        scans = self._scans
        self.order = scans.without(self.order, EMPTY)
        scans.scatter(self.position, self.order, range(len(self.order)))
        self._left = 0
