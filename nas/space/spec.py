"""Architecture specs: plain frozen data describing one candidate network.

An :class:`ArchSpec` is the stem, the backbone stages, the neck in front of the heads,
the DensePose head settings and the deploy input size (the resolution latency is
measured at). It round-trips exactly through a compact string (:mod:`nas.space.codec`)
and through JSON; its :attr:`ArchSpec.id` is a short hash of the canonical string. The
parts it assembles live in :mod:`nas.space.parts` and are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from nas.blocks import get_block
from nas.errors import SpecError
from nas.io import excerpt
from nas.space.codec import decode_fields, encode
from nas.space.neck_variants import NECK_VARIANTS
from nas.space.parts import FEATURE_STRIDES, ClassifierSpec, HeadSpec, NeckSpec, StageSpec, StemSpec, require

# the parts are re-exported: ``from nas.space.spec import StageSpec`` is the usual import
__all__ = ["ArchSpec", "decode", "encode", "NECK_VARIANTS", "FEATURE_STRIDES", "StemSpec", "StageSpec", "NeckSpec", "HeadSpec", "ClassifierSpec", "MAX_STAGES"]

# Stages an architecture may have: the references have at most 12 and the default space
# 8; thousands would take minutes and gigabytes to build before any check could say so.
MAX_STAGES = 64


@dataclass(frozen=True)
class ArchSpec:
    """One candidate network: stem, stages, neck, head and deploy input size (H, W)."""

    stem: StemSpec
    stages: tuple[StageSpec, ...]
    neck: NeckSpec = field(default_factory=NeckSpec)
    head: HeadSpec = field(default_factory=HeadSpec)
    input_size: tuple[int, int] = (512, 384)
    classifier: ClassifierSpec = field(default_factory=ClassifierSpec)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        require(1 <= len(self.stages) <= MAX_STAGES,
                f"an architecture has 1..{MAX_STAGES} stages, got {len(self.stages)}")
        h, w = self.input_size
        require(32 <= h <= 4096 and 32 <= w <= 4096, f"input size {h}x{w} out of range 32..4096")
        for stage in self.stages:
            get_block(stage.block)  # unknown block types fail here, listing the known ones

    # -- derived -------------------------------------------------------------------
    def stage_strides(self) -> list[int]:
        """Cumulative output stride after each stage."""
        stride, out = self.stem.total_stride, []
        for stage in self.stages:
            stride *= stage.stride
            out.append(stride)
        return out

    def feature_stages(self) -> dict[str, int]:
        """Backbone feature name -> index of the last stage at that stride."""
        by_stride = {s: name for name, s in FEATURE_STRIDES.items()}
        found: dict[str, int] = {}
        for index, stride in enumerate(self.stage_strides()):
            if stride in by_stride:
                found[by_stride[stride]] = index
        return dict(sorted(found.items(), key=lambda kv: FEATURE_STRIDES[kv[0]]))

    # -- codecs --------------------------------------------------------------------
    def to_string(self) -> str:
        """Canonical compact string (see :mod:`nas.space.codec`)."""
        return encode(self)

    @classmethod
    def from_string(cls, text: str) -> ArchSpec:
        return cls(**decode_fields(text))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        for stage in data["stages"]:
            stage["kernels"] = list(stage["kernels"])
        return data

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchSpec:
        """Inverse of :meth:`to_dict`; unknown or missing keys fail with their path."""
        if not isinstance(data, dict):
            raise SpecError(f"architecture JSON must be an object, got {type(data).__name__}")
        known = sorted(f.name for f in fields(cls))
        unknown = sorted(set(data) - set(known))
        if unknown:  # a misspelt part would otherwise be left at its default without a word
            raise SpecError(f"architecture JSON has unknown keys {excerpt(unknown, 200)}; known keys: {known}")
        stages = data.get("stages")
        if not isinstance(stages, list):
            raise SpecError("architecture JSON: 'stages' must be a list of stage objects")
        return cls(
            stem=_from_fields(StemSpec, data.get("stem"), "stem"),
            stages=tuple(_from_fields(StageSpec, s, f"stages[{i}]") for i, s in enumerate(stages)),
            neck=_from_fields(NeckSpec, data.get("neck", {}), "neck"),
            head=_from_fields(HeadSpec, data.get("head", {}), "head"),
            input_size=tuple(_int_pair(data.get("input_size", [512, 384]), "input_size")),  # type: ignore[arg-type]
            classifier=_from_fields(ClassifierSpec, data.get("classifier", {}), "classifier"),
        )

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"architecture JSON is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @property
    def id(self) -> str:
        """Short stable id: the first 10 hex digits of the canonical string's SHA-256."""
        return hashlib.sha256(self.to_string().encode()).hexdigest()[:10]


def _int_pair(value: Any, where: str) -> list[int]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise SpecError(f"architecture JSON: {where} must be [height, width] integers, got {excerpt(value)}")
    return list(value)


def _from_fields(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(f"architecture JSON: {where} must be an object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SpecError(f"architecture JSON: {where} has unknown keys {excerpt(unknown, 200)}; known keys: {sorted(known)}")
    kwargs = dict(data)
    for name, value in data.items():
        if isinstance(known[name].default, tuple):  # tuple fields (kernels) are JSON lists
            if not isinstance(value, (list, tuple)):
                raise SpecError(f"architecture JSON: {where}.{name} must be a list of integers")
            kwargs[name] = tuple(value)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SpecError(f"architecture JSON: {where}: {exc}") from None
    except SpecError as exc:
        raise SpecError(f"architecture JSON: {where}: {exc}") from None


def decode(text: str) -> ArchSpec:
    """Parse an architecture string (grammar: :mod:`nas.space.codec`)."""
    return ArchSpec.from_string(text)
