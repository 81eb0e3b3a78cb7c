"""Snapshots: exact round trips, and every kind of damage raises StateError naming it.

A damaged snapshot must never produce an engine, and a facade whose ``initialize`` fails
on one stays uninitialized.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import struct
import zlib
from array import array

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from cortexkg import (
    AllocationEngine,
    AllocationError,
    CortexKG,
    CortexKGConfig,
    Host,
    MemoryStorage,
    Snapshot,
    StateError,
)
from examples import examples
from fakes import FakeHost
from optional_numpy import backend_marks, needs_numpy

PREFIX = struct.Struct("<8sIII")  # magic, format version, header length, header crc32
BUFFER_NAMES = ["state", "concept", "activation", "activated_ms", "usage", "allocated_at",
                "confidence",
                "fields", "order", "window", "window_kinds", "refractory_column", "refractory_remaining"]
STATE_CODES = {"available": 0, "allocated": 1, "refractory": 2}

CONFIGS = {
    "first_fit-numpy": dict(strategy="first_fit", backend="numpy"),
    "first_fit-reference": dict(strategy="first_fit", backend="reference"),
    "affinity-numpy": dict(strategy="affinity", dim=5, backend="numpy"),
    "affinity-reference": dict(strategy="affinity", dim=5, backend="reference"),
}
CONFIG_PARAMS = [pytest.param(c, id=name, marks=backend_marks(c["backend"]))
                 for name, c in CONFIGS.items()]


class TickingHost(Host):
    """A host whose monotonic clock moves by ``tick`` ms on every reading (so allocation
    times are not all zero) and by ``advance(ms)``; wall time is an epoch plus the clock."""

    def __init__(self, start: float = 1000.0, tick: float = 0.25):
        self.t, self.tick, self.logs = start, tick, []
        super().__init__(now_ms=self._now, wall_ms=lambda: 1.7e12 + self.t,
                         log=self.logs.append)

    def _now(self) -> float:
        self.t += self.tick
        return self.t

    def advance(self, ms: float) -> None:
        self.t += ms


def exercise(engine: AllocationEngine, rounds: int = 3) -> None:
    """A workload touching every part of the state: allocations one by one and in
    batches (with and without embeddings), hits, activations, releases, optimize."""
    dim = engine.dim
    for r in range(rounds):
        base = 100 * r
        for k in range(5):
            embedding = None if not dim or k % 2 else [float(k + 1)] + [0.5] * (dim - 1)
            engine.allocate_concept(base + k, embedding)
            engine.host.advance(1.5)
        engine.allocate_batch([base + 10, base + 11, base + 1, base + 12])
        engine.allocate_concept(base + 3)  # usage hit
        engine.activate_concept(base + 4, 0.0)
        engine.deallocate_batch([base + 0, base + 11])
        engine.host.advance(2.0)
        if r == 1:
            engine.optimize_allocations()
    engine.deallocate_concept(2)


def observed(engine: AllocationEngine) -> dict:
    """Everything a user can read back, without reading the clock-relative parts twice."""
    return {
        "history": engine.get_allocation_history(),
        "stats": engine.stats(),
        "average": engine.get_average_time(),
        "buffers": {k: bytes(v) for k, v in engine.column_buffers().items()},
        "columns": [engine.column(c) for c in range(engine.column_count)],
        "free": engine.get_free_column_count(),
        "fragmentation": engine.fragmentation(),
        "info": {c: engine.get_allocation_info(c) for c in range(0, 320)},
    }


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("form", ["Snapshot", "bytes"])
@pytest.mark.parametrize("config", CONFIG_PARAMS)
def test_round_trip_restores_an_equal_engine(config, form):
    engine = AllocationEngine(24, refractory_ms=1e6, seed=5, host=TickingHost(), **config)
    exercise(engine)
    snapshot = engine.snapshot()
    assert snapshot.header["buffers"][0]["name"] == "state"
    source = snapshot if form == "Snapshot" else snapshot.to_bytes()
    restored = AllocationEngine.restore(source, backend=config["backend"],
                                        host=TickingHost(start=77_000.0))
    assert engine.stats()["refractory"] > 0 and engine.get_average_time() > 0
    assert observed(restored) == observed(engine)
    restored.validate()


@pytest.mark.parametrize("config", CONFIG_PARAMS)
def test_restored_engine_behaves_exactly_like_the_original(config):
    engine = AllocationEngine(32, refractory_ms=1e6, seed=5, host=TickingHost(), **config)
    exercise(engine)
    twin = AllocationEngine.restore(engine.snapshot().to_bytes(), backend=config["backend"],
                                    host=TickingHost(start=5000.0))
    for target in (engine, twin):
        # same operations from here on: the same columns, confidences and counters
        target.host.advance(1.0)
        target.allocate_batch([500, 501, 3, 502])
        target.deallocate_concept(501)
        target.activate_concept(500)
        target.optimize_allocations()
        target.allocate_concept(503, [1.0] * target.dim if target.dim else None)
    strip = lambda h: [(r["conceptId"], r["columnId"], r["confidence"]) for r in h]  # noqa: E731
    assert strip(twin.get_allocation_history()) == strip(engine.get_allocation_history())
    assert twin.column_buffers()["state"] == engine.column_buffers()["state"]
    assert twin.column_buffers()["usage"] == engine.column_buffers()["usage"]
    assert twin.column_buffers()["fields"] == engine.column_buffers()["fields"]
    assert twin.get_average_time() == engine.get_average_time()
    assert twin.stats() == engine.stats()


@pytest.mark.parametrize("config", CONFIG_PARAMS)
def test_snapshot_of_a_restored_engine_is_byte_identical(config):
    engine = AllocationEngine(24, refractory_ms=50.0, seed=5, host=FakeHost(), **config)
    exercise(engine)
    data = engine.snapshot().to_bytes()
    # at the same clock reading: the header records the reading a snapshot was taken at
    restored = AllocationEngine.restore(data, backend=config["backend"],
                                        host=FakeHost(engine.host.clock))
    assert restored.snapshot().to_bytes() == data


def test_snapshot_parses_back_to_the_same_header_and_buffers(make_engine):
    engine = make_engine(column_count=32, strategy="affinity", dim=3, refractory_ms=10.0)
    exercise(engine)
    snapshot = engine.snapshot()
    parsed = Snapshot.from_bytes(snapshot.to_bytes())
    assert parsed.header == snapshot.header
    assert parsed.buffers == snapshot.buffers
    assert sorted(parsed.buffers) == sorted(BUFFER_NAMES)


def test_round_trip_keeps_a_wrapped_timing_window_and_counters():
    # "auto": numpy where it is installed, else (Pyodide) the reference
    engine = AllocationEngine(3000, host=TickingHost(tick=0.125), backend="auto")
    for cid in range(1300):
        engine.allocate_concept(cid)
    engine.allocate_batch(range(1300, 1500))
    twin = AllocationEngine.restore(engine.snapshot().to_bytes(), host=TickingHost(tick=0.125))
    assert twin.stats() == engine.stats()
    assert twin.stats()["timing_samples"] == 1000
    assert twin.get_average_time() == engine.get_average_time() > 0
    for target in (engine, twin):
        for cid in range(2000, 2700):
            target.allocate_concept(cid)
    assert twin.get_average_time() == engine.get_average_time()


@pytest.mark.parametrize("config", CONFIG_PARAMS)
def test_refractory_deadline_is_relative_to_the_restoring_clock(config):
    old = FakeHost(clock=1000.0)
    engine = AllocationEngine(4, refractory_ms=100.0, host=old, **config)
    engine.allocate_batch([1, 2, 3, 4])
    column = engine.get_allocation_info(2)
    engine.deallocate_concept(2)
    old.advance(70.0)  # 30 ms of refractory time left
    data = engine.snapshot().to_bytes()

    new = FakeHost(clock=5_000_000.0)
    restored = AllocationEngine.restore(data, backend=config["backend"], host=new)
    assert restored.column(column)["state"] == "refractory"
    new.advance(29.5)
    assert restored.get_free_column_count() == 0
    with pytest.raises(AllocationError, match="^No free columns available$"):
        restored.allocate_concept(9)
    new.advance(0.5)
    assert restored.column(column)["state"] == "available"
    assert restored.allocate_concept(9) == column
    # the original engine kept its own deadline on its own clock
    assert engine.column(column)["state"] == "refractory"
    old.advance(30.0)
    assert engine.column(column)["state"] == "available"


def test_refractory_column_expired_at_snapshot_time_restores_available(make_engine):
    engine = make_engine(column_count=2, refractory_ms=10.0)
    engine.allocate_batch([1, 2])
    engine.deallocate_concept(1)
    engine.host.advance(10.0)
    restored = AllocationEngine.restore(engine.snapshot(), host=FakeHost())
    assert restored.stats()["refractory"] == 0
    assert restored.allocate_concept(3) == 0


@pytest.mark.parametrize("column_count", [0, 1, 5])
@pytest.mark.parametrize("config", CONFIG_PARAMS)
def test_round_trip_of_fresh_and_full_engines(config, column_count):
    engine = AllocationEngine(column_count, host=FakeHost(), **config)
    fresh = AllocationEngine.restore(engine.snapshot(), backend=config["backend"],
                                     host=FakeHost())
    assert observed(fresh) == observed(engine)
    engine.allocate_batch(range(column_count))
    full = AllocationEngine.restore(engine.snapshot(), backend=config["backend"],
                                    host=FakeHost())
    assert observed(full) == observed(engine)


@needs_numpy
def test_restore_into_the_other_backend_gives_the_same_state():
    engine = AllocationEngine(24, strategy="affinity", dim=5, refractory_ms=1e6,
                              host=FakeHost(), backend="numpy")
    exercise(engine)
    other = AllocationEngine.restore(engine.snapshot(), backend="reference", host=FakeHost())
    assert other.backend_name == "reference"
    mine, theirs = observed(engine), observed(other)
    mine["stats"].pop("backend"), theirs["stats"].pop("backend")
    assert theirs == mine


# ------------------------------------------------------------------ corruption


def base_engine(host: Host | None = None) -> AllocationEngine:
    """A small engine whose every buffer is non-empty: 3 allocated concepts (one with a
    usage hit), 2 refractory columns with different deadlines, 1 available column."""
    engine = AllocationEngine(6, strategy="affinity", dim=3, refractory_ms=100.0, seed=3,
                              backend="auto", host=host or FakeHost())  # numpy where installed
    engine.allocate_batch([10, 11, 12, 13])
    engine.deallocate_concept(11)
    engine.host.advance(10.0)
    engine.deallocate_concept(13)
    engine.allocate_concept(14)
    engine.allocate_concept(12)
    return engine


BASE = base_engine().snapshot().to_bytes()


class Parts:
    """A snapshot taken apart; ``to_bytes`` reassembles it with a valid header crc."""

    def __init__(self, data: bytes = BASE):
        self.magic, self.version, length, _ = PREFIX.unpack_from(data)
        self.header = json.loads(data[PREFIX.size : PREFIX.size + length])
        self.chunks, offset = [], PREFIX.size + length
        for entry in self.header["buffers"]:
            size = entry["length"] * array(entry["typecode"]).itemsize
            self.chunks.append(data[offset : offset + size])
            offset += size

    def index(self, name: str) -> int:
        return [e["name"] for e in self.header["buffers"]].index(name)

    def entry(self, name: str) -> dict:
        return self.header["buffers"][self.index(name)]

    def get(self, name: str) -> array:
        return array(self.entry(name)["typecode"], self.chunks[self.index(name)])

    def put(self, name: str, values, *, reseal: bool = True) -> None:
        """Replace a buffer's items; its header length and crc follow unless told not to."""
        i, entry = self.index(name), self.entry(name)
        data = array(entry["typecode"], values).tobytes()
        self.chunks[i] = data
        if reseal:
            entry["length"] = len(data) // array(entry["typecode"]).itemsize
            entry["crc32"] = zlib.crc32(data)

    def edit(self, name: str, column: int, value) -> None:
        items = self.get(name)
        items[column] = value
        self.put(name, items)

    def remove(self, name: str) -> None:
        i = self.index(name)
        del self.header["buffers"][i], self.chunks[i]

    def columns(self, state: str) -> list[int]:
        return [c for c, s in enumerate(self.get("state")) if s == STATE_CODES[state]]

    def to_bytes(self, header_bytes: bytes | None = None) -> bytes:
        if header_bytes is None:
            header_bytes = json.dumps(self.header, separators=(",", ":"), sort_keys=True).encode()
        prefix = PREFIX.pack(self.magic, self.version, len(header_bytes),
                             zlib.crc32(header_bytes))
        return prefix + header_bytes + b"".join(self.chunks)


