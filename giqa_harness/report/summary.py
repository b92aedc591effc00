"""The report's metric table: every metric of every task of every run, with its coverage and notes.

A value computed on part of its samples is marked incomplete (scored/applicable, the failure causes),
a failed task shows its error, and the run's problems (what made it exit non-zero) are listed.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from ..metrics.coverage import entry_coverage, entry_notes


def _value_text(entry: dict[str, Any]) -> str:
    value = entry.get("value")
    if value is None:
        return f'<span class="na">{escape(entry.get("reason") or "not computed")}</span>'
    ci = entry.get("ci95")
    return f"{value:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")


def _run_rows(run: Any) -> list[str]:
    rows = []
    for task, res in (run.results.get("results") or {}).items():
        if res.get("error"):
            rows.append(f'<tr class="incomplete"><td>{escape(task)}</td><td colspan="4">task failed: '
                        f'{escape(res["error"])}</td></tr>')
            continue
        for name, entry in (res.get("metrics") or {}).items():
            coverage = entry_coverage(entry)
            incomplete = coverage is not None and not coverage.complete and entry.get("value") is not None
            cov_text = f"{coverage.fraction()} scored" if coverage is not None else ""
            if coverage is not None and coverage.failed:
                cov_text += f", {coverage.failed} failed"
            notes = "<br>".join(f"<b>{escape(n['kind'])}</b>: {escape(n['text'])}" for n in entry_notes(entry))
            mark = ' class="incomplete"' if incomplete else ""
            rows.append(f'<tr{mark}><td>{escape(task)}</td>'
                        f'<td>{escape(entry.get("label") or name)}</td><td>{_value_text(entry)}</td>'
                        f'<td>{escape(cov_text)}</td><td>{notes}</td></tr>')
    return rows


def summary_html(runs: Sequence[Any]) -> str:
    parts = []
    for run in runs:
        problems = run.results.get("problems") or []
        listed = "".join(f"<li>{escape(p['task'])}: {escape(p['problem'])}</li>" for p in problems)
        problem_list = f'<ul class="problems">{listed}</ul>' if listed else ""
        parts.append(
            f'<details class="summary" open><summary>{escape(run.label)}: metrics</summary>{problem_list}'
            '<table class="metrics"><tr><th>task</th><th>metric</th><th>value [95% CI]</th>'
            f'<th>coverage</th><th>notes</th></tr>{"".join(_run_rows(run))}</table></details>'
        )
    return "".join(parts)
