"""GPS normalisation: DensePose's per-coarse-part geodesic scale ``k`` (metres).

DensePose's GPS scores a point by ``exp(-g^2 / (2 k^2))`` where ``g`` is the geodesic
error on the body surface and ``k`` the mean geodesic distance between points of the
ground-truth point's coarse body part on the SMPL body (DensePose's own constants).
The 24 fine parts group into 8 coarse GPS parts (not the 14 ``dp_masks`` parts).
"""

from __future__ import annotations

import numpy as np

__all__ = ["GPS_PART_NAMES", "GPS_PART_K", "FINE_TO_GPS_PART", "point_k"]

GPS_PART_NAMES: tuple[str, ...] = (
    "background",
    "torso",
    "hands",
    "feet",
    "upper legs",
    "lower legs",
    "upper arms",
    "lower arms",
    "head",
)
"""Name of GPS part ``c`` (index 0: background, never used for a ground-truth point)."""

GPS_PART_K: np.ndarray = np.array([0.0, 0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.150])
"""``GPS_PART_K[c]``: normalising geodesic distance of GPS part ``c``, metres."""

FINE_TO_GPS_PART: np.ndarray = np.array(
    # bg, torso x2, hands x2, feet x2, upper legs x4, lower legs x4, upper arms x4,
    # lower arms x4, head x2 (fine parts in DensePose order, see nas.data.parts)
    [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8],
    dtype=np.int64,
)
"""``FINE_TO_GPS_PART[I]``: GPS part of fine part ``I`` (0..24)."""


def point_k(fine_part: np.ndarray) -> np.ndarray:
    """Normalising distance ``k`` (metres) of each ground-truth point from its fine part 1..24."""
    return GPS_PART_K[FINE_TO_GPS_PART[np.asarray(fine_part, dtype=np.int64)]]
