"""The journal: mutations recorded so that replaying them reproduces the state exactly.

A record names a facade method, its arguments and every clock reading the engine took
while running it (monotonic and wall clock, in the order taken). Replaying a record runs
the same method with a :class:`ClockTape` that plays those readings back, so columns,
timestamps, timing samples, confidences and refractory expiries come out bit for bit as
they did the first time, through the one code path that made them.
"""

from __future__ import annotations

import math
from array import array
from contextlib import contextmanager
from typing import Any, Iterator

from .engine import BATCH_CHUNK
from .errors import StateError
from .host import Host
from .validation import quoted

# The mutations a record can name (facade and engine methods of the same name) -> the
# arguments its record holds, in order (a trailing "?": may be left out). Anything else is
# refused before the method runs, so a stored record cannot hand the engine a value it
# would have to take apart recursively.
ARGUMENTS = {
    "allocate_concept": ("a number", "an embedding or None?"),
    "deallocate_concept": ("a number",),
    "allocate_batch": ("a list of numbers", "a list of embeddings or None?"),
    "deallocate_batch": ("a list of numbers",),
    "activate_concept": ("a number", "a number"),
    "optimize_allocations": (),
}
MUTATIONS = tuple(ARGUMENTS)
# Clock readings per chunk of a batch (or per call) at most: start, wall clock, end.
READINGS_PER_CHUNK = 3
_NUMBERS = (list, tuple, array, memoryview)


_END = object()


class ClockTape:
    """A host's clocks that can record an operation's readings or play them back.

    The monotonic clock it hands out never runs backwards: live readings are offset so
    that they continue from the last reading recorded or played back (a reload whose
    ``timeOrigin`` lies earlier, after the system clock was set back, continues the
    stored clock). ``frozen`` holds the monotonic clock at the last reading, which a
    read-only follower needs: its queries must not expire refractory columns ahead of
    the writer's records it has yet to receive.
    """

    def __init__(self, host: Host):
        self._host = host
        self._recording: list[float] | None = None
        self._playback: Iterator[float] | None = None
        self._last_now = float("-inf")
        self._offset = 0.0
        self.frozen = False

    def host(self, log=None) -> Host:
        """A Host reading through this tape (``log`` defaults to the wrapped host's)."""
        return Host(now_ms=self.now_ms, wall_ms=self.wall_ms, log=log or self._host.log)

    def now_ms(self) -> float:
        if self._playback is not None:
            value = self._played()
            if value < self._last_now:
                raise StateError(
                    f"Journal record reads the clock at {value} ms, before {self._last_now} ms")
        elif self.frozen and self._last_now > float("-inf"):
            return self._last_now
        else:
            value = self._host.now_ms() + self._offset
            if value < self._last_now:  # the clock was set back: continue from the last reading
                self._offset += self._last_now - value
                value = self._last_now
            self._record(value)
        self._last_now = value
        return value

    def wall_ms(self) -> float:
        if self._playback is not None:
            return self._played()
        value = self._host.wall_ms()
        self._record(value)
        return value

    def _played(self) -> float:
        value = next(self._playback, _END)
        if value is _END:
            raise StateError("Journal record holds fewer clock readings than its replay takes")
        if type(value) not in (int, float) or not math.isfinite(value):
            raise StateError(
                f"Journal record holds a clock reading that is not a finite number: {quoted(value)}")
        return value

    def _record(self, value: float) -> None:
        if self._recording is not None:
            self._recording.append(value)

    @contextmanager
    def new_history(self) -> Iterator[None]:
        """Replay another history from its start (recovery): readings before this tape's
        own are fine inside the block; if the block fails, the tape is as it was."""
        saved = self._last_now, self._offset
        self._last_now = float("-inf")
        try:
            yield
        except BaseException:
            self._last_now, self._offset = saved
            raise

    @contextmanager
    def play(self, readings) -> Iterator[None]:
        """Answer every reading inside the block from ``readings``, which must all be used."""
        self._playback = iter(list(readings))
        try:
            yield
            if next(self._playback, _END) is not _END:
                raise StateError("Journal record holds more clock readings than its replay takes")
        finally:
            self._playback = None


