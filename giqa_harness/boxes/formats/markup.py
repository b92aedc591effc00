"""What every built-in parser shares: reading numbers, turning them into boxes, assembling the result.

A parser finds its markup and describes each occurrence as a `Found`; `assemble` then builds the
`GroundedText` once, the same way for every format: the plain text (markup removed, spaces tidied),
phrases for bare boxes (the rule of `phrases`), neighbouring bare boxes merged into one grounding, and
the dropped count. Nothing here raises on model output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..frames import Coords, Frame, ImageSize
from ..geometry import Box
from ..grounded import GroundedText, Grounding
from .phrases import preceding_noun_phrase

# A number as models write them, plus the NaN/inf spellings (so that such boxes are seen, then dropped).
# Digits are ASCII only ([0-9], not \d): str patterns' \d, int() and float() also accept '٣' or '３',
# which no model's box syntax uses.
NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
NUMBER_RE = re.compile(NUMBER)
MAX_INDEX_DIGITS = 6  # longer digit runs are out of any grid or bin range; never turned into an int

_SPACE_RUN = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t]+\n")
_CLOSERS = frozenset(".,;:!?)]}\n\r\t ")
# Text between two bare boxes that still lets them belong to one phrase: "dogs [..], [..] and [..]".
_BOX_JOINER = re.compile(r"[\s,;]*(?:(?:and|or|&)[\s,;]*)?", re.IGNORECASE)


def numbers(text: str) -> list[float]:
    """Every number in ``text`` as a float (``float`` never fails on these tokens; huge -> inf)."""
    return [float(token) for token in NUMBER_RE.findall(text)]


def within(values: Iterable[float], upper: float) -> bool:
    """Every value finite and in ``[0, upper]``, a format's declared range. A value outside it is a
    malformed box to drop and count: clipping it would invent a degenerate box on the edge."""
    return all(0.0 <= v <= upper for v in values)  # False for NaN too


def index_value(digits: str) -> int | None:
    """A grid index or bin number, or None when the digit run is too long to be one."""
    return int(digits) if len(digits) <= MAX_INDEX_DIGITS else None


def frame_box(frame: Frame, coords: Coords, image_size: ImageSize) -> Box | None:
    """Frame-normalized corners -> clipped original-frame `Box`; None for NaN/inf or a degenerate image."""
    try:
        return frame.to_box(coords, image_size)
    except (ArithmeticError, ValueError):
        return None


def pixel_divisors(frame: Frame, image_size: ImageSize) -> tuple[float, float] | None:
    """The frame's pixel size, or None when it is not a positive size (no box can be read then)."""
    try:
        fw, fh = frame.frame_size(image_size)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return (float(fw), float(fh)) if fw > 0 and fh > 0 else None


def frame_coords(frame: Frame, box: Box, image_size: ImageSize) -> Box | None:
    """A `Box` of the original image in frame-normalized corners, clipped to the frame (what a model
    can be shown); None when the image size makes the conversion meaningless."""
    try:
        return Box.from_corners(*frame.from_original(box, image_size))
    except (ArithmeticError, ValueError):
        return None


@dataclass
class Found:
    """One piece of markup a parser recognised.

    ``start``/``end`` delimit the markup removed from the plain text, replaced by ``keep`` (the phrase
    of explicit markup such as ``<ref>dog</ref>``). ``phrase`` is the explicit phrase, or None for a
    bare box whose phrase `assemble` attributes. ``span_start`` is where the grounding's span begins
    when that is before ``start`` (Florence-2's phrase is plain text before its tokens).
    """

    start: int
    end: int
    boxes: list[Box] = field(default_factory=list)
    dropped: int = 0
    phrase: str | None = None
    keep: str = ""
    span_start: int | None = None


def assemble(text: str, found: Sequence[Found], removals: Iterable[tuple[int, int]] = (),
             dropped: int = 0) -> GroundedText:
    """Build the `GroundedText` from a parser's findings (in text order, not overlapping).

    ``removals`` are extra ranges to drop from the plain text (stray tags, JSON scaffolding); a range
    that overlaps an earlier one is skipped, so a removal may enclose several findings. ``dropped``
    counts malformed markup that produced no `Found`.
    """
    groundings: list[Grounding] = []
    last_end = 0  # where the previous markup ends: a phrase never reaches back past it
    pending: _Bare | None = None  # bare boxes waiting for more boxes of the same phrase
    joiners: list[tuple[int, int]] = []
    for item in found:
        dropped += item.dropped
        if (pending is not None and item.phrase is None and item.boxes
                and _BOX_JOINER.fullmatch(text, pending.end, item.start)):
            joiners.append((pending.end, item.start))  # ", and" between boxes goes with the markup
            pending.boxes.extend(item.boxes)
            pending.end = last_end = item.end
            continue
        if pending is not None:
            groundings.append(pending.grounding())
            pending = None
        if item.phrase is not None and item.boxes:
            start = item.start if item.span_start is None else item.span_start
            groundings.append(Grounding(" ".join(item.phrase.split()), tuple(item.boxes), span=(start, item.end)))
        elif item.phrase is None and item.boxes:
            phrase, phrase_start = preceding_noun_phrase(text, item.start, last_end)
            pending = _Bare(phrase, phrase_start, list(item.boxes), item.end)
        last_end = item.end
    if pending is not None:
        groundings.append(pending.grounding())
    # Enclosing ranges first at a shared start, so that they swallow what they enclose.
    cuts = sorted([(f.start, f.end, f.keep) for f in found] + [(s, e, "") for s, e in [*removals, *joiners]],
                  key=lambda cut: (cut[0], -cut[1]))
    return GroundedText(text=text, plain=plain_text(text, cuts), groundings=tuple(groundings), dropped=dropped)


@dataclass
class _Bare:
    phrase: str
    start: int
    boxes: list[Box]
    end: int

    def grounding(self) -> Grounding:
        return Grounding(self.phrase, tuple(self.boxes), span=(self.start, self.end))


def plain_text(text: str, cuts: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, keep)`` range replaced by ``keep``, spaces tidied: no space
    left before punctuation where markup was removed, words on both sides of removed markup kept
    apart, runs of spaces collapsed, ends stripped."""
    out: list[str] = []
    cursor = 0
    for start, end, keep in cuts:
        if start < cursor:  # inside an earlier, enclosing removal
            continue
        _append(out, text[cursor:start], joined=bool(out))
        if keep:
            _append(out, keep, joined=True)
        cursor = end
    _append(out, text[cursor:], joined=bool(out))
    plain = _SPACE_RUN.sub(" ", "".join(out))
    return _SPACE_BEFORE_NEWLINE.sub("\n", plain).strip()


def _append(out: list[str], segment: str, joined: bool) -> None:
    """Add a non-empty ``segment``; ``out`` never holds an empty piece, so its tail is ``out[-1]``."""
    if not segment:
        return
    if joined and out:
        tail = out[-1]
        if tail[-1] in " \t" and segment[0] in _CLOSERS:
            _strip_tail(out)
        elif tail[-1].isalnum() and segment[0].isalnum():
            out.append(" ")
    out.append(segment)


def _strip_tail(out: list[str]) -> None:
    while out:
        out[-1] = out[-1].rstrip(" \t")
        if out[-1]:
            return
        out.pop()
