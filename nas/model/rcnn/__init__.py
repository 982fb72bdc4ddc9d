"""DensePose R-CNN: RPN, RoIAlign, box head and DensePose head on any backbone + neck."""

from __future__ import annotations

from nas.model.rcnn.config import LossWeights, RCNNConfig
from nas.model.rcnn.model import DensePoseRCNN, Detections, build_densepose_rcnn

__all__ = ["DensePoseRCNN", "Detections", "LossWeights", "RCNNConfig", "build_densepose_rcnn"]
