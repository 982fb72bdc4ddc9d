"""Human-readable table of evaluation metrics, in the spirit of COCO's summary."""

from __future__ import annotations

from typing import Mapping

from nas.eval.cocoeval import MAX_DETS, STAT_NAMES
from nas.eval.pairs import MODES

__all__ = ["format_summary"]

_ROWS: dict[str, str] = {
    "ap": f"Average Precision (AP) @[ thr=0.50:0.95 | area=   all | maxDets={MAX_DETS} ]",
    "ap50": f"Average Precision (AP) @[ thr=0.50      | area=   all | maxDets={MAX_DETS} ]",
    "ap75": f"Average Precision (AP) @[ thr=0.75      | area=   all | maxDets={MAX_DETS} ]",
    "apm": f"Average Precision (AP) @[ thr=0.50:0.95 | area=medium | maxDets={MAX_DETS} ]",
    "apl": f"Average Precision (AP) @[ thr=0.50:0.95 | area= large | maxDets={MAX_DETS} ]",
    "ar": f"Average Recall    (AR) @[ thr=0.50:0.95 | area=   all | maxDets={MAX_DETS} ]",
    "ar50": f"Average Recall    (AR) @[ thr=0.50      | area=   all | maxDets={MAX_DETS} ]",
    "ar75": f"Average Recall    (AR) @[ thr=0.75      | area=   all | maxDets={MAX_DETS} ]",
    "arm": f"Average Recall    (AR) @[ thr=0.50:0.95 | area=medium | maxDets={MAX_DETS} ]",
    "arl": f"Average Recall    (AR) @[ thr=0.50:0.95 | area= large | maxDets={MAX_DETS} ]",
}
_LABEL = {"gps": "GPS", "gpsm": "GPSm", "iou": "IOU"}


def format_summary(metrics: Mapping[str, float]) -> str:
    """A table with one row per statistic and one column per mode present in ``metrics``.

    Values print with three decimals; -1 (undefined: no person in the area range) as ``-``.
    """
    modes = [m for m in MODES if f"{m}_ap" in metrics]
    width = max(len(r) for r in _ROWS.values())
    head = " " * width + "".join(f"{_LABEL[m]:>8}" for m in modes)
    lines = [head.rstrip()]
    for stat in STAT_NAMES:
        cells = []
        for m in modes:
            val = metrics.get(f"{m}_{stat}", -1.0)
            cells.append(f"{'-' if val < 0 else f'{val:.3f}':>8}")
        lines.append(f"{_ROWS[stat]:<{width}}" + "".join(cells))
    return "\n".join(lines)
