"""Registers the built-in metrics through the same hook a third-party plugin uses."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_metrics(register):
    pass
