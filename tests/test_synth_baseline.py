"""The classical baseline on giqa_synth beats the trivial answers on every metric that needs no judge
to be meaningful for localized quality: mIoU, Tag-Recall (both halves) and Acc(Y)."""

from __future__ import annotations

import pytest

from giqa_harness.synth import ensure_bench
from giqa_harness.synth.baselines import evaluate_baselines, markdown_table


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    results = evaluate_baselines(ensure_bench(), ["giqa_synth"], tmp_path_factory.mktemp("replays"), bootstrap=0,
                                 methods=("classical", "always_no", "whole_image"))
    return {
        method: {(task.rsplit("_", 1)[-1], name): entry["value"]
                 for task, result in document["results"].items() for name, entry in result["metrics"].items()}
        for method, document in results.items()
    }, results


@pytest.mark.parametrize("metric", [("des", "miou"), ("des", "tag_recall"), ("vqa", "miou"), ("vqa", "tag_recall"),
                                    ("vqa", "acc_y")])
def test_classical_beats_every_trivial_baseline(scores, metric):
    values, _ = scores
    classical = values["classical"][metric]
    assert classical is not None
    for trivial in ("always_no", "whole_image"):
        other = values[trivial][metric]
        # "No." to everything emits no box at all: its box metrics are N/A, which nothing can beat by less.
        assert other is None or classical > other + 0.1, (trivial, metric, classical, other)


def test_always_no_has_no_box_metrics_and_scores_the_share_of_no(scores):
    values, _ = scores
    assert values["always_no"][("des", "miou")] is None and values["always_no"][("vqa", "tag_recall")] is None
    assert values["always_no"][("vqa", "acc_y")] == pytest.approx(55 / 90)
    assert values["whole_image"][("vqa", "acc_y")] == pytest.approx(35 / 90)


def test_the_table_has_one_row_per_method(scores):
    _, results = scores
    table = markdown_table(results, with_ci=False).splitlines()
    assert [line.split("|")[1].strip() for line in table[2:]] == ["classical", "always_no", "whole_image"]
