"""``giqa-harness annotate IMAGES_DIR DESCRIPTIONS.jsonl -o OUT --llm SPEC [--detector NAME ...]``.

Builds GIQA training data (GIQA-DES and GIQA-VQA samples) from images with quality descriptions; see
docs/annotate.md. A killed run started again with the same arguments resumes from OUT/cache.sqlite.
Sharded over processes with ``accelerate launch -m giqa_harness annotate ...``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from .helptext import command_parser


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("giqa-harness annotate", __doc__)
    p.add_argument("images_dir", type=Path, nargs="?", help="folder the descriptions' image paths are relative to")
    p.add_argument("descriptions", type=Path, nargs="?", help='JSONL of {"id", "image", "description"} records')
    p.add_argument("-o", "--output", type=Path, help="output folder (also holds the resumable cache); required")
    p.add_argument("--llm", help="LLM for tags and VQA: hf:PATH, openai:MODEL@URL or vllm:PATH; required")
    p.add_argument("--demo", type=Path, metavar="OUT",
                   help="annotate a few giqa_synth images into OUT on CPU, offline, with stand-ins for the LLM "
                        "and the detector that answer with the bench's truth (no other argument needed)")
    p.add_argument("--llm_args", default="", help="LLM backend options as k=v,...")
    p.add_argument("--detector", default="grounding_dino", help="registered detector (default: grounding_dino)")
    p.add_argument("--detector_args", default="",
                   help="detector options, e.g. pretrained=IDEA-Research/grounding-dino-base,box_threshold=0.35")
    p.add_argument("--iqa_model", help="registered model adapter for the IQA filter (e.g. qinstruct); "
                   "without it, boxes are not filtered")
    p.add_argument("--iqa_model_args", default="", help="the IQA model's --model_args")
    p.add_argument("--seed", type=int, default=0, help="question draws, referring/grounding ties, balancing")
    p.add_argument("--batch_size", type=int, default=8, help="records per batch (and per cache commit)")
    p.add_argument("--tag_attempts", type=int, default=3, help="LLM attempts per description before it fails")
    p.add_argument("--vqa_pairs", type=int, default=4, help="question-answer pairs asked for per description")
    p.add_argument("--vqa_attempts", type=int, default=2, help="LLM attempts per description for its VQA pairs")
    p.add_argument("--max_tokens", type=int, default=512, help="LLM reply length limit")
    p.add_argument("--t_area", type=float, default=0.256, help="box merge: small-box area threshold T_a")
    p.add_argument("--t_cover", type=float, default=0.95, help="box merge: coverage threshold T_o")
    p.add_argument("--no_vqa", action="store_true", help="GIQA-DES only")
    p.add_argument("--no_balance", action="store_true", help="keep every VQA pair (no Yes/No and Y/W balancing)")
    p.add_argument("--keep_ungrounded", action="store_true", help="also keep descriptions that got no box")
    p.add_argument("--limit", type=int, help="first N records only")
    p.add_argument("--no_cache", action="store_true", help="recompute everything (nothing is resumable)")
    p.add_argument("--no_progress", action="store_true",
                   help="no progress bars or status lines (nor transformers' own loading bars)")
    return p


def main(argv: Sequence[str], command: str = "annotate") -> int:
    from ..annotate.pipeline import AnnotateConfig, annotate
    from ..errors import ConfigError
    from ..models import parse_model_args

    from ..progress import configure

    parser = build_parser()
    args = parser.parse_args(list(argv))
    configure(enabled=not args.no_progress)
    if args.demo is not None:
        return demo(args.demo, progress=not args.no_progress)
    missing = [name for name, value in (("IMAGES_DIR", args.images_dir), ("DESCRIPTIONS", args.descriptions),
                                        ("-o/--output", args.output), ("--llm", args.llm)) if value is None]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)} (or --demo OUT for a demo)")
    for name in ("batch_size", "tag_attempts", "vqa_pairs", "vqa_attempts", "max_tokens"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be at least 1, got {getattr(args, name)}")
    for name in ("t_area", "t_cover"):
        if not 0 <= getattr(args, name) <= 1:
            raise ConfigError(f"--{name} must lie in [0, 1], got {getattr(args, name)}")
    config = AnnotateConfig(
        images_dir=args.images_dir, descriptions=args.descriptions, output=args.output,
        llm=args.llm, llm_args=parse_model_args(args.llm_args),
        detector=args.detector, detector_args=parse_model_args(args.detector_args),
        iqa_model=args.iqa_model, iqa_model_args=parse_model_args(args.iqa_model_args),
        seed=args.seed, batch_size=args.batch_size, tag_attempts=args.tag_attempts, vqa=not args.no_vqa,
        vqa_pairs=args.vqa_pairs, vqa_attempts=args.vqa_attempts, max_tokens=args.max_tokens,
        t_area=args.t_area, t_cover=args.t_cover, balance=not args.no_balance,
        keep_ungrounded=args.keep_ungrounded, limit=args.limit, progress=not args.no_progress,
        use_cache=not args.no_cache,
    )
    stats = annotate(config)
    if stats is None:  # a non-zero rank of a sharded run: rank 0 reports
        return 0
    print(summary(stats))
    return 0


def demo(output: Path, progress: bool = True) -> int:
    from ..annotate.demo import run_demo

    stats = run_demo(output, progress=progress)
    info = stats["demo"]
    print(summary(stats))
    print(f"demo: {info['records']} giqa_synth images from {info['images_dir']}; the stand-ins answered with "
          f"the bench's truth, and {info['fused_equal_to_reference']} of {info['records']} fused descriptions "
          "equal the bench's references")
    print(f"next: docs/annotate.md (\"Try it on CPU\") fine-tunes a tiny random LLaVA on {output / 'conversations.json'} "
          "and evaluates it, all on CPU")
    return 0


def summary(stats: dict) -> str:
    records, samples = stats["records"], stats["samples"]
    lines = [
        f"records: {records['total']} ({records['finished']} annotated, {records['failed']} failed"
        + (f": {', '.join(f'{k} {v}' for k, v in records['failed_by_stage'].items())}" if records["failed"] else "")
        + f", {records['ungrounded']} without a box)",
        f"samples: {samples['total']} (DES {samples['des']}, Yes/No {samples['vqa_yn']}, "
        f"What/Why/How {samples['vqa_w']})",
        f"yes/no: {stats['yes_no_balance']['yes']}/{stats['yes_no_balance']['no']}; boxes: {stats['boxes']['count']}",
    ]
    lines += [f"{role}: {path}" for role, path in stats["files"].items()]
    return "\n".join(lines)
