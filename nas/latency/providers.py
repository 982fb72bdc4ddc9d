"""Op providers: the parts of a deployed network, each deriving its op keys.

A provider serves one *part* (:data:`PARTS`, in execution order) for one architecture
(shapes flow between parts through a :class:`KeyContext`) and for a whole search space
(a :class:`SpaceContext`). :mod:`nas.latency.keys` registers the stem, backbone and neck
parts and runs them; :mod:`nas.latency.heads` registers the heads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nas.latency.opkinds import Shape
from nas.registry import Registry, instance_of
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = [
    "DEFAULT_ROIS",
    "PARTS",
    "Op",
    "KeyContext",
    "SpaceContext",
    "OpProvider",
    "OP_PROVIDERS",
    "register_op_provider",
    "op_providers",
    "enumerate_decisions",
]

# The parts of a deployed network, in execution order: a provider serves one of them.
PARTS = ("stem", "backbone", "neck", "heads")
DEFAULT_ROIS = 10  # RoIs the heads are keyed at: detections kept per image on a phone


@dataclass(frozen=True)
class Op:
    """One deployed op of an architecture.

    Attributes:
        part: ``stem``, ``backbone``, ``neck`` or ``heads``.
        name: where it sits, e.g. ``s2.b1`` or ``neck.lateral.0``.
        key: the op key (the latency table row).
    """

    part: str
    name: str
    key: str


@dataclass
class KeyContext:
    """Shapes flowing between parts while keys are derived for one architecture.

    Attributes:
        rois: RoIs per image the heads are keyed at.
        shape: (H, W, C) of the tensor leaving the last part.
        features: backbone features ``c<l>`` -> (H, W, C).
        levels: neck outputs ``p<l>`` -> (H, W, C).
    """

    rois: int = DEFAULT_ROIS
    shape: Shape = (0, 0, 0)
    features: dict[str, Shape] = field(default_factory=dict)
    levels: dict[str, Shape] = field(default_factory=dict)


@dataclass
class SpaceContext:
    """What the space enumeration knows between parts.

    Attributes:
        rois: RoIs per image the heads are keyed at.
        stem_shapes: possible stem outputs.
        stage_shapes: per stage, the possible outputs (H, W, C).
        level_shapes: possible neck outputs, each a sorted tuple of (name, (H, W, C)).
    """

    rois: int = DEFAULT_ROIS
    stem_shapes: set[Shape] = field(default_factory=set)
    stage_shapes: list[set[Shape]] = field(default_factory=list)
    level_shapes: set[tuple[tuple[str, Shape], ...]] = field(default_factory=set)


ArchOps = Callable[[ArchSpec, KeyContext], list[Op]]
SpaceOps = Callable[[SearchSpace, SpaceContext], set[str]]


@dataclass(frozen=True)
class OpProvider:
    """Ops of one part, for one architecture (``arch_ops``) and for a whole space (``space_ops``)."""

    part: str
    arch_ops: ArchOps
    space_ops: SpaceOps


def _known_part(part: str, provider: OpProvider) -> None:
    if part not in PARTS or provider.part != part:
        raise ValueError(f"op provider {provider.part!r} registered as {part!r}; parts are {', '.join(PARTS)}")


OP_PROVIDERS: Registry[OpProvider] = Registry("op provider", instance_of(OpProvider), admit=_known_part)


def register_op_provider(part: str, arch_ops: ArchOps, space_ops: SpaceOps) -> None:
    """Serve ``part`` (one of :data:`PARTS`); the heads register themselves this way."""
    OP_PROVIDERS.register(part, OpProvider(part, arch_ops, space_ops))


def op_providers() -> list[OpProvider]:
    """The registered providers, in execution order (:data:`PARTS`)."""
    return [OP_PROVIDERS.get(part) for part in PARTS if part in OP_PROVIDERS]


# -- enumerating a space's decisions ------------------------------------------------------
def enumerate_decisions(space: SearchSpace, varied: Callable[[str], bool]) -> Iterator[ArchSpec]:
    """Every architecture the space builds when the decisions ``varied(name)`` selects take
    all their values and every other decision its first value (a depth-first walk of
    the space's own define-by-run :meth:`~SearchSpace.build`)."""
    stack: list[list[int]] = [[]]
    while stack:
        prefix = stack.pop()
        trace: list[tuple[int, int]] = []

        def choose(name: str, choices: Any, prefix: list[int] = prefix, trace: list[tuple[int, int]] = trace) -> Any:
            if not varied(name):
                return choices[0]
            index = prefix[len(trace)] if len(trace) < len(prefix) else 0
            trace.append((index, len(choices)))
            return choices[index]

        yield space.build(choose)
        for depth in range(len(prefix), len(trace)):
            head = [t[0] for t in trace[:depth]]
            stack.extend(head + [j] for j in range(1, trace[depth][1]))
