"""Elastic block types: one per searchable block type, registered under the block's name.

An elastic block is built for every call a stage position can make (its envelope,
:mod:`nas.supernet.envelope`), holds the largest weights those calls need, and runs or
extracts any one of them. A search space offering a block type without an elastic one is
refused when its supernet is built.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from nas.errors import SupernetError
from nas.model.backbone import BlockCall
from nas.registry import Registry, subclass_of
from nas.supernet.elastic import State

__all__ = ["ElasticBlock", "ELASTIC_BLOCKS", "register_elastic_block", "build_elastic_block"]


class ElasticBlock(nn.Module):
    """Base class: ``forward(x, call)`` runs the block ``call`` names; ``slice_state(call)``
    gives that block's stand-alone state_dict."""

    def __init__(self, calls: tuple[BlockCall, ...]) -> None:
        super().__init__()
        if not calls:
            raise ValueError("an elastic block needs at least one call to hold weights for")

    @staticmethod
    def residual(call: BlockCall) -> bool:
        """The blocks' rule: an identity shortcut when the stride is 1 and widths match."""
        return call.stride == 1 and call.in_ch == call.out_ch

    def forward(self, x: Tensor, call: BlockCall) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def slice_state(self, call: BlockCall) -> State:  # pragma: no cover - abstract
        raise NotImplementedError


ELASTIC_BLOCKS: Registry[type[ElasticBlock]] = Registry("elastic block type", subclass_of(ElasticBlock), error=SupernetError)


def register_elastic_block(*names: str) -> Callable[[type[ElasticBlock]], type[ElasticBlock]]:
    """Class decorator registering an elastic block for the block types ``names``."""

    def wrap(cls: type[ElasticBlock]) -> type[ElasticBlock]:
        for name in names:
            ELASTIC_BLOCKS.register(name, cls)
        return cls

    return wrap


def build_elastic_block(block: str, calls: tuple[BlockCall, ...]) -> ElasticBlock:
    """The elastic ``block`` holding the weights of every call in ``calls``."""
    if block not in ELASTIC_BLOCKS:
        raise SupernetError(f"block type {block!r} has no elastic version for a supernet; "
                            f"supernets hold {', '.join(ELASTIC_BLOCKS.names())}: remove {block!r} from the search space")
    return ELASTIC_BLOCKS.get(block)(calls)
