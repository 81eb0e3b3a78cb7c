"""Batch allocation and deallocation: chunking, placement of a chunk, and the results.

A batch equals its calls one by one except that each chunk happens at one instant (one
clock reading, one timestamp), so the clock is read per chunk rather than per id, and a
first-fit chunk without embeddings is placed by whole-buffer operations.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any, Callable, Iterator

from . import validation as check
from .columns import ColumnStore
from .concept_index import EMPTY, ConceptIndex
from .errors import NO_FREE_COLUMNS, InvalidInputError, not_allocated
from .free_columns import FirstFitFree

BATCH_CHUNK = 65536  # ids per chunk of a batch: one clock reading, one progress report


def chunks(count: int) -> Iterator[tuple[int, int]]:
    """``(first, last)`` bounds of each chunk of ``count`` ids."""
    for first in range(0, count, BATCH_CHUNK):
        yield first, min(first + BATCH_CHUNK, count)


def embeddings(given: Any, count: int, dim: int) -> list | None:
    """A batch's embeddings checked (None, or one embedding or None per id)."""
    if given is None:
        return None
    items = check.sequence(given, "embeddings (expected one per concept id)")
    if len(items) != count:
        raise InvalidInputError(
            f"Invalid embeddings: {len(items)} given for {count} concept ids"
        )
    return [None if e is None else check.embedding(e, dim) for e in items]


def place_one_by_one(ids: list[int], given: list | None, index: ConceptIndex,
                     place: Callable, hit: Callable, wall_ms: float) -> None:
    """Each id as :meth:`AllocationEngine.allocate_concept` would, at ``wall_ms``:
    ``place(cid, embedding, wall_ms, slot)`` a new one, ``hit(col, 1)`` an allocated one."""
    slot, values = index.slot, index.values
    for position, cid in enumerate(ids):
        s = slot(cid)
        if values[s] != EMPTY:
            hit(values[s], 1)
        else:
            place(cid, None if given is None else given[position], wall_ms, s)


def place_first_fit(ids: list[int], index: ConceptIndex, columns: ColumnStore,
                    free: FirstFitFree, available: int, hit: Callable, wall_ms: float) -> int:
    """Vectorized first fit: new ids take the lowest columns in first-seen order, up to
    ``available``; ``hit(col, count)`` for the repeats. Returns how many were placed."""
    counts = Counter(ids)
    unique = list(counts)
    before = index.get_many(unique)
    new = [c for c, col in zip(unique, before) if col == EMPTY]
    placed = new[: min(len(new), available)]
    popped, fresh = free.take_many(len(placed))
    for cid, col in zip(placed, popped):
        columns.place(col, cid, wall_ms, 1.0, None)
    columns.place_range(fresh.start, placed[len(popped):], wall_ms)
    index.add_many(array("I", popped) + array("I", fresh))
    after = index.get_many(unique) if placed else before
    # usage hits: every occurrence of an allocated id, every repeat of a new one
    for count, was, col in zip(counts.values(), before, after):
        if col != EMPTY and count > (was == EMPTY):
            hit(col, count - (was == EMPTY))
    return len(placed)


def allocation_results(ids: list[int], found: array, columnar: bool):
    """One result per id from the columns ``found`` after the batch (EMPTY: it failed)."""
    if columnar:
        columns = array("i", found.tobytes())  # EMPTY reads as -1
        return {"conceptIds": array("I", ids), "columnIds": columns,
                "errors": [NO_FREE_COLUMNS] * columns.count(-1)}
    failure = {"success": False, "error": NO_FREE_COLUMNS}
    return [
        {"conceptId": c, "columnId": col, "success": True}
        if col != EMPTY else {"conceptId": c, **failure}
        for c, col in zip(ids, found)
    ]


def deallocation_results(ids: list[int], released: array, columnar: bool):
    """One result per id from the columns ``released`` (-1: it was not allocated)."""
    if columnar:
        errors = [not_allocated(c) for c, col in zip(ids, released) if col < 0]
        return {"conceptIds": array("I", ids), "columnIds": released, "errors": errors}
    return [
        {"conceptId": c, "success": True, "columnId": col} if col >= 0
        else {"conceptId": c, "success": False, "error": not_allocated(c)}
        for c, col in zip(ids, released)
    ]
