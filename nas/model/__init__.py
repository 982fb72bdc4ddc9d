"""Models built from specs: backbone, necks, classifier and the feature network."""

from __future__ import annotations

from nas.model.backbone import Backbone, BlockCall, backbone_calls
from nas.model.classifier import ImageClassifier
from nas.model.features import FeatureNetwork
from nas.model.necks import build_neck, neck_names
from nas.model.shapes import ShapeSpec

__all__ = ["Backbone", "BlockCall", "FeatureNetwork", "ImageClassifier", "ShapeSpec", "backbone_calls", "build_neck", "neck_names"]
