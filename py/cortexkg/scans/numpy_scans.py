"""numpy scans: zero-copy views of the engine's buffers, identical results to reference."""

from __future__ import annotations

import math
from array import array
from typing import Sequence

import numpy as np

from .. import fields as fdef
from . import ALLOCATED, AVAILABLE, REFRACTORY

_FIELD_CHUNK = 1 << 16  # columns per chunk when generating fields (bounds temporaries)


def _view(buffer) -> np.ndarray:
    """A writable numpy view of a bytearray or array.array, typed by its buffer format."""
    return np.asarray(memoryview(buffer))


def _mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class NumpyScans:
    """Vectorized column scans over numpy views."""

    name = "numpy"

    def count(self, state: bytearray, value: int) -> int:
        return int(np.count_nonzero(_view(state) == value))

    def indices(self, state: bytearray, value: int, stop: int) -> list[int]:
        return np.flatnonzero(_view(state)[:stop] == value).tolist()

    def largest_run(self, state: bytearray, value: int) -> int:
        if not len(state):
            return 0
        edges = np.diff(np.concatenate(([0], _view(state) == value, [0])).astype(np.int8))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        return int((ends - starts).max()) if len(starts) else 0

    def gather(self, buffer, columns: Sequence[int]) -> list:
        return _view(buffer)[np.asarray(columns, dtype=np.intp)].tolist()

    def count_between(self, buffer, columns: Sequence[int] | None, low: float, high: float) -> int:
        values = _view(buffer)
        if columns is not None:
            values = values[np.asarray(columns, dtype=np.intp)]
        if values.dtype == np.float32:
            # numpy would round the bounds to float32 first (NEP 50); Python compares exactly
            values = values.astype(np.float64)
        return int(np.count_nonzero((values >= low) & (values <= high)))

    def best_match(self, state: bytearray, fields, stride: int, query) -> tuple[int, float]:
        st = _view(state)
        available = st == AVAILABLE
        if not available.any():
            return -1, 0.0
        groups = stride // 4
        field = _view(fields).reshape(len(st), groups, 4)
        q = _view(query).reshape(groups, 4)
        acc = np.zeros((len(st), 4), dtype=np.float32)
        with np.errstate(all="ignore"):  # inf and NaN follow IEEE rules, by definition
            for g in range(groups):  # the defined order: lane accumulators, group by group
                acc += field[:, g, :] * q[g]
            scores = (acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])
        keys = np.where(available & ~np.isnan(scores), scores, np.float32(-np.inf))
        best = int(np.argmax(keys))
        if keys[best] == -np.inf:  # every available score is NaN or -inf: all tie
            best = int(np.argmax(available))
        score = float(scores[best])
        return best, (math.nan if score != score else score)

    def init_fields(self, fields, dim: int, stride: int, seed: int) -> None:
        if not stride:
            return
        out = _view(fields).reshape(-1, stride)
        key = np.uint64(fdef.stream_key(seed, fdef.FIELD_STREAM))
        for start in range(0, len(out), _FIELD_CHUNK):
            rows = min(_FIELD_CHUNK, len(out) - start)
            counters = np.arange(start * dim, (start + rows) * dim, dtype=np.uint64)
            words = _mix64(key + counters * np.uint64(fdef.GOLDEN))
            values = ((words >> np.uint64(40)).astype(np.int64) - 0x800000) / 0x800000
            values = values.reshape(rows, dim)
            scaled = values / np.abs(values).max(axis=1)[:, None]
            sums = np.zeros(rows)
            for j in range(dim):  # sequential, as the definition sums
                sums += scaled[:, j] * scaled[:, j]
            out[start : start + rows, :dim] = (scaled / np.sqrt(sums)[:, None]).astype(np.float32)
            out[start : start + rows, dim:] = 0

    def compact(self, state: bytearray, usage, buffers) -> array:
        st = _view(state)
        slots = np.flatnonzero(st != REFRACTORY)
        is_allocated = st[slots] == ALLOCATED
        allocated = slots[is_allocated]
        order = np.argsort(-_view(usage)[allocated].astype(np.int64), kind="stable")
        sources = np.concatenate((allocated[order], slots[~is_allocated]))
        moved = slots != sources
        dst, src = slots[moved], sources[moved]
        for buffer, width in buffers:
            view = _view(buffer)
            if width > 1:
                view = view.reshape(-1, width)
            view[dst] = view[src]
        m = len(allocated)
        return array("I", slots[:m][moved[:m]].astype(np.uint32).tobytes())
