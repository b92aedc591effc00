"""``giqa-harness report RUN_DIR [RUN_DIR...] -o report.html [--plots DIR]``.

One self-contained HTML file: per sample, the image with predicted and reference boxes, the question,
the answer with its groundings highlighted, the reference and the scores; filters and sorting; with
several runs, the same sample side by side. Needs runs logged with ``--log_samples``. An existing
output file is kept unless ``--force`` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .helptext import command_parser


def main(argv: Sequence[str], command: str = "report") -> int:
    from ..errors import ConfigError
    from ..output import atomic_write_text
    from ..report import build_report, load_run
    from ..report.charts import write_pngs

    p = command_parser("giqa-harness report", __doc__)
    p.add_argument("runs", nargs="+", type=Path, help="run folders (--output_path of runs made with --log_samples)")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"), help="HTML file to write")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.add_argument("--names", default="", help="comma-separated labels, one per run")
    p.add_argument("--plots", type=Path, help="also write the summary charts as PNG files into this folder")
    p.add_argument("--max_image_side", type=int, default=480, help="embedded images are shrunk to this size")
    args = p.parse_args(list(argv))
    if args.output.exists() and not args.force:  # an earlier report is often the one being compared with
        raise ConfigError(f"{args.output} exists; pass --force to overwrite it, or -o NEW.html")
    names = [n.strip() for n in args.names.split(",")] if args.names else []
    runs = [load_run(folder, names[i] if i < len(names) else None) for i, folder in enumerate(args.runs)]
    atomic_write_text(args.output, build_report(runs, args.max_image_side))
    print(f"wrote {args.output}")
    if args.plots:
        for png in write_pngs(runs, args.plots):
            print(f"wrote {png}")
    return 0
