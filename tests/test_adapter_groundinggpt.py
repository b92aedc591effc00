"""The groundinggpt adapter on a tiny random checkpoint in GroundingGPT's original layout (image branch)."""

from __future__ import annotations

import pytest
import torch

from family_fakes import make_requests, original_forward_logits
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.boxes.frames import PadSquareFrame
from giqa_harness.errors import ModelLoadError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.groundinggpt import GroundingGPTAdapter, groundinggpt_prompt
from giqa_harness.model_adapters.llava_shaped import GROUNDINGGPT_LAYOUT
from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.tiny_legacy import build_tiny_clip_tower, build_tiny_original

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")
SHORT = {"max_new_tokens": 8}


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    return build_tiny_clip_tower(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tower):
    return build_tiny_original(tmp_path_factory.mktemp("groundinggpt"), "groundinggpt", tower)


def args(checkpoint, tower, **extra):
    return {"pretrained": str(checkpoint), "vision_tower": str(tower), **extra}


def test_prompt_is_the_lego_conversation_with_hash_separators():
    assert groundinggpt_prompt("Where is the blur?", "<IMG>") == (
        f"{SYSTEM}###Human: <IMG>\nWhere is the blur?###Assistant:")


def test_referring_boxes_are_on_the_mean_padded_square():
    fmt = get_format("groundinggpt", PadSquareFrame("mean"))
    text, _ = rerender("Is the [dog](<0, 399>) noisy?", get_format("giqa_grid"), fmt, (200, 300))
    assert text == "Is the dog [0.183, 0.025, 0.817, 0.975] noisy?"  # 50 px of padding left and right


def test_a_realistic_answer_parses_back_to_the_original_image():
    answer = "The over-exposed sky [0.0, 0.167, 1.0, 0.333] and a blurry person [0.25, 0.5, 0.5, 0.8]."
    parsed = get_format("groundinggpt", PadSquareFrame("mean")).parse(answer, (300, 200))
    assert [g.phrase for g in parsed.groundings] == ["The over-exposed sky", "a blurry person"]
    assert parsed.groundings[0].boxes[0].as_tuple() == pytest.approx((0.0, 0.0005, 1.0, 0.2495), abs=1e-9)


def test_it_declares_its_format_and_frame_without_loading():
    assert GroundingGPTAdapter.frame_summary() == "groundinggpt / pad_square:mean"
    assert GroundingGPTAdapter.can_load() == (True, "ok")


@pytest.mark.slow
def test_the_vision_tower_is_the_one_its_loader_hard_codes(checkpoint):
    with pytest.raises(ModelLoadError, match="openai/clip-vit-large-patch14-336"):
        build_adapter("groundinggpt", {"pretrained": str(checkpoint)})  # offline: the hub id cannot be fetched


@pytest.mark.slow
def test_the_converted_model_computes_what_the_original_image_path_computes(checkpoint, tower):
    adapter = build_adapter("groundinggpt", args(checkpoint, tower))
    assert adapter.model.config.projector_hidden_act == "gelu"
    inputs = adapter.encode(make_requests(adapter.box_format, n=1))
    ids = inputs["input_ids"]
    patch = adapter.processor.convert_tokens_to_ids("<im_patch>")
    with torch.no_grad():
        ours = adapter.model(**inputs).logits
    theirs = original_forward_logits(checkpoint, tower, GROUNDINGGPT_LAYOUT.projector, ids, inputs["pixel_values"],
                                     patch)
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.slow
def test_images_are_pasted_on_the_clip_mean_colour(checkpoint, tower):
    adapter = build_adapter("groundinggpt", args(checkpoint, tower))
    request = make_requests(adapter.box_format, n=2)[1]  # 20 x 30
    padded = adapter.image_frame.prepare_image(request.image)
    assert padded.size == (30, 30) and padded.getpixel((0, 0)) == (122, 116, 104)
    expected = adapter.image_processor(images=[padded], return_tensors="pt")["pixel_values"]
    assert torch.allclose(adapter.encode([request])["pixel_values"], expected)


@pytest.mark.slow
def test_generation_stops_at_the_separator_and_the_answer_is_cut_there(checkpoint, tower, monkeypatch):
    adapter = build_adapter("groundinggpt", args(checkpoint, tower))
    seen = {}
    continuation = adapter.processor("Overall fair.###Human: more", add_special_tokens=False, return_tensors="pt")

    def generate(**kwargs):
        seen.update(kwargs)
        rows = kwargs["input_ids"].shape[0]
        return torch.cat([kwargs["input_ids"], continuation.input_ids.repeat(rows, 1)], dim=1)

    monkeypatch.setattr(adapter.model, "generate", generate)
    assert adapter.generate(make_requests(adapter.box_format, n=2)) == ["Overall fair.", "Overall fair."]
    assert seen["stop_strings"] == ["###"] and seen["tokenizer"] is adapter.processor


@pytest.mark.slow
def test_a_task_runs_end_to_end_with_the_same_answers_at_batch_sizes_1_and_8(checkpoint, tower, tiny_task, tmp_path):
    task = tiny_task()
    model_args = args(checkpoint, tower, **SHORT)
    results, one_by_one = run_answers("groundinggpt", model_args, task, tmp_path / "bs1", batch_size=1)
    _, batched = run_answers("groundinggpt", model_args, task, tmp_path / "bs8", batch_size=8)
    assert results["results"][task]["n_failed"] == 0
    assert results["model"]["box_format"]["frame"] == "pad_square:mean"
    assert batched == one_by_one and len(set(one_by_one.values())) > 1
