"""LLM-Score, Acc(W) and Acc(Total): scales, pooling, failures, and no judge = not computed."""

from __future__ import annotations

import math
import re

import pytest

from giqa_harness.leaderboard import published_rows
from giqa_harness.llm.base import LLMBackend
from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.judged import AccuracyTotal, AccuracyW, LLMScore
from giqa_harness.metrics.yes_no import AccuracyYesNo
from giqa_harness.testing.samples import sample


class GradeJudge(LLMBackend):
    """Replies with the digit the graded text carries as ``grade-N``; 'garbage' for ``grade-x``."""

    def __init__(self):
        super().__init__("grade-judge")
        self.calls = 0

    def complete(self, prompts, system=None, **generation):
        self.calls += len(prompts)
        replies = []
        for prompt in prompts:
            match = re.search(r"grade-(\w)", prompt.split("Answer to grade:")[-1].split("Description to rate:")[-1])
            replies.append(f"Score: **{match.group(1)}**" if match else "no idea")
        return replies


def des(score):
    return sample(f"A description, grade-{score}.", "The reference description.", kind="des")


def w(score, doc_id="w"):
    return sample(f"An answer, grade-{score}.", "The reference answer.", kind="vqa_w", doc_id=doc_id,
                  question="Why is the image poor?")


def y(correct):
    return sample("Yes." if correct else "No.", "Yes.", kind="vqa_yn", qtype="yes")


def context(judge=None, **options):
    return MetricContext(judge=judge, options={"judge_prompts": {}, **options})


def test_llm_score_is_the_mean_times_25():
    result, values = compute_metric(LLMScore(), [des(4), des(2), des(3)], context(GradeJudge()), n_resamples=200)
    assert values == [4, 2, 3]
    assert result.value == pytest.approx(75.0)
    assert result.ci_low <= result.value <= result.ci_high <= 100


def test_acc_w_is_the_mean_over_four():
    result, values = compute_metric(AccuracyW(), [w(4), w(1), y(True)], context(GradeJudge()))
    assert values == [4, 1, None]
    assert result.value == pytest.approx(5 / 8)


def test_acc_total_pools_questions_instead_of_averaging_the_two_accuracies():
    samples = [y(True), y(True), y(False), y(True), w(2)]
    result, values = compute_metric(AccuracyTotal(), samples, context(GradeJudge()))
    assert values == [1.0, 1.0, 0.0, 1.0, 0.5]
    assert result.value == pytest.approx((3 + 2 / 4) / 5)  # 0.7, whereas (0.75 + 0.5) / 2 = 0.625


def test_the_prompt_is_the_tasks_template_filled_with_markup_free_texts():
    seen = []

    class Recorder(LLMBackend):
        def complete(self, prompts, system=None, **generation):
            seen.extend(prompts)
            return ["4"] * len(prompts)

    s = sample("The [car](<120, 186>) is blurred.", "The [car](<120, 186>) is sharp.", kind="vqa_w",
               question="How is the [car](<120, 186>)?")
    template = "Q={question} R={reference} P={prediction}"
    AccuracyW().score([s], context(Recorder("rec"), judge_prompts={"acc_w": template}))
    assert seen == ["Q=How is the car? R=The car is sharp. P=The car is blurred."]


def test_without_a_judge_nothing_is_computed_and_the_reason_names_the_flag():
    for metric, samples in ((LLMScore(), [des(3)]), (AccuracyW(), [w(3)]), (AccuracyTotal(), [y(True), w(3)])):
        result, values = compute_metric(metric, samples, context())
        assert result.value is None and "--judge" in result.reason
        assert values == [None] * len(samples)


def test_acc_total_is_never_acc_y_alone():
    result, _ = compute_metric(AccuracyTotal(), [y(True), y(True)], context())
    assert result.value is None and "never Acc(Y) alone" in result.reason


def test_unparseable_replies_are_counted_as_failures_not_zeros():
    judge = GradeJudge()
    samples = [w(4, "a"), w("x", "b"), w(2, "c")]
    result, values = compute_metric(AccuracyW(), samples, context(judge, retries=1))
    assert values[0] == 4 and values[2] == 2 and "failed" in values[1]
    assert result.value == pytest.approx(6 / 8)  # the mean of the two scored samples, not (4 + 0 + 2) / 12
    assert result.n == 2 and result.failed == 1
    assert result.to_json()["failed"] == 1
    assert judge.calls == 4  # three first attempts, one retry

    # Acc(Total) has no partial value: one W question without a score and it is not computed.
    total, values = compute_metric(AccuracyTotal(), [y(True), *samples], context(judge, retries=1))
    assert total.failed == 1 and total.value is None
    assert total.reason.startswith("not computed: Acc(Total) pools") and "1 of 4 failed" in total.reason


