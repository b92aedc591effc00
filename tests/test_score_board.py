"""The score and multiple-choice leaderboard layouts; the default Table 5 layout is left as it was."""

from __future__ import annotations

import json

from giqa_harness.cli import main
from giqa_harness.leaderboard import header
from giqa_harness.score import board


def _metric(value, lo, hi, n=100):
    return {"value": value, "ci95": [lo, hi], "n": n, "failed": 0}


def _run(folder, model, method, tasks):
    results = {}
    for task, kind in tasks:
        if kind == "level":
            results[task] = {"scoring": {"kind": "level", "method_used": method}, "n_failed": 0,
                             "metrics": {"srcc": _metric(0.5, 0.4, 0.6), "plcc": _metric(0.55, 0.45, 0.65),
                                         "krcc": _metric(0.3, 0.2, 0.4)}}
        else:
            results[task] = {"scoring": {"kind": "mcq", "method_used": method}, "n_failed": 1, "unreadable": 4,
                             "metrics": {"accuracy": _metric(0.6, 0.5, 0.7, 30)},
                             "breakdown": {"type": {"what": _metric(0.5, 0.3, 0.7, 10)},
                                           "concern": {"distortion": _metric(0.7, 0.5, 0.9, 20)}}}
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"model": {"model": model}, "results": results}))
    return folder


def test_score_layout_has_srcc_and_plcc_per_dataset_and_marks_generated_values(tmp_path):
    a = _run(tmp_path / "a", "llava", "likelihood", [("koniq10k", "level"), ("spaq", "level")])
    b = _run(tmp_path / "b", "classical", "generated", [("spaq", "level"), ("giqa_synth_mcq", "mcq")])
    columns, rows = board.build("score", [a, b])
    assert columns == ["koniq10k SRCC", "koniq10k PLCC", "spaq SRCC", "spaq PLCC"]
    assert rows[0].cells["spaq SRCC"] == "0.5000" and rows[0].note == ""
    assert rows[1].cells["spaq SRCC"] == "0.5000*" and "koniq10k SRCC" not in rows[1].cells
    assert rows[1].note == "* by generation: spaq"
    text = board.to_markdown(columns, rows, with_ci=True)
    assert "| llava | 0.5000 [0.4000, 0.6000] |" in text


def test_mcq_layout_has_overall_type_and_concern_and_counts_unreadable(tmp_path):
    a = _run(tmp_path / "a", "llava", "likelihood", [("qbench_a1", "mcq")])
    columns, rows = board.build("mcq", [a], ["LLaVA tiny"])
    assert columns == ["Task", "Overall", "type: what", "concern: distortion"]
    assert rows[0].method == "LLaVA tiny" and rows[0].cells["concern: distortion"] == "0.7000"
    assert rows[0].note == "4 unreadable (counted wrong); 1 failed"
    csv_text = board.to_csv(columns, rows)
    assert csv_text.splitlines()[0].startswith("Method,Task,Overall,type: what,concern: distortion,Overall 95% CI")


def test_the_cli_keeps_table5_by_default_and_offers_the_layouts(tmp_path, capsys):
    run = _run(tmp_path / "a", "llava", "likelihood", [("koniq10k", "level")])
    assert main(["leaderboard", str(run)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ",".join(header())
    assert main(["leaderboard", str(run), "--layout", "score", "--no_ci"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Method,koniq10k SRCC,koniq10k PLCC,Note", "llava,0.5000,0.5500,"]
