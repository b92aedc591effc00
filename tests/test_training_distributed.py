"""Data-parallel training: two CPU processes under torchrun train exactly what one process trains.

The same recipe on 1 process (2 per device x 2 accumulation) and on 2 processes (2 per device x 1
accumulation) reads the same global batches and normalises the loss by the same answer-token count,
so the logged losses agree and the weights agree to float rounding.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_like_one(tmp_path):
    import torch
    from safetensors.torch import load_file

    from giqa_harness.testing.bench import write_image
    from giqa_harness.testing.tiny_models import build_tiny_llava
    from giqa_harness.training.recipe import load_recipe
    from giqa_harness.training.train import train

    model = build_tiny_llava(tmp_path / "model")
    answers = ["The [sky](<0, 59>) is blurry.", "No.", "Yes, the [dog](<250, 293>) is sharp.", "Low."]
    records = []
    for i in range(8):
        write_image(tmp_path / f"img/{i}.png", size=(48 + 8 * i, 40), color=(25 * i, 120, 200 - 20 * i))
        records.append({"id": f"x{i}", "image": f"img/{i}.png", "conversations": [
            {"from": "human", "value": "<image>\nDescribe the quality."}, {"from": "gpt", "value": answers[i % 4]}]})
    (tmp_path / "train.json").write_text(json.dumps(records))
    overrides = [f"model.base={model}", f"data.train={tmp_path / 'train.json'}", "train.max_steps=2",
                 "output.save_every_steps=0"]

    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), "-m", "giqa_harness", "train", "tiny-cpu", *overrides,
               f"output.dir={tmp_path / 'two'}"]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 per device x 1 accumulation x 2 process(es)" in done.stdout

    train(load_recipe("tiny-cpu", [*overrides, f"output.dir={tmp_path / 'one'}"]))

    def log(name):
        return [json.loads(line) for line in (tmp_path / name / "train_log.jsonl").read_text().splitlines()]

    for one, two in zip(log("one"), log("two"), strict=True):
        assert one["target_tokens"] == two["target_tokens"]
        assert one["loss"] == pytest.approx(two["loss"], rel=1e-5)
        # the same gradient, not just the same direction (Adam and clipping would hide a constant factor)
        assert one["grad_norm"] == pytest.approx(two["grad_norm"], rel=1e-4)
        assert one["learning_rate"] == two["learning_rate"]
    a = load_file(tmp_path / "one" / "final" / "model.safetensors")
    b = load_file(tmp_path / "two" / "final" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)
