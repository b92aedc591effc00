"""Bare-box formats: ``[x1, y1, x2, y2]`` written after the phrase, no phrase markup.

Shikra, Ferret, GroundingGPT, LLaVA-1.5, LLaVA-1.6/NeXT and mPLUG-Owl2 all write a box as four numbers
in square brackets; they differ in the scale of the numbers, the spacing, how several boxes of one
phrase are joined, and the frame. The phrase is attributed by the rule in `phrases`.

Reading is lenient about spacing and separators (``;`` inside one bracket, or several brackets in a
row joined by commas or "and"), never about scale: each format divides by its own declared range, and a
box with a value outside ``[0, range]`` (negative, or 1.7 on a 0-1 scale) is dropped and counted.
A bracket holding only numbers is box markup; with four numbers per ``;``-part it is a box, otherwise
it is dropped and counted ("[0.1, 0.2]" is Shikra's point syntax: not a box). A lone number in
brackets ("[1]") is ordinary text.
"""

from __future__ import annotations

import math
import re
from typing import ClassVar, Sequence

from ..frames import Frame, ImageSize, OriginalFrame, PadSquareFrame
from ..geometry import Box
from ..grounded import GroundedText
from .base import BoxFormat, FormatOption
from .markup import NUMBER, Found, assemble, frame_box, frame_coords, numbers, within

_BRACKET = re.compile(r"\[([^\[\]\n]{0,400})\]")
_ONLY_NUMBERS = re.compile(rf"\s*(?:{NUMBER})(?:\s*[,;]\s*(?:{NUMBER}))*\s*(?:[,;]\s*)?")


class BareBoxFormat(BoxFormat):
    """Four numbers in brackets, divided by ``value_range`` into frame-normalized corners."""

    value_range: ClassVar[float] = 1.0
    trailing_token: ClassVar[str] = ""  # consumed after a box when present (Ferret's <region_fea>)

    def __init__(self, frame: Frame | None = None, **options: object) -> None:
        super().__init__(frame, **options)
        if not 0 <= self.settings.get("decimals", 0) <= 12:
            from ...errors import ConfigError

            raise ConfigError(f"box format {self.name!r}: decimals must be between 0 and 12")

    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        found: list[Found] = []
        for match in _BRACKET.finditer(text):
            inner = match.group(1)
            if not _ONLY_NUMBERS.fullmatch(inner):
                continue
            groups = [numbers(part) for part in inner.split(";")]
            if sum(len(g) for g in groups) < 2:
                continue
            item = Found(match.start(), self._markup_end(text, match.end()))
            for values in groups:
                box = self._box(values, image_size) if len(values) == 4 else None
                if box is not None:
                    item.boxes.append(box)
                elif values:
                    item.dropped += 1
            found.append(item)
        return assemble(text, found)

    def _markup_end(self, text: str, end: int) -> int:
        if self.trailing_token:
            trailing = re.compile(r"[ \t]*" + re.escape(self.trailing_token)).match(text, end)
            if trailing is not None:
                return trailing.end()
        return end

    def _box(self, values: list[float], image_size: ImageSize) -> Box | None:
        if not within(values, self.value_range):
            return None
        x1, y1, x2, y2 = (v / self.value_range for v in values)
        return frame_box(self.frame, (x1, y1, x2, y2), image_size)

    def _values(self, box: Box, image_size: ImageSize) -> list[str] | None:
        coords = frame_coords(self.frame, box, image_size)
        return None if coords is None else [self.write_value(v) for v in coords.as_tuple()]

    def write_value(self, v: float) -> str:
        return f"{v:.{self.settings['decimals']}f}"

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        written = [v for v in (self._values(b, image_size) for b in boxes) if v is not None]
        return ", ".join("[" + ", ".join(values) + "]" for values in written)

    def round_trip_error(self, image_size: ImageSize) -> tuple[float, float]:
        q = 0.5 * 10.0 ** -self.settings["decimals"]
        return (q, q)


_DECIMALS_HELP = "decimals written when rendering a box (parsing reads any precision)"


class ShikraFormat(BareBoxFormat):
    name = "shikra"
    syntax = "[x1,y1,x2,y2]; several boxes of one phrase: [x1,y1,x2,y2;x1,y1,x2,y2]"
    scale = "floats 0-1, 3 decimals"
    options = {"decimals": FormatOption(3, _DECIMALS_HELP)}

    @classmethod
    def default_frame(cls) -> Frame:
        return PadSquareFrame("white")

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        written = [v for v in (self._values(b, image_size) for b in boxes) if v is not None]
        return "[" + ";".join(",".join(values) for values in written) + "]" if written else ""


class FerretFormat(BareBoxFormat):
    name = "ferret"
    syntax = "[x1, y1, x2, y2] after the entity; referring boxes may be followed by <region_fea>"
    scale = "integers 0-999 (floor of v*1000), read as v/1000"
    value_range = 1000.0
    quantum = 0.001
    trailing_token = "<region_fea>"
    options = {"region_token": FormatOption(True, "write <region_fea> after each rendered box, as Ferret's "
                                                  "referring input does (the adapter passes the region mask)")}

    def write_value(self, v: float) -> str:
        return str(min(999, max(0, math.floor(v * 1000))))

    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        token = f" {self.trailing_token}" if self.settings["region_token"] else ""
        written = [v for v in (self._values(b, image_size) for b in boxes) if v is not None]
        return ", ".join("[" + ", ".join(values) + "]" + token for values in written)

    def round_trip_error(self, image_size: ImageSize) -> tuple[float, float]:
        return (self.quantum, self.quantum)


class GroundingGPTFormat(BareBoxFormat):
    name = "groundinggpt"
    syntax = "[x1, y1, x2, y2]"
    scale = "floats 0-1, 3 decimals"
    options = {"decimals": FormatOption(3, _DECIMALS_HELP)}

    @classmethod
    def default_frame(cls) -> Frame:
        return PadSquareFrame("mean")


class Llava15Format(BareBoxFormat):
    name = "llava15"
    syntax = "[x1, y1, x2, y2]"
    scale = "floats 0-1, 2 decimals"
    options = {"decimals": FormatOption(2, _DECIMALS_HELP)}

    @classmethod
    def default_frame(cls) -> Frame:
        return PadSquareFrame("mean")


class Llava16Format(BareBoxFormat):
    name = "llava16"
    syntax = "[x1, y1, x2, y2]"
    scale = "floats 0-1, 2 decimals"
    options = {"decimals": FormatOption(2, _DECIMALS_HELP)}

    @classmethod
    def default_frame(cls) -> Frame:
        return OriginalFrame()


class Owl2Format(BareBoxFormat):
    name = "owl2"
    syntax = "[x1, y1, x2, y2]"
    scale = "floats 0-1, 2 decimals"
    options = {"decimals": FormatOption(2, _DECIMALS_HELP)}

    @classmethod
    def default_frame(cls) -> Frame:
        return OriginalFrame()


BARE_FORMATS = (ShikraFormat, FerretFormat, GroundingGPTFormat, Llava15Format, Llava16Format, Owl2Format)
