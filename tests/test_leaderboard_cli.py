"""``giqa-harness leaderboard`` over a real ``runs/*``: unfinished folders, names, synthetic runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "giqa_harness", "leaderboard", *args], capture_output=True,
                          text=True, env=dict(os.environ), timeout=120)


def finished_run(folder, task_prefix="giqa"):
    folder.mkdir(parents=True)
    doc = {"model": {"model": "classical", "model_args": {}},
           "results": {f"{task_prefix}_des": {"metrics": {"miou": {"value": 0.6761, "n": 100}}, "n_failed": 0},
                       f"{task_prefix}_vqa": {"metrics": {"acc_y": {"value": 0.8556, "n": 90}}, "n_failed": 0}}}
    (folder / "results.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture
def runs(tmp_path):
    finished_run(tmp_path / "runs" / "classical", "giqa_synth")
    (tmp_path / "runs" / "giqa-llava-1.5-7b" / "checkpoints").mkdir(parents=True)  # a training output dir
    (tmp_path / "runs" / "crashed").mkdir()  # a run killed before it wrote results.json
    return sorted((tmp_path / "runs").iterdir())


def test_folders_without_results_are_skipped_with_one_line_each(runs):
    done = run(*map(str, runs), "--reference")
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.splitlines()
    assert len(warnings) == 2 and all("no results.json" in w and "skipped" in w for w in warnings)
    assert "classical" in done.stdout


def test_nothing_to_read_is_an_error(runs):
    done = run(*(str(r) for r in runs if r.name != "classical"))
    assert done.returncode == 2 and "none of the given folders holds a results.json" in done.stderr


def test_a_names_count_that_does_not_match_the_runs_is_an_error(tmp_path):
    one = finished_run(tmp_path / "one")
    done = run(str(one), "--names", "a,b")
    assert done.returncode == 2 and "--names gives 2 name(s) for 1 results file(s)" in done.stderr
    assert run(str(one), "--names", "a").returncode == 0


def test_synthetic_runs_are_labelled_beside_the_papers_rows(runs, tmp_path):
    real = finished_run(tmp_path / "real")
    markdown = run(str(runs[0]), str(real), "--reference", "--markdown", "--no_ci").stdout
    rows = [line for line in markdown.splitlines() if line.startswith("| run |")]
    assert rows[0].startswith("| run | classical ¹ |") and rows[1].startswith("| run | classical |")
    assert "¹ giqa_synth: the embedded synthetic bench, not comparable with the paper's GIQA-Bench rows" in markdown
    csv_text = run(str(runs[0]), "--reference").stdout
    synth_row = next(line for line in csv_text.splitlines() if line.startswith("run,classical"))
    assert "not comparable with the paper's GIQA-Bench rows" in synth_row


@pytest.mark.parametrize("layout", ["score", "mcq"])
def test_score_layouts_skip_unfinished_folders_and_check_names_alike(runs, layout):
    done = run(*map(str, runs), "--layout", layout)
    assert done.returncode == 0, done.stderr
    unfinished = [line for line in done.stderr.splitlines() if "no results.json" in line]
    assert len(unfinished) == 2 and "crashed: no results.json" in done.stderr
    mismatch = run(*map(str, runs), "--layout", layout, "--names", "a")
    assert mismatch.returncode == 2 and "--names gives 1 name(s) for 3 results file(s)" in mismatch.stderr