def test_all_failed_is_reported_with_no_value():
    result, _ = compute_metric(LLMScore(), [des("x"), des("x")], context(GradeJudge(), retries=0))
    assert result.value is None and result.failed == 2 and "failed" in result.reason


def _matches(value: float, published: str) -> bool:
    """Table 5 prints four decimals, mostly rounded, twice truncated (0.3888, 0.7777)."""
    return f"{value:.4f}" == published or f"{math.floor(value * 10000 + 1e-9) / 10000:.4f}" == published


def _counts_for(published: str, denominator: int) -> int:
    (count,) = [k for k in range(denominator + 1) if _matches(k / denominator, published)]
    return count


@pytest.mark.parametrize("row", published_rows(), ids=lambda r: r.method)
def test_pooling_reproduces_table_5_from_per_question_counts(row):
    """90 Yes/No and 60 What/Why/How questions: the one integer count of correct Yes/No answers and the
    one sum of W scores that give the published Acc(Y) and Acc(W) also give the published Acc(Total)."""
    y_correct = _counts_for(row.cells["Acc(Y)"], 90)
    w_sum = _counts_for(row.cells["Acc(W)"], 60 * 4)
    base, extra = divmod(w_sum, 60)
    w_scores = [base + 1] * extra + [base] * (60 - extra)
    samples = [y(i < y_correct) for i in range(90)] + [w(s, f"w{i}") for i, s in enumerate(w_scores)]
    ctx = context(GradeJudge())
    acc_y = compute_metric(AccuracyYesNo(), samples, ctx, n_resamples=0)[0].value
    acc_w = compute_metric(AccuracyW(), samples, ctx, n_resamples=0)[0].value
    acc_total = compute_metric(AccuracyTotal(), samples, ctx, n_resamples=0)[0].value
    assert _matches(acc_y, row.cells["Acc(Y)"])
    assert _matches(acc_w, row.cells["Acc(W)"])
    assert _matches(acc_total, row.cells["Acc(Total)"])
    assert not _matches((acc_y + acc_w) / 2, row.cells["Acc(Total)"])  # the unpooled mean would not


@pytest.mark.parametrize("row", published_rows(), ids=lambda r: r.method)
def test_every_published_llm_score_is_a_sum_of_integer_scores_over_100_descriptions(row):
    total = float(row.cells["LLM-Score"]) * 4  # mean x 25 over 100 samples = sum / 4
    assert total == round(total) and 0 <= total <= 400


def test_acc_total_is_never_acc_y_when_every_w_judgement_fails():
    """The issue's case: the judge is down for the W half. Acc(Y) stands; Acc(Total) must not be it."""
    samples = [y(True), y(False), y(True), w("x", "a"), w("x", "b")]
    acc_y, _ = compute_metric(AccuracyYesNo(), samples, context())
    total, _ = compute_metric(AccuracyTotal(), samples, context(GradeJudge(), retries=0))
    assert acc_y.value == pytest.approx(2 / 3)
    assert total.value is None and total.coverage.failed_metric == 2 and total.coverage.applicable == 5
    assert "2 of 5 failed: 2 in the metric" in total.reason


def test_acc_total_is_not_computed_when_w_answers_are_missing():
    from giqa_harness.testing.samples import sample as make

    missing = [(make("", "The reference answer.", kind="vqa_w", doc_id=f"m{i}"), "model error: timeout")
               for i in range(2)]
    total, _ = compute_metric(AccuracyTotal(), [y(True)], context(GradeJudge()), unanswered=missing)
    assert total.value is None and "2 at generation (model error: timeout x2)" in total.reason
    assert total.reason.startswith("not computed: Acc(Total) pools")


def test_acc_total_of_a_task_without_w_questions_is_not_acc_y():
    total, _ = compute_metric(AccuracyTotal(), [y(True), y(False)], context(GradeJudge()))
    assert total.value is None and "no What/Why/How question" in total.reason
