"""Regions snapped to the Grounding-IQA 20 x 20 grid.

A region is given by the grid cells of its two corners. Its box is what the grid syntax decodes those
cells to (cell centre to cell centre), and the generator degrades exactly the pixels of that box, so the
reference box, the reference text and the damaged pixels are one and the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..boxes.formats.grid import GRID_SIZE, decode_cells
from ..boxes.geometry import Box

MIN_SPAN = 3  # cells between the two corner cells; the issue asks for at least two
MAX_SPAN = 10


@dataclass(frozen=True)
class Region:
    """Corner cells (column, row) of the top-left and bottom-right cells; spans of at least 2 cells."""

    col1: int
    row1: int
    col2: int
    row2: int

    @property
    def cells(self) -> tuple[int, int]:
        return self.row1 * GRID_SIZE + self.col1, self.row2 * GRID_SIZE + self.col2

    @property
    def box(self) -> Box:
        box = decode_cells(*self.cells)
        assert box is not None  # corners are always inside the grid
        return box

    def pixels(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), end-exclusive, of the box in an image of ``size`` (width, height)."""
        w, h = size
        b = self.box
        return round(b.x1 * w), round(b.y1 * h), round(b.x2 * w), round(b.y2 * h)

    def separated_from(self, other: "Region", gap: int = 1) -> bool:
        """True when at least ``gap`` whole cells lie between the two boxes (horizontally or vertically)."""
        return (
            self.col2 + gap < other.col1 or other.col2 + gap < self.col1
            or self.row2 + gap < other.row1 or other.row2 + gap < self.row1
        )

    def centre(self) -> tuple[float, float]:
        b = self.box
        return (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2

    def to_json(self) -> dict[str, object]:
        return {"cells": list(self.cells), "box": list(self.box.as_tuple())}


def random_region(rng: np.random.Generator, min_span: int = MIN_SPAN, max_span: int = MAX_SPAN) -> Region:
    span_x = int(rng.integers(min_span, max_span + 1))
    span_y = int(rng.integers(min_span, max_span + 1))
    col1 = int(rng.integers(0, GRID_SIZE - span_x))
    row1 = int(rng.integers(0, GRID_SIZE - span_y))
    return Region(col1, row1, col1 + span_x, row1 + span_y)


def sample_region(
    rng: np.random.Generator,
    avoid: Sequence[Region] = (),
    accept: Callable[[Region], bool] = lambda r: True,
    tries: int = 200,
) -> Region | None:
    """A random region separated from every region in ``avoid`` and accepted by ``accept``; None when
    ``tries`` draws find none (the caller then picks another degradation)."""
    for _ in range(tries):
        region = random_region(rng)
        if all(region.separated_from(other) for other in avoid) and accept(region):
            return region
    return None


def location(region: Region) -> tuple[str, str]:
    """Where the region sits, as (vertical, horizontal) thirds: ('top'|'middle'|'bottom', 'left'|...)."""
    cx, cy = region.centre()
    vertical = "top" if cy < 0.36 else "bottom" if cy > 0.64 else "middle"
    horizontal = "left" if cx < 0.36 else "right" if cx > 0.64 else "centre"
    return vertical, horizontal
