"""Elastic BiFPN: fusion nodes held per pyramid level and per layer, the first ``repeats``
layers used (depth elastic, as backbone stages are).

A bottom-up node fuses three inputs (input, top-down, from below) except at the top level,
which has no top-down node and fuses two; the elastic node keeps three weights and the top
level uses those of the input and the from-below path, so a level keeps the meaning of its
weights whichever level tops the pyramid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nas.model.necks import required_features
from nas.model.necks.bifpn import _EPS  # the stand-alone fusion's epsilon: both must normalise alike
from nas.model.necks.common import downsample, extra_levels, resize_to
from nas.space.spec import NeckSpec
from nas.supernet.conv_bn import ElasticConvBnAct, prefixed
from nas.supernet.elastic import State
from nas.supernet.necks.conv import ElasticNeckConv
from nas.supernet.necks.fpn import extra_count
from nas.supernet.necks.registry import ElasticNeck, register_elastic_neck

TOP_INPUTS = (0, 2)  # a top-level bottom-up node fuses the input and the path from below


class ElasticFusion(nn.Module):
    """``sum_i relu(w_i) x_i / (eps + sum_i relu(w_i))`` over the chosen inputs, swish, 3x3 conv."""

    def __init__(self, inputs: int, channels: int, depthwise: frozenset[bool]) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.ones(inputs))
        self.conv = ElasticNeckConv(channels, depthwise)

    def forward(self, xs: list[Tensor], chosen: tuple[int, ...], channels: int, depthwise: bool) -> Tensor:
        w = F.relu(self.weights[list(chosen)])
        w = w / (w.sum() + _EPS)
        fused = sum(wi * x for wi, x in zip(w, xs))
        return self.conv(F.silu(fused), channels, depthwise)  # type: ignore[arg-type]

    def slice_state(self, chosen: tuple[int, ...], channels: int, depthwise: bool) -> State:
        return {"weights": self.weights[list(chosen)], **prefixed("conv", self.conv.slice_state(channels, channels, depthwise))}


class ElasticBiFPNLayer(nn.Module):
    """``top_down[p<l>]`` for levels that can have one above, ``bottom_up[p<l>]`` for levels
    that can have one below."""

    def __init__(self, specs: tuple[NeckSpec, ...], channels: int, depthwise: frozenset[bool]) -> None:
        super().__init__()
        lower = sorted({lvl for s in specs for lvl in s.levels[:-1]})
        upper = sorted({lvl for s in specs for lvl in s.levels[1:]})
        self.top_down = nn.ModuleDict({f"p{lvl}": ElasticFusion(2, channels, depthwise) for lvl in lower})
        self.bottom_up = nn.ModuleDict({f"p{lvl}": ElasticFusion(3, channels, depthwise) for lvl in upper})

    @staticmethod
    def _bottom_up_inputs(position: int, count: int) -> tuple[int, ...]:
        return (0, 1, 2) if position < count - 1 else TOP_INPUTS

    def forward(self, xs: list[Tensor], spec: NeckSpec) -> list[Tensor]:
        levels, ch, dw = spec.levels, spec.channels, spec.depthwise
        td = [xs[-1]]
        for position in range(len(xs) - 2, -1, -1):
            x = xs[position]
            td.insert(0, self.top_down[f"p{levels[position]}"]([x, resize_to(td[0], x)], (0, 1), ch, dw))
        out = [td[0]]
        for position in range(1, len(xs)):
            down = resize_to(downsample(out[-1]), xs[position])
            chosen = self._bottom_up_inputs(position, len(xs))
            inputs = [xs[position], td[position], down] if len(chosen) == 3 else [xs[position], down]
            out.append(self.bottom_up[f"p{levels[position]}"](inputs, chosen, ch, dw))
        return out

    def slice_state(self, spec: NeckSpec) -> State:
        """BiFPNLayer's names: ``top_down.<j>`` runs from the level below the top downwards,
        ``bottom_up.<i>`` from the second level upwards."""
        levels, ch, dw = spec.levels, spec.channels, spec.depthwise
        state: State = {}
        for j, lvl in enumerate(reversed(levels[:-1])):
            state.update(prefixed(f"top_down.{j}", self.top_down[f"p{lvl}"].slice_state((0, 1), ch, dw)))
        for i, lvl in enumerate(levels[1:]):
            chosen = self._bottom_up_inputs(i + 1, len(levels))
            state.update(prefixed(f"bottom_up.{i}", self.bottom_up[f"p{lvl}"].slice_state(chosen, ch, dw)))
        return state


@register_elastic_neck("bifpn")
class ElasticBiFPN(ElasticNeck):
    def __init__(self, specs: tuple[NeckSpec, ...], in_widths: dict[str, int]) -> None:
        super().__init__(specs, in_widths)
        self.project = nn.ModuleDict({f: ElasticConvBnAct(self.in_widths[f], self.channels, 1) for f in self.features})
        repeats = max(s.repeats for s in specs)
        self.layers = nn.ModuleList(ElasticBiFPNLayer(specs, self.channels, self.depthwise) for _ in range(repeats))

    def forward(self, features: dict[str, Tensor], spec: NeckSpec) -> dict[str, Tensor]:
        xs = [self.project[f](features[f], spec.channels) for f in required_features(spec)]
        xs += extra_levels(xs[-1], extra_count(spec))
        for layer in self.layers[: spec.repeats]:
            xs = layer(xs, spec)
        return {f"p{lvl}": x for lvl, x in zip(spec.levels, xs)}

    def slice_state(self, spec: NeckSpec, in_channels: dict[str, int]) -> State:
        state: State = {}
        for i, f in enumerate(required_features(spec)):
            state.update(prefixed(f"project.{i}", self.project[f].slice_state(in_channels[f], spec.channels)))
        for r in range(spec.repeats):
            state.update(prefixed(f"layers.{r}", self.layers[r].slice_state(spec)))
        return state
