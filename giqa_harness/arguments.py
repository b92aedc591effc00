"""Keyword arguments given on the command line (``--model_args``) checked against a constructor, so a
typo is named with the accepted arguments before anything loads, never as a bare ``TypeError``."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

from .errors import ConfigError


def accepted_arguments(fn: Callable[..., Any]) -> tuple[list[str], bool]:
    """The keyword arguments ``fn`` names, and whether it takes any others (``**kwargs``)."""
    names, open_ended = [], False
    for param in inspect.signature(fn).parameters.values():
        if param.name == "self":
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            open_ended = True
        elif param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.append(param.name)
    return names, open_ended


def check_arguments(what: str, fn: Callable[..., Any], given: Iterable[str]) -> None:
    """A `ConfigError` naming the unknown arguments and the accepted ones (nothing when ``fn`` takes
    ``**kwargs``: it checks its own, as the family adapters do)."""
    names, open_ended = accepted_arguments(fn)
    unknown = sorted(set(given) - set(names))
    if unknown and not open_ended:
        raise ConfigError(f"{what} has no argument {', '.join(unknown)}; it accepts: {', '.join(names) or 'none'}")


def describe_accepted(fn: Callable[..., Any]) -> str:
    names, open_ended = accepted_arguments(fn)
    return ", ".join(names) + (" and family-specific ones" if open_ended else "") if names else "none"
