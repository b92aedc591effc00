"""The `BoxFormat` interface: a named codec between a model's box syntax and `GroundedText`.

A format owns a *scale and syntax*; the `Frame` it carries owns the *geometry* (padding, cropping).
Adapters declare both; nothing guesses a scale from the size of the numbers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Sequence

from ..frames import Frame, ImageSize, OriginalFrame
from ..geometry import Box
from ..grounded import GroundedText, Grounding


class BoxFormat(ABC):
    """Base class of every box format.

    Subclasses set ``name``, ``syntax`` (an example of the markup), ``scale`` (what the numbers mean)
    and ``default_frame``; they implement `parse` and `render_boxes`.
    """

    name: ClassVar[str]
    syntax: ClassVar[str]
    scale: ClassVar[str]
    emits_phrases: ClassVar[bool] = False  # True when the markup names its phrase explicitly

    def __init__(self, frame: Frame | None = None) -> None:
        self.frame = frame if frame is not None else self.default_frame()

    @classmethod
    def default_frame(cls) -> Frame:
        return OriginalFrame()

    def with_frame(self, frame: Frame) -> "BoxFormat":
        return type(self)(frame=frame)

    @abstractmethod
    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        """Read every grounding in ``text``. Never raises: malformed boxes are dropped and counted."""

    @abstractmethod
    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        """The boxes alone, in this format's syntax and frame (for referring questions)."""

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        """A phrase with its boxes, as this model would write it. Bare-box formats put the boxes after
        the phrase; formats with phrase markup override this."""
        return f"{grounding.phrase} {self.render_boxes(grounding.boxes, image_size)}"

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "syntax": self.syntax, "scale": self.scale, "frame": self.frame.describe()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(frame={self.frame.describe()})"


def rerender(text: str, source: BoxFormat, target: BoxFormat, image_size: ImageSize) -> tuple[str, GroundedText]:
    """Rewrite every grounding of ``text`` (written in ``source``) into ``target``'s syntax and frame.

    Used to show a benchmark question, stored in the canonical grid syntax, to each model in its own
    syntax. Returns the new text and the parsed source groundings (original-frame boxes).
    """
    parsed = source.parse(text, image_size)
    pieces: list[str] = []
    cursor = 0
    for grounding in parsed.groundings:
        if grounding.span is None:
            continue
        start, end = grounding.span
        pieces.append(text[cursor:start])
        pieces.append(target.render(grounding, image_size))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), parsed
