"""A prepared check for a GPU machine: a 7B-sized random LLaVA through the ``llava`` adapter at batch 1, 8
and 32 in bf16 on the 250 giqa_synth docs (and through ``vllm`` when it is installed).

    python benchmarks/gpu_check.py                       # on one GPU: 7B-sized, bf16, batches 1,8,32
    python benchmarks/gpu_check.py --tiny --device cpu --limit 2 --batch-sizes 1,2   # plumbing, on a CPU

Nothing is downloaded: the checkpoint is built from a config (LLaVA-1.5-7B's shapes: a CLIP ViT-L/14 at
336 px and a 32-layer, 4096-wide Llama; random bf16 weights, the tiny test tokenizer) and written to
/dev/shm when it has room, else to a temporary folder. The adapter is loaded once and reused for every
batch size. For each it prints the wall time of the whole evaluation (prepare, generate, score; no
cache, no bootstrap), peak GPU memory, docs/s, and how many answers differ from batch 1's (greedy
decoding; with random weights, bf16 rounding under different batch shapes may change a token).
``--json PATH`` also writes the figures as JSON. ``--tiny`` builds the 2-layer test LLaVA instead.
The run needs giqa-harness and pluggy importable there (docs/adapters.md, "A GPU check").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASK = "giqa_synth"  # both halves: 100 DES + 150 VQA docs
CHECKPOINT_BYTES_7B = 15 * 2**30  # bf16 weights of the 7B-sized model, with room to spare

# LLaVA-1.5-7B's shapes (llava-hf/llava-1.5-7b-hf's config): CLIP ViT-L/14-336 and a Llama-2-7B.
VISION_7B = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                 image_size=336, patch_size=14, projection_dim=768)
TEXT_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=32, max_position_embeddings=4096, rms_norm_eps=1e-5)


def llava_7b_config(tokenizer: Any) -> Any:
    """LLaVA-1.5-7B's config with the given tokenizer's vocabulary (so every generated id decodes)."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    text = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **TEXT_7B)
    side = VISION_7B["image_size"] // VISION_7B["patch_size"]
    return LlavaConfig(vision_config=CLIPVisionConfig(**VISION_7B), text_config=text,
                       image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
                       vision_feature_select_strategy="default", vision_feature_layer=-2, image_seq_length=side * side)


def resized_processor(processor: Any) -> Any:
    """A LLaVA processor set to the 7B vision tower's input: 336 px squares in 14 px patches."""
    side = VISION_7B["image_size"]
    processor.image_processor.size = {"shortest_edge": side}
    processor.image_processor.crop_size = {"height": side, "width": side}
    processor.patch_size = VISION_7B["patch_size"]
    return processor


def parameter_count(config: Any) -> int:
    """Parameters of a LLaVA built from ``config``, counted on the meta device (nothing allocated)."""
    import torch
    from transformers import LlavaForConditionalGeneration

    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    return sum(p.numel() for p in model.parameters())


def build_checkpoint(folder: Path, tiny: bool, device: str) -> tuple[Path, int]:
    """The checkpoint folder and its parameter count: the tiny test LLaVA, or the 7B-sized one (its
    processor is the tiny one's, resized to 336 px and 14 px patches)."""
    import torch
    from transformers import AutoConfig, AutoProcessor, LlavaForConditionalGeneration

    from giqa_harness.testing.tiny_models import build_tiny_llava

    tiny_folder = build_tiny_llava(folder / "tiny")
    if tiny:
        return tiny_folder, parameter_count(AutoConfig.from_pretrained(tiny_folder))
    processor = resized_processor(AutoProcessor.from_pretrained(tiny_folder))
    config = llava_7b_config(processor.tokenizer)
    torch.manual_seed(0)
    with torch.device(device):  # initialized where it runs: seconds on a GPU, not minutes on the CPU
        model = LlavaForConditionalGeneration(config).to(torch.bfloat16)
    model.generation_config.pad_token_id = processor.tokenizer.pad_token_id
    target = folder / "llava-7b-random"
    model.save_pretrained(target)
    processor.save_pretrained(target)
    count = sum(p.numel() for p in model.parameters())
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return target, count


