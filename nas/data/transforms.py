"""Sample transforms: horizontal flip, colour jitter, resize (with padding), compose.

Each transform maps a :class:`~nas.data.sample.Sample` to a new one and keeps boxes,
points (box frame) and coarse masks consistent with the image. Random decisions use
torch's RNG, which the DataLoader seeds differently in every worker.
"""

from __future__ import annotations

import warnings
from typing import Protocol, Sequence

import numpy as np
import torch
from PIL import Image

from nas.data.coco import DP_BOX_SIZE
from nas.data.parts import COARSE_FLIP
from nas.data.sample import Sample
from nas.data.surface import BodySurface

__all__ = ["Transform", "Compose", "HorizontalFlip", "ColorJitter", "Resize", "flip_sample"]


class Transform(Protocol):
    """Anything mapping a sample to a sample."""

    def __call__(self, sample: Sample) -> Sample: ...


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample) -> Sample:
        for t in self.transforms:
            sample = t(sample)
        return sample

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


def _mirror(image: np.ndarray) -> np.ndarray:
    """``image[:, ::-1]`` as a new contiguous array, a channel at a time: numpy copies a
    reversed (W, 3) pixel row element by element, ~3x slower than three strided planes."""
    if image.ndim != 3:
        return np.ascontiguousarray(image[:, ::-1])
    out = np.empty_like(image, order="C")
    for c in range(image.shape[2]):
        out[..., c] = image[:, ::-1, c]
    return out


def flip_sample(sample: Sample, surface: BodySurface) -> Sample:
    """Mirror a sample horizontally (deterministic; see :class:`HorizontalFlip`).

    Apply it before :class:`Resize`: the mirror axis is the centre of the whole image
    array, padding included.

    The image and boxes are mirrored about the image's vertical centre line; points
    are mirrored in their box frame (``x -> 256 - x``); coarse masks are mirrored and
    their left/right labels swapped; ``dp_I, dp_U, dp_V`` go through
    :meth:`BodySurface.flip_iuv`.
    """
    w = sample.image.shape[1]
    boxes = sample.boxes.copy()
    boxes[:, 0] = w - sample.boxes[:, 2]
    boxes[:, 2] = w - sample.boxes[:, 0]
    xy = sample.dp_xy.copy()
    xy[:, 0] = DP_BOX_SIZE - sample.dp_xy[:, 0]
    i, u, v = surface.flip_iuv(sample.dp_i, sample.dp_u, sample.dp_v)
    return sample.copy(
        image=_mirror(sample.image),
        boxes=boxes,
        dp_xy=xy,
        dp_i=i.astype(np.int64),
        dp_u=u.astype(np.float32),
        dp_v=v.astype(np.float32),
        dp_masks=np.ascontiguousarray(COARSE_FLIP.astype(np.uint8)[sample.dp_masks[:, :, ::-1]]),
        flipped=not sample.flipped,
    )


class HorizontalFlip:
    """Mirror the sample with probability ``p``, swapping left/right body parts.

    Needs a surface with a symmetry map to move U, V; with a surface lacking one (e.g.
    DensePose's official files without ``UV_symmetry_transforms.mat``) or none at all, it
    does nothing and warns once.
    """

    def __init__(self, surface: BodySurface | None, p: float = 0.5) -> None:
        self.surface = surface
        self.p = p
        self.active = surface is not None and surface.has_symmetry
        if not self.active:
            warnings.warn(
                "horizontal flip disabled: the body surface has no left/right symmetry map "
                "(put DensePose's UV_symmetry_transforms.mat beside its evaluation files, pass a surface.npz "
                "from `nas data synth`, or disable flipping)",
                stacklevel=2,
            )

    def __call__(self, sample: Sample) -> Sample:
        if not self.active or float(torch.rand(())) >= self.p:
            return sample
        assert self.surface is not None
        return flip_sample(sample, self.surface)

    def __repr__(self) -> str:
        return f"HorizontalFlip(p={self.p}, active={self.active})"


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 grey weights


class ColorJitter:
    """Random brightness, contrast and saturation, each a factor in ``[1 - s, 1 + s]``."""

    def __init__(self, brightness: float = 0.3, contrast: float = 0.3, saturation: float = 0.3) -> None:
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation

    def __call__(self, sample: Sample) -> Sample:
        f = 1.0 + (torch.rand(3) * 2 - 1).numpy() * np.array([self.brightness, self.contrast, self.saturation])
        # The arithmetic, its order and its dtypes (float32, then float64 from the float64
        # factors on) are fixed: each uint8 pixel comes out as it always did for the same
        # draws, so trained weights and proxy scores do not move. Only the last step is
        # done a channel plane at a time: broadcasting the (H, W, 1) grey image across 3
        # interleaved channels was a third of the transform's time.
        img = sample.image.astype(np.float32)
        img *= f[0]
        mean = img.mean()
        img = (img - mean) * f[1] + mean
        gray = img @ _LUMA
        out = np.empty(img.shape, dtype=np.uint8)
        for c in range(img.shape[2]):
            plane = img[..., c] - gray
            plane *= f[2]
            plane += gray
            out[..., c] = np.clip(plane, 0, 255, out=plane)  # float64 -> uint8 truncates, as astype did
        return sample.copy(image=out)

    def __repr__(self) -> str:
        return f"ColorJitter({self.brightness}, {self.contrast}, {self.saturation})"


class Resize:
    """Scale the image to fit ``(H, W)`` keeping its aspect ratio; pad bottom/right with 0.

    Boxes are scaled; points and masks live in the box frame and need no change. The
    valid area is ``round(h * scale), round(w * scale)``.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = (int(size[0]), int(size[1]))

    def __call__(self, sample: Sample) -> Sample:
        h, w = sample.image.shape[:2]
        th, tw = self.size
        s = min(th / h, tw / w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        img = sample.image
        if (nh, nw) != (h, w):
            img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
        out = np.zeros((th, tw, 3), dtype=np.uint8)
        out[:nh, :nw] = img
        # Exact per-axis factors so boxes match the resampled pixel grid.
        boxes = sample.boxes * np.array([nw / w, nh / h, nw / w, nh / h], dtype=np.float32)
        return sample.copy(image=out, boxes=boxes.astype(np.float32), scale=sample.scale * s, valid_size=(nh, nw))

    def __repr__(self) -> str:
        return f"Resize({self.size})"
