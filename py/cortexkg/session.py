"""The JavaScript API's Python side: one Session per engine, inside the page's worker.

``web/worker.js`` only translates messages; this module decides. It maps the API's
camelCase methods onto the :class:`~cortexkg.facade.CortexKG` facade (JavaScript values
become Python ones in :mod:`cortexkg._js_values`), and answers every call with plain data:
``{"ok": True, "value": ..., "logs": [...]}`` or ``{"ok": False, "error": {"type",
"message"}}``, where ``type`` names the JavaScript error class to raise (and an internal
error, a bug rather than the caller's mistake, adds its ``traceback``).

Every mutation also answers with its journal ``record`` (see :mod:`cortexkg.journal`),
which the worker commits to IndexedDB before it acknowledges the call. Recovery restores
the stored snapshot at the clock reading it was taken at and replays the journal, so the
engine comes back exactly as it was acknowledged.
"""

from __future__ import annotations

import gc
import inspect
from operator import itemgetter
from typing import Any, Callable

from . import exchange
from ._js_values import engine_config, flag, from_js, options_of
from .engine import AllocationEngine
from .errors import CortexKGError, InternalError, InvalidInputError, StateError, StorageError, \
    error_report
from .facade import CortexKG
from .host import default_host
from .journal import ClockTape, run_recorded
from .session_groups import GroupCalls, StatsUpdate, _compacts
from .session_state import SessionState
from .tables import DEFAULT_NAME
from .validation import quoted

_WITH_PROGRESS = frozenset({"allocateBatch", "deallocateBatch"})
# Per-call options: API method -> the names it takes.
CALL_OPTIONS = {
    "allocateConcept": ("embedding",),
    "allocateBatch": ("embeddings", "columnar"),
    "deallocateBatch": ("columnar",),
    "getAllocationHistory": ("start", "stop"),
}
# Arguments that arrive from JavaScript as Python values already: from_js would return them.
_PLAIN = frozenset({int, float, str, bool, type(None)})


def _options(value: Any, method: str | None = None) -> dict:
    """Options as a dict (None: none); with ``method``, only the names it takes."""
    return options_of(value, method, CALL_OPTIONS.get(method, ()))


def _values_of(keys: list) -> Callable[[dict], tuple]:
    """A function giving a dict's values under ``keys``, as a tuple, at C speed."""
    if len(keys) == 1:
        key = keys[0]
        return lambda d: (d[key],)
    return itemgetter(*keys) if keys else lambda d: ()


