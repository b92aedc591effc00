"""The shikra adapter on a tiny random checkpoint in Shikra's original layout, converted at load time."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from family_fakes import make_requests, original_forward_logits
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.boxes.frames import PadSquareFrame
from giqa_harness.errors import MissingDependencyError, ModelLoadError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.llava_shaped import SHIKRA_LAYOUT, convert_checkpoint
from giqa_harness.model_adapters.shikra import ShikraAdapter, shikra_prompt
from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.tiny_legacy import build_tiny_clip_tower, build_tiny_original
from giqa_harness.testing.tiny_models import build_tiny_llava

SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the user's questions.")
SHORT = {"max_new_tokens": 8}


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    return build_tiny_clip_tower(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tower):
    return build_tiny_original(tmp_path_factory.mktemp("shikra"), "shikra", tower)


def test_prompt_is_vicuna_v1_1_with_the_image_before_the_question():
    assert shikra_prompt("How is the sky?", "<IMG>") == f"{SYSTEM} USER: <IMG> How is the sky? ASSISTANT:"
    # A question that places the image itself keeps it there, as Shikra's own templates do.
    placed = shikra_prompt("Summarize the photo <image>.", "<IMG>")
    assert placed == f"{SYSTEM} USER: Summarize the photo <IMG>. ASSISTANT:"


def test_referring_boxes_are_three_decimals_on_the_white_padded_square():
    fmt = get_format("shikra", PadSquareFrame("white"))
    text, _ = rerender("Is the [dog](<0, 399>) noisy?", get_format("giqa_grid"), fmt, (300, 200))
    # 300x200 pasted on a 300x300 square 50 px down: y = (0.025 * 200 + 50) / 300 = 0.18333...
    assert text == "Is the dog [0.025,0.183,0.975,0.817] noisy?"


def test_a_realistic_answer_parses_back_to_the_original_image():
    fmt = get_format("shikra", PadSquareFrame("white"))
    answer = ("The dog [0.100,0.300,0.500,0.700] is blurry and the two cars "
              "[0.600,0.350,0.700,0.450;0.750,0.400,0.900,0.500] are sharp.")
    parsed = fmt.parse(answer, (300, 200))
    assert [g.phrase for g in parsed.groundings] == ["The dog", "the two cars"]
    assert parsed.groundings[0].boxes[0].as_tuple() == pytest.approx((0.1, 0.2, 0.5, 0.8), abs=1e-9)
    assert len(parsed.groundings[1].boxes) == 2


def test_it_can_load_here_and_says_what_to_install_without_transformers(monkeypatch):
    assert ShikraAdapter.can_load() == (True, "ok")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transformers" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"pip install 'giqa-harness\[hf\]'"):
        ShikraAdapter(pretrained="/nowhere")


@pytest.mark.slow
def test_the_converted_model_computes_what_shikras_own_forward_computes(checkpoint, tower):
    adapter = build_adapter("shikra", {"pretrained": str(checkpoint)})
    assert adapter.image_tokens == 16 and adapter.model.config.vision_feature_layer == -2
    inputs = adapter.encode(make_requests(adapter.box_format, n=1))
    ids = inputs["input_ids"]
    patch = adapter.processor.convert_tokens_to_ids("<im_patch>")
    assert (ids == patch).sum() == 16
    with torch.no_grad():
        ours = adapter.model(**inputs).logits
    theirs = original_forward_logits(checkpoint, tower, SHIKRA_LAYOUT.projector, ids, inputs["pixel_values"], patch)
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.slow
def test_images_are_pasted_on_a_white_square_before_the_processor(checkpoint):
    adapter = build_adapter("shikra", {"pretrained": str(checkpoint)})
    request = make_requests(adapter.box_format, n=1)[0]  # 30 x 20
    pixels = adapter.encode([request])["pixel_values"]
    padded = PadSquareFrame("white").prepare_image(request.image)
    assert padded.getpixel((0, 0)) == (255, 255, 255)
    expected = adapter.image_processor(images=[padded], return_tensors="pt")["pixel_values"]
    assert torch.allclose(pixels, expected)


@pytest.mark.slow
def test_a_task_runs_end_to_end_with_the_same_answers_at_batch_sizes_1_and_8(checkpoint, tiny_task, tmp_path):
    task = tiny_task()
    args = {"pretrained": str(checkpoint), **SHORT}
    results, one_by_one = run_answers("shikra", args, task, tmp_path / "bs1", batch_size=1)
    _, batched = run_answers("shikra", args, task, tmp_path / "bs8", batch_size=8)
    assert results["results"][task]["n_failed"] == 0
    assert results["model"]["box_format"]["name"] == "shikra"
    assert results["model"]["box_format"]["frame"] == "pad_square:white"
    assert batched == one_by_one and len(set(one_by_one.values())) > 1


@pytest.mark.slow
def test_a_saved_conversion_loads_directly_and_answers_the_same(checkpoint, tmp_path):
    converted = convert_checkpoint("shikra", checkpoint, tmp_path / "converted")
    requests = make_requests(get_format("shikra"), generation_kwargs=SHORT)
    original = build_adapter("shikra", {"pretrained": str(checkpoint)}).generate(requests)
    assert build_adapter("shikra", {"pretrained": str(converted)}).generate(requests) == original


@pytest.mark.slow
def test_a_checkpoint_of_another_family_is_refused(tmp_path):
    folder = build_tiny_llava(tmp_path / "llava")
    with pytest.raises(ModelLoadError, match="neither an original shikra checkpoint"):
        build_adapter("shikra", {"pretrained": str(folder)})
