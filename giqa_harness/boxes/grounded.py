"""`GroundedText`: a model answer (or a reference) with its box markup understood."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .geometry import Box


@dataclass(frozen=True)
class Grounding:
    """One phrase and the boxes that point at it.

    ``span`` is the ``(start, end)`` character range of the whole markup (phrase and boxes) in the raw
    text, when the format knows it: used to re-render questions and to highlight answers.
    """

    phrase: str
    boxes: tuple[Box, ...]
    span: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"phrase": self.phrase, "boxes": [list(b.as_tuple()) for b in self.boxes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Grounding":
        return cls(phrase=str(data["phrase"]), boxes=tuple(Box(*map(float, b)) for b in data["boxes"]))


@dataclass(frozen=True)
class GroundedText:
    """The raw text, its groundings, and ``plain`` (the text with box markup removed).

    ``dropped`` counts malformed boxes a parser skipped (never an exception on model output).
    """

    text: str
    plain: str
    groundings: tuple[Grounding, ...] = ()
    dropped: int = 0
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def boxes(self) -> list[Box]:
        return [b for g in self.groundings for b in g.boxes]

    @property
    def has_boxes(self) -> bool:
        return any(g.boxes for g in self.groundings)

    def to_json(self) -> dict[str, Any]:
        return {
            "plain": self.plain,
            "groundings": [g.to_json() for g in self.groundings],
            "dropped": self.dropped,
        }
