"""Acc(Y): the first standalone yes/no word of the answer against the reference's; never random."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.errors import DatasetError
from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.yes_no import AccuracyYesNo, yes_no_label
from giqa_harness.testing.samples import sample


@pytest.mark.parametrize(
    "answer, label",
    [
        ("Yes.", "yes"),
        ("NO, the sky is fine.", "no"),
        ("Yes, but there is no blur.", "yes"),  # the first word wins
        ("There is no blur, so yes.", "no"),
        ("Not at all.", None),  # "not" is not "no"
        ("A no-reference metric says yesterday was fine.", None),  # compounds and longer words do not count
        ("It is nobody's guess; I don't know.", None),
        ("**Yes**", "yes"),
        ("'Yes', the image is blurry.", "yes"),  # a quoted answer is still a standalone word
        ("The answer is \u2018no\u2019.", "no"),
        ("Say 'no'.", "no"),
        ("The no's and yes'm are contractions.", None),  # an apostrophe joining letters is not a quote
        ("", None),
    ],
)
def test_yes_no_label(answer, label):
    assert yes_no_label(answer) == label


def yn(answer, reference, qtype=None):
    return sample(answer, reference, kind="vqa_yn", qtype=qtype)


def test_accuracy_counts_unlabelled_answers_as_wrong():
    samples = [yn("Yes.", "Yes."), yn("No", "Yes, it is."), yn("I cannot tell.", "No."), yn("no", "No.")]
    result, values = compute_metric(AccuracyYesNo(), samples, MetricContext(), n_resamples=200)
    assert values == [1.0, 0.0, 0.0, 1.0]
    assert result.value == 0.5 and result.n == 4
    assert result.ci_low <= result.value <= result.ci_high


def test_is_deterministic():
    samples = [yn("Maybe.", "Yes.")] * 20
    assert AccuracyYesNo().score(samples, MetricContext(seed=1)) == [0.0] * 20


def test_reference_label_falls_back_to_the_question_type():
    assert AccuracyYesNo().score([yn("No.", "The car is blurred.", qtype="no")], MetricContext()) == [1.0]
    with pytest.raises(DatasetError, match="yes"):
        AccuracyYesNo().score([yn("No.", "The car is blurred.")], MetricContext())


def test_only_yes_no_questions_count():
    samples = [yn("Yes", "Yes."), sample("Yes", "Yes.", kind="vqa_w")]
    _, values = compute_metric(AccuracyYesNo(), samples, MetricContext())
    assert values == [1.0, None]


fillers = st.text(alphabet=st.characters(blacklist_characters="yYnN"), max_size=30)


@given(fillers, st.sampled_from(["yes", "Yes", "YES", "no", "No", "NO"]), fillers)
def test_the_word_is_found_wherever_it_stands_alone(before, word, after):
    text = f"{before} {word} {after}"
    assert yes_no_label(text) == word.lower()


@given(st.text(max_size=80))
def test_label_is_always_yes_no_or_none(text):
    assert yes_no_label(text) in ("yes", "no", None)
