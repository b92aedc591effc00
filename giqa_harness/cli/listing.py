"""``giqa-harness list models|tasks|formats|detectors`` and ``giqa-harness plugins``. Never imports torch."""

from __future__ import annotations

import json
import textwrap
from typing import Sequence

from .helptext import command_parser


def _table(rows: list[list[str]], head: list[str], width: int | None = None) -> str:
    """Columns padded to their widest cell. With ``width``, cells are cut (with "…") until each line
    fits: the last column (the description) first, then long middle columns, then whatever is widest."""
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    if width is not None:
        floor = [widths[0]] + [min(w, max(len(h), MIN_COLUMN)) for w, h in zip(widths[1:], head[1:])]  # names: never cut
        room = width - 2 * (len(widths) - 1)

        def shrink(i: int, to: int) -> None:  # towards `to`, no further than the line needs
            excess = sum(widths) - room
            widths[i] = max(floor[i], min(widths[i], max(to, widths[i] - excess)))

        shrink(-1, LAST_COLUMN_KEEPS)
        for i in range(1, len(widths) - 1):
            if sum(widths) > room:
                shrink(i, MIDDLE_COLUMN_KEEPS)
        shrink(-1, 0)
        while sum(widths) > room:
            shrinkable = [i for i, w in enumerate(widths) if w > floor[i]]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*(cut(str(c), w) for c, w in zip(r, widths))) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


MIN_COLUMN = 8
LAST_COLUMN_KEEPS = 30  # a description cut to this much still says something...
MIDDLE_COLUMN_KEEPS = 24  # ...so long middle cells are cut to this before it is cut further


def cut(text: str, width: int) -> str:
    """``text`` in ``width`` characters: whole words where possible, "…" when anything was left out."""
    if len(text) <= width:
        return text
    head = text[: width - 1]
    if " " in head[width // 2 :]:  # end at a word, unless that would lose most of the cell
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:(") + "…"


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` when set; 100 when not a terminal, e.g. a pipe or a file)."""
    import shutil

    return shutil.get_terminal_size(fallback=(100, 24)).columns


def list_models(verbose: bool = False) -> str:
    from ..plugins import registry

    rows, installs = [], []
    for entry in registry().models.entries():
        cls = entry.value
        ok, why = cls.can_load()
        boxes = cls.frame_summary() if getattr(cls, "emits_boxes", True) else "(no boxes)"
        # can_load says "missing X (install command)": the install command is only shown with -v
        loads = "yes" if ok else f"no: {why.split(' (', 1)[0]}"
        plugin = [entry.plugin] if verbose else []  # built-ins are each their own plugin: noise when short
        rows.append([entry.name, boxes, loads, *plugin, getattr(cls, "description", "")])
        if not ok:
            installs.append(f"  {entry.name}: {cls.install}")
    if verbose:
        out = _table(rows, MODEL_HEAD)
        return out + ("\n\nto install:\n" + "\n".join(installs) if installs else "")
    out = _table(rows, [h for h in MODEL_HEAD if h != "plugin"], terminal_width())
    return out + ("\n\nwhat to install for the models marked no: giqa-harness list models -v" if installs else "")


MODEL_HEAD = ["model", "box format / frame", "loads here", "plugin", "description"]


def list_tasks(verbose: bool = False) -> str:
    from ..task import task_index

    index = task_index()
    from ..score.spec import listed_metrics

    rows = [[t.name, "task", str(t.version), ",".join([m.name for m in t.metrics] or listed_metrics(t.scoring)),
             t.description] for t in index.tasks.values()]
    rows += [[g.name, "group", "", ",".join(g.tasks), g.description] for g in index.groups.values()]
    out = _table(sorted(rows), ["name", "type", "version", "metrics / tasks", "description"],
                 None if verbose else terminal_width())
    if index.errors:
        out += "\n\nTask files with errors (skipped):\n" + "\n".join(f"  {e}" for e in index.errors)
    return out


def list_formats(verbose: bool = False) -> str:
    """The columns of docs/formats.md's table, from the registry (plugins included)."""
    from ..plugins import registry

    rows = []
    for entry in registry().formats.entries():
        cls = entry.value
        fmt = cls()
        options = ", ".join(f"{k}={_option_text(v)}" for k, v in fmt.settings.items()) or "-"
        error = max(fmt.round_trip_error(ROUND_TRIP_SIZE))
        rows.append([entry.name, cls.syntax, cls.scale, cls.default_frame().describe(), options, f"{error:.2g}"])
    head = ["format", "syntax", "scale", "default frame", "options", "round-trip error"]
    width = None if verbose else terminal_width()
    note = (f"round-trip error: the most a corner moves through render and parse, for a "
            f"{ROUND_TRIP_SIZE[0]}x{ROUND_TRIP_SIZE[1]} image (docs/formats.md)")
    return _table(rows, head, width) + "\n\n" + (textwrap.fill(note, width) if width else note)


ROUND_TRIP_SIZE = (640, 480)


def _option_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def list_detectors(verbose: bool = False) -> str:
    from ..plugins import registry

    rows = [[e.name, e.plugin, (e.value.__doc__ or "").strip().splitlines()[0] if e.value.__doc__ else ""]
            for e in registry().detectors.entries()]
    return _table(rows, ["detector", "plugin", "description"], None if verbose else terminal_width())


def list_plugins(as_json: bool = False, verbose: bool = False) -> str:
    from ..plugins import registry

    reg = registry()
    if as_json:
        return json.dumps([vars(p) for p in reg.plugins.values()], indent=2, default=str)
    rows, failures = [], []
    for info in sorted(reg.plugins.values(), key=lambda p: p.name):
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in info.registered.items()) or "-"
        rows.append([info.name, info.version or "-", "FAILED" if info.error else "ok", what])
        if info.error:  # in full below the table: a cut reason would not help
            failures.append(f"  {info.name}: FAILED: {info.error}")
    out = _table(rows, ["plugin", "version", "status", "registered"], None if verbose else terminal_width())
    return out + ("\n\nplugins that failed to load (skipped):\n" + "\n".join(failures) if failures else "")


def main(argv: Sequence[str], command: str = "list") -> int:
    if command == "plugins":
        p = command_parser("giqa-harness plugins", "List loaded plugins, their versions and what each registered.")
        p.add_argument("--json", action="store_true", help="print the plugins as JSON")
        p.add_argument("-v", "--verbose", action="store_true", help="full lines, not cut to the terminal width")
        args = p.parse_args(list(argv))
        print(list_plugins(args.json, args.verbose))
        return 0
    p = command_parser("giqa-harness list", "List registered components; lines are cut to the terminal width "
                       "(`-v`: in full, with what to install).")
    listings = {"models": list_models, "tasks": list_tasks, "formats": list_formats, "detectors": list_detectors}
    p.add_argument("what", choices=list(listings))
    p.add_argument("-v", "--verbose", action="store_true", help="full lines and install commands")
    args = p.parse_args(list(argv))
    print(listings[args.what](args.verbose))
    return 0
