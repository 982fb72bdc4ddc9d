"""The parts of an architecture spec: stem, stages, neck, head and classifier settings.

Plain frozen data, each part validated on construction with a message naming the part.
A stage's block-specific options are validated from their declarations at the block's
registration (:mod:`nas.blocks.options`); neck variants from theirs
(:mod:`nas.space.neck_variants`). :class:`~nas.space.spec.ArchSpec` assembles the parts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from nas.blocks import get_block
from nas.blocks.options import DEPTHWISE, EXPAND_GROUPS, EXPANSION, KERNELS, PROJECT_GROUPS, SE, SQUEEZE
from nas.errors import SpecError
from nas.io import excerpt
from nas.layers.activations import ACTIVATIONS
from nas.space.neck_variants import NECK_VARIANTS, repeat_variants

__all__ = [
    "StemSpec",
    "StageSpec",
    "NeckSpec",
    "HeadSpec",
    "ClassifierSpec",
    "FEATURE_STRIDES",
    "MAX_LEVEL",
    "STAGE_FIELDS",
    "require",
]

# Backbone feature strides a neck can draw from, and their names (detectron2's res2..res5).
FEATURE_STRIDES: dict[str, int] = {"c2": 4, "c3": 8, "c4": 16, "c5": 32}
MAX_LEVEL = 7  # P7 = stride 128, the highest level a neck may add on top of C5
# Stage fields every block takes; the other StageSpec fields are block options.
STAGE_FIELDS = ("block", "channels", "depth", "stride", "act")


def require(cond: bool, message: str) -> None:
    """Raise :class:`~nas.errors.SpecError` with ``message`` unless ``cond`` holds."""
    if not cond:
        raise SpecError(message)


def _check_act(act: str, where: str) -> None:
    require(act in ACTIVATIONS, f"{where}: unknown activation {excerpt(act)}; expected one of {', '.join(ACTIVATIONS)}")


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
        require(1 <= self.channels <= 4096, f"stem: channels {self.channels} out of range 1..4096")
        require(self.kernel in (1, 3, 5, 7), f"stem: kernel {self.kernel} not one of 1, 3, 5, 7")
        require(self.stride in (1, 2), f"stem: stride {self.stride} not 1 or 2")
        require(self.padding is None or 0 <= self.padding <= self.kernel // 2, f"stem: padding {self.padding} out of range 0..{self.kernel // 2}")
        _check_act(self.act, "stem")

    @property
    def total_stride(self) -> int:
        return self.stride * (2 if self.pool else 1)


@dataclass(frozen=True)
class StageSpec:
    """``depth`` repeats of one block type; the first repeat carries the stride.

    Only the options the block type declares (:mod:`nas.blocks.options`) may differ from
    their defaults; see :mod:`nas.space.codec` for the string letters.

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
    kernels: tuple[int, ...] = KERNELS.default
    expansion: float = EXPANSION.default
    se: float = SE.default
    act: str = "relu"
    squeeze: int = SQUEEZE.default
    depthwise: bool = DEPTHWISE.default
    expand_groups: int = EXPAND_GROUPS.default
    project_groups: int = PROJECT_GROUPS.default

    def __post_init__(self) -> None:
        where = f"stage {self.block!r}"
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels))
        require(1 <= self.channels <= 8192, f"{where}: channels {self.channels} out of range 1..8192")
        require(1 <= self.depth <= 32, f"{where}: depth {self.depth} out of range 1..32")
        require(self.stride in (1, 2), f"{where}: stride {self.stride} not 1 or 2")
        _check_act(self.act, where)
        block = get_block(self.block)
        for option in block.options:
            problem = option.problem(getattr(self, option.name))
            require(problem is None, f"{where}: {problem}")
        for f in fields(self):
            if f.name not in block.option_names and f.name not in STAGE_FIELDS:
                require(getattr(self, f.name) == f.default, f"{where}: block {self.block!r} does not take option {f.name!r}")

    def block_params(self) -> dict[str, Any]:
        """Keyword arguments for the block builder: the activation and the block's options."""
        return {"act": self.act, **{o.name: getattr(self, o.name) for o in get_block(self.block).options}}


@dataclass(frozen=True)
class NeckSpec:
    """Feature pyramid in front of the heads.

    Attributes:
        variant: a declared variant (:mod:`nas.space.neck_variants`): ``none`` (one level,
            1x1 projection), ``fpn``, ``panet`` or ``bifpn``.
        channels: channels of every output level.
        min_level: lowest output level P<min> (stride 2**min).
        max_level: highest output level; above P5 extra levels are downsampled from it.
        depthwise: 3x3 convs are depthwise-separable.
        repeats: stacked layers of the variants that stack (BiFPN); 1 for the others.
    """

    variant: str = "fpn"
    channels: int = 64
    min_level: int = 2
    max_level: int = 5
    depthwise: bool = False
    repeats: int = 1

    def __post_init__(self) -> None:
        require(self.variant in NECK_VARIANTS, f"neck: unknown variant {excerpt(self.variant)}; expected one of {', '.join(NECK_VARIANTS)}")
        require(1 <= self.channels <= 1024, f"neck: channels {self.channels} out of range 1..1024")
        require(2 <= self.min_level <= self.max_level <= MAX_LEVEL, f"neck: levels {self.min_level}..{self.max_level} must satisfy 2 <= min <= max <= {MAX_LEVEL}")
        require(1 <= self.repeats <= 8, f"neck: repeats {self.repeats} out of range 1..8")
        variant = NECK_VARIANTS.get(self.variant)
        if not variant.multi_level:
            require(self.min_level == self.max_level <= 5, f"neck {self.variant!r} has one level: write l<k>.<k> with k in 2..5")
        else:
            require(self.max_level - self.min_level >= 1, f"neck {self.variant!r} needs at least two levels")
        if not variant.repeats:
            require(self.repeats == 1, f"neck {self.variant!r}: repeats apply to {', '.join(repeat_variants())} only")

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
        require(1 <= self.convs <= 16, f"head: convs {self.convs} out of range 1..16")
        require(1 <= self.channels <= 1024, f"head: channels {self.channels} out of range 1..1024")
        require(self.kernel in (1, 3, 5), f"head: kernel {self.kernel} not one of 1, 3, 5")
        require(4 <= self.pool <= 64, f"head: pool {self.pool} out of range 4..64")
        require(self.out >= self.pool and self.out % self.pool == 0, f"head: output size {self.out} must be a multiple of pool {self.pool}")
        require(16 <= self.box_dim <= 4096, f"head: box_dim {self.box_dim} out of range 16..4096")


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
        require(0 <= self.hidden <= 16384, f"classifier: hidden {self.hidden} out of range 0..16384")
        require(not (self.conv and self.hidden), "classifier: a conv classifier has no hidden layer")
        require(self.hidden > 0 or self.act == "relu", "classifier: an activation applies only with a hidden layer h<n>")
        _check_act(self.act, "classifier")
