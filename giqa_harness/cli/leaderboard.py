"""``giqa-harness leaderboard RESULTS... -o leaderboard.csv [--markdown] [--reference]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from .helptext import command_parser


def main(argv: Sequence[str], command: str = "leaderboard") -> int:
    from ..errors import DatasetError
    from ..leaderboard import build_rows, finished_runs, to_csv, to_markdown
    from ..output import atomic_write_text

    p = command_parser("giqa-harness leaderboard", __doc__)
    p.add_argument("results", nargs="*", help="results.json files or run folders")
    p.add_argument("-o", "--output", type=Path, help="CSV file to write (default: print CSV)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table instead of CSV")
    p.add_argument("--reference", action="store_true", help="add the paper's published Table 5 rows")
    p.add_argument("--names", default="", help="comma-separated method names, one per results file")
    p.add_argument("--des_task", help="task read for the DES columns (default: the first *_des task)")
    p.add_argument("--vqa_task", help="task read for the VQA columns (default: the first *_vqa task)")
    p.add_argument("--no_ci", action="store_true", help="leave out the 95%% interval columns")
    p.add_argument("--complete-only", "--complete_only", dest="complete_only", action="store_true",
                   help="leave out values computed on part of their samples (failed answers or judgements)")
    p.add_argument("--extended", action="store_true",
                   help="add Tag-P, Tag-F1, mIoU (penalized) and boxes-per-answer columns after Table 5's")
    p.add_argument("--layout", choices=("table5", "score", "mcq"), default="table5",
                   help="table5: the paper's Table 5 (default); score: SRCC/PLCC per score dataset; "
                        "mcq: multiple-choice accuracy by type and concern (docs/score.md)")
    args = p.parse_args(list(argv))
    table5_only = [flag for flag, given in (("--reference", args.reference), ("--extended", args.extended),
                                            ("--des_task", args.des_task), ("--vqa_task", args.vqa_task)) if given]
    if args.layout != "table5" and table5_only:  # silently ignored, they would look applied
        p.error(f"{', '.join(table5_only)}: only for the Table 5 layout, not --layout {args.layout}")
    if not args.results and not args.reference:
        p.error("give at least one results file (or --reference for the published rows)")
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    paths, names, skipped = finished_runs(args.results, names)
    for line in skipped:
        print(f"giqa-harness leaderboard: warning: {line}", file=sys.stderr)
    if args.results and not paths:
        raise DatasetError("none of the given folders holds a results.json")
    left_out: list[str] = []  # runs without a task of this layout
    if args.layout == "table5":
        rows = build_rows(paths, names, args.reference, args.des_task, args.vqa_task, args.complete_only,
                          args.extended, left_out)
        markdown = to_markdown(rows, with_ci=not args.no_ci, extended=args.extended) if args.markdown else ""
        csv_text = to_csv(rows, with_ci=not args.no_ci, extended=args.extended)
    else:  # score or multiple-choice tasks (giqa_harness/score/board.py)
        from ..score import board

        columns, rows = board.build(args.layout, paths, names, args.complete_only, left_out)
        markdown = board.to_markdown(columns, rows, with_ci=not args.no_ci) if args.markdown else ""
        csv_text = board.to_csv(columns, rows, with_ci=not args.no_ci)
    for line in left_out:
        print(f"giqa-harness leaderboard: warning: {line}", file=sys.stderr)
    if args.markdown:
        print(markdown)
    if args.output:
        atomic_write_text(args.output, csv_text)
        print(f"wrote {args.output} ({len(rows)} rows)")
    elif not args.markdown:
        print(csv_text, end="")
    return 0
