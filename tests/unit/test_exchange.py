"""The export file (cortexkg.exchange): a snapshot packed with magic, version and sha256.

unpack must return exactly what pack was given, and refuse every damaged file with a
StateError whose message names the problem, before anything is restored.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from array import array

import pytest

from cortexkg import AllocationEngine, StateError
from cortexkg import exchange
from cortexkg.snapshot import Snapshot

from fakes import FakeHost, FakeUint8Array

PREFIX = struct.Struct("<16sII")  # magic, version, header length


def engine_snapshot_bytes() -> bytes:
    """The snapshot of a small engine with some of everything in it."""
    host = FakeHost()
    engine = AllocationEngine(6, strategy="affinity", dim=3, refractory_ms=5.0, seed=3,
                              backend="reference", host=host)
    engine.allocate_batch([4, 8, 15, 16])
    host.advance(1.5)
    engine.deallocate_concept(8)
    engine.activate_concept(15, 0.25)
    return engine.snapshot().to_bytes()


@pytest.fixture(scope="module")
def body() -> bytes:
    return engine_snapshot_bytes()


@pytest.fixture(scope="module")
def packed(body) -> bytes:
    return exchange.pack(body)


def split(data: bytes) -> tuple[bytes, int, dict, bytes]:
    magic, version, length = PREFIX.unpack_from(data)
    header = json.loads(data[PREFIX.size:PREFIX.size + length])
    return magic, version, header, data[PREFIX.size + length:]


def repack(magic=exchange.MAGIC, version=exchange.VERSION, header: bytes | dict = b"",
           body: bytes = b"") -> bytes:
    if isinstance(header, dict):
        header = json.dumps(header).encode()
    return PREFIX.pack(magic, version, len(header)) + header + body


def honest_header(body: bytes, **changes) -> dict:
    return {"version": exchange.VERSION, "sha256": hashlib.sha256(body).hexdigest(),
            "size": len(body), **changes}


# ---------------------------------------------------------------- round trip and layout


def test_unpack_returns_exactly_the_packed_snapshot(body, packed):
    snapshot = exchange.unpack(packed)
    assert isinstance(snapshot, Snapshot)
    assert snapshot.to_bytes() == body
    assert snapshot.header == Snapshot.from_bytes(body).header
    assert snapshot.buffers == Snapshot.from_bytes(body).buffers


def test_the_file_starts_with_magic_and_version_and_its_header_names_body_size_and_sha256(
        body, packed):
    magic, version, header, rest = split(packed)
    assert magic == b"CORTEXKG-EXPORT\n" == exchange.MAGIC
    assert version == exchange.VERSION == 1
    assert header == {"version": 1, "size": len(body),
                      "sha256": hashlib.sha256(body).hexdigest()}
    assert rest == body


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda t: t.__name__)
def test_unpack_accepts_any_bytes_like_file(packed, body, wrap):
    assert exchange.unpack(wrap(packed)).to_bytes() == body


def test_pack_is_deterministic_and_round_trips_an_empty_engine():
    body = AllocationEngine(0, backend="reference", host=FakeHost()).snapshot().to_bytes()
    assert exchange.pack(body) == exchange.pack(body)
    assert exchange.unpack(exchange.pack(body)).to_bytes() == body


def test_the_restored_engine_of_an_unpacked_export_equals_the_original(packed, engine_state):
    host = FakeHost()
    original = AllocationEngine.restore(Snapshot.from_bytes(split(packed)[3]),
                                        backend="reference", host=host)
    restored = AllocationEngine.restore(exchange.unpack(packed), backend="reference",
                                        host=FakeHost())
    assert engine_state(restored) == engine_state(original)


# ------------------------------------------------------------------- corruption classes


@pytest.mark.parametrize("data", [
    b"",
    b"CORTEXKG-EXPORT",  # shorter than the prefix
    b"hello, this is a text file and not an export at all",
    b"\x00" * 64,
], ids=["empty", "magic-only", "text", "zeros"])
def test_a_file_that_is_not_an_export_is_refused_as_such(data):
    with pytest.raises(StateError, match="Not a CortexKG export"):
        exchange.unpack(data)


def test_a_bare_snapshot_is_not_an_export(body):
    with pytest.raises(StateError, match="Not a CortexKG export.*CORTEXKG-EXPORT"):
        exchange.unpack(body)


def test_a_file_too_short_for_its_prefix_says_how_short(packed):
    with pytest.raises(StateError, match="Not a CortexKG export: 10 bytes is too short"):
        exchange.unpack(packed[:10])


@pytest.mark.parametrize("version", [2, 7, 2**32 - 1])
def test_a_newer_version_is_refused_as_coming_from_a_newer_cortexkg(packed, version):
    rest = split(packed)[3]
    data = repack(version=version, header=honest_header(rest, version=version), body=rest)
    with pytest.raises(StateError, match=(
            rf"Export format version {version} is not supported: expected 1 "
            r"\(the file comes from a newer CortexKG\)")):
        exchange.unpack(data)


def test_an_older_unknown_version_is_refused_without_blaming_a_newer_cortexkg(packed):
    rest = split(packed)[3]
    with pytest.raises(StateError, match="version 0 is not supported") as caught:
        exchange.unpack(repack(version=0, header=honest_header(rest, version=0), body=rest))
    assert "newer" not in str(caught.value)


@pytest.mark.parametrize("header", [
    b"",
    b"{not json",
    b"\xff\xfe{}",  # not UTF-8
    b"null",
    b"[1, 2, 3]",
    b'"a string"',
    b'{"version": 1, "size": 5}',  # no sha256
    b'{"version": 1, "sha256": "00"}',  # no size
], ids=["empty", "not-json", "not-utf8", "null", "list", "string", "no-sha256", "no-size"])
def test_a_damaged_header_is_refused(body, header):
    with pytest.raises(StateError, match="Export header is damaged"):
        exchange.unpack(repack(header=header, body=body))


def test_a_header_length_beyond_the_file_is_refused_as_a_damaged_header(packed):
    data = bytearray(packed)
    struct.pack_into("<I", data, 20, 2**32 - 1)
    with pytest.raises(StateError, match="Export header is damaged"):
        exchange.unpack(bytes(data))


def test_a_header_whose_version_disagrees_with_the_files_version_is_refused(body):
    # the header repeats the version; a file whose two versions differ was changed
    for version in (0, 2, "1", None):
        data = repack(header=honest_header(body, version=version), body=body)
        with pytest.raises(StateError, match="[Hh]eader"):
            exchange.unpack(data)


@pytest.mark.parametrize("cut", [1, 100, 4096])
def test_a_truncated_file_is_refused_with_the_sizes(packed, body, cut):
    with pytest.raises(StateError, match=(
            rf"truncated or padded: {len(body) - cut} bytes of state, expected {len(body)}")):
        exchange.unpack(packed[:-cut])


def test_a_file_cut_right_after_its_header_is_truncated(packed, body):
    header_end = len(packed) - len(body)
    with pytest.raises(StateError, match=rf"truncated or padded: 0 bytes of state, expected {len(body)}"):
        exchange.unpack(packed[:header_end])


@pytest.mark.parametrize("padding", [b"\x00", b"\n", b"trailing garbage" * 10])
def test_a_padded_file_is_refused_with_the_sizes(packed, body, padding):
    with pytest.raises(StateError, match=(
            rf"truncated or padded: {len(body) + len(padding)} bytes of state, "
            rf"expected {len(body)}")):
        exchange.unpack(packed + padding)


@pytest.mark.parametrize("where", [0, 1, 500, -1], ids=["first", "second", "middle", "last"])
def test_a_changed_body_byte_is_a_checksum_mismatch(packed, body, where):
    data = bytearray(packed)
    data[len(packed) - len(body) + where % len(body)] ^= 0x01
    with pytest.raises(StateError, match="Export checksum mismatch"):
        exchange.unpack(bytes(data))


def test_a_changed_checksum_is_a_checksum_mismatch(packed, body):
    digest = hashlib.sha256(body).hexdigest()
    other = ("0" if digest[0] != "0" else "1") + digest[1:]
    data = packed.replace(digest.encode(), other.encode())
    assert data != packed
    with pytest.raises(StateError, match="Export checksum mismatch"):
        exchange.unpack(data)


@pytest.mark.parametrize("value", [None, "CORTEXKG-EXPORT\n", 42, [1, 2, 3], {"bytes": b""},
                                   array("I", [1, 2])], ids=lambda v: type(v).__name__)
def test_a_value_that_is_not_bytes_is_refused_naming_its_type(value):
    with pytest.raises(StateError, match=rf"Invalid export {type(value).__name__}: expected the bytes"):
        exchange.unpack(value)


def test_every_single_byte_change_anywhere_in_the_file_is_refused(packed):
    """Flip each byte of the file (three ways): magic, version, header length, header
    JSON and body are all covered; no changed file may be accepted."""
    accepted = []
    for index in range(len(packed)):
        for mask in (0x01, 0x80, 0xFF):
            data = bytearray(packed)
            data[index] ^= mask
            try:
                exchange.unpack(bytes(data))
            except StateError:
                continue
            accepted.append((index, mask, packed[index:index + 1]))
    assert accepted == [], f"changed files accepted (index, mask, byte): {accepted[:10]}"


# ------------------------------------------------- a sound file around a damaged snapshot


def test_an_honestly_packed_damaged_snapshot_is_still_refused(body):
    damaged = bytearray(body)
    damaged[-1] ^= 0xFF  # the last buffer's crc32 no longer matches
    data = exchange.pack(bytes(damaged))
    snapshot = exchange.unpack(data)  # the file is what its header says...
    with pytest.raises(StateError, match="checksum mismatch: the data is damaged"):
        AllocationEngine.restore(snapshot, backend="reference", host=FakeHost())


@pytest.mark.parametrize("inner, message", [
    (b"not a snapshot at all, but long enough", "Not a cortexkg snapshot"),
    (b"", "Snapshot is truncated"),
])
def test_an_honestly_packed_non_snapshot_is_refused_by_unpack(inner, message):
    with pytest.raises(StateError, match=message):
        exchange.unpack(exchange.pack(inner))


# ------------------------------------------------------ bounded parsing, reading in place


@pytest.mark.parametrize(("header", "message"), [
    (b'{"v":' + b"[" * 400 + b"]" * 400 + b"}", r"it is nested deeper than 1 levels"),
    (b'{"v":' + b"[" * 100_000 + b"]" * 100_000 + b"}", r"200006 bytes long, more than 1024"),
    (b'{"size":' + b" " * 5000 + b"1}", r"5010 bytes long, more than 1024"),
], ids=["nested-400", "nested-100000", "padded-5000"])
def test_a_header_too_long_or_too_deep_is_refused_before_it_is_parsed(body, header, message):
    with pytest.raises(StateError, match=rf"^Export header is damaged: {message}$"):
        exchange.unpack(repack(header=header, body=body))


def test_an_honest_export_of_a_snapshot_whose_header_is_nested_4000_deep_is_refused(body):
    """The issue's crafted file: valid CRC and SHA-256 around a snapshot header nested 4000
    deep, which overflowed Pyodide's stack in json.loads."""
    magic, version, length, _ = struct.unpack_from("<8sIII", body)
    header = body[20:20 + length]
    deep = header[:-1] + b',"x":' + b"[" * 4000 + b"]" * 4000 + b"}"
    crafted = (struct.pack("<8sIII", magic, version, len(deep), zlib.crc32(deep)) + deep
               + body[20 + length:])
    with pytest.raises(StateError, match=r"^Snapshot header is nested deeper than 16 levels$"):
        exchange.unpack(exchange.pack(crafted))


