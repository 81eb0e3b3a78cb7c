"""Checks of user input shared by the engine and the facade.

Each check returns the normalized value or raises a typed error naming the value, so a
rejected call can fail before it changes anything.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Iterable

from .errors import InvalidConceptIdError

MAX_CONCEPT_ID = 2**32 - 1


def concept_id(value: Any) -> int:
    """An int in 0..2**32-1; numpy integer scalars are accepted, bool and float are not."""
    if type(value) is not int:
        value = _exact_integer(value, "concept id", InvalidConceptIdError,
                               f"an integer in 0..{MAX_CONCEPT_ID}")
    if not 0 <= value <= MAX_CONCEPT_ID:
        raise InvalidConceptIdError(
            f"Invalid concept id {value!r}: expected an integer in 0..{MAX_CONCEPT_ID}"
        )
    return value


def _exact_integer(value: Any, name: str, error: type[Exception], expected: str) -> int:
    """``operator.index(value)`` (ints and numpy integers), rejecting bools."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise error(f"Invalid {name} {value!r} (bool): expected {expected}")
    try:
        return operator.index(value)
    except TypeError:
        raise error(
            f"Invalid {name} {value!r} ({type(value).__name__}): expected {expected}"
        ) from None


def concept_ids(values: Any) -> list[int]:
    """A batch of concept ids, validated as a whole before anything is applied."""
    ids = sequence(values, "concept id batch", InvalidConceptIdError)
    if all(type(v) is int for v in ids) and (not ids or 0 <= min(ids) <= max(ids) <= MAX_CONCEPT_ID):
        return ids  # the common case, checked at C speed
    for index, value in enumerate(ids):
        try:
            ids[index] = concept_id(value)
        except InvalidConceptIdError as error:
            raise InvalidConceptIdError(f"{error} (at batch index {index})") from None
    return ids


def embedding(values: Any, dim: int) -> list[float]:
    """A finite embedding of exactly `dim` numbers, as floats (not yet normalized)."""
    items = sequence(values, f"embedding (expected {dim} numbers)")
    if len(items) != dim:
        raise ValueError(
            f"Invalid embedding of length {len(items)}: expected {dim} numbers (dim={dim})"
        )
    out = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise ValueError(
                f"Invalid embedding value {item!r} at index {index}: expected a number"
            )
        item = float(item)
        if not math.isfinite(item):
            raise ValueError(
                f"Invalid embedding value {item!r} at index {index}: expected a finite number"
            )
        out.append(item)
    if dim and not any(out):
        raise ValueError("Invalid embedding: all zeros cannot be normalized")
    return out


def non_negative_int(name: str, value: Any, *, maximum: int | None = None) -> int:
    """An int >= 0 (and <= maximum when given) for a configuration parameter."""
    bound = f" in 0..{maximum}" if maximum is not None else " >= 0"
    value = _exact_integer(value, name, ValueError, f"an integer{bound}")
    if value < 0 or (maximum is not None and value > maximum):
        raise ValueError(f"Invalid {name} {value!r}: expected an integer{bound}")
    return value


def non_negative_finite(name: str, value: Any) -> float:
    """A finite real >= 0 (refractory time, activation strength)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name} {value!r}: expected a finite number >= 0")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {name} {value!r}: expected a finite number >= 0")
    return value


def sequence(values: Any, what: str, error: type[Exception] = ValueError) -> list:
    """A list from a sequence, array or numpy array; ``error`` for anything else."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise error(f"Invalid {what} {values!r}: expected a sequence")
    return values.tolist() if hasattr(values, "tolist") else list(values)
