"""nas.latency.synthetic: op costs from tensor volumes, and a table that covers its space
(and the baselines asked for) and loads back as a table for that space."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nas.errors import MissingKeysError
from nas.latency.keys import op_keys
from nas.latency.synthetic import synthetic_ms, write_synthetic_table
from nas.latency.table import LatencyTable
from nas.shipped import TINY_SPACE, shipped
from nas.space.references import reference
from nas.space.search_space import SearchSpace


def test_an_op_costs_a_base_plus_its_tensor_volumes() -> None:
    # 64x48x24 + 32x24x40 = 73,728 + 30,720 elements; the kernel and stride are not shapes
    assert synthetic_ms("ir-in:64x48x24-out:32x24x40-k5-e6-s2-relu-se0") == pytest.approx(0.01 + 104_448 / 1e5)
    assert synthetic_ms("pool-k3") == pytest.approx(0.01)


def test_the_table_covers_the_space_and_only_the_baselines_asked_for(tmp_path) -> None:
    path = shipped(TINY_SPACE).resolve()
    space = SearchSpace.from_yaml(path)
    table = LatencyTable.load(write_synthetic_table(tmp_path / "t", path, baselines=("densemobile",)))
    table.check_space(space, path)
    assert table.meta["device"] == "synthetic" and table.meta["space"]["name"] == "tiny"
    for seed in range(5):
        arch = space.sample(seed)
        assert table.predict_ms(arch) == pytest.approx(sum(synthetic_ms(k) for k in op_keys(arch)))
    row = table.rows[op_keys(space.sample(0))[0]]
    assert (row.p10_ms, row.p90_ms) == pytest.approx((0.9 * row.median_ms, 1.1 * row.median_ms))
    baseline = replace(reference("densemobile"), input_size=space.deploy_input)
    assert table.predict_ms(baseline) > 0
    bare = LatencyTable.load(write_synthetic_table(tmp_path / "bare", path, baselines=()))
    with pytest.raises(MissingKeysError):
        bare.predict_ms(baseline)
