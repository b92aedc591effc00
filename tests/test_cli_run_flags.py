"""``giqa-harness`` run flags as lmms-eval users expect them, and what a run says while it works.

Each test runs the real command in a subprocess (stderr is then a pipe, as under ``nohup ... > log``) on
a tiny task in a folder no plugin registers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from giqa_harness.cli import main
from giqa_harness.testing.bench import write_bench, write_task


def run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "giqa_harness", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)


@pytest.fixture
def folder(tmp_path):
    """``my_des`` (two DES docs, mIoU only: no torch) in a task folder of its own."""
    tasks = tmp_path / "my_tasks"
    write_task(tasks, "my_des", write_bench(tmp_path / "data"), ["miou"],
               "filter: {kind: [des]}\ngeneration_kwargs: {max_new_tokens: 64}\n")
    return tasks


def classical(folder, out, *extra):
    return run("--model", "classical", "--include_path", str(folder), "--tasks", "my_des",
               "--output_path", str(out), "--bootstrap", "0", *extra)


def test_include_path_and_a_task_file_both_run_a_task_validate_accepts(folder, tmp_path):
    assert run("validate", str(folder / "my_des.yaml")).returncode == 0
    unknown = run("--model", "classical", "--tasks", "my_des")
    assert unknown.returncode == 2 and "unknown task 'my_des'" in unknown.stderr
    by_folder = classical(folder, tmp_path / "a")
    assert by_folder.returncode == 0, by_folder.stderr
    by_file = run("--model", "classical", "--tasks", str(folder / "my_des.yaml"), "--output_path",
                  str(tmp_path / "b"), "--bootstrap", "0")
    assert by_file.returncode == 0, by_file.stderr
    for out in ("a", "b"):
        results = json.loads((tmp_path / out / "results.json").read_text())
        assert results["results"]["my_des"]["n_samples"] == 2


def test_a_limit_below_one_is_a_fraction_of_each_task(folder, tmp_path):
    done = classical(folder, tmp_path / "out", "--limit", "0.5")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["results"]["my_des"]["n_samples"] == 1 and results["config"]["limit"] == 0.5
    bad = classical(folder, tmp_path / "out2", "--limit", "2.5")
    assert bad.returncode == 2 and "whole number of docs, or a fraction below 1" in bad.stderr


def test_gen_kwargs_are_recorded_and_are_part_of_the_cache_key(folder, tmp_path):
    out = tmp_path / "out"
    first = classical(folder, out, "--gen_kwargs", "max_new_tokens=7,temperature=0")
    assert first.returncode == 0, first.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["gen_kwargs"] == {"max_new_tokens": 7, "temperature": 0}
    assert results["tasks_config"]["my_des"]["generation_kwargs"] == {"max_new_tokens": 7, "temperature": 0}
    again = classical(folder, out, "--gen_kwargs", "max_new_tokens=7,temperature=0")
    assert "my_des: all 2 answers cached, nothing to generate" in again.stderr
    other = classical(folder, out, "--gen_kwargs", "max_new_tokens=8")
    assert "my_des: 0 cached, 2 to generate" in other.stderr  # other settings, other answers


def test_device_goes_to_the_model_and_a_model_without_one_says_what_it_accepts(folder, tmp_path):
    done = classical(folder, tmp_path / "out", "--device", "cpu")
    assert done.returncode == 2 and "model 'classical' has no argument device; it accepts: blocks" in done.stderr
    clash = run("--model", "llava", "--model_args", "device=cuda:1", "--device", "cpu", "--tasks", "giqa_des")
    assert clash.returncode == 2 and "--device cpu disagrees with --model_args device=cuda:1" in clash.stderr


def test_log_samples_without_an_output_path_is_an_error():
    done = run("--model", "classical", "--tasks", "giqa_synth", "--log_samples")
    assert done.returncode == 2 and "--log_samples needs --output_path" in done.stderr


def test_a_resumed_run_says_what_is_cached_and_prints_plain_progress_lines(folder, tmp_path):
    out = tmp_path / "out"
    first = classical(folder, out, "--limit", "1")
    assert "my_des: 0 cached, 1 to generate" in first.stderr
    resumed = classical(folder, out)
    assert "my_des: 1 cached, 1 to generate" in resumed.stderr
    assert "my_des: 1/1 samples (100%)" in resumed.stderr  # stderr is a pipe: lines, not a tqdm bar
    assert "\r" not in resumed.stderr
    quiet = classical(folder, tmp_path / "quiet", "--no_progress")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_without_a_cache_the_run_says_nothing_is_kept(folder, tmp_path):
    done = run("--model", "classical", "--include_path", str(folder), "--tasks", "my_des", "--bootstrap", "0")
    assert "my_des: 2 to generate (no response cache: nothing is kept for a rerun)" in done.stderr


@pytest.mark.parametrize("args, says", [
    (["--output_path", "OUT"], "answers generated so far are in OUT/cache.sqlite and a rerun with the same arguments resumes"),
    ([], "nothing was kept"),
    (["--output_path", "OUT", "--no_cache"], "nothing was kept"),
])
def test_ctrl_c_claims_a_cache_only_when_there_is_one(monkeypatch, capsys, tmp_path, args, says):
    import giqa_harness.evaluator as evaluator

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluator, "evaluate", interrupted)
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # --no_progress sets it: undone after
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    assert main(["--model", "classical", "--tasks", "giqa_synth", "--no_progress", *args]) == 130
    assert says.replace("OUT", str(tmp_path / "out")) in capsys.readouterr().err


@pytest.mark.slow
def test_the_first_run_says_it_builds_the_bench_and_loads_the_phrase_encoder(tmp_path):
    done = run("--model", "classical", "--tasks", "giqa_synth_des", "--limit", "2", "--bootstrap", "0",
               env={"GIQA_HARNESS_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("giqa_synth: generating the synthetic bench into") for line in lines)
    assert any(line.startswith("Tag-Recall: loading the phrase encoder") for line in lines)
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_train_prints_its_steps_without_transformers_loading_and_saving_bars(tmp_path):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    from test_cli_train import conversations

    model = build_tiny_llava(tmp_path / "model")
    done = run("train", "tiny-cpu", f"model.base={model}", f"data.train={conversations(tmp_path)}",
               f"output.dir={tmp_path / 'run'}", "train.max_steps=1", env={"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert "step 1/1 loss" in done.stdout
    assert "Loading weights" not in done.stderr + done.stdout and "Writing model shards" not in done.stderr + done.stdout


def test_a_run_of_a_task_file_can_be_rescored(folder, tmp_path):
    out = tmp_path / "out"
    done = run("--model", "classical", "--tasks", str(folder / "my_des.yaml"), "--output_path", str(out),
               "--log_samples", "--bootstrap", "0", "--no_progress")
    assert done.returncode == 0, done.stderr
    rescored = run("rescore", str(out))
    assert rescored.returncode == 0, rescored.stderr
    assert rescored.stdout.startswith("my_des  (2 of 2 docs answered, 0 failed)")


@pytest.mark.slow
def test_device_reaches_a_model_that_takes_one(tmp_path):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    model = build_tiny_llava(tmp_path / "llava")
    out = tmp_path / "out"
    done = run("--model", "llava", "--model_args", f"pretrained={model},max_new_tokens=4", "--device", "cpu",
               "--tasks", "giqa_synth_vqa", "--limit", "2", "--bootstrap", "0", "--output_path", str(out),
               "--no_progress", env={"HF_HUB_OFFLINE": "1"})
    assert done.returncode in (0, 1), done.stderr  # 1: random answers may leave a metric without a score
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["model_args"]["device"] == "cpu"
    assert "Loading weights" not in done.stderr and "it/s]" not in done.stderr  # no tqdm bar of any kind


def test_prefetch_sets_the_depth_records_it_and_leaves_the_samples_alike(folder, tmp_path):
    samples = {}
    for depth in ("0", "3"):
        done = classical(folder, tmp_path / depth, "--prefetch", depth, "--log_samples")
        assert done.returncode == 0, done.stderr
        results = json.loads((tmp_path / depth / "results.json").read_text())
        assert results["config"]["prefetch"] == int(depth)
        samples[depth] = [json.loads(line)["parsed"] for line in (tmp_path / depth / "samples_my_des.jsonl").open()]
    assert samples["0"] == samples["3"] and len(samples["0"]) == 2
    default = classical(folder, tmp_path / "default")
    assert default.returncode == 0, default.stderr
    assert json.loads((tmp_path / "default" / "results.json").read_text())["config"]["prefetch"] == 2
    negative = classical(folder, tmp_path / "bad", "--prefetch", "-1")
    assert negative.returncode == 2 and "--prefetch must be 0" in negative.stderr
