"""Remote transports: a device reached through a command prefix (``adb -s SERIAL``, ``ssh HOST``).

The transport pushes the cached ``.pte`` files (and, for the ``nas-runner`` format, the
runner script) into a working folder on the device, then runs the benchmark command
template there and parses its output strictly (:mod:`nas.latency.parsers`).

Kinds, registered transports chosen by the prefix's program name (their ``program``):

* ``adb``: push with ``<prefix> push FILE DIR/``, run with ``<prefix> shell CMD``;
  default format ``executor-runner``: ExecuTorch's C++ runner (build
  ``executor_runner`` with ``-DEXECUTORCH_BUILD_XNNPACK=ON`` for Android arm64 and push it
  into the folder), pinned to the big cores with ``taskset``.
* anything else (``ssh HOST``, or ``sh -c`` for a local loopback device): push with
  ``<prefix> 'cat > DIR/FILE'`` (file on stdin), run with ``<prefix> CMD``; default
  format ``nas-runner``: ``python3`` with the ``executorch`` wheel on the device.

Template placeholders: ``{dir}`` working folder, ``{files}`` (space-separated) or
``{file}`` (one invocation per program and round), ``{python}``, ``{threads}``,
``{warmup}``, ``{rounds}``, ``{seed}``, ``{budget_ms}`` and ``{min_rounds}`` (timing budget per
program, 0: none; see :mod:`nas.latency.runner`), ``{cpus}`` (taskset mask), ``{iterations}``.
"""

from __future__ import annotations

import random
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.errors import DeviceError, LatencyError
from nas.latency import runner as runner_module
from nas.latency.parsers import PARSERS
from nas.latency.runner import budgeted_rounds
from nas.latency.runtimes.base import LatencyRuntime
from nas.latency.transports.base import TRANSPORTS, MeasureSettings, Transport, register_transport
from nas.registry import Registry, instance_of

__all__ = ["BenchCommand", "BENCH_COMMANDS", "CommandTransport", "AdbTransport", "remote_transport"]

RUNNER_NAME = "nas_runner.py"


@dataclass(frozen=True)
class BenchCommand:
    """A benchmark command template and the parser of its output.

    Attributes:
        format: parser name (a name in :data:`nas.latency.parsers.PARSERS`).
        template: shell command run on the device (placeholders in the module doc).
    """

    format: str
    template: str

    @property
    def per_file(self) -> bool:
        return "{file}" in self.template


BENCH_COMMANDS: Registry[BenchCommand] = Registry("benchmark format", instance_of(BenchCommand), plural="formats")


def _register_bench(bench: BenchCommand) -> None:
    BENCH_COMMANDS.register(bench.format, bench)


_register_bench(BenchCommand(
    "nas-runner",
    "cd {dir} && {python} " + RUNNER_NAME + " --threads {threads} --warmup {warmup} --rounds {rounds} --seed {seed}"
    " --budget-ms {budget_ms} --min-rounds {min_rounds} {files}",
))
# ExecuTorch's portable runner with the XNNPACK backend linked in; on a big.LITTLE
# phone 'f0' pins it to cores 4-7 (the big cluster on most 4+4 SoCs)
_register_bench(BenchCommand(
    "executor-runner",
    "cd {dir} && taskset {cpus} ./executor_runner --model_path {file} --num_executions {iterations}",
))


