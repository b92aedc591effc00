"""The evaluator: batching, caching, failures that lose nothing, outputs."""

from __future__ import annotations

import json

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter


def write_replay(path, answers):
    path.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    return path


def test_replay_run_writes_results_and_samples(tmp_path, tiny_task):
    task = tiny_task()
    answers = write_replay(tmp_path / "answers.jsonl", {
        "d1": "The [sky](<0, 59>) is bright.", "d2": "Blurry.", "y1": "Yes", "y2": "No", "w1": "Noise", "w2": "Low",
    })
    out = tmp_path / "run"
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task],
                                 output_path=out, log_samples=True, progress=False))
    assert results["results"][task]["n_scored"] == 6
    assert results["results"][task]["n_failed"] == 0
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["results"][task]["n_samples"] == 6
    rows = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
    assert [r["doc_id"] for r in rows] == ["d1", "d2", "y1", "y2", "w1", "w2"]
    first = rows[0]
    assert first["parsed"]["groundings"][0]["phrase"] == "sky"
    assert first["reference"].startswith("The [sky]")
