"""``torch`` runtime: eager PyTorch on CPU threads, or CUDA timed with events."""

from __future__ import annotations

import time
from typing import Any

import torch

from nas.errors import LatencyError
from nas.io import excerpt
from nas.latency.programs import build_program
from nas.latency.runner import TimedFn
from nas.latency.runtimes.base import LatencyRuntime, register_runtime


@register_runtime("torch")
class TorchRuntime(LatencyRuntime):
    """Modules are rebuilt from their names in this process (no files, local only)."""

    devices = ("cpu", "cuda")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.dtype != "fp32":
            raise LatencyError(f"runtime 'torch' measures fp32 only, not {excerpt(self.dtype)}; "
                               "profile int8 with --runtime executorch (XNNPACK's int8 kernels)")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise LatencyError(
                f"--device cuda asked but this torch ({torch.__version__}) sees no CUDA device; "
                "install a CUDA build of torch on a GPU machine, or profile with --device cpu"
            )

    def info(self) -> dict[str, Any]:
        info = {**super().info(), "runtime_version": torch.__version__}
        if self.device == "cuda":
            info["gpu_model"] = torch.cuda.get_device_name(0)
            info["cuda_version"] = torch.version.cuda
        return info

    def timers(self, names: list[str]) -> dict[str, TimedFn]:
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        return {name: self._timer(name) for name in names}

    def _timer(self, name: str) -> TimedFn:
        built = build_program(name)
        module = built.module.to(self.device)
        inputs = tuple(x.to(self.device) for x in built.inputs)
        if self.device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

            def run_cuda() -> float:
                with torch.inference_mode():
                    start.record()
                    module(*inputs)
                    end.record()
                end.synchronize()  # kernels are asynchronous: wait before reading the events
                return float(start.elapsed_time(end))

            return run_cuda

        def run_cpu() -> float:
            with torch.inference_mode():
                begin = time.perf_counter_ns()
                module(*inputs)
                return (time.perf_counter_ns() - begin) / 1e6

        return run_cpu
