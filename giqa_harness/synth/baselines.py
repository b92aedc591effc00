"""Trivial answers to compare a model with on giqa_synth, and the references themselves (an upper
bound), written as replay files for ``--model replay``.

- ``always_no``: "No." to every question and description (no boxes at all);
- ``whole_image``: one whole-image box for everything, "Yes" to every Yes/No question;
- ``reference``: the reference answers (must score 1.0 on mIoU, Tag-Recall and Acc(Y)).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from ..datasets import iter_records

WHOLE = "[the whole image](<0, 399>)"

ANSWERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "always_no": lambda record: "No.",
    "whole_image": lambda record: (
        f"Yes, {WHOLE} is affected." if record["kind"] == "vqa_yn" else f"The quality problem covers {WHOLE}."
    ),
    "reference": lambda record: record["answer"],
}


def write_replay(bench: Path, name: str, target: Path) -> Path:
    """A replay file (one ``{"doc_id", "answer"}`` line per record) of baseline ``name``."""
    answer = ANSWERS[name]
    rows = [{"doc_id": record["id"], "answer": answer(record)} for _, record in iter_records(bench / "data.jsonl")]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return target


COLUMNS = ("DES mIoU", "DES Tag-Recall", "BLEU@4", "VQA mIoU", "VQA Tag-Recall", "Acc(Y)")
METHODS = ("classical", "always_no", "whole_image", "reference")


def evaluate_baselines(bench: Path, tasks: list[str], work: Path, bootstrap: int = 1000,
                       methods: tuple[str, ...] = METHODS) -> dict[str, dict[str, Any]]:
    """Results documents of the classical adapter and the replayed baselines on ``tasks`` (which must
    read ``bench``). Nothing is cached: every answer is generated or replayed afresh."""
    return {name: evaluate_answers(None if name == "classical" else write_replay(bench, name, work / f"{name}.jsonl"),
                                   tasks, bootstrap)
            for name in methods}


def evaluate_answers(replay: Path | None, tasks: list[str], bootstrap: int = 1000) -> dict[str, Any]:
    """The results document of the answers in ``replay`` (a replay file), or of the classical adapter
    when it is None; uncached."""
    from ..evaluator import RunConfig, evaluate

    if replay is None:
        config = RunConfig(model="classical", tasks=tasks, progress=False, bootstrap=bootstrap, use_cache=False)
    else:
        config = RunConfig(model="replay", model_args={"path": str(replay)}, tasks=tasks, progress=False,
                           bootstrap=bootstrap, use_cache=False)
    return evaluate(config)


def markdown_table(results: dict[str, dict[str, Any]], with_ci: bool = True) -> str:
    """One row per method, the columns of `COLUMNS` (95% intervals in brackets)."""
    from ..leaderboard import run_row

    lines = ["| method | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for name, document in results.items():
        row = run_row(document, name)
        cells = []
        for title in COLUMNS:
            value = row.cells.get(title) or "–"
            if with_ci and row.intervals.get(title):
                value += f" {row.intervals[title]}"
            cells.append(value)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
