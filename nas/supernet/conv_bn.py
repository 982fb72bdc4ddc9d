"""The elastic counterpart of :class:`nas.layers.ConvBnAct`: conv, batch norm, activation."""

from __future__ import annotations

from functools import lru_cache

from torch import Tensor, nn

from nas.layers import make_activation
from nas.supernet.elastic import ElasticBatchNorm2d, ElasticConv2d, State

__all__ = ["ElasticConvBnAct", "activation", "prefixed"]


@lru_cache(maxsize=None)
def activation(name: str | None) -> nn.Module:
    """One shared module per activation name (they hold no state), as the blocks build them."""
    return make_activation(name)


def prefixed(prefix: str, state: State) -> State:
    """``state`` with every name under ``prefix`` (a submodule's names in its parent)."""
    return {f"{prefix}.{name}": value for name, value in state.items()}


class ElasticConvBnAct(nn.Module):
    """``conv -> batch norm -> activation`` at any width and kernel up to the largest.

    Its stand-alone counterpart is ``ConvBnAct`` (an ``nn.Sequential``: ``0`` conv, ``1``
    batch norm), or with ``depthwise`` a depthwise ``ConvBnAct`` of ``groups=channels``.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 1, *, depthwise: bool = False) -> None:
        super().__init__()
        self.conv = ElasticConv2d(in_ch, out_ch, kernel, depthwise=depthwise)
        self.bn = ElasticBatchNorm2d(out_ch)

    def forward(self, x: Tensor, out_ch: int | None = None, kernel: int | None = None, stride: int = 1, act: str | None = None) -> Tensor:
        return activation(act)(self.bn(self.conv(x, out_ch, kernel, stride)))

    def slice_state(self, in_ch: int, out_ch: int, kernel: int | None = None) -> State:
        kernel = self.conv.kernel_size[0] if kernel is None else kernel
        out_ch = in_ch if self.conv.depthwise else out_ch
        return {**prefixed("0", self.conv.slice_state(in_ch, out_ch, kernel)), **prefixed("1", self.bn.slice_state(out_ch))}
