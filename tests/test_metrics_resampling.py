"""Vectorized bootstrap: the same resamples as `random.choices`, and the same interval as the scalar loop."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.metrics.base import bootstrap_ci, resampled_aggregate
from giqa_harness.metrics.bleu import Bleu4
from giqa_harness.metrics.miou import MeanIoU, PenalizedMeanIoU
from giqa_harness.metrics.resampling import column_sums, resample_indices, sequential_means
from giqa_harness.metrics.tag_precision import TagF1, TagPrecision
from giqa_harness.metrics.tag_recall import TagRecall
from giqa_harness.metrics.yes_no import AccuracyYesNo


def scalar_bootstrap(values, aggregate, n_resamples, seed, level=0.95):
    """The interval as the evaluator computed it before vectorization: ``rng.choices`` per resample."""
    rng = random.Random(seed)
    stats = sorted(s for s in (aggregate(rng.choices(values, k=len(values))) for _ in range(n_resamples))
                   if s is not None)
    lo = round((1 - level) / 2 * (len(stats) - 1))
    return stats[lo], stats[len(stats) - 1 - lo]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), resamples=st.integers(1, 40), seed=st.integers(-(2**70), 2**70))
def test_resample_indices_are_the_indices_random_choices_picks(n, resamples, seed):
    rng = random.Random(seed)
    expected = [rng.choices(range(n), k=n) for _ in range(resamples)]
    got = np.concatenate(list(resample_indices(n, resamples, seed)))
    assert got.tolist() == expected


def test_resamples_come_in_bounded_chunks(monkeypatch):
    import giqa_harness.metrics.resampling as resampling

    monkeypatch.setattr(resampling, "CHUNK_ELEMENTS", 100)
    chunks = list(resampling.resample_indices(30, 10, seed=1))
    assert [c.shape for c in chunks] == [(3, 30), (3, 30), (3, 30), (1, 30)]
    rng = random.Random(1)
    assert np.concatenate(chunks).tolist() == [rng.choices(range(30), k=30) for _ in range(10)]


def test_column_sums_and_sequential_means_by_hand():
    table = np.array([[1, 10], [2, 20], [3, 30]])
    indices = np.array([[0, 0, 2], [1, 2, 2]])
    assert column_sums(table, indices).tolist() == [[5, 50], [8, 80]]
    assert sequential_means(np.array([0.1, 0.2, 0.7]), indices).tolist() == [(0.1 + 0.1 + 0.7) / 3, (0.2 + 0.7 + 0.7) / 3]


def _bleu_values(rng: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        testlen, reflen = rng.randint(0, 40), rng.randint(1, 40)
        guess = [max(0, testlen - k) for k in range(4)]
        out.append({"testlen": testlen, "reflen": reflen, "guess": guess,
                    "correct": [rng.randint(0, g) for g in guess]})
    return out


def _counts(rng: random.Random, n: int, columns: int = 2) -> list[list[int]]:
    out = []
    for _ in range(n):
        total = rng.randint(0, 3)
        out.append([rng.randint(0, total), total] + [rng.randint(0, 3) for _ in range(columns - 2)])
    return out


METRIC_VALUES = {
    "bleu4": (Bleu4(), _bleu_values),
    "miou": (MeanIoU(), lambda rng, n: [rng.random() for _ in range(n)]),
    "acc_y": (AccuracyYesNo(), lambda rng, n: [float(rng.random() < 0.4) for _ in range(n)]),
    "miou_penalized": (PenalizedMeanIoU(), lambda rng, n: [rng.random() for _ in range(n)]),
    "tag_recall": (TagRecall(), _counts),
    "tag_precision": (TagPrecision(), _counts),
    "tag_f1": (TagF1(), lambda rng, n: _counts(rng, n, columns=3)),
}


@pytest.mark.parametrize("name", sorted(METRIC_VALUES))
@pytest.mark.parametrize("seed", [0, 12345, -7])
def test_vectorized_interval_is_the_scalar_interval_to_the_last_bit(name, seed):
    metric, make = METRIC_VALUES[name]
    values = make(random.Random(seed), 257)
    expected = scalar_bootstrap(values, metric.aggregate, 300, seed)
    assert resampled_aggregate(metric) is not None  # the array path is the one under test
    got = bootstrap_ci(values, metric.aggregate, 300, seed, aggregate_resamples=resampled_aggregate(metric))
    assert got == expected
    assert bootstrap_ci(values, metric.aggregate, 300, seed) == expected  # the row-by-row fallback too


def test_bleu_vectorized_aggregate_equals_the_corpus_score_of_each_resample():
    metric = Bleu4()
    values = _bleu_values(random.Random(3), 50)
    (indices,) = list(resample_indices(len(values), 20, seed=3))
    assert metric.aggregate_resamples(values, indices) == [metric.aggregate([values[i] for i in row]) for row in indices]


def test_a_subclass_that_redefines_aggregate_is_not_given_its_parents_array_code():
    class SquaredRecall(TagRecall):
        name = "squared_recall"

        def aggregate(self, values):
            recall = super().aggregate(values)
            return None if recall is None else recall ** 2

    metric = SquaredRecall()
    assert resampled_aggregate(metric) is None
    assert resampled_aggregate(TagRecall()) is not None
    values = _counts(random.Random(5), 100)
    assert bootstrap_ci(values, metric.aggregate, 200, 5, aggregate_resamples=resampled_aggregate(metric)) == \
        scalar_bootstrap(values, metric.aggregate, 200, 5)
