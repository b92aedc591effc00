"""What went wrong in a run, in one list: the reasons its exit status is not 0.

A run (or a rescore) that finished but has a task that failed, a task with no scored sample, or a
metric that failed on every sample it applies to still writes everything it has; these problems are
recorded in results.json (``problems``), printed after the run table, and make the command exit 1.
A metric that is merely not computed (no ``--judge``) or N/A is not a problem: it says why instead.
"""

from __future__ import annotations

from typing import Any, Mapping

from .metrics.coverage import entry_coverage
from .score.summary import level_unreadable

EXIT_PROBLEMS = 1  # the run finished and wrote its outputs, but some numbers are missing


def task_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_problems(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``{"task", "metric", "problem"}`` per failed task, task without a scored sample, or metric
    that failed on every applicable sample (``metric`` is None for a task-level problem)."""
    problems: list[dict[str, Any]] = []
    for task, res in (results.get("results") or {}).items():
        if res.get("error"):
            problems.append({"task": task, "metric": None, "problem": f"task failed: {res['error']}"})
            continue
        if not res.get("n_scored"):
            problems.append({"task": task, "metric": None, "problem": _no_scored_sample(res)})
            continue
        for name, entry in (res.get("metrics") or {}).items():
            coverage = entry_coverage(entry)
            if coverage is not None and coverage.all_failed:
                label = entry.get("label") or name
                problems.append({"task": task, "metric": name,
                                 "problem": f"{label} failed on every sample: {coverage.describe_failures()}"})
    return problems


def _no_scored_sample(res: Mapping[str, Any]) -> str:
    n = res.get("n_samples", 0)
    if not n:
        return "no scored sample: the task has no docs to score"
    failures = res.get("failures") or []
    first = f" (first: {failures[0]['reason']})" if failures else ""
    unreadable = level_unreadable(res)
    if unreadable:  # answers that were generated, but give no score
        causes = [f"{unreadable} answers unreadable"]
        if n - unreadable:
            causes.append(f"{n - unreadable} failed to generate")
        return f"no scored sample: all {n} docs failed ({', '.join(causes)}){first}"
    return f"no scored sample: all {n} docs failed to generate{first}"


def format_problems(problems: list[dict[str, Any]]) -> str:
    """The summary printed after the run table."""
    lines = [f"problems (exit status {EXIT_PROBLEMS}):"]
    lines += [f"  {p['task']}: {p['problem']}" for p in problems]
    return "\n".join(lines)
