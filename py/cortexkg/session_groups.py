"""Groups of API calls in one crossing from JavaScript: :class:`GroupCalls`, a base of
:class:`~cortexkg.session.Session`.

``web/durable.js`` hands the calls issued in one task to :meth:`GroupCalls.call_many`
(one awaited call to :meth:`GroupCalls.call_one`); each runs exactly as it would alone,
and the group is answered flat (:class:`GroupAnswer`), since converting one small object
per call to JavaScript costs more than most calls. Runs of plain ``allocateConcept(id)``
or ``deallocateConcept(id)`` calls run as one engine batch and one journal record.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._js_values import from_js
from .errors import NO_FREE_COLUMNS, AllocationError, error_report
from .facade import CortexKG
from .journal import run_recorded
from .validation import MAX_BATCH_LENGTH

# API calls whose runs a group may hold (see Session.call_many) -> the engine's batch method.
_RUNS = {"allocateConcept": "allocate_batch", "deallocateConcept": "deallocate_batch"}
# What a call of a run answers when the engine had no column for it (allocate_concept's error).
_NO_COLUMN = list(error_report(AllocationError(NO_FREE_COLUMNS)).values())


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


class GroupCalls:
    """The group calls of a :class:`~cortexkg.session.Session` (which provides ``kg``,
    ``_tape``, ``_logs``, ``_read_only``, ``write_error``, ``_refractory``,
    ``_last_stats``, ``_run``, ``_report`` and ``stats_update``)."""

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
