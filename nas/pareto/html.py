"""Interactive plot of a run's front: one self-contained HTML file (inline SVG and a few
lines of JavaScript, nothing fetched). Hover a point for its metrics, click it to show
its architecture string, toggle the dominated trials; the table below lists the front."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from nas.io import atomic_write_text
from nas.pareto.analysis import ParetoReport, Point

__all__ = ["plot_html"]

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 860, 520, 70, 30, 30, 60  # px


def _ticks(low: float, high: float, n: int = 6) -> list[float]:
    span = high - low or 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _describe(p: Point, label: str) -> str:
    return (f"{p.baseline or p.trial}: GPS AP {p.gps_ap:.2f}, GPSm AP {p.gpsm_ap:.2f}, {p.latency_ms:.2f} ms, "
            f"{p.params / 1e6:.2f}M params, {p.macs / 1e6:.0f}M MACs ({label})")


def plot_html(report: ParetoReport, path: str | Path) -> Path:
    shown = [p for p in report.points + report.baselines if math.isfinite(p.cost) and math.isfinite(p.gps_ap)]
    x_hi = max([p.cost for p in shown] + [1e-9]) * 1.05
    y_hi = max([p.gps_ap for p in shown] + [1.0]) * 1.1
    x_lo, y_lo = 0.0, min([0.0] + [p.gps_ap for p in shown])

    def sx(v: float) -> float:
        return PAD_L + (v - x_lo) / (x_hi - x_lo) * (W - PAD_L - PAD_R)

    def sy(v: float) -> float:
        return H - PAD_B - (v - y_lo) / (y_hi - y_lo or 1.0) * (H - PAD_T - PAD_B)

    front_ids = {p.trial for p in report.front}
    parts: list[str] = []
    for t in _ticks(x_lo, x_hi):
        parts.append(f'<line x1="{sx(t):.1f}" y1="{PAD_T}" x2="{sx(t):.1f}" y2="{H - PAD_B}" class="grid"/>'
                     f'<text x="{sx(t):.1f}" y="{H - PAD_B + 18}" text-anchor="middle">{t:g}</text>')
    for t in _ticks(y_lo, y_hi):
        parts.append(f'<line x1="{PAD_L}" y1="{sy(t):.1f}" x2="{W - PAD_R}" y2="{sy(t):.1f}" class="grid"/>'
                     f'<text x="{PAD_L - 8}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    if report.front:
        xy: list[tuple[float, float]] = []
        for p in report.front:
            if xy:
                xy.append((sx(p.cost), xy[-1][1]))
            xy.append((sx(p.cost), sy(p.gps_ap)))
        parts.append('<polyline class="front" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    details: dict[str, dict[str, object]] = {}
    for p in shown:
        on_front = p.trial in front_ids
        label = "baseline" + (", beaten by the front" if p.dominated_by_front else "") if p.kind == "baseline" else \
            "Pareto front" if on_front else "dominated"
        details[p.trial] = {"text": _describe(p, label), "arch": p.arch}
        title = html.escape(_describe(p, label))
        x, y = sx(p.cost), sy(p.gps_ap)
        if p.kind == "baseline":
            star = " ".join(f"{x + r * math.sin(a * math.pi / 5):.1f},{y - r * math.cos(a * math.pi / 5):.1f}"
                            for a, r in zip(range(10), [9, 4] * 5))
            parts.append(f'<polygon class="baseline" data-id="{html.escape(p.trial)}" points="{star}"><title>{title}</title></polygon>'
                         f'<text x="{x + 10:.1f}" y="{y - 8:.1f}" class="blabel">{html.escape(p.baseline)}</text>')
        else:
            cls = "pt front-pt" if on_front else "pt dominated"
            parts.append(f'<circle class="{cls}" data-id="{html.escape(p.trial)}" cx="{x:.1f}" cy="{y:.1f}" r="{6 if on_front else 4}">'
                         f"<title>{title}</title></circle>")
    rows = "".join(
        f"<tr><td>{html.escape(p.trial)}</td><td>{p.gps_ap:.2f}</td><td>{p.gpsm_ap:.2f}</td><td>{p.latency_ms:.2f}</td>"
        f"<td>{p.params / 1e6:.2f}</td><td>{p.macs / 1e6:.0f}</td><td><code>{html.escape(p.arch)}</code></td></tr>"
        for p in report.front + report.baselines)
    excluded = ", ".join(f"{n} {k}" for k, n in sorted(report.excluded.items())) or "none"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pareto front: {html.escape(Path(report.run).name)}</title>
<style>
body {{ font-family: sans-serif; margin: 20px; color: #222; }}
svg text {{ font-size: 12px; fill: #333; }}
.grid {{ stroke: #e3e3e3; }}
.front {{ fill: none; stroke: #d62728; stroke-width: 2; }}
.pt {{ cursor: pointer; stroke: #000; stroke-width: .5; }}
.front-pt {{ fill: #d62728; }}
.dominated {{ fill: #9aa5b1; }}
.baseline {{ fill: #1f77b4; stroke: #000; stroke-width: .5; cursor: pointer; }}
.blabel {{ fill: #1f77b4 !important; }}
.hide-dominated .dominated {{ display: none; }}
#detail {{ font-family: monospace; white-space: pre-wrap; background: #f6f6f6; padding: 8px; min-height: 3em; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ccc; padding: 3px 6px; }}
code {{ font-size: 11px; }}
</style></head><body>
<h2>{html.escape(Path(report.run).name)}: GPS AP vs {html.escape(report.cost_label)}</h2>
<p>Device: {html.escape(report.device)}. Hypervolume {report.hypervolume:.4g} (reference AP 0, {report.reference[1]:.4g}).
{len(report.points)} finished trials; not placed (stopped early, rejected, failed): {html.escape(excluded)}.</p>
<label><input type="checkbox" id="toggle" checked> show dominated trials</label>
<svg id="plot" width="{W}" height="{H}" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg">
{''.join(parts)}
<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#333"/>
<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#333"/>
<text x="{(W + PAD_L) / 2}" y="{H - 15}" text-anchor="middle">{html.escape(report.cost_label)}</text>
<text x="18" y="{H / 2}" text-anchor="middle" transform="rotate(-90 18 {H / 2})">GPS AP (%)</text>
</svg>
<p>Click a point:</p><div id="detail"></div>
<h3>Front and baselines</h3>
<table><tr><th>trial</th><th>GPS AP</th><th>GPSm AP</th><th>latency ms</th><th>params M</th><th>MACs M</th><th>architecture</th></tr>{rows}</table>
<script>
const DETAILS = {json.dumps(details)};
document.getElementById("toggle").addEventListener("change", e => {{
  document.getElementById("plot").classList.toggle("hide-dominated", !e.target.checked);
}});
document.querySelectorAll("[data-id]").forEach(el => el.addEventListener("click", () => {{
  const d = DETAILS[el.dataset.id];
  document.getElementById("detail").textContent = d.text + "\\n" + d.arch;
}}));
</script>
</body></html>
"""
    atomic_write_text(path, page)
    return Path(path)
