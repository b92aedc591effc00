"""Pairing predicted boxes with reference boxes, and the IoU of multi-box regions.

Pure functions over `Box`; shared by mIoU (box pairing) and Tag-Recall (grounding regions).
"""

from __future__ import annotations

from typing import Sequence

from ..boxes.geometry import Box, iou

Pair = tuple[int, int, float]  # (prediction index, reference index, IoU)


def iou_matrix(predictions: Sequence[Box], references: Sequence[Box]) -> list[list[float]]:
    """``m[i][j]`` = IoU of prediction ``i`` and reference ``j``."""
    return [[iou(p, r) for r in references] for p in predictions]


def greedy_pairs(matrix: Sequence[Sequence[float]]) -> list[Pair]:
    """One-to-one pairs, highest IoU first: take the best remaining (prediction, reference) pair,
    remove both, repeat while the best IoU is > 0.

    Ties are broken by the earlier prediction, then the earlier reference, so the result is a function
    of the inputs' order alone. Visiting all candidates sorted by IoU and keeping each whose two boxes
    are still free is the same procedure as repeatedly taking the maximum.
    """
    candidates = sorted(
        ((value, i, j) for i, row in enumerate(matrix) for j, value in enumerate(row) if value > 0),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_pred: set[int] = set()
    used_ref: set[int] = set()
    pairs: list[Pair] = []
    for value, i, j in candidates:
        if i in used_pred or j in used_ref:
            continue
        used_pred.add(i)
        used_ref.add(j)
        pairs.append((i, j, value))
    return pairs


def hungarian_pairs(matrix: Sequence[Sequence[float]]) -> list[Pair]:
    """One-to-one pairs maximizing the total IoU (scipy's assignment solver); pairs with IoU 0 are not
    pairs."""
    if not matrix or not matrix[0]:
        return []
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    values = np.asarray(matrix, dtype=float)
    rows, cols = linear_sum_assignment(values, maximize=True)
    return sorted((int(i), int(j), float(values[i, j])) for i, j in zip(rows, cols) if values[i, j] > 0)


def union_area(boxes: Sequence[Box]) -> float:
    """Area covered by the union of ``boxes`` (overlaps counted once), by sweeping the vertical strips
    between consecutive x edges. Zero-area boxes cover nothing."""
    solid = [b for b in boxes if b.area > 0]
    if not solid:
        return 0.0
    if len(solid) == 1:
        return solid[0].area
    xs = sorted({x for b in solid for x in (b.x1, b.x2)})
    total = 0.0
    for left, right in zip(xs, xs[1:]):
        spans = sorted((b.y1, b.y2) for b in solid if b.x1 <= left and b.x2 >= right)
        covered, top, bottom = 0.0, None, None
        for y1, y2 in spans:
            if bottom is None or y1 > bottom:
                if bottom is not None:
                    covered += bottom - top
                top, bottom = y1, y2
            else:
                bottom = max(bottom, y2)
        if bottom is not None:
            covered += bottom - top
        total += covered * (right - left)
    return total


def region_iou(a: Sequence[Box], b: Sequence[Box]) -> float:
    """IoU of the regions two box sets cover (each set's union). Equals `iou` for one box each."""
    if len(a) == 1 and len(b) == 1:
        return iou(a[0], b[0])
    area_a, area_b = union_area(a), union_area(b)
    area_union = union_area([*a, *b])
    if area_union <= 0:
        return 0.0
    intersection = max(0.0, area_a + area_b - area_union)
    return min(1.0, intersection / area_union)


def best_pair_iou(a: Sequence[Box], b: Sequence[Box]) -> float:
    """The highest IoU between any box of ``a`` and any box of ``b`` (0 when either is empty)."""
    return max((iou(x, y) for x in a for y in b), default=0.0)


def max_matching(candidates: Sequence[Sequence[int]]) -> int:
    """The size of a maximum one-to-one matching in a bipartite graph given as ``candidates[r]`` = the
    left-side indices that right-side item ``r`` may pair with (Kuhn's augmenting paths; the graphs
    here have a few references and at most a few hundred predictions)."""
    owner: dict[int, int] = {}  # left index -> the right item it is matched to

    def augment(r: int, seen: set[int]) -> bool:
        for left in candidates[r]:
            if left in seen:
                continue
            seen.add(left)
            if left not in owner or augment(owner[left], seen):
                owner[left] = r
                return True
        return False

    return sum(1 for r in range(len(candidates)) if augment(r, set()))
