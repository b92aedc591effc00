"""The leaderboard is laid out like the paper's Table 5, with N/A where a model emits no boxes."""

from __future__ import annotations

import csv
import io
import json

from giqa_harness.cli import main
from giqa_harness.leaderboard import COLUMNS, build_rows, published_rows, to_csv, to_markdown


def metric(value, ci=None, reason=None):
    out = {"value": value, "n": 100}
    if ci:
        out["ci95"] = ci
    if reason:
        out["reason"] = reason
    return out


def results_file(path, model="ferret", boxes=True):
    na = metric(None, reason="N/A: the model emits no boxes")
    des = {"miou": metric(0.6458, [0.60, 0.69]) if boxes else na,
           "tag_recall": metric(0.6778) if boxes else na,
           "bleu4": metric(3.16, [2.5, 3.9]),
           "llm_score": metric(None, reason="not computed: no judge configured (--judge)")}
    vqa = {"miou": metric(0.5393) if boxes else na, "tag_recall": metric(0.5769) if boxes else na,
           "acc_y": metric(0.4111), "acc_w": metric(0.4875), "acc_total": metric(0.4417)}
    doc = {"model": {"model": model, "model_args": {"pretrained": "/models/Ferret-7B"}},
           "results": {"giqa_des": {"metrics": des, "n_failed": 0},
                       "giqa_vqa": {"metrics": vqa, "n_failed": 2}}}
    path.write_text(json.dumps(doc))
    return path


def test_columns_follow_table5_order():
    assert [c[0] for c in COLUMNS] == ["DES mIoU", "DES Tag-Recall", "BLEU@4", "LLM-Score", "VQA mIoU",
                                       "VQA Tag-Recall", "Acc(Y)", "Acc(W)", "Acc(Total)"]


def test_run_row_formats_values_na_and_intervals(tmp_path):
    rows = build_rows([results_file(tmp_path / "r.json")])
    row = rows[0]
    assert row.method == "ferret (Ferret-7B)"
    assert row.cells["DES mIoU"] == "0.6458" and row.cells["BLEU@4"] == "3.16"
    assert row.cells["LLM-Score"] == ""  # not computed is not N/A
    assert row.intervals["DES mIoU"] == "[0.6000, 0.6900]"
    assert "2 failed samples" in row.note


def test_models_without_boxes_get_na(tmp_path):
    row = build_rows([results_file(tmp_path / "r.json", "depictqa", boxes=False)])[0]
    assert [row.cells[t] for t in ("DES mIoU", "DES Tag-Recall", "VQA mIoU", "VQA Tag-Recall")] == ["N/A"] * 4


def test_reference_rows_reproduce_the_published_table():
    rows = {r.method: r for r in published_rows()}
    assert len(rows) == 16
    assert rows["Ferret-7B"].cells["DES Tag-Recall"] == "0.6778"
    assert rows["Grounding-IQA (mPLUG-Owl2-7B)"].cells["Acc(Total)"] == "0.7417"
    assert rows["LLaVA-v1.5-7B"].cells["VQA mIoU"] == "N/A"


def test_csv_and_markdown(tmp_path):
    rows = build_rows([results_file(tmp_path / "r.json")], names=["mine"], reference=True)
    table = list(csv.reader(io.StringIO(to_csv(rows))))
    assert table[0][:11] == ["Group", "Method", *[c[0] for c in COLUMNS]]
    assert table[-1][:3] == ["run", "mine", "0.6458"]
    assert "DES mIoU 95% CI" in table[0]
    md = to_markdown(rows)
    assert md.splitlines()[0].startswith("| Group | Method | DES mIoU |")
    assert "| Ours | Grounding-IQA (LLaVA-v1.6-7B) | 0.6583 |" in md


def test_leaderboard_command_writes_csv(tmp_path, capsys):
    out = tmp_path / "leaderboard.csv"
    assert main(["leaderboard", str(results_file(tmp_path / "r.json")), "-o", str(out), "--reference"]) == 0
    assert len(out.read_text().splitlines()) == 1 + 16 + 1


def test_a_named_task_missing_from_a_run_is_an_error_naming_the_file(tmp_path):
    """--des_task giqa_des against a run without it used to give a silently empty row."""
    import pytest

    from giqa_harness.errors import DatasetError

    path = results_file(tmp_path / "r.json")
    with pytest.raises(DatasetError, match=r"r\.json.*'giqa_synth_des'.*giqa_des, giqa_vqa"):
        build_rows([path], des_task="giqa_synth_des")
    assert build_rows([path], vqa_task="giqa_vqa")[0].cells["Acc(Y)"] == "0.4111"


def partial_results(path, scored=5, applicable=100):
    """The issue's case: 95 of 100 DES answers failed, Tag-Recall is over the other 5."""
    from giqa_harness.metrics.base import MetricResult
    from giqa_harness.metrics.coverage import Coverage, coverage_notes

    coverage = Coverage.count(applicable, scored, ["model error: CUDA out of memory"] * (applicable - scored))
    entry = MetricResult("tag_recall", 0.625, n=scored, failed=coverage.failed, coverage=coverage,
                         notes=tuple(coverage_notes(coverage))).to_json()
    doc = {"model": {"model": "partial"}, "results": {"giqa_des": {"metrics": {"tag_recall": entry},
                                                                   "n_failed": applicable - scored}}}
    path.write_text(json.dumps(doc))
    return path


