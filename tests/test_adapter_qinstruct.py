"""The qinstruct presets: published checkpoint ids, delegation to the llava and owl2 adapters with their
prompts and formats, and the one-time conversion of Q-Instruct's original-layout LLaVA checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from family_fakes import build_llama_folder, make_requests, original_forward_logits
from giqa_harness.errors import ConfigError, ModelLoadError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.llava import LlavaAdapter
from giqa_harness.model_adapters.llava_shaped import LLAVA_LAYOUT, as_llava_hf
from giqa_harness.model_adapters.owl2 import Owl2Adapter
from giqa_harness.model_adapters.qinstruct import PRESETS, QInstructAdapter
from giqa_harness.testing.tiny_legacy import build_tiny_clip_tower, build_tiny_original

LLAVA_V1_SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
                   "The assistant gives helpful, detailed, and polite answers to the human's questions.")
VICUNA_V1_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                    "The assistant gives helpful, detailed, and polite answers to the user's questions.")


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    return build_tiny_clip_tower(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def original_llava(tmp_path_factory, tower):
    return build_tiny_original(tmp_path_factory.mktemp("qinstruct_llava"), "llava", tower)


def test_presets_name_the_published_checkpoints_and_their_base_family():
    assert PRESETS == {
        "llava-7b": ("llava", "teowu/llava_v1.5_7b_qinstruct_preview_v0.1"),
        "llava-13b": ("llava", "teowu/llava_v1.5_13b_qinstruct_preview_v0.1"),
        "owl2-7b": ("owl2", "teowu/mplug_owl2_7b_448_qinstruct_preview_v0.2"),
    }


def test_an_unknown_variant_lists_the_presets():
    with pytest.raises(ConfigError, match="llava-7b, llava-13b, owl2-7b"):
        QInstructAdapter(variant="llava-34b")


def test_it_can_load_only_when_the_default_variants_package_is_there():
    ok, why = QInstructAdapter.can_load()
    assert not ok and why.startswith("variant owl2-7b: missing mplug_owl2")


@pytest.mark.slow
def test_owl2_variant_is_the_owl2_adapter_on_the_published_checkpoint(fake_packages):
    from mplug_owl2.model import LOADS

    with pytest.raises(ModelLoadError):  # offline: the hub checkpoint cannot be fetched
        build_adapter("qinstruct", {"variant": "owl2-7b"})
    assert LOADS[-1]["path"] == "teowu/mplug_owl2_7b_448_qinstruct_preview_v0.2"


@pytest.mark.slow
def test_owl2_variant_answers_exactly_as_the_owl2_adapter(fake_packages, tmp_path):
    folder = build_llama_folder(tmp_path / "owl2")
    preset = build_adapter("qinstruct", {"variant": "owl2-7b", "pretrained": str(folder)})
    assert isinstance(preset.delegate, Owl2Adapter) and preset.box_format.name == "owl2"
    assert preset.box_format.frame.describe() == "pad_square:mean"  # protocol=trained: as it was fine-tuned
    requests = make_requests(preset.box_format)
    same = {"prompt_template": f"{VICUNA_V1_SYSTEM} USER: <|image|>\n{{question}} ASSISTANT:",
            "frame": "pad_square:mean"}
    assert preset.generate(requests) == build_adapter("owl2", {"pretrained": str(folder), **same}).generate(requests)
    assert preset.identity()["variant"] == "owl2-7b" and preset.identity()["protocol"] == "trained"


@pytest.mark.slow
def test_owl2_eval_script_protocol_is_the_qbench_conversation_on_the_processors_centre_crop(fake_packages, tmp_path):
    folder = build_llama_folder(tmp_path / "owl2")
    preset = build_adapter("qinstruct", {"variant": "owl2-7b", "pretrained": str(folder), "protocol": "eval_script"})
    assert preset.delegate.template == "USER: <|image|>{question} ASSISTANT:"
    assert preset.box_format.frame.describe() == "center_crop"
    with pytest.raises(ConfigError, match="trained, eval_script"):
        build_adapter("qinstruct", {"variant": "owl2-7b", "pretrained": str(folder), "protocol": "qbench"})


@pytest.mark.slow
def test_llava_variant_converts_the_original_checkpoint_once_and_prompts_like_llava_v1(original_llava):
    preset = build_adapter("qinstruct", {"variant": "llava-7b", "pretrained": str(original_llava),
                                         "max_new_tokens": 6})
    assert isinstance(preset.delegate, LlavaAdapter)
    assert preset.box_format.name == "llava15" and preset.box_format.frame.describe() == "pad_square:mean"
    assert preset.delegate.prompt("Q?") == f"{VICUNA_V1_SYSTEM} USER: <image>\nQ? ASSISTANT:"  # --version v1
    scripted = build_adapter("qinstruct", {"variant": "llava-7b", "pretrained": str(original_llava),
                                           "protocol": "eval_script"})
    assert scripted.delegate.prompt("Q?") == f"{LLAVA_V1_SYSTEM} USER: <image>\nQ? ASSISTANT:"  # llava_v1
    assert scripted.box_format.frame.describe() == "center_crop"
    converted = Path(as_llava_hf(str(original_llava)))
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    again = build_adapter("qinstruct", {"variant": "llava-7b", "pretrained": str(original_llava)})
    assert again.delegate.options.pretrained == str(converted)
    assert (converted / "model.safetensors").stat().st_mtime_ns == stamp  # converted once, then reused
    requests = make_requests(preset.box_format, generation_kwargs={"max_new_tokens": 6})
    batched = preset.generate(requests)
    assert batched == [preset.generate([r])[0] for r in requests] and len(set(batched)) > 1


@pytest.mark.slow
def test_the_converted_llava_computes_what_llavas_original_forward_computes(original_llava, tower):
    adapter = build_adapter("llava", {"pretrained": as_llava_hf(str(original_llava))})
    inputs = adapter.encode(make_requests(adapter.box_format, n=1))
    image_token = adapter.model.config.image_token_index
    assert (inputs["input_ids"] == image_token).sum() == 16
    with torch.no_grad():
        ours = adapter.model(**inputs).logits
    theirs = original_forward_logits(original_llava, tower, LLAVA_LAYOUT.projector, inputs["input_ids"],
                                     inputs["pixel_values"], image_token)
    assert torch.allclose(ours[..., :theirs.shape[-1]], theirs, atol=1e-5)
