"""The `BoxFormat` interface: a named codec between a model's box syntax and `GroundedText`.

A format owns a *scale and syntax*; the `Frame` it carries owns the *geometry* (padding, cropping).
Adapters declare both; nothing guesses a scale from the size of the numbers.

Formats may declare ``options`` (how boxes are *written*, e.g. the number of decimals): values are
checked against the declared defaults' types, kept by `with_frame` and recorded by `describe`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from ..frames import Frame, ImageSize, OriginalFrame
from ..geometry import Box
from ..grounded import GroundedText, Grounding


@dataclass(frozen=True)
class FormatOption:
    """One option of a format: its default (whose type values must have) and what it does."""

    default: Any
    help: str


class BoxFormat(ABC):
    """Base class of every box format.

    Subclasses set ``name``, ``syntax`` (an example of the markup), ``scale`` (what the numbers mean),
    ``quantum`` (the largest error, in frame-normalized units, that a render -> parse round trip may
    add to a corner) and ``default_frame``; they implement `parse` and `render_boxes`.
    """

    name: ClassVar[str]
    syntax: ClassVar[str]
    scale: ClassVar[str]
    quantum: ClassVar[float] = 0.0
    emits_phrases: ClassVar[bool] = False  # True when the markup names its phrase explicitly
    options: ClassVar[Mapping[str, FormatOption]] = {}

    def __init__(self, frame: Frame | None = None, **options: Any) -> None:
        self.frame = frame if frame is not None else self.default_frame()
        self.settings: dict[str, Any] = {key: _checked(self, key, options.pop(key, opt.default), opt.default)
                                         for key, opt in self.options.items()}
        if options:
            from ...errors import ConfigError

            known = ", ".join(sorted(self.options)) or "none"
            raise ConfigError(f"box format {self.name!r} has no option {', '.join(sorted(options))}; its options: {known}")

    @classmethod
    def default_frame(cls) -> Frame:
        return OriginalFrame()

    def with_frame(self, frame: Frame) -> "BoxFormat":
        return type(self)(frame=frame, **self.settings)

    @abstractmethod
    def parse(self, text: str, image_size: ImageSize) -> GroundedText:
        """Read every grounding in ``text``. Never raises: malformed boxes are dropped and counted."""

    @abstractmethod
    def render_boxes(self, boxes: Sequence[Box], image_size: ImageSize) -> str:
        """The boxes alone, in this format's syntax and frame (for referring questions)."""

    def render(self, grounding: Grounding, image_size: ImageSize) -> str:
        """A phrase with its boxes, as this model would write it. Bare-box formats put the boxes after
        the phrase; formats with phrase markup override this."""
        return f"{grounding.phrase} {self.render_boxes(grounding.boxes, image_size)}".strip()

    def round_trip_error(self, image_size: ImageSize) -> tuple[float, float]:
        """Largest x and y error (frame-normalized) of render -> parse; pixel formats override it."""
        return (self.quantum, self.quantum)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "syntax": self.syntax, "scale": self.scale,
                               "frame": self.frame.describe()}
        if self.settings:
            out["options"] = dict(self.settings)
        return out

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.settings.items())
        return f"{type(self).__name__}(frame={self.frame.describe()}{extra})"


def _checked(fmt: BoxFormat, key: str, value: Any, default: Any) -> Any:
    """``value`` if it has the default's type (ints pass for floats), else a `ConfigError`."""
    expected = type(default)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        from ...errors import ConfigError

        raise ConfigError(f"box format {fmt.name!r}: option {key!r} must be {expected.__name__}, got {value!r}")
    return value


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
