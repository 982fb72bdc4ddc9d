"""int8 programs: the PT2E XNNPACK quantizer pass that runs before lowering.

One scheme (:data:`INT8_SCHEME`): XNNPACK's symmetric quantization config, int8 weights
per output channel, int8 activations per tensor with static ranges fixed by calibration.
``nas profile --dtype int8`` and ``nas latency validate`` on an int8 table calibrate on
:func:`synthetic_calibration` (seeded Gaussian inputs: activation ranges only change the
scale factors, not the kernels XNNPACK runs, so timing needs no real images);
``nas export --int8`` passes real training images (:mod:`nas.export.calibration`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from nas.latency.toolchain import quiet_toolchain

__all__ = ["INT8_SCHEME", "CALIBRATION_BATCHES", "dtype_scheme", "quantize_int8", "synthetic_calibration"]

# what meta.json records as `quantization` for an int8 table (fp32 tables record none)
INT8_SCHEME = "xnnpack-pt2e-symmetric-per-channel-static"
CALIBRATION_BATCHES = 4  # synthetic input tuples an op's min/max observers see before conversion
_CALIBRATION_SEED = 0


def dtype_scheme(dtype: str) -> str | None:
    """The quantization scheme programs of ``dtype`` are built with (None: not quantized)."""
    return INT8_SCHEME if dtype == "int8" else None


def synthetic_calibration(inputs: tuple[Tensor, ...], batches: int = CALIBRATION_BATCHES, seed: int = _CALIBRATION_SEED) -> list[tuple[Tensor, ...]]:
    """``batches`` input tuples shaped like ``inputs``, standard normal from a fixed seed
    (its own generator: the global RNG, which seeds the op's weights, is left alone)."""
    generator = torch.Generator().manual_seed(seed)
    return [tuple(torch.randn(x.shape, generator=generator, dtype=x.dtype) for x in inputs) for _ in range(batches)]


def quantize_int8(module: nn.Module, inputs: tuple[Tensor, ...], calibration: Sequence[tuple[Tensor, ...]]) -> nn.Module:
    """``module`` exported, annotated by the XNNPACK quantizer (:data:`INT8_SCHEME`),
    calibrated on each input tuple of ``calibration`` and converted: a graph module with
    quantize/dequantize pairs that XNNPACK lowers to int8 kernels."""
    with quiet_toolchain():
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

        graph = torch.export.export(module, inputs).module()
        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
        prepared = prepare_pt2e(graph, quantizer)  # type: ignore[arg-type]
        with torch.no_grad():
            for batch in calibration:
                prepared(*batch)
        return convert_pt2e(prepared)  # type: ignore[no-any-return]
