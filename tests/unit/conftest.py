"""Shared fixtures of the unit tests.

- ``FakeHost`` (class, in ``fakes.py``; ``from fakes import FakeHost``): a
  :class:`cortexkg.Host` whose monotonic clock ``clock`` (ms, starts at 1000.0) moves only
  through ``advance(ms)``; ``wall_ms()`` is ``epoch + clock``; log lines go to ``logs``.
- fixture ``fake_host``: a fresh ``FakeHost()``.
- fixture ``make_engine``: ``make_engine(**kw)`` builds ``AllocationEngine(**kw)`` with
  ``column_count=8`` unless given and a fresh ``FakeHost`` unless ``host=`` is given (the
  engine's fake is ``engine.host``).
- fixture ``engine_state``: the function ``engine_state(engine)``, a fingerprint of an
  engine's whole state (snapshot bytes, history, stats, column buffers) comparable with
  ``==``; equal fingerprints under an unmoved fake clock mean nothing changed.

numpy is optional (see ``optional_numpy.py``). Inside Pyodide (``sys.platform ==
"emscripten"``, tests/browser/test_unit_in_pyodide.py) the hypothesis profile "pyodide"
applies, and property tests run a quarter of their examples (``examples.py``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from cortexkg import AllocationEngine
from examples import IN_PYODIDE, examples
from fakes import FakeHost

# Speed is measured by the benchmarks, never asserted by a test: no per-example deadline
# or too-slow health check (npm test runs these beside the browser tests, on shared cores).
settings.register_profile("shared", deadline=None, suppress_health_check=[HealthCheck.too_slow])
if IN_PYODIDE:
    # and the page's file system vanishes with Python in WebAssembly: no example database;
    # of hypothesis's default number of examples, the share examples.py gives the others
    shared = settings.get_profile("shared")
    settings.register_profile("pyodide", shared, database=None,
                              max_examples=examples(shared.max_examples))
    settings.load_profile("pyodide")
else:
    settings.load_profile("shared")


def build_engine(**kw) -> AllocationEngine:
    """``AllocationEngine`` with test defaults: 8 columns and its own ``FakeHost``."""
    kw.setdefault("column_count", 8)
    kw.setdefault("host", FakeHost())
    return AllocationEngine(**kw)


def engine_state(engine: AllocationEngine) -> tuple:
    """Everything observable about an engine, comparable with ``==``."""
    return (
        engine.snapshot().to_bytes(),
        engine.get_allocation_history(),
        engine.stats(),
        {name: bytes(buffer) for name, buffer in engine.column_buffers().items()},
    )


@pytest.fixture
def fake_host() -> FakeHost:
    return FakeHost()


# Session-scoped: both are plain functions, so hypothesis tests may use them too.
@pytest.fixture(scope="session")
def make_engine():
    return build_engine


@pytest.fixture(name="engine_state", scope="session")
def engine_state_fixture():
    return engine_state
