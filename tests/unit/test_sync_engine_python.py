"""The synchronous engine's Python side (cortexkg._sync_engine), under CPython.

Its answers are compared with the async API's in the browser (tests/browser/
test_sync_engine.py); here: the configuration it accepts, the error classes it names, and
its export files.
"""

from __future__ import annotations

import sys

import pytest

from cortexkg import AllocationError, InvalidConceptIdError, NotInitializedError, StateError
from cortexkg import _sync_engine as sync
from cortexkg.errors import StorageError


def test_create_takes_the_async_apis_options_with_their_defaults() -> None:
    engine = sync.create(16, True, {"strategy": "affinity", "dim": 4, "seed": 9,
                                    "refractoryMs": 5, "backend": "reference"}).engine
    assert (engine.column_count, engine.strategy, engine.dim, engine.seed,
            engine.refractory_ms, engine.backend_name) == (16, "affinity", 4, 9, 5.0, "reference")
    default = sync.create(8, False).engine
    assert (default.strategy, default.dim, default.seed, default.refractory_ms,
            default.enable_simd) == ("first_fit", 0, 0, 0.0, False)


@pytest.mark.parametrize(("args", "named"), [
    ((8, True, {"columns": 8}), "unknown 'columns'; expected some of strategy, dim, seed, refractoryMs, activationHalfLifeMs, backend"),
    ((8, True, {"name": "x"}), "unknown 'name'"),
    ((-1, True), "Invalid columns -1"),
    ((8, "yes"), "Invalid enableSimd 'yes'"),
    ((8, True, {"strategy": "best"}), "Invalid strategy 'best'"),
    ((8, True, 5), "Invalid options 5: expected an object"),
])
def test_create_refuses_bad_configurations_naming_them(args, named) -> None:
    with pytest.raises(ValueError, match=named.replace("(", r"\(")):
        sync.create(*args)


@pytest.mark.parametrize(("error", "kind"), [
    (AllocationError("No free columns available"), "AllocationError"),
    (InvalidConceptIdError("Invalid concept id -1"), "InvalidInputError"),
    (ValueError("an internal check"), "InternalError"),  # cortexkg raises InvalidInputError for input
    (TypeError("an internal check"), "InternalError"),
    (StateError("Not a CortexKG export"), "StateError"),
    (NotInitializedError("gone"), "NotInitializedError"),
    (StorageError("full"), "StorageError"),
    (KeyError("surprise"), "InternalError"),
])
def test_last_error_names_the_javascript_class_and_forgets_the_exception(error, kind) -> None:
    sys.last_exc = error
    assert sync.last_error() == (kind, str(error))
    assert sys.last_exc is None and sys.last_value is None


def test_export_files_import_to_an_equal_engine_and_damage_is_refused() -> None:
    original = sync.create(8, True, {"backend": "reference"})
    original.allocate_batch([5, 6, 7])
    original.engine.deallocate_concept(6)
    data = original.export_state()
    copy = sync.import_state(data, {"backend": "reference"})
    # what is observable (a snapshot's header also holds the clock reading it was taken at)
    def observed(served: sync.SyncEngine):
        return served.get_allocation_history(), served.engine.stats(), served.engine.column_buffers()

    assert observed(copy) == observed(original)
    damaged = bytearray(data)
    damaged[-1] ^= 0xFF
    with pytest.raises(StateError):
        sync.import_state(bytes(damaged))
    with pytest.raises(ValueError, match="unknown 'seed'; expected some of backend"):
        sync.import_state(data, {"seed": 1})


def test_diagnostics_count_engines_until_they_are_freed() -> None:
    before = sync.diagnostics()["engines"]
    engines = [sync.create(4, True, {"backend": "reference"}) for _ in range(3)]
    assert sync.diagnostics()["engines"] == before + 3
    del engines
    assert sync.diagnostics()["engines"] == before
