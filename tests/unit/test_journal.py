"""Journal replay reproduces an engine exactly: snapshot + replayed records == original."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from cortexkg import AllocationEngine, AllocationError, Snapshot, StateError
from cortexkg.journal import ClockTape, replay, run_recorded

from examples import examples
from fakes import FakeHost

IDS = st.integers(0, 30)
OPS = st.lists(st.one_of(
    st.tuples(st.just("allocate_concept"), st.tuples(IDS)),
    st.tuples(st.just("allocate_concept"), st.tuples(IDS, st.lists(
        st.floats(-5, 5, allow_nan=False), min_size=3, max_size=3).filter(any))),
    st.tuples(st.just("deallocate_concept"), st.tuples(IDS)),
    st.tuples(st.just("allocate_batch"), st.tuples(st.lists(IDS, max_size=8))),
    st.tuples(st.just("deallocate_batch"), st.tuples(st.lists(IDS, max_size=8))),
    st.tuples(st.just("activate_concept"), st.tuples(IDS, st.sampled_from([0.25, 1.0]))),
    st.tuples(st.just("optimize_allocations"), st.tuples()),
    st.tuples(st.just("tick"), st.tuples(st.sampled_from([0.5, 3.0, 7.0]))),
), max_size=40)


class SteppingHost(FakeHost):
    """Every reading moves the clock a little, so timing samples are not all zero."""

    def __init__(self):
        super().__init__()
        object.__setattr__(self, "now_ms", self._tick)

    def _tick(self):
        self.clock += 0.125
        return self.clock


def make(host, strategy, half_life=0.0):
    tape = ClockTape(host)
    engine = AllocationEngine(12, strategy=strategy, dim=3, refractory_ms=5.0, seed=9,
                              activation_half_life_ms=half_life, backend="reference",
                              host=tape.host())
    return engine, tape


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, strategy=st.sampled_from(["first_fit", "affinity"]),
       half_life=st.sampled_from([0.0, 4.0]), data=st.data())
def test_snapshot_plus_replayed_journal_equals_the_original(ops, strategy, half_life, data):
    """With a half-life too: activations decay by the journaled wall clock readings."""
    host = SteppingHost()
    engine, tape = make(host, strategy, half_life)
    cut = data.draw(st.integers(0, len(ops)))
    snapshot, records = None, []
    for index, (method, args) in enumerate(ops):
        if index == cut:
            snapshot = engine.snapshot().to_bytes()
            records = []
        if method == "tick":
            host.advance(args[0])
            continue
        try:
            _, record = run_recorded(engine, tape, method, list(args))
        except AllocationError:
            continue
        records.append(record)
    if snapshot is None:
        snapshot = engine.snapshot().to_bytes()
        records = []

    twin_host = SteppingHost()
    twin_tape = ClockTape(twin_host)
    # as recovery does: the restore continues from the reading the snapshot names
    with twin_tape.play([Snapshot.from_bytes(snapshot).header["clock_ms"]]):
        twin = AllocationEngine.restore(snapshot, backend="reference", host=twin_tape.host())
    replay(twin, twin_tape, records)
    twin.validate()
    # compare at one common clock reading
    twin_host.clock = host.clock
    assert twin.get_allocation_history() == engine.get_allocation_history()
    assert twin.snapshot().to_bytes() == engine.snapshot().to_bytes()


def test_replay_rejects_records_whose_readings_do_not_fit():
    engine, tape = make(SteppingHost(), "first_fit")
    _, record = run_recorded(engine, tape, "allocate_concept", [1])
    fresh, fresh_tape = make(SteppingHost(), "first_fit")
    with pytest.raises(StateError, match="fewer clock readings"):
        replay(fresh, fresh_tape, [{**record, "readings": record["readings"][:1]}])
    with pytest.raises(StateError, match="more clock readings"):
        replay(fresh, fresh_tape, [{**record, "readings": record["readings"] + [1.0]}])
    with pytest.raises(StateError, match="unknown method 'validate'"):
        replay(fresh, fresh_tape, [{"method": "validate", "args": [], "readings": []}])
    with pytest.raises(StateError, match="record 0 is malformed"):
        replay(fresh, fresh_tape, [{"method": "allocate_concept"}])
    with pytest.raises(StateError, match=r"record 0 \(allocate_concept\) is malformed.*'x'") as caught:
        replay(fresh, fresh_tape, [{"method": "allocate_concept", "args": ["x"], "readings": []}])
    assert isinstance(caught.value.__cause__, StateError)  # the cause is kept, not hidden


def test_a_record_that_fails_in_the_engine_keeps_the_engine_error_as_its_cause():
    engine, tape = make(SteppingHost(), "first_fit")
    _, record = run_recorded(engine, tape, "allocate_concept", [1])
    fresh, fresh_tape = make(SteppingHost(), "first_fit")
    replay(fresh, fresh_tape, [record])
    with pytest.raises(StateError, match=r"record 0 \(allocate_concept\) does not replay") as caught:
        replay(fresh, fresh_tape, [record])  # concept 1 is allocated already
    assert caught.value.__cause__ is not None and caught.value.__cause__ is not caught.value


def test_rejected_calls_leave_no_record():
    engine, tape = make(SteppingHost(), "first_fit")
    with pytest.raises(ValueError):
        run_recorded(engine, tape, "allocate_concept", [-1])
    _, record = run_recorded(engine, tape, "allocate_batch", [[1, 2]], columnar=True)
    # start, wall clock, end: the batch of one chunk reads the clocks three times
    assert list(record["args"][0]) == [1, 2] and len(record["readings"]) == 3


# ------------------------------------------------ stored records: exact shapes, bounded


def nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


RECORD_OF = {
    "allocate_concept": {"method": "allocate_concept", "args": [3, None], "readings": [1, 2, 3]},
    "allocate_batch": {"method": "allocate_batch", "args": [[3, 4]], "readings": [1, 2, 3]},
    "activate_concept": {"method": "activate_concept", "args": [3, 0.5], "readings": []},
}
# (method, args that do not have the shape its record holds, text the message names)
BAD_SHAPES = [
    ("allocate_batch", [nested(100_000)], "Invalid concept id [[[[...]]]] (list)"),
    ("allocate_batch", [[1, 2], [nested(100_000)] * 2], "Invalid embedding of length 1"),
    ("allocate_batch", [[1, 2], [[nested(100_000)] * 3] * 2],
     "Invalid embedding value [[[[...]]]] at index 0"),
    ("allocate_batch", [[1, 2], 5], "argument 1 5 is not a list of embeddings or None"),
    ("allocate_batch", [[1, 2], [5, None]], "argument 1 [5, None] is not a list of embeddings"),
    ("allocate_concept", [nested(100_000), None], "argument 0 [[[[...]]]] is not a number"),
    ("allocate_concept", [3, [nested(100_000)] * 3], "Invalid embedding value [[[[...]]]]"),
    ("allocate_concept", [], "holds 0 arguments, expected 1 to 2"),
    ("allocate_concept", [3, None, 1], "holds 3 arguments, expected 1 to 2"),
    ("deallocate_concept", [[3]], "argument 0 [3] is not a number"),
    ("deallocate_batch", [3], "argument 0 3 is not a list of numbers"),
    ("activate_concept", [3], "holds 1 arguments, expected 2"),
    ("activate_concept", [3, "0.5"], "argument 1 '0.5' is not a number"),
    ("optimize_allocations", [1], "holds 1 arguments, expected 0"),
    ("allocate_concept", "x" * 5_000_000, "arguments 'xxx"),
]


@pytest.mark.parametrize(("method", "args", "text"), BAD_SHAPES,
                         ids=[f"{i}-{m}" for i, (m, _, _) in enumerate(BAD_SHAPES)])
def test_a_record_whose_arguments_are_not_its_methods_is_refused_in_a_short_message(
        method, args, text):
    """Nested 100,000 deep, a value would make a recursive decoder or repr overflow the
    stack (fatally in Pyodide); 5 MB long, it would make a 5 MB message."""
    engine, tape = make(SteppingHost(), "first_fit")
    record = {"method": method, "args": args, "readings": [1.0, 2.0, 3.0]}
    with pytest.raises(StateError, match=rf"Journal record 0 \({method}\)") as caught:
        replay(engine, tape, [record])
    assert text in str(caught.value) and len(str(caught.value)) < 300


def test_a_record_with_far_more_readings_than_its_call_takes_is_refused_before_it_runs(
        engine_state):
    engine, tape = make(FakeHost(), "first_fit")
    before = engine_state(engine)
    record = {"method": "allocate_concept", "args": [3, None], "readings": [1.0] * 1_000_000}
    with pytest.raises(StateError, match="more clock readings than its replay can take: "
                                         "1000000, at most 3"):
        replay(engine, tape, [record])
    assert engine_state(engine) == before


@pytest.mark.parametrize("readings", ["123", None, 5, {"a": 1}], ids=repr)
def test_readings_that_are_not_a_list_are_refused_naming_them(readings):
    engine, tape = make(SteppingHost(), "first_fit")
    record = {**RECORD_OF["allocate_concept"], "readings": readings}
    with pytest.raises(StateError, match="clock readings .* are not a list"):
        replay(engine, tape, [record])


@pytest.mark.parametrize("record", [nested(100_000), "x" * 5_000_000, {"method": 1}],
                         ids=["nested", "long-string", "no-args"])
def test_a_record_that_is_not_a_record_is_refused_in_a_short_message(record):
    engine, tape = make(SteppingHost(), "first_fit")
    with pytest.raises(StateError, match="Journal record 0 is malformed") as caught:
        replay(engine, tape, [record])
    assert len(str(caught.value)) < 300

