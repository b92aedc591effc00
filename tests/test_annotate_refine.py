"""Box merge and IQA filter of the annotation pipeline, on hand cases and generated boxes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from giqa_harness.annotate.refine import (
    T_AREA, T_COVER, IQAQuery, ask_iqa, coverage, crop_box, iqa_question, keeps_box, merge_boxes, should_merge,
    touches,
)
from giqa_harness.boxes.geometry import Box
from giqa_harness.testing.scripted import ScriptedIQA


def test_paper_thresholds():
    assert (T_AREA, T_COVER) == (0.256, 0.95)


def test_touch_includes_shared_edges_and_corners_but_not_gaps():
    a = Box(0.0, 0.0, 0.2, 0.2)
    assert touches(a, Box(0.2, 0.0, 0.4, 0.2))  # common edge
    assert touches(a, Box(0.2, 0.2, 0.4, 0.4))  # common corner
    assert touches(a, Box(0.1, 0.1, 0.3, 0.3))  # overlap
    assert not touches(a, Box(0.21, 0.0, 0.4, 0.2))


def test_coverage_is_intersection_over_the_smaller_box():
    big, small = Box(0.0, 0.0, 1.0, 1.0), Box(0.5, 0.5, 0.75, 0.75)
    assert coverage(big, small) == coverage(small, big) == 1.0
    assert coverage(Box(0.0, 0.0, 0.5, 0.5), Box(0.25, 0.0, 1.0, 1.0)) == 0.5
    assert coverage(Box(0.2, 0.2, 0.2, 0.6), big) == 0.0  # a zero-area box covers and is covered by nothing


def test_small_box_touching_another_merges_into_the_enclosing_box():
    assert merge_boxes([Box(0.0, 0.0, 0.2, 0.2), Box(0.2, 0.0, 0.5, 0.3)]) == [Box(0.0, 0.0, 0.5, 0.3)]


def test_small_boxes_with_a_gap_stay_apart():
    boxes = [Box(0.0, 0.0, 0.2, 0.2), Box(0.25, 0.0, 0.4, 0.2)]
    assert merge_boxes(boxes) == boxes


def test_large_touching_boxes_merge_only_when_one_covers_the_other():
    # Both 0.36 > T_a: touching is not enough, coverage 0.5 is not enough.
    side_by_side = [Box(0.0, 0.0, 0.6, 0.6), Box(0.3, 0.0, 0.9, 0.6)]
    assert merge_boxes(side_by_side) == side_by_side
    # Coverage 1 > T_o merges even though neither box is small: "and" binds tighter than "or".
    nested = [Box(0.0, 0.0, 0.6, 0.6), Box(0.05, 0.05, 0.6, 0.6)]
    assert merge_boxes(nested) == [Box(0.0, 0.0, 0.6, 0.6)]


def test_thresholds_are_strict():
    half = [Box(0.0, 0.0, 0.5, 0.5), Box(0.25, 0.0, 1.0, 1.0)]  # coverage exactly 0.5; areas 0.25, 0.75
    assert not should_merge(*half, t_area=0.25, t_cover=0.5)  # area 0.25 is not < 0.25, coverage not > 0.5
    assert should_merge(*half, t_area=0.2501, t_cover=0.5)
    assert should_merge(*half, t_area=0.25, t_cover=0.4999)


def test_merging_repeats_until_no_pair_merges():
    # a touches b, b touches c, a does not touch c: one box after two rounds.
    chain = [Box(0.0, 0.0, 0.1, 0.1), Box(0.1, 0.0, 0.2, 0.1), Box(0.2, 0.0, 0.3, 0.1)]
    assert merge_boxes(chain) == [Box(0.0, 0.0, 0.3, 0.1)]
    # a and b meet at a corner; their enclosing box reaches c, which touched neither of them.
    a, b, c, far = Box(0.0, 0.0, 0.1, 0.1), Box(0.1, 0.1, 0.2, 0.2), Box(0.15, 0.0, 0.3, 0.05), Box(0.9, 0.9, 1.0, 1.0)
    assert not touches(a, c) and not touches(b, c)
    assert merge_boxes([a, b, c, far]) == [Box(0.0, 0.0, 0.3, 0.2), far]


def test_merged_box_takes_the_place_of_the_earlier_one():
    boxes = [Box(0.7, 0.7, 0.8, 0.8), Box(0.0, 0.0, 0.1, 0.1), Box(0.1, 0.1, 0.2, 0.2)]
    assert merge_boxes(boxes) == [Box(0.7, 0.7, 0.8, 0.8), Box(0.0, 0.0, 0.2, 0.2)]


unit = st.floats(0.0, 1.0, allow_nan=False)
boxes_strategy = st.lists(st.tuples(unit, unit, unit, unit).map(lambda t: Box.from_corners(*t)), max_size=7)


@settings(max_examples=200, deadline=None)
@given(boxes_strategy)
def test_merge_reaches_a_fixed_point_that_covers_every_input(boxes):
    merged = merge_boxes(boxes)
    assert len(merged) <= len(boxes)
    assert not any(should_merge(a, b) for i, a in enumerate(merged) for b in merged[i + 1:])
    for box in boxes:
        assert any(m.x1 <= box.x1 and m.y1 <= box.y1 and box.x2 <= m.x2 and box.y2 <= m.y2 for m in merged)
    assert merge_boxes(merged) == merged


def test_iqa_question_and_answers():
    assert iqa_question(" very  blurry ") == "Is the image quality very blurry?"
    assert not keeps_box("No, it is sharp.")
    assert keeps_box("Yes.")
    assert keeps_box("The quality is hard to judge.")  # only an explicit No drops a box
    assert keeps_box("Nothing suggests a problem.")  # "Nothing" is not the word "no"


def test_crop_is_at_least_one_pixel_and_inside_the_image():
    image = Image.new("RGB", (40, 20))
    assert crop_box(image, Box(0.25, 0.5, 0.5, 1.0)).size == (10, 10)
    assert crop_box(image, Box(1.0, 1.0, 1.0, 1.0)).size == (1, 1)


def test_ask_iqa_isolates_a_failing_crop():
    def respond(request):
        if request.image.size == (3, 3):
            raise RuntimeError("cannot read this crop")
        return "No" if request.question.endswith("blurry?") else "Yes"

    adapter = ScriptedIQA(respond=respond)
    queries = [IQAQuery("a", Image.new("RGB", (5, 5)), "blurry"), IQAQuery("b", Image.new("RGB", (3, 3)), "clear"),
               IQAQuery("c", Image.new("RGB", (4, 4)), "clear")]
    assert ask_iqa(adapter, queries, batch_size=8) == {"a": "No", "b": None, "c": "Yes"}
    assert {r.kind for r in adapter.requests} == {"vqa_yn"}
