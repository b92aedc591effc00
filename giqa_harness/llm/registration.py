"""Registers the built-in LLM backend schemes (judges, annotation) through the plugin hook."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_judges(register):
    pass
