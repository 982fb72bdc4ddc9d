"""DensePose body-part tables: fine parts (``dp_I``), coarse parts (``dp_masks``), flips.

Fine parts are numbered 1..24 in DensePose's order; coarse parts 1..14 index the 14
``dp_masks`` entries. Index 0 means background in every table below, so a table can be
applied to a label map directly (``FINE_FLIP[I]``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_FINE_PARTS",
    "N_COARSE_PARTS",
    "FINE_PART_NAMES",
    "COARSE_PART_NAMES",
    "FINE_TO_COARSE",
    "FINE_FLIP",
    "COARSE_FLIP",
]

N_FINE_PARTS = 24
N_COARSE_PARTS = 14

# Index i (1-based) names fine part i; entry 0 is background.
FINE_PART_NAMES: tuple[str, ...] = (
    "background",
    "torso back",
    "torso front",
    "right hand",
    "left hand",
    "left foot",
    "right foot",
    "upper leg right back",
    "upper leg left back",
    "upper leg right front",
    "upper leg left front",
    "lower leg right back",
    "lower leg left back",
    "lower leg right front",
    "lower leg left front",
    "upper arm left inside",
    "upper arm right inside",
    "upper arm left outside",
    "upper arm right outside",
    "lower arm left inside",
    "lower arm right inside",
    "lower arm left outside",
    "lower arm right outside",
    "head right",
    "head left",
)

# Index i (1-based) names coarse part i, i.e. dp_masks[i - 1].
COARSE_PART_NAMES: tuple[str, ...] = (
    "background",
    "torso",
    "right hand",
    "left hand",
    "left foot",
    "right foot",
    "upper leg right",
    "upper leg left",
    "lower leg right",
    "lower leg left",
    "upper arm left",
    "upper arm right",
    "lower arm left",
    "lower arm right",
    "head",
)

FINE_TO_COARSE: np.ndarray = np.array(
    [0, 1, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 14],
    dtype=np.int64,
)
"""``FINE_TO_COARSE[I]`` is the coarse part (dp_masks index + 1) of fine part ``I``."""

FINE_FLIP: np.ndarray = np.array(
    [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23],
    dtype=np.int64,
)
"""Fine part seen at the same place after a horizontal image flip (left <-> right)."""

COARSE_FLIP: np.ndarray = np.array(
    [0, 1, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 14],
    dtype=np.int64,
)
"""Coarse part seen at the same place after a horizontal image flip."""
