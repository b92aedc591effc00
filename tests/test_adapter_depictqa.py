"""The depictqa adapter: DepictQA's prompt around the image features, its config and delta checkpoint, no
boxes, and batched generation through a fake of DepictQA's ``model.depictqa`` (its code cannot run here)."""

from __future__ import annotations

import pytest
import torch

from family_fakes import build_llama_folder, make_requests
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.errors import ConfigError, MissingDependencyError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.depictqa import DepictQAAdapter, build_settings, depictqa_texts, find_delta

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the human's questions. As an AI assistant, you are performing an image "
          "quality assessment task.")
CONFIG = """
model:
  llm_path: ./llm
  vision_encoder_path: ./clip/ViT-L-14.pt
  vision_feature_type: local
  unique_tag: true
vision_preprocess:
  patch_size: 8
  resize: 16
  max_size: 48
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """An experiment folder as DepictQA lays it out: config.yaml, ckpt/ckpt.pt, and here the LLM too."""
    root = tmp_path_factory.mktemp("depictqa")
    build_llama_folder(root / "llm")
    (root / "config.yaml").write_text(CONFIG)
    (root / "ckpt").mkdir()
    generator = torch.Generator().manual_seed(3)
    torch.save({"vision_proj.weight": torch.randn(32, 3, generator=generator) * 5,
                "vision_proj.bias": torch.randn(32, generator=generator)}, root / "ckpt" / "ckpt.pt")
    return root


def test_text_around_the_image_is_depictqas_single_image_no_reference_prompt():
    before, after = depictqa_texts("How is the clarity?")
    assert before == f"{SYSTEM}\n\n </s> Image: <Img>"
    assert after == "</Img>\n\n </s> USER: How is the clarity?\n   ASSISTANT: "
    with pytest.raises(ConfigError, match="quality_compare"):
        depictqa_texts("Q", "quality_compare")


def test_referring_boxes_are_written_as_plain_floats_of_the_original_image():
    fmt = get_format("llava15", "original")  # what the adapter declares: DepictQA has no box syntax
    text, _ = rerender("Is the [dog](<21, 63>) noisy?", get_format("giqa_grid"), fmt, (300, 200))
    assert text == "Is the dog [0.07, 0.07, 0.17, 0.17] noisy?"


def test_it_declares_that_it_writes_no_boxes():
    assert DepictQAAdapter.emits_boxes is False


def test_without_its_code_the_error_says_how_to_install_it():
    ok, why = DepictQAAdapter.can_load()
    assert not ok and "model.depictqa" in why
    with pytest.raises(MissingDependencyError, match=r"git clone https://github.com/XPixelGroup/DepictQA .*PYTHONPATH"):
        build_adapter("depictqa", {"pretrained": "/nowhere"})


def test_the_delta_checkpoint_is_found_in_a_file_or_an_experiment_folder(experiment):
    assert find_delta(str(experiment)) == experiment / "ckpt" / "ckpt.pt"
    assert find_delta(str(experiment / "ckpt" / "ckpt.pt")) == experiment / "ckpt" / "ckpt.pt"
    with pytest.raises(ConfigError, match="does not exist"):
        find_delta(str(experiment / "missing.pt"))


def test_the_experiments_config_beside_the_checkpoint_is_read_with_its_relative_paths(experiment):
    settings = build_settings(experiment / "ckpt" / "ckpt.pt", None, None, None)
    assert settings.model.llm_path == str(experiment / "llm")
    assert settings.model.vision_encoder_path == str(experiment / "clip" / "ViT-L-14.pt")
    assert settings["vision_preprocess"]["resize"] == 16 and settings.model.lora["lora_r"] == 16  # default kept


def test_without_a_config_the_dq495k_settings_apply_and_the_llm_is_required(tmp_path):
    delta = tmp_path / "ckpt.pt"
    delta.write_bytes(b"")
    settings = build_settings(delta, None, "lmsys/vicuna-7b-v1.5", None)
    assert settings.model.vision_encoder_path == "ViT-L/14" and settings["vision_preprocess"]["max_size"] == 672
    with pytest.raises(ConfigError, match="llm="):
        build_settings(delta, None, None, None)


@pytest.mark.slow
def test_batched_answers_equal_one_by_one_and_the_model_gets_its_prompt(experiment, fake_packages):
    from model.depictqa import INSTANCES

    adapter = build_adapter("depictqa", {"pretrained": str(experiment), "dtype": "float32"})
    model = INSTANCES[-1]
    assert torch.equal(model.vision_proj.bias, torch.load(experiment / "ckpt" / "ckpt.pt")["vision_proj.bias"])
    requests = make_requests(adapter.box_format)
    batched = adapter.generate(requests)
    one_by_one = [adapter.generate([r])[0] for r in requests]
    assert batched == one_by_one and len(set(batched)) > 1
    assert model.texts[:2] == list(depictqa_texts(requests[0].question))


@pytest.mark.slow
def test_images_keep_their_aspect_ratio_so_prompts_differ_in_length(experiment, fake_packages):
    adapter = build_adapter("depictqa", {"pretrained": str(experiment), "dtype": "float32"})
    requests = make_requests(adapter.box_format, n=3)
    wide, square = (type(r)(**{**r.__dict__, "question": "Is it sharp?"}) for r in (requests[0], requests[2]))
    assert (wide.image.size, square.image.size) == ((30, 20), (24, 24))
    # short side 16 px: 24 x 16 gives 3 x 2 patches of 8 px, 16 x 16 gives 2 x 2
    assert adapter.embed_prompt(wide).embeds.shape[0] - adapter.embed_prompt(square).embeds.shape[0] == 6 - 4
    assert adapter.generate([wide, square]) == [adapter.generate([wide])[0], adapter.generate([square])[0]]


@pytest.mark.slow
def test_bad_dtype_and_task_type_fail_before_loading(experiment, fake_packages):
    with pytest.raises(ConfigError, match="dtype"):
        build_adapter("depictqa", {"pretrained": str(experiment), "dtype": "int8"})
    with pytest.raises(ConfigError, match="task_type"):
        build_adapter("depictqa", {"pretrained": str(experiment), "task_type": "description"})
