"""The journal: mutations recorded so that replaying them reproduces the state exactly.

A record names a facade method, its arguments and every clock reading the engine took
while running it (monotonic and wall clock, in the order taken). Replaying a record runs
the same method with a :class:`ClockTape` that plays those readings back, so columns,
timestamps, timing samples, confidences and refractory expiries come out bit for bit as
they did the first time, through the one code path that made them.
"""

from __future__ import annotations

from array import array
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import StateError
from .host import Host

# facade method -> how its arguments are stored (see ``encode_args``)
MUTATIONS = ("allocate_concept", "deallocate_concept", "allocate_batch", "deallocate_batch",
             "activate_concept", "optimize_allocations")


class ClockTape:
    """A host's clocks that can record an operation's readings or play them back."""

    def __init__(self, host: Host):
        self._host = host
        self._recording: list[float] | None = None
        self._playback: Iterator[float] | None = None

    def host(self, log=None) -> Host:
        """A Host reading through this tape (``log`` defaults to the wrapped host's)."""
        return Host(now_ms=self.now_ms, wall_ms=self.wall_ms, log=log or self._host.log)

    def now_ms(self) -> float:
        return self._read(self._host.now_ms)

    def wall_ms(self) -> float:
        return self._read(self._host.wall_ms)

    def _read(self, clock) -> float:
        if self._playback is not None:
            value = next(self._playback, None)
            if value is None:
                raise StateError("Journal record holds fewer clock readings than its replay takes")
            return value
        value = clock()
        if self._recording is not None:
            self._recording.append(value)
        return value

    @contextmanager
    def record(self) -> Iterator[list[float]]:
        """Collect the readings taken inside the block into the yielded list."""
        self._recording = readings = []
        try:
            yield readings
        finally:
            self._recording = None

    @contextmanager
    def play(self, readings) -> Iterator[None]:
        """Answer every reading inside the block from ``readings``, which must all be used."""
        self._playback = iter(list(readings))
        try:
            yield
            if next(self._playback, None) is not None:
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
    with tape.record() as readings:
        result = getattr(engine, method)(*args, **options)
    return result, {"method": method, "args": encode_args(method, args), "readings": readings}


def replay(engine, tape: ClockTape, records: list[dict]) -> None:
    """Apply journal ``records`` ({"method", "args", "readings"}) to ``engine`` in order.

    ``engine`` must read its clocks through ``tape``. Raises :class:`StateError` naming the
    first record that does not replay.
    """
    for index, record in enumerate(records):
        try:
            method, args, readings = record["method"], record["args"], record["readings"]
        except (KeyError, TypeError):
            raise StateError(f"Journal record {index} is malformed: {record!r}") from None
        if method not in MUTATIONS:
            raise StateError(f"Journal record {index} names unknown method {method!r}")
        engine_method = getattr(engine, method)
        try:
            with tape.play(readings):
                engine_method(*_decode(args))
        except StateError as error:
            raise StateError(f"Journal record {index} ({method}) does not replay: {error}") from None
        except Exception as error:
            raise StateError(
                f"Journal record {index} ({method}) does not replay: "
                f"{type(error).__name__}: {error}") from None


def _decode(args: Any) -> list:
    if not isinstance(args, (list, tuple)):
        raise StateError(f"Journal record arguments {args!r} are not a list")
    return [a.tolist() if isinstance(a, (array, memoryview)) else a for a in args]
