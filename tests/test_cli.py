"""The command line: fast start, lmms-eval's flags, errors that help."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from giqa_harness.cli import main


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "giqa_harness", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args", [["--help"], ["list", "models"], ["list", "tasks"], ["list", "formats"],
                                  ["list", "detectors"], ["plugins"]])
def test_help_and_listing_never_import_torch(args):
    code = (
        "import sys\nfrom giqa_harness.cli import main\n"
        f"main({args!r})\n"
        "heavy = [m for m in ('torch', 'transformers', 'vllm', 'accelerate') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_help_lists_run_flags_and_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--model", "--model_args", "--tasks", "--batch_size", "--limit", "--output_path",
                 "--log_samples", "--judge"):
        assert flag in out
    for command in ("list", "plugins", "leaderboard", "rescore", "validate", "parse"):
        assert f"  {command}" in out



def test_help_says_what_list_can_list(capsys):
    assert main(["--help"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("  list "))
    for kind in ("models", "tasks", "formats", "detectors"):
        assert kind in line


def test_every_annotate_and_rescore_option_is_explained(capsys):
    from giqa_harness.cli.annotate import build_parser

    unexplained = [a.option_strings for a in build_parser()._actions if a.option_strings and not a.help]
    assert unexplained == []
    with pytest.raises(SystemExit):
        main(["rescore", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--seed SEED seed for bootstrap" in out and "--bootstrap BOOTSTRAP bootstrap resamples" in out


def test_a_closed_pipe_ends_quietly(monkeypatch):
    class ClosedPipe(io.StringIO):  # `giqa-harness list formats | head -1`: the reader has gone
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["list", "formats"]) == 141


@pytest.mark.parametrize("args", [["--help"], ["--version"], []])
def test_a_closed_pipe_ends_quietly_for_the_top_level_help_too(monkeypatch, args):
    class ClosedPipe(io.StringIO):  # `giqa-harness --help | head -1`
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(args) == 141

def test_unknown_task_is_a_clear_error_with_close_matches():
    result = run("--model", "replay", "--tasks", "giqa_dse")
    assert result.returncode == 2
    assert "unknown task 'giqa_dse'. Did you mean: giqa_des" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_is_a_clear_error_with_close_matches():
    result = run("--model", "replai", "--tasks", "giqa_des")
    assert result.returncode == 2 and "Did you mean: replay" in result.stderr


def test_bad_model_args_are_named(tmp_path):
    result = run("--model", "replay", "--model_args", "path", "--tasks", "giqa_des")
    assert result.returncode == 2 and "bad --model_args item 'path'" in result.stderr


def test_run_prints_the_metric_table_and_writes_results(tmp_path):
    from giqa_harness.testing.bench import write_bench, write_task
    from giqa_harness.testing.distributions import make_distribution

    site = tmp_path / "site"
    site.mkdir()
    plugin = ("from pathlib import Path\nfrom giqa_harness.hookspecs import hookimpl\n"
              "@hookimpl\ndef register_tasks(register):\n    register(Path(__file__).with_name('t'))\n")
    make_distribution(site, "giqa-t-plugin", plugin, {"t": "giqa_t_plugin"})
    data = write_bench(tmp_path / "data")
    write_task(site / "t", "cli_task", data)
    answers = tmp_path / "a.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": i, "answer": "Yes"}) + "\n"
                               for i in ["d1", "d2", "y1", "y2", "w1", "w2"]))
    result = run("--model", "replay", "--model_args", f"path={answers}", "--tasks", "cli_task",
                 "--output_path", str(tmp_path / "out"), env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert "cli_task  (6 of 6 docs answered, 0 failed)" in result.stdout
    assert json.loads((tmp_path / "out" / "results.json").read_text())["config"]["model"] == "replay"


def test_validate_accepts_the_builtin_tasks(capsys):
    assert main(["validate", "giqa"]) == 0
    out = capsys.readouterr().out
    assert "ok   giqa_des" in out and "ok   giqa_vqa" in out


def test_validate_names_an_unregistered_metric(tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_text("task: t\nmetrics: [miou, mioo]\n")
    assert main(["validate", str(path)]) == 1
    assert "metric 'mioo' is not registered" in capsys.readouterr().out


@pytest.mark.parametrize("text,value", [
    ("8", 8), ("-3", -3), ("0.5", 0.5), ("1e-5", 1e-5), ("true", True), ("None", None),
    ("007", "007"), ("nan", "nan"), ("inf", "inf"), ("1.0.2", "1.0.2"), ("a1b2c3", "a1b2c3"),
])
def test_model_arg_values_are_converted_only_when_unambiguous(text, value):
    from giqa_harness.models import parse_model_args

    assert parse_model_args(f"k={text}") == {"k": value}


def test_validate_names_a_misspelt_metric_option(tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_text("task: t\nmetrics: [{name: miou, options: {matchin: hungarian}}]\n")
    assert main(["validate", str(path)]) == 1
    assert "unknown option(s) ['matchin']; miou accepts ['matching', 'penalize_unmatched']" in capsys.readouterr().out
