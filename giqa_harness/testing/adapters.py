"""Running a model adapter end to end through the public evaluator, for adapter tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def run_answers(model: str, model_args: dict[str, Any], task: str, output: Path, batch_size: int = 1,
                limit: int | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Evaluate ``model`` on ``task`` through `giqa_harness.evaluator.evaluate` (no response cache, so
    every answer is really generated) and return the results document and ``{doc_id: answer}``."""
    from ..evaluator import RunConfig, evaluate

    config = RunConfig(model=model, model_args=dict(model_args), tasks=[task], batch_size=batch_size, limit=limit,
                       output_path=Path(output), log_samples=True, use_cache=False, progress=False, bootstrap=0)
    results = evaluate(config)
    rows = [json.loads(line) for line in (Path(output) / f"samples_{task}.jsonl").read_text().splitlines()]
    return results, {row["doc_id"]: row["answer"] for row in rows}
