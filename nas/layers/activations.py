"""Activation names used in spec strings, and their modules."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from nas.errors import SpecError
from nas.io import excerpt

# spec-string name -> module factory. "hs" is hard-swish (MobileNetV3), "sw" swish/SiLU (MixNet).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "hs": lambda: nn.Hardswish(inplace=True),
    "sw": lambda: nn.SiLU(inplace=True),
}


def make_activation(name: str | None) -> nn.Module:
    """Return a fresh activation module; ``None`` or ``"none"`` gives identity."""
    if name is None or name == "none":
        return nn.Identity()
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise SpecError(
            f"unknown activation {excerpt(name)}; known activations: {', '.join(ACTIVATIONS)}"
        ) from None
