"""Shared transformers plumbing: model arguments, generation settings, images per frame."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from giqa_harness.boxes.frames import CenterCropFrame, OriginalFrame, PadSquareFrame
from giqa_harness.errors import ConfigError
from giqa_harness.model_adapters.hf_common import (
    DEFAULT_MAX_NEW_TOKENS, HFLoadOptions, check_prompt_template, cut_at_stops, generation_settings,
    model_input_image, with_checkpoint_mean,
)


def checkpoint(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


# -- model arguments ----------------------------------------------------------------------------


def test_pretrained_is_required_and_named_in_the_error():
    with pytest.raises(ConfigError, match="pretrained="):
        HFLoadOptions.from_args("llava", None)


def test_a_missing_local_folder_is_an_error_but_a_hub_id_is_accepted(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        HFLoadOptions.from_args("llava", str(tmp_path / "nope"))
    options = HFLoadOptions.from_args("llava", "llava-hf/llava-1.5-7b-hf", device="cpu")
    assert options.pretrained == "llava-hf/llava-1.5-7b-hf" and not options.is_local
    assert options.fingerprint() is None


def test_a_folder_without_config_is_not_a_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match="config.json"):
        HFLoadOptions.from_args("llava", str(tmp_path))


def test_defaults_are_safe_and_cpu_runs_in_float32(tmp_path):
    options = HFLoadOptions.from_args("llava", str(checkpoint(tmp_path)), device="cpu")
    assert options.trust_remote_code is False
    assert options.dtype == "float32"
    kwargs = options.from_pretrained_kwargs()
    assert kwargs["trust_remote_code"] is False and "device_map" not in kwargs


def test_load_options_map_to_from_pretrained_keywords(tmp_path):
    import torch

    options = HFLoadOptions.from_args("llava", str(checkpoint(tmp_path)), device="cuda:1", dtype="bf16",
                                      device_map="auto", attn_implementation="sdpa", trust_remote_code=True)
    kwargs = options.from_pretrained_kwargs()
    assert kwargs == {"trust_remote_code": True, "dtype": torch.bfloat16, "device_map": "auto",
                      "attn_implementation": "sdpa"}


def test_bad_dtype_and_non_boolean_trust_remote_code_are_rejected(tmp_path):
    folder = str(checkpoint(tmp_path))
    with pytest.raises(ConfigError, match="dtype"):
        HFLoadOptions.from_args("llava", folder, dtype="int3")
    with pytest.raises(ConfigError, match="trust_remote_code"):
        HFLoadOptions.from_args("llava", folder, trust_remote_code="maybe")


def test_fingerprint_changes_when_a_checkpoint_is_rewritten_in_place(tmp_path):
    folder = checkpoint(tmp_path)
    (folder / "model.safetensors").write_bytes(b"a" * 10)
    options = HFLoadOptions.from_args("llava", str(folder), device="cpu")
    before = options.fingerprint()
    (folder / "model.safetensors").write_bytes(b"b" * 11)
    assert options.fingerprint() != before


# -- generation settings ------------------------------------------------------------------------


def test_generation_is_greedy_with_one_beam_by_default():
    kwargs, stops = generation_settings({}, None)
    assert kwargs == {"do_sample": False, "num_beams": 1, "max_new_tokens": DEFAULT_MAX_NEW_TOKENS}
    assert stops == []


def test_task_settings_are_respected_and_temperature_zero_stays_greedy():
    kwargs, _ = generation_settings({"max_new_tokens": 512, "temperature": 0, "top_p": 1.0}, None)
    assert kwargs["do_sample"] is False and kwargs["max_new_tokens"] == 512 and "temperature" not in kwargs
    kwargs, _ = generation_settings({"temperature": 0.7}, None)
    assert kwargs["do_sample"] is True and kwargs["temperature"] == 0.7


def test_model_argument_max_new_tokens_overrides_the_task():
    kwargs, _ = generation_settings({"max_new_tokens": 512}, 16)
    assert kwargs["max_new_tokens"] == 16


def test_until_becomes_stop_strings_and_unknown_keys_are_errors():
    kwargs, stops = generation_settings({"until": ["###", "USER:"]}, None)
    assert stops == ["###", "USER:"] and "until" not in kwargs
    with pytest.raises(ConfigError, match="not_an_option"):
        generation_settings({"not_an_option": 1}, None)


@given(st.text(max_size=40), st.lists(st.text(min_size=1, max_size=3), max_size=3))
def test_cutting_at_stops_keeps_a_prefix_free_of_every_stop(text, stops):
    cut = cut_at_stops(text, stops)
    assert text.startswith(cut)
    assert not any(stop in cut for stop in stops)
    if not any(stop in text for stop in stops):
        assert cut == text


def test_prompt_templates_must_hold_the_question_and_the_image_marker():
    assert check_prompt_template("USER: <image>\n{question}", "<image>")
    with pytest.raises(ConfigError, match="<image>"):
        check_prompt_template("USER: {question}", "<image>")
    with pytest.raises(ConfigError, match="question"):
        check_prompt_template("USER: <image>", "<image>")


# -- images -------------------------------------------------------------------------------------


def test_mean_padding_pastes_the_image_centred_on_the_mean_colour():
    image = Image.new("RGB", (40, 60), (10, 200, 30))
    framed = model_input_image(image, PadSquareFrame(color="mean", mean_rgb=(1, 2, 3)))
    assert framed.size == (60, 60)
    assert framed.getpixel((0, 0)) == (1, 2, 3) and framed.getpixel((59, 30)) == (1, 2, 3)
    assert framed.getpixel((30, 30)) == (10, 200, 30)


def test_original_frame_squashes_to_a_square_so_a_centre_crop_cuts_nothing():
    image = Image.new("RGB", (40, 60), (10, 200, 30))
    image.putpixel((0, 0), (255, 0, 0))
    framed = model_input_image(image, OriginalFrame())
    assert framed.size == (60, 60)
    assert framed.getpixel((0, 0))[0] > 100  # the corner survived: nothing was cropped
    assert model_input_image(image, OriginalFrame(), square=False).size == (40, 60)


def test_centre_crop_frame_shows_the_model_the_crop():
    assert model_input_image(Image.new("RGB", (40, 60)), CenterCropFrame()).size == (40, 40)


def test_mean_padding_takes_the_checkpoints_image_mean():
    class Processor:
        image_mean = [0.5, 0.25, 0.0]

    frame = with_checkpoint_mean(PadSquareFrame(color="mean"), Processor())
    assert frame.fill_rgb() == (127, 63, 0)
    white = PadSquareFrame(color="white")
    assert with_checkpoint_mean(white, Processor()) is white
