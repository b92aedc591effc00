"""benchmarks/gpu_check.py, prepared for a lent GPU: its 7B shapes, and its whole flow on the CPU (--tiny)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def gpu_check():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_7b_config_has_llava_15_7b_shapes_and_its_processor_matches_the_vision_tower(tmp_path):
    from PIL import Image
    from transformers import AutoProcessor

    from giqa_harness.testing.tiny_models import build_tiny_llava

    check = gpu_check()
    processor = check.resized_processor(AutoProcessor.from_pretrained(build_tiny_llava(tmp_path / "tiny")))
    config = check.llava_7b_config(processor.tokenizer)
    assert 6.5e9 < check.parameter_count(config) < 7.5e9  # counted on the meta device
    inputs = processor(images=[Image.new("RGB", (500, 375))], text=["USER: <image>\nHi ASSISTANT:"],
                       return_tensors="pt")
    assert tuple(inputs["pixel_values"].shape[-2:]) == (336, 336)
    assert int((inputs["input_ids"] == config.image_token_index).sum()) == config.image_seq_length == 576


def test_tiny_cpu_run_prints_and_writes_the_figures_for_every_batch_size(tmp_path, capsys):
    check = gpu_check()
    out = tmp_path / "figures.json"
    assert check.main(["--tiny", "--device", "cpu", "--limit", "2", "--batch-sizes", "1,3", "--new-tokens", "3",
                       "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "answers vs batch 1" in printed and "vllm: not run" in printed
    figures = json.loads(out.read_text())
    rows = figures["runs"]["llava"]
    assert [row["batch"] for row in rows] == [1, 3]
    assert all(row["docs"] == 4 and row["failed"] == 0 and row["docs_per_s"] > 0 for row in rows)
    assert [row["differ_from_first"] for row in rows] == [0, 0]
