"""The training loop on a tiny random LLaVA: it learns, it resumes exactly, it exports a giqa entrant."""

from __future__ import annotations

import json

import pytest

from giqa_harness.errors import ConfigError
from giqa_harness.testing.bench import write_image
from giqa_harness.training.recipe import load_recipe

pytestmark = pytest.mark.slow

ANSWERS = [
    "The [sky](<0, 59>) is over-exposed while the [dog](<250, 293>) is sharp.",
    "The image is blurry overall, especially the [car](<120, 186>).",
    "Yes.",
    "No.",
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny LLaVA-1.5 and eight annotated conversations (DES and VQA) on distinct images."""
    from giqa_harness.testing.tiny_models import build_tiny_llava

    root = tmp_path_factory.mktemp("train")
    model = build_tiny_llava(root / "model", "llava")
    records = []
    for i in range(8):
        write_image(root / f"images/{i}.png", size=(48 + 8 * i, 40), color=(25 * i, 120, 200 - 20 * i))
        kind = "des" if i % 2 == 0 else "vqa_yn"
        question = ("Describe and evaluate the quality of the image." if kind == "des"
                    else "Is the [sky](<0, 59>) sharp?")
        records.append({"id": f"s{i}", "image": f"images/{i}.png", "kind": kind, "conversations": [
            {"from": "human", "value": f"<image>\n{question}"}, {"from": "gpt", "value": ANSWERS[i % 4]}]})
    (root / "train.json").write_text(json.dumps(records))
    return root, model


def recipe_for(workspace, out, *overrides):
    root, model = workspace
    return load_recipe("tiny-cpu", [f"model.base={model}", f"data.train={root / 'train.json'}", f"output.dir={out}",
                                    *overrides])


def read_log(out):
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_a_few_steps_lower_the_loss_and_log_loss_and_learning_rate(workspace, tmp_path):
    from giqa_harness.training.train import train

    result = train(recipe_for(workspace, tmp_path / "run", "train.max_steps=8", "output.save_every_steps=0"))
    log = read_log(tmp_path / "run")
    assert [row["step"] for row in log] == list(range(1, 9))
    losses = [row["loss"] for row in log]
    assert losses[-1] < 0.85 * losses[0], losses
    # cosine decay without warm-up: starts at the peak and decreases monotonically
    rates = [row["learning_rate"] for row in log]
    assert rates[0] == pytest.approx(1e-2) and all(a > b for a, b in zip(rates, rates[1:]))
    assert all(row["target_tokens"] > 0 for row in log)
    assert result.steps == 8 and result.final_dir == tmp_path / "run" / "final"


def test_a_resumed_run_continues_exactly_like_an_uninterrupted_one(workspace, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file

    from giqa_harness.training import train as loop

    overrides = ("train.max_steps=4", "output.save_every_steps=2")
    loop.train(recipe_for(workspace, tmp_path / "straight", *overrides))

    real_save = loop.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # killed right after the step-2 checkpoint

    monkeypatch.setattr(loop, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        loop.train(recipe_for(workspace, tmp_path / "resumed", *overrides))
    assert [row["step"] for row in read_log(tmp_path / "resumed")] == [1, 2]
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    result = loop.train(recipe_for(workspace, tmp_path / "resumed", *overrides))

    straight, resumed = read_log(tmp_path / "straight"), read_log(tmp_path / "resumed")
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]
    for a, b in zip(straight, resumed):
        for key in ("loss", "learning_rate", "target_tokens", "grad_norm"):
            assert a[key] == b[key], key
    weights_a = load_file(tmp_path / "straight" / "final" / "model.safetensors")
    weights_b = load_file(result.final_dir / "model.safetensors")
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


def test_resuming_with_a_changed_recipe_is_refused_and_a_finished_run_is_not_retrained(workspace, tmp_path):
    from giqa_harness.training.train import train

    out = tmp_path / "run"
    train(recipe_for(workspace, out, "train.max_steps=2", "output.save_every_steps=1"))
    with pytest.raises(ConfigError, match=r"recipe changed \(train.learning_rate\)"):
        train(recipe_for(workspace, out, "train.max_steps=2", "output.save_every_steps=1", "train.learning_rate=1e-4"))
    again = train(recipe_for(workspace, out, "train.max_steps=2", "output.save_every_steps=1"))
    assert again.steps == 2 and again.last_loss is None  # nothing trained twice
    assert [r["step"] for r in read_log(out)] == [1, 2]


def test_kind_filter_trains_on_one_half_only(workspace, tmp_path, capsys):
    from giqa_harness.training.train import train

    train(recipe_for(workspace, tmp_path / "des", "train.max_steps=1", "output.save_every_steps=0", "data.kinds=des"))
    assert "4 samples" in capsys.readouterr().out
    info = json.loads((tmp_path / "des" / "final" / "training.json").read_text())
    assert info["training_samples"] == 4 and info["recipe"]["data"]["kinds"] == "des"


@pytest.mark.parametrize("box_text", ["giqa_grid", "giqa_continuous"])
def test_the_final_folder_loads_as_a_giqa_entrant_speaking_its_box_syntax(workspace, tmp_path, box_text):
    from giqa_harness.evaluator import build_adapter
    from giqa_harness.training.train import train

    result = train(recipe_for(workspace, tmp_path / "run", "train.max_steps=1", "output.save_every_steps=0",
                              f"data.box_text={box_text}"))
    metadata = json.loads((result.final_dir / "giqa_adapter.json").read_text())
    assert metadata["base"] == "llava" and metadata["box_format"] == box_text
    assert metadata["frame"] == "original" and metadata["image_frame"] == "pad_square:mean"
    adapter = build_adapter("giqa", {"pretrained": str(result.final_dir), "max_new_tokens": 4})
    assert adapter.box_format.name == box_text and adapter.box_format.frame.describe() == "original"
    assert adapter.inner.image_frame.describe() == "pad_square:mean"


def test_the_saved_checkpoint_evaluates_through_the_harness_on_giqa_synth(workspace, tmp_path):
    from giqa_harness.evaluator import RunConfig, evaluate
    from giqa_harness.training.train import train

    result = train(recipe_for(workspace, tmp_path / "run", "train.max_steps=2", "output.save_every_steps=0"))
    results = evaluate(RunConfig(model="giqa", model_args={"pretrained": str(result.final_dir), "max_new_tokens": 8},
                                 tasks=["giqa_synth"], limit=2, output_path=tmp_path / "eval", log_samples=True,
                                 bootstrap=0, progress=False))
    assert set(results["results"]) == {"giqa_synth_des", "giqa_synth_vqa"}
    for task in results["results"].values():
        assert (task["n_scored"], task["n_failed"]) == (2, 0)
        assert "miou" in task["metrics"] and "tag_recall" in task["metrics"]
    assert results["model"]["box_format"]["name"] == "giqa_grid"
    assert (tmp_path / "eval" / "samples_giqa_synth_des.jsonl").is_file()
