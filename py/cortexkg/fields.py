"""Receptive fields: the deterministic PRNG, normalization and the dot product's definition.

Everything here is the *definition* that every scan backend must reproduce bit for bit.

PRNG (counter based, so a vectorized implementation is trivial)::

    mix64(z)  = splitmix64 finalizer:
                z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9
                z = (z ^ z >> 27) * 0x94D049BB133111EB
                z ^ z >> 31                                  (all mod 2**64)
    key       = mix64(seed ^ stream)           stream: FIELD_STREAM or CONCEPT_STREAM
    word(i)   = mix64(key + i * 0x9E3779B97F4A7C15)
    uniform(i)= ((word(i) >> 40) - 2**23) / 2**23             exact float32 in [-1, 1)

Column ``c``'s initial field uses FIELD_STREAM with ``i = c * dim + j`` for component ``j``;
the embedding derived from concept id ``k`` uses CONCEPT_STREAM with ``i = k * dim + j``.

Normalization (float64, then rounded once to float32)::

    m = max |x_j|;  u_j = x_j / m;  s = sum of u_j * u_j in order j = 0, 1, ...
    out_j = float32(u_j / sqrt(s))

Dot product of a field and a query, both float32 and zero-padded to ``stride`` (a multiple
of 4): four lane accumulators ``acc[l]`` start at +0.0; for each group ``g`` of four,
``acc[l] = f32(acc[l] + f32(field[4g+l] * query[4g+l]))``; finally
``score = f32(f32(acc[0] + acc[1]) + f32(acc[2] + acc[3]))``. Every operation rounds to
float32 (no fused multiply-add); this is exactly what a 4-lane SIMD loop computes.
"""

from __future__ import annotations

import math
from array import array

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
FIELD_STREAM = 0x243F6A8885A308D3
CONCEPT_STREAM = 0x13198A2E03707344
MAX_SEED = M64


def mix64(z: int) -> int:
    """splitmix64's output function."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def stream_key(seed: int, stream: int) -> int:
    """The key of one PRNG stream for a seed."""
    return mix64(seed ^ stream)


def uniforms(key: int, first: int, count: int) -> list[float]:
    """``count`` uniforms in [-1, 1) of the stream ``key``, from counter ``first``."""
    return [
        ((mix64((key + i * GOLDEN) & M64) >> 40) - 0x800000) / 0x800000
        for i in range(first, first + count)
    ]


def stride_of(dim: int) -> int:
    """Floats per column in the fields buffer: dim padded to a multiple of 4."""
    return (dim + 3) & ~3


def normalize(values: list[float], stride: int) -> array:
    """Unit vector of ``values`` as float32, zero-padded to ``stride`` (see module doc)."""
    m = max(abs(x) for x in values)
    scaled = [x / m for x in values]
    s = 0.0
    for u in scaled:
        s += u * u
    norm = math.sqrt(s)
    out = array("f", [u / norm for u in scaled])
    out.extend(array("f", bytes(4 * (stride - len(values)))))
    return out


def derived_embedding(seed: int, concept_id: int, dim: int, stride: int) -> array:
    """The deterministic unit embedding of a concept given without one."""
    return normalize(uniforms(stream_key(seed, CONCEPT_STREAM), concept_id * dim, dim), stride)


def dot(fields: array, offset: int, query: array) -> float:
    """The defined float32 dot product of ``fields[offset:offset+stride]`` and ``query``."""
    stride = len(query)
    products = array("f", [fields[offset + i] * query[i] for i in range(stride)])
    cell = array("f", [0.0])  # assigning to it rounds a float64 to float32

    def f32(x: float) -> float:
        cell[0] = x
        return cell[0]

    acc = [0.0, 0.0, 0.0, 0.0]
    for base in range(0, stride, 4):
        for lane in range(4):
            acc[lane] = f32(acc[lane] + products[base + lane])
    return f32(f32(acc[0] + acc[1]) + f32(acc[2] + acc[3]))
