"""ExecuTorch export of a network in both dtypes: the program runs through the real
ExecuTorch runtime and matches eager; int8 (PT2E XNNPACK quantizer) is smaller and close."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.errors import ExportError
from nas.export import lower, run_pte


def _net() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                        nn.Conv2d(64, 64, 3, padding=1, groups=1), nn.ReLU(), nn.Conv2d(64, 16, 1))
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding them matters
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
    return net.eval(), (torch.randn(1, 3, 24, 32, generator=torch.Generator().manual_seed(1)),)


def _calibration(count: int = 4) -> list[tuple[torch.Tensor, ...]]:
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(1, 3, 24, 32, generator=generator),) for _ in range(count)]


def test_fp32_and_int8_programs(tmp_path):
    net, inputs = _net()
    with torch.no_grad():
        eager = net(*inputs)
    fp32 = lower(net, inputs, tmp_path / "fp32.pte", "fp32")
    int8 = lower(net, inputs, tmp_path / "int8.pte", "int8", calibration=_calibration())
    (out32,) = run_pte(fp32, inputs)
    (out8,) = run_pte(int8, inputs)
    assert out32.shape == out8.shape == eager.shape
    assert torch.allclose(out32, eager, rtol=1e-4, atol=1e-5)
    # int8: weights (~40k) take a quarter of the bytes; mean output error under 1% of the output range (0.16% measured)
    assert int8.stat().st_size < 0.5 * fp32.stat().st_size
    spread = float(eager.max() - eager.min())
    assert float((out8 - eager).abs().mean()) < 0.01 * spread
    assert not torch.allclose(out8, eager, rtol=1e-4, atol=1e-5)  # it really is quantized


def test_int8_needs_fitting_calibration(tmp_path):
    net, inputs = _net()
    with pytest.raises(ExportError, match="needs calibration inputs"):
        lower(net, inputs, tmp_path / "a.pte", "int8")
    with pytest.raises(ExportError, match=r"calibration inputs of shapes \[\(\(1, 3, 48, 64\),\)\] do not match"):
        lower(net, inputs, tmp_path / "b.pte", "int8", calibration=[(torch.zeros(1, 3, 48, 64),)])
    assert not list(tmp_path.iterdir())


def test_calibration_ranges_come_from_the_calibration_inputs(tmp_path):
    """The int8 program clips at the ranges it was calibrated on: calibrated on inputs ten
    times smaller than the ones it then runs on, its error is far larger."""
    net, inputs = _net()
    with torch.no_grad():
        eager = net(*inputs)
    fitting = run_pte(lower(net, inputs, tmp_path / "fit.pte", "int8", calibration=_calibration()), inputs)[0]
    small = [(x / 10,) for (x,) in _calibration()]
    clipped = run_pte(lower(net, inputs, tmp_path / "small.pte", "int8", calibration=small), inputs)[0]
    assert float((clipped - eager).abs().mean()) > 5 * float((fitting - eager).abs().mean())


def test_run_pte_takes_permuted_inputs(tmp_path):
    """An image converted from HWC is a permuted view; the runtime must see its values, not its memory."""
    net, inputs = _net()
    program = lower(net, inputs, tmp_path / "fp32.pte", "fp32")
    hwc = inputs[0][0].permute(1, 2, 0).contiguous()
    view = hwc.permute(2, 0, 1).unsqueeze(0)
    assert not view.is_contiguous() and torch.equal(view, inputs[0])
    assert torch.equal(run_pte(program, (view,))[0], run_pte(program, inputs)[0])


def test_unknown_dtype(tmp_path):
    net, inputs = _net()
    with pytest.raises(ExportError, match="unknown dtype 'fp16'"):
        lower(net, inputs, tmp_path / "x.pte", "fp16")
    assert not (tmp_path / "x.pte").exists()
