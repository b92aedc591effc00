"""``giqa-harness --model NAME --model_args k=v,... --tasks a,b [...]``: run an evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ..models import parse_model_args


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="giqa-harness",
        description="Evaluate a multimodal model on grounding image-quality assessment tasks.",
        epilog="Example: giqa-harness --model classical --tasks giqa_synth --output_path out/ --log_samples\n\n"
               "Exit status: 0; 1 when a task failed, has no scored sample or a metric failed on every\n"
               "sample (the outputs are still written); 2 on a usage or data error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="registered model adapter (see `giqa-harness list models`)")
    p.add_argument("--model_args", default="", help="adapter arguments as k=v,k2=v2 (e.g. pretrained=PATH)")
    p.add_argument("--tasks", required=True, help="comma-separated tasks or groups (see `giqa-harness list tasks`)")
    p.add_argument("--batch_size", type=int, default=1, help="requests per generate() call (results do not depend on it)")
    p.add_argument("--limit", type=int, default=None, help="only the first N docs of each task")
    p.add_argument("--output_path", type=Path, default=None, help="folder for results.json, samples and the resume cache")
    p.add_argument("--log_samples", action="store_true", help="also write samples_<task>.jsonl")
    p.add_argument("--judge", default=None, help="judge LLM for LLM-Score and Acc(W): hf:PATH, openai:MODEL@URL, vllm:PATH")
    p.add_argument("--judge_args", default="", help="judge options as k=v,... (e.g. concurrency=8,timeout=60)")
    p.add_argument("--seed", type=int, default=0, help="seed for the bootstrap intervals (built-in tasks generate greedily)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--cache", type=Path, default=None, help="response cache file (default: OUTPUT_PATH/cache.sqlite)")
    p.add_argument("--no_cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--no_progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the whole results document as JSON")
    return p


def exit_status(results: dict[str, Any], quiet: bool = False) -> int:
    """0, or `EXIT_PROBLEMS` after printing which task and metric (the outputs are written either way)."""
    from ..run_status import EXIT_PROBLEMS, format_problems

    problems = results.get("problems") or []
    if not problems:
        return 0
    print(format_problems(problems), file=sys.stderr if quiet else sys.stdout)
    return EXIT_PROBLEMS


def main(argv: Sequence[str], command: str = "run") -> int:
    from ..evaluator import RunConfig, evaluate
    from ..leaderboard import format_run_table

    args = build_parser().parse_args(list(argv))
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    config = RunConfig(
        model=args.model,
        model_args=parse_model_args(args.model_args),
        tasks=tasks,
        batch_size=args.batch_size,
        limit=args.limit,
        output_path=args.output_path,
        log_samples=args.log_samples,
        judge=args.judge,
        judge_args=parse_model_args(args.judge_args),
        seed=args.seed,
        bootstrap=args.bootstrap,
        cache_path=args.cache,
        use_cache=not args.no_cache,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    results = evaluate(config)
    if not results:  # a non-main rank of a data-parallel run
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_run_table(results))
        if args.output_path:
            print(f"\nresults: {args.output_path / 'results.json'}")
    return exit_status(results, quiet=args.json)
