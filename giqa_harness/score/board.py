"""Leaderboard layouts of score and multiple-choice tasks (``giqa-harness leaderboard --layout``).

- ``score``: one row per run, SRCC and PLCC per score dataset (Q-Align's tables), columns in the order
  the tasks first appear;
- ``mcq``: one row per (run, multiple-choice task): accuracy overall, by question type and by concern.

A value obtained by generation rather than choice likelihood carries a ``*`` (the note says so), so
the two are never mixed unseen in one column. Empty: the run lacks that task or the value is undefined
(the reason is in results.json).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable

from ..leaderboard import Row, load_results, markdown_cells, method_name
from ..metrics.coverage import entry_coverage

LAYOUTS = ("score", "mcq")
GENERATED_MARK = "*"


def _cell(entry: dict[str, Any] | None, generated: bool, complete_only: bool = False,
          left_out: list[str] | None = None, title: str = "") -> tuple[str, str]:
    """A value with its mark, and its coverage (``0.4216* (90/100)``) when failed samples left it on part
    of the task; ``complete_only`` leaves such a value out and says so in ``left_out``."""
    if not entry or entry.get("value") is None:
        return "", ""
    coverage = entry_coverage(entry)
    incomplete = coverage is not None and not coverage.complete
    if incomplete and complete_only:
        if left_out is not None:
            left_out.append(f"{title} left out: incomplete ({coverage.fraction()} scored)")
        return "", ""
    mark = GENERATED_MARK if generated else ""
    ci = entry.get("ci95")
    share = f" ({coverage.fraction()})" if incomplete else ""
    return f"{entry['value']:.4f}{mark}{share}", (f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")


def _tasks_of(results: dict[str, Any], kind: str) -> list[str]:
    return [t for t, r in results.get("results", {}).items() if r.get("scoring", {}).get("kind") == kind]


def _left_out(path: str | Path, results: dict[str, Any], kind: str, skipped: list[str] | None) -> None:
    if skipped is not None:
        what = "level-scoring" if kind == "level" else "multiple-choice"
        tasks = ", ".join(results.get("results", {})) or "none"
        skipped.append(f"{path}: no {what} task (it has: {tasks}), left out of this layout")


def score_rows(paths: Iterable[str | Path], names: list[str] | None = None, complete_only: bool = False,
               skipped: list[str] | None = None) -> tuple[list[str], list[Row]]:
    """(column titles, rows) of the ``score`` layout; a run without a level-scoring task is left out
    (a line in ``skipped``)."""
    columns: list[str] = []
    rows = []
    for i, path in enumerate(paths):
        results = load_results(path)
        if not _tasks_of(results, "level"):
            _left_out(path, results, "level", skipped)
            continue
        cells, intervals, generated, left_out = {}, {}, [], []
        for task in _tasks_of(results, "level"):
            entry = results["results"][task]
            is_generated = entry["scoring"].get("method_used") == "generated"
            if is_generated:
                generated.append(task)
            for metric in ("srcc", "plcc"):
                title = f"{task} {metric.upper()}"
                if title not in columns:
                    columns.append(title)
                cells[title], intervals[title] = _cell(entry["metrics"].get(metric), is_generated, complete_only,
                                                       left_out, title)
        notes = [f"{GENERATED_MARK} by generation: {', '.join(generated)}"] if generated else []
        method = names[i] if names and i < len(names) and names[i] else method_name(results)
        rows.append(Row("run", method, cells, intervals, "; ".join(notes + left_out)))
    return columns, rows


def mcq_rows(paths: Iterable[str | Path], names: list[str] | None = None, complete_only: bool = False,
             skipped: list[str] | None = None) -> tuple[list[str], list[Row]]:
    """(column titles, rows) of the ``mcq`` layout; a run without a multiple-choice task is left out
    (a line in ``skipped``)."""
    columns = ["Task", "Overall"]
    rows = []
    for i, path in enumerate(paths):
        results = load_results(path)
        if not _tasks_of(results, "mcq"):
            _left_out(path, results, "mcq", skipped)
            continue
        method = names[i] if names and i < len(names) and names[i] else method_name(results)
        for task in _tasks_of(results, "mcq"):
            entry = results["results"][task]
            generated = entry["scoring"].get("method_used") == "generated"
            cells, intervals, left_out = {"Task": task}, {"Task": ""}, []
            cells["Overall"], intervals["Overall"] = _cell(entry["metrics"].get("accuracy"), generated,
                                                           complete_only, left_out, "Overall")
            for axis in ("type", "concern"):
                for name, value in entry.get("breakdown", {}).get(axis, {}).items():
                    title = f"{axis}: {name}"
                    if title not in columns:
                        columns.append(title)
                    cells[title], intervals[title] = _cell(value, generated, complete_only, left_out, title)
            notes = [f"{entry.get('unreadable', 0)} unreadable (counted wrong)"]
            if entry.get("n_failed"):
                notes.append(f"{entry['n_failed']} failed")
            if generated:
                notes.append(f"{GENERATED_MARK} by generation")
            notes += left_out
            rows.append(Row("run", method, cells, intervals, "; ".join(notes)))
    return columns, rows


def to_csv(columns: list[str], rows: list[Row], with_ci: bool = True) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    ci_columns = [c for c in columns if c != "Task"]
    writer.writerow(["Method", *columns, *([f"{c} 95% CI" for c in ci_columns] if with_ci else []), "Note"])
    for row in rows:
        writer.writerow([row.method, *(row.cells.get(c, "") for c in columns),
                         *((row.intervals.get(c, "") for c in ci_columns) if with_ci else ()), row.note])
    return buf.getvalue()


def to_markdown(columns: list[str], rows: list[Row], with_ci: bool = False) -> str:
    head = ["Method", *columns, "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join([row.method, *markdown_cells(row, columns, with_ci), row.note]) + " |")
    return "\n".join(lines)


def build(layout: str, paths: Iterable[str | Path], names: list[str] | None = None, complete_only: bool = False,
          skipped: list[str] | None = None) -> tuple[list[str], list[Row]]:
    rows = score_rows if layout == "score" else mcq_rows
    return rows(paths, names, complete_only, skipped)
