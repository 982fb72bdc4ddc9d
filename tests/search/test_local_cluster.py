"""nas.search.local_cluster's port allocation: several Ray nodes on 127.0.0.1 must never be given
the same port twice, and worker port blocks must lie where no random port can land (CI once
failed when a component port drawn at random fell inside a node's worker block)."""

from __future__ import annotations

import pytest

from nas.errors import SearchError
from nas.search.local_cluster import local_cluster, node_ports


def _ports(args: list[str]) -> tuple[set[int], range]:
    flags = dict(zip(args[::2], args[1::2]))
    low, high = int(flags.pop("--min-worker-port")), int(flags.pop("--max-worker-port"))
    return {int(v) for v in flags.values()}, range(low, high + 1)


def test_nodes_never_share_a_port():
    ephemeral_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    seen: set[int] = set()
    for _ in range(8):
        singles, workers = _ports(node_ports())
        assert len(singles) == 6 and len(workers) == 201
        assert workers.stop <= ephemeral_low  # bind(0) never hands out a worker port
        assert singles.isdisjoint(workers)
        assert seen.isdisjoint(singles) and seen.isdisjoint(workers)
        seen |= singles | set(workers)


def test_a_node_ray_refuses_is_a_search_error():
    with pytest.raises(SearchError, match=r"`ray start --head .*` failed \(exit 1\)"):
        with local_cluster(workers=0, cpus_per_node=-1):  # Ray refuses a negative CPU count
            raise AssertionError("a head with -1 CPUs started")
