"""Qwen2.5-VL JSON boxes: ``{"bbox_2d": [x1, y1, x2, y2], "label": "dog"}`` in pixels of the *resized*
input.

Qwen2.5-VL writes absolute pixel coordinates of the image it was fed, which its processor resized
(`frames.smart_resize`: sides multiples of 28, area within ``[min_pixels, max_pixels]``). The default
frame, `SmartResizeFrame`, computes that size from the image size with Qwen2.5-VL's own defaults;
pass ``smart_resize:FACTOR,MIN_PIXELS,MAX_PIXELS`` when the adapter changes them, or ``resized:WxH``
when the input size is known. The numbers are divided by the frame's size (``frame_size``).

Each object holding ``"bbox_2d"`` is a box; its ``"label"`` is the phrase (empty when absent), and
neighbouring objects with the same label form one grounding.
A ``bbox_2d`` that is not four numbers, or that reaches beyond the input (a negative pixel, x beyond
its width, y beyond its height), is dropped and counted. In the plain text an object written
inside a sentence is replaced by its label; a JSON list of objects (with its ```` ```json ```` fence)
is removed whole.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Sequence

from ..frames import Frame, ImageSize, SmartResizeFrame
from ..geometry import Box
from ..grounded import GroundedText, Grounding
from .base import BoxFormat
from .markup import NUMBER, Found, assemble, frame_box, frame_coords, numbers, pixel_divisors, within

_OBJECT = r"\{[^{}]{0,2000}\}"
_OBJECT_RE = re.compile(_OBJECT)
_BLOCK = re.compile(rf"(?:```(?:json)?[ \t]*\n?)?\[\s*{_OBJECT}(?:\s*,\s*{_OBJECT})*\s*(?:,\s*)?\](?:\s*```)?")
_BBOX = re.compile(r'"bbox_2d"\s*:\s*\[([^\[\]]{0,400})\]')
_FOUR_NUMBERS = re.compile(rf"\s*(?:{NUMBER})(?:\s*,\s*(?:{NUMBER})){{3}}\s*")
_SEPARATOR = re.compile(r"\s*,\s*")
_LABEL = re.compile(r'"label"\s*:\s*"((?:[^"\\\n]|\\.){0,500})"')


def _label(obj: str) -> str:
    match = _LABEL.search(obj)
    if match is None:
        return ""
    try:
        return str(json.loads(f'"{match.group(1)}"'))
    except ValueError:  # a bad escape: keep the characters as written
        return match.group(1)


class Qwen25JsonFormat(BoxFormat):
    name = "qwen25_vl"
    syntax = '{"bbox_2d": [x1, y1, x2, y2], "label": "phrase"}, often a ```json list'
    scale = "pixels of the resized model input"
    emits_phrases = True

    @classmethod
    def default_frame(cls) -> Frame:
        return SmartResizeFrame()

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        size = pixel_divisors(self.frame, image_size)
        found: list[Found] = []
        for match in _OBJECT_RE.finditer(text):
            bbox = _BBOX.search(match.group())
            if bbox is None:
                continue
            label = _label(match.group())
            item = Found(match.start(), match.end(), phrase=label, keep=label)
            box = None
            if size is not None and _FOUR_NUMBERS.fullmatch(bbox.group(1)):
                x1, y1, x2, y2 = numbers(bbox.group(1))
                fw, fh = size
                if within((x1, x2), fw) and within((y1, y2), fh):
                    box = frame_box(self.frame, (x1 / fw, y1 / fh, x2 / fw, y2 / fh), image_size)
            if box is None:
                item.dropped = 1
            else:
                item.boxes.append(box)
            previous = found[-1] if found else None
            if (previous is not None and previous.phrase == item.phrase and previous.boxes and item.boxes
                    and _SEPARATOR.fullmatch(text, previous.end, item.start)):
                previous.boxes.extend(item.boxes)  # one phrase, several instances: one grounding
                previous.end = item.end
            else:
                found.append(item)
        starts = [f.start for f in found]
        blocks = [(m.start(), m.end()) for m in _BLOCK.finditer(text)
                  if bisect.bisect_left(starts, m.start()) < bisect.bisect_left(starts, m.end())]
        return assemble(text, found, blocks)

    def _object(self, box: Box, label: str, image_size: ImageSize) -> str | None:
        size = pixel_divisors(self.frame, image_size)
        coords = frame_coords(self.frame, box, image_size)
        if size is None or coords is None:
            return None
        fw, fh = size
        pixels = [round(coords.x1 * fw), round(coords.y1 * fh), round(coords.x2 * fw), round(coords.y2 * fh)]
        label_part = f', "label": {json.dumps(label, ensure_ascii=False)}' if label else ""
        return f'{{"bbox_2d": [{", ".join(map(str, pixels))}]{label_part}}}'

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        return ", ".join(o for o in (self._object(b, "", image_size) for b in boxes) if o is not None)

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        objects = (self._object(b, grounding.phrase, image_size) for b in grounding.boxes)
        return ", ".join(o for o in objects if o is not None)

    def round_trip_error(self, image_size: ImageSize) -> tuple[float, float]:
        size = pixel_divisors(self.frame, image_size)
        return (0.5 / size[0], 0.5 / size[1]) if size is not None else (0.0, 0.0)

