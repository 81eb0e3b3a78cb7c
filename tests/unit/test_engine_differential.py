"""Differential tests: the numpy, wasm and reference backends give identical engines."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from cortexkg import AllocationEngine, AllocationError

from examples import examples
from fakes import FakeHost
from optional_numpy import needs_numpy
from optional_wasm import needs_wasm

SIZES = st.sampled_from([0, 1, 3, 4, 5, 15, 16, 17]) | st.integers(0, 40)
IDS = st.integers(0, 20)


def embeddings(dim):
    # a small pool makes equal embeddings (and so tied scores) likely
    if not dim:
        return st.none()
    pool = st.sampled_from([[1.0] * dim, [-1.0] + [0.5] * (dim - 1), [0.0] * (dim - 1) + [2.0]])
    free = st.lists(st.floats(-10, 10, allow_nan=False), min_size=dim, max_size=dim).filter(any)
    return st.none() | pool | free


def operations(dim):
    return st.lists(st.one_of(
        st.tuples(st.just("allocate"), IDS, embeddings(dim)),
        st.tuples(st.just("deallocate"), IDS),
        st.tuples(st.just("allocate_batch"), st.lists(IDS, max_size=6)),
        st.tuples(st.just("deallocate_batch"), st.lists(IDS, max_size=6)),
        st.tuples(st.just("activate"), IDS, st.sampled_from([0.5, 1.0])),
        st.tuples(st.just("optimize")),
        st.tuples(st.just("tick"), st.sampled_from([1.0, 4.0])),
    ), max_size=40)


def apply(engine, host, op):
    name, *args = op
    try:
        if name == "allocate":
            return engine.allocate_concept(args[0], args[1])
        if name == "activate":
            return engine.activate_concept(*args)
        if name == "tick":
            return host.advance(args[0])
        if name == "optimize":
            return engine.optimize_allocations()
        return getattr(engine, name + "_concept" if "_" not in name else name)(*args)
    except AllocationError as error:
        return str(error)


def observe(engine):
    stats = engine.stats()
    del stats["backend"]
    buffers = {k: bytes(v) for k, v in engine.column_buffers().items()}
    return engine.get_allocation_history(), stats, buffers, engine.fragmentation()


@pytest.mark.parametrize("backend", [pytest.param("numpy", marks=needs_numpy),
                                     pytest.param("wasm", marks=needs_wasm)])
@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=SIZES, dim=st.integers(0, 64), strategy=st.sampled_from(["first_fit", "affinity"]),
       refractory_ms=st.sampled_from([0.0, 3.0]), seed=st.integers(0, 2**64 - 1), data=st.data())
def test_backend_agrees_with_reference(backend, n, dim, strategy, refractory_ms, seed, data):
    ops = data.draw(operations(dim))
    runs = []
    for name in (backend, "reference"):
        host = FakeHost()
        engine = AllocationEngine(n, strategy=strategy, dim=dim, seed=seed,
                                  refractory_ms=refractory_ms, backend=name, host=host)
        results = [apply(engine, host, op) for op in ops]
        engine.validate()
        runs.append((results, observe(engine)))
    assert runs[0] == runs[1]


@settings(max_examples=examples(60), deadline=None)
@given(n=SIZES, dim=st.integers(1, 16), data=st.data())
def test_affinity_batch_equals_one_by_one(n, dim, data):
    ids = data.draw(st.lists(IDS, max_size=25))
    embs = data.draw(st.lists(embeddings(dim), min_size=len(ids), max_size=len(ids)))
    one, batch = (AllocationEngine(n, strategy="affinity", dim=dim, host=FakeHost())
                  for _ in range(2))
    expected = []
    for cid, emb in zip(ids, embs):
        try:
            expected.append({"conceptId": cid, "columnId": one.allocate_concept(cid, emb),
                             "success": True})
        except AllocationError as error:
            expected.append({"conceptId": cid, "success": False, "error": str(error)})
    assert batch.allocate_batch(ids, embs) == expected
    assert [(h["conceptId"], h["columnId"], h["confidence"]) for h in batch.get_allocation_history()] == [
        (h["conceptId"], h["columnId"], h["confidence"]) for h in one.get_allocation_history()]
    assert bytes(batch.column_buffers()["fields"]) == bytes(one.column_buffers()["fields"])


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 8), dim=st.sampled_from([0, 3]), strategy=st.sampled_from(["first_fit", "affinity"]),
       refractory_ms=st.sampled_from([0.0, 3.0]), data=st.data())
def test_allocate_concept_at_equals_allocate_concept(n, dim, strategy, refractory_ms, data):
    """The readings passed in (the synchronous engine's path) change nothing else: its
    inlined first-fit placement and its fallback give allocate_concept's engine."""
    ops = [op for op in data.draw(operations(dim)) if op[0] != "allocate" or op[2] is None]
    runs = []
    for at in (False, True):
        host = FakeHost()
        engine = AllocationEngine(n, strategy=strategy, dim=dim, refractory_ms=refractory_ms,
                                  backend="reference", host=host)
        if at:
            engine.allocate_concept = lambda cid, _, e=engine, h=host: e.allocate_concept_at(
                cid, h.now_ms(), h.wall_ms())
        results = [apply(engine, host, op) for op in ops]
        engine.validate()
        runs.append((results, observe(engine)))
    assert runs[0] == runs[1]
