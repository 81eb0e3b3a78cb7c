"""The JavaScript API's Python side (cortexkg.session.Session), under CPython.

Every call answers plain data; every acknowledged mutation carries the journal record
that reproduces it. Recovery (records alone, or a snapshot plus later records), a
read-only follower's apply(), import and reset must reproduce or replace the state
exactly, and anything damaged is refused with a StateError that leaves the engine as it
was. Sessions read their clocks from FakeHosts (cortexkg.session.default_host is patched
while one is built), so refractory expiry and timestamps are deterministic.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from array import array
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import cortexkg._js_values as js_values
import cortexkg.session as session_module
from cortexkg import InvalidInputError, StateError, exchange
from cortexkg.config import ENGINE_DEFAULTS
from cortexkg.journal import MUTATIONS as JOURNAL_MUTATIONS
from cortexkg.tables import API_OPTIONS, DEFAULT_NAME
from cortexkg.engine import BATCH_CHUNK
from cortexkg.session import Session
from cortexkg.snapshot import Snapshot

from bad_ids import js_bad_ids
from examples import examples
from fakes import JSNULL, FakeHost, FakeJsProxy, FakeUint8Array

BASE = {"columns": 8, "backend": "reference"}


@pytest.fixture(autouse=True, scope="module")
def fake_js_values():
    """The fakes pass for the JavaScript values they stand for (pyodide.ffi's classes
    match only real ones). Module-scoped: hypothesis refuses function-scoped fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(js_values, "JsProxy", (js_values.JsProxy, FakeJsProxy, FakeUint8Array))
        patch.setattr(js_values, "JsBuffer", (js_values.JsBuffer, FakeUint8Array))
        yield
EPOCH = 1.7e12  # FakeHost's wall clock is EPOCH + clock


class SteppingHost(FakeHost):
    """A FakeHost whose monotonic clock also moves by ``step`` ms at every reading, so
    allocation times are not all zero; ``advance`` still moves it at will."""

    def __init__(self, clock: float = 1000.0, step: float = 0.0):
        super().__init__(clock)
        self.step = step
        object.__setattr__(self, "now_ms", self._tick)

    def _tick(self) -> float:
        self.clock += self.step
        return self.clock


def open_session(options=None, host: FakeHost | None = None, report_progress=None):
    """An opened Session of BASE + ``options`` whose clocks are ``host``'s."""
    host = host if host is not None else FakeHost()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "default_host", lambda: host)
        session = Session({**BASE, **(options or {})}, report_progress)
    asyncio.run(session.open())
    return session, host


def later_session(host: FakeHost, options=None, report_progress=None):
    """A session opened at ``host``'s current time: a page that loads, or a tab that
    follows, after the writer's last operation."""
    return open_session(options, FakeHost(clock=host.clock), report_progress)


def value(answer: dict):
    assert answer["ok"] is True, answer
    return answer["value"]


def error_of(answer: dict) -> tuple[str, str]:
    assert answer["ok"] is False, answer
    assert set(answer) == {"ok", "error"} and set(answer["error"]) == {"type", "message"}
    return answer["error"]["type"], answer["error"]["message"]


def record_of(answer: dict) -> dict:
    value(answer)
    return answer["record"]


def observe(session: Session) -> dict:
    """Everything the API shows about a session's engine (plus its snapshot bytes)."""

    def query(method, *args):
        answer = session.call(method, 0, *args)
        assert answer["logs"] == [], answer
        return value(answer)

    columns = session.describe()["columns"]
    return {
        "config": session.describe(),
        "history": query("getAllocationHistory"),
        "stats": query("getStats"),
        "times": query("getAllocationTimes").tolist(),
        "timeKinds": query("getAllocationTimeKinds").tolist(),
        "average": query("getAverageTime"),
        "free": query("getFreeColumnCount"),
        "allocated": query("getAllocatedCount"),
        "fragmentation": query("getFragmentation"),
        "column_states": {k: bytes(v) for k, v in query("getColumnStates").items()},
        "buffers": {k: bytes(v) for k, v in session.kg.engine.column_buffers().items()},
        "columns": [query("getColumn", col) for col in range(columns)],
        "snapshot": session.snapshot(),
    }


# The JavaScript API's methods (web/cortexkg.js) with valid arguments for a session whose
# concepts 1, 2 and 3 are allocated.
QUERIES = {
    "getAllocationInfo": (1,),
    "getFreeColumnCount": (),
    "getAllocatedCount": (),
    "getAverageTime": (),
    "getAllocationEfficiency": (),
    "getAllocationHistory": ({"start": 0, "stop": 2},),
    "getAllocationTimes": (),
    "getAllocationTimeKinds": (),
    "getFragmentation": (),
    "getStats": (),
    "getColumnStates": (),
    "getColumn": (0,),
    "validate": (),
    "exportState": (),
    "getDiagnostics": (),
}
MUTATIONS = {
    "allocateConcept": ((5,), "allocate_concept"),
    "deallocateConcept": ((1,), "deallocate_concept"),
    "allocateBatch": (([6, 7, 6],), "allocate_batch"),
    "deallocateBatch": (([2, 9],), "deallocate_batch"),
    "activateConcept": ((2, 0.5), "activate_concept"),
    "optimizeAllocations": ((), "optimize_allocations"),
}
WORKER_COMMANDS = {"open", "replace", "flush", "dump"}  # answered by worker.js itself
JS_API = Path(__file__).resolve().parents[2] / "web" / "cortexkg.js"


def with_three_concepts(options=None, host=None):
    session, host = open_session(options, host)
    value(session.call("allocateBatch", 0, [1, 2, 3]))
    return session, host


# ------------------------------------------------------------------ answers of every method


def test_the_method_list_is_the_javascript_apis():
    session, _ = open_session()
    answered = set(QUERIES) | set(MUTATIONS)
    # (inside Pyodide too: build_site.py serves web/cortexkg.js with the unit tests)
    called = set(re.findall(r'#(?:call|read)\("(\w+)"', JS_API.read_text())) - WORKER_COMMANDS
    assert called == answered
    for method in answered:
        answer = session.call(method, 1)
        if not answer["ok"]:  # missing arguments, but the method exists
            assert "Unknown method" not in answer["error"]["message"], (method, answer)


@pytest.mark.parametrize("method", sorted(QUERIES))
def test_every_query_answers_ok_value_logs_and_carries_no_record(method):
    session, _ = with_three_concepts()
    before = observe(session)
    answer = session.call(method, 7, *QUERIES[method])
    assert set(answer) == {"ok", "value", "logs"}, answer
    assert answer["ok"] is True and answer["logs"] == []
    assert observe(session) == before


@pytest.mark.parametrize("method", sorted(MUTATIONS))
def test_every_mutation_answers_with_its_journal_record_and_a_compact_flag(method):
    session, host = with_three_concepts()
    args, engine_method = MUTATIONS[method]
    answer = session.call(method, 7, *args)
    assert set(answer) == {"ok", "value", "logs", "record", "compact"}, answer
    assert answer["ok"] is True and answer["compact"] is False
    record = answer["record"]
    assert set(record) == {"method", "args", "readings"}
    assert record["method"] == engine_method
    assert all(reading in (host.clock, EPOCH + host.clock) for reading in record["readings"])


def test_every_mutation_is_one_the_journal_records():
    assert {engine_method for _, engine_method in MUTATIONS.values()} == set(JOURNAL_MUTATIONS)


