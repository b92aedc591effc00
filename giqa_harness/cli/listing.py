"""``giqa-harness list models|tasks|formats|detectors`` and ``giqa-harness plugins``. Never imports torch."""

from __future__ import annotations

import argparse
import json
from typing import Sequence


def _table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows])


def list_models() -> str:
    from ..plugins import registry

    rows = []
    for entry in registry().models.entries():
        cls = entry.value
        ok, why = cls.can_load()
        boxes = cls.frame_summary() if getattr(cls, "emits_boxes", True) else "(no boxes)"
        rows.append([entry.name, boxes, "yes" if ok else f"no: {why}", entry.plugin, getattr(cls, "description", "")])
    return _table(rows, ["model", "box format / frame", "loads here", "plugin", "description"])


def list_tasks() -> str:
    from ..task import task_index

    index = task_index()
    from ..score.spec import listed_metrics

    rows = [[t.name, "task", str(t.version), ",".join([m.name for m in t.metrics] or listed_metrics(t.scoring)),
             t.description[:70]] for t in index.tasks.values()]
    rows += [[g.name, "group", "", ",".join(g.tasks), g.description[:70]] for g in index.groups.values()]
    out = _table(sorted(rows), ["name", "type", "version", "metrics / tasks", "description"])
    if index.errors:
        out += "\n\nTask files with errors (skipped):\n" + "\n".join(f"  {e}" for e in index.errors)
    return out


def list_formats() -> str:
    from ..plugins import registry

    rows = []
    for entry in registry().formats.entries():
        cls = entry.value
        rows.append([entry.name, cls.scale, cls.default_frame().describe(), cls.syntax])
    return _table(rows, ["format", "scale", "default frame", "syntax"])


def list_detectors() -> str:
    from ..plugins import registry

    rows = [[e.name, e.plugin, (e.value.__doc__ or "").strip().splitlines()[0] if e.value.__doc__ else ""]
            for e in registry().detectors.entries()]
    return _table(rows, ["detector", "plugin", "description"])


def list_plugins(as_json: bool = False) -> str:
    from ..plugins import registry

    reg = registry()
    if as_json:
        return json.dumps([vars(p) for p in reg.plugins.values()], indent=2, default=str)
    rows = []
    for info in sorted(reg.plugins.values(), key=lambda p: p.name):
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in info.registered.items()) or "-"
        status = f"FAILED: {info.error}" if info.error else "ok"
        rows.append([info.name, info.version or "-", status, what])
    return _table(rows, ["plugin", "version", "status", "registered"])


def main(argv: Sequence[str], command: str = "list") -> int:
    if command == "plugins":
        p = argparse.ArgumentParser(prog="giqa-harness plugins", description="List loaded plugins.")
        p.add_argument("--json", action="store_true")
        args = p.parse_args(list(argv))
        print(list_plugins(args.json))
        return 0
    p = argparse.ArgumentParser(prog="giqa-harness list", description="List registered components.")
    listings = {"models": list_models, "tasks": list_tasks, "formats": list_formats, "detectors": list_detectors}
    p.add_argument("what", choices=list(listings))
    args = p.parse_args(list(argv))
    print(listings[args.what]())
    return 0
