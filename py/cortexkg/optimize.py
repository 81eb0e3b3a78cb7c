"""Defragmentation and usage rebalancing, and the fragmentation they remove.

One permutation does both: allocated concepts move to the lowest non-refractory columns
(stable compaction), ordered there by usage, highest first (ties keep their order), so
the hottest concepts sit together at the front of every buffer.
"""

from __future__ import annotations

from .columns import AVAILABLE, ColumnStore
from .concept_index import ConceptIndex
from .free_columns import FirstFitFree


def compact(columns: ColumnStore, index: ConceptIndex, scans) -> int:
    """Apply the permutation; return how many concepts moved. A concept's column state,
    allocation record and field travel with it; refractory columns stay put."""
    moved = scans.compact(columns.state, columns.usage, [*columns.rows(), (index.position, 1)])
    if moved:
        index.moved(moved)
    return len(moved)


def rebuild_free(free: FirstFitFree | None, state: bytearray, scans) -> None:
    """Recompute the first-fit free set (None: another strategy) from ``state``, after
    columns moved wholesale (an optimize or a restore)."""
    if free is None:
        return
    frontier = len(state.rstrip(bytes([AVAILABLE])))
    free.reset(scans.indices(state, AVAILABLE, frontier), frontier)


def fragmentation(state: bytearray, scans, available: int) -> float:
    """``1 - largest_free_run / available`` (0.0 when nothing is available): how far the
    available columns are from one run (what :func:`compact` reduces)."""
    if not available:
        return 0.0
    return 1.0 - scans.largest_run(state, AVAILABLE) / available
