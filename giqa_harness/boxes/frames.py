"""Frames: how a model saw the image, and the exact conversions between its view and the original.

A frame's coordinates are normalized to the frame's own image (the padded square, the crop, ...).
Formats turn their numbers into frame coordinates (dividing by a scale or by ``frame_size``); the
frame turns those into a `Box` of the original image. See docs/formats.md.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .geometry import Box

if TYPE_CHECKING:  # pillow is a core dependency, but keep import time small
    from PIL import Image

Coords = tuple[float, float, float, float]
ImageSize = tuple[int, int]


class Frame(ABC):
    """Base class: a view of the original image that a model's numbers refer to."""

    name: str = "frame"

    @abstractmethod
    def frame_size(self, image_size: ImageSize) -> ImageSize:
        """Pixel size of the image the model saw, before any resize that keeps proportions."""

    @abstractmethod
    def to_original(self, coords: Coords, image_size: ImageSize) -> Coords:
        """Frame-normalized corners -> original-normalized corners (not clipped)."""

    @abstractmethod
    def from_original(self, box: Box, image_size: ImageSize) -> Coords:
        """A `Box` of the original image -> frame-normalized corners."""

    def prepare_image(self, image: "Image.Image") -> "Image.Image":
        """The image as the model should receive it in this frame (before its own resize)."""
        return image

    def to_box(self, coords: Coords, image_size: ImageSize) -> Box | None:
        """Frame-normalized corners -> clipped `Box`, or None for NaN/inf. Corners are clipped to the
        frame first (the model saw nothing beyond it; for a centre crop that is not the image's edge),
        then to the original image (a padded square's padding)."""
        in_frame = Box.from_corners(*coords)
        return None if in_frame is None else Box.from_corners(*self.to_original(in_frame.as_tuple(), image_size))

    def describe(self) -> str:
        """A spec that `parse_frame` turns back into an equal frame (recorded in results.json)."""
        return self.name


class SameCoordinatesFrame(Frame):
    """A frame whose normalized coordinates are the original image's (only its pixel size may differ)."""

    def to_original(self, coords: Coords, image_size: ImageSize) -> Coords:
        return coords

    def from_original(self, box: Box, image_size: ImageSize) -> Coords:
        return box.as_tuple()

    def to_box(self, coords: Coords, image_size: ImageSize) -> Box | None:
        # Clipping once is enough: the conversion is the identity, and a clipped box clips to itself.
        # Parsers call this for every box they read.
        return Box.from_corners(*coords)


@dataclass(frozen=True)
class OriginalFrame(SameCoordinatesFrame):
    """The model squashed the whole image to its input size: numbers already describe the original."""

    name: str = "original"

    def frame_size(self, image_size: ImageSize) -> ImageSize:
        return image_size


@dataclass(frozen=True)
class PadSquareFrame(Frame):
    """The image pasted centred on an S x S square, S = max(W, H), before resizing.

    ``color`` is ``"white"``, ``"mean"`` (the per-channel mean of the image, as LLaVA does with the
    CLIP image mean) or an ``(r, g, b)`` triple; it only matters for `prepare_image`.
    """

    color: str | tuple[int, int, int] = "mean"
    mean_rgb: tuple[int, int, int] = (122, 116, 104)  # CLIP's image_mean x 255, what LLaVA pads with
    name: str = "pad_square"

    @staticmethod
    def _offsets(image_size: ImageSize) -> tuple[int, int, int]:
        w, h = image_size
        s = max(w, h)
        return s, (s - w) // 2, (s - h) // 2

    def frame_size(self, image_size: ImageSize) -> ImageSize:
        s = max(image_size)
        return (s, s)

    def to_original(self, coords: Coords, image_size: ImageSize) -> Coords:
        w, h = image_size
        s, dx, dy = self._offsets(image_size)
        u1, v1, u2, v2 = coords
        return ((u1 * s - dx) / w, (v1 * s - dy) / h, (u2 * s - dx) / w, (v2 * s - dy) / h)

    def from_original(self, box: Box, image_size: ImageSize) -> Coords:
        w, h = image_size
        s, dx, dy = self._offsets(image_size)
        return ((box.x1 * w + dx) / s, (box.y1 * h + dy) / s, (box.x2 * w + dx) / s, (box.y2 * h + dy) / s)

    def fill_rgb(self) -> tuple[int, int, int]:
        if self.color == "white":
            return (255, 255, 255)
        if self.color == "mean":
            return self.mean_rgb
        return tuple(self.color)  # type: ignore[return-value]

    def prepare_image(self, image: "Image.Image") -> "Image.Image":
        from PIL import Image

        w, h = image.size
        s, dx, dy = self._offsets((w, h))
        if w == h:
            return image
        canvas = Image.new(image.mode, (s, s), self.fill_rgb())
        canvas.paste(image, (dx, dy))
        return canvas

    def describe(self) -> str:
        return f"pad_square:{self.color if isinstance(self.color, str) else ','.join(map(str, self.color))}"


@dataclass(frozen=True)
class CenterCropFrame(Frame):
    """Shortest edge resized, then centre-cropped to a square: what the llava-hf processors default to.

    Anything outside the crop is invisible to the model; boxes there clip to the crop's edge.
    """

    name: str = "center_crop"

    @staticmethod
    def _crop(image_size: ImageSize) -> tuple[int, float, float]:
        w, h = image_size
        m = min(w, h)
        return m, (w - m) / 2, (h - m) / 2

    def frame_size(self, image_size: ImageSize) -> ImageSize:
        m = min(image_size)
        return (m, m)

    def to_original(self, coords: Coords, image_size: ImageSize) -> Coords:
        w, h = image_size
        m, cx, cy = self._crop(image_size)
        u1, v1, u2, v2 = coords
        return ((u1 * m + cx) / w, (v1 * m + cy) / h, (u2 * m + cx) / w, (v2 * m + cy) / h)

    def from_original(self, box: Box, image_size: ImageSize) -> Coords:
        w, h = image_size
        m, cx, cy = self._crop(image_size)
        return ((box.x1 * w - cx) / m, (box.y1 * h - cy) / m, (box.x2 * w - cx) / m, (box.y2 * h - cy) / m)

    def prepare_image(self, image: "Image.Image") -> "Image.Image":
        m, cx, cy = self._crop(image.size)
        left, top = int(round(cx)), int(round(cy))
        return image.crop((left, top, left + m, top + m))


