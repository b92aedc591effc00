"""The built-in metrics are registered under the names the task YAML and the leaderboard use, and a
run through the evaluator puts them, with intervals, into results.json."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.hookspecs import hookimpl
from giqa_harness.leaderboard import COLUMNS, run_row
from giqa_harness.llm.base import LLMBackend
from giqa_harness.plugins import registry
from giqa_harness.task import task_index

ALL = ("miou", "tag_recall", "bleu4", "llm_score", "acc_y", "acc_w", "acc_total")
# Tag-Recall with string equality keeps this test free of torch; the MiniLM default has its own tests.
METRICS = [m if m != "tag_recall" else "{name: tag_recall, options: {similarity: exact}}" for m in ALL]

ANSWERS = {
    "d1": "The [sky](<0, 59>) is over-exposed and the [dog](<250, 293>) is sharp. Overall quality is fair.",
    "d2": "The image is sharp, except the [car](<121, 186>).",
    "y1": "Yes, it is.",
    "y2": "Yes.",
    "w1": "The [sky](<0, 39>) is over-exposed.",
    "w2": "Low.",
}


class ConstantJudge(LLMBackend):
    """``--judge constant:REPLY`` answers every prompt with REPLY."""

    def complete(self, prompts, system=None, **generation):
        return [self.spec.partition(":")[2]] * len(prompts)


@hookimpl
def register_judges(register):
    register("constant", lambda rest, **options: ConstantJudge(f"constant:{rest}"))


def test_every_metric_the_tasks_and_leaderboard_name_is_registered():
    names = set(registry().metrics.names())
    assert set(ALL) <= names
    assert {metric for _, _, metric, _ in COLUMNS} <= names
    for task in task_index().tasks.values():
        assert {m.name for m in task.metrics} <= names, task.name


def run(tmp_path, tiny_task, answers=ANSWERS, judge=None, **replay_args):
    task = tiny_task(metrics=METRICS)
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    out = tmp_path / "run"
    evaluate(RunConfig(model="replay", model_args={"path": str(path), **replay_args}, tasks=[task],
                       output_path=out, log_samples=True, judge=judge, bootstrap=200, progress=False))
    results = json.loads((out / "results.json").read_text())
    rows = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
    return results["results"][task]["metrics"], rows


def test_a_run_reports_every_metric_with_an_interval(tmp_path, tiny_task, plugin):
    plugin(SimpleNamespace(register_judges=register_judges), name="constant_judge")
    metrics, rows = run(tmp_path, tiny_task, judge="constant:Score: 3")
    assert set(metrics) == set(ALL)
    for name, entry in metrics.items():
        assert entry["value"] is not None, (name, entry)
        low, high = entry["ci95"]
        assert low <= entry["value"] <= high, name
        assert entry["failed"] == 0
    # Hand-checked values on the six-sample bench:
    # d1 exact (1); d2's car starts one cell late (width 0.25 of 0.3: 5/6); w1's sky is one row short
    # (height 0.05 of 0.1: 1/2). Mean over the three samples with reference boxes:
    assert metrics["miou"]["value"] == pytest.approx((1.0 + 5 / 6 + 1 / 2) / 3)
    assert metrics["miou"]["n"] == 3
    assert metrics["tag_recall"]["value"] == pytest.approx(3 / 4)  # sky, dog, car; w1's IoU 0.5 is not > 0.5
    assert metrics["acc_y"]["value"] == 0.5
    assert metrics["llm_score"]["value"] == pytest.approx(75.0)
    assert metrics["acc_w"]["value"] == pytest.approx(0.75)
    assert metrics["acc_total"]["value"] == pytest.approx((1 + 0 + 0.75 + 0.75) / 4)
    assert 0 < metrics["bleu4"]["value"] < 100
    assert metrics["bleu4"]["label"] == "BLEU@4"
    by_id = {r["doc_id"]: r["scores"] for r in rows}
    assert set(by_id["d1"]["bleu4"]) == {"testlen", "reflen", "guess", "correct"}
    assert by_id["y2"]["acc_y"] == 0.0 and by_id["w2"]["acc_w"] == 3


def test_without_a_judge_the_judged_metrics_say_why(tmp_path, tiny_task):
    metrics, _ = run(tmp_path, tiny_task)
    for name in ("llm_score", "acc_w", "acc_total"):
        assert metrics[name]["value"] is None and "--judge" in metrics[name]["reason"]
    assert metrics["acc_y"]["value"] == 0.5


def test_failed_judge_replies_are_counted_in_results(tmp_path, tiny_task, plugin):
    plugin(SimpleNamespace(register_judges=register_judges), name="constant_judge")
    metrics, rows = run(tmp_path, tiny_task, judge="constant:no idea")
    assert metrics["acc_w"]["failed"] == 2 and metrics["acc_w"]["value"] is None
    # Not Acc(Y) (0.5) dressed up as Acc(Total): without the W half it is not computed.
    assert metrics["acc_total"]["failed"] == 2 and metrics["acc_total"]["value"] is None
    assert "never from part of either half" in metrics["acc_total"]["reason"]
    assert "no single 0-4 score" in {r["doc_id"]: r for r in rows}["w1"]["scores"]["acc_w"]["failed"]


def test_a_model_without_boxes_is_na_on_the_box_metrics(tmp_path, tiny_task):
    plain = {k: v.replace("[", "").replace("](<0, 59>)", "").replace("](<250, 293>)", "")
             .replace("](<121, 186>)", "").replace("](<0, 39>)", "") for k, v in ANSWERS.items()}
    metrics, _ = run(tmp_path, tiny_task, answers=plain)
    for name in ("miou", "tag_recall"):
        assert metrics[name]["value"] is None and metrics[name]["reason"].startswith("N/A")
    row = run_row({"results": {"tiny_des": {"metrics": metrics}}, "model": {"model": "replay"}})
    assert row.cells["DES mIoU"] == "N/A"
