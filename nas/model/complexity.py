"""Parameter and multiply-add (MAC) counts.

MACs come from fvcore's FlopCountAnalysis, which counts one per multiply-add of convs,
linear layers and matrix products. Batch norm is left out because it folds into the
preceding conv when deployed, and pooling and resampling are left out because they
have no multiply-adds; this is the convention of the published figures
(MobileNetV2-1.0: 300M MACs at 224x224).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["count_params", "count_macs"]

# The multiply-add ops counted: fvcore's defaults without norms, pooling and resampling.
_COUNTED = ("aten::addmm", "aten::bmm", "aten::_convolution", "aten::einsum", "aten::matmul", "aten::mm", "aten::linear")


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> int:
    """Multiply-adds of one forward pass on ``inputs`` (model put in eval mode)."""
    from fvcore.nn.flop_count import _DEFAULT_SUPPORTED_OPS
    from fvcore.nn.jit_analysis import JitModelAnalysis

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            analysis = JitModelAnalysis(model, inputs)
            analysis.set_op_handle(**{op: _DEFAULT_SUPPORTED_OPS[op] for op in _COUNTED})
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            return int(analysis.total())
    finally:
        model.train(was_training)
