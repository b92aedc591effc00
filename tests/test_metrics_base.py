"""The metric contract: failures are counted apart, and bootstrap intervals are sane and seeded."""

from __future__ import annotations

from giqa_harness.metrics.base import Metric, MetricContext, MetricResult, compute_metric, failed, is_failed
from giqa_harness.metrics.yes_no import AccuracyYesNo
from giqa_harness.testing.samples import sample


class Scripted(Metric):
    """Per-sample values given up front."""

    name = "scripted"

    def __init__(self, values):
        self.values = values

    def score(self, samples, context):
        return list(self.values)

    def aggregate(self, values):
        return sum(values) / len(values) if values else None


def samples(n):
    return [sample(doc_id=str(i)) for i in range(n)]


def test_a_failure_is_neither_a_value_nor_a_gap():
    assert is_failed(failed("judge said nothing")) and not is_failed({"failed": "x", "score": 1})
    result, values = compute_metric(Scripted([1.0, failed("no score"), 0.0, None]), samples(4), MetricContext())
    assert result.value == 0.5 and result.n == 2 and result.failed == 1
    assert values[1] == {"failed": "no score"}
    assert result.to_json()["failed"] == 1


def test_failed_and_coverage_are_always_in_results_json():
    assert MetricResult("m", 0.5, n=3).to_json() == {
        "value": 0.5, "n": 3, "failed": 0, "notes": [],
        "coverage": {"applicable": 3, "scored": 3, "failed": 0, "complete": True, "failed_generation": 0,
                     "failed_metric": 0, "causes": []},
    }


def test_interval_of_a_coin_flip_accuracy_is_about_plus_minus_ten_points_at_n_100():
    answers = [sample("Yes." if i % 2 else "No.", "Yes.", kind="vqa_yn", doc_id=str(i)) for i in range(100)]
    result, _ = compute_metric(AccuracyYesNo(), answers, MetricContext(seed=7), n_resamples=1000)
    assert result.value == 0.5
    assert 0.38 < result.ci_low < 0.45 and 0.55 < result.ci_high < 0.62  # normal approx: 0.5 +- 0.098
    again, _ = compute_metric(AccuracyYesNo(), answers, MetricContext(seed=7), n_resamples=1000)
    assert (again.ci_low, again.ci_high) == (result.ci_low, result.ci_high)


def test_more_samples_give_a_narrower_interval():
    def width(n):
        result, _ = compute_metric(Scripted([float(i % 2) for i in range(n)]), samples(n), MetricContext(), 500)
        return result.ci_high - result.ci_low

    assert width(400) < width(100) < width(25)


def test_a_single_sample_has_no_interval():
    result, _ = compute_metric(Scripted([1.0]), samples(1), MetricContext())
    assert result.value == 1.0 and result.ci_low is None
    assert "ci95" not in result.to_json()


def test_the_interval_cuts_the_same_number_of_resamples_from_each_end():
    # An aggregate that numbers its calls makes the sorted resample statistics 0..999, so the interval's
    # ends are the order statistics the percentile method picks: 2.5% of 999 = 24.975 -> 25 from the
    # bottom, and as many from the top.
    from itertools import count

    from giqa_harness.metrics.base import bootstrap_ci

    calls = count()
    low, high = bootstrap_ci([0.0, 1.0], lambda resample: next(calls), n_resamples=1000)
    assert (low, high) == (25, 974)


def unanswered(*samples_, reason="model error: RuntimeError: boom"):
    return [(s, reason) for s in samples_]


def test_docs_that_got_no_answer_count_as_failed_where_the_metric_applies():
    answered = samples(5)
    missing = [sample(doc_id=f"m{i}") for i in range(95)]
    result, values = compute_metric(Scripted([1.0, 0.0, 1.0, 1.0, 0.0]), answered, MetricContext(),
                                    unanswered=unanswered(*missing))
    assert result.value == 0.6 and result.n == 5  # the value is over the five that were scored...
    assert result.failed == 95  # ...and says on how few
    assert (result.coverage.applicable, result.coverage.scored, result.coverage.failed_generation) == (100, 5, 95)
    assert not result.coverage.complete
    assert result.notes[0]["kind"] == "incomplete" and "95 at generation (model error" in result.notes[0]["text"]
    assert len(values) == 5  # per-sample values only for the answered samples


def test_a_doc_without_an_answer_counts_only_for_the_metrics_that_would_score_it():
    from giqa_harness.metrics.miou import MeanIoU

    boxed = sample("The [sky](<0, 59>).", "The [sky](<0, 59>).", kind="vqa_w", doc_id="w")
    yes_no = sample("", "Yes.", kind="vqa_yn", doc_id="y")  # no reference box: mIoU never scores it
    result, _ = compute_metric(MeanIoU(), [boxed], MetricContext(), unanswered=unanswered(yes_no))
    assert result.coverage.applicable == 1 and result.coverage.complete
    result, _ = compute_metric(AccuracyYesNo(), [], MetricContext(), unanswered=unanswered(yes_no))
    assert result.value is None and result.coverage.all_failed and "1 of 1 failed" in result.reason


def test_metric_failures_and_generation_failures_are_told_apart():
    result, _ = compute_metric(Scripted([1.0, failed("judge: no score")]), samples(2), MetricContext(),
                               unanswered=unanswered(sample(doc_id="m")))
    cov = result.coverage
    assert (cov.applicable, cov.scored, cov.failed_generation, cov.failed_metric) == (3, 1, 1, 1)
    assert [(c.stage, c.reason) for c in cov.causes] == [
        ("generation", "model error: RuntimeError: boom"), ("metric", "judge: no score")]


class Pooled(Scripted):
    name = "pooled"
    requires_complete = "a pooled mix means nothing on part of it"

    def __init__(self, values):
        super().__init__(values)
        self.calls = 0

    def score(self, samples_, context):
        self.calls += 1
        return super().score(samples_, context)


def test_a_metric_that_requires_completeness_has_no_partial_value():
    result, _ = compute_metric(Pooled([1.0, failed("no score")]), samples(2), MetricContext())
    assert result.value is None and result.reason.startswith("not computed: a pooled mix means nothing on part of it")
    assert result.coverage.failed == 1 and result.notes == ()
    complete, _ = compute_metric(Pooled([1.0, 0.0]), samples(2), MetricContext())
    assert complete.value == 0.5 and complete.coverage.complete
    missing, _ = compute_metric(Pooled([1.0]), samples(1), MetricContext(), unanswered=unanswered(sample(doc_id="m")))
    assert missing.value is None and "1 at generation" in missing.reason
