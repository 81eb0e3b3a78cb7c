"""The export file: one engine's whole state, versioned and checksummed.

Layout: ``b"CORTEXKG-EXPORT\\n"`` | u32 version | u32 header length | header JSON
``{"version", "sha256", "size"}`` | the engine's snapshot bytes (themselves versioned and
checksummed per buffer). :func:`unpack` checks everything it can before the snapshot is
restored, which checks the rest; a file that fails any check is refused whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct

from .errors import StateError
from .snapshot import Snapshot

MAGIC = b"CORTEXKG-EXPORT\n"
VERSION = 1
_PREFIX = struct.Struct("<16sII")


def pack(snapshot_bytes: bytes) -> bytes:
    """The export file of a snapshot's bytes."""
    header = json.dumps({"version": VERSION, "sha256": hashlib.sha256(snapshot_bytes).hexdigest(),
                         "size": len(snapshot_bytes)}, sort_keys=True).encode()
    return _PREFIX.pack(MAGIC, VERSION, len(header)) + header + snapshot_bytes


def unpack(data) -> Snapshot:
    """The snapshot inside an export file; :class:`StateError` naming what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise StateError(f"Invalid export {type(data).__name__}: expected the bytes of a file")
    data = bytes(data)
    if len(data) < _PREFIX.size:
        raise StateError(f"Not a CortexKG export: {len(data)} bytes is too short")
    magic, version, header_length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise StateError("Not a CortexKG export: the file does not start with CORTEXKG-EXPORT")
    if version != VERSION:
        raise StateError(f"Export format version {version} is not supported: expected {VERSION}"
                         + (" (the file comes from a newer CortexKG)" if version > VERSION else ""))
    try:
        header = json.loads(data[_PREFIX.size:_PREFIX.size + header_length])
    except ValueError:
        raise StateError("Export header is damaged") from None
    if (not isinstance(header, dict) or set(header) != {"version", "sha256", "size"}
            or header["version"] != version or type(header["size"]) is not int
            or not isinstance(header["sha256"], str)
            or not re.fullmatch(r"[0-9a-f]{64}", header["sha256"])):
        raise StateError("Export header is damaged")
    digest, size = header["sha256"], header["size"]
    body = data[_PREFIX.size + header_length:]
    if len(body) != size:
        raise StateError(f"Export is truncated or padded: {len(body)} bytes of state, expected {size}")
    if hashlib.sha256(body).hexdigest() != digest:
        raise StateError("Export checksum mismatch: the file was changed or damaged")
    return Snapshot.from_bytes(body)
