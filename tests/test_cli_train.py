"""``giqa-harness train``: recipes by name or path, overrides, dry runs, errors as exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from giqa_harness.cli import main
from giqa_harness.testing.bench import write_image


def conversations(tmp_path, n=6):
    records = []
    for i in range(n):
        write_image(tmp_path / f"img/{i}.png")
        records.append({"id": f"r{i}", "image": f"img/{i}.png", "kind": "des" if i % 3 else "vqa_yn",
                        "conversations": [{"from": "human", "value": "<image>\nDescribe the quality."},
                                          {"from": "gpt", "value": "The [sky](<0, 59>) is blurry."}]})
    path = tmp_path / "train.json"
    path.write_text(json.dumps(records))
    return path


def test_list_shows_the_builtin_recipes_without_importing_torch():
    code = "from giqa_harness.cli import main; main(['train', '--list']); import sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "llava-1.5-7b: LLaVA-1.5-7B" in out and "tiny-cpu:" in out
    assert out.strip().endswith("False")


def test_dry_run_prints_the_recipe_and_the_batch_plan(tmp_path, capsys, monkeypatch):
    data = conversations(tmp_path)
    args = ["train", "llava-1.5-7b", f"data.train={data}", "data.kinds=des", "--dry-run"]
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert '"learning_rate": 2e-05' in out
    assert "global batch 64 = 16 per device x 1 accumulation x 4; 4 samples, 1 steps/epoch, 2 steps" in out
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert main(args) == 0
    assert "16 per device x 4 accumulation x 1" in capsys.readouterr().out


def test_errors_name_the_field_and_exit_with_2(tmp_path, capsys, monkeypatch):
    assert main(["train", "llava-1.5-7b"]) == 2
    assert "data.train" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert main(["train", "llava-1.5-7b", f"data.train={conversations(tmp_path)}", "--dry-run"]) == 2
    assert "not divisible" in capsys.readouterr().err


@pytest.mark.slow
def test_train_runs_a_tiny_recipe_and_says_how_to_evaluate_it(tmp_path, capsys):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    model = build_tiny_llava(tmp_path / "model")
    out = tmp_path / "run"
    code = main(["train", "tiny-cpu", f"model.base={model}", f"data.train={conversations(tmp_path)}",
                 f"output.dir={out}", "train.max_steps=1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "step 1/1 loss" in printed and f"--model giqa --model_args pretrained={out / 'final'}" in printed
    assert (out / "final" / "giqa_adapter.json").is_file()
