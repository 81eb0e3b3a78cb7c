"""The synchronous engine's Python side (``web/engine.js``): an :class:`AllocationEngine`
called from JavaScript in the thread that loaded Pyodide, recording nothing (no journal,
no clock tape: this engine persists nothing itself).

The hot path bypasses this module: when every argument is a JavaScript number,
``engine.js`` calls the engine's own bound methods (a number arrives as a Python int, an
int or float result leaves as a JavaScript number; nothing else is converted).
:class:`SyncEngine` serves every other call with the worker session's conversions
(:mod:`cortexkg._js_values`), so that both APIs take the same arguments and give the same
answers and messages. A failed call raises into JavaScript as it is, and
:func:`last_error` then names its JavaScript error class, as the session does, from
``sys.last_exc``, where Pyodide keeps every exception it throws into JavaScript.
"""

from __future__ import annotations

import gc
import sys
import weakref
from dataclasses import asdict, replace
from typing import Any, Callable

from . import exchange
from .engine import AllocationEngine
from .errors import InvalidInputError, error_type
from .facade import column_states
from .host import default_host
from ._js_values import bytes_source, engine_config, flag, from_js
from .session import _options
from .validation import quoted

# Options of `new AllocationEngine(columnCount, enableSimd, options)`: CortexKG.create's
# without name and columns.
OPTION_NAMES = ("strategy", "dim", "seed", "refractoryMs", "activationHalfLifeMs", "backend")
IMPORT_OPTION_NAMES = ("backend",)

_live: weakref.WeakSet = weakref.WeakSet()  # every SyncEngine not yet freed


def _known(options: Any, names: tuple[str, ...], what: str) -> dict:
    """``options`` as a dict, refusing names outside ``names``."""
    options = _options(options)
    unknown = [key for key in options if key not in names]
    if unknown:
        raise InvalidInputError(f"Invalid {what}: unknown {', '.join(map(quoted, unknown[:5]))}"
                         f"{' and more' if len(unknown) > 5 else ''}; "
                         f"expected some of {', '.join(names)}")
    return options


class SyncEngine:
    """One engine served to JavaScript: the calls whose arguments need converting."""

    def __init__(self, engine: AllocationEngine):
        self.engine = engine
        _live.add(self)

    def call(self, method: str, *args: Any) -> Any:
        """``engine.<method>(*args)`` with JavaScript values (objects, arrays, typed arrays,
        null) converted as the session converts them."""
        return getattr(self.engine, method)(*map(from_js, args))

    def allocate_concept(self, concept_id: Any, options: Any = None) -> int:
        """Allocate with options ``{embedding}``."""
        embedding = _options(options, "allocateConcept").get("embedding")
        return self.engine.allocate_concept(from_js(concept_id), embedding)

    def allocate_batch(self, concept_ids: Any, options: Any = None,
                       progress: Callable | None = None):
        """Allocate many, options ``{embeddings, columnar}``; ``progress(done, total)``."""
        options = _options(options, "allocateBatch")
        return self.engine.allocate_batch(
            from_js(concept_ids), options.get("embeddings"),
            columnar=flag(options, "columnar"), progress=progress)

    def deallocate_batch(self, concept_ids: Any, options: Any = None,
                         progress: Callable | None = None):
        """Release many, options ``{columnar}``; ``progress(done, total)``."""
        options = _options(options, "deallocateBatch")
        return self.engine.deallocate_batch(
            from_js(concept_ids), columnar=flag(options, "columnar"), progress=progress)

    def get_allocation_history(self, options: Any = None) -> list[dict]:
        """Live allocations in allocation order, options ``{start, stop}``."""
        options = _options(options, "getAllocationHistory")
        return self.engine.get_allocation_history(options.get("start"), options.get("stop"))

    def get_column_states(self) -> dict:
        """Copies of the per-column buffers the API shows (see the facade's)."""
        return column_states(self.engine)

    def export_state(self) -> bytes:
        """The export file of the whole state (:mod:`cortexkg.exchange`)."""
        return exchange.pack(self.engine.snapshot_parts())


def create(column_count: Any, enable_simd: Any, options: Any = None) -> SyncEngine:
    """A new engine: ``options`` as CortexKG.create's (without name and columns)."""
    settings = _known(options, OPTION_NAMES, "engine options")
    config = engine_config({**settings, "columns": from_js(column_count)})
    try:
        config = replace(config, enable_simd=from_js(enable_simd))
    except ValueError as error:
        message = str(error).replace("enable_simd", "enableSimd")
        raise InvalidInputError(f"Invalid engine options: {message}") from None
    return SyncEngine(AllocationEngine(**asdict(config), host=default_host()))


def import_state(data: Any, options: Any = None) -> SyncEngine:
    """A new engine from an export file (a JavaScript Uint8Array is read in place);
    StateError naming what is wrong with it. Options: ``{backend}``."""
    backend = _known(options, IMPORT_OPTION_NAMES, "import options").get("backend", "auto")
    return SyncEngine(AllocationEngine.restore(
        exchange.unpack(bytes_source(data)), backend=backend, host=default_host()))


def without_tracebacks() -> None:
    """Format no traceback frames in this interpreter, the synchronous engine's own (the
    thread's Pyodide, which nothing else uses): Pyodide formats one for every exception it
    throws into JavaScript, source lines and all (a failed call took 0.75-1 ms with them,
    0.15-0.35 ms without, in Chromium), while engine.js only needs the exception's class
    and message (:func:`last_error`)."""
    sys.tracebacklimit = 0


def last_error() -> tuple[str, str]:
    """(JavaScript error class name, message) of the exception that the last failed call
    threw into JavaScript, classified as the session classifies it. Forgets it: it holds
    the failed call's frames, and whatever they hold, alive."""
    error = getattr(sys, "last_exc", None)
    sys.last_exc = sys.last_value = sys.last_type = sys.last_traceback = None
    return error_type(error), str(error)


def diagnostics() -> dict:
    """Live Python objects and engines after a full collection (a leak shows as growth)."""
    gc.collect()
    return {"pythonObjects": len(gc.get_objects()), "engines": len(_live)}
