"""A run that finished with missing numbers says which task and metric, and exits 1 (outputs written)."""

from __future__ import annotations

import json

from giqa_harness.cli import main
from giqa_harness.run_status import run_problems
from giqa_harness.testing.faults import faulty_run, judge_reply, write_answers
from giqa_harness.testing.scripted import scripted_plugin


def test_a_metric_that_failed_on_every_sample_is_a_problem(tmp_path, tiny_task, plugin):
    task, _, results = faulty_run(tmp_path, tiny_task, plugin, unjudged=["w1", "w2"])
    assert results["problems"] == [{
        "task": task, "metric": "acc_w",
        "problem": "Acc(W) failed on every sample: 2 of 2 failed: 2 in the metric (no single 0-4 score in the judge's "
                   "reply after 3 attempt(s) (the last one held no number); last reply: 'I cannot tell.' x2)",
    }]  # Acc(Total) is not computed (the W half is missing) but did not fail everywhere: not a problem


def test_a_task_without_a_scored_sample_is_a_problem(tmp_path, tiny_task, plugin):
    task, _, results = faulty_run(tmp_path, tiny_task, plugin, missing=["d1", "d2", "y1", "y2", "w1", "w2"])
    (problem,) = results["problems"]
    assert problem["task"] == task and problem["metric"] is None
    assert problem["problem"].startswith("no scored sample: all 6 docs failed to generate (first: model error:")


def test_not_computed_and_na_are_not_problems():
    results = {"results": {"t": {"n_scored": 4, "metrics": {
        "llm_score": {"value": None, "n": 0, "failed": 0, "reason": "not computed: needs an LLM judge"},
        "miou": {"value": None, "n": 0, "failed": 0, "reason": "N/A: the model emits no boxes"}}}}}
    assert run_problems(results) == []


def test_the_command_exits_1_names_task_and_metric_and_still_writes(tmp_path, tiny_task, plugin, capsys):
    plugin(scripted_plugin(llm=judge_reply), name="scripted_judge")
    task = tiny_task(metrics=["acc_y", "acc_w"])
    answers = write_answers(tmp_path / "answers.jsonl", unjudged=["w1", "w2"])
    out = tmp_path / "out"
    status = main(["--model", "replay", "--model_args", f"path={answers}", "--tasks", task, "--judge",
                   "scripted:j", "--output_path", str(out), "--log_samples", "--no_progress"])
    printed = capsys.readouterr().out
    assert status == 1
    assert "problems (exit status 1):\n  tiny: Acc(W) failed on every sample: 2 of 2 failed" in printed
    written = json.loads((out / "results.json").read_text())
    assert written["results"][task]["metrics"]["acc_y"]["value"] == 1.0
    assert written["problems"][0]["metric"] == "acc_w"
    # A rescore of the same logs finds the same problem and exits the same way.
    assert main(["rescore", str(out), "--output_path", str(tmp_path / "again")]) == 1


def test_a_clean_run_exits_0(tmp_path, tiny_task, plugin, capsys):
    plugin(scripted_plugin(llm=lambda prompt: "Score: 3"), name="scripted_judge")
    task = tiny_task(metrics=["acc_y", "acc_w", "acc_total"])
    answers = write_answers(tmp_path / "answers.jsonl")
    assert main(["--model", "replay", "--model_args", f"path={answers}", "--tasks", task, "--judge", "scripted:j",
                 "--no_progress"]) == 0
    assert "problems" not in capsys.readouterr().out
