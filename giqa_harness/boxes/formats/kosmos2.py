"""Kosmos-2: ``<phrase>text</phrase><object><patch_index_AAAA><patch_index_BBBB></object>``.

The numbers are cells of a 32 x 32 grid over the (squashed) original image, ``idx = row * 32 + col``.
Several boxes of one phrase are separated by ``</delimiter_of_multi_objects/>`` inside one object.
The grammar and the decoding agree with transformers' ``Kosmos2Processor.post_process_generation``
(tested against it): tokens written without spaces, the phrase immediately before ``<object>``, and

- cells differing in both row and column: the box joins the two cell *centres*;
- cells sharing a row or a column (or equal): the box runs from the first cell's upper-left corner to
  the second cell's lower-right corner.

Encoding (for rendering) takes the cell holding the upper-left corner and the cell ending at the
lower-right one, ``floor(v * 32)`` and ``ceil(v * 32 - 1)``. Like the processor, only the text after
the last ``</image>`` is read. Indices beyond the 1024 patch tokens are dropped and counted; so is an
``<object>`` that does not follow the grammar. An object without ``<phrase>`` takes the preceding noun
phrase (`phrases`); transformers names such an entity after its patch tokens instead.
"""

from __future__ import annotations

import bisect
import math
import re
from typing import Sequence

from ..frames import Coords, ImageSize
from ..geometry import Box
from ..grounded import GroundedText, Grounding
from .base import BoxFormat
from .markup import Found, assemble, frame_box, frame_coords, index_value

GRID = 32
DELIMITER = "</delimiter_of_multi_objects/>"
_PAIR = r"<patch_index_[0-9]+><patch_index_[0-9]+>"
_OBJECT = re.compile(rf"(?:<phrase>([^<]+)</phrase>)?<object>((?:{_PAIR}{DELIMITER})*{_PAIR})</object>")
_INDEX = re.compile(r"<patch_index_([0-9]+)>")
_TAGS = re.compile(rf"</?(?:phrase|object|grounding|s)>|<patch_index_[0-9]+>|{DELIMITER}")
_PROMPT_END = "</image>"


def decode_cells(ul: int, lr: int, n: int = GRID) -> Coords:
    """Corners (frame-normalized, possibly reversed) of the box between two cells of an n x n grid."""
    ul_col, ul_row, lr_col, lr_row = ul % n, ul // n, lr % n, lr // n
    if ul_col == lr_col or ul_row == lr_row:
        return (ul_col / n, ul_row / n, (lr_col + 1) / n, (lr_row + 1) / n)
    return ((ul_col + 0.5) / n, (ul_row + 0.5) / n, (lr_col + 0.5) / n, (lr_row + 0.5) / n)


def encode_box(box: Box, n: int = GRID) -> tuple[int, int]:
    """The two cells that stand for ``box`` (frame-normalized): upper-left and lower-right."""

    def cell(v: float, ceil_end: bool) -> int:
        c = math.ceil(v * n - 1) if ceil_end else math.floor(v * n)
        return min(n - 1, max(0, c))

    ul_col, ul_row = cell(box.x1, False), cell(box.y1, False)
    lr_col, lr_row = max(ul_col, cell(box.x2, True)), max(ul_row, cell(box.y2, True))
    return ul_row * n + ul_col, lr_row * n + lr_col


class Kosmos2Format(BoxFormat):
    name = "kosmos2"
    syntax = ("<phrase>text</phrase><object><patch_index_AAAA><patch_index_BBBB></object>; several boxes: "
              f"... {DELIMITER} ... inside one object")
    scale = f"cell indices on a {GRID}x{GRID} grid"
    quantum = 1.0 / GRID
    emits_phrases = True

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        begin = text.rfind(_PROMPT_END)
        begin = 0 if begin < 0 else begin + len(_PROMPT_END)
        found: list[Found] = []
        for match in _OBJECT.finditer(text, begin):
            phrase = match.group(1)
            item = Found(match.start(), match.end(), phrase=phrase, keep=phrase or "")
            indices = [index_value(d) for d in _INDEX.findall(match.group(2))]
            for ul, lr in zip(indices[0::2], indices[1::2]):
                box = None
                if ul is not None and lr is not None and ul < GRID * GRID and lr < GRID * GRID:
                    box = frame_box(self.frame, decode_cells(ul, lr), image_size)
                if box is None:
                    item.dropped += 1
                else:
                    item.boxes.append(box)
            found.append(item)
        malformed = text.count("<object>", begin) - len(found)
        starts = [f.start for f in found]
        stray = [(m.start(), m.end()) for m in _TAGS.finditer(text, begin) if not _inside(m.start(), starts, found)]
        return assemble(text, found, [(0, begin)] + stray, dropped=max(0, malformed))

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        pairs = []
        for box in boxes:
            coords = frame_coords(self.frame, box, image_size)
            if coords is not None:
                ul, lr = encode_box(coords)
                pairs.append(f"<patch_index_{ul:04d}><patch_index_{lr:04d}>")
        return f"<object>{DELIMITER.join(pairs)}</object>" if pairs else ""

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        boxes = self.render_boxes(grounding.boxes, image_size)
        # The grammar needs a non-empty phrase without '<'; anything else is written as plain text.
        phrase = grounding.phrase
        if not phrase.strip() or "<" in phrase:
            return f"{phrase} {boxes}".strip()
        return f"<phrase>{phrase}</phrase>{boxes}"


def _inside(pos: int, starts: list[int], found: list[Found]) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and pos < found[i].end
