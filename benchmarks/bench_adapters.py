"""The harness's overhead over a bare ``generate`` loop, and what batching buys, on a tiny LLaVA.

    python benchmarks/bench_adapters.py [--docs 48] [--new-tokens 32] [--repeats 3] [--realistic] [--prefetch 2]

Both sides answer the same prompts about the same images from disk with the same greedy settings
(exactly ``--new-tokens`` tokens each). The bare loop opens the images, pads them to a square, calls the
processor, ``model.generate`` and ``batch_decode``: the least a script can do. The harness side is a
whole `evaluate` run with an already loaded adapter (task loading, question re-rendering, image
loading, batching, answer parsing, sample logging; no response cache, no metrics), so the ratio is
everything the harness adds per answer. The model is a 2-layer, 32-wide random LLaVA: its forward
passes are as cheap as they get, so the overhead ratio here is an upper bound for any real model.
Each timing is the median of ``--repeats`` runs, the two sides interleaved in alternating order.

``--realistic`` replaces the small PNGs with 1024x768 JPEGs of textured content (made on the fly, four
distinct images), the size of real benchmark photographs: decoding, padding and resizing them is then
a real share of each answer.

The work per doc is the same on both sides: open and decode the doc's image from disk (each doc, even
when docs share a file), pad it to a square with the CLIP mean colour, run the image processor
(resize, crop, normalize) and the tokenizer, ``generate``, ``batch_decode``. The bare loop does all of
it in turn in one thread, with one processor call per batch. The harness decodes, pads and computes
each image's pixel values in its prefetch worker threads while a batch generates (``--prefetch``
batches ahead; 0 turns it off, and the same steps then run in the evaluator's thread), tokenizes in
``generate``, and also loads the task, re-renders questions, parses answers and writes the sample log.
Threads only help when a core is free: on a loaded machine the ratio rises.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QUESTIONS = [
    "Describe and evaluate the quality of the image.",
    "Is the [sky](<0, 59>) over-exposed?",
    "What distortion affects the sky?",
    "How is the clarity of the [car](<120, 186>)?",
    "Is the image sharp overall?",
    "Which region of the image is the noisiest?",
]


def write_records(n: int) -> list[dict[str, Any]]:
    records = []
    for i in range(n):
        records.append({"id": f"b{i}", "image": f"images/{i % 4}.png", "kind": "vqa_w", "qtype": "what",
                        "question": QUESTIONS[i % len(QUESTIONS)] + " " * (i % 3), "answer": "Fair."})
    return records


def write_photo(path: Path, seed: int, size: tuple[int, int] = (1024, 768)) -> None:
    """A JPEG with photo-like content (smooth gradients, texture and noise), so it compresses and
    decodes like a photograph rather than a flat colour."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([128 + 100 * np.sin(x / (40 + 10 * c) + seed) * np.cos(y / (55 + 7 * c)) for c in range(3)], -1)
    pixels = np.clip(base + rng.normal(0, 18, size=(h, w, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path, format="JPEG", quality=90)


def build_bench(root: Path, docs: int, new_tokens: int, realistic: bool = False) -> tuple[Path, str]:
    from giqa_harness.testing.bench import write_bench, write_image, write_task

    records = write_records(docs)
    for i, size in enumerate([(64, 48), (40, 60), (50, 50), (80, 30)]):
        if realistic:
            write_photo(root / "data" / "images" / f"{i}.jpg", seed=i)
        else:
            write_image(root / "data" / "images" / f"{i}.png", size=size, color=(40 * i, 160, 200 - 30 * i))
    if realistic:
        for record in records:
            record["image"] = record["image"].replace(".png", ".jpg")
    data = write_bench(root / "data", records)
    gen = f"generation_kwargs: {{max_new_tokens: {new_tokens}, min_new_tokens: {new_tokens}}}\n"
    write_task(root / "tasks", "bench_adapters", data, (), gen)
    return data, "bench_adapters"


def harness_seconds(model: str, folder: Path, task: str, batch: int, out: Path, prefetch: int = 2) -> float:
    from giqa_harness.evaluator import RunConfig, build_adapter, evaluate

    adapter = build_adapter(model, {"pretrained": str(folder)})
    config = RunConfig(model=model, model_args={"pretrained": str(folder)}, tasks=[task], batch_size=batch,
                       output_path=out, log_samples=True, use_cache=False, progress=False, bootstrap=0,
                       prefetch=prefetch)
    start = time.perf_counter()
    evaluate(config, adapter=adapter)
    return time.perf_counter() - start


def bare_seconds(folder: Path, batch: int, new_tokens: int, prompts: list[tuple[str, str]]) -> float:
    """The least a script does: open, pad, process, generate, decode. Prompts are the harness's own."""
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from giqa_harness.boxes.frames import PadSquareFrame

    processor = AutoProcessor.from_pretrained(folder)
    processor.tokenizer.padding_side = "left"
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32).eval()
    frame = PadSquareFrame(color="mean")
    start = time.perf_counter()
    for first in range(0, len(prompts), batch):
        chunk = prompts[first:first + batch]
        images = [frame.prepare_image(Image.open(image).convert("RGB")) for image, _ in chunk]
        inputs = processor(images=images, text=[text for _, text in chunk], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=new_tokens,
                                 min_new_tokens=new_tokens)
        processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steadier on a shared machine)")
    parser.add_argument("--realistic", action="store_true", help="1024x768 JPEGs instead of small PNGs")
    parser.add_argument("--prefetch", type=int, default=2, help="harness: batches of images prepared ahead (0: off)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)

    from giqa_harness.evaluator import build_adapter
    from giqa_harness.plugins import register_plugin
    from giqa_harness.testing.bench import task_plugin
    from giqa_harness.testing.tiny_models import build_tiny_llava

    torch.manual_seed(0)
    batches = [int(b) for b in args.batch_sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = build_tiny_llava(root / "model", "llava")
        _, task = build_bench(root, args.docs, args.new_tokens, args.realistic)
        register_plugin(task_plugin(root / "tasks"), name="bench_adapters_tasks")
        # The bare loop sends the harness's own prompts: the questions as re-rendered in the model's box
        # syntax (read back from a logged warm-up run), wrapped in the model's chat template.
        harness_seconds("llava", folder, task, batches[0], root / "warmup")
        rows = [json.loads(line) for line in (root / "warmup" / f"samples_{task}.jsonl").read_text().splitlines()]
        adapter = build_adapter("llava", {"pretrained": str(folder)})
        prompts = [(row["image"], adapter.prompt(row["prompt"])) for row in rows]
        adapter.close()
        runs: dict[str, dict[int, list[float]]] = {"harness": {b: [] for b in batches}, "bare": {b: [] for b in batches}}
        for rep in range(args.repeats):
            for b in batches:
                sides = [("harness", lambda: harness_seconds("llava", folder, task, b, root / f"out{b}_{rep}",
                                                             args.prefetch)),
                         ("bare", lambda: bare_seconds(folder, b, args.new_tokens, prompts))]
                for side, run in sides[:: 1 if rep % 2 == 0 else -1]:  # alternate which side runs first
                    runs[side][b].append(run())
        harness = {b: statistics.median(times) for b, times in runs["harness"].items()}
        bare = {b: statistics.median(times) for b, times in runs["bare"].items()}
    images = "1024x768 JPEGs" if args.realistic else "small PNGs (40-80 px)"
    print(f"tiny LLaVA-1.5 (2 layers, 32 wide), {args.docs} docs x {args.new_tokens} new tokens, {images}, "
          f"harness prefetch {args.prefetch}, median of {args.repeats}, torch threads {torch.get_num_threads()}")
    print(f"{'batch':>5}  {'bare s':>8}  {'harness s':>9}  {'harness/bare':>12}")
    for b in batches:
        print(f"{b:>5}  {bare[b]:>8.3f}  {harness[b]:>9.3f}  {harness[b] / bare[b]:>12.3f}")
    if len(batches) > 1:
        lo, hi = min(batches), max(batches)
        print(f"speed-up of batch {hi} over batch {lo}: harness {harness[lo] / harness[hi]:.2f}x, "
              f"bare {bare[lo] / bare[hi]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
