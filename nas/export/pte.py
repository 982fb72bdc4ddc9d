"""ExecuTorch programs of trained architectures.

The deployable network is the one :mod:`nas.latency.programs` times end to end for
``model:<arch>`` programs, backbone + neck at the deploy input (its outputs flattened,
sorted by level), here with the trained proxy weights loaded. Lowering reuses
:data:`nas.latency.programs.LOWERINGS` (torch.export -> XNNPACK -> ``.pte``); int8 first
runs the PT2E XNNPACK quantizer (symmetric, per-channel weights) calibrated on the given
inputs (``nas export`` passes real training images, :mod:`nas.export.calibration`), then
lowers the quantized graph the same way (:mod:`nas.latency.quantize`, the pass int8 latency
tables are timed with, there on synthetic calibration inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor, nn

from nas.errors import ExportError
from nas.io import atomic_write_bytes, excerpt
from nas.latency.programs import LOWERINGS, build_program, model_program
from nas.latency.quantize import quantize_int8
from nas.space.spec import ArchSpec

__all__ = ["DTYPES", "deployable", "lower", "run_pte"]

DTYPES = ("fp32", "int8")
FEATURES_PREFIX = "features."  # the feature network's keys in a DensePose R-CNN state dict


def deployable(arch: ArchSpec, state_dict: dict[str, Tensor] | None) -> tuple[nn.Module, tuple[Tensor, ...]]:
    """The deployable module (trained weights when given) and example inputs at the deploy size."""
    built = build_program(model_program(arch.to_string()))
    module = built.module
    if state_dict is not None:
        features = {k[len(FEATURES_PREFIX):]: v for k, v in state_dict.items() if k.startswith(FEATURES_PREFIX)}
        if not features:
            raise ExportError(f"the weights of {arch.id} hold no '{FEATURES_PREFIX}*' keys: not a DensePose R-CNN state dict")
        target = getattr(module, "net", module)
        missing, unexpected = target.load_state_dict(features, strict=False)
        if missing or unexpected:
            raise ExportError(f"the weights do not fit {arch.id}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return module.eval(), tuple(built.inputs)


def lower(
    module: nn.Module, inputs: tuple[Tensor, ...], path: str | Path, dtype: str = "fp32", calibration: Sequence[tuple[Tensor, ...]] | None = None
) -> Path:
    """Write ``module`` as an XNNPACK-delegated ExecuTorch program at ``path``.

    ``calibration``: input tuples (shaped like ``inputs``) int8 fixes its activation ranges
    on; required for int8, unused for fp32.
    """
    if dtype not in DTYPES:
        raise ExportError(f"unknown dtype {excerpt(dtype)}; known: {', '.join(DTYPES)}")
    if dtype == "int8":
        if not calibration:
            raise ExportError("int8 export needs calibration inputs (images like the ones the network will run on)")
        shapes = {tuple(tuple(x.shape) for x in batch) for batch in calibration}
        if shapes != {tuple(tuple(x.shape) for x in inputs)}:
            raise ExportError(f"calibration inputs of shapes {sorted(shapes)} do not match the program's inputs {[tuple(x.shape) for x in inputs]}")
        module = quantize_int8(module, inputs, calibration)
    atomic_write_bytes(path, LOWERINGS["fp32"](module, inputs))
    return Path(path)


def run_pte(path: str | Path, inputs: tuple[Tensor, ...]) -> list[Tensor]:
    """Run a ``.pte`` once through ExecuTorch's runtime (used to check an export against eager)."""
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path)).load_method("forward")
    # contiguous: the runtime reads a tensor's memory in the program's (default) dim order,
    # so a permuted view (an image converted from HWC) would be read scrambled
    return [t.clone() for t in method.execute([x.contiguous() for x in inputs])]
