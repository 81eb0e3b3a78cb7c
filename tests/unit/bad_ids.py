"""Values that are not concept ids, for the property tests of each layer that checks them.

A concept id is an int (or numpy integer scalar) in 0..2**32-1; bools, floats (whole ones
too), text, bytes, None and containers are not. ``bad_ids()`` draws ``(value, shown)``:
a bad id and the text an error message must contain to name it. ``js_bad_ids()`` draws
only what JavaScript can pass (numbers, strings, null, booleans, arrays).

``shown`` is written here, not taken from cortexkg.validation.quoted, so a message that
names the value wrongly fails; the values are short enough to be quoted whole.
"""

from __future__ import annotations

import hypothesis.strategies as st

from optional_numpy import np

MAX_CONCEPT_ID = 2**32 - 1


def _shown(value) -> tuple:
    return value, repr(value)


_JS_VALUES = st.one_of(
    st.integers(max_value=-1, min_value=-(2**64)),
    st.integers(min_value=MAX_CONCEPT_ID + 1, max_value=2**64),
    st.floats(),  # whole ones (3.0), nan and the infinities included
    st.text(max_size=12),  # "7" is no more an id than "x"
    st.none(),
    st.booleans(),  # True is not 1
    st.lists(st.integers(0, 9), max_size=3),  # nor is [1]
)


def js_bad_ids() -> st.SearchStrategy[tuple]:
    """(value, shown) for bad ids JavaScript can pass."""
    return _JS_VALUES.map(_shown)


def _numpy_bad_ids() -> st.SearchStrategy[tuple]:
    # numpy 2 reprs np.float64(3.0) as "np.float64(3.0)", numpy 1 as "3.0": str is in both
    scalars = st.one_of(
        st.floats(allow_nan=False, width=64).map(np.float64),
        st.integers(-(2**63), -1).map(np.int64),
        st.booleans().map(np.bool_),
    )
    return scalars.map(lambda v: (v, str(v)))


def bad_ids() -> st.SearchStrategy[tuple]:
    """(value, shown) for bad ids Python can pass: JavaScript's, bytes, numpy scalars."""
    python = st.one_of(_JS_VALUES, st.binary(max_size=6), st.tuples(st.integers(0, 9))).map(_shown)
    return st.one_of(python, _numpy_bad_ids()) if np is not None else python


def good_ids() -> st.SearchStrategy[int]:
    """Valid ids, the range bounds drawn often."""
    return st.one_of(st.sampled_from([0, MAX_CONCEPT_ID]), st.integers(0, MAX_CONCEPT_ID))
