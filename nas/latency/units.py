"""Conv units: the maximal sequential chains of conv/bn/activation layers inside a module.

Neck ops are keyed per unit (see :mod:`nas.latency.opkinds`): the convs of FPN, PANet
and BiFPN are these units, and everything else a neck computes (sums, resizes, pools,
fusion weights) is its *glue*, measured once per neck shape with the units stripped.
"""

from __future__ import annotations

from torch import nn

from nas.layers.activations import ACTIVATIONS

__all__ = ["ACTIVATION_TYPES", "UNIT_LEAVES", "is_unit", "find_units", "strip_units", "unit_stride"]

# Leaf layers a conv unit may hold; a unit is a sequential chain of them, so flattening
# its nesting into one nn.Sequential computes exactly the same thing.
ACTIVATION_TYPES: dict[type[nn.Module], str] = {type(factory()): name for name, factory in ACTIVATIONS.items()}
UNIT_LEAVES: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.BatchNorm2d, nn.Identity, *ACTIVATION_TYPES)


def is_unit(module: nn.Module) -> bool:
    """A sequential module (or leaf conv) whose leaves are all conv/bn/activation layers."""
    if isinstance(module, nn.Conv2d):
        return True
    if not isinstance(module, nn.Sequential):
        return False
    leaves = [m for m in module.modules() if not list(m.children())]
    return bool(leaves) and all(isinstance(m, UNIT_LEAVES) for m in leaves) and all(
        isinstance(m, (nn.Sequential, *UNIT_LEAVES)) for m in module.modules()
    ) and any(isinstance(m, nn.Conv2d) for m in leaves)


def find_units(root: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """Maximal units under ``root`` as ``(dotted path, module)``, in registration order."""
    found: list[tuple[str, nn.Module]] = []
    for name, child in root.named_children():
        path = f"{prefix}{name}"
        if is_unit(child):
            found.append((path, child))
        else:
            found.extend(find_units(child, path + "."))
    return found


def unit_stride(unit: nn.Module) -> int:
    """Product of the conv strides of a unit (its spatial downsampling)."""
    stride = 1
    for m in unit.modules():
        if isinstance(m, nn.Conv2d):
            stride *= int(m.stride[0])
    return stride


def strip_units(root: nn.Module) -> None:
    """Replace every unit in place by an identity, or by a 1x1 subsampling pool when it
    strides (so shapes downstream stay those of the real module; cost: one strided copy)."""
    for path, unit in find_units(root):
        parent_path, _, name = path.rpartition(".")
        parent = root.get_submodule(parent_path) if parent_path else root
        stride = unit_stride(unit)
        replacement: nn.Module = nn.MaxPool2d(1, stride) if stride > 1 else nn.Identity()
        setattr(parent, name, replacement)
