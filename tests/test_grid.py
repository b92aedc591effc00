"""The Grounding-IQA 20 x 20 grid syntax: row-major cells, both corners decoded to cell centres."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes import Box, Grounding
from giqa_harness.boxes.formats.grid import GridFormat, cell_index, decode_cells, encode_box, snap_to_grid
from giqa_harness.boxes.frames import Frame, PadSquareFrame, parse_frame

SIZE = (640, 480)
unit = st.floats(0.0, 1.0)


def test_cells_are_row_major_from_the_top_left():
    assert cell_index(0.0, 0.0) == 0
    assert cell_index(0.99, 0.0) == 19
    assert cell_index(0.0, 0.05) == 20  # second row
    assert cell_index(0.5, 0.5) == 210


def test_corners_at_one_are_clamped_into_the_last_cell():
    assert cell_index(1.0, 1.0) == 399
    assert encode_box(Box(0.0, 0.0, 1.0, 1.0)) == (0, 399)


def test_decoding_maps_both_corners_to_cell_centres():
    assert decode_cells(0, 399) == Box(0.025, 0.025, 0.975, 0.975)
    assert decode_cells(0, 59) == Box(0.025, 0.025, 0.975, 0.125)


def test_two_cells_in_one_row_decode_to_zero_area_as_the_paper_defines():
    box = decode_cells(40, 45)
    assert box.height == 0.0 and box.width > 0


def test_out_of_grid_indices_decode_to_nothing():
    assert decode_cells(0, 400) is None


def test_parse_reads_phrases_boxes_and_plain_text():
    parsed = GridFormat().parse("The [sky](<0, 59>) is bright while the [dog](<250, 293>, <0, 21>) is sharp.", SIZE)
    assert [g.phrase for g in parsed.groundings] == ["sky", "dog"]
    assert len(parsed.groundings[1].boxes) == 2
    assert parsed.plain == "The sky is bright while the dog is sharp."
    assert parsed.dropped == 0


def test_markdown_links_are_text_and_malformed_pairs_are_counted():
    parsed = GridFormat().parse("See [docs](http://x). The [car](<1, 2>, <3,>, <9999999999999999999999, 1>) is red.", SIZE)
    assert [g.phrase for g in parsed.groundings] == ["car"]
    assert len(parsed.groundings[0].boxes) == 1
    assert parsed.dropped == 2  # "<3,>" and the index far beyond the grid (never turned into an int)
    assert "[docs](http://x)" in parsed.plain


def test_span_covers_the_whole_markup():
    text = "The [sky](<0, 59>) is bright."
    (g,) = GridFormat().parse(text, SIZE).groundings
    assert text[g.span[0] : g.span[1]] == "[sky](<0, 59>)"


@given(unit, unit, unit, unit)
def test_snapping_is_what_a_round_trip_gives(a, b, c, d):
    box = Box(min(a, b), min(c, d), max(a, b), max(c, d))
    fmt = GridFormat()
    parsed = fmt.parse(fmt.render(Grounding("x", (box,)), SIZE), SIZE)
    assert parsed.boxes == [snap_to_grid(box)]
    assert all(abs(p - q) <= 0.025 + 1e-12 for p, q in zip(parsed.boxes[0].as_tuple(), box.as_tuple()))


def test_a_padded_frame_moves_the_cells_onto_the_padded_square():
    # 640 x 480 padded to 640 x 640: dy = 80. Cell 0's centre v = 0.025 -> y = (16 - 80) / 480 < 0 -> 0.
    fmt = GridFormat(frame=PadSquareFrame())
    (box,) = fmt.parse("[a](<0, 399>)", SIZE).boxes
    assert box.y1 == 0.0 and box.y2 == 1.0
    assert abs(box.x1 - 0.025) < 1e-12


@given(st.integers(0, 399), st.integers(0, 399), st.sampled_from(["original", "pad_square", "center_crop", "resized:336x336"]),
       st.tuples(st.integers(1, 2000), st.integers(1, 2000)))
@settings(max_examples=300, deadline=None)
def test_a_parsed_pair_is_the_decoded_cells_taken_through_the_frame(a, b, spec, size):
    """The parser orders and clips each pair once, in the frame; the result is the box of the
    two-step definition: `decode_cells`, then the generic frame conversion with both clips."""
    frame = parse_frame(spec)
    (grounding,) = GridFormat(frame=frame).parse(f"the [sky](<{a}, {b}>) is bright", size).groundings
    assert grounding.boxes == (Frame.to_box(frame, decode_cells(a, b).as_tuple(), size),)
