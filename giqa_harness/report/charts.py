"""Summary charts as inline SVG (no plotting library needed in the HTML) and, on request, PNG.

Bars per metric with 95% intervals across runs, and a radar chart of the main metrics on a common
0–1 scale, as in the paper's Fig. 1 (BLEU@4 and LLM-Score divided by 100).
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any, Sequence

from ..leaderboard import COLUMNS
from ..metrics.coverage import entry_coverage

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
SCALE = {"bleu4": 100.0, "llm_score": 100.0}  # to bring every metric to 0-1 for the radar


def metric_table(runs: Sequence[Any]) -> list[tuple[str, list[tuple[float | None, list[float] | None]]]]:
    """(column title, [(value, ci) per run]) for every Table 5 column any run has a value for."""
    out = []
    for title, side, metric, _ in COLUMNS:
        cells = []
        for run in runs:
            entry = run.side_metric(side, metric)
            cells.append((entry.get("value"), entry.get("ci95")) if entry else (None, None))
        if any(v is not None for v, _ in cells):
            out.append((title, cells))
    return out


def _digits(title: str) -> int:
    """Decimals the leaderboard prints for a column, so a chart label reads like the tables."""
    return next(d for t, _, _, d in COLUMNS if t == title)


def _norm(title: str, value: float) -> float:
    metric = next(m for t, _, m, _ in COLUMNS if t == title)
    return value / SCALE.get(metric, 1.0)


def _coverage_mark(run: Any, title: str) -> str:
    """`` (5/100)`` after a bar whose value stands on part of its samples, as in the leaderboard."""
    _, side, metric, _ = next(c for c in COLUMNS if c[0] == title)
    coverage = entry_coverage(run.side_metric(side, metric) or {})
    return f" ({coverage.fraction()})" if coverage is not None and not coverage.complete else ""


def bars_svg(runs: Sequence[Any], width: int = 860, row_h: int = 16) -> str:
    """Horizontal bars, one group per metric, one bar per run, with interval whiskers."""
    table = metric_table(runs)
    label_w, pad = 150, 6
    group_h = row_h * len(runs) + pad * 2
    height = max(40, group_h * len(table) + 30)
    plot_w = width - label_w - 70
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif">']
    for g, (title, cells) in enumerate(table):
        y0 = 20 + g * group_h
        parts.append(f'<text x="4" y="{y0 + group_h / 2 + 4:.0f}">{escape(title)}</text>')
        for r, (value, ci) in enumerate(cells):
            y = y0 + pad + r * row_h
            if value is None:
                parts.append(f'<text x="{label_w + 4}" y="{y + row_h - 5}" fill="#888">n/a</text>')
                continue
            x = label_w + plot_w * max(0.0, min(1.0, _norm(title, value)))
            colour = PALETTE[r % len(PALETTE)]
            parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{x - label_w:.1f}" height="{row_h - 4}" fill="{colour}"/>')
            if ci:
                lo = label_w + plot_w * max(0.0, min(1.0, _norm(title, ci[0])))
                hi = label_w + plot_w * max(0.0, min(1.0, _norm(title, ci[1])))
                mid = y + row_h / 2
                parts.append(f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{mid}" y2="{mid}" stroke="#000"/>')
            label = f"{value:.{_digits(title)}f}" + _coverage_mark(runs[r], title)
            parts.append(f'<text x="{x + 4:.1f}" y="{y + row_h - 5}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def radar_axes(runs: Sequence[Any]) -> tuple[list[tuple[str, list[tuple[float | None, list[float] | None]]]], list[str]]:
    """The metrics every run has a value for (the radar's axes), and the metrics left off it because some
    run has none: a polygon point at the centre would read as a score of 0."""
    table = metric_table(runs)
    kept = [(title, cells) for title, cells in table if all(v is not None for v, _ in cells)]
    return kept, [title for title, cells in table if any(v is None for v, _ in cells)]


def radar_svg(runs: Sequence[Any], size: int = 420) -> str:
    """A radar of the main metrics (0–1 scale), one polygon per run; metrics that some run lacks are
    named under it instead of drawn at 0."""
    table, left_off = radar_axes(runs)
    if len(table) < 3:
        return ""
    cx = cy = size / 2
    radius = size / 2 - 70
    n = len(table)

    def point(i: int, r: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts = [f'<svg class="chart" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="10" font-family="sans-serif">']
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, radius * ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ddd"/>')
    for i, (title, _) in enumerate(table):
        x, y = point(i, radius + 24)
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{escape(title)}</text>')
    for r in range(len(runs)):
        pts = []
        for i, (title, cells) in enumerate(table):
            value = cells[r][0]
            pts.append(point(i, radius * max(0.0, min(1.0, _norm(title, value)))))
        colour = PALETTE[r % len(PALETTE)]
        joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(f'<polygon points="{joined}" fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>')
    if left_off:
        parts.append(f'<text class="radar-left-off" x="{cx:.1f}" y="{size - 6}" text-anchor="middle">'
                     f'not on the radar (N/A for some run): {escape(", ".join(left_off))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_figure(runs: Sequence[Any]) -> Any:
    """One panel per metric, one bar per run. A run without a value (N/A, or not computed) gets a grey
    hatched bar labelled N/A over the whole panel, so it never reads as a score of 0."""
    import matplotlib.pyplot as plt

    table = metric_table(runs)
    names = [run.label for run in runs]
    fig, axes = plt.subplots(1, max(1, len(table)), figsize=(2.2 * max(1, len(table)), 3.2), squeeze=False)
    for ax, (title, cells) in zip(axes[0], table):
        top = max([ci[1] if ci else v for v, ci in cells if v is not None] + [1e-9]) * 1.1
        for i, (value, ci) in enumerate(cells):
            if value is None:
                ax.bar(i, top, color="none", edgecolor="#999999", hatch="///", linewidth=0.8)
                ax.text(i, top / 2, "N/A", ha="center", va="center", rotation=90, fontsize=8, color="#555555")
                continue
            err = [[value - ci[0]], [ci[1] - value]] if ci else None
            ax.bar(i, value, yerr=err, color=PALETTE[i % len(PALETTE)], capsize=3)
        ax.set_ylim(0, top)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(cells)), names, rotation=45, ha="right", fontsize=7)
    fig.tight_layout()
    return fig


def write_pngs(runs: Sequence[Any], folder: Path) -> list[Path]:
    """The same two charts as PNG files (needs matplotlib: the ``[report]`` extra)."""
    from ..errors import MissingDependencyError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("matplotlib", 'pip install "giqa-harness[report]"', "--plots") from None
    folder.mkdir(parents=True, exist_ok=True)
    table, left_off = radar_axes(runs)
    names = [run.label for run in runs]
    fig = bars_figure(runs)
    bars = folder / "metrics_bars.png"
    fig.savefig(bars, dpi=120)
    plt.close(fig)
    out = [bars]
    if len(table) >= 3:
        angles = [2 * math.pi * i / len(table) for i in range(len(table))] + [0.0]
        fig = plt.figure(figsize=(5, 5))
        ax = fig.add_subplot(polar=True)
        for r, name in enumerate(names):
            vals = [_norm(t, c[r][0]) for t, c in table]
            ax.plot(angles, vals + vals[:1], color=PALETTE[r % len(PALETTE)], label=name)
            ax.fill(angles, vals + vals[:1], color=PALETTE[r % len(PALETTE)], alpha=0.12)
        ax.set_xticks(angles[:-1], [t for t, _ in table], fontsize=8)
        ax.set_ylim(0, 1)
        ax.legend(loc="lower right", fontsize=7, bbox_to_anchor=(1.25, -0.1))
        if left_off:
            fig.text(0.5, 0.01, f"not on the radar (N/A for some run): {', '.join(left_off)}", ha="center", fontsize=7)
        radar = folder / "metrics_radar.png"
        fig.savefig(radar, dpi=120, bbox_inches="tight")
        plt.close(fig)
        out.append(radar)
    return out
