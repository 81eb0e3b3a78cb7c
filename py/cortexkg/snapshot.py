"""Snapshots: the engine's whole state as a header plus named, checksummed byte buffers.

Binary layout of :meth:`Snapshot.to_bytes` (all integers little-endian)::

    magic  b"CORTEXKG"  | u32 format version | u32 header length | u32 header crc32
    header  UTF-8 JSON: {"config", "counters", "window", "buffers": [{"name",
            "typecode", "length", "crc32"}, ...]}
    buffers the bytes of each listed buffer, in the listed order, little-endian

Column state is stored as the engine's own buffers (never per-column objects), plus
``order`` (the columns of live allocations in allocation order), the timing ``window``
with each sample's kind (``window_kinds``) and the refractory queue as columns and remaining milliseconds, so deadlines are
relative to the clock of whoever restores. The header's ``clock_ms`` is the reading they
were measured at, for a restore that must continue in the same clock (journal recovery).

A snapshot can also be parsed from a :class:`ByteSource` instead of bytes (the worker's
JavaScript Uint8Array): restore then copies each buffer once, straight from the source
into the engine's own array, and checks its crc32 there. The other way, :func:`parts`
gives a snapshot's bytes as parts to join, the buffers being the engine's own, so the
whole snapshot is copied once (the largest engines fit in memory only so).

Stored data is parsed with bounds checked first: the header's size and nesting
(:func:`cortexkg.validation.stored_json`), its number of buffers, and each buffer's
length against the configuration, so a crafted file is refused before it costs memory
or stack.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass, field
from typing import Protocol

from .columns import ROW_TYPECODES
from .config import check_config
from .engine_state import COUNTERS, EngineState
from .errors import StateError
from .fields import stride_of
from .timing import UNKNOWN, WINDOW
from .validation import quoted, stored_json

FORMAT_VERSION = 1
MAGIC = b"CORTEXKG"
_PREFIX = struct.Struct("<8sIII")
# A header is about 1 KB: {"config", "clock_ms", "counters", "window", "buffers": [...]},
# 3 levels deep, listing 13 buffers. Anything far beyond is not a snapshot of ours.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_DEPTH = 16
MAX_BUFFERS = 64


def _little_endian(buffer):
    """The buffer itself, or a byteswapped copy on a big-endian host."""
    if sys.byteorder == "big" and isinstance(buffer, array) and buffer.itemsize > 1:
        buffer = array(buffer.typecode, buffer)
        buffer.byteswap()
    return buffer


def _encoded(header: dict, buffers: dict) -> list:
    """The parts of a snapshot's bytes: prefix, header JSON, each listed buffer."""
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return [_PREFIX.pack(MAGIC, FORMAT_VERSION, len(raw), zlib.crc32(raw)), raw,
            *(buffers[entry["name"]] for entry in header["buffers"])]


class ByteSource(Protocol):
    """Bytes read in place, in slices that are ByteSources too."""

    def __len__(self) -> int: ...

    def __getitem__(self, part: slice) -> "ByteSource": ...

    def __bytes__(self) -> bytes: ...

    def copy_into(self, target) -> None:
        """Fill ``target``, a writable buffer of exactly this many bytes."""


def _copied(typecode: str, length: int, data) -> bytearray | array:
    """A new buffer of ``length`` ``typecode`` items (a bytearray for "B") holding the bytes
    of ``data`` (bytes-like or a ByteSource), still in their stored little-endian order."""
    if hasattr(data, "copy_into"):
        out = bytearray(length) if typecode == "B" else array(typecode, [0]) * length
        data.copy_into(out)
        return out
    if typecode == "B":
        return bytearray(data)
    out = array(typecode)
    out.frombytes(data)
    return out


