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

from ..leaderboard import Row, load_results

LAYOUTS = ("score", "mcq")
GENERATED_MARK = "*"


def _method_name(results: dict[str, Any], name: str | None) -> str:
    if name:
        return name
    model = results.get("model", {})
    args = model.get("model_args", {}) or {}
    pretrained = args.get("pretrained") or args.get("path")
    return model.get("model", "?") + (f" ({Path(str(pretrained)).name})" if pretrained else "")


def _cell(entry: dict[str, Any] | None, generated: bool) -> tuple[str, str]:
    if not entry or entry.get("value") is None:
        return "", ""
    mark = GENERATED_MARK if generated else ""
    ci = entry.get("ci95")
    return f"{entry['value']:.4f}{mark}", (f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")


def _tasks_of(results: dict[str, Any], kind: str) -> list[str]:
    return [t for t, r in results.get("results", {}).items() if r.get("scoring", {}).get("kind") == kind]


def score_rows(paths: Iterable[str | Path], names: list[str] | None = None) -> tuple[list[str], list[Row]]:
    """(column titles, rows) of the ``score`` layout."""
    columns: list[str] = []
    rows = []
    for i, path in enumerate(paths):
        results = load_results(path)
        cells, intervals, generated = {}, {}, []
        for task in _tasks_of(results, "level"):
            entry = results["results"][task]
            is_generated = entry["scoring"].get("method_used") == "generated"
            if is_generated:
                generated.append(task)
            for metric in ("srcc", "plcc"):
                title = f"{task} {metric.upper()}"
                if title not in columns:
                    columns.append(title)
                cells[title], intervals[title] = _cell(entry["metrics"].get(metric), is_generated)
        note = f"{GENERATED_MARK} by generation: {', '.join(generated)}" if generated else ""
        method = _method_name(results, names[i] if names and i < len(names) else None)
        rows.append(Row("run", method, cells, intervals, note))
    return columns, rows


def mcq_rows(paths: Iterable[str | Path], names: list[str] | None = None) -> tuple[list[str], list[Row]]:
    """(column titles, rows) of the ``mcq`` layout."""
    columns = ["Task", "Overall"]
    rows = []
    for i, path in enumerate(paths):
        results = load_results(path)
        method = _method_name(results, names[i] if names and i < len(names) else None)
        for task in _tasks_of(results, "mcq"):
            entry = results["results"][task]
            generated = entry["scoring"].get("method_used") == "generated"
            cells, intervals = {"Task": task}, {"Task": ""}
            cells["Overall"], intervals["Overall"] = _cell(entry["metrics"].get("accuracy"), generated)
            for axis in ("type", "concern"):
                for name, value in entry.get("breakdown", {}).get(axis, {}).items():
                    title = f"{axis}: {name}"
                    if title not in columns:
                        columns.append(title)
                    cells[title], intervals[title] = _cell(value, generated)
            notes = [f"{entry.get('unreadable', 0)} unreadable (counted wrong)"]
            if entry.get("n_failed"):
                notes.append(f"{entry['n_failed']} failed")
            if generated:
                notes.append(f"{GENERATED_MARK} by generation")
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
        cells = []
        for c in columns:
            value = row.cells.get(c, "") or "–"
            if with_ci and row.intervals.get(c):
                value += f" {row.intervals[c]}"
            cells.append(value)
        lines.append("| " + " | ".join([row.method, *cells, row.note]) + " |")
    return "\n".join(lines)


def build(layout: str, paths: Iterable[str | Path], names: list[str] | None = None) -> tuple[list[str], list[Row]]:
    return score_rows(paths, names) if layout == "score" else mcq_rows(paths, names)
