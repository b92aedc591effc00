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


def cell_centre(idx: int, n: int = GRID_SIZE) -> tuple[float, float]:
    return ((idx % n + 0.5) / n, (idx // n + 0.5) / n)


def encode_box(box: Box, n: int = GRID_SIZE) -> tuple[int, int]:
    return cell_index(box.x1, box.y1, n), cell_index(box.x2, box.y2, n)


def decode_cells(idx_l: int, idx_r: int, n: int = GRID_SIZE) -> Box | None:
    """Both corners to cell centres; None when an index is outside the grid."""
    if not (0 <= idx_l < n * n and 0 <= idx_r < n * n):
        return None
    x1, y1 = cell_centre(idx_l, n)
    x2, y2 = cell_centre(idx_r, n)
    return Box.from_corners(x1, y1, x2, y2)


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
            item = Found(match.start(), match.end(), phrase=phrase, keep=phrase)
            # Anything in the brackets that is not a well-formed pair is a malformed box.
            leftover = _CELL_PAIR.sub("", inside)
            item.dropped += leftover.count("<")
            for pair in _CELL_PAIR.finditer(inside):
                idx_l, idx_r = index_value(pair.group(1)), index_value(pair.group(2))
                cells = None if idx_l is None or idx_r is None else decode_cells(idx_l, idx_r, n)
                box = None if cells is None else frame_box(self.frame, cells.as_tuple(), image_size)
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
