"""Help, listings and error messages a new user meets first (the real command, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMMANDS_WITH_DOCSTRING_HELP = ["validate", "leaderboard", "rescore", "report", "export-lmms-tasks", "annotate",
                                "train", "parse", "list", "plugins"]


def run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "giqa_harness", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)


def test_a_misspelt_command_is_named_with_a_suggestion():
    done = run("lst")
    assert done.returncode == 2
    assert "unknown command 'lst'; did you mean list?" in done.stderr
    assert "required" not in done.stderr  # not the run parser's "--model, --tasks are required"


@pytest.mark.parametrize("command", COMMANDS_WITH_DOCSTRING_HELP)
def test_help_has_no_rest_markup(command):
    done = run(command, "--help")
    assert done.returncode == 0 and "``" not in done.stdout


@pytest.mark.parametrize("command, shown", [
    ("annotate", ["(default: 0.256)", "(default: 3)", "(default: 0.95)", "(default: 0)"]),
    ("report", ["(default: report.html)", "(default: 480)"]),
    ("run", ["(default: 1000)", "(default: 1)"]),
])
def test_options_show_their_defaults(command, shown):
    done = run(*(["--help"] if command == "run" else [command, "--help"]))
    text = " ".join(done.stdout.split())
    for default in shown:
        assert default in text


@pytest.mark.parametrize("args", [["list", "models"], ["list", "formats"], ["list", "tasks"], ["plugins"]])
@pytest.mark.parametrize("columns", [80, 120])
def test_listings_fit_the_terminal(args, columns):
    done = run(*args, env={"COLUMNS": str(columns)})
    assert done.returncode == 0
    assert max(len(line) for line in done.stdout.splitlines()) <= columns


def test_cut_descriptions_end_in_an_ellipsis_and_install_lines_wait_for_verbose():
    short = run("list", "models", env={"COLUMNS": "80"}).stdout
    assert "…" in short
    assert "pip install" not in short and "git clone" not in short
    assert "list models -v" in short
    full = run("list", "models", "-v").stdout
    assert "git clone https://github.com/apple/ml-ferret" in full
    assert "…" not in full


def test_list_formats_prints_the_columns_docs_formats_md_names():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "formats.md").read_text()
    doc_head = next(line for line in doc.splitlines() if line.startswith("| name | syntax"))
    doc_columns = [c.strip() for c in doc_head.strip("|").split("|")]
    head = run("list", "formats", "-v").stdout.splitlines()[0]
    assert " ".join(head.split()) == " ".join(["format", *doc_columns[1:]])
    giqa = next(line for line in run("list", "formats", "-v").stdout.splitlines() if line.startswith("giqa_grid "))
    assert giqa.split()[-1] == "0.025"  # a 20x20 grid: a corner moves at most half a cell, 1/40


def test_the_lmms_install_hint_points_at_its_own_venv():
    full = run("list", "models", "-v").stdout
    lmms = next(line for line in full.splitlines() if line.strip().startswith("lmms:"))
    assert "check_lmms_interop.sh" in lmms and "pip install" not in lmms


def test_unknown_model_args_list_the_accepted_ones():
    done = run("--model", "classical", "--model_args", "foo=1", "--tasks", "giqa_synth")
    assert done.returncode == 2
    assert "model 'classical' has no argument foo; it accepts: blocks" in done.stderr
    assert "unexpected keyword" not in done.stderr


def test_a_judge_folder_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "models" / "judge"
    done = run("--model", "classical", "--tasks", "giqa_synth_des", "--limit", "1", "--judge", f"hf:{missing}")
    assert done.returncode == 2
    assert f"hf:{missing}: the folder {missing} does not exist" in done.stderr
    assert "Repo id" not in done.stderr and "Traceback" not in done.stderr


def test_a_train_override_without_its_section_gets_a_close_name():
    done = run("train", "llava-1.5-7b", "learnng_rate=1e-3", "--dry-run")
    assert done.returncode == 2 and "did you mean train.learning_rate?" in done.stderr


def test_report_keeps_an_existing_file_unless_forced(tmp_path):
    existing = tmp_path / "report.html"
    existing.write_text("an earlier report")
    done = run("report", str(tmp_path / "some_run"), cwd=tmp_path)
    assert done.returncode == 2 and "report.html exists; pass --force" in done.stderr
    assert existing.read_text() == "an earlier report"


def test_annotate_demo_runs_the_pipeline_on_cpu_without_other_arguments(tmp_path):
    done = run("annotate", "--demo", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr
    assert "8 of 8 fused descriptions equal the bench's references" in done.stdout
    assert (tmp_path / "demo" / "conversations.json").is_file()
    assert "annotate tags: 8/8 records (100%)" in done.stderr  # stderr is a pipe: plain lines, no tqdm bar
    assert "\r" not in done.stderr
    assert "Traceback" not in done.stderr
    missing = run("annotate")
    assert missing.returncode == 2 and "IMAGES_DIR, DESCRIPTIONS, -o/--output, --llm" in missing.stderr


def test_to_replay_from_a_folder_without_sample_logs_is_an_error(tmp_path):
    done = run("rescore", str(tmp_path), "--to_replay", str(tmp_path / "answers.jsonl"))
    assert done.returncode == 2 and "needs a run made with --log_samples" in done.stderr
    assert not (tmp_path / "answers.jsonl").exists()
