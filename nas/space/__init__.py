"""Architecture specs, their string codec, search spaces and named reference architectures."""

from __future__ import annotations

from nas.space.spec import ArchSpec, ClassifierSpec, HeadSpec, NeckSpec, StageSpec, StemSpec, decode, encode

__all__ = ["ArchSpec", "ClassifierSpec", "HeadSpec", "NeckSpec", "StageSpec", "StemSpec", "decode", "encode"]
