"""Text views of a front: the table ``nas pareto`` prints, and the comparison of the front
with a baseline (how much faster at how much AP)."""

from __future__ import annotations

from nas.pareto.analysis import ParetoReport

__all__ = ["front_lines", "left_out_note", "versus_baseline"]

# trial names a note lists before it says "and N more"
NOTE_NAMES = 8


def front_lines(report: ParetoReport) -> list[str]:
    lines = [f"{report.run}: {len(report.front)} on the front of {len(report.points)} finished trials; "
             f"hypervolume {report.hypervolume:.4g} (ref AP 0, {report.reference[1]:.4g}); device {report.device}",
             f"{'trial':<30}{'GPS AP':>8}{'GPSm AP':>9}{'latency ms':>12}{'params M':>10}{'MACs M':>9}  arch id"]
    for p in report.front + report.baselines:
        name = p.trial if p.kind == "search" else f"{p.baseline} (baseline{', beaten' if p.dominated_by_front else ''})"
        lines.append(f"{name:<30}{p.gps_ap:>8.2f}{p.gpsm_ap:>9.2f}{p.latency_ms:>12.2f}{p.params / 1e6:>10.2f}{p.macs / 1e6:>9.0f}  {p.arch_id}")
    if report.excluded:
        lines.append("not placed: " + ", ".join(f"{n} {k}" for k, n in sorted(report.excluded.items())))
    if len(report.nodes) > 1:
        # measured: 2.3 GPS AP points (median) between 1 and 2 threads, 5.7 between two machines
        lines.append(f"trained on {len(report.nodes)} nodes ({', '.join(report.nodes)}): nodes of other CPU models or thread "
                     "counts score the same network a few GPS AP points apart (docs/search.md); the node of each trial is in trials.csv")
    return lines


def left_out_note(report: ParetoReport) -> str | None:
    """One line saying which finished trials were not placed for want of a score or a cost
    (e.g. an evaluation that returned no AP), or None when every one was placed."""
    parts = []
    for names, what in ((report.no_score, "a GPS AP"), (report.no_cost, f"a {report.cost_label.split(' (')[0]}")):
        if names:
            shown = ", ".join(names[:NOTE_NAMES]) + (f" and {len(names) - NOTE_NAMES} more" if len(names) > NOTE_NAMES else "")
            parts.append(f"{len(names)} finished trial{'s' if len(names) > 1 else ''} without {what} ({shown})")
    return f"note: left out {' and '.join(parts)}" if parts else None


def versus_baseline(report: ParetoReport, baseline: str = "densemobile", speedup: float = 2.0, ap_drop: float = 2.0) -> str:
    """Whether the front holds an architecture ``speedup`` x faster than ``baseline`` at no
    more than ``ap_drop`` GPS AP points below it, or how far the best attempt is."""
    base = next((p for p in report.baselines if p.baseline == baseline), None)
    if base is None:
        return f"no finished {baseline} baseline in this run to compare with"
    ok = [p for p in report.front if base.latency_ms / p.latency_ms >= speedup and p.gps_ap >= base.gps_ap - ap_drop]
    if ok:
        best = max(ok, key=lambda p: p.gps_ap)
        return (f"yes: {best.trial} is {base.latency_ms / best.latency_ms:.2f}x faster than {baseline} ({best.latency_ms:.2f} vs "
                f"{base.latency_ms:.2f} ms) at GPS AP {best.gps_ap:.2f} vs {base.gps_ap:.2f} ({best.gps_ap - base.gps_ap:+.2f} points)")
    fast = [p for p in report.front if base.latency_ms / p.latency_ms >= speedup]
    close = [p for p in report.front if p.gps_ap >= base.gps_ap - ap_drop]
    parts = [f"no front architecture is {speedup:g}x faster than {baseline} ({base.latency_ms:.2f} ms, GPS AP {base.gps_ap:.2f}) "
             f"within {ap_drop:g} AP points"]
    if fast:
        best = max(fast, key=lambda p: p.gps_ap)
        parts.append(f"the best {speedup:g}x-faster one, {best.trial}, is {base.latency_ms / best.latency_ms:.2f}x faster at "
                     f"{best.gps_ap - base.gps_ap:+.2f} AP points")
    if close:
        best = min(close, key=lambda p: p.latency_ms)
        parts.append(f"the fastest within {ap_drop:g} points, {best.trial}, is {base.latency_ms / best.latency_ms:.2f}x faster "
                     f"({best.gps_ap - base.gps_ap:+.2f} AP points)")
    return "; ".join(parts)
