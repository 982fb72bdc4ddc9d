"""Decoded samples kept in memory, so a training run decodes each image once.

A training item costs a JPEG decode and the RLE decode of its coarse masks (about
0.4 ms and 1.2 ms for a 256x256 synthetic image with one person, 2 CPU cores) before any
augmentation; every epoch repeated both. :class:`SampleCache` keeps the *untransformed*
decoded :class:`~nas.data.sample.Sample` of an item the first time it is read, up to a
byte budget, and hands out copies: the random transforms still run on every access, so
an item's values are those of a fresh decode for the same random draws.

The budget of a training run is ``NAS_DATA_CACHE_MB`` (MiB, default
:data:`DEFAULT_CACHE_MB`; 0 turns the cache off), read by :func:`cache_budget_bytes`.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from nas.data.sample import Sample
from nas.errors import DataError

__all__ = ["SampleCache", "DEFAULT_CACHE_MB", "CACHE_ENV", "cache_budget_bytes", "sample_nbytes"]

# 1 GiB holds ~5000 samples of 256x256 (~200 KB each) or ~1100 COCO images of ~640x480;
# a proxy run's training set is far smaller, the full DensePose-COCO train set (~24 GB
# decoded) is not and is cached only in part.
DEFAULT_CACHE_MB = 1024
CACHE_ENV = "NAS_DATA_CACHE_MB"


def cache_budget_bytes() -> int:
    """The training-set cache budget in bytes: ``$NAS_DATA_CACHE_MB`` MiB, or
    :data:`DEFAULT_CACHE_MB` when unset.

    Raises:
        DataError: the variable is not a whole number of MiB >= 0.
    """
    raw = os.environ.get(CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_CACHE_MB << 20
    try:
        mb = int(raw)
    except ValueError:
        mb = -1
    if mb < 0:
        raise DataError(f"{CACHE_ENV}={raw!r} is not a whole number of MiB; set it to e.g. 1024, or 0 to turn "
                        "the decoded-image cache off")
    return mb << 20


def sample_nbytes(sample: Sample) -> int:
    """Bytes held by a sample's arrays."""
    return sum(v.nbytes for v in vars(sample).values() if isinstance(v, np.ndarray))


def _private_copy(sample: Sample) -> Sample:
    """A sample whose arrays are copies: transforms and ``torch.from_numpy`` may then
    write to what they receive without touching the cached one."""
    return dataclasses.replace(sample, **{f.name: getattr(sample, f.name).copy() for f in dataclasses.fields(sample)
                                          if isinstance(getattr(sample, f.name), np.ndarray)})


class SampleCache:
    """Samples by item index, up to ``max_bytes`` of arrays in all.

    A sample that would take the total past ``max_bytes`` is not kept (nothing is
    evicted: training reads every item once an epoch in a new order, where evicting would
    only swap one decoded image for another); its item is decoded again at every access.

    Not locked: one thread (the training loop) reads and fills it.

    Attributes:
        nbytes: bytes held now.
        refused: samples not kept for lack of room (counted once per put).
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.refused = 0
        self._samples: dict[int, Sample] = {}

    def __len__(self) -> int:
        return len(self._samples)

    def __contains__(self, index: int) -> bool:
        return index in self._samples

    def __repr__(self) -> str:
        return f"SampleCache({len(self)} samples, {self.nbytes >> 20}/{self.max_bytes >> 20} MiB)"

    def get(self, index: int) -> Sample | None:
        """A private copy of the sample kept for ``index``, or None."""
        sample = self._samples.get(index)
        return None if sample is None else _private_copy(sample)

    def put(self, index: int, sample: Sample) -> bool:
        """Keep a copy of ``sample`` for ``index`` if it fits the budget; says whether it was kept."""
        if index in self._samples:
            return True
        size = sample_nbytes(sample)
        if self.nbytes + size > self.max_bytes:
            self.refused += 1
            return False
        self._samples[index] = _private_copy(sample)
        self.nbytes += size
        return True
