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
from dataclasses import asdict, replace
from operator import itemgetter
from typing import Any, Callable, NamedTuple

from . import exchange
from ._js_values import (RECORDS_DEPTH, bytes_source, engine_config, flag, from_js, options_of,
                         snapshot_source)
from .engine import AllocationEngine
from .errors import NO_FREE_COLUMNS, AllocationError, CortexKGError, InternalError, \
    InvalidInputError, StateError, StorageError, error_report
from .facade import CortexKG, CortexKGConfig
from .host import default_host
from .journal import ClockTape, replay, run_recorded
from .snapshot import Snapshot
from .tables import DEFAULT_NAME
from .validation import MAX_BATCH_LENGTH, quoted

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
# API calls whose runs a group may hold (see Session.call_many) -> the engine's batch method.
_RUNS = {"allocateConcept": "allocate_batch", "deallocateConcept": "deallocate_batch"}
# What a call of a run answers when the engine had no column for it (allocate_concept's error).
_NO_COLUMN = list(error_report(AllocationError(NO_FREE_COLUMNS)).values())


def _options(value: Any, method: str | None = None) -> dict:
    """Options as a dict (None: none); with ``method``, only the names it takes."""
    return options_of(value, method, CALL_OPTIONS.get(method, ()))


class StatsUpdate(NamedTuple):
    """getStats()'s values as published (see :meth:`Session.stats_update`)."""

    version: int
    numbers: list
    others: list


class GroupAnswer(NamedTuple):
    """The answer of a group of calls (see :meth:`Session.call_many`). Tuples, not dicts:
    inside Pyodide, ``toJs`` converts a dict through a converter call per dict, which made
    converting an awaited call's answer cost more than running it."""

    values: list
    failures: list
    logs: list
    records: list  # [(method, args, readings), ...]: journal records, without their seq
    mutations: list
    compact: bool
    stats: StatsUpdate | None


class _Group:
    """The answers of a group of calls, gathered flat (see :meth:`Session.call_many`)."""

    __slots__ = ("values", "failures", "logs", "records", "mutations", "compact")

    def __init__(self) -> None:
        self.values, self.failures, self.logs = [], [], []
        self.records, self.mutations, self.compact = [], [], False


def _compacts(record: dict, value: Any) -> bool:
    """Whether a mutation asks for a snapshot: when the facade would save its state."""
    return record["method"] == "optimize_allocations" and CortexKG.saves_after_optimize(value)


def _values_of(keys: list) -> Callable[[dict], tuple]:
    """A function giving a dict's values under ``keys``, as a tuple, at C speed."""
    if len(keys) == 1:
        key = keys[0]
        return lambda d: (d[key],)
    return itemgetter(*keys) if keys else lambda d: ()


