"""Box checks: box counts with a spam flag, and the declared-syntax warning; never a score."""

from __future__ import annotations

import json

import pytest

from giqa_harness.box_checks import BOX_RATIO_THRESHOLD, box_checks, box_counts, run_warnings
from giqa_harness.boxes.formats import get_format
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.leaderboard import build_rows, format_run_table, to_markdown
from giqa_harness.testing.samples import sample

GRID = get_format("giqa_grid")


def test_counts_are_means_over_answers_whose_reference_has_boxes():
    samples = [
        sample("[a](<0, 21>, <42, 63>) [b](<84, 105>)", "[a](<0, 21>)"),  # 3 predicted, 1 reference
        sample("No box.", "[a](<0, 21>) [b](<84, 105>)"),  # 0 predicted, 2 reference
        sample("[a](<0, 21>)", "Yes.", kind="vqa_yn"),  # no reference box: not counted
    ]
    counts = box_counts(samples)
    assert counts["answers"] == 2
    assert counts["predicted_per_answer"] == 1.5 and counts["reference_per_answer"] == 1.5
    assert counts["ratio"] == 1.0 and not counts["flagged"]
    assert box_counts([sample("[a](<0, 21>)", "Yes.", kind="vqa_yn")]) is None


def test_a_ratio_above_the_threshold_is_flagged_with_a_warning():
    spam = "".join(f"[x](<{i}, {i + 21}>)" for i in range(4))  # 4 boxes against 1
    checks = box_checks([sample(spam, "[a](<0, 21>)")], [(100, 100)], GRID, True)
    assert checks["counts"]["ratio"] == 4.0 > BOX_RATIO_THRESHOLD and checks["counts"]["flagged"]
    assert checks["declared_syntax"] is None
    assert len(checks["warnings"]) == 1 and "4.0x" in checks["warnings"][0]
    exactly = "".join(f"[x](<{i}, {i + 21}>)" for i in range(3))  # 3x is not above 3x
    assert not box_checks([sample(exactly, "[a](<0, 21>)")], [(100, 100)], GRID, True)["counts"]["flagged"]


def replay_run(tmp_path, tiny_task, answers, **model_args):
    task = tiny_task(["miou", "tag_recall"])
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    return task, evaluate(RunConfig(model="replay", model_args={"path": str(path), **model_args}, tasks=[task],
                                    output_path=tmp_path / "out", progress=False, bootstrap=0))


GRID_ANSWERS = {"d1": "The [sky](<0, 59>) is bright.", "d2": "The [car](<120, 186>) is blurry.", "y1": "Yes.",
                "y2": "No.", "w1": "The [sky](<0, 59>).", "w2": "Low."}


def test_answers_in_another_syntax_than_declared_are_named_but_not_scored(tmp_path, tiny_task):
    task, results = replay_run(tmp_path, tiny_task, GRID_ANSWERS, box_format="ferret")
    result = results["results"][task]
    syntax = result["box_checks"]["declared_syntax"]
    assert syntax["declared"] == "ferret" and syntax["answers"] == 6
    assert syntax["answers_with_boxes_in"]["giqa_grid"] == 3  # the three answers that hold a box
    # A warning only: the box metrics stay N/A; nothing is scored from the guessed format.
    assert result["metrics"]["miou"]["value"] is None and result["metrics"]["miou"]["reason"].startswith("N/A")
    table = format_run_table(results)
    assert "declared syntax" in table and "giqa_grid (3 of 6)" in table
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert on_disk["results"][task]["box_checks"] == result["box_checks"]
    assert any("declared syntax" in w for w in run_warnings(on_disk))
    # The advice is one that works: rescore keeps the run's declared format, a replay can declare another.
    assert "and rescore" not in table and "--to_replay FILE, then --model replay" in table


def test_the_declared_syntax_raises_no_warning(tmp_path, tiny_task):
    task, results = replay_run(tmp_path, tiny_task, GRID_ANSWERS)
    assert results["results"][task]["box_checks"]["declared_syntax"] is None
    assert results["results"][task]["box_checks"]["warnings"] == []


def test_a_model_that_declares_no_boxes_is_not_checked(tmp_path, tiny_task):
    task, results = replay_run(tmp_path, tiny_task, GRID_ANSWERS, box_format="ferret", emits_boxes=False)
    assert results["results"][task]["box_checks"]["declared_syntax"] is None


@pytest.mark.parametrize("extended", [False, True])
def test_the_leaderboard_marks_a_flagged_run(tmp_path, tiny_task, extended):
    spam = " ".join(f"[x](<{i}, {i + 21}>)" for i in range(8))
    task, _ = replay_run(tmp_path, tiny_task, {**GRID_ANSWERS, "d1": spam, "d2": spam})
    rows = build_rows([tmp_path / "out"], des_task=task, extended=extended)
    assert rows[0].box_warnings and rows[0].box_warnings[0].startswith(f"{task}: box counts")
    markdown = to_markdown(rows, extended=extended)
    assert "(!)" in markdown.splitlines()[2] and f"- (!) {rows[0].method}: {task}: box counts" in markdown
    # The box counts are a column of the extended layout only; Table 5's layout keeps its columns.
    assert ("DES boxes/answer (pred / ref)" in markdown) is extended
    assert (" 5.67 / 1.33 " in markdown) is extended  # d1, d2 with 8 boxes, w1 with 1; references 2, 1, 1
