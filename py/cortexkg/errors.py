"""Typed errors of the engine; every message names the offending value."""


class CortexKGError(Exception):
    """Base class of every error raised by cortexkg."""


class AllocationError(CortexKGError):
    """An allocation could not be made (no free column, concept not allocated)."""


class InvalidConceptIdError(CortexKGError, ValueError, TypeError):
    """A concept id is not an integer in 0..2**32-1 (also a ValueError and a TypeError)."""


class NotInitializedError(CortexKGError):
    """The CortexKG facade was used before `initialize()`."""


class StateError(CortexKGError):
    """A snapshot or stored state is invalid, or an engine invariant is violated."""


class StorageError(CortexKGError):
    """A change cannot be made durable now (the store refuses writes: quota, I/O)."""


# Python exception -> the JavaScript error class the page raises (first match in order
# wins; web/errors.js declares those classes, and a test checks that the two agree).
ERROR_CLASSES = (
    (AllocationError, "AllocationError"),
    (NotInitializedError, "NotInitializedError"),
    (StateError, "StateError"),
    (StorageError, "StorageError"),
    ((ValueError, TypeError), "InvalidInputError"),
)


def error_type(error: BaseException) -> str:
    """The name of the JavaScript error class for ``error`` ("Error" for any other)."""
    return next((name for types, name in ERROR_CLASSES if isinstance(error, types)), "Error")
