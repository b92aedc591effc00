"""Fusion: boxes written into descriptions in the grid syntax, read back by the giqa_grid parser."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from giqa_harness.annotate.fuse import (
    QUESTION_POOL,
    find_phrase,
    insert_groundings,
    merge_repeated_phrases,
    question_for,
    read_groundings,
)
from giqa_harness.annotate.tags import select_key_tags
from giqa_harness.annotate.records import Tag
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


def test_phrases_are_placed_on_whole_words_only_and_unplaceable_ones_stay_plain():
    fused, unplaced = insert_groundings("A skyline under a grey sky.", [("sky", [Box(0, 0, 1, 0.5)])], SIZE)
    assert fused == "A skyline under a grey [sky](<0, 219>)."
    fused, unplaced = insert_groundings("A dog.", [("cat", [Box(0, 0, 1, 1)]), ("dog", [])], SIZE)
    assert (fused, unplaced) == ("A dog.", ["cat"])
    assert insert_groundings("[odd] text", [("[odd]", [Box(0, 0, 1, 1)])], SIZE) == ("[odd] text", ["[odd]"])


def test_a_phrase_is_never_placed_inside_a_longer_word():
    # The CI failure of issue 13: "a" was written into "sharp" as sh[a](<...>)rp.
    assert find_phrase("a sharp.", "a", [(0, 1)]) is None
    fused, unplaced = insert_groundings("The skyline is sharp.", [("sky", [Box(0, 0, 1, 0.5)])], SIZE)
    assert (fused, unplaced) == ("The skyline is sharp.", ["sky"])
    assert find_phrase("dogs and a dog", "dog") == (11, 14)
    assert find_phrase("under_exposed dog_2 dog", "dog") == (20, 23)  # an underscore joins words


def test_punctuation_next_to_a_phrase_is_a_boundary():
    for text, span in [("(dog), sharp", (1, 4)), ("dog.", (0, 3)), ("«dog»", (1, 4)), ("over-exposed dog", (13, 16)),
                       ("the dog's fur", (4, 7))]:
        assert find_phrase(text, "dog") == span, text
    fused, _ = insert_groundings("Sky: over-exposed.", [("over-exposed", [Box(0, 0, 1, 1)])], SIZE)
    assert fused == "Sky: [over-exposed](<0, 399>)."


def test_word_boundaries_hold_in_every_script():
    assert find_phrase("Le café est flou, le caféier net.", "café") == (3, 7)
    assert find_phrase("Le caféier est net, le café flou.", "café") == (23, 27)
    # A combining accent continues the word: "cafe" is not whole inside "cafe\u0301".
    assert find_phrase("cafe\u0301 cafe", "cafe") == (6, 10)
    # Scripts written without spaces: a phrase joined to further letters is not whole words.
    assert find_phrase("天空过曝 天空", "天空") == (5, 7)
    assert find_phrase("Небо пересвечено, небо", "небо") == (0, 4)
    assert find_phrase("Небоскрёб и небо", "небо") == (12, 16)
    fused, unplaced = insert_groundings("Ein unscharfer Hund, ein Hündchen.", [("Hund", [Box(0, 0, 1, 1)])], SIZE)
    assert fused == "Ein unscharfer [Hund](<0, 399>), ein Hündchen."


def test_a_phrase_tagged_twice_is_one_grounding_with_all_its_boxes():
    left, right = Box(0, 0, 0.5, 1), Box(0.5, 0, 1, 1)
    fused, unplaced = insert_groundings("a dog and a dog", [("a dog", [left]), ("A  Dog", [right]), ("a dog", [left])],
                                        SIZE)
    assert fused == "[a dog](<0, 390>, <10, 399>) and a dog"
    assert unplaced == []
    assert merge_repeated_phrases([("a", [left]), ("b", [right]), ("A", [right, left])]) == [
        ("a", [left, right]), ("b", [right])]


def test_key_tags_must_occur_as_whole_words():
    tags = [Tag("sky", "over-exposed", "negative"), Tag("dog", "sharp", "positive")]
    kept, notes = select_key_tags(tags, "The skyline is over-exposed; the dog is sharp.")
    assert [t.phrase for t in kept] == ["dog"]
    assert notes == ["'sky': T_r does not occur as whole words in the description"]


def test_fused_text_reads_back_with_snapped_boxes_and_the_original_plain_text():
    text = "The sky is over-exposed while the dog is sharp."
    boxes = {"the sky": Box(0.02, 0.01, 0.97, 0.23), "the dog": Box(0.41, 0.52, 0.73, 0.88)}
    fused, _ = insert_groundings(text, list((p, [b]) for p, b in boxes.items()), SIZE)
    parsed = read_groundings(fused, SIZE)
    assert parsed.plain == text
    assert [(g.phrase.lower(), g.boxes) for g in parsed.groundings] == [
        (p, (snap_to_grid(b),)) for p, b in boxes.items()]


words = st.sampled_from(["the", "sky", "dog", "is", "blurry", "sharp", "noisy", "left", "car", "over-exposed", "a",
                         "café", "flou", "ciel"])
unit = st.floats(0.0, 1.0, allow_nan=False)
box = st.tuples(unit, unit, unit, unit).map(lambda t: Box.from_corners(*t))


@st.composite
def descriptions_with_objects(draw):
    """A description made of tokens and up to three objects whose phrases are runs of its tokens."""
    tokens = draw(st.lists(words, min_size=1, max_size=12))
    objects = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(tokens) - 1))
        end = draw(st.integers(start + 1, min(len(tokens), start + 3)))
        objects.append((" ".join(tokens[start:end]), draw(st.lists(box, min_size=1, max_size=3))))
    return tokens, objects


@settings(max_examples=100, deadline=None)
@given(descriptions_with_objects())
# The failure that made CI flaky (issue 13): a phrase tagged twice whose second copy was put inside "sharp".
@example((["a", "sharp"], [("a", [Box(0.1, 0.1, 0.2, 0.2)]), ("a", [Box(0.5, 0.5, 0.9, 0.9)])]))
@example((["a", "sharp", "a"], [("a", [Box(0.1, 0.1, 0.2, 0.2)]), ("a sharp", [Box(0.5, 0.5, 0.9, 0.9)])]))
@example((["sky", "skyline"], [("sky", [Box(0, 0, 1, 1)])]))
@example((["café", "flou"], [("café", [Box(0, 0, 1, 1)]), ("flou", [Box(0, 0, 0.5, 0.5)])]))
def test_round_trip_through_the_grid_parser(case):
    tokens, objects = case
    text = " ".join(tokens) + "."
    fused, unplaced = insert_groundings(text, objects, SIZE)
    parsed = read_groundings(fused, SIZE)
    assert parsed.plain == text  # markup only wraps whole words: the words themselves are untouched
    assert parsed.dropped == 0
    for g in parsed.groundings:
        assert find_phrase(text, g.phrase) is not None
    placed = [(p, boxes) for p, boxes in merge_repeated_phrases(objects) if p not in unplaced]
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
