"""Runs of calls in a group (Session.call_many): consecutive allocateConcept(id) or
deallocateConcept(id) calls, packed by web/durable.js into one item whose ids are a
Uint32Array, run as one engine batch and one journal record, and must answer and change
the engine exactly as the same calls made one by one (Session.call_one), apart from
timing: a run's allocation times are samples of kind 1 (its batch's mean).

The clocks are FakeHosts that move only between groups, so a run "at one instant" and its
calls one by one read the same clock, and everything but the timing kinds must agree.
"""

from __future__ import annotations

from array import array

import hypothesis.strategies as st
from hypothesis import given, settings

import cortexkg.session_groups as session_groups
import cortexkg.validation as validation
from cortexkg.errors import NO_FREE_COLUMNS
from cortexkg.validation import MAX_CONCEPT_ID

from examples import examples
from fakes import FakeHost
from test_session import fake_js_values, later_session, observe, open_session  # noqa: F401

# Arguments that are not a concept id; each such call runs alone and fails as it would.
BAD_IDS = [-1, MAX_CONCEPT_ID + 1, 1.5, "7", None, True]
IDS = st.integers(0, 9)  # a small pool: duplicates, hits and a full engine are common

CALL = st.one_of(
    st.tuples(st.just("allocateConcept"), st.tuples(IDS)),
    st.tuples(st.sampled_from(["allocateConcept", "deallocateConcept"]),
              st.tuples(IDS, st.none())),  # (id, undefined): deallocateConcept takes one
    st.tuples(st.just("deallocateConcept"), st.tuples(IDS)),
    st.tuples(st.sampled_from(["allocateConcept", "deallocateConcept"]),
              st.tuples(st.sampled_from(BAD_IDS))),
    st.tuples(st.just("getAllocationInfo"), st.tuples(IDS)),
    st.tuples(st.just("getFreeColumnCount"), st.just(())),
    st.tuples(st.just("activateConcept"), st.tuples(IDS)),
)
# runs are what is under test: most groups are made of a few of them
RUN = st.tuples(st.sampled_from(["allocateConcept", "deallocateConcept"]),
                st.lists(IDS, min_size=1, max_size=8))
GROUP = st.lists(st.one_of(CALL.map(lambda call: [call]),
                           RUN.map(lambda run: [(run[0], (cid,)) for cid in run[1]])),
                 min_size=1, max_size=6).map(lambda parts: [c for part in parts for c in part])


def run_id(method: str, args: tuple) -> int | None:
    """The id of a call durable.js may put in a run (one valid id, no options), else None
    (as ``inRun`` in web/durable.js)."""
    if method not in ("allocateConcept", "deallocateConcept") or not (
            len(args) == 1 or (len(args) == 2 and args[1] is None and method == "allocateConcept")):
        return None
    cid = args[0]
    return cid if type(cid) is int and 0 <= cid <= MAX_CONCEPT_ID else None


def packed(calls: list, cuts: list[bool]) -> list:
    """``calls`` ([method, request id, args]) with runs of two or more packed as durable.js
    packs them, ``[method, first request id, array("I", ids)]``, each run also ended
    where ``cuts`` says (any packing must answer the same)."""
    items, index = [], 0
    while index < len(calls):
        method, request_id, args = calls[index]
        end = index + 1
        if run_id(method, args) is not None:
            while (end < len(calls) and calls[end][0] == method and not cuts[end % len(cuts)]
                   and run_id(calls[end][0], calls[end][2]) is not None):
                end += 1
        if end - index > 1:
            items.append([method, request_id, array("I", [c[2][0] for c in calls[index:end]])])
        else:
            items.append(calls[index])
        index = end
    return items


OPTIONS = st.fixed_dictionaries({
    "columns": st.integers(1, 6),
    "refractoryMs": st.sampled_from([0.0, 5.0]),
}, optional={"strategy": st.just("affinity"), "dim": st.just(2)})


def without_kinds(seen: dict) -> dict:
    """What observe() shows, less what only the timing kinds change (the kinds, and the
    snapshot, which holds them)."""
    return {k: v for k, v in seen.items() if k not in ("timeKinds", "snapshot")}


@settings(max_examples=examples(100), deadline=None)
@given(OPTIONS, st.lists(st.tuples(GROUP, st.sampled_from([0.0, 2.0, 6.0])), min_size=1,
                         max_size=5), st.lists(st.booleans(), min_size=1, max_size=12))
def test_a_group_answers_and_changes_the_engine_as_its_calls_made_one_by_one(options, groups,
                                                                             cuts):
    grouped, host = open_session(options, FakeHost())
    alone, twin_host = open_session(options, FakeHost())
    records = []
    for group, advance in groups:
        calls = [[method, request_id, list(args)] for request_id, (method, args) in enumerate(group)]
        ran = grouped.call_many(packed(calls, cuts))
        answers = [alone.call_one(method, request_id, *args) for method, request_id, args in calls]
        assert ran.values == [answer.values[0] for answer in answers]
        assert ran.failures == [[index, *answer.failures[0][1:]]
                                   for index, answer in enumerate(answers) if answer.failures]
        assert ran.logs == []
        # every call whose change a record holds, and only those
        assert ran.mutations == [index for index, answer in enumerate(answers)
                                    if answer.mutations]
        assert len(ran.records) <= len(ran.mutations)
        assert without_kinds(observe(grouped)) == without_kinds(observe(alone))
        records += [{"method": m, "args": a, "readings": r} for m, a, r in ran.records]
        host.advance(advance)
        twin_host.advance(advance)
    replayed, _ = later_session(host, {"columns": 3})
    replayed.recover(None, records, grouped.describe())
    assert observe(replayed) == observe(grouped)