def with_header(change) -> bytes:
    """BASE with its header JSON changed by ``change(header)`` (crc recomputed)."""
    parts = Parts()
    change(parts.header)
    return parts.to_bytes()


def with_parts(change) -> bytes:
    parts = Parts()
    change(parts)
    return parts.to_bytes()


def patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


def flip(data: bytes, offset: int, mask: int = 0xFF) -> bytes:
    return patch(data, offset, bytes([data[offset] ^ mask]))


HEADER_LENGTH = PREFIX.unpack_from(BASE)[2]
BODY = PREFIX.size + HEADER_LENGTH


def set_in(path, value):
    def change(header):
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def drop(path):
    def change(header):
        target = header
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


def buffer_entry(name, key, value):
    def change(header):
        next(e for e in header["buffers"] if e["name"] == name)[key] = value
    return change


def swap_refractory_deadlines(parts: Parts) -> None:
    remaining = parts.get("refractory_remaining")
    assert remaining[0] != remaining[1]
    parts.put("refractory_remaining", list(reversed(remaining)))


# (id, damaged bytes, regex the StateError message must match)
CORRUPTIONS = [
    # prefix
    ("magic-first-byte", flip(BASE, 0), r"magic"),
    ("magic-last-byte", flip(BASE, 7, 0x01), r"magic"),
    ("magic-zeroed", patch(BASE, 0, bytes(8)), r"magic"),
    ("version-2", patch(BASE, 8, struct.pack("<I", 2)), r"version 2\b"),
    ("version-0", patch(BASE, 8, struct.pack("<I", 0)), r"version 0\b"),
    ("version-max", patch(BASE, 8, struct.pack("<I", 2**32 - 1)), r"version 4294967295"),
    ("header-length-plus-1", patch(BASE, 12, struct.pack("<I", HEADER_LENGTH + 1)),
     r"header checksum"),
    ("header-length-minus-1", patch(BASE, 12, struct.pack("<I", HEADER_LENGTH - 1)),
     r"header checksum"),
    ("header-length-0", patch(BASE, 12, struct.pack("<I", 0)), r"header checksum"),
    ("header-length-huge", patch(BASE, 12, struct.pack("<I", 2**32 - 1)),
     r"truncated inside its 4294967295-byte header"),
    ("header-crc", flip(BASE, 16), r"header checksum"),
    ("header-json-byte", flip(BASE, PREFIX.size + 1), r"header checksum"),
    ("header-json-last-byte", flip(BASE, BODY - 1), r"header checksum"),
    ("trailing-byte", BASE + b"\0", r"1 unexpected trailing bytes"),
    ("trailing-snapshot", BASE + BASE, rf"{len(BASE)} unexpected trailing bytes"),
    ("empty", b"", r"truncated: 0 bytes"),
    # header JSON, crc recomputed
    ("header-not-json", Parts().to_bytes(b"{not json"), r"malformed"),
    ("header-not-utf8", Parts().to_bytes(b"\xff\xfe{}"), r"malformed"),
    ("header-json-list", Parts().to_bytes(b"[]"), r"malformed"),
    ("header-json-empty-object", Parts().to_bytes(b"{}"), r"malformed"),
    ("header-buffers-not-a-list", with_header(set_in(["buffers"], 5)), r"malformed"),
    ("header-buffer-entry-not-an-object", with_header(set_in(["buffers", 0], 5)),
     r"malformed"),
    ("header-buffer-entry-without-typecode", with_header(drop(["buffers", 0, "typecode"])),
     r"malformed"),
    ("config-column-count-negative", with_header(set_in(["config", "column_count"], -1)),
     r"configuration is invalid.*-1"),
    ("config-column-count-float", with_header(set_in(["config", "column_count"], 6.0)),
     r"configuration is invalid.*6\.0"),
    ("config-column-count-larger", with_header(set_in(["config", "column_count"], 7)),
     r"'state' holds 6 items, expected 7"),
    ("config-column-count-smaller", with_header(set_in(["config", "column_count"], 5)),
     r"'state' holds 6 items, expected 5"),
    ("config-dim-larger-stride", with_header(set_in(["config", "dim"], 5)),
     r"'fields' holds 24 items, expected 48"),
    ("config-strategy", with_header(set_in(["config", "strategy"], "best")),
     r"configuration is invalid.*'best'"),
    ("config-refractory-nan", with_header(set_in(["config", "refractory_ms"], math.nan)),
     r"configuration is invalid.*nan"),
    ("config-enable-simd", with_header(set_in(["config", "enable_simd"], "yes")),
     r"configuration is invalid.*'yes'"),
    ("config-seed-negative", with_header(set_in(["config", "seed"], -3)),
     r"configuration is invalid.*-3"),
    ("config-missing-key", with_header(drop(["config", "dim"])), r"configuration is invalid"),
    ("config-extra-key", with_header(set_in(["config", "colour"], "red")),
     r"configuration is invalid.*colour"),
    ("config-not-an-object", with_header(set_in(["config"], [6])),
     r"configuration is invalid"),
    ("config-missing", with_header(drop(["config"])), r"configuration is invalid"),
    ("unknown-typecode", with_header(buffer_entry("usage", "typecode", "z")),
     r"unknown typecode 'z'"),
    ("typecode-not-a-string", with_header(buffer_entry("usage", "typecode", 4)),
     r"unknown typecode 4"),
    ("length-negative", with_header(buffer_entry("usage", "length", -1)), r"invalid length"),
    ("length-float", with_header(buffer_entry("usage", "length", 6.0)), r"invalid length"),
    ("length-string", with_header(buffer_entry("usage", "length", "6")), r"invalid length"),
    ("length-bool", with_header(buffer_entry("state", "length", True)), r"invalid length"),
    ("length-null", with_header(buffer_entry("usage", "length", None)), r"invalid length"),
    ("length-plus-one", with_header(buffer_entry("state", "length", 7)), r"truncated"),
    ("length-minus-one-last", with_header(buffer_entry("refractory_remaining", "length", 1)),
     r"8 unexpected trailing bytes"),
    ("window-too-short",
     with_parts(lambda p: p.put("window", p.get("window")[:-1])),
     r"'window' holds 999 items, expected 1000"),
    ("state-too-long", with_parts(lambda p: p.put("state", list(p.get("state")) + [0])),
     r"'state' holds 7 items, expected 6"),
    ("fields-too-short", with_parts(lambda p: p.put("fields", p.get("fields")[:-4])),
     r"'fields' holds 20 items, expected 24"),
    ("crc-field-missing", with_header(drop(["buffers", 0, "crc32"])),
     r"'state' checksum mismatch"),
    ("crc-field-string", with_header(buffer_entry("usage", "crc32", "0")),
     r"'usage' checksum mismatch"),
    ("counter-negative", with_header(set_in(["counters", "total_allocations"], -1)),
     r"counters are invalid"),
    ("counter-float", with_header(set_in(["counters", "usage_hits"], 1.0)),
     r"counters are invalid"),
    ("counter-string", with_header(set_in(["counters", "activations"], "0")),
     r"counters are invalid"),
    ("counter-bool", with_header(set_in(["counters", "optimization_cycles"], False)),
     r"counters are invalid"),
    ("counter-missing", with_header(drop(["counters", "moves_total"])),
     r"counters are incomplete.*moves_total"),
    ("counters-not-an-object", with_header(set_in(["counters"], [])),
     r"counters are incomplete"),
    ("window-position-negative", with_header(set_in(["window", "position"], -1)),
     r"timing window is invalid"),
    ("window-position-1000", with_header(set_in(["window", "position"], 1000)),
     r"timing window is invalid"),
    ("window-position-float", with_header(set_in(["window", "position"], 1.0)),
     r"timing window is invalid"),
    ("window-count-1001", with_header(set_in(["window", "count"], 1001)),
     r"timing window is invalid"),
    ("window-count-negative", with_header(set_in(["window", "count"], -1)),
     r"timing window is invalid"),
    ("window-total-nan", with_header(set_in(["window", "total"], math.nan)),
     r"timing window is invalid"),
    ("window-total-inf", with_header(set_in(["window", "total"], math.inf)),
     r"timing window is invalid"),
    ("window-total-string", with_header(set_in(["window", "total"], "0")),
     r"timing window is invalid"),
    ("window-missing", with_header(drop(["window"])), r"counters are incomplete.*window"),
    ("window-missing-total", with_header(drop(["window", "total"])),
     r"counters are incomplete.*total"),
    # crc-consistent states that violate an invariant
    ("state-byte-3", with_parts(lambda p: p.edit("state", p.columns("available")[0], 3)),
     r"state outside 0\.\.2"),
    ("state-byte-255", with_parts(lambda p: p.edit("state", 0, 255)),
     r"state outside 0\.\.2"),
    ("order-twice-the-same-column",
     with_parts(lambda p: p.put("order", [p.get("order")[0]] * 2 + list(p.get("order")[2:]))),
     r"twice"),
    ("order-column-appended-again",
     with_parts(lambda p: p.put("order", list(p.get("order")) + [p.get("order")[0]])),
     r"twice"),
    ("allocated-column-not-in-order",
     with_parts(lambda p: p.put("order", p.get("order")[1:])),
     r"3 columns are allocated but 2 concepts are mapped"),
    ("order-empty", with_parts(lambda p: p.put("order", [])),
     r"3 columns are allocated but 0 concepts are mapped"),
    ("order-names-column-outside", with_parts(lambda p: p.edit("order", 0, 6)),
     r"order names a column outside the engine"),
    ("order-names-available-column",
     with_parts(lambda p: p.edit("order", 0, p.columns("available")[0])),
     r"not allocated"),
    ("two-columns-hold-one-concept",
     with_parts(lambda p: p.edit("concept", p.get("order")[1],
                                 p.get("concept")[p.get("order")[0]])),
     r"twice"),
    ("refractory-column-twice",
     with_parts(lambda p: (p.put("refractory_column", [p.get("refractory_column")[0]] * 2))),
     r"refractory queue holds a column twice"),
    ("refractory-column-listed-again",
     with_parts(lambda p: (
         p.put("refractory_column", list(p.get("refractory_column")) * 2),
         p.put("refractory_remaining", list(p.get("refractory_remaining")) * 2))),
     r"refractory queue holds a column twice"),
    ("refractory-lengths-differ",
     with_parts(lambda p: p.put("refractory_remaining", p.get("refractory_remaining")[:1])),
     r"differ in length"),
    ("refractory-column-outside", with_parts(lambda p: p.edit("refractory_column", 0, 6)),
     r"refractory queue names a column outside the engine"),
    ("refractory-column-is-available",
     with_parts(lambda p: p.edit("refractory_column", 0, p.columns("available")[0])),
     r"inconsistent"),
    ("refractory-state-not-queued",
     with_parts(lambda p: p.edit("state", p.columns("available")[0], 2)),
     r"3 columns are refractory but 2 are queued"),
    ("refractory-deadline-nan", with_parts(lambda p: p.edit("refractory_remaining", 0, math.nan)),
     r"deadline"),
    ("refractory-deadline-negative",
     with_parts(lambda p: p.edit("refractory_remaining", 0, -1.0)), r"deadline"),
    ("refractory-deadline-inf",
     with_parts(lambda p: p.edit("refractory_remaining", 0, math.inf)), r"deadline"),
    ("refractory-deadlines-out-of-order", with_parts(swap_refractory_deadlines),
     r"inconsistent"),
    ("activation-2-on-allocated",
     with_parts(lambda p: p.edit("activation", p.columns("allocated")[0], 2.0)),
     r"activation outside \[0, 1\]"),
    ("activation-negative-on-allocated",
     with_parts(lambda p: p.edit("activation", p.columns("allocated")[1], -0.5)),
     r"activation outside \[0, 1\]"),
    ("activation-nan-on-allocated",
     with_parts(lambda p: p.edit("activation", p.columns("allocated")[2], math.nan)),
     r"activation outside \[0, 1\]"),
    ("window-sample-negative", with_parts(lambda p: p.edit("window", 0, -1.0)),
     r"timing window holds a sample"),
    ("window-sample-nan", with_parts(lambda p: p.edit("window", 3, math.nan)),
     r"timing window holds a sample"),
]
def header_with(extra: bytes) -> bytes:
    """BASE whose header JSON carries one more key, ``"x": extra`` (crc recomputed)."""
    raw = json.dumps(Parts().header, separators=(",", ":"), sort_keys=True).encode()
    return Parts().to_bytes(raw[:-1] + b',"x":' + extra + b"}")


