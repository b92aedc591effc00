"""The giqa adapter: checkpoints written by training/, described by giqa_adapter.json."""

from __future__ import annotations

import json

import pytest

from giqa_harness.errors import ConfigError, ModelLoadError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.giqa import METADATA_FILE, GiqaAdapter, GiqaCheckpointInfo
from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.tiny_models import build_tiny_llava


@pytest.fixture(scope="module")
def entrant(tmp_path_factory):
    """A tiny LLaVA-1.5 'fine-tuned' on padded images with original-image grid boxes."""
    folder = build_tiny_llava(tmp_path_factory.mktemp("giqa_llava"), "llava")
    GiqaCheckpointInfo(base="llava", image_frame="pad_square:mean", base_model="tiny").write(folder)
    return folder


def test_checkpoint_info_round_trips_through_its_file(tmp_path):
    info = GiqaCheckpointInfo(base="owl2", frame="original", image_frame=None,
                              prompt_template="USER: <|image|>{question} ASSISTANT:")
    path = info.write(tmp_path)
    assert path.name == METADATA_FILE
    assert GiqaCheckpointInfo.read(tmp_path) == info


def test_a_folder_without_the_file_says_what_is_missing(tmp_path):
    with pytest.raises(ConfigError, match=METADATA_FILE):
        GiqaCheckpointInfo.read(tmp_path)


@pytest.mark.parametrize("data, message", [
    ({"base": "shikra"}, "base"),
    ({}, "base"),
    ({"base": "llava", "frame": "sideways"}, "frame"),
    ({"base": "llava", "prompt_template": "no placeholder"}, "prompt_template"),
    ({"base": "llava", "colour": "red"}, "unknown fields colour"),
    ({"base": "llava", "schema_version": 99}, "schema_version"),
])
def test_bad_metadata_names_the_field(tmp_path, data, message):
    (tmp_path / METADATA_FILE).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        GiqaCheckpointInfo.read(tmp_path)


@pytest.mark.slow
def test_a_llava_entrant_runs_end_to_end_in_the_grid_syntax_on_the_original_frame(entrant, tiny_task, tmp_path):
    task = tiny_task()
    results, answers = run_answers("giqa", {"pretrained": str(entrant), "max_new_tokens": 8}, task, tmp_path / "run")
    assert results["results"][task]["n_scored"] == 6
    assert results["model"]["box_format"]["name"] == "giqa_grid"
    assert results["model"]["box_format"]["frame"] == "original"
    assert results["model"]["base"] == "llava"


@pytest.mark.slow
def test_images_are_prepared_as_in_training_while_boxes_stay_original(entrant):
    adapter = build_adapter("giqa", {"pretrained": str(entrant)})
    assert adapter.inner.image_frame.describe() == "pad_square:mean"
    assert adapter.box_format.frame.describe() == "original"
    # the question reaches the model in the grid syntax it was trained on
    prompt = adapter.inner.prompt("Is the [sky](<0, 59>) bright?")
    assert prompt == "USER: <image>\nIs the [sky](<0, 59>) bright? ASSISTANT:"


@pytest.mark.slow
def test_command_line_arguments_override_the_file(entrant):
    adapter = build_adapter("giqa", {"pretrained": str(entrant), "image_frame": "original"})
    assert adapter.inner.image_frame.describe() == "original"


def test_a_base_whose_adapter_is_missing_is_a_clear_error(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from giqa_harness import plugins

    GiqaCheckpointInfo(base="owl2").write(tmp_path)
    failed = plugins.PluginInfo(name="owl2", version=None, module="m", error="ImportError: mplug_owl2")
    monkeypatch.setattr(plugins, "registry", lambda: SimpleNamespace(models={}, plugins={"owl2": failed}))
    with pytest.raises(ModelLoadError, match="'owl2' model adapter.*mplug_owl2"):
        GiqaAdapter(pretrained=str(tmp_path))


@pytest.mark.slow
def test_an_older_owl2_entrant_without_a_recorded_prompt_gets_the_conversation_it_was_trained_on(tmp_path,
                                                                                               monkeypatch):
    from family_fakes import build_llama_folder, forget_fake_packages, use_fake_packages

    use_fake_packages(monkeypatch)
    try:
        folder = build_llama_folder(tmp_path / "owl2")
        GiqaCheckpointInfo(base="owl2").write(folder)
        adapter = build_adapter("giqa", {"pretrained": str(folder)})
    finally:
        forget_fake_packages()
    # not the owl2 adapter's eval-script default, whose prompt ends with a space
    assert adapter.inner.template == "USER: <|image|>{question} ASSISTANT:"
