"""The JavaScript API's Python side: one Session per engine, inside the page's worker.

``web/worker.js`` only translates messages; this module decides. It maps the API's
camelCase methods onto the :class:`~cortexkg.facade.CortexKG` facade, turns JavaScript
values into Python ones at the boundary, and answers every call with plain data:
``{"ok": True, "value": ..., "logs": [...]}`` or ``{"ok": False, "error": {"type",
"message"}}``, where ``type`` names the JavaScript error class to raise.
"""

from __future__ import annotations

import gc
import inspect
from typing import Any, Callable

from .errors import AllocationError, NotInitializedError, StateError
from .facade import CortexKG, CortexKGConfig
from .host import Host, default_host

# Python exception -> JavaScript error class (first match in order wins).
ERROR_CLASSES = (
    (AllocationError, "AllocationError"),
    (NotInitializedError, "NotInitializedError"),
    (StateError, "StateError"),
    ((ValueError, TypeError), "InvalidInputError"),
)
_FLOAT_FORMATS = ("f", "d")
_WITH_PROGRESS = frozenset({"allocateBatch", "deallocateBatch"})


def _from_js(value: Any) -> Any:
    """A JavaScript argument as Python data (JsProxy objects are converted deeply)."""
    if hasattr(value, "to_py"):
        value = value.to_py()
    if isinstance(value, memoryview) and value.format in _FLOAT_FORMATS:
        # a Float64Array of ids: JavaScript numbers are doubles, so 7.0 is the integer 7
        return [int(v) if v.is_integer() else v for v in value.tolist()]
    return value


def _options(value: Any) -> dict:
    value = _from_js(value)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"Invalid options {value!r}: expected an object")
    return value


class Session:
    """One engine served to JavaScript."""

    def __init__(self, options: Any, report_progress: Callable | None = None):
        options = _options(options)
        self._report_progress = report_progress  # (request id, done, total)
        host = default_host()
        self._logs: list[str] = []

        def log(line: str) -> None:
            host.log(line)
            self._logs.append(line)

        try:
            config = CortexKGConfig(
                column_count=options.get("columns", 1024),
                strategy=options.get("strategy", "first_fit"),
                dim=options.get("dim", 0),
                seed=options.get("seed", 0),
                refractory_ms=options.get("refractoryMs", 0.0),
                backend=options.get("backend", "auto"),
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"Invalid engine options: {error}") from None
        self.kg = CortexKG(config, host=Host(host.now_ms, host.wall_ms, log))
        self._methods: dict[str, Callable] = {
            "allocateConcept": self._allocate_concept,
            "deallocateConcept": self.kg.deallocate_concept,
            "allocateBatch": self._allocate_batch,
            "deallocateBatch": self._deallocate_batch,
            "activateConcept": self.kg.activate_concept,
            "optimizeAllocations": self.kg.optimize_allocations,
            "getAllocationInfo": self.kg.get_allocation_info,
            "getFreeColumnCount": self.kg.get_free_column_count,
            "getAllocatedCount": self.kg.get_allocated_count,
            "getAverageTime": self.kg.get_average_time,
            "getAllocationEfficiency": self.kg.get_allocation_efficiency,
            "getAllocationHistory": self._allocation_history,
            "getAllocationTimes": self.kg.get_allocation_times,
            "getFragmentation": self.kg.fragmentation,
            "getStats": self.kg.stats,
            "getColumnStates": self.kg.get_column_states,
            "getColumn": self.kg.get_column,
            "validate": self.kg.validate,
            "getDiagnostics": self._diagnostics,
        }

    async def open(self) -> dict:
        """Initialize the engine; returns what the page shows about it."""
        await self.kg.initialize()
        return self.describe()

    def describe(self) -> dict:
        """The engine's configuration as the JavaScript API names it."""
        engine = self.kg.engine
        return {
            "columns": engine.column_count,
            "strategy": engine.strategy,
            "dim": engine.dim,
            "seed": engine.seed,
            "refractoryMs": engine.refractory_ms,
            "backend": engine.backend_name,
        }

    def call(self, method: str, request_id: int, *args: Any):
        """Run one API call; returns the answer, or an awaitable of it for async methods.

        Long batches report progress as ``report_progress(request_id, done, total)``.
        """
        try:
            handler = self._methods.get(method)
            if handler is None:
                raise ValueError(f"Unknown method {method!r}")
            arguments = [_from_js(a) for a in args]
            if method in _WITH_PROGRESS and self._report_progress is not None:
                report = self._report_progress
                value = handler(*arguments, progress=lambda done, total: report(request_id, done, total))
            else:
                value = handler(*arguments)
        except Exception as error:  # every failure becomes data for the page
            return self._failure(error)
        if inspect.isawaitable(value):
            return self._finish(value)
        return self._success(value)

    async def _finish(self, awaitable) -> dict:
        try:
            return self._success(await awaitable)
        except Exception as error:
            return self._failure(error)

    def _success(self, value: Any) -> dict:
        logs, self._logs = self._logs, []
        return {"ok": True, "value": value, "logs": logs}

    def _failure(self, error: Exception) -> dict:
        self._logs = []
        kind = next((name for types, name in ERROR_CLASSES if isinstance(error, types)), "Error")
        return {"ok": False, "error": {"type": kind, "message": str(error)}}

    # methods whose JavaScript shape differs from the facade's

    def _allocate_concept(self, concept_id: Any, options: Any = None) -> int:
        return self.kg.allocate_concept(concept_id, _options(options).get("embedding"))

    def _allocate_batch(self, concept_ids: Any, options: Any = None, *, progress=None):
        options = _options(options)
        embeddings = options.get("embeddings")
        if embeddings is not None:
            # a null item is JsNull after conversion: no embedding for that concept
            embeddings = [None if e is None or type(e).__name__ == "JsNull" else _from_js(e)
                          for e in embeddings]
        return self.kg.allocate_batch(concept_ids, embeddings,
                                      columnar=bool(options.get("columnar")), progress=progress)

    def _deallocate_batch(self, concept_ids: Any, options: Any = None, *, progress=None):
        return self.kg.deallocate_batch(
            concept_ids, columnar=bool(_options(options).get("columnar")), progress=progress)

    def _allocation_history(self, options: Any = None) -> list[dict]:
        options = _options(options)
        return self.kg.get_allocation_history(options.get("start"), options.get("stop"))

    def _diagnostics(self) -> dict:
        """Live Python objects after a full collection (a leak shows as growth)."""
        gc.collect()
        return {"pythonObjects": len(gc.get_objects())}
