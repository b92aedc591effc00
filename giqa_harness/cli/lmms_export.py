"""``giqa-harness export-lmms-tasks DIR [--tasks giqa_synth_des,...] [--limit N] [--model_format NAME=FORMAT:FRAME]``.

Writes a folder for ``lmms-eval --include_path DIR``: the GIQA tasks scored by giqa-harness's own
parsing and metrics. lmms-eval's environment needs giqa-harness installed (``pip install giqa-harness``
there); see docs/lmms.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .helptext import command_parser


def parse_model_format(item: str) -> tuple[str, tuple[str, str, bool]]:
    """``llava_hf=llava15:center_crop`` (``:none`` as the format marks a model without boxes)."""
    name, sep, rest = item.partition("=")
    fmt, _, frame = rest.partition(":")
    if not sep or not name or not fmt:
        raise ConfigError(f"--model_format {item!r}: expected LMMS_MODEL=FORMAT[:FRAME]")
    if fmt == "none":
        return name, ("giqa_grid", "original", False)
    return name, (fmt, frame or "original", True)


def main(argv: Sequence[str], command: str = "export-lmms-tasks") -> int:
    from ..interop.lmms_tasks import MODEL_FORMATS, export_lmms_tasks

    p = command_parser("giqa-harness export-lmms-tasks", __doc__)
    p.add_argument("folder", type=Path, help="folder to write (pass it to lmms-eval as --include_path)")
    p.add_argument("--tasks", default="giqa_synth", help="tasks or groups to export (default: giqa_synth)")
    p.add_argument("--limit", type=int, help="only the first N docs of each task")
    p.add_argument("--model_format", action="append", default=[],
                   help="map an lmms-eval model name to a box format and frame, e.g. llava_hf=llava15:center_crop")
    args = p.parse_args(list(argv))
    extra = dict(parse_model_format(item) for item in args.model_format)
    written = export_lmms_tasks(args.folder, [t.strip() for t in args.tasks.split(",") if t.strip()], args.limit, extra)
    for path in written:
        print(f"wrote {path}")
    known = ", ".join(sorted(set(MODEL_FORMATS) | set(extra)))
    print(f"box formats are chosen per lmms-eval model name ({known}; others use 'default')")
    print(f"run: lmms-eval --model MODEL --model_args ... --tasks {','.join(p.stem for p in written)} --include_path {args.folder}")
    return 0
