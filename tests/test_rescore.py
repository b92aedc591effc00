"""Re-scoring a logged run without any model gives the run's own numbers; logs turn back into replays."""

from __future__ import annotations

import json

from giqa_harness.cli import main
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.rescore import log_to_replay, rescore_run

ANSWERS = {"d1": "The [sky](<0, 59>) is over-exposed and the [dog](<250, 293>) is sharp.",
           "d2": "It is blurry, mostly the [car](<121, 187>).", "y1": "Yes.", "y2": "Yes, it is sharp.",
           "w1": "Over-exposure of the [sky](<0, 39>).", "w2": "Low."}
METRICS = ["miou", "tag_recall", "bleu4", "acc_y"]


def logged_run(tmp_path, tiny_task):
    task = tiny_task(metrics=METRICS)
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    out = tmp_path / "run"
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                                 log_samples=True, progress=False, bootstrap=200))
    return task, out, results


def test_rescore_reproduces_every_metric_without_a_model(tmp_path, tiny_task):
    task, out, original = logged_run(tmp_path, tiny_task)
    rescored = rescore_run(out, output=tmp_path / "rescored")
    assert rescored["results"][task]["metrics"] == original["results"][task]["metrics"]
    assert (tmp_path / "rescored" / f"samples_{task}.jsonl").read_text() == \
        (out / f"samples_{task}.jsonl").read_text()


def test_logs_turn_back_into_a_replay_file_that_gives_the_same_results(tmp_path, tiny_task):
    task, out, original = logged_run(tmp_path, tiny_task)
    replay = tmp_path / "replayed.jsonl"
    assert log_to_replay(out, replay) == 6
    again = evaluate(RunConfig(model="replay", model_args={"path": str(replay)}, tasks=[task], progress=False,
                               bootstrap=200))
    assert again["results"][task]["metrics"] == original["results"][task]["metrics"]


def test_rescore_command_prints_the_table(tmp_path, tiny_task, capsys):
    task, out, _ = logged_run(tmp_path, tiny_task)
    assert main(["rescore", str(out), "--output_path", str(tmp_path / "r2")]) == 0
    assert f"{task}  (6 scored, 0 failed)" in capsys.readouterr().out
