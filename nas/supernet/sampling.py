"""Which sub-networks a supernet training step trains.

A scheme maps ``(space, seed, step)`` to the architectures of that step, drawn from the
seed and the step number alone, so a resumed training draws what an uninterrupted one
would have. Three schemes:

- ``uniform`` (single path, as SPOS): one architecture drawn uniformly at every decision.
  One forward and backward per step.
- ``sandwich`` (as BigNAS and OFA, without their in-place distillation): the largest and
  the smallest sub-network of a random draw's categorical choices (block types,
  activations, neck variant, depthwise or not) plus two uniform draws; their gradients
  add up before one optimiser step. Four forwards and backwards per step. The detector's
  outputs of two sub-networks do not line up (their proposals differ), so the small
  networks learn from the labels, not from the largest one's predictions.
- ``fair`` (strict fairness, as FairNAS): four architectures whose categorical choices
  (block type of every stage, activation, neck variant, depthwise or not) are a random
  permutation of the choices across the four (tiled when a decision has fewer), so every
  block type of a stage and every neck variant trains on the same batch at every step;
  numeric choices are drawn uniformly. Four forwards and backwards per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nas.errors import SupernetError
from nas.registry import Registry, callable_with
from nas.space.search_space import SearchSpace
from nas.space.spec import ArchSpec

__all__ = ["SCHEMES", "step_archs", "extreme_arch", "step_generator"]

Scheme = Callable[[SearchSpace, np.random.Generator], list[ArchSpec]]
SCHEMES: Registry[Scheme] = Registry("sampling scheme", callable_with("space", "rng"), error=SupernetError)


def step_generator(seed: int, step: int) -> np.random.Generator:
    """The random stream of training step ``step`` (0-based) of a run seeded ``seed``."""
    return np.random.default_rng([seed, step])


def step_archs(space: SearchSpace, scheme: str, seed: int, step: int) -> list[ArchSpec]:
    """The architectures step ``step`` of a ``scheme`` training seeded ``seed`` trains."""
    return SCHEMES.get(scheme)(space, step_generator(seed, step))


def _size(choice: Any) -> tuple[float, ...]:
    """How large a numeric choice is: a number, or a tuple (MixConv kernels, neck levels)
    by its length then its sum then its values."""
    if isinstance(choice, tuple):
        return (len(choice), sum(choice), *choice)
    return (float(choice),)


def _ordered(choices: Sequence[Any]) -> bool:
    """Numbers or tuples of numbers (the elastic dimensions); not names or booleans."""
    def numeric(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    return all(numeric(c) or (isinstance(c, tuple) and all(numeric(v) for v in c)) for c in choices)


def extreme_arch(space: SearchSpace, largest: bool, rng: np.random.Generator) -> ArchSpec:
    """The largest (or smallest) sub-network of one categorical draw: every ordered choice
    (width, depth, kernel, expansion, channels, levels, head sizes) at its extreme, every
    categorical one (block type, activation, neck variant, depthwise) drawn from ``rng``.
    Two generators in the same state give the largest and smallest of the same family."""

    def choose(name: str, choices: Sequence[Any]) -> Any:
        if _ordered(choices):
            return (max if largest else min)(choices, key=_size)
        return choices[int(rng.integers(len(choices)))]

    return space.build(choose)


def _uniform(space: SearchSpace, rng: np.random.Generator) -> list[ArchSpec]:
    return [space.sample(rng)]


def _sandwich(space: SearchSpace, rng: np.random.Generator) -> list[ArchSpec]:
    family = int(rng.integers(2**63))  # one categorical draw shared by both extremes
    largest = extreme_arch(space, True, np.random.default_rng(family))
    smallest = extreme_arch(space, False, np.random.default_rng(family))
    return [largest, smallest, space.sample(rng), space.sample(rng)]


# architectures a fair step trains: the most choices any categorical decision of the default space has
FAIR_ARCHS = 4


def _fair(space: SearchSpace, rng: np.random.Generator) -> list[ArchSpec]:
    permutations: dict[str, list[int]] = {}  # per categorical decision: the choice index of each architecture

    def chooser(k: int) -> Callable[[str, Sequence[Any]], Any]:
        def choose(name: str, choices: Sequence[Any]) -> Any:
            if _ordered(choices):
                return choices[int(rng.integers(len(choices)))]
            if name not in permutations:  # tiled when it has fewer choices: each used equally often
                tiled = [i % len(choices) for i in range(max(FAIR_ARCHS, len(choices)))]
                permutations[name] = [tiled[i] for i in rng.permutation(len(tiled))]
            return choices[permutations[name][k]]

        return choose

    return [space.build(chooser(k)) for k in range(FAIR_ARCHS)]


SCHEMES.register("uniform", _uniform)
SCHEMES.register("sandwich", _sandwich)
SCHEMES.register("fair", _fair)
