"""Type stub of ``js``, Pyodide's module for the JavaScript global scope, limited to the
names cortexkg uses (only ``cortexkg.host`` imports ``js``; tests/unit/test_stubs.py
checks that each name it reads is declared here).
"""

class _Performance:
    """The page's or worker's ``performance`` object."""

    timeOrigin: float  # ms since the Unix epoch at which now() read 0
    def now(self) -> float: ...

class Date:
    @staticmethod
    def now() -> float: ...  # ms since the Unix epoch

class _Console:
    def log(self, *data: object) -> None: ...

performance: _Performance
console: _Console
