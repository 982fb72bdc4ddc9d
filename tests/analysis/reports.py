"""Hand-built fidelity reports for the analysis tests: no training runs."""

from __future__ import annotations

from nas.space.references import reference
from nas.train.proxy import proxy_config


def with_neck(neck: str) -> str:
    """densemobile with another neck: a valid architecture string per neck token."""
    tokens = reference("densemobile").to_string().split("+")
    tokens[-3] = neck
    return "+".join(tokens)


def fidelity_report(scores: dict[str, tuple[float, float, float]], **changes: object) -> dict[str, object]:
    """A fidelity report of ``arch: (proxy, long on the proxy's val images, long on all val)``."""
    report: dict[str, object] = {
        "archs": list(scores), "factor": 10.0, "data": {"train_images": 1600, "val_images": 400},
        "proxy_config": proxy_config().to_dict(), "long_config": proxy_config(10.0).to_dict(),
        "proxy": {a: s[0] for a, s in scores.items()}, "long": {a: s[1] for a, s in scores.items()},
        "long_val": {a: {"all": s[2]} for a, s in scores.items()}}
    report.update(changes)
    return report
