"""Connecting the driver to Ray: a local instance by default, or an existing cluster.

Ray >= 2.59 turns on token authentication: every node of a cluster (and this driver)
needs ``RAY_AUTH_MODE=token`` and the same token (``RAY_AUTH_TOKEN`` or the file named by
``RAY_AUTH_TOKEN_PATH``, default ``~/.ray/auth_token``).
"""

from __future__ import annotations

import logging
import os
import socket

from nas.errors import SearchError

__all__ = ["connect", "disconnect", "cluster_hint", "check_address", "alive_nodes", "node_resources"]

# seconds to wait for a TCP answer from the head's GCS before calling it unreachable
_PROBE_TIMEOUT_S = 5.0


def cluster_hint() -> str:
    return ("start a cluster with `RAY_AUTH_MODE=token RAY_AUTH_TOKEN=<token> ray start --head --port 6379` on the head and "
            "`RAY_AUTH_MODE=token RAY_AUTH_TOKEN=<token> ray start --address HEAD:6379` on each worker, and run nas search "
            "with the same two variables set")


def _probe(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise SearchError(f"--address {address!r} is not HOST:PORT (or 'auto'); e.g. --address 10.0.0.1:6379")
    try:
        with socket.create_connection((host, int(port)), timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        raise SearchError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); {cluster_hint()}") from None


def check_address(address: str | None) -> None:
    """Fail at once, before any run file is written, when a HOST:PORT cannot be reached."""
    if address is not None and address != "auto":
        _probe(address)


def connect(address: str | None, cpus: int | None = None) -> None:
    """Start a local Ray instance (``address`` None) or join the cluster at ``address``.

    Args:
        address: ``None``, ``auto`` (the cluster this machine belongs to) or ``HOST:PORT``.
        cpus: CPUs of a local instance (default: all).
    """
    import ray

    if ray.is_initialized():
        return
    common = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False,
              "configure_logging": True}
    if address is None:
        ray.init(num_cpus=cpus, **common)
        return
    if address != "auto":
        _probe(address)
    try:
        ray.init(address=address, **common)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        auth = os.environ.get("RAY_AUTH_MODE")
        raise SearchError(f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
                          f"(RAY_AUTH_MODE={auth!r} here); {cluster_hint()}") from None


def disconnect() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def alive_nodes() -> int:
    """Nodes of the connected Ray instance that are alive."""
    import ray

    return sum(1 for node in ray.nodes() if node.get("Alive"))


def node_resources() -> list[dict[str, float]]:
    """The CPUs and GPUs of each alive node of the connected Ray instance (0 where it has none)."""
    import ray

    return [{"CPU": float(node["Resources"].get("CPU", 0.0)), "GPU": float(node["Resources"].get("GPU", 0.0))}
            for node in ray.nodes() if node.get("Alive")]
