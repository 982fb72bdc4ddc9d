"""Sliceable layers: weights held at their largest shape, each call using a slice of them.

A sub-network's layer with ``c_in`` inputs, ``c_out`` outputs and a ``k x k`` kernel is
the first ``c_out`` filters, their first ``c_in`` input channels and the centred ``k x k``
window of the largest kernel (the Once-for-All idea: a small kernel is the centre of the
big one, a narrow layer the first channels of the wide one). The ``slice_*`` methods give
those tensors under the stand-alone layer's own names, so a sub-network's weights load
into the model :mod:`nas.model` builds for its spec.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.layers import split_channels

__all__ = ["State", "ElasticConv2d", "ElasticBatchNorm2d", "ElasticLinear", "ElasticConvTranspose2d", "ElasticMixedDepthwise", "centre", "owned"]

State = dict[str, Tensor]


def centre(weight: Tensor, kernel: int) -> Tensor:
    """The centred ``kernel x kernel`` window of a ``(..., K, K)`` weight."""
    size = weight.shape[-1]
    if kernel > size or (size - kernel) % 2:
        raise ValueError(f"kernel {kernel} is not a centred window of kernel {size}")
    start = (size - kernel) // 2
    return weight[..., start:start + kernel, start:start + kernel]


def owned(state: State) -> State:
    """Contiguous copies, so an extracted state_dict does not change while the supernet trains."""
    return {name: value.detach().clone().contiguous() for name, value in state.items()}


class ElasticConv2d(nn.Conv2d):
    """A conv of at most ``in_ch -> out_ch`` channels and a ``kernel x kernel`` kernel
    (padding ``k // 2`` at every size). Depthwise when ``depthwise`` (one filter per channel)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, *, depthwise: bool = False, bias: bool = False) -> None:
        if depthwise and in_ch != out_ch:
            raise ValueError(f"a depthwise conv maps channels to themselves, got {in_ch} -> {out_ch}")
        super().__init__(in_ch, out_ch, kernel, groups=in_ch if depthwise else 1, bias=bias)
        self.depthwise = depthwise

    def weights(self, in_ch: int, out_ch: int, kernel: int) -> tuple[Tensor, Tensor | None]:
        """Weight and bias of the ``in_ch -> out_ch``, ``kernel``-sized slice."""
        weight = self.weight[:out_ch] if self.depthwise else self.weight[:out_ch, :in_ch]
        bias = None if self.bias is None else self.bias[:out_ch]
        return centre(weight, kernel), bias

    def forward(self, x: Tensor, out_ch: int | None = None, kernel: int | None = None, stride: int = 1) -> Tensor:  # type: ignore[override]
        in_ch = x.shape[1]
        out_ch = in_ch if self.depthwise else (self.out_channels if out_ch is None else out_ch)
        kernel = self.kernel_size[0] if kernel is None else kernel
        weight, bias = self.weights(in_ch, out_ch, kernel)
        return F.conv2d(x, weight, bias, stride, kernel // 2, 1, in_ch if self.depthwise else 1)

    def slice_state(self, in_ch: int, out_ch: int, kernel: int) -> State:
        """``weight`` (and ``bias``) of the stand-alone ``nn.Conv2d`` this slice is."""
        weight, bias = self.weights(in_ch, out_ch, kernel)
        return {"weight": weight} if bias is None else {"weight": weight, "bias": bias}


class ElasticBatchNorm2d(nn.BatchNorm2d):
    """Batch norm of the first ``C`` channels, ``C`` read from the input.

    In training mode the running statistics of those channels are updated in place (the
    slices are views), as one ``nn.BatchNorm2d`` of ``C`` channels would update its own.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        c = x.shape[1]
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # nn.BatchNorm2d's cumulative average
                momentum = 1.0 / float(self.num_batches_tracked)
        assert self.running_mean is not None and self.running_var is not None  # tracked by construction
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean[:c], self.running_var[:c], self.weight[:c], self.bias[:c], use_batch, momentum, self.eps)

    def slice_state(self, channels: int) -> State:
        assert self.running_mean is not None and self.running_var is not None
        return {"weight": self.weight[:channels], "bias": self.bias[:channels], "running_mean": self.running_mean[:channels],
                "running_var": self.running_var[:channels], "num_batches_tracked": self.num_batches_tracked}


class ElasticLinear(nn.Linear):
    """A linear layer of at most ``in_features -> out_features`` (the first ones).

    A flattened ``(C, P, P)`` RoI feature is channel-major, so its first ``C' * P * P``
    inputs are its first ``C'`` channels: slicing inputs is slicing channels.
    """

    def weights(self, in_features: int, out_features: int) -> tuple[Tensor, Tensor]:
        return self.weight[:out_features, :in_features], self.bias[:out_features]

    def forward(self, x: Tensor, out_features: int | None = None) -> Tensor:  # type: ignore[override]
        weight, bias = self.weights(x.shape[1], self.out_features if out_features is None else out_features)
        return F.linear(x, weight, bias)

    def slice_state(self, in_features: int, out_features: int) -> State:
        weight, bias = self.weights(in_features, out_features)
        return {"weight": weight, "bias": bias}


class ElasticConvTranspose2d(nn.ConvTranspose2d):
    """A transposed conv with fixed outputs and at most ``in_ch`` inputs (the first ones)."""

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        weight, bias = self.weights(x.shape[1])
        return F.conv_transpose2d(x, weight, bias, self.stride, self.padding, self.output_padding, 1, self.dilation)

    def weights(self, in_ch: int) -> tuple[Tensor, Tensor | None]:
        return self.weight[:in_ch], None if self.bias is None else self.bias

    def slice_state(self, in_ch: int) -> State:
        weight, bias = self.weights(in_ch)
        return {"weight": weight} if bias is None else {"weight": weight, "bias": bias}


class ElasticMixedDepthwise(ElasticConv2d):
    """Depthwise conv whose channels split over kernel sizes (MixConv), at any width.

    Channel ``i`` owns the filter ``weight[i]`` at the largest kernel; the group it falls
    in at a given width uses that filter's centre at the group's kernel size. Its
    stand-alone counterpart is :class:`nas.layers.MixedDepthwiseConv` (``convs.<j>``).
    """

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__(channels, channels, kernel, depthwise=True)

    def kernel_groups(self, channels: int, kernels: tuple[int, ...]) -> list[tuple[Tensor, int]]:
        """``(weight, kernel)`` of each channel group, in order."""
        out, start = [], 0
        for size, kernel in zip(split_channels(channels, len(kernels)), kernels):
            out.append((centre(self.weight[start:start + size], kernel), kernel))
            start += size
        return out

    def forward(self, x: Tensor, kernels: tuple[int, ...] = (3,), stride: int = 1) -> Tensor:  # type: ignore[override]
        groups = self.kernel_groups(x.shape[1], kernels)
        chunks = torch.split(x, [w.shape[0] for w, _ in groups], dim=1) if len(groups) > 1 else (x,)
        outs = [F.conv2d(chunk, w, None, stride, k // 2, 1, w.shape[0]) for chunk, (w, k) in zip(chunks, groups)]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)

    def slice_state(self, channels: int, kernels: tuple[int, ...]) -> State:  # type: ignore[override]
        return {f"convs.{j}.weight": w for j, (w, _) in enumerate(self.kernel_groups(channels, kernels))}
