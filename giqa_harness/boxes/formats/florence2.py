"""Florence-2: ``phrase<loc_a><loc_b><loc_c><loc_d>``, coordinates quantized into 1000 bins.

Bin ``N`` of the (squashed) image reads as ``(N + 0.5) / 1000``; writing takes ``floor(v * 1000)``,
kept within 0-999, as Florence-2's quantizer does. Four location tokens make a box and several boxes
of one phrase follow each other. As in Florence-2's own post-processing, the phrase is the text
since the previous tag (its location tokens, ``</s>``, ...), stripped: Florence-2 writes grounding
answers as ``phrase<loc..>phrase<loc..>``. When the tokens end a longer sentence, only the last clause
counts (after ``. ! ? ; : ,``, a newline or a bracket), as for bare boxes (`phrases`). Bins above 999 are dropped; so is an incomplete group of
fewer than four tokens (counted once).
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
from .phrases import clause_start_in

BINS = 1000
_LOCS = re.compile(r"(?:<loc_[0-9]+>)+")
_LOC = re.compile(r"<loc_([0-9]+)>")
_SPECIAL = re.compile(r"</?s>|<pad>")


class Florence2Format(BoxFormat):
    name = "florence2"
    syntax = "phrase<loc_x1><loc_y1><loc_x2><loc_y2>"
    scale = f"bins 0-{BINS - 1}, read as (N + 0.5)/{BINS}"
    quantum = 0.5 / BINS
    emits_phrases = True

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        found: list[Found] = []
        previous_end = 0
        for match in _LOCS.finditer(text):
            region_start = max(previous_end, text.rfind(">", previous_end, match.start()) + 1)
            region_start = clause_start_in(text, region_start, match.start())
            region = text[region_start : match.start()]
            phrase_start = region_start + len(region) - len(region.lstrip())
            item = Found(match.start(), match.end(), phrase=region.strip(), span_start=phrase_start)
            bins = [index_value(d) for d in _LOC.findall(match.group())]
            for i in range(0, len(bins) - 3, 4):
                box = None
                if all(b is not None and b < BINS for b in bins[i : i + 4]):
                    x1, y1, x2, y2 = ((b + 0.5) / BINS for b in bins[i : i + 4])  # type: ignore[operator]
                    box = frame_box(self.frame, (x1, y1, x2, y2), image_size)
                if box is None:
                    item.dropped += 1
                else:
                    item.boxes.append(box)
            item.dropped += 1 if len(bins) % 4 else 0
            found.append(item)
            previous_end = match.end()
        return assemble(text, found, [(m.start(), m.end()) for m in _SPECIAL.finditer(text)])

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        tokens = []
        for box in boxes:
            coords = frame_coords(self.frame, box, image_size)
            if coords is not None:
                tokens += [f"<loc_{min(BINS - 1, max(0, math.floor(v * BINS)))}>" for v in coords.as_tuple()]
        return "".join(tokens)

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        return f"{grounding.phrase}{self.render_boxes(grounding.boxes, image_size)}"
