"""Replacing a session's engine: recovery from the stored snapshot and journal, the
records another tab's writer committed (a read-only follower), and imports and resets,
adopted only once stored. :class:`SessionState` is a base of
:class:`~cortexkg.session.Session`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from . import exchange
from ._js_values import RECORDS_DEPTH, bytes_source, engine_config, from_js, options_of, snapshot_source
from .engine import AllocationEngine
from .errors import InvalidInputError, StateError
from .facade import CortexKGConfig
from .journal import replay
from .snapshot import Snapshot
from .validation import quoted


class SessionState:
    """The engine replacements of a :class:`~cortexkg.session.Session` (which provides
    ``kg``, ``name``, ``_tape``, ``_host``, ``_replaying``, ``_pending`` and ``describe``)."""

    def recover(self, snapshot: Any, records: Any, options: Any = None) -> dict:
        """Replace the engine by ``snapshot`` ({"bytes"} or None) + journal ``records``;
        without a snapshot the journal starts from a new engine with the stored
        ``options``. StateError when they do not reproduce a valid engine (the current
        engine is then left as it was). Returns what was restored."""
        data, records = snapshot_source(snapshot), from_js(records, RECORDS_DEPTH)
        with self._tape.new_history():
            engine = self._recovered(data, records, options)
        self.kg.replace_engine(engine)
        return {"snapshot": snapshot is not None, "records": len(records),
                "allocated": engine.get_allocated_count(), "columns": engine.column_count}

    def _recovered(self, data: Any, records: list,
                   options: Any) -> AllocationEngine:
        if data is not None:
            parsed = Snapshot.from_bytes(data)
            clock = parsed.header.get("clock_ms")
            if type(clock) not in (int, float):
                raise StateError("Stored snapshot lacks the clock reading it was taken at")
            with self._tape.play([clock]):
                engine = AllocationEngine.restore(
                    parsed, backend=self.kg.config.backend, host=self._host)
        else:
            try:
                config = engine_config(options_of(options))
            except InvalidInputError as error:
                raise StateError(f"Stored engine options are invalid: {error}") from error
            # the stored options, run by this session's backend (as a snapshot would be)
            config = replace(config, backend=self.kg.config.backend)
            engine = AllocationEngine(**asdict(config), host=self._host)
        if records:  # restore validated the snapshot; what replay changed is checked here
            self._apply(engine, records)
            engine.validate()
        return engine

    def apply(self, records: Any) -> int:
        """Replay records committed by another tab's writer (a read-only follower)."""
        records = from_js(records, RECORDS_DEPTH)
        self._apply(self.kg.engine, records)
        return len(records)

    def _apply(self, engine: AllocationEngine, records: list) -> None:
        self._replaying = True
        try:
            replay(engine, self._tape, records)
        finally:
            self._replaying = False

    def snapshot(self) -> bytes:
        """The engine's snapshot bytes (for compaction)."""
        return b"".join(self.kg.engine.snapshot_parts())

    def prepare_replace(self, kind: str, payload: Any) -> bytes:
        """Validate an import (``payload``: export bytes) or a reset (``payload``: engine
        options) and return the snapshot bytes to store; :meth:`commit_replace` adopts it
        once stored, so a failed write changes nothing."""
        if kind == "import":
            engine = AllocationEngine.restore(
                exchange.unpack(bytes_source(payload)), backend=self.kg.config.backend, host=self._host)
        elif kind != "reset":
            raise InvalidInputError(
                f"Invalid replace kind {quoted(kind)}: expected 'import' or 'reset'")
        else:
            engine = AllocationEngine(**asdict(self._reset_config(payload)), host=self._host)
        self._pending = engine
        return b"".join(engine.snapshot_parts())

    def _reset_config(self, options: Any) -> CortexKGConfig:
        """The configuration of a reset: ``options`` over the current one; the name, if
        given, must be this engine's (a reset replaces the state, not the database)."""
        options = options_of(options)
        name = options.get("name", self.name)
        if name != self.name:
            raise InvalidInputError(f"reset() cannot rename the engine {quoted(self.name)} to "
                                    f"{quoted(name)}: open another with CortexKG.create({{name}})")
        return engine_config({**self.describe(), **options})

    def commit_replace(self) -> dict:
        """Adopt the engine of the last :meth:`prepare_replace`."""
        engine, self._pending = self._pending, None
        if engine is None:
            raise StateError("Nothing to commit: prepare_replace was not called")
        self.kg.replace_engine(engine)
        return self.describe()
