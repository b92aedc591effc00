"""Reference-and-box tag formats: a phrase in reference tags, then one or more box tags.

- Qwen-VL: ``<ref>dog</ref><box>(x1,y1),(x2,y2)</box>``, integers 0-1000 read as ``v / 999`` (what
  Qwen-VL's own grounding evaluation divides by).
- Qwen2-VL: ``<|object_ref_start|>dog<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>``,
  integers 0-1000 read as ``v / 1000``.
- InternVL: ``<ref>dog</ref><box>[[x1, y1, x2, y2]]</box>``, integers 0-1000 read as ``v / 1000``;
  several boxes share one box tag: ``[[..], [..]]``.

Several box tags may follow one reference. A box tag without a reference takes the preceding noun
phrase (`phrases`). A box tag whose content does not parse is dropped and counted; so is a point left
without its partner, and a box with a value outside 0-1000. Tags outside such markup are removed from the plain text, the phrase kept.
"""

from __future__ import annotations

import bisect
import re
from abc import abstractmethod
from typing import ClassVar, Sequence

from ..frames import ImageSize
from ..geometry import Box
from ..grounded import GroundedText, Grounding
from .base import BoxFormat
from .markup import NUMBER, Found, assemble, frame_box, frame_coords, numbers, within

_POINT = rf"\(\s*(?:{NUMBER})\s*,\s*(?:{NUMBER})\s*\)"
_POINTS_ONLY = re.compile(rf"\s*{_POINT}(?:\s*(?:,\s*)?{_POINT})*\s*")
_QUAD = rf"\[\s*(?:{NUMBER})\s*,\s*(?:{NUMBER})\s*,\s*(?:{NUMBER})\s*,\s*(?:{NUMBER})\s*\]"
_QUADS_ONLY = re.compile(rf"\s*(?:\[\s*{_QUAD}(?:\s*,\s*{_QUAD})*\s*(?:,\s*)?\]|{_QUAD}(?:\s*,\s*{_QUAD})*)\s*")
_QUAD_RE = re.compile(_QUAD)


