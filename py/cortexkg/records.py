"""What the engine reports about allocations and columns, as plain dicts for the API.

Read-only views over the buffers: the engine decides when to take them (refractory
columns expired, activation decayed to now), these functions only shape them. The keys
are the JavaScript API's (camelCase).
"""

from __future__ import annotations

from . import validation as check
from .columns import ALLOCATED, STATE_NAMES, ColumnStore
from .concept_index import ConceptIndex
from .errors import InvalidInputError


def history(columns: ColumnStore, index: ConceptIndex, start: int | None,
            stop: int | None) -> list[dict]:
    """One record per live allocation, in allocation order, sliced like a list."""
    for name, value in (("start", start), ("stop", stop)):
        if value is not None and (type(value) is not int):
            raise InvalidInputError(
                f"Invalid history {name} {check.quoted(value)}: expected an integer or None")
    concept, at, confidence = columns.concept, columns.allocated_at, columns.confidence
    return [
        {"conceptId": concept[col], "columnId": col, "timestamp": at[col],
         "confidence": confidence[col]}
        for col in index.columns()[start:stop]
    ]


def column_id(column_id: int, column_count: int) -> int:
    """``column_id`` checked against the engine's columns."""
    col = check.non_negative_int("column id", column_id, maximum=max(column_count - 1, 0))
    if col >= column_count:
        raise InvalidInputError(
            f"Invalid column id {check.quoted(column_id)}: the engine has no columns")
    return col


def column(columns: ColumnStore, col: int, dim: int, activation: float) -> dict:
    """Column ``col``'s record, with its ``activation`` as of now (decayed by the caller);
    confidence and timestamp describe its concept, so they are None without one."""
    stride = columns.stride
    state = columns.state[col]
    allocated = state == ALLOCATED
    return {
        "id": col,
        "conceptId": columns.concept[col] if allocated else None,
        "activation": activation,
        "state": STATE_NAMES[state],
        "usage": columns.usage[col],
        "confidence": columns.confidence[col] if allocated else None,
        "timestamp": columns.allocated_at[col] if allocated else None,
        "field": columns.fields[col * stride : col * stride + dim].tolist(),
    }
