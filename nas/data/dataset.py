"""The DensePose-COCO torch Dataset."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from nas.data.cache import SampleCache
from nas.data.coco import DP_BOX_SIZE, DensePoseCoco, ImageRecord, OnError, decode_coarse_masks, load_densepose_coco
from nas.data.image import read_rgb
from nas.data.sample import Sample, Target, to_tensors
from nas.data.surface import BodySurface
from nas.data.transforms import ColorJitter, Compose, HorizontalFlip, Resize, Transform
from nas.errors import DataError

__all__ = ["DensePoseDataset", "find_surface"]


def find_surface(ann_json: str | os.PathLike[str]) -> Path | None:
    """``surface.npz`` next to the annotation file or one folder up (synthetic layout)."""
    p = Path(ann_json).resolve()
    for d in (p.parent, p.parent.parent):
        if (d / "surface.npz").is_file():
            return d / "surface.npz"
    return None


class DensePoseDataset(torch.utils.data.Dataset[tuple[torch.Tensor, Target]]):
    """DensePose-COCO images with per-instance targets.

    Item ``k`` is ``(image, target)``: a ``(3, H, W)`` float tensor in [0, 1] and a
    :class:`~nas.data.sample.Target` (boxes ``xyxy`` in the resized image, points in
    the box frame, ``dp_I``, ``dp_U``, ``dp_V``, coarse masks, crowd flags). Batch with
    :func:`nas.data.collate`.

    With ``train=True`` images without any DensePose annotation are skipped and the
    default augmentation is flip (if the surface has a symmetry map), colour jitter
    and resize; with ``train=False`` every image is kept (crowd regions and people
    without dp data included, for evaluation) and only resized.

    Args:
        ann_json: DensePose-COCO annotation file.
        image_dir: folder holding the images.
        input_size: ``(H, W)`` the image is fitted into (aspect kept, zero padded), or
            None to keep the original size.
        train: training (filter + augment) or evaluation mode.
        transforms: replaces the default transforms (a callable on :class:`Sample`).
        surface: body surface for flips: a :class:`BodySurface`, a path to one, or None
            to use ``surface.npz`` found next to ``ann_json`` (synthetic datasets).
        mask_size: side of the returned coarse masks (256 = as stored; smaller sizes
            sample the 256 grid at cell centres).
        on_error: ``"raise"`` or ``"skip"`` malformed annotations (counted and warned).
        cache_bytes: keep items' decoded, untransformed samples in memory up to this many
            bytes (0: decode at every access); see :class:`~nas.data.cache.SampleCache`.
            Transforms run at every access either way, so items are the same.

    Raises:
        DataError: malformed annotations or missing images (naming image id,
            annotation id and field), unless ``on_error="skip"``.
    """

    def __init__(
        self,
        ann_json: str | os.PathLike[str],
        image_dir: str | os.PathLike[str],
        input_size: tuple[int, int] | None = (256, 256),
        train: bool = True,
        transforms: Transform | Sequence[Transform] | None = None,
        surface: BodySurface | str | os.PathLike[str] | None = None,
        mask_size: int = DP_BOX_SIZE,
        on_error: OnError = "raise",
        cache_bytes: int = 0,
    ) -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if not 1 <= mask_size <= DP_BOX_SIZE:
            raise ValueError(f"mask_size must be in 1..{DP_BOX_SIZE}, got {mask_size}")
        self.coco: DensePoseCoco = load_densepose_coco(ann_json, image_dir, on_error=on_error)
        self.train = train
        self.on_error = on_error
        self.mask_size = mask_size
        self.cache: SampleCache | None = SampleCache(cache_bytes) if cache_bytes > 0 else None
        self.records: list[ImageRecord] = [r for r in self.coco.images if r.has_dp] if train else list(self.coco.images)
        if isinstance(surface, (str, os.PathLike)):
            surface = BodySurface.load(surface)
        elif surface is None:
            found = find_surface(ann_json)
            surface = BodySurface.load(found) if found is not None else None
        self.surface: BodySurface | None = surface
        if transforms is None:
            steps: list[Transform] = []
            if train:
                steps += [HorizontalFlip(surface), ColorJitter()]
            if input_size is not None:
                steps.append(Resize(input_size))
            self.transforms: Transform = Compose(steps)
        elif isinstance(transforms, Sequence):
            self.transforms = Compose(transforms)
        else:
            self.transforms = transforms
        if self.coco.skipped:
            detail = ", ".join(f"{n} {k}" for k, n in sorted(self.coco.skipped.items()))
            warnings.warn(f"{self.coco.path}: skipped malformed entries ({detail})", stacklevel=2)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return (f"DensePoseDataset({str(self.coco.path)!r}, images={len(self)}, train={self.train}, "
                f"transforms={self.transforms!r})")

    @property
    def image_ids(self) -> list[int]:
        """COCO ids of the images, in item order."""
        return [r.image_id for r in self.records]

    def load_sample(self, index: int) -> Sample:
        """The untransformed sample of item ``index`` (original image, numpy), from the
        cache when it holds it (a copy the caller may change)."""
        if self.cache is None:
            return self._decode(index)
        sample = self.cache.get(index)
        if sample is None:
            sample = self._decode(index)
            self.cache.put(index, sample)
        return sample

    def _decode(self, index: int) -> Sample:
        """Read and decode item ``index``'s image file and annotations."""
        rec = self.records[index]
        image = read_rgb(rec.path, rec.image_id, (rec.height, rec.width))
        n = len(rec.instances)
        boxes = np.zeros((n, 4), dtype=np.float32)
        masks = np.zeros((n, self.mask_size, self.mask_size), dtype=np.uint8)
        has_dp = np.zeros(n, dtype=bool)
        cells = np.floor((np.arange(self.mask_size) + 0.5) * DP_BOX_SIZE / self.mask_size).astype(np.int64)
        pts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for k, inst in enumerate(rec.instances):
            x, y, w, h = inst.bbox
            boxes[k] = (x, y, x + w, y + h)
            if inst.dp is None:
                continue
            try:
                labels = decode_coarse_masks(inst.dp, rec.image_id, inst.ann_id)
            except DataError:
                if self.on_error == "raise":
                    raise
                warnings.warn(f"image id {rec.image_id}, annotation id {inst.ann_id}: bad dp_masks, "
                              "DensePose data of this annotation ignored", stacklevel=2)
                continue
            masks[k] = labels[np.ix_(cells, cells)]
            has_dp[k] = True
            pts.append((k, inst.dp.x, inst.dp.y, inst.dp.i, inst.dp.u, inst.dp.v))
        if pts:
            dp_inst = np.concatenate([np.full(p[1].size, p[0], dtype=np.int64) for p in pts])
            dp_xy = np.stack([np.concatenate([p[1] for p in pts]), np.concatenate([p[2] for p in pts])], 1)
            dp_i = np.concatenate([p[3] for p in pts])
            dp_u = np.concatenate([p[4] for p in pts])
            dp_v = np.concatenate([p[5] for p in pts])
        else:
            dp_inst, dp_i = np.zeros(0, np.int64), np.zeros(0, np.int64)
            dp_xy, dp_u, dp_v = np.zeros((0, 2), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32)
        return Sample(
            image=image, boxes=boxes, is_crowd=np.array([i.is_crowd for i in rec.instances], dtype=bool),
            has_dp=has_dp, ann_ids=np.array([i.ann_id for i in rec.instances], dtype=np.int64), dp_inst=dp_inst,
            dp_xy=dp_xy.astype(np.float32), dp_i=dp_i, dp_u=dp_u, dp_v=dp_v, dp_masks=masks,
            image_id=rec.image_id, orig_size=(image.shape[0], image.shape[1]),
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Target]:
        return to_tensors(self.transforms(self.load_sample(index)))
