"""Checks on the boxes of a run that no box metric shows: box counts (spam) and the declared syntax.

Both end up in each task result's ``box_checks`` field of results.json, with human-readable
``warnings`` that the printed table, the leaderboard and the report repeat. Neither changes a score.

- **Box counts.** mIoU and Tag-Recall only look for each reference box among the predictions, so a
  model that writes many boxes is never charged for them. The mean number of predicted boxes per answer
  beside the mean number of reference boxes shows it; a ratio above `BOX_RATIO_THRESHOLD` is flagged.
  Only the answers whose reference has boxes are counted: those are the ones box metrics score, so
  only boxes there can move a box metric.
- **Declared syntax.** A model whose answers hold no box in the syntax it declares gets N/A on the box
  metrics. When the same answers do hold boxes in other registered formats, the likely cause is a wrong
  ``box_format``: the check names those formats and how many answers each reads boxes from. It is a
  warning only; nothing is ever scored from a guessed format.
"""

from __future__ import annotations

from typing import Any, Sequence

from .metrics.base import Sample

# A run writing more than three times as many boxes as the references hold is flagged. Table 5's
# grounding models write about as many boxes as the references (their mIoU and Tag-Recall are close);
# three times leaves room for models that split one region into a few boxes.
BOX_RATIO_THRESHOLD = 3.0


def box_counts(samples: Sequence[Sample], threshold: float = BOX_RATIO_THRESHOLD) -> dict[str, Any] | None:
    """Mean predicted and reference boxes per answer over the samples whose reference has boxes, their
    ratio and whether it passes ``threshold``; None when no sample has reference boxes."""
    counted = [s for s in samples if s.reference.has_boxes]
    if not counted:
        return None
    predicted = sum(len(s.prediction.boxes) for s in counted) / len(counted)
    reference = sum(len(s.reference.boxes) for s in counted) / len(counted)
    ratio = predicted / reference
    return {"answers": len(counted), "predicted_per_answer": predicted, "reference_per_answer": reference,
            "ratio": ratio, "threshold": threshold, "flagged": ratio > threshold}


def declared_syntax(samples: Sequence[Sample], sizes: Sequence[tuple[int, int]], box_format: Any,
                    emits_boxes: bool) -> dict[str, Any] | None:
    """When no answer holds a box (or a malformed box) in ``box_format`` but some parse with boxes in
    other registered formats: the declared format, the answer count and ``{format: answers with boxes}``.
    None otherwise, and for a model that declares it never writes boxes."""
    if not emits_boxes or not samples or any(s.prediction.has_boxes or s.prediction.dropped for s in samples):
        return None
    from .boxes.formats import get_format
    from .plugins import registry

    found: dict[str, int] = {}
    for name in registry().formats.names():
        if name == box_format.name:
            continue
        try:
            other = get_format(name)
        except Exception:  # a third-party format that cannot be built with its defaults is not a candidate
            continue
        readable = 0
        for s, size in zip(samples, sizes):
            try:
                readable += other.parse(s.answer, size).has_boxes
            except Exception:  # formats must never raise on model output; one that does reads nothing
                pass
        if readable:
            found[name] = readable
    if not found:
        return None
    return {"declared": box_format.name, "answers": len(samples), "answers_with_boxes_in": found}


def box_checks(samples: Sequence[Sample], sizes: Sequence[tuple[int, int]], box_format: Any,
               emits_boxes: bool) -> dict[str, Any]:
    """The ``box_checks`` field of a task result."""
    counts = box_counts(samples)
    syntax = declared_syntax(samples, sizes, box_format, emits_boxes)
    return {"counts": counts, "declared_syntax": syntax, "warnings": warnings(counts, syntax)}


def warnings(counts: dict[str, Any] | None, syntax: dict[str, Any] | None) -> list[str]:
    out = []
    if counts and counts["flagged"]:
        out.append(
            f"box counts: {counts['predicted_per_answer']:.1f} predicted vs {counts['reference_per_answer']:.1f} "
            f"reference boxes per answer ({counts['ratio']:.1f}x, flagged above {counts['threshold']:g}x): "
            "mIoU and Tag-Recall do not charge extra boxes; see Tag-Precision, Tag-F1 and mIoU (penalized)"
        )
    if syntax:
        formats = ", ".join(f"{name} ({n} of {syntax['answers']})" for name, n in syntax["answers_with_boxes_in"].items())
        out.append(
            f"declared syntax: no answer holds a box in the declared format {syntax['declared']!r}, but answers "
            f"hold boxes in {formats}; nothing was scored from those formats: if one is the model's syntax, "
            "run again with --model_args box_format=NAME (logged answers need no model: rescore RUN_DIR "
            "--to_replay FILE, then --model replay --model_args path=FILE,box_format=NAME)"
        )
    return out


def run_warnings(results: dict[str, Any], tasks: Sequence[str | None] | None = None) -> list[str]:
    """Every task's box warnings, each prefixed with its task (``tasks``: only those, in that order)."""
    per_task = results.get("results", {})
    names = [t for t in (tasks if tasks is not None else list(per_task)) if t]
    return [f"{name}: {w}" for name in dict.fromkeys(names)
            for w in ((per_task.get(name) or {}).get("box_checks") or {}).get("warnings", [])]


def table_lines(task_result: dict[str, Any], indent: str = "  ") -> list[str]:
    """The lines the printed run table shows for one task: its box counts, then each warning."""
    checks = task_result.get("box_checks") or {}
    counts = checks.get("counts")
    lines = []
    if counts:
        flag = "  FLAGGED" if counts["flagged"] else ""
        lines.append(f"{indent}boxes per answer: {counts['predicted_per_answer']:.2f} predicted, "
                     f"{counts['reference_per_answer']:.2f} reference ({counts['ratio']:.1f}x, "
                     f"{counts['answers']} answers with reference boxes){flag}")
    lines.extend(f"{indent}warning: {w}" for w in checks.get("warnings", []))
    return lines
