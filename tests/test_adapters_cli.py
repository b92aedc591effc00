"""The transformers-native families from the command line, on the embedded synthetic bench, offline.

One real ``giqa-harness`` process (the installed console script) for LLaVA-1.5; the NeXT path and
Kosmos-2 go through the same CLI entry function in this process, to spare two torch start-ups.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from giqa_harness.cli import main
from giqa_harness.testing.tiny_models import build_tiny_kosmos2, build_tiny_llava

pytestmark = pytest.mark.slow
TASK = "giqa_synth_vqa"


def giqa_harness_script() -> str:
    found = shutil.which("giqa-harness", path=str(Path(sys.executable).parent)) or shutil.which("giqa-harness")
    assert found, "the giqa-harness console script is not installed"
    return found


def check_results(out: Path, box_format: str) -> None:
    results = json.loads((out / "results.json").read_text())
    task = results["results"][TASK]
    assert task["n_samples"] == 10 and task["n_failed"] == 0
    assert results["model"]["box_format"]["name"] == box_format
    answers = [json.loads(line)["answer"] for line in (out / f"samples_{TASK}.jsonl").read_text().splitlines()]
    assert len(answers) == 10 and all(isinstance(a, str) for a in answers)


def test_llava15_from_the_console_script(tmp_path):
    model = build_tiny_llava(tmp_path / "llava")
    out = tmp_path / "out"
    command = [giqa_harness_script(), "--model", "llava", "--model_args", f"pretrained={model},max_new_tokens=8",
               "--tasks", TASK, "--limit", "10", "--batch_size", "4", "--output_path", str(out), "--log_samples",
               "--bootstrap", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert TASK in done.stdout
    check_results(out, "llava15")


@pytest.mark.parametrize("builder, box_format", [
    (lambda folder: build_tiny_llava(folder, "llava_next"), "llava16"),
    (build_tiny_kosmos2, "kosmos2"),
], ids=["llava_next", "kosmos2"])
def test_next_and_kosmos2_through_the_cli(tmp_path, capsys, builder, box_format):
    model = builder(tmp_path / "model")
    name = "kosmos2" if box_format == "kosmos2" else "llava"
    out = tmp_path / "out"
    code = main(["--model", name, "--model_args", f"pretrained={model},max_new_tokens=8", "--tasks", TASK,
                 "--limit", "10", "--batch_size", "4", "--output_path", str(out), "--log_samples", "--bootstrap", "0"])
    assert code == 0
    assert TASK in capsys.readouterr().out
    check_results(out, box_format)
