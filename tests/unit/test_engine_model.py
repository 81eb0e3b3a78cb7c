"""Stateful test: random operation sequences against a plain model of the engine.

The model is the specification written as naively as possible (lists, linear scans), so
any disagreement points at the engine. ``validate()`` runs after every step.
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cortexkg import AllocationEngine, AllocationError

from examples import IN_PYODIDE, examples
from fakes import FakeHost
from optional_numpy import BACKENDS
from optional_wasm import WASM_BACKENDS

IDS = st.integers(min_value=0, max_value=12) | st.sampled_from([2**32 - 1, 0, 1])
# The wasm backend joins inside Pyodide, where it is the page's own path. Under CPython
# its kernel runs under wasmtime with every call's memory copied and checked, four times
# the cost of an example on the others; there test_engine_differential holds its engines
# equal to the reference's (whose engine this model checks) on operation sequences that
# reach the kernel's SIMD blocks, which these engines of at most 9 columns never do.
MODEL_WASM_BACKENDS = WASM_BACKENDS if IN_PYODIDE else []


class Model:
    """The engine's rules, naively: one slot per column, refractory deadlines, usage."""

    def __init__(self, n: int, refractory_ms: float):
        self.n, self.refractory_ms = n, refractory_ms
        self.concept = [None] * n
        self.usage = [0] * n
        self.activation = [0.0] * n
        self.deadline = [None] * n  # refractory until this clock time
        self.order: list[int] = []  # concepts in allocation order
        self.total_allocations = self.hits = self.deallocations = self.cycles = 0

    def column_of(self, cid):
        return self.concept.index(cid) if cid in self.concept else None

    def expire(self, now):
        self.deadline = [d if d is not None and d > now else None for d in self.deadline]

    def available(self, now):
        self.expire(now)
        return [c for c in range(self.n) if self.concept[c] is None and self.deadline[c] is None]

    def allocate(self, cid, now):
        col = self.column_of(cid)
        if col is not None:
            self.usage[col] += 1
            self.hits += 1
            return col
        free = self.available(now)
        if not free:
            return None
        col = free[0]
        self.concept[col], self.usage[col], self.activation[col] = cid, 0, 1.0
        self.order.append(cid)
        self.total_allocations += 1
        return col

    def deallocate(self, cid, now):
        col = self.column_of(cid)
        if col is None:
            return None
        self.concept[col], self.usage[col], self.activation[col] = None, 0, 0.0
        if self.refractory_ms:
            self.deadline[col] = now + self.refractory_ms
        self.order.remove(cid)
        self.deallocations += 1
        return col

    def optimize(self, now):
        self.expire(now)
        slots = [c for c in range(self.n) if self.deadline[c] is None]
        allocated = [c for c in slots if self.concept[c] is not None]
        allocated.sort(key=lambda c: -self.usage[c])
        sources = allocated + [c for c in slots if self.concept[c] is None]
        changes = sum(1 for d, s in zip(slots, allocated) if d != s)
        concept, usage, activation = self.concept[:], self.usage[:], self.activation[:]
        for d, s in zip(slots, sources):
            self.concept[d], self.usage[d], self.activation[d] = concept[s], usage[s], activation[s]
        self.cycles += 1
        return changes


class EngineMachine(RuleBasedStateMachine):
    @initialize(
        n=st.integers(min_value=0, max_value=9),
        refractory_ms=st.sampled_from([0.0, 5.0]),
        backend=st.sampled_from(BACKENDS + MODEL_WASM_BACKENDS),
    )
    def setup(self, n, refractory_ms, backend):
        self.host = FakeHost()
        self.engine = AllocationEngine(
            n, refractory_ms=refractory_ms, backend=backend, host=self.host)
        self.model = Model(n, refractory_ms)

    @property
    def now(self):
        return self.host.clock

    @rule(cid=IDS)
    def allocate(self, cid):
        expected = self.model.allocate(cid, self.now)
        if expected is None:
            with pytest.raises(AllocationError, match="^No free columns available$"):
                self.engine.allocate_concept(cid)
        else:
            assert self.engine.allocate_concept(cid) == expected

    @rule(cid=IDS)
    def deallocate(self, cid):
        expected = self.model.deallocate(cid, self.now)
        assert self.engine.deallocate_concept(cid) is (expected is not None)

    @rule(ids=st.lists(IDS, max_size=8))
    def allocate_batch(self, ids):
        expected = []
        for cid in ids:
            col = self.model.allocate(cid, self.now)
            expected.append(
                {"conceptId": cid, "columnId": col, "success": True} if col is not None
                else {"conceptId": cid, "success": False, "error": "No free columns available"})
        assert self.engine.allocate_batch(ids) == expected

    @rule(ids=st.lists(IDS, max_size=8))
    def deallocate_batch(self, ids):
        expected = []
        for cid in ids:
            col = self.model.deallocate(cid, self.now)
            expected.append(
                {"conceptId": cid, "success": True, "columnId": col} if col is not None
                else {"conceptId": cid, "success": False, "error": f"Concept {cid} is not allocated"})
        assert self.engine.deallocate_batch(ids) == expected

    @precondition(lambda self: self.model.order)
    @rule(data=st.data(), strength=st.sampled_from([0.0, 0.25, 1.0, 3.0]))
    def activate(self, data, strength):
        cid = data.draw(st.sampled_from(self.model.order))
        col = self.model.column_of(cid)
        self.model.usage[col] += 1
        self.model.activation[col] = min(1.0, self.model.activation[col] + strength)
        assert self.engine.activate_concept(cid, strength) == self.model.activation[col]

    @rule()
    def optimize(self):
        assert self.engine.optimize_allocations() == self.model.optimize(self.now)
        assert self.engine.optimize_allocations() == 0, "optimize must be idempotent"
        self.model.cycles += 1
        if self.engine.stats()["refractory"] == 0:
            assert self.engine.fragmentation() == 0.0

    @rule(ms=st.sampled_from([1.0, 2.5, 5.0, 10.0]))
    def advance_clock(self, ms):
        self.host.advance(ms)

    @invariant()
    def agrees_with_model(self):
        engine, model = self.engine, self.model
        engine.validate()
        history = engine.get_allocation_history()
        assert [h["conceptId"] for h in history] == model.order
        assert [h["columnId"] for h in history] == [model.column_of(c) for c in model.order]
        assert engine.get_free_column_count() == len(model.available(self.now))
        assert engine.get_allocated_count() == len(model.order)
        buffers = engine.column_buffers()
        assert list(buffers["usage"]) == model.usage
        assert list(buffers["activation"]) == model.activation
        stats = engine.stats()
        assert (stats["total_allocations"], stats["usage_hits"], stats["total_deallocations"],
                stats["optimization_cycles"]) == (
            model.total_allocations, model.hits, model.deallocations, model.cycles)


EngineMachine.TestCase.settings = settings(
    max_examples=examples(150), stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_engine_matches_model = EngineMachine.TestCase
