"""Box pairing (greedy, Hungarian) and the IoU of multi-box regions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.boxes.geometry import Box, iou
from giqa_harness.metrics.matching import (
    best_pair_iou,
    greedy_pairs,
    hungarian_pairs,
    iou_matrix,
    region_iou,
    union_area,
)

LEFT = Box(0.0, 0.0, 0.5, 1.0)
RIGHT = Box(0.5, 0.0, 1.0, 1.0)
WHOLE = Box(0.0, 0.0, 1.0, 1.0)


def test_greedy_takes_the_best_pair_first_and_stops_at_zero():
    # A-X is the best pair; after removing both, B's only partner Y has IoU 0: one pair.
    matrix = [[0.6, 0.5], [0.5, 0.0]]
    assert greedy_pairs(matrix) == [(0, 0, 0.6)]


def test_hungarian_maximizes_the_total_instead():
    matrix = [[0.6, 0.5], [0.5, 0.0]]
    assert hungarian_pairs(matrix) == [(0, 1, 0.5), (1, 0, 0.5)]


def test_greedy_breaks_ties_by_earlier_prediction_then_earlier_reference():
    assert greedy_pairs([[0.5, 0.5], [0.5, 0.0]]) == [(0, 0, 0.5)]
    assert greedy_pairs([[0.0, 0.5], [0.5, 0.5]]) == [(0, 1, 0.5), (1, 0, 0.5)]


def test_empty_sides_pair_nothing():
    assert greedy_pairs([]) == [] and hungarian_pairs([]) == []
    assert greedy_pairs([[], []]) == [] and hungarian_pairs([[]]) == []


def test_zero_area_boxes_never_pair():
    line = Box(0.1, 0.2, 0.9, 0.2)  # a grid box whose two cells share a row
    assert iou_matrix([line], [line]) == [[0.0]]
    assert greedy_pairs(iou_matrix([line], [line])) == []


def test_union_area_counts_overlaps_once():
    assert union_area([LEFT, RIGHT]) == pytest.approx(1.0)
    assert union_area([LEFT, LEFT]) == pytest.approx(0.5)
    assert union_area([Box(0, 0, 0.5, 0.5), Box(0.25, 0.25, 0.75, 0.75)]) == pytest.approx(0.4375)
    assert union_area([Box(0.1, 0.2, 0.9, 0.2)]) == 0.0
    assert union_area([]) == 0.0


def test_region_iou_treats_each_box_set_as_one_region():
    assert region_iou([LEFT, RIGHT], [WHOLE]) == pytest.approx(1.0)
    assert best_pair_iou([LEFT, RIGHT], [WHOLE]) == pytest.approx(0.5)
    assert region_iou([LEFT], [RIGHT]) == 0.0
    assert region_iou([], [WHOLE]) == 0.0 and best_pair_iou([], [WHOLE]) == 0.0


coords = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
boxes = st.builds(lambda a, b, c, d: Box.from_corners(a, b, c, d), coords, coords, coords, coords)
box_lists = st.lists(boxes, min_size=1, max_size=4)


@given(boxes, boxes)
def test_region_iou_of_single_boxes_is_their_iou(a, b):
    assert region_iou([a], [b]) == iou(a, b)


@given(box_lists, box_lists)
def test_region_iou_is_a_symmetric_ratio(a, b):
    value = region_iou(a, b)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(region_iou(b, a), abs=1e-9)


@given(box_lists)
def test_union_area_lies_between_the_largest_box_and_the_sum(bs):
    area = union_area(bs)
    assert max(b.area for b in bs) - 1e-12 <= area <= sum(b.area for b in bs) + 1e-12


@given(st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=1, max_size=4))
def test_pairings_are_one_to_one_and_hungarian_total_is_at_least_greedy(matrix):
    for pairs in (greedy_pairs(matrix), hungarian_pairs(matrix)):
        assert len({i for i, _, _ in pairs}) == len(pairs) == len({j for _, j, _ in pairs})
        assert all(v > 0 for _, _, v in pairs)
    greedy_total = sum(v for *_, v in greedy_pairs(matrix))
    assert sum(v for *_, v in hungarian_pairs(matrix)) >= greedy_total - 1e-9
