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

        graph = _unshare_constants(torch.export.export(module, inputs).module())
        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
        prepared = prepare_pt2e(graph, quantizer)  # type: ignore[arg-type]
        with torch.no_grad():
            for batch in calibration:
                prepared(*batch)
        return convert_pt2e(prepared)  # type: ignore[no-any-return]


def _unshare_constants(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Give every use of a shared weight its own node (the same tensor), in place.

    The quantizer annotates a weight node once: a conv applied to several inputs with one
    weight (the RPN head, on every feature level) kept fp32 weights in all uses but the
    first, and XNNPACK refuses an int8 convolution with fp32 weights when loading the
    program. A graph without shared weights is left as it was.
    """
    for node in list(graph.graph.nodes):
        if node.op != "get_attr" or len(node.users) < 2:
            continue
        for user in list(node.users)[1:]:
            with graph.graph.inserting_before(user):
                copy = graph.graph.get_attr(str(node.target))
            copy.meta = dict(node.meta)  # the tensor's fake value and provenance, which annotation reads
            user.replace_input_with(node, copy)
    graph.recompile()
    return graph

