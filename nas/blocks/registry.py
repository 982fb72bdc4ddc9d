"""The block registry: every block type registers one builder with one signature.

A builder is ``(in_ch, out_ch, stride, **params) -> nn.Module``. A registration also
declares the options the block takes (:mod:`nas.blocks.options`), so the spec, its codec,
the op keys and the search space validate and write a stage without building it. Adding
a block type is one module plus one :func:`register_block` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from nas.blocks.options import BlockOption
from nas.registry import Registry, instance_of

__all__ = ["BlockDef", "BLOCKS", "register_block", "get_block", "block_names", "build_block", "block_options"]

BlockBuilder = Callable[..., nn.Module]


@dataclass(frozen=True)
class BlockDef:
    """A registered block type.

    Attributes:
        name: the token prefix in spec strings (``ir``, ``fire``, ...).
        builder: ``(in_ch, out_ch, stride, **params) -> nn.Module``.
        options: the options the block takes beyond channels/depth/stride/act, in the
            order the canonical string writes them.
        reference_only: used to express baselines, never sampled by a search space.
        description: one line for ``nas space show`` and error messages.
        width_multiple: stage widths a search space offers must be multiples of it.
        width_reason: why (said when a search space offers another width).
    """

    name: str
    builder: BlockBuilder
    options: tuple[BlockOption, ...]
    reference_only: bool
    description: str
    width_multiple: int = 1
    width_reason: str = ""

    @property
    def option_names(self) -> frozenset[str]:
        return frozenset(o.name for o in self.options)

    def option(self, name: str) -> BlockOption | None:
        """The declaration of option ``name``, or None when the block does not take it."""
        return next((o for o in self.options if o.name == name), None)


def _same_fields_as_others(name: str, block: BlockDef) -> None:
    """Blocks taking an option of one name share its stage field (type, default, letters),
    and no two options share a letter."""
    for attr in ("name", "letter", "key_letter"):
        if len({getattr(o, attr) for o in block.options}) != len(block.options):
            raise ValueError(f"block {name!r} declares an option {attr} twice")
    for option in block.options:
        for other in block_options():
            if other.name == option.name and not other.same_field(option):
                raise ValueError(f"block {name!r}: option {option.name!r} disagrees with its declaration by other blocks ({other})")
            if other.name != option.name and (other.letter == option.letter or other.key_letter == option.key_letter):
                raise ValueError(f"block {name!r}: option {option.name!r} reuses a letter of option {other.name!r}")


BLOCKS: Registry[BlockDef] = Registry("block type", instance_of(BlockDef), sort=True, admit=_same_fields_as_others)


def register_block(
    name: str,
    *,
    options: tuple[BlockOption, ...] = (),
    reference_only: bool = False,
    description: str = "",
    width_multiple: int = 1,
    width_reason: str = "",
) -> Callable[[BlockBuilder], BlockBuilder]:
    """Decorator registering ``builder`` under ``name`` with the options it takes."""

    def wrap(builder: BlockBuilder) -> BlockBuilder:
        BLOCKS.register(name, BlockDef(name, builder, tuple(options), reference_only, description, width_multiple, width_reason))
        return builder

    return wrap


def get_block(name: str) -> BlockDef:
    """Look a block type up; unknown names fail with the list of known ones."""
    return BLOCKS.get(name)


def block_names(include_reference: bool = True) -> list[str]:
    """Registered block names, sorted."""
    return [n for n, d in BLOCKS.items() if include_reference or not d.reference_only]


def block_options() -> list[BlockOption]:
    """Every option some registered block takes, one declaration per name (the first
    registered), in the order of the first block taking it."""
    seen: dict[str, BlockOption] = {}
    for block in BLOCKS.values():
        for option in block.options:
            seen.setdefault(option.name, option)
    return list(seen.values())


def build_block(name: str, in_ch: int, out_ch: int, stride: int, **params: object) -> nn.Module:
    """Build one block instance through the registry."""
    return get_block(name).builder(in_ch, out_ch, stride, **params)
