"""The ``giqa-harness`` command line.

``giqa-harness --model NAME --tasks a,b ...`` runs an evaluation (lmms-eval's flag vocabulary);
sub-commands cover the rest. Each sub-command lives in its own module, imported only when used, so
``--help`` and ``list`` never import torch.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Sequence

from ..errors import GiqaError

# name -> (module under giqa_harness.cli, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "evaluate a model on tasks (the default when the first argument is a flag)"),
    "list": ("listing", "list registered models, tasks, box formats or detectors"),
    "plugins": ("listing", "list loaded plugins, their versions and what each registered"),
    "validate": ("validate", "check task YAML files (schema, metrics, helpers, data)"),
    "parse": ("parse", "parse a model answer into boxes (or --render boxes into a model's syntax)"),
    "leaderboard": ("leaderboard", "collect results.json files into a CSV/Markdown table like the paper's Table 5"),
    "rescore": ("rescore", "re-score logged samples without running any model"),
    "report": ("report", "render an HTML report with predicted and reference boxes"),
    "annotate": ("annotate", "build GIQA training data from images and quality descriptions"),
    "train": ("train", "fine-tune an entrant on annotated data from a recipe"),
    "export-lmms-tasks": ("lmms_export", "write GIQA tasks as an lmms-eval --include_path folder"),
}


def usage() -> str:
    from .run import build_parser

    width = max(len(n) for n in COMMANDS)
    lines = [build_parser().format_help().rstrip(), "", "commands:"]
    lines += [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `giqa-harness COMMAND --help` for a command's options."]
    return "\n".join(lines)


def unknown_command(word: str) -> str:
    """``giqa-harness lst``: name the mistake, not the flags a run would need."""
    import difflib

    close = difflib.get_close_matches(word, list(COMMANDS), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return (f"giqa-harness: error: unknown command {word!r}{hint}\n"
            f"commands: {', '.join(COMMANDS)}; a run starts with a flag: giqa-harness --model NAME --tasks ...")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # The reader went away (`giqa-harness list models | head`, `giqa-harness --help | head`): stop
        # quietly, as shell tools do, and point stdout at /dev/null so the interpreter's final flush does
        # not raise again.
        try:
            fd = sys.stdout.fileno()
        except (OSError, ValueError):  # stdout is not a real file (tests, notebooks)
            return 141
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
        return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args[0] == "--version":
        from .. import __version__

        print(f"giqa-harness {__version__}")
        return 0
    if not args[0].startswith("-") and args[0] not in COMMANDS:
        print(unknown_command(args[0]), file=sys.stderr)
        return 2
    command = args[0] if args[0] in COMMANDS else "run"
    rest = args[1:] if args[0] in COMMANDS else args
    if not rest and command == "run" and args[0] not in COMMANDS:
        print(usage())
        return 0
    module = importlib.import_module(f"{__name__}.{COMMANDS[command][0]}")
    try:
        return int(module.main(rest, command=command) or 0)
    except GiqaError as exc:
        print(f"giqa-harness {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # commands that can resume (run, annotate) say how themselves
        return 130