def test_an_incomplete_value_carries_its_coverage_in_csv_and_markdown(tmp_path):
    rows = build_rows([partial_results(tmp_path / "p.json"), results_file(tmp_path / "r.json")])
    partial, complete = rows
    assert partial.cells["DES Tag-Recall"] == "0.6250 (5/100)"
    assert complete.cells["DES Tag-Recall"] == "0.6778"  # a complete value is printed as before
    assert "DES Tag-Recall incomplete: 95 of 100 failed: 95 at generation (model error: CUDA out of memory x95)" \
        in partial.note
    table = list(csv.reader(io.StringIO(to_csv(rows))))
    assert table[1][3] == "0.6250 (5/100)" and "CUDA out of memory" in table[1][-1]
    md = to_markdown(rows)
    assert "| run | partial | – | 0.6250 (5/100) |" in md
    assert md.splitlines()[-1] == ("- partial: DES Tag-Recall incomplete: 95 of 100 failed: 95 at generation "
                                   "(model error: CUDA out of memory x95)")


def test_complete_only_leaves_incomplete_values_out(tmp_path, capsys):
    partial, complete = partial_results(tmp_path / "p.json"), results_file(tmp_path / "r.json")
    assert main(["leaderboard", str(partial), str(complete), "--markdown", "--complete-only", "--no_ci"]) == 0
    md = capsys.readouterr().out
    assert "0.6250" not in md and "| run | partial | – | – |" in md and "0.6778" in md
    assert "- partial: DES Tag-Recall left out: incomplete (5/100 scored)" in md


def test_run_table_marks_incomplete_values_with_count_and_cause(tmp_path, tiny_task, plugin):
    from giqa_harness.leaderboard import format_run_table
    from giqa_harness.testing.faults import faulty_run

    task, _, results = faulty_run(tmp_path, tiny_task, plugin, unjudged=["w1"])
    lines = format_run_table(results).splitlines()
    assert lines[0] == f"{task}  (6 of 6 docs answered, 0 failed)"
    acc_w = next(i for i, line in enumerate(lines) if line.startswith("  Acc(W) "))
    assert lines[acc_w].endswith("(1/2 scored)")
    assert lines[acc_w + 1].strip() == ("incomplete: 1 of 2 failed: 1 in the metric (no single 0-4 score in the "
                                        "judge's reply after 3 attempt(s) (the last one held no number); last reply: "
                                        "'I cannot tell.')")
    assert next(line for line in lines if line.startswith("  Acc(Y) ")).endswith("(n=2)")
    assert next(line for line in lines if line.startswith("  Acc(Total) ")).startswith("  Acc(Total)  not computed")


def test_run_table_shows_a_failed_task():
    from giqa_harness.leaderboard import format_run_table

    results = {"results": {"t": {"error": "RuntimeError: boom", "metrics": {}, "n_samples": 3, "n_scored": 0,
                                 "n_failed": 0, "failures": []}}}
    assert format_run_table(results) == "t  FAILED: RuntimeError: boom"


def test_extended_adds_the_box_columns_after_table5s(tmp_path, capsys):
    path = results_file(tmp_path / "r.json")
    doc = json.loads(path.read_text())
    doc["results"]["giqa_des"]["metrics"].update(tag_precision=metric(0.4012, [0.33, 0.47]), tag_f1=metric(0.4545),
                                                 miou_penalized=metric(0.4451))
    doc["results"]["giqa_des"]["box_checks"] = {"counts": {"predicted_per_answer": 2.47, "reference_per_answer": 1.89,
                                                           "ratio": 1.31, "threshold": 3.0, "flagged": False},
                                                "declared_syntax": None, "warnings": []}
    path.write_text(json.dumps(doc))
    assert main(["leaderboard", str(path), "--no_ci"]) == 0
    default = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert default[0] == ["Group", "Method", *[c[0] for c in COLUMNS], "Note"]
    assert main(["leaderboard", str(path), "--no_ci", "--extended"]) == 0
    header, row = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    extended = dict(zip(header, row))
    assert header[:11] == default[0][:11]
    assert extended["DES Tag-P"] == "0.4012" and extended["DES Tag-F1"] == "0.4545"
    assert extended["DES mIoU (penalized)"] == "0.4451" and extended["DES boxes/answer (pred / ref)"] == "2.47 / 1.89"
    assert extended["VQA Tag-P"] == "" and extended["VQA boxes/answer (pred / ref)"] == ""  # not in this file


def test_a_failed_task_says_so_under_the_table_instead_of_reading_as_not_computed(tmp_path):
    path = results_file(tmp_path / "r.json")
    doc = json.loads(path.read_text())
    doc["results"]["giqa_des"] = {"error": "EndpointUnreachableError: cannot reach http://x/v1", "n_failed": 4,
                                  "metrics": {}}
    path.write_text(json.dumps(doc))
    [row] = build_rows([path])
    assert row.cells["DES mIoU"] == "" and row.cells["Acc(Y)"] == "0.4111"
    md = to_markdown([row])
    assert "- ferret (Ferret-7B): DES task giqa_des failed: EndpointUnreachableError: cannot reach http://x/v1" in md
