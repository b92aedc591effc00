"""Tag-Precision and Tag-F1: Tag-Recall's match rule, one to one, charging unmatched predictions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes.geometry import Box
from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.matching import max_matching
from giqa_harness.metrics.tag_precision import TagF1, TagPrecision
from giqa_harness.metrics.tag_recall import TagRecall
from giqa_harness.testing.samples import grounded, sample

SKY = Box(0.0, 0.0, 0.5, 0.5)
MOST_SKY = Box(0.0, 0.0, 0.5, 0.4)  # IoU 0.8 with SKY
DOG = Box(0.5, 0.5, 1.0, 1.0)
EXACT = MetricContext(options={"similarity": "exact"})


def values(metric, predicted, references):
    return metric.score([sample(grounded("", predicted), grounded("", references))], EXACT)[0]


def test_max_matching_finds_the_largest_one_to_one_set():
    assert max_matching([[0, 1], [0]]) == 2  # the second reference can only take 0, so the first takes 1
    assert max_matching([[0], [0]]) == 1
    assert max_matching([[], []]) == 0


def test_precision_counts_the_predictions_that_match_nothing():
    predicted = [("sky", [MOST_SKY]), ("dog", [SKY]), ("cat", [DOG])]  # only the first matches
    assert values(TagPrecision(), predicted, [("sky", [SKY]), ("dog", [DOG])]) == [1, 3]
    assert values(TagF1(), predicted, [("sky", [SKY]), ("dog", [DOG])]) == [1, 3, 2]


def test_duplicates_of_a_good_prediction_are_false_positives():
    # Tag-Recall is unmoved by copies; one-to-one precision counts one of the three copies as correct.
    copies = [("sky", [SKY])] * 3
    assert values(TagRecall(), copies, [("sky", [SKY])]) == [1, 1]
    assert values(TagPrecision(), copies, [("sky", [SKY])]) == [1, 3]


def test_f1_pools_matches_over_predicted_plus_reference_groundings():
    samples = [
        sample(grounded("", [("sky", [SKY])]), grounded("", [("sky", [SKY]), ("dog", [DOG])])),  # 1 of 1 pred, 2 refs
        sample(grounded("", [("dog", [DOG])] * 4), grounded("", [("dog", [DOG])])),  # 1 of 4 preds, 1 ref
        sample(grounded("Yes", [("sky", [SKY])]), grounded("Yes."), kind="vqa_yn"),  # no reference box: not counted
    ]
    precision, _ = compute_metric(TagPrecision(), samples, EXACT, n_resamples=100)
    f1, per_sample = compute_metric(TagF1(), samples, EXACT, n_resamples=100)
    assert precision.value == pytest.approx(2 / 5)
    assert per_sample == [[1, 1, 2], [1, 4, 1], None]
    assert f1.value == pytest.approx(2 * 2 / (5 + 3))
    assert f1.ci_low <= f1.value <= f1.ci_high


def test_na_rules_are_tag_recalls():
    result, _ = compute_metric(TagPrecision(), [sample("No box here.", "The [sky](<0, 59>).")], EXACT)
    assert result.value is None and result.reason.startswith("N/A")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=4))
def test_max_matching_is_as_large_as_the_optimal_assignment(allowed):
    """Against scipy's assignment solver on the same 0/1 graph (rows: references, columns: predictions)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    weights = np.array(allowed, dtype=float)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    candidates = [[p for p, ok in enumerate(row) if ok] for row in allowed]
    assert max_matching(candidates) == int(weights[rows, cols].sum())
