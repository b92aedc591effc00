"""``giqa-harness rescore RUN_DIR [--judge SPEC] [--output_path DIR] [--to_replay FILE]``.

Re-score a run logged with ``--log_samples`` without running any model (e.g. to add a judge later),
or turn its logs into a replay file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .helptext import command_parser


def main(argv: Sequence[str], command: str = "rescore") -> int:
    from ..leaderboard import format_run_table, load_results
    from ..models import parse_model_args
    from ..rescore import log_to_replay, rescore_run
    from .run import exit_status

    p = command_parser("giqa-harness rescore", __doc__)
    p.add_argument("run_dir", type=Path, help="an --output_path folder written with --log_samples")
    p.add_argument("--output_path", type=Path, help="where to write the new results (default: RUN_DIR)")
    p.add_argument("--judge", help="judge for LLM-scored metrics (hf:PATH, openai:MODEL@URL, vllm:PATH; "
                                    "default: the run's own judge and its non-secret --judge_args)")
    p.add_argument("--judge_args", default="", help="judge options as k=v,...")
    p.add_argument("--seed", type=int, help="seed for bootstrap intervals (default: the run's)")
    p.add_argument("--bootstrap", type=int, help="bootstrap resamples for 95%% intervals (default: the run's)")
    p.add_argument("--to_replay", type=Path, help="write the logged answers as a replay JSONL instead")
    args = p.parse_args(list(argv))
    if args.to_replay:
        n, left_out = log_to_replay(args.run_dir, args.to_replay)
        declared = ((load_results(args.run_dir).get("model") or {}).get("box_format") or {}).get("name", "...")
        print(f"wrote {n} answers to {args.to_replay} (use --model replay --model_args "
              f"path={args.to_replay},box_format={declared})")
        if left_out:
            print(f"left out {left_out} answers given by choice likelihood: a replay answers by generation only")
        return 0
    results = rescore_run(args.run_dir, args.output_path, args.judge, parse_model_args(args.judge_args),
                          args.seed, args.bootstrap)
    print(format_run_table(results))
    return exit_status(results)
