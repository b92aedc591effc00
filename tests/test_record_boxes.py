"""Records are held to the exact grid syntax: every deviation is named, nothing is silently fixed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes import Box, Grounding
from giqa_harness.boxes.formats import get_format
from giqa_harness.record_boxes import box_problems
from giqa_harness.testing.box_text import MARKUP_PIECES


@pytest.mark.parametrize("text, problem", [
    ("the [sky](<nan, 59>)", "has 'nan': NaN or infinite"),
    ("the [sky](<0, inf>)", "has 'inf': NaN or infinite"),
    ("the [sky](<-1, 59>)", "has '-1': negative"),
    ("the [sky](<0, 400>)", "has 400: beyond the 20x20 grid"),
    ("the [sky](<59, 0>)", "inverted: x1 > x2"),
    ("the [sky](<20, 1>)", "inverted: y1 > y2"),
    ("the [sky](<1.5, 59>)", "not a whole cell index"),
    ("the [sky](<٣, 59>)", "not ASCII digits"),
    ("the [sky](<0, 5, 9>)", "is not two cell indices"),
    ("the [sky](<0, 5> <6, 9>)", "does not parse; expected [phrase](<a, b>)"),
    ("the [sky](<0, 59> is bright", "does not parse (unclosed or broken brackets)"),
])
def test_each_kind_of_bad_box_is_named_with_its_field(text, problem):
    (message,) = box_problems(text, "answer")
    assert message.startswith("field 'answer': ") and problem in message


def test_well_formed_boxes_and_ordinary_brackets_pass():
    text = "The [sky](<0, 59>) and [two dogs](<250, 293>, <0, 0>) are fine; see [the docs](https://x.org)."
    assert box_problems(text, "answer") == []


@st.composite
def boxes(draw):
    x1, x2 = sorted(draw(st.floats(0, 1)) for _ in range(2))
    y1, y2 = sorted(draw(st.floats(0, 1)) for _ in range(2))
    return Box(x1, y1, x2, y2)


@settings(max_examples=200, deadline=None)
@given(st.lists(boxes(), min_size=1, max_size=3))
def test_every_box_the_grid_format_writes_passes(written):
    text = "Is " + get_format("giqa_grid").render(Grounding("the sky", tuple(written)), (640, 480)) + " bright?"
    assert box_problems(text, "question") == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 399), st.integers(0, 399))
def test_a_pair_passes_exactly_when_its_cells_are_ordered(a, b):
    ordered = a % 20 <= b % 20 and a // 20 <= b // 20
    assert (box_problems(f"[x](<{a}, {b}>)", "answer") == []) == ordered


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(MARKUP_PIECES), max_size=25).map("".join))
def test_text_that_passes_loses_nothing_to_the_lenient_parser(text):
    """What the check accepts, the grid parser reads whole: no dropped box, no markup left in the text."""
    if box_problems(text, "answer"):
        return
    parsed = get_format("giqa_grid").parse(text, (640, 480))
    assert parsed.dropped == 0
    assert "](<" not in parsed.plain.replace(" ", "")
