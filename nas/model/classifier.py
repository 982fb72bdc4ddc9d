"""ImageNet-style classifier on top of a backbone, to compare against published model sizes."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nas.layers import make_activation
from nas.model.backbone import Backbone
from nas.space.spec import ArchSpec


class ImageClassifier(nn.Module):
    """Backbone (all stages) + global pooling + the classifier the spec asks for.

    Linear (default): pool -> [FC hidden -> act] -> dropout -> FC classes. Conv
    (SqueezeNet): dropout -> 1x1 conv to classes -> ReLU -> pool.
    """

    def __init__(self, arch: ArchSpec, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        if num_classes < 1:
            from nas.errors import SpecError

            raise SpecError(f"classifier needs at least one class, got {num_classes}")
        self.backbone = Backbone(arch, out_features=())
        spec = arch.classifier
        channels = self.backbone.out_channels
        self.conv_head = spec.conv
        if spec.conv:
            self.head: nn.Module = nn.Sequential(nn.Dropout(dropout), nn.Conv2d(channels, num_classes, 1), nn.ReLU(inplace=True))
        elif spec.hidden:
            self.head = nn.Sequential(
                nn.Linear(channels, spec.hidden), make_activation(spec.act), nn.Dropout(dropout), nn.Linear(spec.hidden, num_classes)
            )
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.backbone.forward_last(x)
        if self.conv_head:
            return torch.flatten(nn.functional.adaptive_avg_pool2d(self.head(x), 1), 1)
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))
