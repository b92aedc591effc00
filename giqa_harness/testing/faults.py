"""A run of the six-record tiny bench with chosen faults: answers that are missing (generation
failures) and answers the judge cannot score (metric failures), for coverage and exit-status tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

UNJUDGEABLE = "UNJUDGEABLE"  # an answer holding this word gets a judge reply with no score
ANSWERS = {
    "d1": "The [sky](<0, 59>) is over-exposed while the [dog](<250, 293>) is sharp.",
    "d2": "The image is blurry overall, especially the [car](<120, 186>).",
    "y1": "Yes.", "y2": "No.",
    "w1": "Over-exposure on the [sky](<0, 59>).", "w2": "Low.",
}
# Every built-in metric; Tag-Recall compares phrases exactly, which keeps these runs free of torch.
ALL_METRICS = ("miou", "{name: tag_recall, options: {similarity: exact}}", "bleu4", "llm_score", "acc_y", "acc_w",
               "acc_total")


def judge_reply(prompt: str) -> str:
    """Score 3, except for an answer marked `UNJUDGEABLE` (a reply that never holds a score)."""
    return "I cannot tell." if UNJUDGEABLE in prompt else "Score: 3"


def write_answers(path: Path, missing: Sequence[str] = (), unjudged: Sequence[str] = ()) -> Path:
    """A replay file of `ANSWERS` without the ``missing`` docs, with ``unjudged`` answers marked."""
    rows = [{"doc_id": k, "answer": f"{v} {UNJUDGEABLE}" if k in unjudged else v}
            for k, v in ANSWERS.items() if k not in missing]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def faulty_run(tmp_path: Path, tiny_task: Callable[..., str], plugin: Callable[..., str],
               missing: Sequence[str] = (), unjudged: Sequence[str] = (),
               metrics: Sequence[str] = ALL_METRICS, name: str = "tiny") -> tuple[str, Path, dict[str, Any]]:
    """Evaluate the replayed answers with the scripted judge (``scripted:judge``); returns the task
    name, the output folder (logged samples, cache) and the results document."""
    from ..evaluator import RunConfig, evaluate
    from .scripted import scripted_plugin

    plugin(scripted_plugin(llm=judge_reply), name="scripted_judge")
    task = tiny_task(metrics=list(metrics), name=name)
    answers = write_answers(tmp_path / "answers.jsonl", missing, unjudged)
    out = tmp_path / "run"
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                                 log_samples=True, judge="scripted:judge", progress=False, bootstrap=50))
    return task, out, results
