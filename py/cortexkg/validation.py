"""Checks of user input shared by the engine and the facade.

Each check returns the normalized value or raises a typed error naming the value, so a
rejected call can fail before it changes anything.
"""

from __future__ import annotations

import math
from array import array
from typing import Any, Iterable

from .errors import InvalidConceptIdError

MAX_CONCEPT_ID = 2**32 - 1


def concept_id(value: Any) -> int:
    """An int in 0..2**32-1; numpy integer scalars are accepted, bool and float are not."""
    if type(value) is not int:
        if isinstance(value, bool) or not _is_integer_scalar(value):
            raise InvalidConceptIdError(
                f"Invalid concept id {value!r} ({type(value).__name__}): "
                f"expected an integer in 0..{MAX_CONCEPT_ID}"
            )
        value = int(value)
    if not 0 <= value <= MAX_CONCEPT_ID:
        raise InvalidConceptIdError(
            f"Invalid concept id {value!r}: expected an integer in 0..{MAX_CONCEPT_ID}"
        )
    return value


def _is_integer_scalar(value: Any) -> bool:
    # numpy integer scalars (and other exact-integer types) define __index__; floats do not.
    return hasattr(type(value), "__index__") and not isinstance(value, (str, bytes))


def concept_ids(values: Any) -> list[int]:
    """A batch of concept ids, validated as a whole before anything is applied."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise InvalidConceptIdError(
            f"Invalid concept id batch {values!r}: expected a sequence of integers"
        )
    if isinstance(values, array) and values.typecode in "bBhHiIlLqQ":
        ids = values.tolist()
    elif hasattr(values, "tolist") and hasattr(values, "dtype"):  # numpy array
        ids = values.tolist()
    else:
        ids = list(values)
    for index, value in enumerate(ids):
        try:
            ids[index] = concept_id(value)
        except InvalidConceptIdError as error:
            raise InvalidConceptIdError(f"{error} (at batch index {index})") from None
    return ids


def embedding(values: Any, dim: int) -> list[float]:
    """A finite embedding of exactly `dim` numbers, as floats (not yet normalized)."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise ValueError(f"Invalid embedding {values!r}: expected a sequence of {dim} numbers")
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    if len(items) != dim:
        raise ValueError(
            f"Invalid embedding of length {len(items)}: expected {dim} numbers (dim={dim})"
        )
    out = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            try:
                item = float(item)  # numpy scalars
            except (TypeError, ValueError):
                raise ValueError(
                    f"Invalid embedding value {item!r} at index {index}: expected a number"
                ) from None
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
    if type(value) is bool or not isinstance(value, int):
        raise ValueError(f"Invalid {name} {value!r}: expected a non-negative integer")
    if value < 0 or (maximum is not None and value > maximum):
        bound = f" in 0..{maximum}" if maximum is not None else " >= 0"
        raise ValueError(f"Invalid {name} {value!r}: expected an integer{bound}")
    return value


def non_negative_finite(name: str, value: Any) -> float:
    """A finite real >= 0 (refractory time, activation strength)."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise ValueError(f"Invalid {name} {value!r}: expected a finite number >= 0")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {name} {value!r}: expected a finite number >= 0")
    return value
