"""How many examples a property test runs: all of them on CPython; a quarter inside Pyodide.

Inside Pyodide (tests/browser/test_unit_in_pyodide.py) the same properties run again to
show that the code holds on that platform (32-bit WebAssembly, Pyodide's float and
integer handling), where an example costs two to three times what it costs on CPython;
the full search for counterexamples is CPython's run.
"""

from __future__ import annotations

import sys

IN_PYODIDE = sys.platform == "emscripten"


def examples(count: int) -> int:
    """``count`` on CPython, a quarter of it (at least 10) inside Pyodide."""
    return max(10, count // 4) if IN_PYODIDE else count