def many_buffers(parts: Parts) -> None:
    for index in range(100):
        parts.header["buffers"].append({"name": f"extra{index}", "typecode": "B", "length": 0,
                                        "crc32": 0})
        parts.chunks.append(b"")


# Bounds checked before parsing or copying: a crafted header must cost neither stack
# (a parser recurses once per level of nesting) nor memory.
CORRUPTIONS += [
    ("header-nested-4000-deep", header_with(b"[" * 4000 + b"]" * 4000),
     r"^Snapshot header is nested deeper than 16 levels$"),
    ("header-nested-30000-deep-unclosed", header_with(b"[" * 30000),
     r"^Snapshot header is nested deeper than 16 levels$"),
    ("header-nested-100000-deep", header_with(b"[" * 100_000 + b"]" * 100_000),
     r"^Snapshot header is \d+ bytes long, more than 65536$"),
    ("header-of-a-megabyte", header_with(b'"' + b"x" * 2**20 + b'"'),
     r"^Snapshot header is \d+ bytes long, more than 65536$"),
    ("header-lists-too-many-buffers", with_parts(many_buffers),
     r"lists 113 buffers, more than 64"),
    ("order-longer-than-the-columns",
     with_parts(lambda p: p.put("order", list(p.get("order")) * 3)),
     r"'order' holds 9 items, more than the engine's 6 columns"),
    ("refractory-queue-longer-than-the-columns",
     with_parts(lambda p: (p.put("refractory_column", list(range(6)) + [0]),
                           p.put("refractory_remaining", [1.0] * 7))),
     r"'refractory_column' holds 7 items, more than the engine's 6 columns"),
    ("config-column-count-beyond-the-limit",
     with_header(set_in(["config", "column_count"], 50_000_000)),
     r"configuration is invalid: Invalid column_count 50000000: expected an integer in "
     r"0\.\.8388608 \(the most an engine can hold and persist in Pyodide's 32-bit memory\)"),
    ("config-fields-beyond-the-limit",
     with_header(lambda h: h["config"].update(column_count=2**20, dim=4096)),
     r"configuration is invalid: Invalid dim 4096 for 1048576 columns: columns × dim"),
    # an allocation's timestamp is a wall-clock reading: finite and not negative
    ("allocated-at-nan-on-allocated",
     with_parts(lambda p: p.edit("allocated_at", p.columns("allocated")[0], math.nan)),
     r"allocation timestamp is negative, NaN or infinite"),
    ("allocated-at-inf-on-allocated",
     with_parts(lambda p: p.edit("allocated_at", p.columns("allocated")[1], math.inf)),
     r"allocation timestamp is negative, NaN or infinite"),
    ("allocated-at-negative-on-allocated",
     with_parts(lambda p: p.edit("allocated_at", p.columns("allocated")[2], -1.0)),
     r"allocation timestamp is negative, NaN or infinite"),
    ("allocated-at-minus-inf-on-available",
     with_parts(lambda p: p.edit("allocated_at", p.columns("available")[0], -math.inf)),
     r"allocation timestamp is negative, NaN or infinite"),
]

