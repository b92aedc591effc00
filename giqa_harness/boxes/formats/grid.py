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

GRID_SIZE = 20

# A phrase in square brackets followed by round brackets; the round part is a grounding only when it
# holds at least one '<' (otherwise it is ordinary text such as a Markdown link).
_MARKUP = re.compile(r"\[([^\[\]\n]*)\]\(([^()\n]*)\)")
_CELL_PAIR = re.compile(r"<\s*(\d+)\s*,\s*(\d+)\s*>")
_SPACES = re.compile(r"[ \t]{2,}")


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
    emits_phrases = True
    grid_size = GRID_SIZE

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        n = self.grid_size
        groundings: list[Grounding] = []
        plain_parts: list[str] = []
        dropped = 0
        cursor = 0
        for match in _MARKUP.finditer(text):
            phrase, inside = match.group(1), match.group(2)
            if "<" not in inside:
                continue
            boxes: list[Box] = []
            pairs = list(_CELL_PAIR.finditer(inside))
            # Anything in the brackets that is not a well-formed pair is a malformed box.
            leftover = _CELL_PAIR.sub("", inside).replace(",", "").strip()
            dropped += leftover.count("<") if leftover else 0
            for pair in pairs:
                frame_box = decode_cells(int(pair.group(1)), int(pair.group(2)), n)
                box = None if frame_box is None else self.frame.to_box(frame_box.as_tuple(), image_size)
                if box is None:
                    dropped += 1
                else:
                    boxes.append(box)
            plain_parts.append(text[cursor : match.start()])
            plain_parts.append(phrase)
            cursor = match.end()
            if boxes:
                groundings.append(Grounding(phrase.strip(), tuple(boxes), span=(match.start(), match.end())))
        plain_parts.append(text[cursor:])
        plain = _SPACES.sub(" ", "".join(plain_parts)).strip()
        return GroundedText(text=text, plain=plain, groundings=tuple(groundings), dropped=dropped)

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        cells = []
        for box in boxes:
            coords = self.frame.from_original(box, image_size)
            frame_box = Box.from_corners(*coords)
            if frame_box is not None:
                cells.append("<{}, {}>".format(*encode_box(frame_box, self.grid_size)))
        return ", ".join(cells)

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        return f"[{grounding.phrase}]({self.render_boxes(grounding.boxes, image_size)})"
