"""The ``wasm`` scan backend for the tests that use it, and clean skips where it is missing.

Under CPython ``backend="wasm"`` runs ``kernel.wat`` under wasmtime (a development
dependency, see ``cortexkg.scans.wasmtime_kernel``); inside Pyodide it is the kernel the
page loaded on Pyodide's own memory. Where neither exists, these tests are skipped:

- ``wasm_scans``: a ``WasmScans`` on this platform's kernel, or None;
- ``needs_wasm``: the skip mark of a test (or parameter) that needs it;
- ``WASM_BACKENDS``: ``["wasm"]`` or ``[]``, to add to a list of backends;
- ``WASM_BACKEND_PARAMS``: the wasm backend as a (skipped where missing) parameter.
"""

from __future__ import annotations

import pytest

from cortexkg.scans import select_scans

try:
    wasm_scans = select_scans("wasm")
except ValueError:
    wasm_scans = None

needs_wasm = pytest.mark.skipif(wasm_scans is None, reason="no WebAssembly kernel here "
                                "(under CPython it needs wasmtime: pip install -e .[dev])")
WASM_BACKENDS = ["wasm"] if wasm_scans is not None else []
WASM_BACKEND_PARAMS = [pytest.param("wasm", marks=needs_wasm)]