def big_export() -> bytes:
    engine = AllocationEngine(65536, backend="reference", host=FakeHost())
    engine.allocate_batch(range(0, 65536, 3))
    return exchange.pack(engine.snapshot_parts())


def test_an_export_read_in_place_restores_the_same_engine_and_is_never_copied_whole():
    from cortexkg._js_values import JsBytes

    data = big_export()
    assert len(data) > exchange._HASH_CHUNK
    source = FakeUint8Array(data)
    in_place = AllocationEngine.restore(exchange.unpack(JsBytes(source)), backend="reference",
                                        host=FakeHost())
    copied = AllocationEngine.restore(exchange.unpack(data), backend="reference", host=FakeHost())
    assert in_place.snapshot().to_bytes() == copied.snapshot().to_bytes()
    assert source.copies and max(source.copies) <= exchange._HASH_CHUNK


def test_pack_of_a_snapshots_parts_is_pack_of_its_bytes():
    host = FakeHost()
    engine = AllocationEngine(6, strategy="affinity", dim=3, refractory_ms=5.0, seed=3,
                              backend="reference", host=host)
    engine.allocate_batch([4, 8, 15, 16])
    engine.deallocate_concept(8)
    assert exchange.pack(engine.snapshot_parts()) == exchange.pack(engine.snapshot().to_bytes())


@pytest.mark.parametrize("wrap", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_a_mutable_file_changed_after_unpack_does_not_change_the_snapshot(packed, body, wrap):
    data = bytearray(packed)
    snapshot = exchange.unpack(wrap(data))
    data[-1] ^= 0xFF
    restored = AllocationEngine.restore(snapshot, backend="reference", host=FakeHost())
    assert restored.snapshot().to_bytes()[-8:] == Snapshot.from_bytes(body).to_bytes()[-8:]