def test_an_engine_created_without_options_has_the_tables_defaults():
    session = Session(None)
    assert session.name == DEFAULT_NAME
    asyncio.run(session.open())
    described = session.describe()
    assert session.kg.config.backend == ENGINE_DEFAULTS["backend"]  # described as resolved
    del described["backend"]
    assert described == {option: ENGINE_DEFAULTS[field]
                         for option, field in API_OPTIONS.items() if option != "backend"}


def test_an_internal_failure_is_reported_as_internal_with_its_traceback(monkeypatch):
    session, _ = open_session()

    def broken(*args, **options):
        raise KeyError("lost")

    monkeypatch.setattr(session.kg.engine, "allocate_concept", broken)
    answer = session.call("allocateConcept", 1, 5)
    assert answer["ok"] is False
    error = answer["error"]
    assert error["type"] == "InternalError"
    assert error["message"] == "allocateConcept failed: KeyError: 'lost'"
    assert "KeyError: 'lost'" in error["traceback"] and "in broken" in error["traceback"]
    group = session.call_many([["getAllocatedCount", 2, []], ["allocateConcept", 3, [5]]])
    assert group.values == [0, None] and group.records == []
    [[index, kind, message, traceback]] = group.failures
    assert (index, kind, message) == (1, "InternalError", error["message"])
    assert "in broken" in traceback


def test_a_call_with_arguments_its_method_cannot_take_is_invalid_input_naming_it():
    session, _ = open_session()
    assert error_of(session.call("getFreeColumnCount", 1, 5)) == (
        "InvalidInputError",
        "Invalid arguments for getFreeColumnCount: too many positional arguments")
    kind, message = error_of(session.call("deallocateConcept", 1))
    assert kind == "InvalidInputError"
    assert message.startswith("Invalid arguments for deallocateConcept")


def test_query_values_are_the_engines():
    session, _ = with_three_concepts()
    assert value(session.call("getAllocationInfo", 1, 3)) == 2
    assert value(session.call("getAllocationInfo", 1, 4)) is None
    assert value(session.call("getFreeColumnCount", 1)) == 5
    assert value(session.call("getAllocatedCount", 1)) == 3
    assert value(session.call("getAllocationEfficiency", 1)) == 3 / 8
    assert [h["conceptId"] for h in value(session.call("getAllocationHistory", 1, {"start": -2}))] == [2, 3]
    assert value(session.call("getColumn", 1, 1))["conceptId"] == 2
    assert value(session.call("validate", 1)) is None
    assert exchange.unpack(value(session.call("exportState", 1))).to_bytes() == session.snapshot()


GROUP = [  # a failure in the middle, calls that depend on earlier ones, reads between
    ["allocateConcept", 1, [5]], ["allocateConcept", 2, [-1]], ["activateConcept", 3, [5, 0.5]],
    ["getAllocationInfo", 4, [5]], ["allocateBatch", 5, [[6, 7, 6]]], ["deallocateConcept", 6, [5]],
    ["deallocateConcept", 7, [5]], ["getStats", 8, []], ["optimizeAllocations", 9, []],
]


def test_a_group_answers_and_records_exactly_as_its_calls_made_one_by_one():
    group, _ = open_session(host=SteppingHost(step=0.5))
    alone, _ = open_session(host=SteppingHost(step=0.5))
    ran = group.call_many(FakeJsProxy(GROUP))
    answers = [alone.call(method, request_id, *args) for method, request_id, args in GROUP]
    records = [answer.pop("record") for answer in answers if "record" in answer]
    compact = [answer.pop("compact") for answer in answers if "compact" in answer]
    assert ran.values == [answer.get("value") for answer in answers]
    assert ran.failures == [[index, answer["error"]["type"], answer["error"]["message"]]
                            for index, answer in enumerate(answers) if not answer["ok"]]
    assert ran.logs == [[index, answer["logs"]] for index, answer in enumerate(answers)
                        if answer.get("logs")] and ran.logs[0][0] == 8  # the optimize
    assert ran.records == [(r["method"], r["args"], r["readings"]) for r in records]
    assert len(records) == 6
    assert ran.mutations == [0, 2, 4, 5, 6, 8]  # the failed allocate wrote nothing
    assert ran.compact is any(compact)
    assert [answer["ok"] for answer in answers].count(False) == 1
    assert group.snapshot() == alone.snapshot()


def test_one_call_alone_is_answered_as_a_group_of_one():
    single, _ = open_session(host=SteppingHost(step=0.5))
    grouped, _ = open_session(host=SteppingHost(step=0.5))
    for method, request_id, args in GROUP:
        assert (single.call_one(method, request_id, *args)
                == grouped.call_many(FakeJsProxy([[method, request_id, args]])))
    assert single.snapshot() == grouped.snapshot()


def test_stats_come_with_a_group_only_when_they_changed_newest_version_last():
    session, _ = open_session()
    layout = session.stats_layout()
    first = session.call_many(FakeJsProxy([["allocateConcept", 1, [5]]])).stats
    stats = session.kg.stats()
    assert first.numbers == [stats[key] for key in layout["numbers"]]
    assert first.others == [stats[key] for key in layout["others"]]
    assert session.call_many(FakeJsProxy([["getStats", 2, []], ["allocateConcept", 3, [-1]]])).stats is None
    second = session.call_many(FakeJsProxy([["deallocateConcept", 4, [5]]])).stats
    assert second.version == first.version + 1
    assert session.stats_update() is None


def test_mutation_records_hold_the_arguments_and_every_clock_reading_in_order():
    host = SteppingHost(step=0.5)
    session, _ = open_session({"dim": 2, "strategy": "affinity"}, host)
    answer = session.call("allocateConcept", 1, 5, {"embedding": [1, 0]})
    assert answer["record"] == {"method": "allocate_concept", "args": [5, array("d", [1.0, 0.0])],
                                "readings": [1000.5, EPOCH + 1000.5, 1001.0]}
    answer = session.call("allocateBatch", 2, [7, 8, 7], {"embeddings": [[0, 1], None, [1, 1]]})
    assert answer["record"]["args"] == [array("I", [7, 8, 7]),
                                        [array("d", [0.0, 1.0]), None, array("d", [1.0, 1.0])]]
    assert answer["record"]["readings"] == [1001.5, EPOCH + 1001.5, 1002.0]
    # an idempotent hit and an activation read no clock
    assert session.call("allocateConcept", 3, 5)["record"]["readings"] == []
    assert session.call("activateConcept", 4, 5, 0.25)["record"] == {
        "method": "activate_concept", "args": [5, 0.25], "readings": []}


def test_a_float64_array_of_whole_numbers_is_a_batch_of_ids():
    session, _ = open_session()
    ids = memoryview(array("d", [3.0, 4.0, 3.0]))  # what a Float64Array becomes
    answer = session.call("allocateBatch", 1, ids)
    assert [r["columnId"] for r in value(answer)] == [0, 1, 0]
    assert answer["record"]["args"] == [array("I", [3, 4, 3])]


def test_compact_is_true_exactly_for_an_optimize_that_moved_something():
    session, _ = with_three_concepts()
    assert session.call("deallocateConcept", 1, 1)["compact"] is False
    moved = session.call("optimizeAllocations", 2)
    assert moved["value"] == 2 and moved["compact"] is True
    still = session.call("optimizeAllocations", 3)
    assert still["value"] == 0 and still["compact"] is False
    value(session.call("activateConcept", 4, 3))  # usage now ranks 3 before 2
    rebalanced = session.call("optimizeAllocations", 5)
    assert rebalanced["value"] == 2 and rebalanced["compact"] is True


