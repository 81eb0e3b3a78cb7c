"""Typed errors of the engine; every message names the offending value.

User errors (bad input, an invalid stored state, no free column) are the caller's to
handle; an :class:`InternalError` is a bug in cortexkg, reported with its cause.
"""

from __future__ import annotations

import traceback


class CortexKGError(Exception):
    """Base class of every error raised by cortexkg."""


class AllocationError(CortexKGError):
    """An allocation could not be made (no free column, concept not allocated)."""


# AllocationError's two messages, here so that a single call and a batch's result for
# the same id say the same thing.
NO_FREE_COLUMNS = "No free columns available"


def not_allocated(concept_id: int) -> str:
    """The message for a concept that is not allocated."""
    return f"Concept {concept_id} is not allocated"


class InvalidInputError(CortexKGError, ValueError):
    """A bad argument or configuration (also a ValueError, as Python's own checks raise)."""


class InvalidConceptIdError(InvalidInputError, TypeError):
    """A concept id is not an integer in 0..2**32-1 (also a ValueError and a TypeError)."""


class NotInitializedError(CortexKGError):
    """The CortexKG facade was used before `initialize()`."""


class StateError(CortexKGError):
    """A snapshot or stored state is invalid, or an engine invariant is violated."""


class StorageError(CortexKGError):
    """A change cannot be made durable now (the store refuses writes: quota, I/O)."""


class InternalError(CortexKGError):
    """cortexkg broke one of its own rules: a bug, not the caller's mistake. Raised
    ``from`` the failure that revealed it, when there is one."""


# Python exception -> the JavaScript error class the page raises (first match in order
# wins; web/errors.js declares those classes, and a test checks that the two agree).
ERROR_CLASSES = (
    (AllocationError, "AllocationError"),
    (InvalidInputError, "InvalidInputError"),
    (NotInitializedError, "NotInitializedError"),
    (StateError, "StateError"),
    (StorageError, "StorageError"),
    (InternalError, "InternalError"),
)


def error_type(error: BaseException) -> str:
    """The name of the JavaScript error class for ``error``: every failure cortexkg does
    not classify (a plain ValueError included) is a bug of ours, "InternalError"."""
    return next((name for types, name in ERROR_CLASSES if isinstance(error, types)),
                "InternalError")


def error_report(error: BaseException) -> dict:
    """What the page is told of a failure: ``{"type", "message"}``, plus ``"traceback"``
    (the formatted exception, its causes included) when it is not the caller's error
    (an :class:`InternalError`, or an exception cortexkg does not classify)."""
    kind = error_type(error)
    report = {"type": kind, "message": str(error)}
    if kind == "InternalError":
        report["traceback"] = "".join(traceback.format_exception(error))
    return report
