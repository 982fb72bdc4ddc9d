"""Synthetic DensePose: a procedural articulated body, a rasteriser, scenes, the writer.

* :mod:`~nas.data.synth.body`: the canonical body mesh (24 DensePose parts and charts)
  and its :class:`~nas.data.surface.BodySurface`;
* :mod:`~nas.data.synth.pose`: random shape, pose and forward kinematics;
* :mod:`~nas.data.synth.raster`: vectorised z-buffered triangle rasterisation;
* :mod:`~nas.data.synth.scene`: one image (people, camera, lights, background) and its
  exact ground truth;
* :mod:`~nas.data.synth.generate`: the dataset writer behind ``nas data synth``.
"""

from __future__ import annotations

from nas.data.synth.body import BodyTemplate, body_template
from nas.data.synth.generate import SynthConfig, generate_dataset
from nas.data.synth.scene import RenderedScene, render_scene

__all__ = [
    "BodyTemplate",
    "body_template",
    "RenderedScene",
    "render_scene",
    "SynthConfig",
    "generate_dataset",
]