# every buffer: missing, a byte flipped (crc mismatch), a wrong typecode of the same size,
# a stale crc32 in the header
SAME_SIZE = {"B": "b", "I": "i", "f": "i", "d": "q"}
for _name in BUFFER_NAMES:
    _parts = Parts()
    _entry = _parts.entry(_name)
    _offset = BODY + sum(len(c) for c in _parts.chunks[: _parts.index(_name)])
    _size = len(_parts.chunks[_parts.index(_name)])
    if _name not in ("activated_ms", "window_kinds"):  # which earlier versions lack
        # (test_activation.py, test_timing.py)
        CORRUPTIONS.append((f"{_name}-missing", with_parts(lambda p, n=_name: p.remove(n)),
                            rf"lacks buffer '{_name}'"))
    CORRUPTIONS += [
        (f"{_name}-byte-flipped", flip(BASE, _offset + _size // 2),
         rf"'{_name}' checksum mismatch"),
        (f"{_name}-first-byte-flipped", flip(BASE, _offset, 0x01),
         rf"'{_name}' checksum mismatch"),
        (f"{_name}-wrong-typecode",
         with_header(buffer_entry(_name, "typecode", SAME_SIZE[_entry["typecode"]])),
         rf"'{_name}' has typecode '{SAME_SIZE[_entry['typecode']]}'"),
        (f"{_name}-stale-crc", with_header(buffer_entry(_name, "crc32", _entry["crc32"] ^ 1)),
         rf"'{_name}' checksum mismatch"),
    ]

# Corruptions the engine does not catch yet (each names the rule it breaks).
UNCAUGHT = [
    ("buffer-listed-twice",  # two entries named 'usage': which one is the state?
     with_parts(lambda p: (p.header["buffers"].append(dict(p.entry("usage"))),
                           p.chunks.append(bytes(len(p.get("usage")) * 4)),
                           p.header["buffers"][-1].update(crc32=zlib.crc32(p.chunks[-1])))),
     r"usage"),
    ("buffer-name-not-a-string", with_header(buffer_entry("state", "name", ["state"])),
     r"malformed|name"),
    ("activation-on-available-column",  # released columns have activation 0.0
     with_parts(lambda p: p.edit("activation", p.columns("available")[0], 0.5)),
     r"activation"),
    ("usage-on-available-column",  # a released column's usage is reset
     with_parts(lambda p: p.edit("usage", p.columns("available")[0], 7)), r"usage"),
    ("confidence-nan-on-allocated",  # confidence = (score + 1) / 2 lies in [0, 1]
     with_parts(lambda p: p.edit("confidence", p.columns("allocated")[0], math.nan)),
     r"confidence"),
    ("confidence-2-on-allocated",
     with_parts(lambda p: p.edit("confidence", p.columns("allocated")[0], 2.0)),
     r"confidence"),
    ("field-nan",  # receptive fields are unit vectors
     with_parts(lambda p: p.edit("fields", 4 * p.columns("available")[0], math.nan)),
     r"field"),
    ("counters-disagree-with-allocations",  # allocated == allocations - deallocations
     with_header(set_in(["counters", "total_allocations"], 0)), r"counters"),
    ("window-total-disagrees-with-samples",  # the mean would be 1e9 ms
     with_header(set_in(["window", "total"], 1e12)), r"timing window"),
    ("refractory-longer-than-refractory-ms",  # a column refractory for a year
     with_parts(lambda p: p.edit("refractory_remaining", 1, 3.15e10)), r"refractory"),
]


def assert_rejected_everywhere(data: bytes, pattern: str) -> None:
    with pytest.raises(StateError, match=pattern):
        AllocationEngine.restore(data, host=FakeHost())
    with pytest.raises(StateError, match=pattern):
        AllocationEngine.restore(data, backend="reference", host=FakeHost())
    kg, storage = CortexKG(CortexKGConfig(column_count=6), host=FakeHost()), MemoryStorage()
    storage.data = data
    with pytest.raises(StateError, match=pattern):
        asyncio.run(kg.initialize(storage))
    assert kg.initialized is False
    asyncio.run(kg.initialize())  # still usable, as a new engine
    kg.allocate_concept(4)
    kg.validate()


def test_the_undamaged_base_snapshot_restores():
    restored = AllocationEngine.restore(BASE, host=FakeHost())
    assert observed(restored) == observed(base_engine())
    assert restored.stats()["refractory"] == 2
    assert restored.stats()["allocated"] == 3
    assert restored.get_free_column_count() == 1


@pytest.mark.parametrize(("data", "pattern"),
                         [pytest.param(d, p, id=i) for i, d, p in CORRUPTIONS])
def test_damaged_snapshot_raises_state_error_naming_the_problem(data, pattern):
    assert data != BASE
    assert_rejected_everywhere(data, pattern)


@pytest.mark.parametrize(("data", "pattern"),
                         [pytest.param(d, p, id=i) for i, d, p in UNCAUGHT])
def test_crc_consistent_snapshot_breaking_an_invariant_raises_state_error(data, pattern):
    assert_rejected_everywhere(data, pattern)


def test_damaged_snapshot_object_raises_state_error():
    snapshot = base_engine().snapshot()
    broken = Snapshot(copy.deepcopy(snapshot.header), dict(snapshot.buffers))
    broken.buffers["usage"] = bytes(len(broken.buffers["usage"]))
    with pytest.raises(StateError, match="'usage' checksum mismatch"):
        AllocationEngine.restore(broken, host=FakeHost())
    missing = Snapshot(copy.deepcopy(snapshot.header), dict(snapshot.buffers))
    del missing.buffers["order"]
    with pytest.raises(StateError, match="lacks buffer 'order'"):
        AllocationEngine.restore(missing, host=FakeHost())
    with pytest.raises(StateError, match="configuration is invalid"):
        AllocationEngine.restore(Snapshot({}, {}), host=FakeHost())


def test_truncation_at_every_offset_raises_state_error():
    for length in range(len(BASE)):
        with pytest.raises(StateError, match="truncated"):
            Snapshot.from_bytes(BASE[:length])
    for length in (0, 5, PREFIX.size, BODY - 1, BODY, BODY + 1, len(BASE) - 1):
        with pytest.raises(StateError, match="truncated"):
            AllocationEngine.restore(BASE[:length], host=FakeHost())


def test_failed_initialize_from_a_damaged_storage_leaves_the_facade_uninitialized():
    storage = MemoryStorage()
    storage.data = flip(BASE, len(BASE) - 1)
    kg = CortexKG(host=FakeHost())
    with pytest.raises(StateError, match="checksum mismatch"):
        asyncio.run(kg.initialize(storage))
    assert not kg.initialized
    assert asyncio.run(kg.initialize()) is False
    assert kg.get_free_column_count() == 1024


@settings(max_examples=examples(500), deadline=None)
@given(offset=st.one_of(st.integers(0, len(BASE) - 1), st.integers(0, BODY - 1)),
       mask=st.integers(1, 255))
def test_any_single_byte_flip_raises_state_error(offset, mask):
    # about half the flips land in the prefix or header (BODY bytes of a long snapshot)
    with pytest.raises(StateError):
        AllocationEngine.restore(flip(BASE, offset, mask), host=FakeHost())
