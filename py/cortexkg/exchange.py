"""The export file: one engine's whole state, versioned and checksummed.

Layout: ``b"CORTEXKG-EXPORT\\n"`` | u32 version | u32 header length | header JSON
``{"version", "sha256", "size"}`` | the engine's snapshot bytes (themselves versioned and
checksummed per buffer). :func:`unpack` checks everything it can before the snapshot is
restored, which checks the rest; a file that fails any check is refused whole.

Neither direction copies the state more than once: :func:`pack` joins the snapshot's
parts straight into the file, and :func:`unpack` reads the file in place (bytes, or a
:class:`~cortexkg.snapshot.ByteSource` such as the worker's JavaScript Uint8Array, which
it hashes in chunks), its snapshot being a view of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct

from .errors import StateError
from .snapshot import ByteSource, Snapshot
from .validation import stored_json

MAGIC = b"CORTEXKG-EXPORT\n"
VERSION = 1
MAX_HEADER_BYTES = 1024  # {"sha256": 64 hex digits, "size": ..., "version": ...}: ~100 bytes
_PREFIX = struct.Struct("<16sII")
_HASH_CHUNK = 1 << 20  # bytes of a ByteSource copied at a time to hash it


def pack(snapshot: bytes | list) -> bytes:
    """The export file of a snapshot's bytes, or of its parts to join
    (:func:`cortexkg.snapshot.parts`)."""
    chunks = [snapshot] if isinstance(snapshot, (bytes, bytearray, memoryview)) else snapshot
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += memoryview(chunk).nbytes
    header = json.dumps({"version": VERSION, "sha256": digest.hexdigest(), "size": size},
                        sort_keys=True).encode()
    return b"".join([_PREFIX.pack(MAGIC, VERSION, len(header)), header, *chunks])


def unpack(data: bytes | ByteSource) -> Snapshot:
    """The snapshot inside an export file; :class:`StateError` naming what is wrong."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        # an immutable copy unless it is immutable already: the snapshot views it
        view = memoryview(data if isinstance(data, bytes) else bytes(data)).cast("B")
    elif hasattr(data, "copy_into"):
        view = data
    else:
        raise StateError(f"Invalid export {type(data).__name__}: expected the bytes of a file")
    if len(view) < _PREFIX.size:
        raise StateError(f"Not a CortexKG export: {len(view)} bytes is too short")
    magic, version, header_length = _PREFIX.unpack(bytes(view[:_PREFIX.size]))
    if magic != MAGIC:
        raise StateError("Not a CortexKG export: the file does not start with CORTEXKG-EXPORT")
    if version != VERSION:
        raise StateError(f"Export format version {version} is not supported: expected {VERSION}"
                         + (" (the file comes from a newer CortexKG)" if version > VERSION else ""))
    end = _PREFIX.size + header_length
    if end > len(view):
        raise StateError(f"Export header is damaged: its length {header_length} runs past the "
                         f"end of the {len(view)}-byte file")
    if header_length > MAX_HEADER_BYTES:
        raise StateError(f"Export header is damaged: {header_length} bytes long, more than "
                         f"{MAX_HEADER_BYTES}")
    try:
        header = stored_json(bytes(view[_PREFIX.size:end]), "it",
                             max_bytes=MAX_HEADER_BYTES, max_depth=1)
    except StateError as error:
        raise StateError(f"Export header is damaged: {error}") from None
    if (not isinstance(header, dict) or set(header) != {"version", "sha256", "size"}
            or header["version"] != version or type(header["size"]) is not int
            or not isinstance(header["sha256"], str)
            or not re.fullmatch(r"[0-9a-f]{64}", header["sha256"])):
        raise StateError("Export header is damaged")
    digest, size = header["sha256"], header["size"]
    body = view[end:]
    if len(body) != size:
        raise StateError(f"Export is truncated or padded: {len(body)} bytes of state, expected {size}")
    if _sha256(body) != digest:
        raise StateError("Export checksum mismatch: the file was changed or damaged")
    return Snapshot.from_bytes(body)


def _sha256(data: memoryview | ByteSource) -> str:
    if isinstance(data, memoryview):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    for start in range(0, len(data), _HASH_CHUNK):
        digest.update(bytes(data[start:start + _HASH_CHUNK]))
    return digest.hexdigest()
