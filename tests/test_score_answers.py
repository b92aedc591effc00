"""Reading levels and options from answers, and the expected level from log-probabilities."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.score.answers import LETTERS, expected_level, options_text, read_level, read_option, softmax
from giqa_harness.score.spec import Q_ALIGN_LEVELS

LEVELS = tuple(Q_ALIGN_LEVELS.items())


def test_expected_level_is_the_probability_weighted_mean_of_the_weights():
    score, probs = expected_level([math.log(0.5), math.log(0.5), -math.inf, -math.inf, -math.inf], [5, 4, 3, 2, 1])
    assert probs == pytest.approx([0.5, 0.5, 0, 0, 0]) and score == pytest.approx(4.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 0), min_size=2, max_size=6))
def test_softmax_sums_to_one_and_keeps_the_order(log_probs):
    probs = softmax(log_probs)
    assert sum(probs) == pytest.approx(1.0)
    assert probs[log_probs.index(max(log_probs))] == max(probs)


def test_the_first_level_word_wins_and_numbers_only_count_in_range():
    assert read_level("The quality of the image is poor, not good.", LEVELS) == (2.0, "poor")
    assert read_level("EXCELLENT!", LEVELS) == (5.0, "excellent")
    assert read_level("I rate it 3.25 out of 5.", LEVELS) == (3.25, "3.25")
    assert read_level("85 points", LEVELS) is None  # out of the 1-5 range: not a score on this scale
    assert read_level("It is goodish", LEVELS) is None  # whole words only
    assert read_level("", LEVELS) is None


def test_options_are_lettered_and_followed_by_the_instruction():
    text = options_text("Is it blurry?", ["Yes", "No"], "Answer with the letter.")
    assert text == "Is it blurry?\nA. Yes\nB. No\nAnswer with the letter."


@pytest.mark.parametrize("answer, index", [
    ("B", 1), ("B.", 1), ("(C)", 2), ("C) low contrast", 2), ("The answer is B", 1), ("answer: (A)", 0),
    ("No", 1), ("noise.", 0), ("It is noise", 0),
])
def test_letters_then_option_texts_are_read(answer, index):
    assert read_option(answer, ["noise", "No", "blur"]) == index


@pytest.mark.parametrize("answer", ["A blurry image", "E", "both noise and blur", "I am not sure", ""])
def test_unreadable_answers_are_none_never_a_guess(answer):
    assert read_option(answer, ["noise", "No", "blur"]) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="abcdefgh ", min_size=1, max_size=12).filter(str.strip), min_size=2, max_size=5,
                unique=True), st.data())
def test_a_letter_answer_round_trips_for_any_options(candidates, data):
    index = data.draw(st.integers(0, len(candidates) - 1))
    assert read_option(f"{LETTERS[index]}.", candidates) == index
