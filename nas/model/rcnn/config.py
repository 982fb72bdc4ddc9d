"""Settings of the detection/DensePose pipeline that are not part of the architecture."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LossWeights:
    """Weights of the summed training loss (DensePose R-CNN's terms)."""

    rpn_cls: float = 1.0
    rpn_box: float = 1.0
    box_cls: float = 1.0
    box_reg: float = 1.0
    dp_segm: float = 2.0  # coarse segmentation CE, mean over RoI pixels
    dp_part: float = 1.0  # fine part CE at the annotated points
    dp_uv: float = 4.0  # smooth-L1 on U and V at the annotated points, mean


@dataclass(frozen=True)
class RCNNConfig:
    """Proposal, sampling and inference settings (proxy-sized defaults).

    Anchor sizes are 8 x the level's stride (32 px at P2 ... 512 px at P6, detectron2's
    FPN defaults); a single-level neck gets every size at its one level.
    """

    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    rpn_fg_iou: float = 0.7
    rpn_bg_iou: float = 0.3
    rpn_batch_per_image: int = 256
    rpn_positive_fraction: float = 0.5
    rpn_pre_nms_train: int = 500  # per level (detectron2: 2000; proxy images are small)
    rpn_post_nms_train: int = 300  # per image
    rpn_pre_nms_test: int = 300
    rpn_post_nms_test: int = 150
    rpn_nms: float = 0.7
    roi_batch_per_image: int = 96  # detectron2: 512; a proxy image holds 1-4 people
    roi_positive_fraction: float = 0.25
    roi_fg_iou: float = 0.5
    box_pool: int = 7
    dp_fg_iou: float = 0.7  # DensePose RoIs: proposals this close to a GT with dp data
    dp_max_rois_per_image: int = 8  # the head costs ~150M MACs per RoI at 14x14: 8 keep training affordable
    score_threshold: float = 0.05
    box_nms: float = 0.5
    detections_per_image: int = 20  # DensePose COCO evaluation uses maxDets 20
    canonical_level: int = 4  # FPN RoI level assignment (Lin et al. eq. 1)
    canonical_size: float = 224.0
    pixel_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    pixel_std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    loss: LossWeights = field(default_factory=LossWeights)
