"""The reference scans: plain Python, the definition every other backend must match."""

from __future__ import annotations

import math
import re
from array import array
from typing import Sequence

from .. import fields as fdef
from ..columns import ALLOCATED, AVAILABLE, REFRACTORY
from ..concept_index import EMPTY, probes
from ..errors import InternalError


class ReferenceScans:
    """Pure-Python column scans (the test oracle and the last fallback)."""

    name = "reference"

    def count(self, state: bytearray, value: int) -> int:
        return state.count(value)

    def indices(self, state: bytearray, value: int, stop: int) -> list[int]:
        out = []
        column = state.find(value, 0, stop)
        while column != -1:
            out.append(column)
            column = state.find(value, column + 1, stop)
        return out

    def largest_run(self, state: bytearray, value: int) -> int:
        runs = re.finditer(re.escape(bytes([value])) + b"+", state)
        return max((match.end() - match.start() for match in runs), default=0)

    def gather(self, buffer, columns: Sequence[int]) -> list:
        return [buffer[column] for column in columns]

    def count_between(self, buffer, columns: Sequence[int] | None, low: float, high: float) -> int:
        values = buffer if columns is None else (buffer[column] for column in columns)
        return sum(1 for value in values if low <= value <= high)

    def best_match(self, state: bytearray, fields, stride: int, query) -> tuple[int, float]:
        best, best_key, best_score = -1, 0.0, 0.0
        for column in self.indices(state, AVAILABLE, len(state)):
            score = fdef.dot(fields, column * stride, query)
            key = float("-inf") if score != score else score
            if best == -1 or key > best_key:
                best, best_key, best_score = column, key, score
        return best, (math.nan if best_score != best_score else best_score)

    def init_fields(self, fields, dim: int, stride: int, seed: int) -> None:
        key = fdef.stream_key(seed, fdef.FIELD_STREAM)
        for column in range(len(fields) // stride if stride else 0):
            row = fdef.normalize(fdef.uniforms(key, column * dim, dim), stride)
            fields[column * stride : (column + 1) * stride] = row

    def compact(self, state: bytearray, usage, buffers) -> array:
        slots = [c for c in range(len(state)) if state[c] != REFRACTORY]
        allocated = [c for c in slots if state[c] == ALLOCATED]
        allocated.sort(key=lambda c: -usage[c])  # stable: ties keep column order
        sources = allocated + [c for c in slots if state[c] == AVAILABLE]
        moves = [(dst, src) for dst, src in zip(slots, sources) if dst != src]
        for buffer, width in buffers:
            rows = [buffer[src * width : (src + 1) * width] for _, src in moves]
            for (dst, _), row in zip(moves, rows):
                buffer[dst * width : (dst + 1) * width] = row
        return array("I", [dst for dst, src in zip(slots, allocated) if dst != src])

    def scatter(self, buffer, indices: Sequence[int], values: Sequence[int]) -> None:
        if len(indices) != len(values):
            raise InternalError(f"scatter needs as many values as indices: {len(values)} "
                             f"for {len(indices)}")
        if any(not 0 <= i < len(buffer) for i in indices):
            raise IndexError(f"scatter index outside the {len(buffer)} items")
        for i, value in zip(indices, values):
            buffer[i] = value

    def without(self, buffer, value: int):
        return array(buffer.typecode, [item for item in buffer if item != value])

    def index_get(self, values, concept, keys: Sequence[int]) -> array:
        slot = probes(values, concept)[1]
        return array("I", [values[slot(key)] for key in keys])

    def index_insert(self, values, concept, columns: Sequence[int]) -> bool:
        keys = self.gather(concept, columns)  # IndexError before any write
        slot = probes(values, concept)[1]
        for key, column in zip(keys, columns):
            s = slot(key)
            if values[s] != EMPTY:
                return False
            values[s] = column
        return True
