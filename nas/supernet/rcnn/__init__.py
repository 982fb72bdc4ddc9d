"""Elastic DensePose R-CNN heads: RPN, box head and DensePose head, shared by every architecture."""

from __future__ import annotations

from nas.supernet.rcnn.box_head import ElasticBoxHead
from nas.supernet.rcnn.densepose_head import ElasticDensePoseHead
from nas.supernet.rcnn.rpn import ElasticRPN, ElasticRPNHead

__all__ = ["ElasticBoxHead", "ElasticDensePoseHead", "ElasticRPN", "ElasticRPNHead"]
