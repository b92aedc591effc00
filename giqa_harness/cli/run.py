"""``giqa-harness --model NAME --model_args k=v,... --tasks a,b [...]``: run an evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..models import parse_model_args
from ..prefetch import DEFAULT_DEPTH
from .helptext import HelpFormatter

if TYPE_CHECKING:
    from ..evaluator import RunConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="giqa-harness",
        description="Evaluate a multimodal model on grounding image-quality assessment tasks.",
        epilog="Example: giqa-harness --model classical --tasks giqa_synth --output_path out/ --log_samples\n\n"
               "Exit status: 0; 1 when a task failed, has no scored sample or a metric failed on every\n"
               "sample (the outputs are still written); 2 on a usage or data error.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--model", required=True, help="registered model adapter (see `giqa-harness list models`)")
    p.add_argument("--model_args", default="", help="adapter arguments as k=v,k2=v2 (e.g. pretrained=PATH)")
    p.add_argument("--tasks", required=True,
                   help="comma-separated tasks, groups or task YAML files (see `giqa-harness list tasks`)")
    p.add_argument("--include_path", action="append", default=[], type=Path, metavar="DIR",
                   help="also read task YAML files from DIR (repeatable); they replace registered tasks of the same name")
    p.add_argument("--batch_size", type=int, default=1, help="requests per generate() call (results do not depend on it)")
    p.add_argument("--prefetch", type=int, default=DEFAULT_DEPTH, metavar="N",
                   help=f"batches of images decoded and prepared ahead of generation by worker threads "
                        f"(default {DEFAULT_DEPTH}; 0 = none; results do not depend on it)")
    p.add_argument("--limit", type=float, default=None,
                   help="only the first N docs of each task; a value below 1 is a fraction of each task (0.5 = half)")
    p.add_argument("--gen_kwargs", default="",
                   help="override the tasks' generation_kwargs, as k=v,... (e.g. max_new_tokens=256,temperature=0)")
    p.add_argument("--device", default=None,
                   help="device for the model, passed as its device= model argument (e.g. cuda:0, cpu)")
    p.add_argument("--output_path", type=Path, default=None, help="folder for results.json, samples and the resume cache")
    p.add_argument("--log_samples", action="store_true", help="also write samples_<task>.jsonl")
    p.add_argument("--judge", default=None, help="judge LLM for LLM-Score and Acc(W): hf:PATH, openai:MODEL@URL, vllm:PATH")
    p.add_argument("--judge_args", default="", help="judge options as k=v,... (e.g. concurrency=8,timeout=60)")
    p.add_argument("--seed", type=int, default=0, help="seed for the bootstrap intervals (built-in tasks generate greedily)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for 95%% intervals (0 = none)")
    p.add_argument("--cache", type=Path, default=None, help="response cache file (default: OUTPUT_PATH/cache.sqlite)")
    p.add_argument("--no_cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--no_progress", action="store_true",
                   help="no progress bars or status lines (nor transformers' own loading bars)")
    p.add_argument("--json", action="store_true", help="print the whole results document as JSON")
    p.add_argument("--dry_run", action="store_true",
                   help="print the full prompts of the first --limit docs (default 3) per task; generate nothing")
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
    from ..errors import ConfigError
    from ..evaluator import RunConfig, evaluate
    from ..leaderboard import format_run_table
    from ..progress import configure
    from ..task_selection import limit_value

    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.log_samples and args.output_path is None:  # lmms-eval refuses this too: nothing would be written
        parser.error("--log_samples needs --output_path (the folder samples_<task>.jsonl are written to)")
    if args.prefetch < 0:
        parser.error(f"--prefetch must be 0 (no prefetching) or a positive number of batches, got {args.prefetch}")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    model_args = parse_model_args(args.model_args)
    if args.device is not None:
        if model_args.get("device", args.device) != args.device:
            raise ConfigError(f"--device {args.device} disagrees with --model_args device={model_args['device']}")
        model_args["device"] = args.device
    configure(enabled=not args.no_progress)
    config = RunConfig(
        model=args.model,
        model_args=model_args,
        tasks=tasks,
        batch_size=args.batch_size,
        prefetch=args.prefetch,
        limit=limit_value(args.limit),
        include_path=list(args.include_path),
        gen_kwargs=parse_model_args(args.gen_kwargs),
        output_path=args.output_path,
        log_samples=args.log_samples,
        judge=args.judge,
        judge_args=parse_model_args(args.judge_args),
        seed=args.seed,
        bootstrap=args.bootstrap,
        cache_path=args.cache,
        use_cache=not args.no_cache,
        progress=not args.no_progress,
    )
    if args.dry_run:
        from ..prompt_preview import preview_prompts

        preview_prompts(config, sys.stdout)
        return 0
    try:
        results = evaluate(config)
    except KeyboardInterrupt:
        print(interrupted_message(config), file=sys.stderr)
        return 130
    if not results:  # a non-main rank of a data-parallel run
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_run_table(results))
        if args.output_path:
            print(f"\nresults: {args.output_path / 'results.json'}")
    return exit_status(results, quiet=args.json)


def interrupted_message(config: "RunConfig") -> str:
    """What Ctrl-C leaves behind: only a run with a response cache can resume."""
    if config.use_cache and (config.cache_path or config.output_path):
        cache = config.cache_path or config.output_path / "cache.sqlite"  # type: ignore[operator]
        return f"interrupted; answers generated so far are in {cache} and a rerun with the same arguments resumes"
    return "interrupted; nothing was kept (no --output_path or --cache, or --no_cache): a rerun starts over"
