"""The block registry: every block type registers one builder with one signature.

A builder is ``(in_ch, out_ch, stride, **params) -> nn.Module``. A registration also
declares which stage options the block accepts (see :mod:`nas.space.codec` for the
option letters), so the spec codec and the search space can validate a stage without
building it. Adding a block type is one module plus one :func:`register_block` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from nas.errors import RegistryError

__all__ = ["BlockDef", "BLOCKS", "register_block", "get_block", "block_names", "build_block"]

BlockBuilder = Callable[..., nn.Module]

# Options every block takes from its stage: out channels, repeats, stride, activation.
COMMON_OPTIONS = frozenset({"channels", "depth", "stride", "act"})


@dataclass(frozen=True)
class BlockDef:
    """A registered block type.

    Attributes:
        name: the token prefix in spec strings (``ir``, ``fire``, ...).
        builder: ``(in_ch, out_ch, stride, **params) -> nn.Module``.
        options: stage options the block accepts beyond channels/depth/stride/act.
        reference_only: used to express baselines, never sampled by a search space.
        description: one line for ``nas space show`` and error messages.
        kernel_count: (min, max) number of kernel sizes the block takes.
    """

    name: str
    builder: BlockBuilder
    options: frozenset[str]
    reference_only: bool
    description: str
    kernel_count: tuple[int, int] = (1, 1)


BLOCKS: dict[str, BlockDef] = {}


def register_block(
    name: str,
    *,
    options: tuple[str, ...] = (),
    reference_only: bool = False,
    description: str = "",
    kernel_count: tuple[int, int] = (1, 1),
) -> Callable[[BlockBuilder], BlockBuilder]:
    """Decorator registering ``builder`` under ``name``."""

    def wrap(builder: BlockBuilder) -> BlockBuilder:
        if name in BLOCKS:
            raise ValueError(f"block {name!r} is registered twice")
        BLOCKS[name] = BlockDef(name, builder, frozenset(options), reference_only, description, kernel_count)
        return builder

    return wrap


def get_block(name: str) -> BlockDef:
    """Look a block type up; unknown names fail with the list of known ones."""
    try:
        return BLOCKS[name]
    except KeyError:
        raise RegistryError(f"unknown block type {name!r}; known block types: {', '.join(block_names())}") from None


def block_names(include_reference: bool = True) -> list[str]:
    """Registered block names, sorted."""
    return sorted(n for n, d in BLOCKS.items() if include_reference or not d.reference_only)


def build_block(name: str, in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    """Build one block instance through the registry."""
    return get_block(name).builder(in_ch, out_ch, stride, **params)
