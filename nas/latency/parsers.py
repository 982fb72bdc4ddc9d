"""Strict parsers of benchmark output, one per benchmark program (registry by name).

* ``nas-runner``: the output of :mod:`nas.latency.runner` (``NASLAT <file> <ms>,...``).
* ``executor-runner``: ExecuTorch's C++ ``executor_runner`` (built with the XNNPACK
  backend), which logs ``Model executed successfully <n> time(s) in <t> ms.``; one
  invocation gives one sample, the mean of its ``n`` executions.

A parser ignores lines that are not its own (runtime logging) but fails on its own lines
when malformed, on missing programs and on programs reported twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nas.errors import DeviceError
from nas.latency.runner import END, ERROR, PREFIX
from nas.registry import Registry, callable_with

__all__ = ["parse_nas_runner", "parse_executor_runner", "PARSERS"]


def _excerpt(text: str, lines: int = 5) -> str:
    tail = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(tail) if tail else "(no output)"


def parse_nas_runner(output: str, files: list[str]) -> dict[str, list[float]]:
    """Per file, the timed samples (ms) printed by the nas runner."""
    samples: dict[str, list[float]] = {}
    errors: list[str] = []
    ended: int | None = None
    for number, line in enumerate(output.splitlines(), 1):
        if not line.startswith(PREFIX):
            continue
        fields = line.split()
        if fields[0] == END:
            if len(fields) != 2 or not fields[1].isdigit():
                raise DeviceError(f"benchmark output line {number} is malformed: {line!r}")
            ended = int(fields[1])
        elif fields[0] == ERROR:
            errors.append(" ".join(fields[1:]))
        elif fields[0] == PREFIX:
            if len(fields) != 3:
                raise DeviceError(f"benchmark output line {number} is malformed: {line!r}")
            name = fields[1]
            if name in samples:
                raise DeviceError(f"benchmark output reports {name} twice (line {number})")
            try:
                values = [float(v) for v in fields[2].split(",")]
            except ValueError:
                raise DeviceError(f"benchmark output line {number} has a non-numeric time: {line!r}") from None
            if not values or any(not (v >= 0.0 and v < float("inf")) for v in values):
                raise DeviceError(f"benchmark output line {number} has an invalid time: {line!r}")
            samples[name] = values
        else:
            raise DeviceError(f"benchmark output line {number} has an unknown marker {fields[0]!r}")
    if errors:
        raise DeviceError(f"the device failed to run {len(errors)} program(s): {'; '.join(errors[:3])}")
    if ended is None:
        raise DeviceError(f"benchmark output ended early (no {END} line); last output: {_excerpt(output)}")
    missing = [f for f in files if f not in samples]
    if missing or ended != len(samples):
        raise DeviceError(f"benchmark output lacks {len(missing)} of {len(files)} programs (e.g. {', '.join(missing[:3])}); last output: {_excerpt(output)}")
    return {f: samples[f] for f in files}


_EXECUTED = re.compile(r"Model executed successfully (\d+) time\(s\) in ([0-9]+(?:\.[0-9]+)?) ms")


def parse_executor_runner(output: str, files: list[str]) -> dict[str, list[float]]:
    """One invocation of ``executor_runner`` for ``files[0]``: its mean time per execution."""
    if len(files) != 1:
        raise ValueError("executor_runner output covers exactly one program")
    found = _EXECUTED.findall(output)
    if len(found) != 1:
        raise DeviceError(f"executor_runner output for {files[0]} has {len(found)} timing lines, expected 1; last output: {_excerpt(output)}")
    count, total = int(found[0][0]), float(found[0][1])
    if count < 1:
        raise DeviceError(f"executor_runner reports {count} executions for {files[0]}")
    return {files[0]: [total / count]}


# benchmark output format name -> parser ``(output, files) -> {file: [ms, ...]}``
PARSERS: Registry[Callable[[str, list[str]], dict[str, list[float]]]] = Registry(
    "benchmark output format", callable_with("output", "files"), plural="formats")
PARSERS.register("nas-runner", parse_nas_runner)
PARSERS.register("executor-runner", parse_executor_runner)
