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

TRIVIAL: dict[str, Callable[[dict[str, Any]], str]] = {
    "always_no": lambda record: "No.",
    "whole_image": lambda record: (
        f"Yes, {WHOLE} is affected." if record["kind"] == "vqa_yn" else f"The quality problem covers {WHOLE}."
    ),
    "reference": lambda record: record["answer"],
}


def write_replay(bench: Path, name: str, target: Path) -> Path:
    """A replay file (one ``{"doc_id", "answer"}`` line per record) of baseline ``name``."""
    answer = TRIVIAL[name]
    rows = [{"doc_id": record["id"], "answer": answer(record)} for _, record in iter_records(bench / "data.jsonl")]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return target
