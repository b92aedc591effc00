"""The llava adapter on tiny random LLaVA-1.5 and LLaVA-NeXT checkpoints built offline."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from giqa_harness.errors import ConfigError, ModelLoadError
from giqa_harness.evaluator import build_adapter
from giqa_harness.models import Request
from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.tiny_models import build_tiny_kosmos2, build_tiny_llava

pytestmark = pytest.mark.slow
SHORT = {"max_new_tokens": 8}


@pytest.fixture(scope="module")
def llava15(tmp_path_factory):
    return build_tiny_llava(tmp_path_factory.mktemp("llava15"), "llava")


@pytest.fixture(scope="module")
def llava_next(tmp_path_factory):
    return build_tiny_llava(tmp_path_factory.mktemp("llava_next"), "llava_next")


def make_request(question, size=(40, 60)):
    image = Image.new("RGB", size, (10, 200, 30))
    return Request(doc_id="x", task="t", question=question, image=image, image_size=size)


def test_llava15_runs_a_task_end_to_end_and_declares_the_mean_padded_frame(llava15, tiny_task, tmp_path):
    task = tiny_task()
    results, answers = run_answers("llava", {"pretrained": str(llava15), **SHORT}, task, tmp_path / "run")
    assert results["results"][task]["n_scored"] == 6 and results["results"][task]["n_failed"] == 0
    assert set(answers) == {"d1", "d2", "y1", "y2", "w1", "w2"}
    fmt = results["model"]["box_format"]
    assert fmt["name"] == "llava15" and fmt["frame"] == "pad_square:mean"


def test_next_checkpoint_selects_the_next_class_and_the_original_frame(llava_next):
    adapter = build_adapter("llava", {"pretrained": str(llava_next), **SHORT})
    assert adapter.variant == "1.6"
    assert type(adapter.model).__name__ == "LlavaNextForConditionalGeneration"
    assert adapter.box_format.name == "llava16" and adapter.box_format.frame.describe() == "original"
    inputs = adapter.encode([make_request("Is it sharp?")])
    assert inputs["image_sizes"].tolist() == [[60, 40]]  # anyres tiles the unpadded image


@pytest.mark.parametrize("variant", ["llava15", "llava_next"])
def test_answers_do_not_depend_on_the_batch_size(variant, request, tiny_task, tmp_path):
    folder = request.getfixturevalue(variant)
    task = tiny_task()
    # The short chat-template prompt: behind the long system sentence a random 2-layer model gives every
    # question the same answer, and the check below would prove nothing.
    args = {"pretrained": str(folder), "prompt": "chat_template", **SHORT}
    _, one_by_one = run_answers("llava", args, task, tmp_path / "bs1", batch_size=1)
    _, batched = run_answers("llava", args, task, tmp_path / "bs8", batch_size=8)
    assert batched == one_by_one
    assert len(set(one_by_one.values())) > 1  # different prompts really produced different answers


def test_llava15_really_pads_the_image_before_the_processor(llava15):
    adapter = build_adapter("llava", {"pretrained": str(llava15), **SHORT})
    req = make_request("Is it sharp?")
    pixels = adapter.encode([req])["pixel_values"]
    padded = adapter.image_frame.prepare_image(req.image)
    assert padded.size == (60, 60)
    expected = adapter.processor.image_processor(images=[padded], return_tensors="pt")["pixel_values"]
    cropped = adapter.processor.image_processor(images=[req.image], return_tensors="pt")["pixel_values"]
    assert (pixels - expected).abs().max().item() < 1e-6
    assert (pixels - cropped).abs().max().item() > 1e-3  # the processor alone would have centre-cropped


VICUNA_V1 = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
             "helpful, detailed, and polite answers to the user's questions. USER: <image>\nQ? ASSISTANT:")


def test_by_default_both_vicuna_based_variants_use_the_authors_vicuna_v1_conversation(llava15, llava_next):
    assert build_adapter("llava", {"pretrained": str(llava15)}).prompt("Q?") == VICUNA_V1
    assert build_adapter("llava", {"pretrained": str(llava_next)}).prompt("Q?") == VICUNA_V1  # a Llama LM


def test_prompt_chat_template_renders_the_processors_template(llava15, llava_next):
    chat = {"prompt": "chat_template"}
    assert build_adapter("llava", {"pretrained": str(llava15), **chat}).prompt("Q?") == "USER: <image>\nQ? ASSISTANT:"
    assert build_adapter("llava", {"pretrained": str(llava_next), **chat}).prompt("Q?") == "[INST] <image>\nQ? [/INST]"
    with pytest.raises(ConfigError, match="conversation, chat_template"):
        build_adapter("llava", {"pretrained": str(llava15), "prompt": "vicuna"})


def test_without_a_chat_template_the_conversation_is_unchanged(llava15, tmp_path):
    bare = tmp_path / "no_template"
    shutil.copytree(llava15, bare)
    (bare / "chat_template.jinja").unlink()
    assert build_adapter("llava", {"pretrained": str(bare)}).prompt("Q?") == VICUNA_V1
    assert build_adapter("llava", {"pretrained": str(bare), "prompt": "chat_template"}).prompt("Q?") == (
        "USER: <image>\nQ? ASSISTANT:")  # what checkpoints without a template were always given


def test_load_in_8bit_is_refused_off_a_gpu_with_the_reason(llava15):
    with pytest.raises(ConfigError, match="load_in_8bit needs a CUDA GPU.*device is cpu"):
        build_adapter("llava", {"pretrained": str(llava15), "load_in_8bit": True})
    with pytest.raises(ConfigError, match="load_in_8bit"):
        build_adapter("llava", {"pretrained": str(llava15), "load_in_8bit": "yes please"})


def test_load_in_8bit_on_a_gpu_without_bitsandbytes_says_what_to_install(monkeypatch):
    import importlib.util
    from types import SimpleNamespace

    from giqa_harness.errors import MissingDependencyError
    from giqa_harness.model_adapters.llava import eight_bit_kwargs

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real_find_spec(name, *a))
    with pytest.raises(MissingDependencyError, match="pip install bitsandbytes"):
        eight_bit_kwargs(SimpleNamespace(device="cuda:0"))


def test_mistral_based_next_uses_the_inst_template():
    from giqa_harness.model_adapters.llava import family_template

    assert family_template("mistral") == "[INST] <image>\n{question} [/INST]"
    assert family_template("llama") == "USER: <image>\n{question} ASSISTANT:"


def test_prompt_template_and_frame_overrides(llava15):
    adapter = build_adapter("llava", {"pretrained": str(llava15), "prompt_template": "Q: <image> {question} A:",
                                      "box_format": "llava16", "frame": "original"})
    assert adapter.prompt("x") == "Q: <image> x A:"
    assert adapter.box_format.name == "llava16" and adapter.image_frame.describe() == "original"
    with pytest.raises(ConfigError, match="question"):
        build_adapter("llava", {"pretrained": str(llava15), "prompt_template": "no placeholder <image>"})


def test_a_checkpoint_of_another_family_is_refused_with_the_reason(tmp_path):
    folder = build_tiny_kosmos2(tmp_path / "k2")
    with pytest.raises(ModelLoadError, match="kosmos-2"):
        build_adapter("llava", {"pretrained": str(folder)})


def test_unknown_model_argument_is_a_config_error(llava15):
    with pytest.raises(ConfigError, match="colour.*prompt_template"):
        build_adapter("llava", {"pretrained": str(llava15), "colour": "blue"})