@register_transport("command")
class CommandTransport(Transport):
    """A device behind a command prefix that takes one shell command string (``ssh HOST``).

    Args:
        prefix: the command prefix, e.g. ``ssh pi@board`` or ``sh -c`` (loopback).
        workdir: working folder on the device.
        bench: benchmark command (default: :attr:`default_bench`).
        python: Python interpreter on the device (``nas-runner`` format).
        cpus: taskset CPU mask (``executor-runner`` format).
        iterations: executions per ``executor_runner`` invocation.
        timeout: seconds one device command may take before the device counts as gone.
    """

    program: str | None = None  # the prefix program this kind serves; None: any other
    default_bench = "nas-runner"
    default_workdir = "/tmp/nas-latency"

    def __init__(
        self,
        prefix: str,
        workdir: str | None = None,
        bench: BenchCommand | None = None,
        python: str = "python3",
        cpus: str = "f0",
        iterations: int = 10,
        timeout: float = 900.0,
    ) -> None:
        self.prefix = shlex.split(prefix)
        if not self.prefix:
            raise LatencyError("--remote needs a command prefix, e.g. 'adb -s SERIAL' or 'ssh HOST'")
        self.workdir = workdir or self.default_workdir
        self.bench = bench or BENCH_COMMANDS[self.default_bench]
        self.parse = PARSERS.get(self.bench.format)
        self.python, self.cpus, self.iterations, self.timeout = python, cpus, iterations, timeout
        self._present: set[str] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "transport": self.name,
            "remote": shlex.join(self.prefix),
            "workdir": self.workdir,
            "bench_format": self.bench.format,
            "bench_template": self.bench.template,
            "cpus": self.cpus if "{cpus}" in self.bench.template else None,
        }

    # -- device commands -----------------------------------------------------------
    def _run_argv(self, command: str) -> list[str]:
        return [*self.prefix, command]

    def _push_file(self, local: Path, remote_name: str) -> None:
        with local.open("rb") as handle:
            self._call(self._run_argv(f"cat > {shlex.quote(self.workdir + '/' + remote_name)}"), stdin=handle)

    def _call(self, argv: list[str], stdin: Any = None) -> str:
        what = shlex.join(argv)
        try:
            done = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise DeviceError(f"cannot run {argv[0]!r} for --remote {shlex.join(self.prefix)!r}: not found on this machine's PATH") from None
        except subprocess.TimeoutExpired:
            raise DeviceError(f"device {shlex.join(self.prefix)!r} did not answer within {self.timeout:.0f} s running: {what}; the rows measured so far are saved, re-run the same command to resume") from None
        out = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            err = (done.stderr.decode(errors="replace") + out).strip().splitlines()
            raise DeviceError(
                f"device {shlex.join(self.prefix)!r} failed (exit {done.returncode}) running: {what}: "
                f"{err[-1] if err else 'no output'}; the rows measured so far are saved: reconnect the device and re-run the same command to measure only the missing ops"
            )
        return out

    def _ensure_files(self, files: dict[str, Path]) -> None:
        if self._present is None:
            listing = self._call(self._run_argv(f"mkdir -p {shlex.quote(self.workdir)} && ls -1 {shlex.quote(self.workdir)}"))
            self._present = set(listing.split())
        for remote_name, local in files.items():
            if remote_name not in self._present:
                self._push_file(local, remote_name)
                self._present.add(remote_name)

    _FINGERPRINT_COMMAND = "uname -m; cat /proc/cpuinfo 2>/dev/null; true"

    def fingerprint(self, runtime: LatencyRuntime) -> dict[str, Any]:
        """Read from the device's ``/proc/cpuinfo`` (empty where it has none)."""
        from nas.latency.fingerprint import parse_cpuinfo

        machine, _, cpuinfo = self._call(self._run_argv(self._FINGERPRINT_COMMAND)).partition("\n")
        return {**parse_cpuinfo(cpuinfo), **({"machine": machine.strip()} if machine.strip() else {})}

    # -- measuring -------------------------------------------------------------------
    def measure(self, runtime: LatencyRuntime, names: list[str], settings: MeasureSettings) -> dict[str, list[float]]:
        if not runtime.remote:
            runtime.program_file(names[0])  # raises the runtime's own explanation
        files = {runtime.program_file(n).name: runtime.program_file(n) for n in names}
        by_file = {runtime.program_file(n).name: n for n in names}
        if self.bench.format == "nas-runner":
            files[RUNNER_NAME] = Path(runner_module.__file__)
        self._ensure_files(files)
        fields = {
            "dir": shlex.quote(self.workdir),
            "python": self.python,
            "threads": runtime.threads,
            "warmup": settings.warmup,
            "rounds": settings.rounds,
            "seed": settings.seed,
            "budget_ms": f"{settings.budget_ms or 0:g}",
            "min_rounds": settings.min_rounds,
            "cpus": self.cpus,
            "iterations": self.iterations,
        }
        samples: dict[str, list[float]] = {n: [] for n in names}
        if not self.bench.per_file:
            out = self._call(self._run_argv(self.bench.template.format(files=" ".join(by_file), **fields)))
            for file, values in self.parse(out, list(by_file)).items():
                samples[by_file[file]] = values
            return samples
        # one invocation per program and round, in a new shuffled order every round
        order = list(by_file)
        rng = random.Random(settings.seed)
        if settings.warmup > 0:  # one warm-up invocation each: the runner warms up inside
            for file in order:
                self._call(self._run_argv(self.bench.template.format(file=file, **fields)))
        planned = dict.fromkeys(order, settings.rounds)
        for index in range(settings.rounds):
            order = [f for f in order if planned[f] > index]
            rng.shuffle(order)
            for file in order:
                out = self._call(self._run_argv(self.bench.template.format(file=file, **fields)))
                values = self.parse(out, [file])[file]
                samples[by_file[file]].extend(values)
                if index == 0 and values:  # sized on what one invocation costs
                    planned[file] = budgeted_rounds(settings.rounds, self._invocation_ms(values), settings.budget_ms, settings.min_rounds)
        return samples

    def _invocation_ms(self, values: list[float]) -> float:
        """What one benchmark invocation spent timing, from the samples it reported: each is
        an average over ``{iterations}`` executions when the template runs that many."""
        if "{iterations}" in self.bench.template:
            return sum(values) / len(values) * self.iterations
        return sum(values)


@register_transport("adb")
class AdbTransport(CommandTransport):
    """An Android phone: ``adb push`` files, ``adb shell`` commands."""

    program = "adb"
    default_bench = "executor-runner"
    default_workdir = "/data/local/tmp/nas"

    def _run_argv(self, command: str) -> list[str]:
        return [*self.prefix, "shell", command]

    def _push_file(self, local: Path, remote_name: str) -> None:
        self._call([*self.prefix, "push", str(local), f"{self.workdir}/{remote_name}"])

    def fingerprint(self, runtime: LatencyRuntime) -> dict[str, Any]:
        """The CPU cores, plus the SoC Android names (``ro.soc.*``, Android 12+; else the board)."""
        fingerprint = super().fingerprint(runtime)
        props = self._call(self._run_argv("getprop ro.soc.manufacturer; getprop ro.soc.model; getprop ro.board.platform; true")).splitlines()
        manufacturer, model, board = ([p.strip() for p in props] + ["", "", ""])[:3]
        soc = " ".join(p for p in (manufacturer, model) if p) or board
        if soc:
            fingerprint["soc"] = soc
        return fingerprint


def remote_transport(prefix: str, **kwargs: Any) -> CommandTransport:
    """The transport for a ``--remote`` prefix, by its program name (default: command)."""
    words = shlex.split(prefix)
    program = Path(words[0]).name if words else ""
    kinds = [kind for kind in TRANSPORTS.values() if issubclass(kind, CommandTransport) and kind.program == program]
    return (kinds[0] if kinds else CommandTransport)(prefix, **kwargs)
