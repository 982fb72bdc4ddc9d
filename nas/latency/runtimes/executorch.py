"""``executorch`` runtime: torch.export -> XNNPACK-delegated ``.pte``, timed by ExecuTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas.errors import LatencyError
from nas.latency.programs import ProgramCache, executorch_version
from nas.latency.quantize import dtype_scheme
from nas.latency.runner import TimedFn, load_executorch, set_threads
from nas.latency.runtimes.base import LatencyRuntime, register_runtime


@register_runtime("executorch")
class ExecutorchRuntime(LatencyRuntime):
    """Programs are lowered once per name into the on-disk :class:`ProgramCache` (shared by
    every device profiled with this ExecuTorch version and dtype); locally they run in
    ExecuTorch's Python runtime, remotely the same files run on the device."""

    devices = ("cpu",)
    remote = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.programs = ProgramCache(self.cache, self.dtype)

    def info(self) -> dict[str, Any]:
        info = {**super().info(), "runtime_version": executorch_version(), "backend": "xnnpack", "program_flavour": self.programs.flavour}
        scheme = dtype_scheme(self.dtype)
        return {**info, "quantization": scheme} if scheme else info  # fp32 tables' meta.json stays as it was

    def prepare(self, names: list[str], workers: int = 1) -> None:
        self.programs.build(names, workers=workers)

    def unbuilt(self, names: list[str]) -> list[str]:
        return self.programs.missing(names)

    def timers(self, names: list[str]) -> dict[str, TimedFn]:
        set_threads(self.threads)
        out = {}
        for name in names:
            path = self.program_file(name)
            out[name] = load_executorch(str(path))
        return out

    def program_file(self, name: str) -> Path:
        path = self.programs.path(name)
        if not path.is_file():
            raise LatencyError(f"no ExecuTorch program for {name!r} in {self.programs.folder}; it is built by `nas profile` (prepare step)")
        return path
