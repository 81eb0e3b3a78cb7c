"""Checks of user input shared by the engine and the facade.

Each check returns the normalized value or raises a typed error naming the value, so a
rejected call can fail before it changes anything.
"""

from __future__ import annotations

import json
import math
import numbers
import operator
import re
import reprlib
from itertools import accumulate, count
from typing import Any, Iterable, Sized

from .errors import InvalidConceptIdError, InvalidInputError, StateError

MAX_CONCEPT_ID = 2**32 - 1
QUOTE_LIMIT = 80  # characters of a value quoted in an error message

# Bounded reprs: a few items of a container, a few levels deep (so a hostile value nested
# 100,000 deep or 5 MB long cannot make a message recurse or grow without bound).
_REPR = reprlib.Repr()  # keyword arguments need Python 3.12
_REPR.maxlevel = 3
_REPR.maxtuple = _REPR.maxlist = _REPR.maxarray = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxfrozenset = _REPR.maxdeque = 8
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = QUOTE_LIMIT
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# bracket -> 2 for one that opens a level, 0 for one that closes it; other bytes deleted
_BRACKET_STEPS = bytes.maketrans(b"[{]}", bytes([2, 2, 0, 0]))
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message: at most about ``limit`` characters, a longer
    one cut with "… (N chars)" (N: the length of the string, or of the whole repr)."""
    if type(value) is int and value.bit_length() > 4 * limit:  # repr would be huge, or refused
        return f"<an integer of {value.bit_length()} bits>"
    if isinstance(value, (str, bytes, bytearray)) and len(value) > limit:
        unit = "chars" if isinstance(value, str) else "bytes"
        return f"{value[:limit]!r}… ({len(value)} {unit})"
    if hasattr(value, "js_id"):  # a JavaScript value left unconverted (Pyodide's JsProxy)
        return _javascript(value, limit)
    try:
        text = _REPR.repr(value)
    except Exception:  # a foreign object whose repr fails
        return f"<{type(value).__name__}>"
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text)} chars)"
    return text


def _javascript(value: Any, limit: int) -> str:
    """A JavaScript value named by its constructor, and by its text unless it has a length
    (the text of the array [1] is "1", which would read as a number): ``<JavaScript Array
    of length 1>``, ``<JavaScript Date Thu Jan 01 1970 …>``."""
    try:
        kind = value.constructor.name
    except Exception:  # an object without a prototype
        kind = "object"
    length = getattr(value, "length", None)
    if type(length) is int:
        return f"<JavaScript {kind} of length {length}>"
    try:
        text = str(value)
    except Exception:  # its String() throws
        return f"<JavaScript {kind}>"
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text)} chars)"
    return f"<JavaScript {kind} {text}>"


def stored_json(raw: bytes, what: str, *, max_bytes: int, max_depth: int) -> Any:
    """Stored or imported JSON of bounded size and nesting, parsed; :class:`StateError`
    naming ``what`` otherwise.

    The nesting is measured before parsing, by a scan that does not recurse: a parser
    recurses once per level, and Pyodide's C stack overflows (fatally) a few thousand
    levels down.
    """
    if len(raw) > max_bytes:
        raise StateError(f"{what} is {len(raw)} bytes long, more than {max_bytes}")
    steps = _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    # the depth after each bracket: (running sum of steps) - (brackets so far), in C
    deepest = max(map(operator.sub, accumulate(steps), count(1)), default=0)
    if deepest > max_depth:
        raise StateError(f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise StateError(f"{what} is malformed: {error}") from None


def concept_id(value: Any) -> int:
    """An int in 0..2**32-1; numpy integer scalars are accepted, bool and float are not."""
    if type(value) is not int:
        value = _exact_integer(value, "concept id", InvalidConceptIdError,
                               f"an integer in 0..{MAX_CONCEPT_ID}")
    if not 0 <= value <= MAX_CONCEPT_ID:
        raise InvalidConceptIdError(
            f"Invalid concept id {quoted(value)}: expected an integer in 0..{MAX_CONCEPT_ID}"
        )
    return value


def _exact_integer(value: Any, name: str, error: type[Exception], expected: str) -> int:
    """``operator.index(value)`` (ints and numpy integers), rejecting bools."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise error(f"Invalid {name} {quoted(value)} (bool): expected {expected}")
    try:
        return operator.index(value)
    except TypeError:
        kind = "" if hasattr(value, "js_id") else f" ({type(value).__name__})"  # quoted names it
        raise error(f"Invalid {name} {quoted(value)}{kind}: expected {expected}") from None


# A batch holds at most as many ids as the largest engine has columns: a longer one could
# not all be allocated, and would hold the engine for minutes (and its memory).
MAX_BATCH_LENGTH = 2**23


def concept_ids(values: Any) -> list[int]:
    """A batch of concept ids, validated as a whole before anything is applied."""
    if isinstance(values, Sized) and len(values) > MAX_BATCH_LENGTH:
        raise InvalidConceptIdError(
            f"Invalid concept id batch of {len(values)} ids: expected at most {MAX_BATCH_LENGTH}")
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
        raise InvalidInputError(
            f"Invalid embedding of length {len(items)}: expected {dim} numbers (dim={dim})"
        )
    out = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise InvalidInputError(
                f"Invalid embedding value {quoted(item)} at index {index}: expected a number"
            )
        item = float(item)
        if not math.isfinite(item):
            raise InvalidInputError(
                f"Invalid embedding value {quoted(item)} at index {index}: expected a finite number"
            )
        out.append(item)
    if dim and not any(out):
        raise InvalidInputError("Invalid embedding: all zeros cannot be normalized")
    return out


def non_negative_int(name: str, value: Any, *, maximum: int | None = None,
                     reason: str = "") -> int:
    """An int >= 0 (and <= maximum when given, ``reason`` saying why) for a configuration
    parameter."""
    bound = f" in 0..{maximum}" if maximum is not None else " >= 0"
    if reason:
        bound += f" ({reason})"
    value = _exact_integer(value, name, InvalidInputError, f"an integer{bound}")
    if value < 0 or (maximum is not None and value > maximum):
        raise InvalidInputError(f"Invalid {name} {quoted(value)}: expected an integer{bound}")
    return value


def non_negative_finite(name: str, value: Any) -> float:
    """A finite real >= 0 (refractory time, activation strength)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"Invalid {name} {quoted(value)}: expected a finite number >= 0")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"Invalid {name} {value!r}: expected a finite number >= 0")
    return value


def sequence(values: Any, what: str, error: type[Exception] = InvalidInputError) -> list:
    """A list from a sequence, array or numpy array; ``error`` for anything else."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise error(f"Invalid {what} {quoted(values)}: expected a sequence")
    return values.tolist() if hasattr(values, "tolist") else list(values)
