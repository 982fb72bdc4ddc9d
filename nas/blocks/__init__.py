"""Block types and their registry. Importing this package registers every built-in block."""

from __future__ import annotations

from nas.blocks import bottleneck, conv, dw_separable, fire, inverted_residual, mixconv  # noqa: F401 - registration
from nas.blocks.options import BlockOption
from nas.blocks.registry import BLOCKS, BlockDef, block_names, block_options, build_block, get_block, register_block

__all__ = ["BLOCKS", "BlockDef", "BlockOption", "block_names", "block_options", "build_block", "get_block", "register_block"]
