"""mIoU: per-sample one-to-one pairing, mean over samples with reference boxes, N/A rules."""

from __future__ import annotations

import pytest

from giqa_harness.boxes.geometry import Box
from giqa_harness.errors import TaskError
from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.miou import MeanIoU, sample_miou
from giqa_harness.testing.samples import grounded, sample

X = Box(0.0, 0.0, 0.5, 0.5)
Y = Box(0.5, 0.0, 1.0, 0.5)
MIDDLE = Box(0.25, 0.0, 0.75, 0.5)  # IoU 1/3 with X and with Y
FAR = Box(0.5, 0.5, 1.0, 1.0)


def test_identical_boxes_score_one_and_disjoint_boxes_zero():
    assert sample_miou([X], [X]) == 1.0
    assert sample_miou([FAR], [X]) == 0.0


def test_empty_prediction_scores_zero():
    assert sample_miou([], [X, Y]) == 0.0


def test_sample_value_is_the_mean_over_pairs_not_over_references():
    # X pairs with X (1.0); MIDDLE is left with Y (1/3): (1 + 1/3) / 2.
    assert sample_miou([X, MIDDLE], [X, Y]) == pytest.approx(2 / 3)
    # Only one pair exists: unpaired references cost nothing by default...
    assert sample_miou([X], [X, FAR]) == 1.0
    # ...and count as 0 with penalize_unmatched.
    assert sample_miou([X], [X, FAR], penalize_unmatched="references") == 0.5


def test_duplicate_predictions_pair_once():
    assert sample_miou([X, X], [X, FAR]) == 1.0
    assert sample_miou([X, X], [X, FAR], penalize_unmatched="references") == 0.5


def test_a_tie_goes_to_the_earlier_reference():
    # MIDDLE overlaps X and Y equally (1/3); greedy pairs it with X, the earlier reference.
    assert sample_miou([MIDDLE], [X, Y]) == pytest.approx(1 / 3)
    assert sample_miou([MIDDLE], [X, Y], penalize_unmatched="references") == pytest.approx(1 / 6)


def test_greedy_and_hungarian_can_differ():
    def strip(x1, x2):
        return Box(x1, 0.0, x2, 1.0)

    a, b = strip(0.0, 0.1), strip(0.0, 0.2)
    wide, narrow = strip(0.0, 0.3), strip(0.1, 0.2)
    # IoU: a-wide 1/3, a-narrow 0, b-wide 2/3, b-narrow 1/2. Greedy takes b-wide and strands a;
    # Hungarian takes a-wide + b-narrow (total 5/6 > 2/3).
    assert sample_miou([a, b], [wide, narrow], "greedy") == pytest.approx(2 / 3)
    assert sample_miou([a, b], [wide, narrow], "hungarian") == pytest.approx(5 / 12)
    assert sample_miou([a, b], [wide, narrow], "greedy", penalize_unmatched="references") == pytest.approx(1 / 3)
    assert sample_miou([a, b], [wide, narrow], "hungarian", penalize_unmatched="references") == pytest.approx(5 / 12)


def test_zero_area_grid_reference_cannot_be_matched():
    # Cells 0 and 19 share the top row: the paper's decoding makes this box a line of zero area.
    line = sample("[edge](<0, 19>)", "[edge](<0, 19>)")
    assert line.reference.boxes[0].area == 0.0
    values = MeanIoU().score([line, sample("[sky](<0, 59>)", "[sky](<0, 59>)")], MetricContext())
    assert values == [0.0, 1.0]


def test_task_value_is_the_mean_over_samples_whose_reference_has_boxes():
    samples = [
        sample(grounded("a", [("a", [X])]), grounded("a", [("a", [X])])),
        sample(grounded("b", [("b", [MIDDLE])]), grounded("b", [("b", [Y])])),
        sample(grounded("c"), grounded("c", [("c", [Y])])),  # a box-capable model, no box here: 0
        sample(grounded("Yes", [("y", [X])]), grounded("Yes."), kind="vqa_yn"),  # reference has no box
    ]
    result, values = compute_metric(MeanIoU(), samples, MetricContext(), n_resamples=200)
    assert values == [1.0, pytest.approx(1 / 3), 0.0, None]
    assert result.value == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert result.n == 3
    assert result.ci_low <= result.value <= result.ci_high


