"""Data-parallel evaluation: two CPU processes under torchrun give the one-process results."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.bench import write_bench
from giqa_harness.testing.tiny_models import build_tiny_llava

pytestmark = pytest.mark.slow
TASK = "giqa_vqa"  # a built-in task reading $GIQA_BENCH_DIR, so the launched processes find it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_ranks_answer_shards_and_rank_zero_scores_them_all(tmp_path, monkeypatch):
    model = build_tiny_llava(tmp_path / "llava")
    bench = write_bench(tmp_path / "bench", file="giqa_bench.jsonl")
    monkeypatch.setenv("GIQA_BENCH_DIR", str(bench))
    model_args = f"pretrained={model},max_new_tokens=8"
    out = tmp_path / "dp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        "-m", "giqa_harness", "--model", "llava", "--model_args", model_args, "--tasks", TASK,
        "--output_path", str(out), "--log_samples", "--bootstrap", "0", "--no_progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]

    parallel = json.loads((out / "results.json").read_text())
    rows = [json.loads(line) for line in (out / f"samples_{TASK}.jsonl").read_text().splitlines()]
    # Rank 0 found every answer in the shared cache: the other rank really answered its shard.
    assert parallel["results"][TASK]["cache"] == {"reused": len(rows), "generated": 0}

    single, answers = run_answers("llava", {"pretrained": str(model), "max_new_tokens": 8}, TASK, tmp_path / "one")
    assert {row["doc_id"]: row["answer"] for row in rows} == answers
    assert [row["doc_id"] for row in rows] == list(answers)
    assert parallel["results"][TASK]["metrics"] == single["results"][TASK]["metrics"]
