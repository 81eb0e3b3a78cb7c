"""The engine's configuration: its settings, their limits, and the check of a whole set.

The engine checks the configuration it is built with, the facade the one it is given,
and a snapshot the one it stores; all three use :func:`check_config`, so a configuration
accepted anywhere can be built everywhere.
"""

from __future__ import annotations

from . import fields as fdef
from . import validation as check
from .errors import InvalidInputError

# The configuration of an engine nobody configured: CortexKGConfig's defaults, and (under
# the JavaScript API's names, through cortexkg.tables) CortexKG.create's.
ENGINE_DEFAULTS = {
    "column_count": 1024,
    "enable_simd": True,
    "strategy": "first_fit",
    "dim": 0,
    "refractory_ms": 0.0,
    "seed": 0,
    "activation_half_life_ms": 0.0,
    "backend": "auto",
}
STRATEGIES = ("first_fit", "affinity")
# The largest engine that can be held and persisted (snapshot, export, import and reset,
# when two engines coexist) in Pyodide's 32-bit memory, with a margin of about 2x:
# measured with build/measure_limits.py (docs/bench/notes.md, "Size limits"). The same
# limits apply under CPython, so that every engine can move to the browser.
MAX_COLUMNS = 1 << 23
MAX_FIELD_FLOATS = 1 << 25  # columns × stride (dim rounded up to a multiple of 4)
SIZE_REASON = "the most an engine can hold and persist in Pyodide's 32-bit memory"
MAX_DIM = 4096


def check_config(column_count, enable_simd, strategy, dim, refractory_ms, seed,
                 activation_half_life_ms=0.0) -> dict:
    """The validated engine configuration (raises :class:`InvalidInputError` naming the
    bad value)."""
    if type(enable_simd) is not bool:
        raise InvalidInputError(
            f"Invalid enable_simd {check.quoted(enable_simd)}: expected True or False")
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"Invalid strategy {check.quoted(strategy)}: expected one of "
                                f"{', '.join(STRATEGIES)}")
    column_count = check.non_negative_int("column_count", column_count, maximum=MAX_COLUMNS,
                                          reason=SIZE_REASON)
    dim = check.non_negative_int("dim", dim, maximum=MAX_DIM)
    if column_count * fdef.stride_of(dim) > MAX_FIELD_FLOATS:
        raise InvalidInputError(
            f"Invalid dim {dim} for {column_count} columns: columns × dim (dim rounded up to "
            f"a multiple of 4) must be at most {MAX_FIELD_FLOATS} ({SIZE_REASON})")
    return {
        "column_count": column_count,
        "enable_simd": enable_simd,
        "strategy": strategy,
        "dim": dim,
        "refractory_ms": check.non_negative_finite("refractory_ms", refractory_ms),
        "seed": check.non_negative_int("seed", seed, maximum=fdef.MAX_SEED),
        "activation_half_life_ms": check.non_negative_finite(
            "activation_half_life_ms", activation_half_life_ms),
    }
