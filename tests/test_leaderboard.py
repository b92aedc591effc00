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
