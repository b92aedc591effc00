"""Box spam does not pay on the metrics that charge for it: the fixed box grid (the same 225 boxes on
every image) keeps the paper's recall-only mIoU high, but its Tag-F1 and penalized mIoU fall below the
classical baseline's, its penalized mIoU below one whole-image box, and the run is flagged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from giqa_harness.leaderboard import format_run_table, run_row
from giqa_harness.synth import ensure_bench
from giqa_harness.synth.adversarial import ANSWER_SETS, answer_set, grid_boxes, markdown_table
from giqa_harness.synth.adversarial import evaluate_answer_sets

TASK = "giqa_synth_des"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return evaluate_answer_sets(ensure_bench(), [TASK], tmp_path_factory.mktemp("answers"), bootstrap=0,
                                methods=("classical", "whole_image", "box_grid"))


def value(results, method, metric):
    return results[method]["results"][TASK]["metrics"][metric]["value"]


def test_the_box_grid_is_225_rectangles_on_a_5x5_grid():
    boxes = grid_boxes()
    assert len(boxes) == len(set(boxes)) == 225
    assert (0, 399) in boxes  # the whole image is one of them


def test_recall_only_miou_rewards_the_grid(results):
    # The weakness the extra metrics answer: the grid's paper mIoU is four times one whole-image box's.
    assert value(results, "box_grid", "miou") > 3 * value(results, "whole_image", "miou")


def test_the_grid_loses_on_tag_f1_and_penalized_miou(results):
    assert value(results, "box_grid", "tag_f1") < value(results, "classical", "tag_f1")
    assert value(results, "box_grid", "miou_penalized") < value(results, "classical", "miou_penalized")
    assert value(results, "box_grid", "miou_penalized") < value(results, "whole_image", "miou_penalized")


def test_the_grid_run_is_flagged_and_the_others_are_not(results):
    counts = {m: results[m]["results"][TASK]["box_checks"]["counts"] for m in results}
    assert counts["box_grid"]["flagged"] and counts["box_grid"]["predicted_per_answer"] == 225
    assert not counts["classical"]["flagged"] and not counts["whole_image"]["flagged"]
    assert "FLAGGED" in format_run_table(results["box_grid"])
    assert run_row(results["box_grid"]).box_warnings and not run_row(results["classical"]).box_warnings
    assert "225.00 / " in markdown_table(results, TASK) and "(!)" in markdown_table(results, TASK)


def test_answer_sets_are_seeded_and_keep_the_reference_text():
    records = [{"id": "a", "kind": "des", "answer": "[The sky](<0, 63>) is blurry."},
               {"id": "b", "kind": "des", "answer": "[The dog](<210, 399>) is noisy."}]
    for name in ANSWER_SETS:
        assert answer_set(records, name, seed=1) == answer_set(records, name, seed=1)
    assert answer_set(records, "shuffled_references") == {"a": records[1]["answer"], "b": records[0]["answer"]}
    jittered = answer_set(records, "jitter_1")["a"]
    assert jittered.startswith("[The sky](<") and jittered.endswith(") is blurry.") and jittered != records[0]["answer"]


def test_the_docs_table_holds_these_point_values(results):
    """docs/metrics.md pastes the output of benchmarks/bench_adversarial.py; its DES rows of these three
    answer sets must be what the harness computes now (intervals aside: this run has no bootstrap)."""
    docs = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = docs.split(f"{TASK}, 95% bootstrap intervals", 1)[1].split("\n\n", 2)[1]
    documented = {line.split(" | ")[0].strip("| "): re.sub(r" \[[^]]*\]", "", line) for line in section.splitlines()}
    for line in markdown_table(results, TASK).splitlines()[2:]:
        assert documented[line.split(" | ")[0].strip("| ")] == line
