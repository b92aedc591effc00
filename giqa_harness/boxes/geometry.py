"""`Box`: the one coordinate system of the harness.

A box is normalized corner coordinates ``(x1, y1, x2, y2)`` in ``[0, 1]`` relative to the *original*
image, with ``x1 <= x2`` and ``y1 <= y2``. Nothing else crosses a module boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.x1, self.y1, self.x2, self.y2
        # The common case (floats in order, as every parser builds them) without building tuples: the
        # scorer makes hundreds of thousands of boxes. NaN fails the comparisons and takes the full check.
        if (type(x1) is float and type(y1) is float and type(x2) is float and type(y2) is float
                and 0.0 <= x1 <= x2 <= 1.0 and 0.0 <= y1 <= y2 <= 1.0):
            return
        values = (x1, y1, x2, y2)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            raise ValueError(f"Box corners must be finite numbers in [0, 1], got {values}")
        if self.x1 > self.x2 or self.y1 > self.y2:
            raise ValueError(f"Box corners must satisfy x1 <= x2 and y1 <= y2, got {values}")

    @classmethod
    def from_corners(cls, x1: float, y1: float, x2: float, y2: float) -> "Box | None":
        """Forgiving constructor for model output: swaps reversed corners and clips to [0, 1].

        Returns None when any value is NaN or infinite (such a box carries no position).
        """
        if not (isinstance(x1, _NUMBER) and isinstance(y1, _NUMBER) and isinstance(x2, _NUMBER)
                and isinstance(y2, _NUMBER) and math.isfinite(x1) and math.isfinite(y1)
                and math.isfinite(x2) and math.isfinite(y2)):
            return None
        # Clipped to [0, 1] inline (parsers build several boxes per answer through here).
        x1 = 0.0 if x1 <= 0.0 else (1.0 if x1 >= 1.0 else float(x1))
        y1 = 0.0 if y1 <= 0.0 else (1.0 if y1 >= 1.0 else float(y1))
        x2 = 0.0 if x2 <= 0.0 else (1.0 if x2 >= 1.0 else float(x2))
        y2 = 0.0 if y2 <= 0.0 else (1.0 if y2 >= 1.0 else float(y2))
        if x1 > x2:
            x1, x2 = x2, x1
        if y1 > y2:
            y1, y2 = y2, y1
        return cls(x1, y1, x2, y2)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def to_pixels(self, image_size: tuple[int, int]) -> tuple[float, float, float, float]:
        w, h = image_size
        return (self.x1 * w, self.y1 * h, self.x2 * w, self.y2 * h)


_NUMBER = (int, float)


def intersection_area(a: Box, b: Box) -> float:
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    return w * h if w > 0 and h > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union. Two zero-area boxes have IoU 0 (nothing overlaps)."""
    inter = intersection_area(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def enclosing_box(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    if not boxes:
        raise ValueError("enclosing_box needs at least one box")
    return Box(min(b.x1 for b in boxes), min(b.y1 for b in boxes), max(b.x2 for b in boxes), max(b.y2 for b in boxes))


WHOLE_IMAGE = Box(0.0, 0.0, 1.0, 1.0)
