"""Box formats: one module per family of syntaxes, registered through the `register_box_formats` hook.

Look formats up with `get_format`, which goes through the plugin registry so that third-party
formats are peers of the built-in ones.
"""

from __future__ import annotations

from typing import Any

from ..frames import Frame
from .base import BoxFormat, FormatOption, rerender
from .grid import GridFormat

CANONICAL_FORMAT = "giqa_grid"  # the syntax benchmark files store boxes in


def get_format(name: str, frame: Frame | str | None = None, **options: Any) -> BoxFormat:
    """A registered format by name, with its default frame or the one given (a `Frame` or a spec),
    and its options (``decimals=3``, ...; an unknown option is a `ConfigError`)."""
    from ...plugins import registry
    from ..frames import parse_frame

    cls = registry().formats.get(name)
    if isinstance(frame, str):
        frame = parse_frame(frame)
    return cls(frame=frame, **options)


def format_from_description(description: dict[str, Any]) -> BoxFormat:
    """The format a results.json ``model.box_format`` entry (`BoxFormat.describe`) records."""
    return get_format(description["name"], description.get("frame"), **(description.get("options") or {}))


__all__ = ["BoxFormat", "CANONICAL_FORMAT", "FormatOption", "GridFormat", "format_from_description", "get_format",
           "rerender"]