def timed_run(adapter: Any, model: str, model_args: dict[str, Any], batch: int, limit: int | None, out: Path,
              device: str) -> dict[str, Any]:
    """One evaluation of ``TASK`` with an already loaded adapter: seconds, docs, peak memory, answers."""
    import torch

    from giqa_harness.evaluator import RunConfig, evaluate

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    config = RunConfig(model=model, model_args=model_args, tasks=[TASK], batch_size=batch, limit=limit,
                       output_path=out, log_samples=True, use_cache=False, progress=False, bootstrap=0)
    start = time.perf_counter()
    results = evaluate(config, adapter=adapter)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    answers: dict[str, str | None] = {}
    failed = 0
    for name, result in results["results"].items():
        failed += result["n_failed"]
        for line in (out / f"samples_{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            answers[f"{name}/{row['doc_id']}"] = row["answer"]
    return {"batch": batch, "seconds": seconds, "docs": len(answers), "failed": failed,
            "docs_per_s": len(answers) / seconds,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None, "answers": answers}


def reusable(adapter: Any) -> Any:
    """The adapter with ``close`` deferred: evaluate() closes its adapter, and a 7B load costs minutes."""
    close = adapter.close
    adapter.close = lambda: None
    adapter.really_close = close
    return adapter


def check_adapter(model: str, model_args: dict[str, Any], batches: list[int], limit: int | None, root: Path,
                  device: str) -> list[dict[str, Any]]:
    from giqa_harness.evaluator import build_adapter

    start = time.perf_counter()
    adapter = reusable(build_adapter(model, model_args))
    print(f"{model}: loaded in {time.perf_counter() - start:.1f} s", flush=True)
    try:
        return [timed_run(adapter, model, model_args, b, limit, root / f"{model}_b{b}", device) for b in batches]
    finally:
        adapter.really_close()


def report(model: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Print one line per batch size; returns the rows without the answers (for --json)."""
    reference = runs[0]["answers"]
    rows = []
    print(f"{'model':>6}  {'batch':>5}  {'docs':>5}  {'failed':>6}  {'time s':>8}  {'docs/s':>7}  {'peak GiB':>8}  "
          f"answers vs batch {runs[0]['batch']}")
    for run in runs:
        differ = sum(1 for key, answer in run["answers"].items() if reference.get(key) != answer)
        same = "identical" if differ == 0 else f"{differ} of {run['docs']} differ"
        peak = f"{run['peak_gib']:8.2f}" if run["peak_gib"] is not None else f"{'-':>8}"
        print(f"{model:>6}  {run['batch']:>5}  {run['docs']:>5}  {run['failed']:>6}  {run['seconds']:8.1f}  "
              f"{run['docs_per_s']:7.2f}  {peak}  {same}", flush=True)
        rows.append({**{k: v for k, v in run.items() if k != "answers"}, "differ_from_first": differ})
    return rows


def scratch_root() -> Path:
    """/dev/shm when it can hold the 7B checkpoint (memory-speed writes and loads), else the temp folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 2 * CHECKPOINT_BYTES_7B:
        return Path(tempfile.mkdtemp(prefix="gpu_check_", dir=shm))
    return Path(tempfile.mkdtemp(prefix="gpu_check_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the 2-layer test LLaVA instead of the 7B-sized one")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--dtype", default=None, help="model dtype (default: bf16 on a GPU, float32 on a CPU)")
    parser.add_argument("--batch-sizes", default="1,8,32")
    parser.add_argument("--limit", type=int, default=None, help="docs per task half (default: all 250 docs)")
    parser.add_argument("--new-tokens", type=int, default=16, help="max_new_tokens of every answer")
    parser.add_argument("--no-vllm", action="store_true", help="skip vLLM even when it is installed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    import importlib.util

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run with --tiny --device cpu for the plumbing check", file=sys.stderr)
        return 2
    dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    root = scratch_root()
    figures: dict[str, Any] = {"device": torch.cuda.get_device_name(args.device) if args.device.startswith("cuda")
                               else "cpu", "dtype": dtype, "new_tokens": args.new_tokens, "runs": {}}
    try:
        start = time.perf_counter()
        folder, params = build_checkpoint(root, args.tiny, args.device)
        figures["parameters"] = params
        print(f"built a random LLaVA-1.5 of {params / 1e9:.2f} B parameters in {time.perf_counter() - start:.1f} s "
              f"({folder})", flush=True)
        model_args = {"pretrained": str(folder), "device": args.device, "dtype": dtype,
                      "max_new_tokens": args.new_tokens}
        figures["runs"]["llava"] = report("llava", check_adapter("llava", model_args, batches, args.limit, root,
                                                                 args.device))
        if args.no_vllm or importlib.util.find_spec("vllm") is None or not args.device.startswith("cuda"):
            print("vllm: not run (not installed here, --no-vllm, or no GPU)")
        else:
            vllm_args = {"pretrained": str(folder), "preset": "llava-1.5", "dtype": dtype,
                         "max_new_tokens": args.new_tokens, "gpu_memory_utilization": 0.6}
            try:  # vLLM ignores --batch_size (it takes its own windows); one run shows its throughput
                figures["runs"]["vllm"] = report("vllm", check_adapter("vllm", vllm_args, batches[:1], args.limit,
                                                                       root, args.device))
            except Exception as exc:  # reported, so that the llava figures above still count
                print(f"vllm: failed: {type(exc).__name__}: {exc}")
                figures["runs"]["vllm"] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