def run(method: str, ids: list[int], request_id: int = 0) -> list:
    """A run of ``method`` calls, one per id, as durable.js sends it."""
    return [method, request_id, array("I", ids)]


def test_a_run_is_one_record_and_its_allocation_times_are_the_batchs_mean():
    session, _ = open_session({"columns": 8})
    ran = session.call_many([run("allocateConcept", [4, 5, 4, 6])])
    assert ran.values == [0, 1, 0, 2] and ran.failures == []
    assert ran.records == [("allocate_batch", [array("I", [4, 5, 4, 6])],
                            [1000.0, 1.7e12 + 1000.0, 1000.0])]
    assert ran.mutations == [0, 1, 2, 3]
    assert session.kg.engine.get_allocation_time_kinds().tolist() == [1, 1, 1]  # three placed
    assert session.kg.stats()["usage_hits"] == 1


def test_calls_between_runs_are_answered_at_their_own_index():
    session, _ = open_session({"columns": 8})
    ran = session.call_many([run("allocateConcept", [4, 5], 1), ["allocateConcept", 3, [-1]],
                             run("allocateConcept", [6, 7], 4), ["getAllocatedCount", 6, []],
                             run("deallocateConcept", [4, 9], 7)])
    assert ran.values == [0, 1, None, 2, 3, 4, True, False]
    assert ran.failures == [[2, "InvalidInputError",
                                f"Invalid concept id -1: expected an integer in 0..{MAX_CONCEPT_ID}"]]
    assert [args for _, args, _ in ran.records] == [[array("I", ids)] for ids in ([4, 5], [6, 7], [4, 9])]
    assert ran.mutations == [0, 1, 3, 4, 6, 7]


def test_calls_a_full_engine_has_no_column_for_fail_and_the_others_go_on():
    session, _ = open_session({"columns": 2})
    ran = session.call_many([run("allocateConcept", [1, 2, 3, 1, 3])])
    assert ran.values == [0, 1, None, 0, None]
    assert ran.failures == [[2, "AllocationError", NO_FREE_COLUMNS],
                               [4, "AllocationError", NO_FREE_COLUMNS]]
    assert ran.mutations == [0, 1, 3] and len(ran.records) == 1
    # a run none of whose calls succeeds leaves no record, as none of them alone would
    ran = session.call_many([run("allocateConcept", [3, 4])])
    assert ran.records == [] and ran.mutations == []
    assert [f[1] for f in ran.failures] == ["AllocationError"] * 2


def test_deallocating_a_concept_that_is_not_allocated_is_false_in_a_run_too():
    session, _ = open_session({"columns": 4})
    session.call_many([["allocateConcept", 1, [7]]])
    ran = session.call_many([run("deallocateConcept", [7, 7, 8])])
    assert ran.values == [True, False, False] and ran.failures == []
    assert ran.mutations == [0, 1, 2]
    assert ran.records == [("deallocate_batch", [array("I", [7, 7, 8])], [])]


def test_while_mutations_are_refused_each_call_of_a_run_is_refused_alone():
    session, _ = open_session({"columns": 4})
    session.write_error = "Changes cannot be saved now: the disk is full"
    ran = session.call_many([run("allocateConcept", [0, 1, 2])])
    assert ran.values == [None] * 3 and ran.records == []
    assert ran.failures == [[i, "StorageError", session.write_error] for i in range(3)]
    session.write_error = None
    session.read_only = "Read-only: another tab is writing"
    ran = session.call_many([run("deallocateConcept", [0, 1, 2])])
    assert ran.failures == [[i, "StateError", session.read_only] for i in range(3)]


def test_an_internal_failure_in_a_run_is_reported_for_each_of_its_calls(monkeypatch):
    session, _ = open_session({"columns": 4})

    def broken(*args, **options):
        raise RuntimeError("the batch broke")

    monkeypatch.setattr(session.kg.engine, "allocate_batch", broken)
    ran = session.call_many([run("allocateConcept", [0, 1]), ["getAllocatedCount", 2, []]])
    assert ran.values == [None, None, 0] and ran.records == []
    assert [f[:3] for f in ran.failures] == [
        [i, "InternalError", "allocateConcept failed: RuntimeError: the batch broke"] for i in range(2)]
    assert all("RuntimeError" in f[3] for f in ran.failures)  # the traceback


def test_a_run_longer_than_a_batch_may_be_is_several_batches(monkeypatch):
    for module in (session_groups, validation):
        monkeypatch.setattr(module, "MAX_BATCH_LENGTH", 3)
    session, _ = open_session({"columns": 8})
    ran = session.call_many([run("allocateConcept", [10, 11, 12, 13, 14, 15, 16])])
    assert ran.values == list(range(7)) and ran.failures == []
    assert [args for _, args, _ in ran.records] == [
        [array("I", [10, 11, 12])], [array("I", [13, 14, 15])], [array("I", [16])]]
    assert ran.mutations == list(range(7))
