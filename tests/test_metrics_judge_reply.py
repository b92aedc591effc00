"""Reading a judge's reply: one integer on the 0-4 scale counts; anything that could mean something
else (a minus sign, another scale, a decimal, an out-of-range or a second, different number) does not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.metrics.judge_reply import holds_score, read_score


@pytest.mark.parametrize(
    "reply, score",
    [
        ("3", 3),
        ("Score: 3/4", 3),
        ("**3**", 3),
        ("4/4", 4),
        ("Rating: 2 out of 4", 2),
        ("On a scale of 0 to 4, I would give it a 3.", 3),
        ("Score (0-4): 1", 1),
        ("Score (0–4): 1", 1),
        ("<think>Maybe 1, maybe 2.</think>\n4", 4),
        ("I give it 0.", 0),
        ("3 = most points and the overall judgement agree", 3),
        ("3\n\nFinal score: 3", 3),  # the same number twice is still one number
        ("Rating - 2", 2),  # a dash with a space after it is a separator, not a sign
    ],
)
def test_one_integer_on_the_scale_is_a_score(reply, score):
    assert read_score(reply) == (score, "")


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("-2", "negative"),
        ("Score: −1", "negative"),  # U+2212, the typeset minus
        ("Score:-0", "negative"),
        ("**-3**", "negative"),
        ("3/5", "another scale"),
        ("4 out of 10", "another scale"),
        ("2/2", "another scale"),  # full marks on another scale, not a 2 on this one
        ("Score: 3/4.5", "another scale"),
        ("75%", "another scale"),
        ("3.5", "decimal"),
        ("3.0", "decimal"),
        ("3,5", "decimal"),
        ("10", "outside 0-4"),
        ("Score: 7", "outside 0-4"),
        ("٣", "digit other than 0-9"),
        ("３", "digit other than 0-9"),
        ("3 or 4", "several different numbers (3, 4)"),
        ("The answer covers 2 of the 3 issues. Score: 3", "several different numbers (2, 3)"),
        ("Score: 2-3", "several different numbers"),
        ("I cannot rate this.", "no number"),
        ("", "no number"),
        (None, "no reply"),
    ],
)
def test_anything_ambiguous_is_not_a_score_and_says_why(reply, problem):
    score, why = read_score(reply)
    assert score is None and problem in why


# Filler text without digits, '<' (think tags), '/' (a "/4" scale mention) or '%'.
filler = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="</%"), max_size=40)
shapes = st.sampled_from(["{s}", "Score: {s}", "**{s}**", "{s}/4", "Rating: {s} out of 4", "rating = {s}.",
                          "Score (0-4): {s}"])


@settings(max_examples=200, deadline=None)
@given(filler, st.integers(0, 4), shapes, filler)
def test_a_score_is_found_in_any_surrounding_text(before, score, shape, after):
    assert read_score(f"{before}. {shape.format(s=score)}\n{after}")[0] == score


@settings(max_examples=200, deadline=None)
@given(filler, st.integers(0, 9), st.sampled_from(["-", "−", "–"]), filler)
def test_any_minus_sign_on_the_number_rejects_the_reply(before, value, minus, after):
    assert read_score(f"{before}. Score: {minus}{value}\n{after}")[0] is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4), st.integers(1, 1000).filter(lambda n: n != 4), st.sampled_from(["{s}/{n}", "{s} / {n}",
       "{s} out of {n}", "Score: {s}/{n}", "{s} Out Of {n}"]))
def test_another_scale_rejects_the_reply(score, scale, shape):
    assert read_score(shape.format(s=score, n=scale))[0] is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4), st.integers(0, 99), st.sampled_from([".", ","]))
def test_a_decimal_rejects_the_reply(whole, fraction, point):
    assert read_score(f"Score: {whole}{point}{fraction}")[0] is None


@settings(max_examples=200, deadline=None)
@given(st.integers(5, 10**6), filler)
def test_a_number_off_the_scale_rejects_the_reply(value, text):
    assert read_score(f"{text} {value}")[0] is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), filler)
def test_two_different_numbers_reject_the_reply(first, second, text):
    reply = f"Score: {first}. {text} Or rather {second}."
    assert read_score(reply)[0] == (first if first == second else None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_reading_never_raises_and_stays_on_the_scale(reply):
    score, why = read_score(reply)
    assert (score in (0, 1, 2, 3, 4) and why == "") or (score is None and why)
    assert holds_score(reply) == (score is not None)
