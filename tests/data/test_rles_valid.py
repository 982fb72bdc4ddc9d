"""nas.data.rle.rles_valid: the batch verdict is rle_counts's, on valid and broken RLEs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nas.data.rle import rle_counts, rle_encode, rles_valid


def _accepted(rle: Any) -> bool:
    try:
        rle_counts(rle)
    except ValueError:
        return False
    return True


def _broken(rng: np.random.Generator, kind: int) -> Any:
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    rle = rle_encode(rng.random((h, w)) < rng.random())
    s = rle["counts"]
    if kind == 1:  # cut short: inside a number, or whole runs missing
        s = s[:-int(rng.integers(1, len(s) + 1))]
    elif kind == 2:  # a character inserted, maybe outside the alphabet
        at = int(rng.integers(len(s) + 1))
        s = s[:at] + chr(int(rng.integers(40, 130))) + s[at:]
    elif kind == 3:  # noise
        s = "".join(chr(int(c)) for c in rng.integers(48, 112, rng.integers(0, 20)))
    elif kind == 4:  # the size of another mask
        rle["size"] = [h + 1, w]
    elif kind == 5:  # runs appended
        s = s + s[-2:]
    elif kind == 6:  # uncompressed counts, some negative
        return {"size": [h, w], "counts": [int(x) for x in rng.integers(-2, h * w, 3)]}
    elif kind == 7:  # a float size
        return {"size": [float(h), w], "counts": s}
    return {**rle, "counts": s}


def test_batch_agrees_with_one_by_one() -> None:
    rng = np.random.default_rng(0)
    pool = [_broken(rng, k % 8) for k in range(3000)]
    pool += [{"size": [0, 0], "counts": ""}, {"size": [2, 2], "counts": "4"}, "not an rle", {"size": [2, 2]},
             {"size": [1, 1], "counts": "PPPPPPPPPPPP1"},  # a run of 2^60 pixels
             {"size": [0, 0], "counts": "PPPPPPPPPPPP0"},  # a run of 0 written in 13 groups: valid, if odd
             {"size": [256, 256], "counts": "o" * 50 + "1"}]  # a run past int64
    want = np.array([_accepted(r) for r in pool])
    assert 300 < want.sum() < len(pool) - 300  # both verdicts well represented
    np.testing.assert_array_equal(rles_valid(pool), want)
    assert rles_valid([]).shape == (0,)


def test_run_past_int64_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too large"):
        rle_counts({"size": [256, 256], "counts": "o" * 50 + "1"})
