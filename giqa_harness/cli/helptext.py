"""Help text for every sub-command: module docstrings shown as plain text, defaults shown.

Docstrings are written in reST (``code``) for the API docs; ``--help`` shows them with single
backticks, the way the README writes commands. Every option with a meaningful default says it, unless
its help already does.
"""

from __future__ import annotations

import argparse
import re

_DOUBLE_BACKTICKS = re.compile(r"``(.+?)``", re.DOTALL)


def plain(doc: str | None) -> str:
    """A module docstring for ``--help``: ``x`` -> `x`."""
    return _DOUBLE_BACKTICKS.sub(r"`\1`", (doc or "").strip())


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (they are already wrapped); ``(default: X)`` after each option's help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default is argparse.SUPPRESS or default in ("", [])
        if unset or "default" in text.lower() or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def command_parser(prog: str, doc: str | None, **kwargs: object) -> argparse.ArgumentParser:
    """The ``ArgumentParser`` of one sub-command, described by its module docstring."""
    return argparse.ArgumentParser(prog=prog, description=plain(doc), formatter_class=HelpFormatter, **kwargs)  # type: ignore[arg-type]