class Session:
    """One engine served to JavaScript."""

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

    def recover(self, snapshot: Any, records: Any, options: Any = None) -> dict:
        """Replace the engine by ``snapshot`` ({"bytes"} or None) + journal ``records``;
        without a snapshot the journal starts from a new engine with the stored
        ``options``. StateError when they do not reproduce a valid engine (the current
        engine is then left as it was). Returns what was restored."""
        data, records = snapshot_source(snapshot), from_js(records, RECORDS_DEPTH)
        with self._tape.new_history():
            engine = self._recovered(data, records, options)
        self.kg.replace_engine(engine)
        return {"snapshot": snapshot is not None, "records": len(records),
                "allocated": engine.get_allocated_count(), "columns": engine.column_count}

    def _recovered(self, data: Any, records: list,
                   options: Any) -> AllocationEngine:
        if data is not None:
            parsed = Snapshot.from_bytes(data)
            clock = parsed.header.get("clock_ms")
            if type(clock) not in (int, float):
                raise StateError("Stored snapshot lacks the clock reading it was taken at")
            with self._tape.play([clock]):
                engine = AllocationEngine.restore(
                    parsed, backend=self.kg.config.backend, host=self._host)
        else:
            try:
                config = engine_config(_options(options))
            except InvalidInputError as error:
                raise StateError(f"Stored engine options are invalid: {error}") from error
            # the stored options, run by this session's backend (as a snapshot would be)
            config = replace(config, backend=self.kg.config.backend)
            engine = AllocationEngine(**asdict(config), host=self._host)
        if records:  # restore validated the snapshot; what replay changed is checked here
            self._apply(engine, records)
            engine.validate()
        return engine

    def apply(self, records: Any) -> int:
        """Replay records committed by another tab's writer (a read-only follower)."""
        records = from_js(records, RECORDS_DEPTH)
        self._apply(self.kg.engine, records)
        return len(records)

    def _apply(self, engine: AllocationEngine, records: list) -> None:
        self._replaying = True
        try:
            replay(engine, self._tape, records)
        finally:
            self._replaying = False

    def snapshot(self) -> bytes:
        """The engine's snapshot bytes (for compaction)."""
        return b"".join(self.kg.engine.snapshot_parts())

    def prepare_replace(self, kind: str, payload: Any) -> bytes:
        """Validate an import (``payload``: export bytes) or a reset (``payload``: engine
        options) and return the snapshot bytes to store; :meth:`commit_replace` adopts it
        once stored, so a failed write changes nothing."""
        if kind == "import":
            engine = AllocationEngine.restore(
                exchange.unpack(bytes_source(payload)), backend=self.kg.config.backend, host=self._host)
        elif kind != "reset":
            raise InvalidInputError(
                f"Invalid replace kind {quoted(kind)}: expected 'import' or 'reset'")
        else:
            engine = AllocationEngine(**asdict(self._reset_config(payload)), host=self._host)
        self._pending = engine
        return b"".join(engine.snapshot_parts())

    def _reset_config(self, options: Any) -> CortexKGConfig:
        """The configuration of a reset: ``options`` over the current one; the name, if
        given, must be this engine's (a reset replaces the state, not the database)."""
        options = _options(options)
        name = options.get("name", self.name)
        if name != self.name:
            raise InvalidInputError(f"reset() cannot rename the engine {quoted(self.name)} to "
                                    f"{quoted(name)}: open another with CortexKG.create({{name}})")
        return engine_config({**self.describe(), **options})

    def commit_replace(self) -> dict:
        """Adopt the engine of the last :meth:`prepare_replace`."""
        engine, self._pending = self._pending, None
        if engine is None:
            raise StateError("Nothing to commit: prepare_replace was not called")
        self.kg.replace_engine(engine)
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

    def call_many(self, calls: Any) -> GroupAnswer:
        """Run a group of API calls ``[[method, request id, [args]], ...]`` in order, each
        answered exactly as :meth:`call` would answer it alone, in one crossing from
        JavaScript. An item may also be a run of calls, ``[method, request id of the
        first, ids]`` (``ids``: a Uint32Array, not a list, of two or more; see below),
        which stands for one call of ``method`` per id.

        Returns the answers flat, since converting one small object per call to JavaScript
        costs more than most calls, as a :class:`GroupAnswer`: ``values``, the value of
        each call (None where it failed); ``failures``, ``[[index, error type,
        message(, traceback)], ...]`` (a traceback for internal errors, see
        :func:`~cortexkg.errors.error_report`); ``logs``, ``[[index, [lines]], ...]`` for
        the calls that logged; ``records``, the journal records of the mutations that
        succeeded, in order, each as ``(method, args, readings)``; ``mutations``, the
        indices in the group of the calls whose changes they hold (a run's record holds
        several); ``compact``, whether one of them asks for a snapshot;
        ``stats``, the counters after the group when they changed (see
        :meth:`stats_update`), else None.

        Runs: ``web/durable.js`` sends consecutive ``allocateConcept(id)`` calls without
        options, or consecutive ``deallocateConcept(id)`` calls, as one item (converting a
        small array per call into Python would cost more than the call). A run is one
        engine batch (``allocate_batch`` / ``deallocate_batch``), journaled as ONE record,
        so a pipelined call costs about what a batch item does. Each of its calls still
        gets the value or the error it would get alone (a full engine fails the calls it
        has no column for with the same ``AllocationError``; while mutations are refused,
        each call is refused alone), and the state is the one the calls make one by one,
        with batch semantics: each chunk of a run happens at one instant (one clock
        reading, one timestamp, refractory columns expired once), and its allocation
        times are timing samples of kind 1 (the batch's mean) rather than each call's own.
        A run's record commits whole or not at all, so after a crash its calls are all
        there or none: relaxed durability's prefix property holds (a prefix of the records
        is a prefix of the calls).
        """
        group = _Group()
        index = 0
        for method, request_id, args in from_js(calls, 3):
            if type(args) is list:
                self._run_into(group, index, method, request_id, args)
                index += 1
                continue
            ids = args.tolist()  # a Uint32Array: a run, every id valid
            if not ids:
                continue
            if self._read_only is None and self.write_error is None:
                for start in range(0, len(ids), MAX_BATCH_LENGTH):  # what a batch may hold
                    self._run_batch(group, index + start, method, ids[start:start + MAX_BATCH_LENGTH])
            else:  # each call is refused alone
                for position, cid in enumerate(ids, index):
                    self._run_into(group, position, method, request_id, [cid])
            index += len(ids)
        return self._answer(group)

    def _run_batch(self, group: "_Group", first: int, method: str, ids: list[int]) -> None:
        """Run ``method`` for each of ``ids`` (the calls from index ``first``) as one
        engine batch, one journal record; answer each call."""
        try:
            result, record = run_recorded(self.kg.engine, self._tape, _RUNS[method], [ids],
                                          columnar=True)
        except Exception as error:  # a bug: every call of the run reports it
            self._logs = []
            report = list(self._report(method, (ids,), error).values())
            group.values.extend([None] * len(ids))
            group.failures.extend([first + i, *report] for i in range(len(ids)))
            return
        columns = result["columnIds"]
        count = len(ids)
        if method == "deallocateConcept":  # not allocated: False, and a record all the same
            group.values.extend([col >= 0 for col in columns])
            group.mutations.extend(range(first, first + count))
        elif -1 not in columns:
            group.values.extend(columns)
            group.mutations.extend(range(first, first + count))
        else:  # no column for some: those fail as they would alone, changing nothing
            for index, col in enumerate(columns, first):
                if col < 0:
                    group.values.append(None)
                    group.failures.append([index, *_NO_COLUMN])
                else:
                    group.values.append(col)
                    group.mutations.append(index)
            if len(group.mutations) == 0 or group.mutations[-1] < first:
                return  # every call failed: no record, as none of them alone would leave one
        group.records.append(record)

    def call_one(self, method: str, request_id: int, *args: Any) -> GroupAnswer:
        """:meth:`call_many` of one call, its arguments passed one by one: converting the
        group's nesting costs more than the call itself (the common awaited call)."""
        group = _Group()
        self._run_into(group, 0, method, request_id, args)
        return self._answer(group)

    def _run_into(self, group: "_Group", index: int, method: str, request_id: int,
                  args: Any) -> None:
        """Run one call of a group and add its answer to ``group``."""
        try:
            value, record = self._run(method, request_id, args)
        except Exception as error:  # every failure becomes data for the page
            self._logs = []
            group.values.append(None)
            group.failures.append([index, *self._report(method, args, error).values()])
            return
        group.values.append(value)
        if self._logs:
            group.logs.append([index, self._logs])
            self._logs = []
        if record is not None:
            group.records.append(record)
            group.mutations.append(index)
            group.compact = group.compact or _compacts(record, value)

    def _answer(self, group: "_Group") -> GroupAnswer:
        """:meth:`call_many`'s answer of ``group``."""
        # queries change no counter, unless refractory columns are there to expire
        quiet = not group.mutations and self._last_stats is not None and not self._refractory
        records = [(r["method"], r["args"], r["readings"]) for r in group.records]
        return GroupAnswer(group.values, group.failures, group.logs, records, group.mutations,
                           group.compact, None if quiet else self.stats_update())

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