@dataclass
class Snapshot:
    """A versioned, self-describing engine state: ``header`` and ``buffers`` by name."""

    header: dict
    # views into the parsed bytes (or slices of the ByteSource they were parsed from)
    buffers: dict[str, bytes | memoryview] = field(repr=False)

    def to_bytes(self) -> bytes:
        """One byte string holding the whole snapshot."""
        return b"".join(_encoded(self.header, self.buffers))

    @classmethod
    def from_bytes(cls, data: bytes | ByteSource) -> "Snapshot":
        """Parse :meth:`to_bytes` output; raise :class:`StateError` naming any damage.

        ``data`` may also be a :class:`ByteSource`; the Snapshot's buffers are then its
        slices, for :func:`restore` to copy (such a Snapshot has no :meth:`to_bytes`).
        """
        if isinstance(data, memoryview) and isinstance(data.obj, bytes):
            view = data.cast("B")  # a view of immutable bytes (an export's body, say)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            if not isinstance(data, bytes):
                data = bytes(data)  # an immutable copy, so the buffer views below stay valid
            view = memoryview(data)
        elif hasattr(data, "copy_into"):
            view = data
        else:
            raise StateError(
                f"Invalid snapshot {type(data).__name__}: expected bytes or a Snapshot")
        if len(view) < _PREFIX.size:
            raise StateError(f"Snapshot is truncated: {len(view)} bytes, no complete prefix")
        magic, version, header_length, header_crc = _PREFIX.unpack(bytes(view[:_PREFIX.size]))
        if magic != MAGIC:
            raise StateError(f"Not a cortexkg snapshot: magic {quoted(magic)}, expected {MAGIC!r}")
        if version != FORMAT_VERSION:
            raise StateError(
                f"Unsupported snapshot format version {version}: expected {FORMAT_VERSION}"
            )
        start = _PREFIX.size
        if header_length > len(view) - start:
            raise StateError(f"Snapshot is truncated inside its {header_length}-byte header")
        if header_length > MAX_HEADER_BYTES:
            raise StateError(f"Snapshot header is {header_length} bytes long, more than "
                             f"{MAX_HEADER_BYTES}")
        raw = bytes(view[start : start + header_length])
        if zlib.crc32(raw) != header_crc:
            raise StateError("Snapshot header checksum mismatch: the header is damaged")
        header = stored_json(raw, "Snapshot header", max_bytes=MAX_HEADER_BYTES,
                             max_depth=MAX_HEADER_DEPTH)
        try:
            listed = header["buffers"]
            if type(listed) is list and len(listed) > MAX_BUFFERS:
                raise StateError(f"Snapshot header lists {len(listed)} buffers, more than "
                                 f"{MAX_BUFFERS}")
            entries = [(e["name"], e["typecode"], e["length"]) for e in listed]
        except (KeyError, TypeError) as error:
            raise StateError(f"Snapshot header is malformed: {error}") from None
        if any(type(length) is not int or length < 0 for _, _, length in entries):
            raise StateError("Snapshot header lists a buffer with an invalid length")
        names = [name for name, _, _ in entries]
        if any(type(name) is not str for name in names):
            raise StateError("Snapshot header is malformed: a buffer name is not a string")
        for name in names:
            if names.count(name) > 1:
                raise StateError(f"Snapshot header lists buffer {quoted(name)} twice")
        offset, buffers = start + header_length, {}
        for name, typecode, length in entries:
            size = length * _itemsize(typecode)
            if offset + size > len(view):
                raise StateError(f"Snapshot is truncated inside buffer {quoted(name)}")
            buffers[name] = view[offset : offset + size]
            offset += size
        if offset != len(view):
            raise StateError(f"Snapshot has {len(view) - offset} unexpected trailing bytes")
        return cls(header, buffers)


def _itemsize(typecode: str) -> int:
    try:
        return array(typecode).itemsize
    except (ValueError, TypeError):
        raise StateError(f"Snapshot buffer has unknown typecode {quoted(typecode)}") from None


def take(state: EngineState) -> Snapshot:
    """The snapshot of an engine's ``state``."""
    header, buffers = _taken(state)
    return Snapshot(header, {name: bytes(buffer) for name, buffer in buffers.items()})


def parts(state: EngineState) -> list:
    """The bytes of :func:`take`'s snapshot as parts to join (``b"".join(parts) ==
    take(state).to_bytes()``): the buffers are the state's own, not copied."""
    return _encoded(*_taken(state))


def _taken(state: EngineState) -> tuple[dict, dict]:
    """The header and the buffers (the state's own, little-endian) of its snapshot."""
    named = {name: (ROW_TYPECODES.get(name, "f"), buffer)
             for name, buffer in state.buffers.items()}
    named["order"] = ("I", state.order)
    named["window"] = ("d", state.window)
    named["window_kinds"] = ("B", state.window_kinds)
    named["refractory_column"] = ("I", state.refractory_columns)
    named["refractory_remaining"] = ("d", state.refractory_left_ms)
    buffers = {name: _little_endian(buffer) for name, (_, buffer) in named.items()}
    header = {
        "config": dict(state.config),
        "clock_ms": state.clock_ms,  # the reading refractory times left are relative to
        "counters": dict(state.counters),
        "window": {"position": state.window_position, "count": state.window_count,
                   "total": state.window_total},
        "buffers": [
            {"name": name, "typecode": typecode, "length": len(buffer),
             "crc32": zlib.crc32(buffers[name])}
            for name, (typecode, buffer) in named.items()
        ],
    }
    return header, buffers


