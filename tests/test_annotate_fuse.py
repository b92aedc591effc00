"""Fusion: boxes written into descriptions in the grid syntax, read back by the giqa_grid parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.annotate.fuse import QUESTION_POOL, find_phrase, insert_groundings, question_for, read_groundings
from giqa_harness.boxes.formats.grid import snap_to_grid
from giqa_harness.boxes.geometry import Box

SIZE = (640, 480)


def test_phrases_become_grid_markup_keeping_the_text_case():
    text = "The sky is over-exposed while the dog is sharp."
    fused, unplaced = insert_groundings(
        text, [("the sky", [Box(0.0, 0.0, 1.0, 0.25)]), ("the dog", [Box(0.5, 0.5, 0.75, 0.75)])], SIZE)
    # A corner on a cell boundary falls in the next cell (floor), as the grid codec defines it.
    assert fused == "[The sky](<0, 119>) is over-exposed while [the dog](<210, 315>) is sharp."
    assert unplaced == []


def test_several_boxes_share_one_pair_of_round_brackets():
    cars = [Box(0, 0, 0.1, 0.1), Box(0.9, 0.9, 1, 1)]
    fused, _ = insert_groundings("Two blurry cars.", [("blurry cars", cars)], SIZE)
    assert fused == "Two [blurry cars](<0, 42>, <378, 399>)."


def test_longer_phrases_are_placed_first_and_shorter_ones_find_another_occurrence():
    text = "the man in white stands beside the man in black"
    fused, unplaced = insert_groundings(
        text, [("the man", [Box(0.5, 0, 1, 1)]), ("the man in white", [Box(0, 0, 0.5, 1)])], SIZE)
    assert fused == "[the man in white](<0, 390>) stands beside [the man](<10, 399>) in black"
    assert unplaced == []


def test_word_boundaries_are_preferred_and_unplaceable_phrases_stay_plain():
    fused, unplaced = insert_groundings("A skyline under a grey sky.", [("sky", [Box(0, 0, 1, 0.5)])], SIZE)
    assert fused == "A skyline under a grey [sky](<0, 219>)."
    fused, unplaced = insert_groundings("A dog.", [("cat", [Box(0, 0, 1, 1)]), ("dog", [])], SIZE)
    assert (fused, unplaced) == ("A dog.", ["cat"])
    assert insert_groundings("[odd] text", [("[odd]", [Box(0, 0, 1, 1)])], SIZE) == ("[odd] text", ["[odd]"])


def test_find_phrase_skips_taken_spans():
    assert find_phrase("a dog and a dog", "a dog") == (0, 5)
    assert find_phrase("a dog and a dog", "a dog", [(0, 5)]) == (10, 15)
    assert find_phrase("a dog", "a dog", [(2, 3)]) is None


def test_fused_text_reads_back_with_snapped_boxes_and_the_original_plain_text():
    text = "The sky is over-exposed while the dog is sharp."
    boxes = {"the sky": Box(0.02, 0.01, 0.97, 0.23), "the dog": Box(0.41, 0.52, 0.73, 0.88)}
    fused, _ = insert_groundings(text, list((p, [b]) for p, b in boxes.items()), SIZE)
    parsed = read_groundings(fused, SIZE)
    assert parsed.plain == text
    assert [(g.phrase.lower(), g.boxes) for g in parsed.groundings] == [
        (p, (snap_to_grid(b),)) for p, b in boxes.items()]


words = st.sampled_from(["the", "sky", "dog", "is", "blurry", "sharp", "noisy", "left", "car", "over-exposed", "a"])
unit = st.floats(0.0, 1.0, allow_nan=False)
box = st.tuples(unit, unit, unit, unit).map(lambda t: Box.from_corners(*t))


@settings(max_examples=100, deadline=None)
@given(st.lists(words, min_size=1, max_size=12), st.data())
def test_round_trip_through_the_grid_parser(tokens, data):
    text = " ".join(tokens) + "."
    objects = []
    for _ in range(data.draw(st.integers(0, 3))):
        start = data.draw(st.integers(0, len(tokens) - 1))
        end = data.draw(st.integers(start + 1, min(len(tokens), start + 3)))
        objects.append((" ".join(tokens[start:end]), data.draw(st.lists(box, min_size=1, max_size=3))))
    fused, unplaced = insert_groundings(text, objects, SIZE)
    parsed = read_groundings(fused, SIZE)
    assert parsed.plain == text
    assert parsed.dropped == 0
    placed = list(objects)
    for phrase in unplaced:  # a repeated phrase with no free occurrence left: its later copy stays plain
        placed.pop(max(i for i, (p, _) in enumerate(placed) if p == phrase))
    written = sorted((g.phrase, g.boxes) for g in parsed.groundings)
    expected = sorted((p, tuple(snap_to_grid(b) for b in boxes)) for p, boxes in placed)
    assert written == expected


def test_question_pool_has_fifteen_distinct_paraphrases_including_the_public_ones():
    assert len(QUESTION_POOL) == len(set(QUESTION_POOL)) == 15
    assert "Describe and evaluate the quality of the image." in QUESTION_POOL
    assert "Explore the quality factors of the image and offer an evaluation based on your insights." in QUESTION_POOL


def test_question_draw_is_seeded_per_record_and_spreads_over_the_pool():
    assert question_for("img_1", seed=0) == question_for("img_1", seed=0)
    drawn = {question_for(f"img_{i}", seed=0) for i in range(300)}
    assert drawn == set(QUESTION_POOL)
    assert [question_for(f"img_{i}", 0) for i in range(20)] != [question_for(f"img_{i}", 1) for i in range(20)]
