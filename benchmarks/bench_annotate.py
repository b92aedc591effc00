"""Annotation throughput against an LLM endpoint with a fixed reply latency, next to its bound.

    python benchmarks/bench_annotate.py [--records 576] [--latency 0.2] [--concurrency 8,32] [--repeats 3]

The whole `annotate` pipeline runs (tags -> detection -> refinement -> fusion -> VQA) with the tiny
random Grounding DINO as the detector and ``openai:`` as the LLM, pointed at a loopback chat server
that answers every request after exactly ``--latency`` seconds (valid tag and VQA JSON, so each record
costs one tag call and one VQA call). No response cache, so every call is really made.

An endpoint holding ``concurrency`` requests at a time, each taking ``latency`` seconds, answers at
most ``concurrency / latency`` calls per second; divided by the calls each record made, that is the
bound on records per second. The script prints records/s, the bound and their ratio (median of
``--repeats`` runs), and the detector's own time per record, measured alone on the same images; each
row repeats its cap (records/s of the detector alone) beside the bound, and cap/bound: where that is
below 1, no overlap of stages can reach the bound on this machine.
The pipeline overlaps its stages over chunks of ``--batch_size`` records (2 x concurrency here, so a
chunk fills every slot of the endpoint), so the detector works while the endpoint answers; but no
pipeline beats its slowest stage, and where the detector alone needs more time per record than the
bound allows, the ratio is the detector's limit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DESCRIPTION = "The sky is over-exposed, while the dog on the grass is sharp. The image is fair overall."
TAGS = [{"T_r": "The sky", "T_q": "over-exposed", "T_e": "negative"},
        {"T_r": "the dog on the grass", "T_q": "sharp", "T_e": "positive"}]
VQA = [{"type": "yes", "object": "The sky", "question": "Is the sky over-exposed?", "answer": "Yes."},
       {"type": "what", "object": "The sky", "question": "What distortion affects the sky?", "answer": "Over-exposure."}]


def write_inputs(root: Path, records: int) -> tuple[Path, Path]:
    from PIL import Image

    images = root / "images"
    images.mkdir(parents=True)
    rows = []
    for i in range(records):
        Image.new("RGB", (96, 72), (i * 5 % 255, 120, 200)).save(images / f"{i}.png")
        rows.append({"id": f"r{i}", "image": f"{i}.png", "description": DESCRIPTION})
    path = root / "descriptions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return images, path


def replier(latency: float):
    from giqa_harness.testing.chat_server import Reply
    from giqa_harness.testing.scripted import is_tag_prompt

    def reply(request):
        return Reply.chat(json.dumps(TAGS if is_tag_prompt(request.last_user_text) else VQA), delay=latency)

    return reply


def serve(latency: float, urls: "multiprocessing.Queue[str]", stop: "multiprocessing.Event",
          calls: "multiprocessing.Value") -> None:
    """The loopback endpoint, in a process of its own as a real server is: in the annotating process its
    threads would compete for the interpreter lock with the pipeline being measured."""
    from giqa_harness.testing.chat_server import ChatServer

    with ChatServer(replier(latency)) as server:
        urls.put(server.base_url)
        stop.wait()
        calls.value = len(server.requests)


def run_once(root: Path, detector: Path, records: int, latency: float, concurrency: int, batch: int,
             run: int) -> tuple[float, int, int]:
    """(wall seconds, LLM calls made, records finished) of one annotate run."""
    from giqa_harness.annotate.pipeline import AnnotateConfig, annotate

    images, descriptions = root / "images", root / "descriptions.jsonl"
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch threads inherited
    urls, stop, calls_made = context.Queue(), context.Event(), context.Value("i", 0)
    server = context.Process(target=serve, args=(latency, urls, stop, calls_made), daemon=True)
    server.start()
    try:
        base_url = urls.get(timeout=60)
        config = AnnotateConfig(
            images_dir=images, descriptions=descriptions, output=root / f"out_{concurrency}_{run}",
            llm=f"openai:bench@{base_url}", llm_args={"concurrency": concurrency},
            detector="grounding_dino", detector_args={"pretrained": str(detector), "box_threshold": 0.0,
                                                      "text_threshold": 0.0, "max_boxes": 2},
            batch_size=batch, progress=False, use_cache=False, vqa_pairs=2,
        )
        start = time.perf_counter()
        stats = annotate(config)
        wall = time.perf_counter() - start
    finally:
        stop.set()
        server.join(timeout=30)
    calls = calls_made.value
    assert stats is not None
    failed = sum(1 for line in (config.output / "records.jsonl").read_text().splitlines()
                 if json.loads(line)["failure"])
    return wall, calls, records - failed


def detector_ms_per_record(root: Path, detector: Path, records: int) -> float:
    """The tiny detector alone on the records' images and phrases, ms per record (after one warm-up)."""
    from PIL import Image

    from giqa_harness.annotate.detect import build_detector

    model = build_detector("grounding_dino", {"pretrained": str(detector), "box_threshold": 0.0,
                                              "text_threshold": 0.0, "max_boxes": 2})
    phrases = [tag["T_r"] for tag in TAGS]
    images = [Image.open(root / "images" / f"{i}.png").convert("RGB") for i in range(records)]
    model.detect(images[0], phrases)
    start = time.perf_counter()
    for image in images:
        model.detect(image, phrases)
    return 1000 * (time.perf_counter() - start) / records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=576,
                        help="records per run; the stage overlap fills and drains over about two chunks, so a short run understates the steady rate")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per reply")
    parser.add_argument("--concurrency", default="8,32", help="the LLM client's concurrency, comma-separated")
    parser.add_argument("--batch-factor", type=int, default=2,
                        help="annotate --batch_size = this x concurrency: each chunk keeps every slot busy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a weight-loading bar per run would bury the table
    from giqa_harness.testing.tiny_grounding_dino import build_tiny_grounding_dino

    print(f"annotate, {args.records} records, tiny Grounding DINO, loopback LLM replying in {args.latency * 1000:.0f} ms"
          f", median of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        detector = build_tiny_grounding_dino(root / "gd")
        write_inputs(root, args.records)
        alone = detector_ms_per_record(root, detector, args.records)
        print(f"tiny Grounding DINO alone: {alone:.1f} ms per record (at most {1000 / alone:.0f} records/s)")
        cap = 1000 / alone  # no pipeline finishes records faster than its detector alone
        print(f"{'concurrency':>11}  {'batch':>5}  {'calls/rec':>9}  {'records/s':>9}  {'bound':>7}  {'ratio':>6}  "
              f"{'detector cap':>12}  {'cap/bound':>9}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            batch = args.batch_factor * concurrency
            rates, bounds = [], []
            for run in range(args.repeats):
                wall, calls, done = run_once(root, detector, args.records, args.latency, concurrency, batch, run)
                if done != args.records:
                    print(f"  {args.records - done} records failed", file=sys.stderr)
                per_record = calls / args.records
                rates.append(args.records / wall)
                bounds.append(concurrency / args.latency / per_record)
            rate, bound = statistics.median(rates), statistics.median(bounds)
            print(f"{concurrency:>11}  {batch:>5}  {per_record:>9.2f}  {rate:>9.2f}  {bound:>7.2f}  {rate / bound:>6.2f}  "
                  f"{cap:>12.2f}  {cap / bound:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