def test_no_box_anywhere_in_the_task_is_na_not_zero():
    samples = [sample("The sky is bright.", "The [sky](<0, 59>) is bright.")]
    result, values = compute_metric(MeanIoU(), samples, MetricContext())
    assert result.value is None and result.reason.startswith("N/A")
    assert values == [None]


def test_boxes_the_parser_had_to_drop_still_count_as_written():
    # Cell 400 is off the 20 x 20 grid: the box is malformed, but the model did write one. It scores 0
    # like any miss; N/A is only for models that write no box markup at all.
    samples = [sample("The [sky](<400, 999>) is bright.", "The [sky](<0, 59>) is bright.")]
    assert samples[0].prediction.dropped == 1 and not samples[0].prediction.has_boxes
    result, values = compute_metric(MeanIoU(), samples, MetricContext())
    assert result.value == 0.0 and values == [0.0]


def test_models_that_never_emit_boxes_are_na():
    samples = [sample("The [sky](<0, 59>).", "The [sky](<0, 59>).", emits_boxes=False)]
    result, _ = compute_metric(MeanIoU(), samples, MetricContext())
    assert result.value is None and result.reason.startswith("N/A")


def test_options_come_from_the_task_and_typos_are_errors():
    samples = [sample(grounded("a", [("a", [X])]), grounded("a", [("a", [X]), ("b", [FAR])]))]
    penalized = MeanIoU().score(samples, MetricContext(options={"penalize_unmatched": True}))
    assert penalized == [0.5]
    with pytest.raises(TaskError, match="matching"):
        MeanIoU().score(samples, MetricContext(options={"matching": "optimal"}))
    with pytest.raises(TaskError, match="unknown option"):
        MeanIoU().score(samples, MetricContext(options={"penalise_unmatched": True}))


def test_each_penalty_divides_by_its_own_count():
    # One pair (X-X, IoU 1); one unpaired reference (FAR) and two unpaired predictions that touch nothing.
    predictions, references = [X, Y, Box(0.0, 0.6, 0.2, 0.8)], [X, FAR]
    assert sample_miou(predictions, references, penalize_unmatched="none") == 1.0
    assert sample_miou(predictions, references, penalize_unmatched="references") == 0.5
    assert sample_miou(predictions, references, penalize_unmatched="predictions") == pytest.approx(1 / 3)
    assert sample_miou(predictions, references, penalize_unmatched="both") == pytest.approx(1 / 4)


def test_extra_boxes_cost_nothing_by_default_but_lower_the_penalized_miou():
    spam = [X] + [Box(0.5 + i / 100, 0.5, 0.6 + i / 100, 0.6) for i in range(9)]  # nine boxes away from X
    assert sample_miou(spam, [X]) == 1.0
    assert sample_miou(spam, [X], penalize_unmatched="both") == pytest.approx(0.1)


def test_miou_penalized_is_miou_with_both_by_default():
    from giqa_harness.metrics.miou import PenalizedMeanIoU

    samples = [sample(grounded("a", [("a", [X]), ("b", [Y])]), grounded("a", [("a", [X]), ("c", [FAR])]))]
    assert MeanIoU().score(samples, MetricContext()) == [1.0]
    assert PenalizedMeanIoU().score(samples, MetricContext()) == [pytest.approx(1 / 3)]
    assert PenalizedMeanIoU().score(samples, MetricContext(options={"penalize_unmatched": "none"})) == [1.0]
    with pytest.raises(TaskError, match="one of"):
        MeanIoU().score(samples, MetricContext(options={"penalize_unmatched": "all"}))
