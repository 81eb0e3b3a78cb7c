"""numpy scans: zero-copy views of the engine's buffers, identical results to reference."""

from __future__ import annotations

import math
from array import array
from typing import Sequence

import numpy as np

from .. import fields as fdef
from ..columns import ALLOCATED, AVAILABLE, REFRACTORY
from ..concept_index import EMPTY, HASH_MULTIPLIER
from ..errors import InternalError

_FIELD_CHUNK = 1 << 16  # columns per chunk when generating fields (bounds temporaries)


def _view(buffer) -> np.ndarray:
    """A writable numpy view of a bytearray or array.array, typed by its buffer format."""
    return np.asarray(memoryview(buffer))


def _indices(items) -> np.ndarray:
    if isinstance(items, range):
        return np.arange(items.start, items.stop, items.step, dtype=np.intp)
    return np.asarray(items, dtype=np.intp)


def _home(capacity: int, keys: np.ndarray) -> np.ndarray:
    shift = np.uint32(33 - capacity.bit_length())  # 32 - bits
    return ((keys * np.uint32(HASH_MULTIPLIER)) >> shift).astype(np.intp)


def _find(values: np.ndarray, concept: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The slot of each wanted key, or the free slot where its probe ends: probe rounds,
    each over the keys that have not arrived yet."""
    at = _home(len(values), wanted)
    pending = np.arange(len(wanted))
    mask = len(values) - 1
    while len(pending):
        columns = values[at[pending]]
        going = columns != EMPTY
        going[going] = concept[columns[going]] != wanted[pending[going]]
        pending = pending[going]
        at[pending] = (at[pending] + 1) & mask
    return at


def _build(values: np.ndarray, keys: np.ndarray, columns: np.ndarray) -> bool:
    """index_insert into an empty table without probing: in the order of their home
    slots, keys take consecutive free slots (p[i] = max(home[i], p[i-1] + 1)), wrapping
    past the last slot, which is a valid linear-probing layout. False when keys repeat."""
    sorted_keys = np.sort(keys)
    if (sorted_keys[1:] == sorted_keys[:-1]).any():
        return False
    capacity, n = len(values), len(keys)
    # one sort of (home, input position) pairs packed into u64
    pairs = np.sort((_home(capacity, keys).astype(np.uint64) << np.uint64(32))
                    | np.arange(n, dtype=np.uint64))
    step = np.arange(n, dtype=np.int64)
    rise = np.maximum.accumulate((pairs >> np.uint64(32)).astype(np.int64) - step)
    wrapped = 0  # keys past the last slot continue from slot 0, before any other
    while True:
        slots = np.maximum(rise, wrapped) + step
        over = int(np.count_nonzero(slots >= capacity))
        if over == wrapped:
            break
        wrapped = over
    values[slots & (capacity - 1)] = columns[(pairs & np.uint64(0xFFFFFFFF)).astype(np.intp)]
    return True


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

    def scatter(self, buffer, indices: Sequence[int], values: Sequence[int]) -> None:
        if len(indices) != len(values):
            raise InternalError(f"scatter needs as many values as indices: {len(values)} "
                             f"for {len(indices)}")
        view, where = _view(buffer), _indices(indices)
        if len(where) and not 0 <= where.min() <= where.max() < len(view):
            raise IndexError(f"scatter index outside the {len(view)} items")
        view[where] = _indices(values)

    def without(self, buffer, value: int):
        view = _view(buffer)
        return array(buffer.typecode, view[view != value].tobytes())

    def index_get(self, values, concept, keys: Sequence[int]) -> array:
        values, wanted = _view(values), np.asarray(keys, dtype=np.uint32)
        return array("I", values[_find(values, _view(concept), wanted)].tobytes())

    def index_insert(self, values, concept, columns: Sequence[int]) -> bool:
        values, concept, columns = _view(values), _view(concept), _indices(columns)
        keys = concept[columns]  # IndexError before any write
        if len(keys) > len(values) // 64 and not (values != EMPTY).any():
            return _build(values, keys, columns)
        at = _home(len(values), keys)
        pending = np.arange(len(keys))
        owner = np.empty(len(values), dtype=np.intp)
        mask = len(values) - 1
        while len(pending):  # rounds: each key takes its slot if free, else moves on
            where = at[pending]
            held = values[where]
            free = held == EMPTY
            occupied = pending[~free]
            if (concept[held[~free]] == keys[occupied]).any():
                return False  # already present, or placed earlier in this call
            at[occupied] = (at[occupied] + 1) & mask
            contenders, spots = pending[free], where[free]
            owner[spots] = contenders  # one of several contenders for a free slot wins
            won = owner[spots] == contenders
            values[spots[won]] = columns[contenders[won]]
            placed = np.zeros(len(pending), dtype=bool)
            placed[np.flatnonzero(free)[won]] = True
            # the losers stay: next round they compare with the winner, then move on
            pending = pending[~placed]
        return True
