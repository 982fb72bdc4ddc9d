"""Necks (feature pyramids): none, FPN, PANet, BiFPN. Importing registers them all."""

from __future__ import annotations

from nas.model.necks import bifpn, fpn, panet, single  # noqa: F401 - registration
from nas.model.necks.registry import NECKS, Neck, build_neck, neck_names, register_neck, required_features

__all__ = ["NECKS", "Neck", "build_neck", "neck_names", "register_neck", "required_features"]
