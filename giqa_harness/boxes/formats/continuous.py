"""``giqa_continuous``: the Grounding-IQA markup with normalized continuous boxes,
``[phrase]([x1, y1, x2, y2])`` (several boxes: ``[phrase]([..], [..])``).

The paper's box-representation ablation compares its discrete 20 x 20 grid with "normalized continuous"
boxes but does not print that syntax. This format keeps everything else of the grid syntax (the phrase
markup, so Tag-Recall reads phrases the same way) and only swaps the cell indices for corner floats in
[0, 1] of the original image (2 decimals by default), so the two arms of the ablation differ in the box
representation alone. Training writes it with ``data.box_text=giqa_continuous``.
"""

from __future__ import annotations

from ..frames import ImageSize
from ..grounded import GroundedText, Grounding
from .bare import _BRACKET, _DECIMALS_HELP, _ONLY_NUMBERS, BareBoxFormat
from .base import FormatOption
from .grid import _MARKUP  # the grid's phrase markup; here the round brackets hold boxes in [ ]
from .markup import Found, assemble, numbers


class GiqaContinuousFormat(BareBoxFormat):
    name = "giqa_continuous"
    syntax = "[phrase]([x1, y1, x2, y2]), several boxes: [phrase]([..], [..])"
    scale = "floats 0-1, 2 decimals"
    emits_phrases = True
    options = {"decimals": FormatOption(2, _DECIMALS_HELP)}

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        found: list[Found] = []
        for match in _MARKUP.finditer(text):
            phrase, inside = match.group(1), match.group(2)
            if "[" not in inside:
                continue
            item = Found(match.start(), match.end(), phrase=phrase, keep=phrase)
            brackets = list(_BRACKET.finditer(inside))
            item.dropped += inside.count("[") - len(brackets)  # an unclosed bracket is a malformed box
            for bracket in brackets:
                values = numbers(bracket.group(1)) if _ONLY_NUMBERS.fullmatch(bracket.group(1)) else []
                box = self._box(values, image_size) if len(values) == 4 else None
                if box is None:
                    item.dropped += 1
                else:
                    item.boxes.append(box)
            found.append(item)
        return assemble(text, found)

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        return f"[{grounding.phrase}]({self.render_boxes(grounding.boxes, image_size)})"
