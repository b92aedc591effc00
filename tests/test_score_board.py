"""The score and multiple-choice leaderboard layouts; the default Table 5 layout is left as it was."""

from __future__ import annotations

import json

import pytest

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


def test_a_value_computed_on_part_of_its_samples_shows_its_coverage_and_complete_only_drops_it(tmp_path):
    run = _run(tmp_path / "a", "classical", "generated", [("giqa_synth_score", "level"), ("giqa_synth_mcq", "mcq")])
    doc = json.loads((run / "results.json").read_text())
    # 10 of 100 answers were unreadable: SRCC is over 90 (coverage as score_rows writes it)
    doc["results"]["giqa_synth_score"]["metrics"]["srcc"] = {**_metric(0.5, 0.4, 0.6, 90), "failed": 10}
    doc["results"]["giqa_synth_mcq"]["breakdown"]["type"]["what"] = {**_metric(0.5, 0.3, 0.7, 8), "failed": 2}
    (run / "results.json").write_text(json.dumps(doc))
    _, [row] = board.build("score", [run])
    assert row.cells["giqa_synth_score SRCC"] == "0.5000* (90/100)" and row.cells["giqa_synth_score PLCC"] == "0.5500*"
    _, [row] = board.build("score", [run], complete_only=True)
    assert row.cells["giqa_synth_score SRCC"] == "" and row.cells["giqa_synth_score PLCC"] == "0.5500*"
    assert "giqa_synth_score SRCC left out: incomplete (90/100 scored)" in row.note
    _, [row] = board.build("mcq", [run], complete_only=True)
    assert row.cells["type: what"] == "" and "type: what left out: incomplete (8/10 scored)" in row.note


def test_a_run_without_a_task_of_the_layout_is_left_out_with_a_line(tmp_path, capsys):
    scores = _run(tmp_path / "scores", "classical", "generated", [("giqa_synth_score", "level")])
    mcq = _run(tmp_path / "mcq", "classical", "generated", [("giqa_synth_mcq", "mcq")])
    skipped: list[str] = []
    _, rows = board.build("score", [scores, mcq], skipped=skipped)
    assert [r.cells.get("giqa_synth_score SRCC") for r in rows] == ["0.5000*"]
    assert skipped == [f"{mcq}: no level-scoring task (it has: giqa_synth_mcq), left out of this layout"]
    # and the default layout leaves out a run with only score tasks instead of printing an empty row
    assert main(["leaderboard", str(scores), "--markdown"]) == 0
    out, err = capsys.readouterr()
    assert "| run |" not in out and f"{scores}: no *_des or *_vqa task (it has: giqa_synth_score)" in err


def test_table5_options_are_refused_with_another_layout(tmp_path, capsys):
    run = _run(tmp_path / "a", "llava", "likelihood", [("koniq10k", "level")])
    with pytest.raises(SystemExit) as info:
        main(["leaderboard", str(run), "--layout", "score", "--reference", "--extended"])
    assert info.value.code == 2
    assert "--reference, --extended: only for the Table 5 layout, not --layout score" in capsys.readouterr().err