class RefBoxFormat(BoxFormat):
    """Shared parser and writer; subclasses give the tags, the divisor and the box-content syntax."""

    ref_open: ClassVar[str]
    ref_close: ClassVar[str]
    box_open: ClassVar[str]
    box_close: ClassVar[str]
    divisor: ClassVar[float] = 1000.0
    value_range: ClassVar[float] = 1000.0  # what the model writes; a box with a value beyond it is dropped
    emits_phrases = True
    _markup: ClassVar[re.Pattern[str]]
    _box_tag: ClassVar[re.Pattern[str]]
    _any_tag: ClassVar[re.Pattern[str]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        tags = (getattr(cls, t, None) for t in ("ref_open", "ref_close", "box_open", "box_close"))
        if not all(isinstance(t, str) and t for t in tags):
            return  # an intermediate base (box-content syntax only): the concrete subclass compiles
        ro, rc, bo, bc = (re.escape(t) for t in (cls.ref_open, cls.ref_close, cls.box_open, cls.box_close))
        cls._markup = re.compile(rf"(?:{ro}([^<]{{0,500}}){rc}[ \t]*)?((?:{bo}[^<]{{0,500}}{bc}[ \t]*)+)")
        cls._box_tag = re.compile(rf"{bo}([^<]{{0,500}}){bc}")
        cls._any_tag = re.compile("|".join((ro, rc, bo, bc)))

    @abstractmethod
    def read_boxes(self, content: str) -> tuple[list[list[float]], int]:
        """The boxes (four numbers each) in one box tag's content, and how many were malformed."""

    @abstractmethod
    def write_boxes(self, boxes: Sequence[tuple[int, int, int, int]]) -> str:
        """Box tags for the given integer corners."""

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        found: list[Found] = []
        tags_read = 0
        for match in self._markup.finditer(text):
            phrase = match.group(1)
            end = match.start(2) + len(match.group(2).rstrip(" \t"))
            item = Found(match.start(), end, phrase=phrase, keep=phrase or "")
            for tag in self._box_tag.finditer(match.group(2)):
                tags_read += 1
                values, malformed = self.read_boxes(tag.group(1))
                item.dropped += malformed
                for v in values:
                    box = None
                    if within(v, self.value_range):
                        box = frame_box(self.frame, tuple(x / self.divisor for x in v), image_size)  # type: ignore[arg-type]
                    if box is None:
                        item.dropped += 1
                    else:
                        item.boxes.append(box)
            found.append(item)
        starts = [f.start for f in found]
        stray = []
        for tag in self._any_tag.finditer(text):
            i = _enclosing(starts, tag.start())
            if i < 0 or tag.start() >= found[i].end:
                stray.append((tag.start(), tag.end()))
        unread = text.count(self.box_open) - tags_read
        return assemble(text, found, stray, dropped=max(0, unread))

    def _integers(self, box: Box, image_size: ImageSize) -> tuple[int, int, int, int] | None:
        coords = frame_coords(self.frame, box, image_size)
        if coords is None:
            return None
        x1, y1, x2, y2 = (round(v * self.divisor) for v in coords.as_tuple())
        return (x1, y1, x2, y2)

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        written = [v for v in (self._integers(b, image_size) for b in boxes) if v is not None]
        return self.write_boxes(written) if written else ""

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        boxes = self.render_boxes(grounding.boxes, image_size)
        if not grounding.phrase.strip() or "<" in grounding.phrase:
            return f"{grounding.phrase} {boxes}".strip()
        return f"{self.ref_open}{grounding.phrase}{self.ref_close}{boxes}"


def _enclosing(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1


class _PointPairs(RefBoxFormat):
    """Box content ``(x1,y1),(x2,y2)``: points taken two by two."""

    def read_boxes(self, content: str) -> tuple[list[list[float]], int]:
        if not _POINTS_ONLY.fullmatch(content):
            return [], 1
        values = numbers(content)
        points = [values[i : i + 2] for i in range(0, len(values), 2)]
        boxes = [points[i] + points[i + 1] for i in range(0, len(points) - 1, 2)]
        return boxes, len(points) % 2

    def write_boxes(self, boxes: Sequence[tuple[int, int, int, int]]) -> str:
        return "".join(f"{self.box_open}({x1},{y1}),({x2},{y2}){self.box_close}" for x1, y1, x2, y2 in boxes)


class QwenVLFormat(_PointPairs):
    name = "qwen_vl"
    syntax = "<ref>phrase</ref><box>(x1,y1),(x2,y2)</box>"
    scale = "integers 0-1000, read as v/999 (as Qwen-VL's own evaluation divides)"
    ref_open, ref_close, box_open, box_close = "<ref>", "</ref>", "<box>", "</box>"
    divisor = 999.0
    quantum = 0.5 / 999


class Qwen2VLFormat(_PointPairs):
    name = "qwen2_vl"
    syntax = "<|object_ref_start|>phrase<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>"
    scale = "integers 0-1000, read as v/1000"
    ref_open, ref_close = "<|object_ref_start|>", "<|object_ref_end|>"
    box_open, box_close = "<|box_start|>", "<|box_end|>"
    quantum = 0.5 / 1000


class InternVLFormat(RefBoxFormat):
    name = "internvl"
    syntax = "<ref>phrase</ref><box>[[x1, y1, x2, y2]]</box>; several boxes: <box>[[..], [..]]</box>"
    scale = "integers 0-1000, read as v/1000"
    ref_open, ref_close, box_open, box_close = "<ref>", "</ref>", "<box>", "</box>"
    quantum = 0.5 / 1000

    def read_boxes(self, content: str) -> tuple[list[list[float]], int]:
        if not _QUADS_ONLY.fullmatch(content):
            return [], 1
        return [numbers(q) for q in _QUAD_RE.findall(content)], 0

    def write_boxes(self, boxes: Sequence[tuple[int, int, int, int]]) -> str:
        inner = ", ".join(f"[{x1}, {y1}, {x2}, {y2}]" for x1, y1, x2, y2 in boxes)
        return f"{self.box_open}[{inner}]{self.box_close}"


REF_BOX_FORMATS = (QwenVLFormat, Qwen2VLFormat, InternVLFormat)
