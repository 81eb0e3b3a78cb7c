"""The host adapter: the only module that touches the platform.

Three operations: a monotonic clock in milliseconds, a wall clock in milliseconds since the
Unix epoch, and a log line. In Pyodide (``pyodide.ffi.IN_PYODIDE``) they are
``performance.timeOrigin + performance.now()``, ``Date.now`` and ``console.log`` from the
``js`` module (typed by ``py/js.pyi``), bound once because every attribute walk through
``js`` costs microseconds. Under CPython they are
``time.perf_counter``, ``time.time`` and the ``cortexkg`` logger. Tests pass their own
:class:`Host` to the engine. :func:`wasm_kernel` hands the scans the browser's kernel.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

try:
    from pyodide.ffi import IN_PYODIDE
except ImportError:  # CPython without Pyodide's own package
    IN_PYODIDE = False

logger = logging.getLogger("cortexkg")


@dataclass(frozen=True)
class Host:
    """Clock, wall clock and log used by an engine."""

    now_ms: Callable[[], float]
    wall_ms: Callable[[], float]
    log: Callable[[str], None]


def _cpython_host() -> Host:
    perf_counter, wall = time.perf_counter, time.time
    return Host(
        now_ms=lambda: perf_counter() * 1000.0,
        wall_ms=lambda: wall() * 1000.0,
        log=logger.info,
    )


def _browser_host() -> Host:
    import js  # only exists inside Pyodide

    # timeOrigin + now(): performance.now's resolution, in one clock across page loads, so
    # refractory deadlines and journal readings stay comparable after a reload
    origin, now = js.performance.timeOrigin, js.performance.now
    return Host(now_ms=lambda: origin + now(), wall_ms=js.Date.now, log=js.console.log)


def default_host() -> Host:
    """The host of the running platform."""
    return _browser_host() if IN_PYODIDE else _cpython_host()


def wasm_kernel():
    """The exports of the column-scan kernel that ``web/kernel.js`` instantiated on
    Pyodide's own memory and registered as the JS module ``cortexkg_kernel``; None outside
    Pyodide, and in a page that did not load it (no WebAssembly SIMD)."""
    if not IN_PYODIDE:
        return None
    try:
        import cortexkg_kernel  # a JS module (typed by py/cortexkg_kernel.pyi)
    except ImportError:
        return None
    return cortexkg_kernel