def encode_args(method: str, args: list) -> list:
    """Arguments as compact, exact data: id batches as array('I'), embeddings as float64."""
    if method in ("allocate_batch", "deallocate_batch"):
        ids, *rest = args
        encoded = [array("I", ids)]
        if rest and rest[0] is not None:
            encoded.append([None if e is None else array("d", e) for e in rest[0]])
        return encoded
    if method == "allocate_concept" and len(args) > 1 and args[1] is not None:
        return [args[0], array("d", args[1])]
    return list(args)


def run_recorded(engine, tape: ClockTape, method: str, args: list, **options) -> tuple[Any, dict]:
    """Run ``engine.<method>(*args, **options)``; return its result and its journal record.

    ``options`` (``columnar``, ``progress``) shape the answer only and are not recorded.
    A call that raises leaves no record (a rejected call changes nothing).
    """
    # not a context manager: one costs about what a small mutation does
    tape._recording = readings = []
    try:
        result = getattr(engine, method)(*args, **options)
    finally:
        tape._recording = None
    return result, {"method": method, "args": encode_args(method, args), "readings": readings}


def replay(engine, tape: ClockTape, records: list[dict]) -> None:
    """Apply journal ``records`` ({"method", "args", "readings"}) to ``engine`` in order.

    ``engine`` must read its clocks through ``tape``. Raises :class:`StateError` naming the
    first record that does not replay.
    """
    if not isinstance(records, (list, tuple)):
        raise StateError(f"Journal {quoted(records)} is not a list of records")
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not {"method", "args", "readings"} <= record.keys():
            raise StateError(f"Journal record {index} is malformed: {quoted(record)}")
        method, args, readings = record["method"], record["args"], record["readings"]
        if not isinstance(method, str) or method not in MUTATIONS:
            raise StateError(f"Journal record {index} names unknown method {quoted(method)}")
        try:
            decoded = _decoded(method, args)
            _check_readings(method, decoded, readings)
        except StateError as error:
            raise StateError(f"Journal record {index} ({method}) is malformed: {error}") from error
        engine_method = getattr(engine, method)
        try:
            with tape.play(readings):
                engine_method(*decoded)
        except StateError as error:
            raise StateError(f"Journal record {index} ({method}) does not replay: {error}") from error
        except Exception as error:
            raise StateError(
                f"Journal record {index} ({method}) does not replay: "
                f"{type(error).__name__}: {error}") from error


def _decoded(method: str, args: Any) -> list:
    """The arguments of a record of ``method``, checked against :data:`ARGUMENTS` (one
    level of containers, no recursion), typed arrays as lists."""
    kinds = ARGUMENTS[method]
    required = sum(not kind.endswith("?") for kind in kinds)
    if not isinstance(args, (list, tuple)):
        raise StateError(f"its arguments {quoted(args)} are not a list")
    if not required <= len(args) <= len(kinds):
        raise StateError(f"it holds {len(args)} arguments, expected {required}"
                         + (f" to {len(kinds)}" if len(kinds) > required else ""))
    for position, (kind, value) in enumerate(zip(kinds, args)):
        if not _is(kind.rstrip("?"), value):
            raise StateError(f"argument {position} {quoted(value)} is not {kind.rstrip('?')}")
    return [a.tolist() if isinstance(a, (array, memoryview)) else a for a in args]


def _is(kind: str, value: Any) -> bool:
    """Whether ``value`` has the shape of ``kind`` (an embedding: a list of numbers), one
    level of containers deep: the method checks the items."""
    if kind == "a number":
        return type(value) in (int, float)
    if kind == "a list of numbers":
        return isinstance(value, _NUMBERS)
    if kind == "an embedding or None":
        return value is None or isinstance(value, _NUMBERS)
    return value is None or (isinstance(value, (list, tuple)) and all(
        item is None or isinstance(item, _NUMBERS) for item in value))


def _check_readings(method: str, args: list, readings: Any) -> None:
    """Readings are a list no longer than ``method`` can take with ``args``."""
    if not isinstance(readings, _NUMBERS):
        raise StateError(f"its clock readings {quoted(readings)} are not a list")
    chunks = 1 + len(args[0]) // BATCH_CHUNK if method.endswith("_batch") else 1
    if len(readings) > READINGS_PER_CHUNK * chunks:
        raise StateError(f"it holds more clock readings than its replay can take: "
                         f"{len(readings)}, at most {READINGS_PER_CHUNK * chunks}")
