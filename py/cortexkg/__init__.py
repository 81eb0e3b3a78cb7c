"""cortexkg: the allocation engine of CortexKG, for CPython and Pyodide.

Concepts (integer ids 0..2**32-1) are allocated to cortical columns. The public surface:
:class:`AllocationEngine`, the :class:`CortexKG` facade and its config, storages,
snapshots and the typed errors.
"""

from .engine import AllocationEngine
from .errors import (
    NO_FREE_COLUMNS,
    AllocationError,
    CortexKGError,
    InternalError,
    InvalidConceptIdError,
    InvalidInputError,
    NotInitializedError,
    StateError,
    StorageError,
)
from .facade import CortexKG, CortexKGConfig
from .host import Host
from .snapshot import Snapshot
from .storage import FileStorage, MemoryStorage, Storage

__version__ = "0.1.0"

__all__ = [
    "AllocationEngine",
    "AllocationError",
    "CortexKG",
    "CortexKGConfig",
    "CortexKGError",
    "FileStorage",
    "Host",
    "InternalError",
    "InvalidConceptIdError",
    "InvalidInputError",
    "MemoryStorage",
    "NO_FREE_COLUMNS",
    "NotInitializedError",
    "Snapshot",
    "StateError",
    "Storage",
    "StorageError",
]
