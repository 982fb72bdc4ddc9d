"""Transports: local (this process) and remote through a command prefix."""

from __future__ import annotations

from nas.latency.transports.base import TRANSPORTS, MeasureSettings, Transport, register_transport
from nas.latency.transports.command import BENCH_COMMANDS, AdbTransport, BenchCommand, CommandTransport, remote_transport
from nas.latency.transports.local import LocalTransport

__all__ = ["MeasureSettings", "Transport", "TRANSPORTS", "register_transport", "LocalTransport", "CommandTransport", "AdbTransport", "BenchCommand", "BENCH_COMMANDS", "remote_transport"]


def make_transport(
    remote: str | None,
    workdir: str | None = None,
    bench_format: str | None = None,
    template: str | None = None,
    python: str = "python3",
    cpus: str = "f0",
    iterations: int = 10,
) -> Transport:
    """Local when ``remote`` is empty, else the remote kind for the prefix; ``bench_format``
    picks a known benchmark command, ``template`` overrides its command line."""
    if not remote:
        return LocalTransport()
    bench = None
    if bench_format or template:
        kind = remote_transport(remote)
        name = bench_format or kind.bench.format
        bench = BenchCommand(name, template or BENCH_COMMANDS.get(name).template)
    return remote_transport(remote, workdir=workdir, bench=bench, python=python, cpus=cpus, iterations=iterations)


__all__ += ["make_transport"]