@dataclass(frozen=True)
class ResizedFrame(SameCoordinatesFrame):
    """The image squashed to a fixed ``width`` x ``height`` input; a pixel format reads that size."""

    width: int = 0
    height: int = 0
    name: str = "resized"

    def frame_size(self, image_size: ImageSize) -> ImageSize:
        return (self.width, self.height)

    def describe(self) -> str:
        return f"resized:{self.width}x{self.height}"


# Qwen2.5-VL's processor defaults (qwen-vl-utils and the checkpoints' preprocessor_config.json).
QWEN_FACTOR = 28
QWEN_MIN_PIXELS = 4 * 28 * 28
QWEN_MAX_PIXELS = 16384 * 28 * 28


def smart_resize(image_size: ImageSize, factor: int = QWEN_FACTOR, min_pixels: int = QWEN_MIN_PIXELS,
                 max_pixels: int = QWEN_MAX_PIXELS) -> ImageSize:
    """Qwen2-VL / Qwen2.5-VL input size for an image: both sides multiples of ``factor``, the area
    rescaled into ``[min_pixels, max_pixels]``, the aspect ratio kept as closely as that allows.

    Qwen refuses aspect ratios above 200; here such sizes are computed anyway (never raises)."""
    w, h = max(1, int(image_size[0])), max(1, int(image_size[1]))
    h_bar = max(factor, round(h / factor) * factor)
    w_bar = max(factor, round(w / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        h_bar = max(factor, math.floor(h / beta / factor) * factor)
        w_bar = max(factor, math.floor(w / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        h_bar = math.ceil(h * beta / factor) * factor
        w_bar = math.ceil(w * beta / factor) * factor
    return (w_bar, h_bar)


@dataclass(frozen=True)
class SmartResizeFrame(Frame):
    """The whole image squashed to Qwen's smart-resize size (`smart_resize`), computed per image.

    Qwen2.5-VL writes boxes in pixels of that resized input; the proportions are the original's, so
    only a pixel format's divisor (`frame_size`) changes. Defaults are Qwen2.5-VL's own.
    """

    factor: int = QWEN_FACTOR
    min_pixels: int = QWEN_MIN_PIXELS
    max_pixels: int = QWEN_MAX_PIXELS
    name: str = "smart_resize"

    def frame_size(self, image_size: ImageSize) -> ImageSize:
        return smart_resize(image_size, self.factor, self.min_pixels, self.max_pixels)

    def to_original(self, coords: Coords, image_size: ImageSize) -> Coords:
        return coords

    def from_original(self, box: Box, image_size: ImageSize) -> Coords:
        return box.as_tuple()

    def describe(self) -> str:
        if (self.factor, self.min_pixels, self.max_pixels) == (QWEN_FACTOR, QWEN_MIN_PIXELS, QWEN_MAX_PIXELS):
            return "smart_resize"
        return f"smart_resize:{self.factor},{self.min_pixels},{self.max_pixels}"


def parse_frame(spec: str) -> Frame:
    """Frame from a short command-line spec: ``original``, ``pad_square``, ``pad_square:white``,
    ``pad_square:mean``, ``pad_square:R,G,B``, ``center_crop``, ``resized:WxH``, ``smart_resize``,
    ``smart_resize:FACTOR,MIN_PIXELS,MAX_PIXELS``."""
    from ..errors import ConfigError

    name, _, arg = spec.strip().partition(":")
    if name in ("original", "squash"):
        return OriginalFrame()
    if name in ("pad_square", "padded"):
        if not arg:
            return PadSquareFrame()
        if arg in ("white", "mean"):
            return PadSquareFrame(color=arg)
        try:
            r, g, b = (int(v) for v in arg.split(","))
        except ValueError:
            raise ConfigError(f"bad padding colour in frame {spec!r}: use white, mean or R,G,B") from None
        return PadSquareFrame(color=(r, g, b))
    if name == "center_crop":
        return CenterCropFrame()
    if name == "resized":
        try:
            w, h = (int(v) for v in arg.lower().split("x"))
        except ValueError:
            raise ConfigError(f"frame {spec!r} needs a size: resized:WxH") from None
        return ResizedFrame(width=w, height=h)
    if name == "smart_resize":
        if not arg:
            return SmartResizeFrame()
        try:
            factor, min_pixels, max_pixels = (int(v) for v in arg.split(","))
        except ValueError:
            raise ConfigError(f"frame {spec!r}: use smart_resize or smart_resize:FACTOR,MIN_PIXELS,MAX_PIXELS") from None
        if factor < 1 or not 0 < min_pixels <= max_pixels:
            raise ConfigError(f"frame {spec!r}: need FACTOR >= 1 and 0 < MIN_PIXELS <= MAX_PIXELS")
        return SmartResizeFrame(factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    raise ConfigError(
        f"unknown frame {spec!r}; use original, pad_square[:white|mean|R,G,B], center_crop, resized:WxH or "
        "smart_resize[:FACTOR,MIN_PIXELS,MAX_PIXELS]"
    )
