"""How the evaluator reads predictions: DensePose's official rules by default.

Each field of :class:`EvalOptions` names one behaviour in which this project's
stricter definition departs from DensePose's official evaluator
(``densepose_cocoeval.py`` of the 2019 COCO DensePose challenge). The defaults
reproduce the official evaluator; the other values are kept as named options.

* ``wrong_part``: a point predicted on another part than the ground truth's.
  ``"geodesic"`` (official): scored by the geodesic from the ground-truth vertex to
  the predicted part's vertex nearest in (U, V). ``"zero"``: it scores 0.
* ``placement``: where a ground-truth point lies in a detection's map.
  ``"official"``: image position ``box + dp · size / 255``, then its offset from the
  detection's corner truncated to whole pixels, inside when ``0 <= offset <
  int(detection size)``; a map that is not the box's whole-pixel size is first
  resampled to it (nearest, cell centres). ``"frame256"``: DensePose-COCO's 256-cell
  box frame (``dp · size / 256``, as the data loader reads it) and cell
  ``floor(offset · map size / box size)`` of a map of any size.
* ``masks``: person masks for GPSm and IOU. ``"official"``: the ground truth's
  ``dp_masks`` as a part-label image (parts 1..14, later parts on top) resized
  bilinearly to the box's whole-pixel size, then ``> 0.5``; a person without
  ``dp_masks`` has an empty mask; masks are pasted at the box's truncated corner.
  ``"nearest"``: the merged ``dp_masks`` resampled by nearest neighbour, falling back
  to ``segmentation`` and then the box; pasted at the floored corner with rounded size.
* ``ignore_rule``: detections overlapping an ignore region (box IoU >= 0.8).
  ``"official"``: decided once, for detections unmatched at the last threshold
  (0.95), and that outcome set for every threshold. ``"per-threshold"``: decided at
  each threshold among the detections unmatched at it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from nas.errors import EvalError

__all__ = ["WrongPart", "Placement", "MaskRule", "IgnoreRule", "EvalOptions", "OFFICIAL", "PROJECT", "OPTION_CHOICES"]

WrongPart = Literal["geodesic", "zero"]
Placement = Literal["official", "frame256"]
MaskRule = Literal["official", "nearest"]
IgnoreRule = Literal["official", "per-threshold"]

OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "wrong_part": ("geodesic", "zero"),
    "placement": ("official", "frame256"),
    "masks": ("official", "nearest"),
    "ignore_rule": ("official", "per-threshold"),
}
"""Allowed values of each option; the first is the official behaviour (the default)."""


@dataclass(frozen=True)
class EvalOptions:
    """One choice per behaviour; the defaults are DensePose's official evaluator.

    Raises:
        EvalError: a value is not one of :data:`OPTION_CHOICES`.
    """

    wrong_part: WrongPart = "geodesic"
    placement: Placement = "official"
    masks: MaskRule = "official"
    ignore_rule: IgnoreRule = "official"

    def __post_init__(self) -> None:
        for f in fields(self):
            val, allowed = getattr(self, f.name), OPTION_CHOICES[f.name]
            if val not in allowed:
                raise EvalError(f"{f.name} must be one of {', '.join(allowed)} (first: official), got {val!r}")


OFFICIAL = EvalOptions()
"""DensePose's official evaluator (the default everywhere)."""

PROJECT = EvalOptions(wrong_part="zero", placement="frame256", masks="nearest", ignore_rule="per-threshold")
"""Every stricter project definition at once (the default before issue 35)."""
