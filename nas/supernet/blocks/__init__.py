"""Elastic blocks of the supernet. Importing this package registers every one."""

from __future__ import annotations

from nas.supernet.blocks import dw_separable, fire, inverted_residual  # noqa: F401 - registration
from nas.supernet.blocks.registry import ELASTIC_BLOCKS, ElasticBlock, build_elastic_block, register_elastic_block

__all__ = ["ELASTIC_BLOCKS", "ElasticBlock", "build_elastic_block", "register_elastic_block"]
