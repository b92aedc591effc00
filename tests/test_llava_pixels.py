"""LLaVA-1.5's pixel values computed per image ahead (in the prefetch pool), tokenization apart:
the same model inputs and answers as the whole processor call, checked on the first batch."""

from __future__ import annotations

import pytest
from PIL import Image

from giqa_harness.evaluator import build_adapter
from giqa_harness.models import Request
from giqa_harness.testing.tiny_models import build_tiny_llava

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    folder = build_tiny_llava(tmp_path_factory.mktemp("llava15"), "llava")
    return build_adapter("llava", {"pretrained": str(folder), "max_new_tokens": 6})


def requests():
    """Images of different sizes and shapes (padded, then resized by the processor), prompts of
    different lengths (left padding)."""
    images = [Image.effect_noise((640, 480), 60 + 30 * i).convert("RGB") for i in range(3)]
    questions = ["Is it sharp?", "Describe and evaluate the quality of the [sky](<0, 59>) in detail.", "Why?"]
    return [Request(doc_id=f"r{i}", task="t", question=q, image=im.resize((640 - 100 * i, 480)), image_size=(640, 480),
                    generation_kwargs={"max_new_tokens": 6})
            for i, (q, im) in enumerate(zip(questions, images))]


def test_the_split_inputs_equal_the_whole_processor_calls(adapter):
    from model_adapters.llava_pixels import SplitEncoder, same_inputs

    batch = requests()
    prepared = [adapter.prepare_image(r.image) for r in batch]
    prompts = [adapter.prompt(r.question) for r in batch]
    encoder = SplitEncoder(adapter.processor)
    split, whole = encoder.split(prompts, prepared), encoder.whole(prompts, prepared)
    assert set(split.keys()) == {"input_ids", "attention_mask", "pixel_values"}
    assert same_inputs(split, whole)
    assert encoder.verified is None and same_inputs(encoder.encode(prompts, prepared), whole)
    assert encoder.verified is True  # later batches skip the whole call


def test_a_processor_that_expands_prompts_otherwise_keeps_the_whole_call(adapter, monkeypatch):
    from model_adapters.llava_pixels import SplitEncoder, same_inputs

    batch = requests()
    prepared = [adapter.prepare_image(r.image) for r in batch]
    prompts = [adapter.prompt(r.question) for r in batch]
    encoder = SplitEncoder(adapter.processor)
    whole = encoder.whole(prompts, prepared)
    one_short = encoder.expansion(whole["pixel_values"], 0)[:-len(encoder.image_token)]
    monkeypatch.setattr(encoder, "expansion", lambda pixel_values, index: one_short)
    assert same_inputs(encoder.encode(prompts, prepared), whole) and encoder.verified is False
    assert same_inputs(encoder.encode(prompts, prepared), whole)


def test_answers_are_the_same_with_and_without_the_split(adapter):
    batch = requests()
    adapter.split_encoder.verified = False  # the whole processor call for every batch
    whole = adapter.generate(batch)
    adapter.split_encoder.verified = None
    first = adapter.generate(batch)  # verifies
    assert adapter.split_encoder.verified is True
    assert adapter.generate(batch) == first == whole
    assert all(isinstance(answer, str) for answer in whole)
