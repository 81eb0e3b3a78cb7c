"""The CortexKG facade: owns one engine, the initialized life cycle and persistence.

The per-column view is derived from the engine on every access, so it is always the
engine's current layout (also right after optimize) and there is one source of truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .config import ENGINE_DEFAULTS, check_config
from .engine import AllocationEngine
from .errors import InvalidInputError, NotInitializedError, StateError
from .host import Host, default_host
from .scans import select_scans
from .storage import Storage
from .validation import quoted

NOT_INITIALIZED = "CortexKG not initialized"
# The per-column buffers that get_column_states() copies out (the JavaScript API's grid),
# by the name it gives them.
COLUMN_STATE_VIEWS = {"state": "state", "concept": "concept", "activation": "activation",
                      "usage": "usage", "confidence": "confidence",
                      "allocatedAt": "allocated_at", "activatedMs": "activated_ms"}


def column_states(engine: AllocationEngine) -> dict:
    """:meth:`CortexKG.get_column_states` of ``engine``."""
    buffers = engine.column_buffers()
    out = {name: buffers[buffer] for name, buffer in COLUMN_STATE_VIEWS.items()}
    out["refractoryLeftMs"] = engine.refractory_left_ms()
    return out


@dataclass(frozen=True)
class CortexKGConfig:
    """Configuration of a new engine (a stored state, once loaded, brings its own)."""

    column_count: int = ENGINE_DEFAULTS["column_count"]
    enable_simd: bool = ENGINE_DEFAULTS["enable_simd"]
    strategy: str = ENGINE_DEFAULTS["strategy"]
    dim: int = ENGINE_DEFAULTS["dim"]
    refractory_ms: float = ENGINE_DEFAULTS["refractory_ms"]
    seed: int = ENGINE_DEFAULTS["seed"]
    activation_half_life_ms: float = ENGINE_DEFAULTS["activation_half_life_ms"]
    backend: str = ENGINE_DEFAULTS["backend"]

    def __post_init__(self) -> None:
        engine_config = asdict(self)
        select_scans(engine_config.pop("backend"), self.enable_simd)  # validates the name
        check_config(**engine_config)


class ColumnsView(Sequence):
    """Read-only sequence of column dicts (id, conceptId, activation, state, ...)."""

    def __init__(self, engine: AllocationEngine) -> None:
        self._engine = engine

    def __len__(self) -> int:
        return self._engine.column_count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._engine.column(i) for i in range(*index.indices(len(self)))]
        if type(index) is int and -len(self) <= index < 0:
            index += len(self)
        if type(index) is not int or not 0 <= index < len(self):
            raise IndexError(f"column index {quoted(index)} out of range 0..{len(self) - 1}")
        return self._engine.column(index)


class CortexKG:
    """The CortexKG entry point: ``await CortexKG(config).initialize(storage)``."""

    def __init__(self, config: CortexKGConfig | dict | None = None, *, host: Host | None = None):
        if config is None:
            config = CortexKGConfig()
        elif isinstance(config, dict):
            unknown = set(config) - set(CortexKGConfig.__dataclass_fields__)
            if unknown:
                raise InvalidInputError(
                    f"Invalid config keys {quoted(sorted(map(str, unknown)))}: expected some "
                    f"of {', '.join(CortexKGConfig.__dataclass_fields__)}")
            config = CortexKGConfig(**config)
        elif not isinstance(config, CortexKGConfig):
            raise InvalidInputError(
                f"Invalid config {quoted(config)}: expected a CortexKGConfig or a dict")
        self.config = config
        self._host = host or default_host()
        self._engine: AllocationEngine | None = None
        self._storage: Storage | None = None

    @property
    def initialized(self) -> bool:
        """Whether :meth:`initialize` has run."""
        return self._engine is not None

    async def initialize(self, storage: Storage | None = None) -> bool:
        """Create the engine, or load it from ``storage`` when it holds a state.

        Returns True when a stored state was loaded. A second call raises
        :class:`StateError` (``Already initialized``).
        """
        if self._engine is not None:
            raise StateError("Already initialized")
        data = await storage.load() if storage is not None else None
        if data is not None:
            self._engine = AllocationEngine.restore(
                data, backend=self.config.backend, host=self._host)
        else:
            settings = asdict(self.config)
            self._engine = AllocationEngine(**settings, host=self._host)
        self._storage = storage
        return data is not None

    @property
    def engine(self) -> AllocationEngine:
        """The engine (raises :class:`NotInitializedError` before :meth:`initialize`)."""
        if self._engine is None:
            raise NotInitializedError(NOT_INITIALIZED)
        return self._engine

    def replace_engine(self, engine: AllocationEngine) -> None:
        """Adopt ``engine`` (recovered, imported or reset); its configuration becomes ours."""
        self.engine  # noqa: B018 - raises NotInitializedError before initialize
        self._engine = engine
        self.config = CortexKGConfig(
            column_count=engine.column_count, enable_simd=engine.enable_simd,
            strategy=engine.strategy, dim=engine.dim, refractory_ms=engine.refractory_ms,
            seed=engine.seed, activation_half_life_ms=engine.activation_half_life_ms,
            backend=self.config.backend)

    # mutations

    def allocate_concept(self, concept_id: int, embedding: Any = None) -> int:
        """Allocate a concept (see :meth:`AllocationEngine.allocate_concept`)."""
        return self.engine.allocate_concept(concept_id, embedding)

    def deallocate_concept(self, concept_id: int) -> bool:
        """Release a concept; its column is reset."""
        return self.engine.deallocate_concept(concept_id)

    def allocate_batch(self, concept_ids: Any, embeddings: Any = None, **options):
        """Allocate many concepts (see :meth:`AllocationEngine.allocate_batch`)."""
        return self.engine.allocate_batch(concept_ids, embeddings, **options)

    def deallocate_batch(self, concept_ids: Any, **options):
        """Release many concepts (see :meth:`AllocationEngine.deallocate_batch`)."""
        return self.engine.deallocate_batch(concept_ids, **options)

    def activate_concept(self, concept_id: int, strength: float = 1.0) -> float:
        """Raise a concept's activation (see :meth:`AllocationEngine.activate_concept`)."""
        return self.engine.activate_concept(concept_id, strength)

    async def optimize_allocations(self) -> int:
        """Optimize; when anything changed and a storage is attached, save the state."""
        changes = self.engine.optimize_allocations()
        if self.saves_after_optimize(changes) and self._storage is not None:
            await self.save_state()
        return changes

    @staticmethod
    def saves_after_optimize(changes: int) -> bool:
        """Whether an optimize that moved ``changes`` concepts saves the state (the rule
        the JavaScript API's session follows too: it asks its worker for a snapshot)."""
        return changes > 0

    # persistence

    async def save_state(self) -> None:
        """Write the engine's snapshot to the storage."""
        engine = self.engine
        if self._storage is None:
            raise StateError("No storage attached: pass one to initialize()")
        await self._storage.save(b"".join(engine.snapshot_parts()))

    # queries

    @property
    def columns(self) -> ColumnsView:
        """Per-column view derived from the engine."""
        return ColumnsView(self.engine)

    def get_column_states(self) -> dict:
        """Columnar copies: ``state`` (0 available, 1 allocated, 2 refractory),
        ``concept``, ``activation`` (as of the last activation), ``usage``,
        ``confidence``, ``allocatedAt`` (wall-clock ms), ``activatedMs`` (ms from the
        allocation to the last activation), ``refractoryLeftMs`` (ms until available)."""
        return column_states(self.engine)

    def get_allocation_info(self, concept_id: int) -> int | None:
        """The concept's column, or None."""
        return self.engine.get_allocation_info(concept_id)

    def get_free_column_count(self) -> int:
        """Columns available now."""
        return self.engine.get_free_column_count()

    def get_allocated_count(self) -> int:
        """Allocated concepts."""
        return self.engine.get_allocated_count()

    def get_average_time(self) -> float:
        """Mean of the last 1000 allocation times (ms)."""
        return self.engine.get_average_time()

    def get_allocation_efficiency(self) -> float:
        """Allocated / column count."""
        return self.engine.get_allocation_efficiency()

    def get_allocation_history(self, start: int | None = None, stop: int | None = None) -> list[dict]:
        """Live allocations in allocation order (sliced like a list)."""
        return self.engine.get_allocation_history(start, stop)

    def get_allocation_times(self):
        """The last (up to 1000) allocation times in ms, oldest first."""
        return self.engine.get_allocation_times()

    def get_allocation_time_kinds(self):
        """What each of :meth:`get_allocation_times` is: 0 a single call's own time, 1 a
        batch item's (its batch's mean), 2 unknown (restored from an older snapshot)."""
        return self.engine.get_allocation_time_kinds()

    def get_column(self, column_id: int) -> dict:
        """One column's state (see :meth:`AllocationEngine.column`)."""
        return self.engine.column(column_id)

    def fragmentation(self) -> float:
        """1 - largest free run / free columns."""
        return self.engine.fragmentation()

    def stats(self) -> dict:
        """Every engine counter (see :meth:`AllocationEngine.stats`)."""
        return self.engine.stats()

    def validate(self) -> None:
        """Check every engine invariant."""
        self.engine.validate()
