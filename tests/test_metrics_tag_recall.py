"""Tag-Recall: IoU > 0.5 and phrase similarity > 0.5, pooled over reference groundings."""

from __future__ import annotations

import pytest

from giqa_harness.boxes.geometry import Box
from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.tag_recall import TagRecall, exact_similarity, matching_predictions
from giqa_harness.testing.samples import grounded, sample

SKY = Box(0.0, 0.0, 0.5, 0.5)
HALF_SKY = Box(0.0, 0.0, 0.5, 0.25)  # IoU with SKY exactly 0.5
MOST_SKY = Box(0.0, 0.0, 0.5, 0.4)  # IoU 0.8
DOG = Box(0.5, 0.5, 1.0, 1.0)
LEFT = Box(0.0, 0.0, 0.5, 1.0)
RIGHT = Box(0.5, 0.0, 1.0, 1.0)
WHOLE = Box(0.0, 0.0, 1.0, 1.0)

EXACT = {"similarity": "exact"}


def counts(predicted, references, **options):
    pred = grounded("", predicted).groundings
    ref = grounded("", references).groundings
    [per_reference] = matching_predictions([(pred, ref)], exact_similarity, **options)
    return sum(1 for hits in per_reference if hits), len(per_reference)  # (recalled, references)


def test_recall_needs_both_overlap_and_a_similar_phrase():
    assert counts([("sky", [MOST_SKY]), ("cat", [DOG])], [("sky", [SKY]), ("dog", [DOG])]) == (1, 2)


def test_thresholds_are_strict():
    assert counts([("sky", [HALF_SKY])], [("sky", [SKY])]) == (0, 1)
    assert counts([("sky", [HALF_SKY])], [("sky", [SKY])], iou_threshold=0.4) == (1, 1)


def test_a_multi_box_grounding_is_the_union_of_its_boxes():
    # "blur" on both halves is the whole image: region IoU 1.0; the best single pair only reaches 0.5.
    assert counts([("blur", [WHOLE])], [("blur", [LEFT, RIGHT])]) == (1, 1)
    assert counts([("blur", [WHOLE])], [("blur", [LEFT, RIGHT])], multi_box="best_pair") == (0, 1)


def test_one_prediction_may_recall_several_references_but_duplicates_add_nothing():
    assert counts([("noise", [SKY])], [("noise", [SKY]), ("Noise.", [SKY])]) == (2, 2)
    assert counts([("noise", [SKY]), ("noise", [SKY])], [("noise", [SKY])]) == (1, 1)


def test_empty_prediction_recalls_nothing():
    assert counts([], [("sky", [SKY]), ("dog", [DOG])]) == (0, 2)


def test_exact_similarity_ignores_case_spacing_and_edge_punctuation():
    assert exact_similarity([("The  Sky.", "the sky"), ("sky", "skies")]) == [1.0, 0.0]


def test_task_value_pools_reference_groundings():
    samples = [
        sample(grounded("", [("sky", [SKY])]), grounded("", [("sky", [SKY]), ("dog", [DOG])])),  # 1 of 2
        sample(grounded(""), grounded("", [("dog", [DOG])])),  # 0 of 1 (no box on this sample)
        sample(grounded("", [("dog", [DOG])]), grounded("", [("a", [SKY]), ("b", [SKY]), ("dog", [DOG])])),  # 1 of 3
        sample(grounded("Yes", [("sky", [SKY])]), grounded("Yes."), kind="vqa_yn"),  # no reference grounding
    ]
    result, values = compute_metric(TagRecall(), samples, MetricContext(options=EXACT), n_resamples=200)
    assert values == [[1, 2], [0, 1], [1, 3], None]
    assert result.value == pytest.approx(2 / 6)  # pooled, not the mean of 1/2, 0 and 1/3
    assert result.ci_low <= result.value <= result.ci_high


def test_no_box_anywhere_is_na():
    samples = [sample("The sky is bright.", "The [sky](<0, 59>) is bright.")]
    result, _ = compute_metric(TagRecall(), samples, MetricContext(options=EXACT))
    assert result.value is None and result.reason.startswith("N/A")
    result, _ = compute_metric(TagRecall(), [sample("[sky](<0, 59>)", "[sky](<0, 59>)", emits_boxes=False)],
                               MetricContext(options=EXACT))
    assert result.value is None and result.reason.startswith("N/A")


@pytest.mark.slow
def test_default_similarity_is_minilm_cosine(tmp_path):
    """The packaged all-MiniLM-L6-v2: paraphrased phrases match, unrelated ones do not."""
    samples = [
        sample(grounded("", [("blurred sky", [SKY]), ("noise", [DOG])]),
               grounded("", [("blurry sky", [SKY]), ("sharp dog", [DOG])])),
    ]
    values = TagRecall().score(samples, MetricContext(cache_dir=str(tmp_path)))
    assert values == [[1, 2]]
