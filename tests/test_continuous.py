"""giqa_continuous: the grid syntax's phrase markup with normalized corner floats (the paper's
continuous-box ablation)."""

from __future__ import annotations

from giqa_harness.boxes import Box, Grounding
from giqa_harness.boxes.formats import get_format, rerender

SIZE = (640, 480)


def test_phrases_and_several_boxes_are_read_from_the_markup():
    text = "The [two cars]([0.10, 0.20, 0.30, 0.40], [0.5,0.5,0.9,0.95]) are blurry."
    parsed = get_format("giqa_continuous").parse(text, SIZE)
    assert parsed.plain == "The two cars are blurry."
    (grounding,) = parsed.groundings
    assert grounding.phrase == "two cars" and grounding.span == (4, 60)
    assert grounding.boxes == (Box(0.1, 0.2, 0.3, 0.4), Box(0.5, 0.5, 0.9, 0.95))


def test_malformed_boxes_are_dropped_and_counted_and_other_links_left_alone():
    text = "See [docs](https://example.org), [a]([0.1, 0.2]) and [b]([0.1, 0.2, 0.3, 0.4], [0.5"
    parsed = get_format("giqa_continuous").parse(text, SIZE)
    assert [g.phrase for g in parsed.groundings] == []  # [b](... is never closed: plain text
    assert parsed.dropped == 1 and "[docs](https://example.org)" in parsed.plain


def test_grid_questions_rerender_into_continuous_boxes_of_the_cell_centres():
    text, _ = rerender("Is the [sky](<0, 59>) bright?", get_format("giqa_grid"), get_format("giqa_continuous"), SIZE)
    assert text == "Is the [sky]([0.03, 0.03, 0.97, 0.12]) bright?"  # cells 0 and 59: centres 0.025..0.975


def test_render_writes_two_decimals_by_default_and_more_on_request():
    grounding = Grounding("the dog", (Box(0.1234, 0.2, 0.3, 0.4),))
    assert get_format("giqa_continuous").render(grounding, SIZE) == "[the dog]([0.12, 0.20, 0.30, 0.40])"
    assert get_format("giqa_continuous", decimals=3).render(grounding, SIZE) == "[the dog]([0.123, 0.200, 0.300, 0.400])"
