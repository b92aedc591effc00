"""Registers the built-in box formats through the same hook a third-party plugin uses."""

from __future__ import annotations

from ...hookspecs import hookimpl
from .grid import GridFormat


@hookimpl
def register_box_formats(register):
    register(GridFormat)
