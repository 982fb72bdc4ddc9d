"""The weight-sharing supernet of a search space, as a DensePose R-CNN.

:meth:`Supernet.activate` selects one architecture of the space; the supernet then computes
what ``build_densepose_rcnn(arch)`` computes when loaded with :meth:`Supernet.extract`'s
weights: the same losses in training mode, the same detections in eval mode. Every
architecture of the space is a slice of the supernet's weights (:mod:`nas.supernet.elastic`):
per stage and block type the first ``depth`` blocks, the first channels, the kernel
centres; per neck variant its levels and channels; the heads shared.

Batch-norm statistics are shared like weights: a sub-network's running statistics are the
first channels of the supernet's, accumulated over every sub-network trained, which is why
a score from the supernet recalibrates them first.
"""

from __future__ import annotations

from torch import nn

from nas.model.rcnn.config import RCNNConfig
from nas.model.rcnn.model import DensePoseRCNN
from nas.model.rcnn.pooler import MultiScaleRoIAlign
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec
from nas.supernet.conv_bn import prefixed
from nas.supernet.elastic import State, owned
from nas.supernet.envelope import anchor_counts, anchors_for, head_specs, neck_depthwise
from nas.supernet.features import ElasticFeatureNetwork
from nas.supernet.rcnn import ElasticBoxHead, ElasticDensePoseHead, ElasticRPN

__all__ = ["Supernet"]


class Supernet(DensePoseRCNN):
    """Every DensePose R-CNN of ``space`` in one set of shared weights.

    ``DensePoseRCNN.__init__`` builds one architecture's layers; the supernet builds
    elastic ones in their place and inherits the forward pass (normalisation, proposals,
    sampling, losses, inference), so a sub-network and its stand-alone model compute
    through one code path.

    Args:
        space: the search space whose architectures the supernet holds.
        config: the R-CNN settings, as for :func:`~nas.model.rcnn.build_densepose_rcnn`.
    """

    def __init__(self, space: SearchSpace, config: RCNNConfig | None = None) -> None:
        nn.Module.__init__(self)
        cfg = config or RCNNConfig()
        self.space = space
        self.config = cfg
        self.features = ElasticFeatureNetwork(space)
        channels = max(space.neck_channels)
        heads = head_specs(space)
        self.rpn = ElasticRPN(cfg, channels, neck_depthwise(space), anchor_counts(space, cfg.anchor_ratios))
        self.box_head = ElasticBoxHead(channels, cfg.box_pool, max(h.box_dim for h in heads))
        self.dp_head = ElasticDensePoseHead(channels, heads)
        self._set_up_input(cfg)

    @property
    def arch(self) -> ArchSpec:  # type: ignore[override]
        """The active architecture (:class:`~nas.errors.SupernetError` before :meth:`activate`)."""
        return self.features.active

    def activate(self, arch: ArchSpec) -> Supernet:
        """Select ``arch``'s sub-network for the following forward passes; returns the supernet.

        Raises :class:`~nas.errors.SupernetError` for an architecture outside the space.
        """
        cfg = self.config
        self.features.activate(arch)
        levels = self.features.output_shape()
        self.rpn.activate(levels, arch.neck.depthwise)
        self.box_head.activate(arch.head.box_dim)
        self.dp_head.activate(arch.head)
        self.box_pooler = MultiScaleRoIAlign(levels, cfg.box_pool, cfg.canonical_level, cfg.canonical_size)
        self.dp_pooler = MultiScaleRoIAlign(levels, arch.head.pool, cfg.canonical_level, cfg.canonical_size)
        return self

    def extract(self, arch: ArchSpec) -> State:
        """The weights of ``arch``'s sub-network as a state_dict of ``build_densepose_rcnn(arch)``
        (loadable with ``strict=True``); copies, so later training leaves them as they are."""
        channels = arch.neck.channels
        state = prefixed("features", self.features.slice_state(arch))
        state.update(prefixed("rpn.head", self.rpn.head.slice_state(channels, arch.neck.depthwise, anchors_for(arch.neck, self.config.anchor_ratios))))
        state.update(prefixed("box_head", self.box_head.slice_state(channels, arch.head.box_dim)))
        state.update(prefixed("dp_head", self.dp_head.slice_state(channels, arch.head)))
        return owned(state)

    def extract_features(self, arch: ArchSpec) -> State:
        """The weights of ``arch``'s backbone and neck as a state_dict of ``FeatureNetwork(arch)``."""
        return owned(self.features.slice_state(arch))
