"""Box geometry, frames, grounded text and box formats. Pure Python, no heavy imports."""

from .frames import (
    CenterCropFrame,
    Frame,
    OriginalFrame,
    PadSquareFrame,
    ResizedFrame,
    SmartResizeFrame,
    parse_frame,
)
from .geometry import WHOLE_IMAGE, Box, enclosing_box, intersection_area, iou
from .grounded import GroundedText, Grounding

__all__ = [
    "Box",
    "CenterCropFrame",
    "Frame",
    "GroundedText",
    "Grounding",
    "OriginalFrame",
    "PadSquareFrame",
    "ResizedFrame",
    "SmartResizeFrame",
    "WHOLE_IMAGE",
    "enclosing_box",
    "intersection_area",
    "iou",
    "parse_frame",
]
