"""The visual report: every prediction's boxes beside the reference, and the leaderboard as charts.

One self-contained static HTML file (images embedded, no network, no server). See `build_report`.
"""

from .build import build_report, load_run

__all__ = ["build_report", "load_run"]
