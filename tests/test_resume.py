"""A run killed at any point resumes: it regenerates nothing it has and ends with identical results."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from giqa_harness.testing.bench import write_bench, write_task
from giqa_harness.testing.distributions import make_distribution

SLOW_PLUGIN = '''
import time
from pathlib import Path
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter
from giqa_harness.boxes.formats import get_format

TASK_DIR = Path(__file__).with_name("slow_tasks")


class SlowAdapter(ModelAdapter):
    """Logs every doc it generates for, and takes its time, so a run can be killed half-way."""

    name = "slow"

    def __init__(self, log, delay=0.15):
        self.box_format = get_format("giqa_grid")
        self.log, self.delay = log, float(delay)
        self.model_args = {}  # the log path is not part of the model's identity

    def generate(self, requests):
        time.sleep(self.delay)
        with open(self.log, "a") as fh:
            fh.writelines(r.doc_id + "\\n" for r in requests)
        return [f"Answer to {r.doc_id}: the [sky](<0, 59>) is fine. Yes." for r in requests]


@hookimpl
def register_models(register):
    register(SlowAdapter)


@hookimpl
def register_tasks(register):
    register(TASK_DIR)
'''


def records(n):
    return [{"id": f"s{i:02d}", "image": "images/a.png", "kind": "vqa_yn", "qtype": "yes" if i % 2 else "no",
             "question": "Is the [sky](<0, 59>) fine?", "answer": "Yes." if i % 2 else "No."} for i in range(n)]


def run_cli(site, out, log, wait=True):
    cmd = [sys.executable, "-m", "giqa_harness", "--model", "slow", "--model_args", f"log={log}",
           "--tasks", "slow_task", "--output_path", str(out), "--log_samples", "--batch_size", "2"]
    env = {**os.environ, "PYTHONPATH": str(site)}
    if wait:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def comparable(results_file):
    data = json.loads(results_file.read_text())
    for task in data["results"].values():
        task.pop("timings"), task.pop("cache")
    return data["results"]


def test_killed_run_resumes_without_regenerating(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "giqa-slow-plugin", SLOW_PLUGIN, {"slow": "giqa_slow_plugin"})
    data = write_bench(tmp_path / "data", records(16))
    write_task(site / "slow_tasks", "slow_task", data, metrics=[])

    out, log = tmp_path / "run", tmp_path / "generated.log"
    proc = run_cli(site, out, log, wait=False)
    deadline = time.time() + 60
    while time.time() < deadline and (not log.exists() or len(log.read_text().split()) < 6):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # a real kill, mid-run: no cleanup, no atexit
    proc.wait()
    with sqlite3.connect(out / "cache.sqlite") as db:
        cached_at_kill = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    first_run = log.read_text().split()
    assert 0 < cached_at_kill < 16
    assert not (out / "results.json").exists()

    run_cli(site, out, log)
    second_run = log.read_text().split()[len(first_run):]
    assert len(second_run) == 16 - cached_at_kill  # only what the cache did not have
    assert sorted(set(first_run[:cached_at_kill]) | set(second_run)) == [f"s{i:02d}" for i in range(16)]

    fresh_out, fresh_log = tmp_path / "fresh", tmp_path / "fresh.log"
    run_cli(site, fresh_out, fresh_log)
    assert comparable(out / "results.json") == comparable(fresh_out / "results.json")
    assert (out / "samples_slow_task.jsonl").read_text() == (fresh_out / "samples_slow_task.jsonl").read_text()

    # A third run over a complete cache generates nothing at all.
    run_cli(site, out, log)
    assert len(log.read_text().split()) == len(first_run) + len(second_run)
