"""Fakes for unit tests: a host whose clock moves only when told to, and JavaScript values
as Pyodide hands them to Python."""

from __future__ import annotations

from cortexkg import Host


class FakeHost(Host):
    """Host whose monotonic clock starts at 1000 ms and moves by ``advance``; wall time
    is a fixed epoch plus the clock; log lines are kept in ``logs``."""

    def __init__(self, clock: float = 1000.0, epoch: float = 1.7e12):
        self.clock, self.epoch, self.logs = clock, epoch, []
        super().__init__(now_ms=lambda: self.clock, wall_ms=lambda: self.epoch + self.clock,
                         log=self.logs.append)

    def advance(self, ms: float) -> None:
        self.clock += ms


class FakeUint8Array:
    """What a JavaScript Uint8Array offers Python in Pyodide (a JsBuffer): ``length``,
    ``subarray`` (a view), ``to_bytes`` and ``assign_to`` (copies). Records the size of
    every copy."""

    def __init__(self, data: bytes, copies: list | None = None):
        self.data, self.copies = memoryview(data), [] if copies is None else copies

    @property
    def length(self) -> int:
        return len(self.data)

    def subarray(self, start: int, stop: int) -> "FakeUint8Array":
        return FakeUint8Array(self.data[start:stop], self.copies)

    def to_bytes(self) -> bytes:
        self.copies.append(len(self.data))
        return bytes(self.data)

    def assign_to(self, target) -> None:
        self.copies.append(len(self.data))
        memoryview(target)[:] = self.data


class JsNull:
    """Stands for ``pyodide.ffi.jsnull``, what JavaScript's null converts to (patch it in as
    ``cortexkg._js_values.jsnull``)."""

    def __repr__(self) -> str:
        return "jsnull"


JSNULL = JsNull()


class FakeJsProxy:
    """A JavaScript array or object passed to Python (None in ``value`` stands for null):
    ``to_py(depth=-1)`` converts it as Pyodide does, recursively, ``depth`` levels deep
    (-1: all of them), deeper values staying proxies, null becoming :data:`JSNULL`."""

    def __init__(self, value):
        self.value = value

    def to_py(self, *, depth: int = -1):
        return _converted(self.value, depth)

    def __repr__(self) -> str:
        return "[object Array]" if isinstance(self.value, list) else "[object Object]"


def _converted(value, depth: int):
    if value is None:
        return JSNULL
    if not isinstance(value, (list, dict)):
        return value
    if depth == 0:
        return FakeJsProxy(value)
    if isinstance(value, list):
        return [_converted(item, depth - 1) for item in value]
    return {key: _converted(item, depth - 1) for key, item in value.items()}
