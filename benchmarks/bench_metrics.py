"""How long scoring takes next to generating: every non-judge GIQA-Bench metric on N synthetic samples.

    python benchmarks/bench_metrics.py [--n 10000] [--bootstrap 1000] [--repeats 3] [--no-generation]

Samples follow GIQA-Bench's mix (100 DES : 90 Yes/No : 60 What/Why/How), written in the grid syntax
with 1-4 groundings from a pool of quality phrases; predictions jitter the reference boxes by a cell
and swap some phrases for near-synonyms. Timed stages: parsing both sides, each metric's scoring and
aggregation, its 95% bootstrap interval (as the evaluator computes it, vectorized), and Tag-Recall's
phrase encoder load (MiniLM + every distinct phrase, once per process) on its own row; the warm total
leaves that load out. For scale, the script times a 2-layer,
32-wide random causal LM generating 128-token answers on the same CPU: a lower bound on what any real
model costs to generate the same answers.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from typing import Any

ADJECTIVES = ["blurry", "sharp", "over-exposed", "noisy", "dark", "bright", "low-contrast", "well-focused",
              "grainy", "washed-out", "clear", "distorted"]
SYNONYMS = {"blurry": "blurred", "sharp": "crisp", "noisy": "grainy", "dark": "underexposed", "bright": "overexposed"}
OBJECTS = ["sky", "dog", "car", "face", "tree", "building", "text", "background", "foreground", "water",
           "grass", "window", "person", "road", "flower"]
FILLER = ("the image quality is overall fair with some issues in the region while details are visible and "
          "colours look natural but the exposure could be better").split()


def _cells(rng: random.Random) -> tuple[int, int]:
    r1, c1 = rng.randrange(0, 18), rng.randrange(0, 18)
    r2, c2 = rng.randrange(r1 + 1, 20), rng.randrange(c1 + 1, 20)
    return r1 * 20 + c1, r2 * 20 + c2


def _jitter(cells: tuple[int, int], rng: random.Random) -> tuple[int, int]:
    def move(idx: int) -> int:
        r, c = divmod(idx, 20)
        return min(19, max(0, r + rng.choice((-1, 0, 1)))) * 20 + min(19, max(0, c + rng.choice((-1, 0, 1))))

    return move(cells[0]), move(cells[1])


def _markup(phrase: str, boxes: list[tuple[int, int]]) -> str:
    return f"[{phrase}](" + ", ".join(f"<{a}, {b}>" for a, b in boxes) + ")"


def synthetic_texts(n: int, seed: int) -> list[tuple[str, str, str, str | None]]:
    """``(kind, prediction, reference, qtype)`` tuples in the canonical grid syntax."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = "des" if i % 250 < 100 else ("vqa_yn" if i % 250 < 190 else "vqa_w")
        if kind == "vqa_yn":
            truth = rng.choice(("yes", "no"))
            answer = rng.choice(("Yes.", "No.", "Yes, it is.", "No, it is not.", "It is hard to say."))
            out.append((kind, answer, f"{truth.capitalize()}.", truth))
            continue
        ref_parts, pred_parts = [], []
        for _ in range(rng.randint(1, 4 if kind == "des" else 2)):
            adjective, obj = rng.choice(ADJECTIVES), rng.choice(OBJECTS)
            boxes = [_cells(rng) for _ in range(rng.choice((1, 1, 1, 2)))]
            ref_parts.append(_markup(f"{adjective} {obj}", boxes) + " " + " ".join(rng.sample(FILLER, 8)) + ".")
            if rng.random() < 0.85:
                said = SYNONYMS.get(adjective, adjective) if rng.random() < 0.4 else adjective
                pred_parts.append(_markup(f"{said} {obj}", [_jitter(b, rng) for b in boxes]) + " "
                                  + " ".join(rng.sample(FILLER, 6)) + ".")
        out.append((kind, " ".join(pred_parts) or "The image looks fine.", " ".join(ref_parts), None))
    return out


def timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    """The value, the wall-clock seconds and the CPU seconds of this process (the CPU figure stays
    meaningful on a machine shared with other work)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def generation_seconds_per_answer(tokens: int = 128, answers: int = 32, batch: int = 16) -> tuple[float, float]:
    """Wall and CPU seconds per answer of a tiny random LM generating ``tokens`` tokens (greedy, batched)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm

    hf_logging.disable_progress_bar()

    with tempfile.TemporaryDirectory() as folder:
        build_tiny_causal_lm(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
    prompt = "Describe and evaluate the quality of the image."

    def generate() -> None:
        with torch.inference_mode():
            for _ in range(0, answers, batch):
                inputs = tokenizer([prompt] * batch, return_tensors="pt", padding=True)
                model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)

    _, wall, cpu = timed(generate)
    return wall / answers, cpu / answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="warm passes; each figure is their median")
    parser.add_argument("--no-generation", action="store_true", help="skip the tiny-LM generation timing")
    args = parser.parse_args(argv)
    os.environ["GIQA_HARNESS_CACHE"] = tempfile.mkdtemp(prefix="bench_metrics_")  # a cold embedding cache

    from giqa_harness.boxes.formats import CANONICAL_FORMAT, get_format
    from giqa_harness.metrics.base import MetricContext, bootstrap_ci, resampled_aggregate
    from giqa_harness.plugins import registry
    from giqa_harness.testing.samples import sample

    texts = synthetic_texts(args.n, args.seed)
    fmt = get_format(CANONICAL_FORMAT)

    def parse_all() -> list[Any]:
        return [sample(fmt.parse(p, (640, 480)), fmt.parse(r, (640, 480)), kind=k, qtype=q, doc_id=str(i))
                for i, (k, p, r, q) in enumerate(texts)]

    def one_pass(first: bool) -> tuple[list[tuple[str, float, float, int]], tuple[float, float]]:
        """Every stage timed once: (rows of the warm stages, the cold-only MiniLM extra (wall, CPU))."""
        samples, parse_s, parse_cpu = timed(parse_all)
        rows = [("parse answers + references", parse_s, parse_cpu, len(samples))]
        cold = (0.0, 0.0)
        for name in ("miou", "tag_recall", "bleu4", "acc_y"):
            metric = registry().metrics.get(name)
            applicable = [s for s in samples if metric.applies(s)]
            context = MetricContext(options={"judge_prompts": {}})
            if name == "tag_recall" and first:
                from giqa_harness.metrics.embeddings import shared_encoder

                _, cold_s, cold_cpu = timed(metric.score, applicable, context)
                encoded = shared_encoder(None, None).encoded
                print(f"tag_recall cold run: torch and MiniLM loaded, {encoded} distinct phrases encoded",
                      file=sys.stderr)
            values, score_s, score_cpu = timed(metric.score, applicable, context)
            present = [v for v in values if v is not None]
            value, agg_s, agg_cpu = timed(metric.aggregate, present)
            if name == "tag_recall" and first:
                cold = (cold_s - score_s, cold_cpu - score_cpu)
            label = f"{name} score + aggregate" + (" (warm: phrases cached)" if name == "tag_recall" else "")
            rows.append((label, score_s + agg_s, score_cpu + agg_cpu, len(applicable)))
            (lo, hi), boot_s, boot_cpu = timed(bootstrap_ci, present, metric.aggregate, args.bootstrap, 0, 0.95,
                                               resampled_aggregate(metric))
            rows.append((f"{name} bootstrap x{args.bootstrap}", boot_s, boot_cpu, len(present)))
            if first:
                print(f"{name:>10} = {value:.4f}  95% CI [{lo:.4f}, {hi:.4f}]  over {len(present)} samples",
                      file=sys.stderr)
        return rows, cold

    # Warm: every stage once the phrase encoder is loaded and its phrases cached (a second task of a
    # run, or a rescore); cold adds the one-off MiniLM load and first encoding, on its own row.
    passes = [one_pass(first=rep == 0) for rep in range(args.repeats)]
    cold_extra, cold_extra_cpu = passes[0][1]
    rows = [(label, statistics.median(p[0][i][1] for p in passes), statistics.median(p[0][i][2] for p in passes), count)
            for i, (label, _, _, count) in enumerate(passes[0][0])]
    total = statistics.median(sum(r[1] for r in p[0]) for p in passes)
    total_cpu = statistics.median(sum(r[2] for r in p[0]) for p in passes)

    print(f"Scoring every non-judge metric of {args.n} synthetic samples (one process, median of {args.repeats})")
    print(f"  {'stage':<52} {'wall s':>8} {'CPU s':>8} {'CPU ms/sample':>14}")
    print(f"  {'tag_recall MiniLM load + first encoding (cold only)':<52} {cold_extra:8.2f} {cold_extra_cpu:8.2f}")
    for label, seconds, cpu, count in rows:
        print(f"  {label:<52} {seconds:8.2f} {cpu:8.2f} {1000 * cpu / max(count, 1):14.3f}")
    print(f"  {'total (warm: MiniLM loaded)':<52} {total:8.2f} {total_cpu:8.2f} {1000 * total_cpu / args.n:14.3f}")
    print(f"  {'total (cold: + MiniLM load)':<52} {total + cold_extra:8.2f} {total_cpu + cold_extra_cpu:8.2f} "
          f"{1000 * (total_cpu + cold_extra_cpu) / args.n:14.3f}")
    if not args.no_generation:
        wall, cpu = generation_seconds_per_answer()
        print(f"Generating {args.n} answers of 128 tokens with a 2-layer, 32-wide random LM (a lower bound"
              f" for any real model): {wall * args.n:.0f} s wall, {cpu * args.n:.0f} s CPU"
              f" ({1000 * wall:.1f} ms/answer wall)")
        print(f"Scoring / generating: {total / (wall * args.n):.4f} (wall), {total_cpu / (cpu * args.n):.4f} (CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
