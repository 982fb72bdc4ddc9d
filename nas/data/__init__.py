"""DensePose data: the DensePose-COCO loader, body surfaces, synthetic data, drawing.

Public API (torch-dependent names are imported on first use):

* :class:`DensePoseDataset`, :func:`collate`, :class:`Sample`, :class:`Target` — loading;
* :class:`BodySurface` — parts, charts, symmetry and geodesics of a body mesh;
* :func:`load_densepose_coco` — validated parsing of an annotation file;
* transforms: :class:`Resize`, :class:`HorizontalFlip`, :class:`ColorJitter`, :class:`Compose`;
* :func:`generate_dataset`, :class:`SynthConfig` — the synthetic dataset writer;
* :func:`draw_densepose`, :func:`annotation_iuv` — visualisation.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BodySurface",
    "DensePoseDataset",
    "collate",
    "Sample",
    "Target",
    "load_densepose_coco",
    "Resize",
    "HorizontalFlip",
    "ColorJitter",
    "Compose",
    "generate_dataset",
    "SynthConfig",
    "draw_densepose",
    "annotation_iuv",
]

_WHERE = {
    "BodySurface": "nas.data.surface",
    "DensePoseDataset": "nas.data.dataset",
    "collate": "nas.data.batch",
    "Sample": "nas.data.sample",
    "Target": "nas.data.sample",
    "load_densepose_coco": "nas.data.coco",
    "Resize": "nas.data.transforms",
    "HorizontalFlip": "nas.data.transforms",
    "ColorJitter": "nas.data.transforms",
    "Compose": "nas.data.transforms",
    "generate_dataset": "nas.data.synth.generate",
    "SynthConfig": "nas.data.synth.generate",
    "draw_densepose": "nas.data.vis",
    "annotation_iuv": "nas.data.vis",
}


def __getattr__(name: str) -> Any:
    # Lazy so that `import nas.data.synth` (generator workers) does not pay for torch.
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'nas.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