class Session(GroupCalls, SessionState):
    """One engine served to JavaScript: its calls (one by one, or grouped:
    :class:`~cortexkg.session_groups.GroupCalls`), its counters, and the replacements of
    its engine (:class:`~cortexkg.session_state.SessionState`)."""

    def __init__(self, options: Any, report_progress: Callable | None = None):
        host = default_host()
        self._report_progress = report_progress  # (request id, done, total)
        self._logs: list[str] = []
        self._replaying = False

        def log(line: str) -> None:
            if not self._replaying:  # a replayed optimize is old news
                host.log(line)
                self._logs.append(line)

        self._tape = ClockTape(host)
        self._host = self._tape.host(log=log)
        options = _options(options)
        self.name = options.get("name", DEFAULT_NAME)
        if type(self.name) is not str or not self.name:
            raise InvalidInputError(
                f"Invalid name {quoted(self.name)}: expected a non-empty string")
        self.kg = CortexKG(engine_config(options), host=self._host)
        self._pending: AllocationEngine | None = None  # an import or reset awaiting its write
        self._read_only: str | None = None
        self.write_error: str | None = None  # why mutations cannot be made durable now
        self._last_stats: tuple | None = None  # getStats()'s values as last published
        self._stats_version = 0
        self._stats_layout: tuple[list, list] = ([], [])
        self._stats_getters: tuple[Callable, Callable] | None = None  # stats -> numbers, others
        self._refractory = 0  # refractory columns as last published
        self._queries: dict[str, Callable] = {
            "getAllocationInfo": self.kg.get_allocation_info,
            "getFreeColumnCount": self.kg.get_free_column_count,
            "getAllocatedCount": self.kg.get_allocated_count,
            "getAverageTime": self.kg.get_average_time,
            "getAllocationEfficiency": self.kg.get_allocation_efficiency,
            "getAllocationHistory": self._allocation_history,
            "getAllocationTimes": self.kg.get_allocation_times,
            "getAllocationTimeKinds": self.kg.get_allocation_time_kinds,
            "getFragmentation": self.kg.fragmentation,
            "getStats": self.kg.stats,
            "getColumnStates": self.kg.get_column_states,
            "getColumn": self.kg.get_column,
            "validate": self.kg.validate,
            "exportState": self._export_state,
            "getDiagnostics": self._diagnostics,
        }
        # API method -> function of its JavaScript arguments giving
        # (engine method, arguments, options that shape the answer only)
        self._mutations: dict[str, Callable] = {
            "allocateConcept": self._allocate_concept,
            "deallocateConcept": lambda concept_id: ("deallocate_concept", [concept_id], {}),
            "allocateBatch": self._allocate_batch,
            "deallocateBatch": self._deallocate_batch,
            "activateConcept": lambda concept_id, strength=1.0: (
                "activate_concept", [concept_id, strength], {}),
            "optimizeAllocations": lambda: ("optimize_allocations", [], {}),
        }

    @property
    def read_only(self) -> str | None:
        """Why mutations are refused (another tab writes, stored data refused), or None."""
        return self._read_only

    @read_only.setter
    def read_only(self, reason: str | None) -> None:
        # a follower's clock stands still between the writer's records (see ClockTape)
        self._read_only = reason
        self._tape.frozen = reason is not None

    async def open(self) -> dict:
        """Initialize a new engine from the options; returns its configuration."""
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
            "activationHalfLifeMs": engine.activation_half_life_ms,
            "backend": engine.backend_name,
        }

    def stats_layout(self) -> dict:
        """The keys of getStats(): ``numbers`` (published in shared memory) and
        ``others`` (strings and flags), in the order :meth:`stats_update` gives them."""
        stats = self.kg.stats()
        numbers = [k for k, v in stats.items() if type(v) in (int, float)]
        others = [k for k in stats if k not in numbers]
        self._stats_layout = (numbers, others)
        self._stats_getters = (_values_of(numbers), _values_of(others))
        return {"numbers": numbers, "others": others}

    def stats_update(self) -> StatsUpdate | None:
        """getStats() as a :class:`StatsUpdate` (``numbers`` and ``others`` in the key
        order :meth:`stats_layout` names) when it changed since the last update, else
        None; the version grows by one per update, so the newest wins whatever order they
        arrive in."""
        stats = self.kg.stats()
        if self._stats_getters is None:
            self.stats_layout()
        numbers_of, others_of = self._stats_getters
        current = (numbers_of(stats), others_of(stats))
        if current == self._last_stats:
            return None
        self._last_stats = current
        self._refractory = stats["refractory"]
        self._stats_version += 1
        return StatsUpdate(self._stats_version, list(current[0]), list(current[1]))

    def call(self, method: str, request_id: int, *args: Any) -> dict:
        """Run one API call and answer it: ``{"ok": True, "value", "logs"}`` (a mutation's
        answer also carries its journal ``record`` and whether it asks for a snapshot,
        ``compact``) or ``{"ok": False, "error": error_report}``.

        Long batches report progress as ``report_progress(request_id, done, total)``.
        """
        try:
            value, record = self._run(method, request_id, args)
        except Exception as error:  # every failure becomes data for the page
            self._logs = []
            return {"ok": False, "error": self._report(method, args, error)}
        logs, self._logs = self._logs, []
        answer = {"ok": True, "value": value, "logs": logs}
        if record is not None:
            answer["record"] = record
            answer["compact"] = _compacts(record, value)
        return answer

    def _run(self, method: str, request_id: int, args: tuple) -> tuple[Any, dict | None]:
        """A call's value and, for a mutation, its journal record (None for a query)."""
        arguments = [a if type(a) in _PLAIN else from_js(a) for a in args]
        mutation = self._mutations.get(method)
        if mutation is None:
            query = self._queries.get(method)
            if query is None:
                raise InvalidInputError(f"Unknown method {quoted(method)}")
            return query(*arguments), None
        if self._read_only is not None:
            raise StateError(self._read_only)
        if self.write_error is not None:
            raise StorageError(self.write_error)
        engine_method, engine_args, options = mutation(*arguments)
        if method in _WITH_PROGRESS and self._report_progress is not None:
            report = self._report_progress
            options["progress"] = lambda done, total: report(request_id, done, total)
        return run_recorded(self.kg.engine, self._tape, engine_method, engine_args, **options)

    def _report(self, method: str, args: tuple, error: Exception) -> dict:
        """What the page is told of a failed call: cortexkg's own errors as they are; a
        call with arguments its method cannot take as bad input naming the method; any
        other failure as an internal error, with its cause and traceback."""
        if not isinstance(error, CortexKGError):
            mismatch = (self._argument_mismatch(method, args)
                        if isinstance(error, TypeError) else None)
            if mismatch is not None:
                error = InvalidInputError(f"Invalid arguments for {method}: {mismatch}")
            else:
                internal = InternalError(f"{method} failed: {type(error).__name__}: {error}")
                internal.__cause__ = error
                error = internal
        return error_report(error)

    def _argument_mismatch(self, method: str, args: tuple) -> str | None:
        """Why ``method`` cannot take ``args``, or None when it can."""
        handler = self._mutations.get(method) or self._queries.get(method)
        try:
            inspect.signature(handler).bind(*args)
        except TypeError as mismatch:
            return str(mismatch)
        return None

    # how each mutation's JavaScript arguments map onto the engine

    def _allocate_concept(self, concept_id: Any, options: Any = None):
        if options is None:  # the common call: no options to check
            return "allocate_concept", [concept_id, None], {}
        embedding = _options(options, "allocateConcept").get("embedding")
        return "allocate_concept", [concept_id, embedding], {}

    def _allocate_batch(self, concept_ids: Any, options: Any = None):
        options = _options(options, "allocateBatch")
        return ("allocate_batch", [concept_ids, options.get("embeddings")],
                {"columnar": flag(options, "columnar")})

    def _deallocate_batch(self, concept_ids: Any, options: Any = None):
        options = _options(options, "deallocateBatch")
        return "deallocate_batch", [concept_ids], {"columnar": flag(options, "columnar")}

    def _export_state(self) -> bytes:
        return exchange.pack(self.kg.engine.snapshot_parts())

    def _allocation_history(self, options: Any = None) -> list[dict]:
        options = _options(options, "getAllocationHistory")
        return self.kg.get_allocation_history(options.get("start"), options.get("stop"))

    def _diagnostics(self) -> dict:
        """Live Python objects after a full collection (a leak shows as growth)."""
        gc.collect()
        return {"pythonObjects": len(gc.get_objects())}