def test_an_optimize_answers_its_log_line_once():
    session, host = with_three_concepts()
    value(session.call("deallocateConcept", 1, 1))
    answer = session.call("optimizeAllocations", 2)
    assert answer["logs"] == ["Optimization completed in 0.00ms, 2 changes made"]
    assert host.logs == answer["logs"]
    assert session.call("getStats", 3)["logs"] == []


# ------------------------------------------------------------------------------ bad input

ID_METHODS = ["allocateConcept", "deallocateConcept", "activateConcept", "getAllocationInfo"]


@pytest.fixture(scope="module")
def three_concepts():
    """A session with concepts 1, 2 and 3: refused calls do not change it (the test
    asserts so), so one serves every example."""
    session, _ = with_three_concepts()
    return session, observe(session)


@given(bad=js_bad_ids(), data=st.data())
def test_a_bad_concept_id_is_invalid_input_naming_it_and_changes_nothing(three_concepts, bad, data):
    session, before = three_concepts
    value, shown = bad
    method = data.draw(st.sampled_from([*ID_METHODS, "allocateBatch", "deallocateBatch"]))
    if method in ID_METHODS:
        kind, message = error_of(session.call(method, 1, value))
    else:
        ids = [4, 1]
        index = data.draw(st.integers(0, len(ids)))
        ids.insert(index, value)
        kind, message = error_of(session.call(method, 1, ids))
        assert message.endswith(f"(at batch index {index})")
    assert kind == "InvalidInputError"
    assert f"Invalid concept id {shown}" in message
    assert observe(session) == before


