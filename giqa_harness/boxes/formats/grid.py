"""The Grounding-IQA grid syntax: ``[phrase](<idx_l, idx_r>)`` on a 20 x 20 grid.

Cells are numbered row-major from the top-left: ``idx = floor(y * 20) * 20 + floor(x * 20)``, a corner
at exactly 1.0 clamped into the last cell. Decoding maps *both* corners to cell centres, so a box
whose two cells share a row or a column decodes to zero area, exactly as the paper defines it.
Several boxes of one phrase share the round brackets: ``[phrase](<a, b>, <c, d>)``.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

from ..frames import ImageSize
from ..geometry import Box
from ..grounded import GroundedText, Grounding
from .base import BoxFormat
from .markup import Found, assemble, frame_box, frame_coords, index_value

GRID_SIZE = 20

# A phrase in square brackets followed by round brackets; the round part is a grounding only when it
# holds at least one '<' (otherwise it is ordinary text such as a Markdown link).
_MARKUP = re.compile(r"\[([^\[\]\n]*)\]\(([^()\n]*)\)")
_CELL_PAIR = re.compile(r"<\s*([0-9]+)\s*,\s*([0-9]+)\s*>")


def cell_index(x: float, y: float, n: int = GRID_SIZE) -> int:
    """The grid cell that holds the point (x, y); coordinates at 1.0 fall into the last cell."""
    col = min(n - 1, max(0, math.floor(x * n)))
    row = min(n - 1, max(0, math.floor(y * n)))
    return row * n + col


def encode_box(box: Box, n: int = GRID_SIZE) -> tuple[int, int]:
    return cell_index(box.x1, box.y1, n), cell_index(box.x2, box.y2, n)


def cell_corners(idx_l: int | None, idx_r: int | None, n: int = GRID_SIZE) -> tuple[float, float, float, float] | None:
    """The two cells' centres as ``(x_l, y_l, x_r, y_r)``, not yet ordered; None when an index is
    missing (too many digits) or outside the grid."""
    if idx_l is None or idx_r is None or not (0 <= idx_l < n * n and 0 <= idx_r < n * n):
        return None
    return ((idx_l % n + 0.5) / n, (idx_l // n + 0.5) / n, (idx_r % n + 0.5) / n, (idx_r // n + 0.5) / n)


def decode_cells(idx_l: int, idx_r: int, n: int = GRID_SIZE) -> Box | None:
    """Both corners to cell centres; None when an index is outside the grid."""
    corners = cell_corners(idx_l, idx_r, n)
    return None if corners is None else Box.from_corners(*corners)


def snap_to_grid(box: Box, n: int = GRID_SIZE) -> Box:
    """The box this format would decode after encoding ``box``: what a reference should store."""
    decoded = decode_cells(*encode_box(box, n), n)
    assert decoded is not None  # encode_box always yields in-grid cells
    return decoded


class GridFormat(BoxFormat):
    """Grounding-IQA's discrete grid syntax (the benchmark's canonical syntax)."""

    name = "giqa_grid"
    syntax = "[phrase](<idx_l, idx_r>), several boxes: [phrase](<a, b>, <c, d>)"
    scale = f"cell indices on a {GRID_SIZE}x{GRID_SIZE} grid, decoded to cell centres"
    quantum = 0.5 / GRID_SIZE  # a corner moves to its cell's centre
    emits_phrases = True
    grid_size = GRID_SIZE

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        n = self.grid_size
        found: list[Found] = []
        for match in _MARKUP.finditer(text):
            phrase, inside = match.group(1), match.group(2)
            if "<" not in inside:
                continue
            pairs = _CELL_PAIR.findall(inside)
            # Anything in the brackets that is not a well-formed pair is a malformed box (each pair
            # holds exactly one '<').
            item = Found(match.start(), match.end(), phrase=phrase, keep=phrase,
                         dropped=inside.count("<") - len(pairs))
            for left, right in pairs:
                corners = cell_corners(index_value(left), index_value(right), n)
                # The frame orders and clips the corners, as `decode_cells` would (one clip, not two).
                box = None if corners is None else frame_box(self.frame, corners, image_size)
                if box is None:
                    item.dropped += 1
                else:
                    item.boxes.append(box)
            found.append(item)
        return assemble(text, found)

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        cells = []
        for box in boxes:
            coords = frame_coords(self.frame, box, image_size)
            if coords is not None:
                cells.append("<{}, {}>".format(*encode_box(coords, self.grid_size)))
        return ", ".join(cells)

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        return f"[{grounding.phrase}]({self.render_boxes(grounding.boxes, image_size)})"
