"""``replay``: answers produced elsewhere (a model's own inference script, another harness), read from
a JSONL file of ``{"doc_id": ..., "answer": ..., "task": ...}`` records (``task`` optional).

    giqa-harness --model replay --model_args path=answers.jsonl,box_format=ferret --tasks giqa_des

``box_format`` (and optionally ``frame``) declare how the answers write boxes; ``emits_boxes=false``
marks a model that never writes boxes (its mIoU and Tag-Recall are N/A).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import ConfigError, DatasetError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter, Request, bool_arg
from giqa_harness.output import read_jsonl


class ReplayAdapter(ModelAdapter):
    name = "replay"
    description = "answers read from a JSONL file of {doc_id, answer[, task]} records"
    default_box_format = "giqa_grid"

    def __init__(self, path: str | None = None, box_format: str = "giqa_grid", frame: str | None = None,
                 emits_boxes: bool = True) -> None:
        if not path:
            raise ConfigError("model 'replay' needs --model_args path=ANSWERS.jsonl[,box_format=NAME]")
        self.path = Path(str(path)).expanduser()
        if not self.path.is_file():
            raise ConfigError(f"replay answers file {self.path} does not exist")
        self.box_format = get_format(box_format, frame)
        self.emits_boxes = bool_arg(emits_boxes, "emits_boxes")
        self.answers: dict[tuple[str | None, str], str] = {}
        for i, row in enumerate(read_jsonl(self.path), 1):
            if not isinstance(row, dict) or "doc_id" not in row or not isinstance(row.get("answer"), str):
                raise DatasetError(f"{self.path}:{i}: a replay record needs 'doc_id' and a string 'answer'")
            self.answers[(row.get("task"), str(row["doc_id"]))] = row["answer"]
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        self.model_args = {"path": str(self.path), "sha256": digest, "box_format": box_format, "frame": frame,
                           "emits_boxes": self.emits_boxes}

    def generate(self, requests: Sequence[Request]) -> list[str]:
        out = []
        for req in requests:
            answer = self.answers.get((req.task, req.doc_id), self.answers.get((None, req.doc_id)))
            if answer is None:
                raise KeyError(f"no answer for task {req.task!r} doc {req.doc_id!r} in {self.path}")
            out.append(answer)
        return out

    def identity(self) -> dict[str, Any]:
        return {"model": self.name, "model_args": self.model_args}


@hookimpl
def register_models(register):
    register(ReplayAdapter)
