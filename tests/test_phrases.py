"""The phrase rule for bare boxes: the noun phrase that precedes the box in the same clause."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.boxes.formats.phrases import MAX_WORDS, preceding_noun_phrase


def phrase_before(text: str, marker: str = "[B]", start: int = 0) -> str:
    return preceding_noun_phrase(text, text.index(marker), start)[0]


@pytest.mark.parametrize("text, phrase", [
    ("The sky [B] is over-exposed.", "The sky"),
    ("A man[B] rides a horse.", "A man"),  # no space before the box
    ("The image shows blur in the background [B].", "the background"),
    ("Blur affects the background [B].", "the background"),
    ("Noise in shadows [B] is visible.", "shadows"),  # stops before a preposition
    ("It has overexposed sky [B].", "overexposed sky"),  # stops before a verb when there is no article
    ("The dog is located at [B].", "The dog"),  # trailing verbs and prepositions are skipped
    ("In the picture, the person's face [B] is dark.", "the person's face"),
    ("The blurry, dark tree [B]", "dark tree"),  # a comma ends the clause
    ("the dog: [B]", "the dog"),  # a colon or bracket right before the box does not hide the phrase
    ("the dog ([B])", "the dog"),
    ("the dog\n[B]", "the dog"),
    ("Everything is sharp. [B]", ""),  # a new sentence starts right at the box
    ("and [B]", ""),
    ("the [B]", ""),  # an article alone is no phrase
    ("[B]", ""),
])
def test_examples(text, phrase):
    assert phrase_before(text) == phrase


def test_a_phrase_never_reaches_back_past_the_previous_box():
    text = "the dog [0.1,0.2,0.3,0.4] grass [B]"
    assert phrase_before(text, start=text.index("]") + 1) == "grass"
    assert phrase_before("the dog [0.1,0.2,0.3,0.4] [B]", start=len("the dog [0.1,0.2,0.3,0.4]")) == ""


def test_long_runs_are_cut_to_max_words():
    words = " ".join(f"w{i}" for i in range(20))
    assert phrase_before(f"{words} [B]").split() == [f"w{i}" for i in range(20 - MAX_WORDS, 20)]


def test_returns_where_the_phrase_starts_and_keeps_spelling_with_collapsed_spaces():
    text = "Look: the  Blurry\tdog [B]"
    phrase, start = preceding_noun_phrase(text, text.index("[B]"))
    assert phrase == "the Blurry dog"
    assert text[start:].startswith("the  Blurry")
    assert preceding_noun_phrase("and ", 4) == ("", 4)


@given(st.text(max_size=400), st.integers(0, 400), st.integers(0, 400))
def test_never_raises_and_stays_inside_its_range(text, end, start):
    end = min(end, len(text))
    start = min(start, end)
    phrase, at = preceding_noun_phrase(text, end, start)
    assert start <= at <= end
    assert phrase == "" or " ".join(text[at:end].split()).startswith(phrase.split()[0])
