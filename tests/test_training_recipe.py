"""Training recipes: the paper's settings as defaults, overrides, and errors that name the field."""

from __future__ import annotations

import pytest

from giqa_harness.errors import ConfigError
from giqa_harness.training.recipe import builtin_recipes, load_recipe

REQUIRED = ["data.train=train.json", "output.dir=out"]


def test_builtin_recipes_are_listed():
    assert {"llava-1.5-7b", "llava-1.5-13b", "llava-1.6-7b", "mplug-owl2-7b", "tiny-cpu"} <= set(builtin_recipes())


@pytest.mark.parametrize("name", ["llava-1.5-7b", "llava-1.5-13b", "llava-1.6-7b", "mplug-owl2-7b"])
def test_real_recipes_keep_the_papers_settings(name):
    recipe = load_recipe(name, ["data.train=giqa.json"])
    t = recipe.train
    assert (t.learning_rate, t.adam_beta1, t.adam_beta2) == (2e-5, 0.9, 0.999)
    assert (t.lr_scheduler, t.warmup_ratio, t.global_batch_size, t.epochs) == ("cosine", 0.03, 64, 2)
    assert t.mixed_precision == "auto"
    assert recipe.model.gradient_checkpointing
    # 4 processes, as the paper trained on 4 GPUs, divide the global batch exactly.
    assert 64 % (t.per_device_batch_size * 4) == 0


def test_overrides_are_typed_and_bare_names_resolve_to_their_section():
    recipe = load_recipe("tiny-cpu", REQUIRED + ["model.base=/m", "learning_rate=3e-4", "train.epochs=1",
                                                 "data.kinds=des", "data.train=[a.json, b.json]"])
    assert recipe.train.learning_rate == pytest.approx(3e-4)  # "3e-4" is a string to YAML 1.1
    assert recipe.train.epochs == 1
    assert recipe.data.kinds == "des"
    assert recipe.data.train == ["a.json", "b.json"]


def test_a_recipe_file_can_be_given_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("model: {family: llava, base: /m}\ndata: {train: x.json}\noutput: {dir: o}\n")
    recipe = load_recipe(path)
    assert recipe.name == "mine" and recipe.data.train == ["x.json"]
    assert recipe.train.global_batch_size == 64


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.learning_rat=1", "train.learning_rat (did you mean train.learning_rate?)"),
        ("train.epochs=two", "field train.epochs must be an integer"),
        ("train.learning_rate=fast", "field train.learning_rate must be a number"),
        ("data.kinds=all", "field data.kinds is 'all'; expected one of both, des, vqa"),
        ("model.family=qwen", "field model.family is 'qwen'"),
        ("model.image_frame=pad_square:pink", "field model.image_frame"),
        ("train.warmup_ratio=1.5", "field train.warmup_ratio must be in [0, 1)"),
        ("train.per_device_batch_size=3", "train.global_batch_size (4) is not a multiple"),
        ("model.freeze_vision_tower=maybe", "field model.freeze_vision_tower must be true or false"),
        ("optim.lr=1", "unknown section 'optim'"),
        ("seed", "bad override 'seed'"),
    ],
)
def test_bad_values_name_the_field(override, message):
    with pytest.raises(ConfigError, match=None) as info:
        load_recipe("tiny-cpu", REQUIRED + ["model.base=/m", override])
    assert message in str(info.value)
    if "=" in override and not override.startswith("optim"):
        assert "tiny-cpu.yaml" in str(info.value) or "override" in str(info.value)


def test_missing_essentials_say_how_to_set_them():
    with pytest.raises(ConfigError, match=r"model.base must be set"):
        load_recipe("tiny-cpu", REQUIRED)
    with pytest.raises(ConfigError, match=r"data.train=PATH"):
        load_recipe("llava-1.5-7b")


def test_unknown_recipe_suggests_close_names():
    with pytest.raises(ConfigError, match="Did you mean: llava-1.5-7b"):
        load_recipe("llava-1.5-7")


def test_to_json_round_trips_through_the_loader(tmp_path):
    import yaml

    recipe = load_recipe("tiny-cpu", REQUIRED + ["model.base=/m"])
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump(recipe.to_json()))
    assert load_recipe(path) == recipe
