"""JavaScript values as Python data, at the boundary of :mod:`cortexkg.session` (private:
only the worker's calls bring JavaScript values).

Pyodide hands Python a JavaScript array, object or typed array as a ``JsProxy`` (a typed
array as a ``JsBuffer``), and JavaScript's null as ``jsnull``; this module converts them
with bounded depth, and reads stored bytes in place. Outside Pyodide no JavaScript value
ever arrives: the names below then match nothing (unit tests patch in their fakes).
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidInputError
from .facade import CortexKGConfig
from .tables import API_OPTIONS
from .validation import quoted

try:
    from pyodide.ffi import JsBuffer, JsProxy, jsnull
except ImportError:  # CPython
    class JsProxy:  # type: ignore[no-redef]
        """Stands for ``pyodide.ffi.JsProxy`` outside Pyodide, where nothing is one."""

    class JsBuffer(JsProxy):  # type: ignore[no-redef]
        """Stands for ``pyodide.ffi.JsBuffer`` outside Pyodide, where nothing is one."""

    jsnull = None

_FLOAT_FORMATS = ("f", "d")
# The deepest argument a call takes: options {embeddings: [[numbers]]}.
ARGUMENT_DEPTH = 3
# The deepest stored data: records [{args: [ids, [embedding]]}], an embedding a typed array.
RECORDS_DEPTH = 5


def from_js(value: Any, depth: int = ARGUMENT_DEPTH) -> Any:
    """A JavaScript argument as Python data, converted ``depth`` levels deep: deeper values
    stay JsProxy objects, which no check accepts (a conversion without a bound recurses
    once per level, and Pyodide's stack is small). JavaScript's null becomes None."""
    if isinstance(value, JsProxy):
        value = value.to_py(depth=depth)
    if isinstance(value, memoryview) and value.format in _FLOAT_FORMATS:
        # a Float64Array of ids: JavaScript numbers are doubles, so 7.0 is the integer 7
        return [int(v) if v.is_integer() else v for v in value.tolist()]
    return _without_jsnull(value, depth)


def _without_jsnull(value: Any, depth: int) -> Any:
    """``value`` with every jsnull in its first ``depth`` levels replaced by None (in place,
    without recursion)."""
    if jsnull is None:
        return value
    null = type(jsnull)
    if isinstance(value, null):
        return None
    pending = [(value, 1)]
    while pending:
        container, level = pending.pop()
        if isinstance(container, list):
            kinds = set(map(type, container))  # at C speed: most lists are numbers only
            if null not in kinds and (level == depth or not kinds & {list, dict}):
                continue
            items = list(enumerate(container))
        elif isinstance(container, dict):
            items = list(container.items())
        else:
            continue
        for key, item in items:
            if isinstance(item, null):
                container[key] = None
            elif level < depth and isinstance(item, (list, dict)):
                pending.append((item, level + 1))
    return value


def options_of(value: Any, method: str | None = None, expected: tuple[str, ...] = ()) -> dict:
    """Options as a dict (None: none); with ``method``, only the ``expected`` names."""
    value = from_js(value)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"Invalid options {quoted(value)}: expected an object")
    if method is not None:
        reject_unknown(f"{method} options", value, expected)
    return value


def reject_unknown(what: str, given, expected) -> None:
    """InvalidInputError naming (up to five of) the keys of ``given`` not in ``expected``."""
    unknown = [key for key in given if key not in expected]
    if unknown:
        raise InvalidInputError(
            f"Invalid {what}: unknown {', '.join(map(quoted, unknown[:5]))}"
            f"{' and more' if len(unknown) > 5 else ''}; expected some of "
            f"{', '.join(expected)}")


def flag(options: dict, name: str) -> bool:
    """A boolean option (absent or None: False)."""
    value = options.get(name)
    if value is not None and type(value) is not bool:
        raise InvalidInputError(f"Invalid {name} {quoted(value)}: expected true or false")
    return bool(value)


class JsBytes:
    """A JavaScript Uint8Array as a snapshot's :class:`~cortexkg.snapshot.ByteSource`: a
    slice is a ``subarray`` view, copied once, into the buffer that restore allocates for
    it (``JsBuffer.assign_to``), or into bytes (the header), never as a whole."""

    def __init__(self, data):
        self._data = data

    def __len__(self) -> int:
        return self._data.length

    def __getitem__(self, part: slice) -> "JsBytes":
        start, stop, _ = part.indices(len(self))
        return JsBytes(self._data.subarray(start, max(start, stop)))

    def __bytes__(self) -> bytes:
        return self._data.to_bytes()

    def copy_into(self, target) -> None:
        self._data.assign_to(memoryview(target).cast("B"))  # formats must match: bytes


def bytes_source(data: Any) -> JsBytes | Any:
    """Bytes to read: a JavaScript typed array in place (:class:`JsBytes`, never copied
    whole), anything else converted."""
    return JsBytes(data) if isinstance(data, JsBuffer) else from_js(data)


def snapshot_source(snapshot: Any) -> JsBytes | bytes | None:
    """The bytes of a stored snapshot record ``{"bytes": ...}`` (or None), in place when
    they are a JavaScript Uint8Array (:class:`JsBytes`)."""
    if snapshot is None:
        return None
    data = snapshot.bytes if isinstance(snapshot, JsProxy) else snapshot["bytes"]
    return JsBytes(data) if isinstance(data, JsBuffer) else bytes(data)


OPTION_NAMES = ("name", *API_OPTIONS)


def engine_config(options: dict) -> CortexKGConfig:
    """The JavaScript API's engine options (camelCase, :data:`cortexkg.tables.API_OPTIONS`;
    those left out take the configuration's defaults) as the facade's configuration;
    InvalidInputError naming them otherwise."""
    reject_unknown("engine options", options, OPTION_NAMES)
    try:
        return CortexKGConfig(**{field: options[option] for option, field in API_OPTIONS.items()
                                 if option in options})
    except InvalidInputError as error:
        message = str(error)
        for api_name, python_name in API_OPTIONS.items():
            if api_name != python_name:
                message = message.replace(python_name, api_name)
        raise InvalidInputError(f"Invalid engine options: {message}") from error
