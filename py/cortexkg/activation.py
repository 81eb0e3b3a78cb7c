"""A column's activation and usage: raised by use, halved by time.

Decay is computed when activation is read, never stored: a column keeps the activation of
its last activation and when that was (``activated_ms`` after its allocation), so time
passing costs nothing and a replay reading the same wall clock gets the same value.
"""

from __future__ import annotations

from .columns import ColumnStore

MAX_USAGE = 2**32 - 1  # usage is a u32 buffer: it saturates rather than wraps


def use(columns: ColumnStore, col: int, count: int) -> None:
    """Count ``count`` uses of column ``col``."""
    usage = columns.usage
    usage[col] = min(MAX_USAGE, usage[col] + count)


def decayed(columns: ColumnStore, col: int, wall_ms: float, half_life_ms: float) -> float:
    """Column ``col``'s activation at wall-clock ``wall_ms``: its stored activation halved
    every ``half_life_ms`` since its last activation (never grown by a clock set back)."""
    elapsed = wall_ms - columns.allocated_at[col] - columns.activated_ms[col]
    if elapsed <= 0.0:
        return columns.activation[col]
    return columns.activation[col] * 0.5 ** (elapsed / half_life_ms)


def activate(columns: ColumnStore, col: int, strength: float, half_life_ms: float,
             wall_ms: float) -> float:
    """Raise column ``col``'s activation by ``strength`` (to at most 1) and count a use;
    with a half-life, decay it to ``wall_ms`` first. Returns the new activation."""
    activation = columns.activation
    if half_life_ms:
        activation[col] = min(1.0, decayed(columns, col, wall_ms, half_life_ms) + strength)
        # a wall clock set back before the allocation counts as the allocation instant
        columns.activated_ms[col] = max(0.0, wall_ms - columns.allocated_at[col])
    else:
        activation[col] = min(1.0, activation[col] + strength)
    use(columns, col, 1)
    return activation[col]