@pytest.mark.parametrize("method, args, expected", [
    ("allocateConcept", (1, "x"), "Invalid options 'x'"),
    ("allocateConcept", (1, {"embedding": [1, 2]}), "Invalid embedding of length 2"),
    ("allocateBatch", ([1], 5), "Invalid options 5"),
    ("allocateBatch", ([1, 2], {"embeddings": [None]}), "Invalid embeddings: 1 given for 2"),
    ("allocateBatch", ("12",), "Invalid concept id batch '12'"),
    ("allocateBatch", (memoryview(array("d", [1.5])),), "Invalid concept id 1.5"),
    ("deallocateBatch", ([1], [2]), "Invalid options [2]"),
    ("activateConcept", (1, -1), "Invalid strength -1"),
    ("activateConcept", (1, float("nan")), "Invalid strength nan"),
    ("getColumn", (8,), "Invalid column id 8"),
    ("getColumn", (-1,), "Invalid column id -1"),
    ("getAllocationHistory", ({"start": 1.5},), "Invalid history start 1.5"),
    ("getAllocationHistory", ("all",), "Invalid options 'all'"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_arguments_and_options_are_invalid_input_naming_the_value(method, args, expected):
    session, _ = with_three_concepts()
    before = observe(session)
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError"
    assert expected in message
    assert observe(session) == before


def test_a_missing_argument_is_invalid_input_naming_the_api_method():
    session, _ = open_session()
    for method in ("deallocateConcept", "allocateConcept", "getColumn"):
        kind, message = error_of(session.call(method, 1))
        assert kind == "InvalidInputError"
        assert method in message, message  # not a Python-internal name such as <lambda>


@pytest.mark.parametrize("method", ["bogus", "open", "recover", "snapshot", "_export_state",
                                    "__init__", "allocate_concept", ""])
def test_an_unknown_method_is_invalid_input_naming_it(method):
    session, _ = with_three_concepts()
    before = observe(session)
    assert error_of(session.call(method, 1)) == ("InvalidInputError", f"Unknown method {method!r}")
    assert observe(session) == before


def test_no_free_column_is_an_allocation_error_without_a_record():
    session, _ = open_session()
    value(session.call("allocateBatch", 1, list(range(8))))
    before = observe(session)
    answer = session.call("allocateConcept", 2, 100)
    assert error_of(answer) == ("AllocationError", "No free columns available")
    assert observe(session) == before
    # an already allocated concept is still found, and a full batch fails per item
    assert value(session.call("allocateConcept", 3, 4)) == 4
    batch = value(session.call("allocateBatch", 4, [100, 0]))
    assert batch[0] == {"conceptId": 100, "success": False, "error": "No free columns available"}


def test_activating_an_unallocated_concept_is_an_allocation_error():
    session, _ = with_three_concepts()
    assert error_of(session.call("activateConcept", 1, 99)) == (
        "AllocationError", "Concept 99 is not allocated")


def test_calls_before_open_are_not_initialized_errors():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "default_host", FakeHost)
        session = Session(BASE)
    for method, args in (("getStats", ()), ("allocateConcept", (1,))):
        assert error_of(session.call(method, 1, *args)) == (
            "NotInitializedError", "CortexKG not initialized")


# ------------------------------------------------------------------- constructor options


def test_the_session_takes_the_javascript_options_and_describes_them():
    session, _ = open_session({"name": "default", "columns": 6, "strategy": "affinity",
                               "dim": 4, "seed": 9, "refractoryMs": 2.5})
    assert session.describe() == {"columns": 6, "strategy": "affinity", "dim": 4, "seed": 9,
                                  "refractoryMs": 2.5, "activationHalfLifeMs": 0.0,
                                  "backend": "reference"}


def test_no_options_are_the_defaults():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session_module, "default_host", FakeHost)
        session = Session(None)
    asyncio.run(session.open())
    described = session.describe()
    assert (described["columns"], described["strategy"], described["dim"], described["seed"],
            described["refractoryMs"]) == (1024, "first_fit", 0, 0, 0.0)


@pytest.mark.parametrize("options, name, shown", [
    ({"columns": -1}, "columns", "-1"),
    ({"columns": "8"}, "columns", "'8'"),
    ({"columns": 2**28 + 1}, "columns", str(2**28 + 1)),
    ({"strategy": "best"}, "strategy", "'best'"),
    ({"dim": -1}, "dim", "-1"),
    ({"dim": 1.5}, "dim", "1.5"),
    ({"seed": -1}, "seed", "-1"),
    ({"refractoryMs": float("nan")}, "refractoryMs", "nan"),
    ({"refractoryMs": -2}, "refractoryMs", "-2"),
    ({"activationHalfLifeMs": -1}, "activationHalfLifeMs", "-1"),
    ({"activationHalfLifeMs": float("inf")}, "activationHalfLifeMs", "inf"),
    ({"backend": "gpu"}, "backend", "'gpu'"),
], ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_a_bad_option_is_invalid_input_naming_the_option_and_its_value(options, name, shown):
    with pytest.raises(InvalidInputError) as caught:
        Session({**BASE, **options})
    assert name in str(caught.value) and shown in str(caught.value)


@pytest.mark.parametrize("options", ["x", [8], 8])
def test_options_that_are_not_an_object_are_invalid_input(options):
    with pytest.raises(InvalidInputError, match=rf"Invalid options {re.escape(repr(options))}: expected an object"):
        Session(options)


@pytest.mark.parametrize("key", ["colums", "refractory_ms", "column_count"])
def test_an_unknown_option_is_a_value_error_naming_it(key):
    # a misspelt option must not silently give the default
    with pytest.raises(InvalidInputError, match=key):
        Session({**BASE, key: 5})


# ------------------------------------------------------------------------------ recovery

SCRIPT = [  # (clock advance, method, args): refractory expiry, batches, optimize
    (0.0, "allocateConcept", (10,)),
    (1.0, "allocateBatch", ([11, 12, 11, 13],)),
    (0.5, "deallocateConcept", (11,)),  # refractory until +5 ms
    (1.0, "allocateConcept", (14,)),  # cannot take 11's column yet
    (0.0, "activateConcept", (13, 0.5)),
    (0.0, "activateConcept", (13, 0.25)),
    (6.0, "allocateConcept", (15,)),  # 11's column is free again
    (0.0, "deallocateBatch", ([12, 99, 12],)),
    (2.0, "optimizeAllocations", ()),
    (0.0, "allocateBatch", ([16, 17, 10], {"columnar": True})),
    (3.0, "deallocateConcept", (16,)),
    (0.0, "allocateConcept", (18,)),
]
REFRACTORY = {"columns": 8, "refractoryMs": 5.0}


def run_script(session, host, script=SCRIPT):
    """Run ``script``; the records of its mutations, in order."""
    records = []
    for index, (advance, method, args) in enumerate(script):
        host.advance(advance)
        records.append(record_of(session.call(method, index, *args)))
    return records


def test_a_session_recovered_from_records_alone_equals_the_original():
    writer, host = open_session(REFRACTORY, SteppingHost(step=0.25))
    records = run_script(writer, host)
    host.step = 0.0
    reader, _ = later_session(host, {"columns": 3})
    restored = reader.recover(None, records, writer.describe())
    assert restored == {"snapshot": False, "records": len(records),
                        "allocated": writer.kg.get_allocated_count(), "columns": 8}
    assert observe(reader) == observe(writer)


@pytest.mark.parametrize("cut", [0, 3, 7, len(SCRIPT)])
def test_a_session_recovered_from_a_snapshot_and_later_records_equals_the_original(cut):
    writer, host = open_session(REFRACTORY, SteppingHost(step=0.25))
    run_script(writer, host, SCRIPT[:cut])
    snapshot = writer.snapshot()
    later = run_script(writer, host, SCRIPT[cut:])
    host.step = 0.0
    reader, _ = later_session(host, {"columns": 3, "strategy": "affinity"})
    restored = reader.recover({"bytes": snapshot}, later, None)
    assert restored["snapshot"] is True and restored["records"] == len(SCRIPT) - cut
    assert observe(reader) == observe(writer)


def test_records_in_the_shape_javascript_returns_them_recover_the_same():
    """Stored records come back with a seq, typed arrays as memoryviews, snapshots as
    {seq, bytes: memoryview}."""
    writer, host = open_session({**REFRACTORY, "dim": 2, "strategy": "affinity"},
                                SteppingHost(step=0.25))
    records = run_script(writer, host, SCRIPT[:4])
    snapshot = writer.snapshot()
    later = [record_of(writer.call("allocateBatch", 1, [30, 31, 30],
                                   {"embeddings": [[1, 0], None, [1, 0]]})),
             record_of(writer.call("allocateConcept", 2, 32, {"embedding": [0, 3]}))]
    host.step = 0.0

    def js_shaped(item):
        if isinstance(item, array):
            return memoryview(item)
        if isinstance(item, list):
            return [js_shaped(x) for x in item]
        return item

    shaped = [{"seq": 5 + i, "method": r["method"], "args": js_shaped(r["args"]),
               "readings": list(r["readings"])} for i, r in enumerate(later)]
    reader, _ = later_session(host)
    reader.recover({"seq": 4, "bytes": memoryview(snapshot)}, shaped, writer.describe())
    assert observe(reader) == observe(writer)
    whole, _ = later_session(host)
    whole.recover(None, [{**r, "seq": i + 1} for i, r in enumerate(records + later)],
                  writer.describe())
    assert observe(whole) == observe(writer)


def test_a_batch_spanning_two_chunks_is_one_record_that_replays_exactly():
    progress = []
    writer, host = open_session({"columns": 16}, SteppingHost(step=0.125),
                                report_progress=lambda *report: progress.append(report))
    ids = list(range(20)) * (BATCH_CHUNK // 20 + 1)
    answer = writer.call("allocateBatch", 42, ids, {"columnar": True})
    assert progress == [(42, BATCH_CHUNK, len(ids)), (42, len(ids), len(ids))]
    assert list(value(answer)["columnIds"][:20]) == list(range(16)) + [-1] * 4
    records = [answer["record"]]
    assert records[0]["args"] == [array("I", ids)]
    host.step = 0.0
    replayed = []
    reader, _ = later_session(host, report_progress=lambda *r: replayed.append(r))
    reader.recover(None, records, writer.describe())
    assert replayed == []  # replay reports no progress
    assert observe(reader) == observe(writer)


def test_recovery_replays_an_optimize_without_logging_it_again():
    writer, host = open_session(REFRACTORY)
    records = run_script(writer, host)
    assert any(r["method"] == "optimize_allocations" for r in records)
    reader, reader_host = later_session(host)
    reader.recover(None, records, writer.describe())
    assert reader_host.logs == []
    assert reader.call("getStats", 1)["logs"] == []
    assert value(reader.call("getStats", 1))["optimization_cycles"] == 1
    # its own optimize logs as usual afterwards
    assert reader.call("optimizeAllocations", 2)["logs"][0].startswith("Optimization completed")


def test_recovery_without_snapshot_or_records_is_a_new_engine_of_the_stored_options():
    reader, _ = with_three_concepts()
    assert reader.recover(None, [], {"columns": 5, "refractoryMs": 1.0, "backend": "reference"}) == {
        "snapshot": False, "records": 0, "allocated": 0, "columns": 5}
    assert reader.describe()["columns"] == 5 and reader.describe()["refractoryMs"] == 1.0
    assert value(reader.call("getAllocatedCount", 1)) == 0


def test_recovery_from_records_alone_keeps_this_sessions_backend():
    """The snapshot path restores with the session's own backend; so must the journal-only
    path (a stored config names the backend a previous page happened to use)."""
    writer, host = open_session()
    records = run_script(writer, host, SCRIPT[:3])
    stored = writer.describe()  # backend "reference"
    reader, _ = open_session({"backend": "auto"})
    mine = reader.describe()["backend"]
    reader.recover({"bytes": writer.snapshot()}, [], stored)
    assert reader.describe()["backend"] == mine
    reader.recover(None, records, stored)
    assert reader.describe()["backend"] == mine


# ------------------------------------------------------------- damaged journals refused


def damaged_journal():
    """A writer, the snapshot of its empty engine and five records (record 2 allocates
    concept 4 and takes three clock readings)."""
    writer, host = open_session(REFRACTORY)
    empty = writer.snapshot()
    records = run_script(writer, host, [
        (1.0, "allocateConcept", (1,)),
        (1.0, "allocateBatch", ([2, 3, 2],)),
        (1.0, "allocateConcept", (4,)),
        (1.0, "deallocateConcept", (2,)),
        (1.0, "optimizeAllocations", ()),
    ])
    assert records[2]["method"] == "allocate_concept" and len(records[2]["readings"]) == 3
    return writer, empty, records


NAN = float("nan")
DAMAGES = {
    "one reading too few": lambda r: {**r, "readings": r["readings"][:-1]},
    "one reading too many": lambda r: {**r, "readings": r["readings"] + r["readings"][-1:]},
    "no readings": lambda r: {**r, "readings": []},
    "unknown method": lambda r: {**r, "method": "reset_engine"},
    "a query as method": lambda r: {**r, "method": "get_stats"},
    "a private method": lambda r: {**r, "method": "_release"},
    "a concept id as text": lambda r: {**r, "args": ["4", None]},
    "a negative concept id": lambda r: {**r, "args": [-4, None]},
    "an extra argument": lambda r: {**r, "args": [4, None, 1]},
    "args not a list": lambda r: {**r, "args": 4},
    "no method": lambda r: {"args": r["args"], "readings": r["readings"]},
    "no readings field": lambda r: {"method": r["method"], "args": r["args"]},
    "not a record": lambda r: None,
    "a reading that is NaN": lambda r: {**r, "readings": [NAN] * 3},
    "readings running backwards": lambda r: {
        **r, "readings": [r["readings"][0], r["readings"][1], r["readings"][0] - 50.0]},
}


@pytest.mark.parametrize("path", ["records", "snapshot"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_record_is_refused_naming_it_and_the_engine_is_unchanged(damage, path):
    writer, empty, records = damaged_journal()
    records[2] = DAMAGES[damage](records[2])
    target, _ = with_three_concepts()
    engine, before = target.kg.engine, observe(target)
    snapshot = None if path == "records" else {"bytes": empty}
    with pytest.raises(StateError, match=r"Journal record 2\b"):
        target.recover(snapshot, records, writer.describe())
    assert target.kg.engine is engine
    assert observe(target) == before


def test_after_a_refused_recovery_the_session_records_from_its_own_clock_again():
    writer, _, records = damaged_journal()
    records[2] = DAMAGES["one reading too many"](records[2])
    target, host = open_session(REFRACTORY)
    with pytest.raises(StateError):
        target.recover(None, records, writer.describe())
    host.advance(2.0)
    assert record_of(target.call("allocateConcept", 1, 9))["readings"] == [
        host.clock, EPOCH + host.clock, host.clock]
    assert target.call("optimizeAllocations", 2)["logs"] != []  # not stuck replaying


@pytest.mark.parametrize("snapshot, message", [
    ({"bytes": b"CORTEXKG" + b"\x00" * 40}, "Unsupported snapshot format version 0"),
    ({"bytes": b"not a snapshot, though long enough"}, "Not a cortexkg snapshot"),
    ({"bytes": b""}, "Snapshot is truncated"),
])
def test_damaged_snapshot_bytes_are_refused_and_the_engine_is_unchanged(snapshot, message):
    target, _ = with_three_concepts()
    engine, before = target.kg.engine, observe(target)
    with pytest.raises(StateError, match=message):
        target.recover(snapshot, [], None)
    assert target.kg.engine is engine and observe(target) == before


def test_a_snapshot_with_a_changed_byte_is_refused_and_the_engine_is_unchanged():
    writer, host = open_session(REFRACTORY)
    run_script(writer, host)
    good = writer.snapshot()
    target, _ = with_three_concepts()
    before = observe(target)
    for index in range(0, len(good), 97):
        damaged = bytearray(good)
        damaged[index] ^= 0x10
        with pytest.raises(StateError):
            target.recover({"bytes": bytes(damaged)}, [], None)
    assert observe(target) == before


def test_a_snapshot_without_its_clock_reading_is_refused():
    writer, _ = with_three_concepts()
    snapshot = Snapshot.from_bytes(writer.snapshot())
    del snapshot.header["clock_ms"]
    target, _ = open_session()
    before = observe(target)
    with pytest.raises(StateError, match="lacks the clock reading"):
        target.recover({"bytes": snapshot.to_bytes()}, [], None)
    assert observe(target) == before


@pytest.mark.parametrize("options", [{"columns": -1}, {"strategy": "best"}, "x"])
def test_invalid_stored_options_are_refused_as_a_state_error(options):
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises(StateError, match="Stored engine options are invalid"):
        target.recover(None, [], options)
    assert observe(target) == before


def test_a_state_recovered_on_a_clock_that_reads_earlier_saves_snapshots_that_load_again():
    """performance.timeOrigin + now() starts from the wall clock at page load: after the
    system clock is set back (an NTP step, a manual change), a reload reads earlier than
    the stored state's readings. Recovery then compaction must not write a snapshot that
    the next load refuses."""
    writer, _ = open_session(REFRACTORY, FakeHost(clock=10_000.0))
    value(writer.call("allocateBatch", 1, [1, 2]))
    value(writer.call("deallocateConcept", 2, 1))  # refractory until 10_005
    reloaded, host = open_session(REFRACTORY, FakeHost(clock=1_000.0))
    reloaded.recover({"bytes": writer.snapshot()}, [], None)
    value(reloaded.call("deallocateConcept", 3, 2))
    value(reloaded.call("validate", 4))
    next_load, _ = open_session(REFRACTORY, FakeHost(clock=1_000.0))
    next_load.recover({"bytes": reloaded.snapshot()}, [], None)  # the next page load
    value(next_load.call("validate", 5))


# ------------------------------------------------------------------ a read-only follower


FOLLOW_SCRIPT = SCRIPT + [
    (1.0, "allocateBatch", ([40, 41, 42, 43, 44],)),
    (0.5, "deallocateBatch", ([41, 43],)),
    (2.0, "allocateConcept", (45,)),
    (4.0, "allocateConcept", (46,)),
    (0.0, "optimizeAllocations", ()),
]


def test_a_follower_applying_the_writers_records_stays_equal_to_the_writer():
    writer, host = open_session({**REFRACTORY, "columns": 16}, SteppingHost(step=0.25))
    follower, follower_host = open_session()
    follower.recover({"bytes": writer.snapshot()}, [], None)
    follower.read_only = "Read-only: another tab is writing"
    for index, (advance, method, args) in enumerate(FOLLOW_SCRIPT):
        host.advance(advance)
        record = record_of(writer.call(method, index, *args))
        host.step, follower_host.clock = 0.0, host.clock  # the record arrives
        assert follower.apply([record]) == 1
        assert observe(follower) == observe(writer), f"after step {index} ({method})"
        host.step = 0.25
    assert follower_host.logs == []  # the writer's optimizes are not logged again


def test_a_follower_applies_several_records_at_once():
    writer, host = open_session(REFRACTORY)
    follower, follower_host = open_session(REFRACTORY)
    records = run_script(writer, host)
    follower_host.clock = host.clock
    assert follower.apply(records[:5]) == 5
    assert follower.apply(records[5:]) == len(records) - 5
    assert observe(follower) == observe(writer)


def test_a_follower_whose_clock_runs_ahead_places_concepts_where_the_writer_did():
    """The follower hears of a record only after the writer committed it, and its
    dashboard queries it meanwhile at its own, later clock. A column the writer still saw
    refractory when it allocated must not be given to that allocation by the follower."""
    writer, host = open_session(REFRACTORY)
    follower, follower_host = open_session(REFRACTORY)
    follower.read_only = "Read-only: another tab is writing"
    follower.apply([record_of(writer.call("allocateConcept", 1, 1)),
                    record_of(writer.call("deallocateConcept", 2, 1))])  # refractory till 1005
    host.advance(4.0)
    allocated = writer.call("allocateConcept", 3, 2)  # at 1004: column 0 is not free yet
    assert value(allocated) == 1
    follower_host.advance(6.0)  # the follower's dashboard looks at 1006, before the record arrives
    value(follower.call("getStats", 4))
    value(follower.call("getColumnStates", 5))
    follower.apply([allocated["record"]])
    assert value(follower.call("getAllocationInfo", 6, 2)) == 1
    assert (value(follower.call("getAllocationHistory", 7))
            == value(writer.call("getAllocationHistory", 7)))


def test_a_follower_refuses_a_damaged_record_naming_it():
    writer, _, records = damaged_journal()
    follower, _ = open_session(REFRACTORY)
    follower.apply(records[:2])
    with pytest.raises(StateError, match=r"Journal record 0 \(allocate_concept\)"):
        follower.apply([DAMAGES["one reading too few"](records[2])])


# ----------------------------------------------------------------------------- read-only


def test_a_read_only_session_refuses_every_mutation_and_changes_nothing():
    session, _ = with_three_concepts(REFRACTORY)
    session.read_only = "Read-only: another tab is writing to \"default\""
    before = observe(session)
    for method, (args, _) in MUTATIONS.items():
        answer = session.call(method, 1, *args)
        assert error_of(answer) == ("StateError", session.read_only), method
    assert observe(session) == before
    for method, args in QUERIES.items():
        assert session.call(method, 2, *args)["ok"] is True, method
    session.read_only = None
    assert record_of(session.call("allocateConcept", 3, 5))["method"] == "allocate_concept"


# ------------------------------------------------------------------ import, reset (replace)


def exported_session():
    source, host = open_session({"columns": 10, "strategy": "affinity", "dim": 2,
                                 "refractoryMs": 4.0, "seed": 5}, SteppingHost(step=0.5))
    run_script(source, host)
    value(source.call("deallocateConcept", 90, 13))  # still refractory at export time
    host.step = 0.0
    return source, host, value(source.call("exportState", 91))


def test_importing_an_export_adopts_the_exported_state_exactly():
    source, source_host, export = exported_session()
    target, target_host = with_three_concepts({"columns": 3})
    target_host.clock = source_host.clock
    prepared = target.prepare_replace("import", export)
    assert value(target.call("getAllocationInfo", 1, 1)) == 0  # nothing changes before commit
    config = target.commit_replace()
    assert config == source.describe() == target.describe()
    assert observe(target) == observe(source)
    # the bytes to store are the same state
    stored, _ = later_session(source_host)
    stored.recover({"bytes": prepared}, [], None)
    assert observe(stored) == observe(source)


def test_an_imported_state_goes_on_like_the_original():
    source, source_host, export = exported_session()
    target, target_host = open_session()
    target_host.clock = source_host.clock
    target.prepare_replace("import", memoryview(export))
    target.commit_replace()
    for host in (source_host, target_host):
        host.advance(5.0)  # 13's column becomes available
    for index, (method, args) in enumerate([("allocateConcept", (70,)),
                                            ("allocateBatch", ([71, 72, 73],)),
                                            ("optimizeAllocations", ())]):
        assert target.call(method, index, *args) == source.call(method, index, *args)
    assert observe(target) == observe(source)


def tamper_version(version):
    def tamper(data):
        data = bytearray(data)
        struct.pack_into("<I", data, 16, version)
        return bytes(data)
    return tamper


def rewrite_header(data, **changes):
    """``data`` with header fields changed (``name=function of the old value``) and the
    header length kept right."""
    _, version, length = struct.unpack_from("<16sII", data)
    header = json.loads(data[24:24 + length])
    for name, change in changes.items():
        header[name] = change(header[name])
    encoded = json.dumps(header).encode()
    return struct.pack("<16sII", exchange.MAGIC, version, len(encoded)) + encoded + data[24 + length:]


def flip(index):
    def tamper(data):
        data = bytearray(data)
        data[index] ^= 0x01
        return bytes(data)
    return tamper


TAMPERS = {
    "magic": (flip(0), "Not a CortexKG export"),
    "version byte": (flip(16), "Export format version 0 is not supported"),
    "newer version": (tamper_version(2), "comes from a newer CortexKG"),
    "header length": (flip(20), "Export header is damaged"),
    "header json": (lambda d: d.replace(b'"sha256"', b'"sha257"', 1), "Export header is damaged"),
    "header size": (lambda d: rewrite_header(d, size=lambda n: n + 1), "truncated or padded"),
    "header checksum": (lambda d: rewrite_header(d, sha256=lambda h: h[::-1]), "Export checksum mismatch"),
    "body first byte": (lambda d: flip(len(d) - len(exchange.unpack(d).to_bytes()))(d),
                        "Export checksum mismatch"),
    "body last byte": (flip(-1), "Export checksum mismatch"),
    "truncated": (lambda d: d[:-1], "truncated or padded"),
    "cut to the prefix": (lambda d: d[:24], "Export header is damaged"),
    "trailing bytes": (lambda d: d + b"\x00\x00", "truncated or padded"),
    "empty": (lambda d: b"", "too short"),
    "not bytes": (lambda d: d.decode("latin-1"), "Invalid export str"),
    "a snapshot, not an export": (lambda d: exchange.unpack(d).to_bytes(), "Not a CortexKG export"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_tampered_export_is_refused_naming_the_problem_and_nothing_changes(tamper):
    _, _, export = exported_session()
    change, message = TAMPERS[tamper]
    target, _ = with_three_concepts()
    engine, before = target.kg.engine, observe(target)
    with pytest.raises(StateError, match=message):
        target.prepare_replace("import", change(export))
    assert target.kg.engine is engine and observe(target) == before
    with pytest.raises(StateError, match="Nothing to commit"):
        target.commit_replace()


def test_resetting_gives_a_new_empty_engine_of_the_given_options():
    target, host = with_three_concepts(REFRACTORY, SteppingHost(step=0.5))
    run_script(target, host, SCRIPT[:6])
    options = {"columns": 5, "strategy": "affinity", "dim": 2, "seed": 7, "refractoryMs": 3.0,
               "activationHalfLifeMs": 60_000.0, "backend": "reference"}
    prepared = target.prepare_replace("reset", options)
    assert value(target.call("getAllocatedCount", 1)) > 0  # nothing changes before commit
    described = target.commit_replace()
    assert described == options == target.describe()
    host.step = 0.0
    fresh, _ = later_session(host, options)
    assert observe(target) == observe(fresh)
    stats = value(target.call("getStats", 2))
    assert (stats["allocated"], stats["total_allocations"], stats["timing_samples"],
            stats["optimization_cycles"]) == (0, 0, 0, 0)
    assert value(target.call("getAllocationHistory", 3)) == []
    stored, _ = later_session(host)
    stored.recover({"bytes": prepared}, [], None)
    assert observe(stored) == observe(target)


def test_a_reset_with_bad_options_is_refused_and_changes_nothing():
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises(InvalidInputError, match="strategy 'best'"):
        target.prepare_replace("reset", {"columns": 4, "strategy": "best"})
    assert observe(target) == before
    with pytest.raises(StateError, match="Nothing to commit"):
        target.commit_replace()


def test_a_reset_with_an_unknown_option_is_refused_naming_it():
    target, _ = with_three_concepts()
    with pytest.raises(InvalidInputError, match="refractory_ms"):
        target.prepare_replace("reset", {"columns": 4, "refractory_ms": 5.0})


def test_an_unknown_replace_kind_is_refused_naming_it():
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises((ValueError, StateError), match="'restore'"):
        target.prepare_replace("restore", {"columns": 4})
    assert observe(target) == before


def test_commit_without_prepare_is_a_state_error():
    target, _ = open_session()
    with pytest.raises(StateError, match="Nothing to commit: prepare_replace was not called"):
        target.commit_replace()


# --------------------------------------------------------- random journals, exact recovery

CONFIGS = [
    {"columns": 12, "strategy": "first_fit", "dim": 0, "refractoryMs": 5.0, "seed": 1},
    {"columns": 12, "strategy": "first_fit", "dim": 3, "refractoryMs": 5.0, "seed": 2},
    {"columns": 12, "strategy": "affinity", "dim": 3, "refractoryMs": 5.0, "seed": 3},
]
IDS = st.integers(0, 20)
EMBEDDING = st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.25, 1.0, 3.0]),
                     min_size=3, max_size=3).filter(any)
OPS = st.lists(st.one_of(
    st.tuples(st.just("allocateConcept"), IDS, st.none() | EMBEDDING),
    st.tuples(st.just("deallocateConcept"), IDS),
    st.tuples(st.just("allocateBatch"), st.lists(IDS, max_size=10), st.booleans(), st.booleans()),
    st.tuples(st.just("deallocateBatch"), st.lists(IDS, max_size=10), st.booleans()),
    st.tuples(st.just("activateConcept"), IDS, st.sampled_from([0.0, 0.25, 1.0])),
    st.tuples(st.just("optimizeAllocations")),
    st.tuples(st.just("tick"), st.sampled_from([0.5, 2.0, 6.0])),
    st.tuples(st.just("query"), st.sampled_from(
        ["getStats", "getFreeColumnCount", "getColumnStates", "getFragmentation"])),
), max_size=30)
AFTERWARDS = [  # run on the original and both recoveries alike
    ("tick", 6.0), ("allocateBatch", list(range(100, 106)), False, True),
    ("deallocateConcept", 100), ("allocateConcept", 200, None), ("tick", 1.0),
    ("optimizeAllocations",), ("allocateConcept", 201, None), ("deallocateBatch", [101, 7], True),
]


def embedding_of(cid: int) -> list[float] | None:
    return None if cid % 2 else [1.0 + cid % 3, -0.5 * (cid % 5), 0.25]


def call_op(session: Session, op: tuple, request_id: int, dim: int) -> dict:
    name, *args = op
    if name == "allocateConcept":
        cid, embedding = args
        return session.call(name, request_id, cid,
                            {"embedding": embedding} if embedding is not None and dim else None)
    if name == "allocateBatch":
        ids, columnar, with_embeddings = args
        options = {"columnar": columnar}
        if with_embeddings and dim:
            options["embeddings"] = [embedding_of(cid) for cid in ids]
        return session.call(name, request_id, ids, options)
    if name == "deallocateBatch":
        ids, columnar = args
        return session.call(name, request_id, ids, {"columnar": columnar})
    if name == "query":
        return session.call(args[0], request_id)
    return session.call(name, request_id, *args)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), ops=OPS, data=st.data())
def test_random_journals_recover_exactly_from_records_or_from_a_snapshot_plus_later_records(
        config, ops, data):
    cut = data.draw(st.integers(0, len(ops)), label="snapshot taken before op")
    writer, host = open_session(config, SteppingHost(step=0.25))
    records, later, snapshot = [], [], None
    for index, op in enumerate(ops):
        if index == cut:
            snapshot, later = writer.snapshot(), []
        if op[0] == "tick":
            host.advance(op[1])
            continue
        answer = call_op(writer, op, index, config["dim"])
        if op[0] == "query":
            assert answer["ok"] and "record" not in answer
            continue
        if not answer["ok"]:
            assert answer["error"]["type"] == "AllocationError", answer
            assert "record" not in answer
            continue
        assert answer["compact"] == (op[0] == "optimizeAllocations" and answer["value"] > 0)
        records.append(answer["record"])
        later.append(answer["record"])
    if snapshot is None:
        snapshot, later = writer.snapshot(), []
    host.step = 0.0

    from_records, records_host = later_session(host)
    from_records.recover(None, records, writer.describe())
    from_snapshot, snapshot_host = later_session(host, {"columns": 2})
    from_snapshot.recover({"bytes": snapshot}, later, writer.describe())
    sessions = [(writer, host), (from_records, records_host), (from_snapshot, snapshot_host)]
    assert records_host.logs == snapshot_host.logs == []
    expected = observe(writer)
    assert observe(from_records) == expected
    assert observe(from_snapshot) == expected

    for index, op in enumerate(AFTERWARDS):
        if op[0] == "tick":
            for _, each in sessions:
                each.advance(op[1])
            continue
        answers = [call_op(session, op, index, config["dim"]) for session, _ in sessions]
        assert answers[1] == answers[0] and answers[2] == answers[0], op
    expected = observe(writer)
    assert observe(from_records) == expected
    assert observe(from_snapshot) == expected


# --------------------------------------------------------- hostile input at the boundary


def nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("method, args, unknown, expected", [
    ("allocateConcept", (5, {"bogus": 1}), "'bogus'", "embedding"),
    ("allocateConcept", (5, {"embeddings": [[1.0]]}), "'embeddings'", "embedding"),
    ("allocateBatch", ([5], {"columnar": True, "colunmar": True}), "'colunmar'",
     "embeddings, columnar"),
    ("allocateBatch", ([5], {"onProgress": 1}), "'onProgress'", "embeddings, columnar"),
    ("deallocateBatch", ([1], {"embeddings": None}), "'embeddings'", "columnar"),
    ("getAllocationHistory", ({"start": 0, "end": 2},), "'end'", "start, stop"),
    ("getAllocationHistory", ({"x" * 5_000_000: 1},), "(5000000 chars)", "start, stop"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_an_unknown_option_of_a_call_is_invalid_input_naming_it_and_the_expected_ones(
        method, args, unknown, expected):
    session, _ = with_three_concepts()
    before = observe(session)
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError"
    assert message.startswith(f"Invalid {method} options: unknown ") and unknown in message
    assert message.endswith(f"; expected some of {expected}") and len(message) < 300
    assert observe(session) == before


def test_many_unknown_options_are_named_five_at_most():
    session, _ = with_three_concepts()
    options = {f"key{i}": i for i in range(1000)}
    kind, message = error_of(session.call("allocateConcept", 1, 5, options))
    assert kind == "InvalidInputError"
    assert message == ("Invalid allocateConcept options: unknown 'key0', 'key1', 'key2', "
                       "'key3', 'key4' and more; expected some of embedding")
    with pytest.raises(InvalidInputError, match=r"unknown 'key0', .*'key4' and more; expected some "
                                         r"of name, columns"):
        Session({**BASE, **options})


@pytest.mark.parametrize("name", [5, "", None, ["default"]], ids=repr)
def test_a_name_that_is_not_a_non_empty_string_is_refused(name):
    with pytest.raises(InvalidInputError, match=rf"^Invalid name {re.escape(repr(name))}: "
                                         rf"expected a non-empty string$"):
        Session({**BASE, "name": name})


@pytest.mark.parametrize("method, args", [
    ("allocateBatch", ([5], {"columnar": 1})),
    ("allocateBatch", ([5], {"columnar": "yes"})),
    ("deallocateBatch", ([1], {"columnar": [True]})),
])
def test_columnar_is_true_or_false(method, args):
    session, _ = with_three_concepts()
    before = observe(session)
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError" and message.startswith("Invalid columnar ")
    assert message.endswith(": expected true or false")
    assert observe(session) == before


@pytest.mark.parametrize("method, args", [
    ("allocateConcept", ("x" * 5_000_000,)),
    ("allocateBatch", ([1, "x" * 5_000_000],)),
    ("deallocateConcept", ("x" * 5_000_000,)),
    ("activateConcept", (1, "x" * 5_000_000)),
    ("getColumn", ("x" * 5_000_000,)),
    ("getAllocationHistory", ({"start": "x" * 5_000_000},)),
    ("allocateConcept", (1, {"embedding": "x" * 5_000_000})),
    ("allocateConcept", (1, "x" * 5_000_000)),
    ("x" * 5_000_000, ()),
])
def test_a_value_of_five_megabytes_is_quoted_in_a_short_message(method, args):
    session, _ = with_three_concepts()
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError"
    assert "xxxxxxxxxx'… (5000000 chars)" in message and len(message) < 300


@pytest.mark.parametrize("method, args", [
    ("allocateBatch", (FakeJsProxy(nested(100_000)),)),
    ("allocateConcept", (FakeJsProxy(nested(100_000)),)),
    ("allocateConcept", (1, FakeJsProxy({"embedding": nested(100_000)}))),
    ("allocateBatch", ([1], FakeJsProxy({"embeddings": nested(100_000)}))),
    ("getAllocationHistory", (FakeJsProxy({"start": nested(100_000)}),)),
], ids=["ids", "id", "embedding", "embeddings", "history"])
def test_an_argument_nested_100000_deep_is_invalid_input_not_a_crash(method, args):
    """Converting it whole recurses once per level: Pyodide's stack overflows (fatally)."""
    session, _ = with_three_concepts()
    before = observe(session)
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError" and len(message) < 300
    assert observe(session) == before


@pytest.fixture
def js_null(monkeypatch):
    """JavaScript's null as Pyodide 0.27+ converts it (a JsNull, not None)."""
    monkeypatch.setattr(js_values, "jsnull", JSNULL)
    return JSNULL


def test_null_options_and_null_items_are_none(js_null):
    session, _ = open_session({"columns": 8, "dim": 2, "strategy": "affinity"})
    twin, _ = open_session({"columns": 8, "dim": 2, "strategy": "affinity"})
    calls = [
        ("allocateConcept", (5, js_null), (5, None)),
        ("allocateConcept", (6, FakeJsProxy({"embedding": None})), (6, {"embedding": None})),
        ("allocateBatch", ([7, 8], FakeJsProxy({"embeddings": [[1, 0], None], "columnar": None})),
         ([7, 8], {"embeddings": [[1, 0], None]})),
        ("deallocateBatch", ([7], FakeJsProxy({"columnar": None})), ([7],)),
        ("getAllocationHistory", (FakeJsProxy({"start": None, "stop": 2}),), ({"stop": 2},)),
    ]
    for index, (method, js_args, python_args) in enumerate(calls):
        assert session.call(method, index, *js_args) == twin.call(method, index, *python_args)


@pytest.mark.parametrize("method, args, shown", [
    ("allocateConcept", (JSNULL,), "Invalid concept id None (NoneType)"),
    ("allocateBatch", (FakeJsProxy([1, None]),), "Invalid concept id None (NoneType)"),
    ("allocateConcept", (1, FakeJsProxy({"embedding": [1, None]})),
     "Invalid embedding value None at index 1"),
    ("activateConcept", (1, JSNULL), "Invalid strength None"),
])
def test_a_null_is_named_none_in_messages(js_null, method, args, shown):
    session, _ = with_three_concepts({"dim": 2, "strategy": "affinity"})
    kind, message = error_of(session.call(method, 1, *args))
    assert kind == "InvalidInputError"
    assert shown in message and "jsnull" not in message and "JsNull" not in message


def test_sizes_beyond_the_limits_are_refused_at_create_naming_the_limit():
    limit = "(the most an engine can hold and persist in Pyodide's 32-bit memory)"
    with pytest.raises(InvalidInputError) as caught:
        Session({**BASE, "columns": 50_000_000})
    assert str(caught.value) == (
        f"Invalid engine options: Invalid columns 50000000: expected an integer in "
        f"0..8388608 {limit}")
    with pytest.raises(InvalidInputError) as caught:
        Session({**BASE, "columns": 1_000_000, "dim": 4096})
    assert str(caught.value) == (
        f"Invalid engine options: Invalid dim 4096 for 1000000 columns: columns × dim (dim "
        f"rounded up to a multiple of 4) must be at most 33554432 {limit}")


@pytest.mark.parametrize("options, shown", [
    ({"columns": 2**28}, "Invalid columns 268435456"),
    ({"columns": 2**23 + 1}, "Invalid columns 8388609"),
    ({"columns": 2**22, "dim": 9}, "Invalid dim 9 for 4194304 columns"),
])
def test_sizes_beyond_the_limits_are_refused_at_reset_and_nothing_changes(options, shown):
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises(InvalidInputError, match=re.escape(shown)):
        target.prepare_replace("reset", options)
    assert observe(target) == before
    with pytest.raises(StateError, match="Nothing to commit"):
        target.commit_replace()


def test_a_reset_cannot_rename_the_engine():
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises(InvalidInputError) as caught:
        target.prepare_replace("reset", {"name": "other", "columns": 4})
    assert str(caught.value) == ("reset() cannot rename the engine 'default' to 'other': "
                                 "open another with CortexKG.create({name})")
    assert observe(target) == before
    target.prepare_replace("reset", {"name": "default", "columns": 4})
    assert target.commit_replace()["columns"] == 4


def test_a_reset_keeps_the_name_the_session_was_created_with():
    target, _ = open_session({"name": "mine"})
    with pytest.raises(InvalidInputError, match="cannot rename the engine 'mine' to 'default'"):
        target.prepare_replace("reset", {"name": "default"})
    target.prepare_replace("reset", {"name": "mine"})
    target.commit_replace()


@pytest.mark.parametrize("options", ["x", 5, [1]], ids=repr)
def test_reset_options_that_are_not_an_object_are_refused_as_such(options):
    target, _ = with_three_concepts()
    with pytest.raises(InvalidInputError, match=rf"^Invalid options {re.escape(repr(options))}: "
                                         rf"expected an object$"):
        target.prepare_replace("reset", options)


def test_reset_options_default_to_the_current_configuration():
    target, _ = with_three_concepts({"columns": 6, "strategy": "affinity", "dim": 2,
                                     "refractoryMs": 1.5})
    target.prepare_replace("reset", {"seed": 3})
    assert target.commit_replace() == {"columns": 6, "strategy": "affinity", "dim": 2,
                                       "seed": 3, "refractoryMs": 1.5,
                                       "activationHalfLifeMs": 0.0, "backend": "reference"}


@pytest.mark.parametrize("timestamp", [float("nan"), float("inf"), -1.0], ids=repr)
def test_an_import_whose_allocation_has_a_timestamp_that_is_no_time_is_refused(timestamp):
    _, _, export = exported_session()
    snapshot = exchange.unpack(export)
    times = array("d", bytes(snapshot.buffers["allocated_at"]))
    times[bytes(snapshot.buffers["state"]).index(1)] = timestamp  # an allocated column
    header = json.loads(json.dumps(snapshot.header))
    next(e for e in header["buffers"] if e["name"] == "allocated_at")["crc32"] = zlib.crc32(times)
    crafted = exchange.pack(Snapshot(header, {**snapshot.buffers,
                                              "allocated_at": times.tobytes()}).to_bytes())
    target, _ = with_three_concepts()
    before = observe(target)
    with pytest.raises(StateError, match="allocation timestamp is negative, NaN or infinite"):
        target.prepare_replace("import", crafted)
    assert observe(target) == before


def test_an_import_of_a_javascript_uint8array_is_read_in_place():
    source, source_host, export = exported_session()
    target, target_host = open_session()
    target_host.clock = source_host.clock
    data = FakeUint8Array(export)
    prepared = target.prepare_replace("import", data)
    target.commit_replace()
    assert observe(target) == observe(source)
    assert data.copies  # read through the array, not converted
    stored, _ = later_session(source_host)
    stored.recover({"bytes": prepared}, [], None)
    assert observe(stored) == observe(source)
