"""What the run table and the exit summary say about a score or multiple-choice task's answers.

An unreadable answer was generated: for a level task it is a failed sample (no score is ever made
up), for a multiple-choice task it counts as wrong. Either way the table says how many there were, and
a level task whose answers were all unreadable is not reported as a task whose generation failed.
"""

from __future__ import annotations

from typing import Any, Mapping


def _kind(res: Mapping[str, Any]) -> str | None:
    return (res.get("scoring") or {}).get("kind")


def level_unreadable(res: Mapping[str, Any]) -> int:
    """Unreadable answers that are counted among a level task's failed samples (0 for any other task)."""
    return int(res.get("unreadable") or 0) if _kind(res) == "level" else 0


def answered_and_failed(res: Mapping[str, Any]) -> tuple[int, int]:
    """(docs with an answer, docs whose generation failed) for the run table's header."""
    unreadable = level_unreadable(res)
    return res["n_scored"] + unreadable, res["n_failed"] - unreadable


def table_lines(res: Mapping[str, Any]) -> list[str]:
    """The run table's line on unreadable answers, for score and multiple-choice tasks that had any."""
    unreadable = int(res.get("unreadable") or 0)
    if not unreadable or _kind(res) not in ("level", "mcq"):
        return []
    answered, _ = answered_and_failed(res)
    if _kind(res) == "level":
        return [f"  unreadable: {unreadable} of {answered} answers give no level word or in-range number "
                "(failed samples, never given a score)"]
    return [f"  unreadable: {unreadable} of {answered} answers name no option (counted wrong)"]
