"""Architecture specs: plain frozen data describing one candidate network.

An :class:`ArchSpec` is the stem, the backbone stages, the neck in front of the heads,
the DensePose head settings and the deploy input size (the resolution latency is
measured at). It round-trips exactly through a compact string (:mod:`nas.space.codec`)
and through JSON; its :attr:`ArchSpec.id` is a short hash of the canonical string.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from nas.errors import SpecError
from nas.layers.activations import ACTIVATIONS

__all__ = [
    "StemSpec",
    "StageSpec",
    "NeckSpec",
    "HeadSpec",
    "ClassifierSpec",
    "ArchSpec",
    "NECK_VARIANTS",
    "FEATURE_STRIDES",
]

# Backbone feature strides a neck can draw from, and their names (detectron2's res2..res5).
FEATURE_STRIDES: dict[str, int] = {"c2": 4, "c3": 8, "c4": 16, "c5": 32}
NECK_VARIANTS = ("none", "fpn", "panet", "bifpn")
MAX_LEVEL = 7  # P7 = stride 128, the highest level a neck may add on top of C5


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise SpecError(message)


def _check_act(act: str, where: str) -> None:
    _check(act in ACTIVATIONS, f"{where}: unknown activation {act!r}; expected one of {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class StemSpec:
    """First conv (and optional max-pool) turning the RGB image into features.

    Attributes:
        channels: output channels.
        kernel: conv kernel size.
        stride: conv stride.
        act: activation name.
        pool: a 3x3/2 max-pool after the conv (ResNet, SqueezeNet).
        padding: conv padding; ``None`` means "same" (``kernel // 2``). SqueezeNet 1.1 uses 0.
    """

    channels: int
    kernel: int = 3
    stride: int = 2
    act: str = "relu"
    pool: bool = False
    padding: int | None = None

    def __post_init__(self) -> None:
        _check(1 <= self.channels <= 4096, f"stem: channels {self.channels} out of range 1..4096")
        _check(self.kernel in (1, 3, 5, 7), f"stem: kernel {self.kernel} not one of 1, 3, 5, 7")
        _check(self.stride in (1, 2), f"stem: stride {self.stride} not 1 or 2")
        _check(self.padding is None or 0 <= self.padding <= self.kernel // 2, f"stem: padding {self.padding} out of range 0..{self.kernel // 2}")
        _check_act(self.act, "stem")

    @property
    def total_stride(self) -> int:
        return self.stride * (2 if self.pool else 1)


@dataclass(frozen=True)
class StageSpec:
    """``depth`` repeats of one block type; the first repeat carries the stride.

    Only the options the block type accepts may differ from their defaults (the block
    registry lists them); see :mod:`nas.space.codec` for the string letters.

    Attributes:
        block: registered block type (``ir``, ``mix``, ``fire``, ``dw``, ``conv``, ``res``).
        channels: output channels of every repeat.
        depth: number of repeats.
        stride: stride of the first repeat (1 or 2).
        kernels: depthwise kernel size(s); several only for ``mix``.
        expansion: inner width / input width (``ir``, ``mix``); inner / output for ``res``.
        se: squeeze-excite ratio of the inner width, 0 for none.
        act: activation name.
        squeeze: fire squeeze width.
        depthwise: fire 3x3 expand branch is depthwise + pointwise.
        expand_groups: groups of the 1x1 expand conv (MixNet).
        project_groups: groups of the 1x1 project conv (MixNet).
    """

    block: str
    channels: int
    depth: int = 1
    stride: int = 1
    kernels: tuple[int, ...] = (3,)
    expansion: float = 1.0
    se: float = 0.0
    act: str = "relu"
    squeeze: int = 0
    depthwise: bool = False
    expand_groups: int = 1
    project_groups: int = 1

    def __post_init__(self) -> None:
        where = f"stage {self.block!r}"
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels))
        _check(1 <= self.channels <= 8192, f"{where}: channels {self.channels} out of range 1..8192")
        _check(1 <= self.depth <= 32, f"{where}: depth {self.depth} out of range 1..32")
        _check(self.stride in (1, 2), f"{where}: stride {self.stride} not 1 or 2")
        _check(len(self.kernels) >= 1, f"{where}: at least one kernel size is needed")
        _check(all(k in (1, 3, 5, 7, 9, 11) for k in self.kernels), f"{where}: kernel sizes {self.kernels} must be odd, 1..11")
        _check(0 < self.expansion <= 16, f"{where}: expansion {self.expansion} out of range (0, 16]")
        _check(0 <= self.se <= 1, f"{where}: se ratio {self.se} out of range [0, 1]")
        _check(0 <= self.squeeze <= 4096, f"{where}: squeeze {self.squeeze} out of range 0..4096")
        _check(self.expand_groups >= 1 and self.project_groups >= 1, f"{where}: groups must be >= 1")
        _check_act(self.act, where)
        from nas.blocks import get_block

        block = get_block(self.block)
        options = block.options
        low, high = block.kernel_count
        if "kernels" in options:
            _check(low <= len(self.kernels) <= high, f"{where}: takes {low}..{high} kernel sizes, got {len(self.kernels)} ({self.kernels})")
        for f in fields(self):
            if f.name not in options and f.name not in ("block", "channels", "depth", "stride", "act"):
                _check(getattr(self, f.name) == f.default, f"{where}: block {self.block!r} does not take option {f.name!r}")
        if self.block == "fire":
            _check(self.squeeze >= 1, f"{where}: fire needs a squeeze width sq<n> >= 1")

    def block_params(self) -> dict[str, Any]:
        """Keyword arguments for the block builder: the options this block type accepts."""
        from nas.blocks import get_block

        options = get_block(self.block).options
        params: dict[str, Any] = {"act": self.act}
        for name in ("kernels", "expansion", "se", "squeeze", "depthwise", "expand_groups", "project_groups"):
            if name in options:
                params[name] = getattr(self, name)
        return params


@dataclass(frozen=True)
class NeckSpec:
    """Feature pyramid in front of the heads.

    Attributes:
        variant: ``none`` (one level, 1x1 projection), ``fpn``, ``panet`` or ``bifpn``.
        channels: channels of every output level.
        min_level: lowest output level P<min> (stride 2**min).
        max_level: highest output level; above P5 extra levels are downsampled from it.
        depthwise: 3x3 convs are depthwise-separable.
        repeats: stacked BiFPN layers (1 for the other variants).
    """

    variant: str = "fpn"
    channels: int = 64
    min_level: int = 2
    max_level: int = 5
    depthwise: bool = False
    repeats: int = 1

    def __post_init__(self) -> None:
        _check(self.variant in NECK_VARIANTS, f"neck: unknown variant {self.variant!r}; expected one of {', '.join(NECK_VARIANTS)}")
        _check(1 <= self.channels <= 1024, f"neck: channels {self.channels} out of range 1..1024")
        _check(2 <= self.min_level <= self.max_level <= MAX_LEVEL, f"neck: levels {self.min_level}..{self.max_level} must satisfy 2 <= min <= max <= {MAX_LEVEL}")
        _check(1 <= self.repeats <= 8, f"neck: repeats {self.repeats} out of range 1..8")
        if self.variant == "none":
            _check(self.min_level == self.max_level <= 5, "neck 'none' has one level: write l<k>.<k> with k in 2..5")
        else:
            _check(self.max_level - self.min_level >= 1, f"neck {self.variant!r} needs at least two levels")
        if self.variant != "bifpn":
            _check(self.repeats == 1, f"neck {self.variant!r}: repeats apply to bifpn only")

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(range(self.min_level, self.max_level + 1))


@dataclass(frozen=True)
class HeadSpec:
    """DensePose R-CNN head settings.

    Attributes:
        convs: stacked convs of the DensePose head.
        channels: their width.
        kernel: their kernel size.
        pool: RoIAlign output resolution fed to the head.
        out: side of the predicted I/U/V maps (upsampled from ``pool``).
        box_dim: hidden width of the box head's two FC layers.
    """

    convs: int = 4
    channels: int = 128
    kernel: int = 3
    pool: int = 14
    out: int = 56
    box_dim: int = 256

    def __post_init__(self) -> None:
        _check(1 <= self.convs <= 16, f"head: convs {self.convs} out of range 1..16")
        _check(1 <= self.channels <= 1024, f"head: channels {self.channels} out of range 1..1024")
        _check(self.kernel in (1, 3, 5), f"head: kernel {self.kernel} not one of 1, 3, 5")
        _check(4 <= self.pool <= 64, f"head: pool {self.pool} out of range 4..64")
        _check(self.out >= self.pool and self.out % self.pool == 0, f"head: output size {self.out} must be a multiple of pool {self.pool}")
        _check(16 <= self.box_dim <= 4096, f"head: box_dim {self.box_dim} out of range 16..4096")


@dataclass(frozen=True)
class ClassifierSpec:
    """ImageNet-style classifier settings, used only with ``--classifier N``.

    Attributes:
        hidden: width of a pre-logits FC layer (MobileNetV3's 1280), 0 for none.
        act: activation after the hidden layer.
        conv: SqueezeNet style, 1x1 conv to the classes then ReLU and global pooling.
    """

    hidden: int = 0
    act: str = "relu"
    conv: bool = False

    def __post_init__(self) -> None:
        _check(0 <= self.hidden <= 16384, f"classifier: hidden {self.hidden} out of range 0..16384")
        _check(not (self.conv and self.hidden), "classifier: a conv classifier has no hidden layer")
        _check(self.hidden > 0 or self.act == "relu", "classifier: an activation applies only with a hidden layer h<n>")
        _check_act(self.act, "classifier")


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
        _check(len(self.stages) >= 1, "an architecture needs at least one stage")
        h, w = self.input_size
        _check(32 <= h <= 4096 and 32 <= w <= 4096, f"input size {h}x{w} out of range 32..4096")
        from nas.blocks import get_block

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
        from nas.space.codec import encode

        return encode(self)

    @classmethod
    def from_string(cls, text: str) -> ArchSpec:
        from nas.space.codec import decode

        return decode(text)

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
        raise SpecError(f"architecture JSON: {where} must be [height, width] integers, got {value!r}")
    return list(value)


def _from_fields(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(f"architecture JSON: {where} must be an object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SpecError(f"architecture JSON: {where} has unknown keys {unknown}; known keys: {sorted(known)}")
    kwargs = dict(data)
    if "kernels" in kwargs:
        if not isinstance(kwargs["kernels"], (list, tuple)):
            raise SpecError(f"architecture JSON: {where}.kernels must be a list of integers")
        kwargs["kernels"] = tuple(kwargs["kernels"])
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SpecError(f"architecture JSON: {where}: {exc}") from None
    except SpecError as exc:
        raise SpecError(f"architecture JSON: {where}: {exc}") from None
