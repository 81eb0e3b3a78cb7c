"""numpy for the tests that need it, and clean skips where it is missing.

numpy is the CPython scan backend; Pyodide has no registry wheel for it, so the same unit
tests also run without it (in Chromium, see tests/browser/test_unit_in_pyodide.py). A
test that needs numpy says so, and is reported as skipped there instead of failing:

- ``np``: the numpy module, or None;
- ``needs_numpy``: the skip mark of such a test (or parameter);
- ``numpy_param(make, *rest, id=...)``: a parameter whose value numpy builds, ``make(np)``;
- ``backend_marks(backend)``: the marks of a parameter that uses that scan backend;
- ``BACKEND_PARAMS``: both scan backends as parameters, the numpy one marked;
- ``BACKENDS``: the scan backends of this interpreter, for ``st.sampled_from``.
"""

from __future__ import annotations

from typing import Callable

import pytest

try:
    import numpy as np
except ImportError:
    np = None

needs_numpy = pytest.mark.skipif(np is None, reason="numpy is not installed")

BACKENDS = ["numpy", "reference"] if np is not None else ["reference"]


def numpy_param(make: Callable, *rest, id: str):
    """``pytest.param(make(np), *rest, id=id)``; without numpy, a skipped stand-in."""
    if np is None:
        return pytest.param(None, *rest, id=id, marks=needs_numpy)
    return pytest.param(make(np), *rest, id=id)


def backend_marks(backend: str):
    """``needs_numpy`` for the numpy backend, no mark for the others."""
    return needs_numpy if backend == "numpy" else ()


BACKEND_PARAMS = [pytest.param(backend, marks=backend_marks(backend))
                  for backend in ("numpy", "reference")]