def read(snapshot) -> EngineState:
    """The engine state in ``snapshot`` (a Snapshot, its bytes or a ByteSource), each
    buffer copied once and checked against the header; :class:`StateError` naming any
    damage. (The engine checks the state's own consistency when it adopts it.)"""
    if not isinstance(snapshot, Snapshot):
        snapshot = Snapshot.from_bytes(snapshot)
    header = snapshot.header
    try:
        config = check_config(**header["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise StateError(f"Snapshot configuration is invalid: {error}") from None
    data = _checked_buffers(snapshot, config)
    try:
        counters = {name: header["counters"][name] for name in COUNTERS}
        window = header["window"]
        position, count, total = window["position"], window["count"], window["total"]
    except (KeyError, TypeError) as error:
        raise StateError(f"Snapshot counters are incomplete: missing {error}") from None
    if any(type(v) is not int or v < 0 for v in counters.values()):
        raise StateError(f"Snapshot counters are invalid: {counters}")
    if (type(position) is not int or type(count) is not int or not 0 <= position < WINDOW
            or not 0 <= count <= WINDOW or not isinstance(total, (int, float))
            or not math.isfinite(total)):
        raise StateError(f"Snapshot timing window is invalid: {window}")
    samples = data.pop("window")
    if not all(math.isfinite(ms) and ms >= 0 for ms in samples):
        raise StateError("Snapshot timing window holds a sample that is not a finite ms >= 0")
    kinds = data.pop("window_kinds")
    if max(kinds) > UNKNOWN:
        raise StateError(f"Snapshot timing window holds an unknown sample kind {max(kinds)}")
    return EngineState(
        config=config, order=data.pop("order"),
        refractory_columns=data.pop("refractory_column"),
        refractory_left_ms=data.pop("refractory_remaining"),
        clock_ms=header.get("clock_ms", 0.0), counters=counters, window=samples, window_kinds=kinds,
        window_position=position, window_count=count, window_total=float(total),
        buffers=data)


def _expected_buffers(config: dict) -> dict[str, tuple[str, int | None]]:
    """name -> (typecode, item count or None when variable)."""
    n = config["column_count"]
    expected = {name: (typecode, n) for name, typecode in ROW_TYPECODES.items()}
    expected["fields"] = ("f", n * stride_of(config["dim"]))
    expected["order"] = ("I", None)
    expected["window"] = ("d", WINDOW)
    expected["window_kinds"] = ("B", WINDOW)
    expected["refractory_column"] = ("I", None)
    expected["refractory_remaining"] = ("d", None)
    return expected


# Buffers that snapshots of earlier versions lack, and the value that fills them in:
# activation never decayed then, so every concept counts as last activated at its
# allocation (0.0); which timing samples were batch means was not recorded (UNKNOWN).
_ADDED_BUFFERS = {"activated_ms": 0, "window_kinds": UNKNOWN}


def _checked_buffers(snapshot: Snapshot, config: dict) -> dict:
    """Every expected buffer, checked against the header, as a new array (bytearray for "B")."""
    entries = {entry.get("name"): entry for entry in snapshot.header.get("buffers", [])}
    column_count, out = config["column_count"], {}
    for name, (typecode, count) in _expected_buffers(config).items():
        entry, data = entries.get(name), snapshot.buffers.get(name)
        if entry is None and data is None and name in _ADDED_BUFFERS:
            fill = _ADDED_BUFFERS[name]
            out[name] = (bytearray([fill]) * count if typecode == "B"
                         else array(typecode, [fill]) * count)
            continue
        if entry is None or data is None:
            raise StateError(f"Snapshot lacks buffer {name!r}")
        if entry.get("typecode") != typecode:
            raise StateError(
                f"Snapshot buffer {name!r} has typecode {quoted(entry.get('typecode'))}, "
                f"expected {typecode!r}"
            )
        itemsize = array(typecode).itemsize
        length = entry.get("length")
        if type(length) is not int or len(data) != itemsize * length:
            raise StateError(f"Snapshot buffer {name!r} size does not match its header")
        if count is not None and length != count:
            raise StateError(f"Snapshot buffer {name!r} holds {length} items, expected {count}")
        if count is None and length > column_count:  # one item per column at most
            raise StateError(f"Snapshot buffer {name!r} holds {length} items, more than the "
                             f"engine's {column_count} columns")
        copy = _copied(typecode, length, data)
        if zlib.crc32(copy) != entry.get("crc32"):
            raise StateError(f"Snapshot buffer {name!r} checksum mismatch: the data is damaged")
        if sys.byteorder == "big" and itemsize > 1:
            copy.byteswap()
        out[name] = copy
    return out
