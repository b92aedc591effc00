"""The HTML report draws every box where it belongs (checked on a real Chromium screenshot)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from giqa_harness.cli import main
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.report import build_report, load_run
from giqa_harness.testing.bench import write_image

GREY = (128, 128, 128)
PRED_RGB = (0xE6, 0x00, 0x7E)
REF_RGB = (0x00, 0xA6, 0x51)
# Reference: cells 42 -> 155 decode to (0.125, 0.125)-(0.775, 0.375); prediction: 208 -> 357 decode to
# (0.425, 0.525)-(0.875, 0.875).
RECORD = {"id": "s1", "image": "images/grey.png", "kind": "des", "question": "Describe the quality.",
          "answer": "The [blurred region](<42, 155>) is soft."}


@pytest.fixture
def run_dir(tmp_path, tiny_task):
    task = tiny_task(records=[RECORD], name="report_task")
    write_image(tmp_path / f"data_{task}" / "images" / "grey.png", size=(400, 200), color=GREY)
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"doc_id": "s1", "answer": "The [stain](<208, 357>) is visible."}) + "\n")
    out = tmp_path / "run"
    evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                       log_samples=True, progress=False))
    return out


def test_report_is_self_contained(run_dir):
    html = build_report([load_run(run_dir)])
    assert 'src="http' not in html and 'href="http' not in html and "<link" not in html
    assert "data:image/jpeg;base64," in html
    assert "<mark" in html and "stain" in html and "blurred region" in html


def test_two_runs_show_the_same_sample_side_by_side(run_dir):
    html = build_report([load_run(run_dir, "first"), load_run(run_dir, "second")])
    assert html.count('class="card"') == 1
    assert html.count('class="run"') == 2 and "<h4>first</h4>" in html and "<h4>second</h4>" in html


def test_report_command_writes_html_and_pngs(run_dir, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "-o", str(out), "--plots", str(tmp_path / "png")]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def _near(pixel, rgb, tol=40):
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel[:3], rgb))


def _find_colour(im, x, y, rgb, radius=3):
    return any(_near(im.getpixel((x + dx, y + dy)), rgb)
               for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1))


def test_screenshot_shows_boxes_at_their_places(run_dir, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'); the screenshot test needs it")
    from PIL import Image

    page = tmp_path / "report.html"
    page.write_text(build_report([load_run(run_dir)]))
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400", "--virtual-time-budget=3000",
         f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    im = Image.open(shot).convert("RGB")
    w, h = im.size
    # The image is the only large grey area: rows and columns holding a long run of grey pixels.
    rows = [y for y in range(h) if sum(_near(im.getpixel((x, y)), GREY, 2) for x in range(0, w, 4)) > 50]
    assert rows, "the sample image is not on the screenshot"
    mid = rows[len(rows) // 2]
    cols = [x for x in range(w) if _near(im.getpixel((x, mid)), GREY, 2)]
    left, right, top, bottom = min(cols), max(cols), min(rows), max(rows)
    width, height = right - left, bottom - top
    assert abs(width / height - 2.0) < 0.1  # the 400x200 image, undistorted

    def at(u, v):
        return left + round(u * width), top + round(v * height)

    # Left and right edges of each box, at mid-height, carry the box's colour...
    assert _find_colour(im, *at(0.125, 0.25), REF_RGB)
    assert _find_colour(im, *at(0.775, 0.25), REF_RGB)
    assert _find_colour(im, *at(0.425, 0.7), PRED_RGB)
    assert _find_colour(im, *at(0.875, 0.7), PRED_RGB)
    # ... bottom edges too, and the inside of a box is not filled.
    assert _find_colour(im, *at(0.45, 0.375), REF_RGB)
    assert _find_colour(im, *at(0.65, 0.875), PRED_RGB)
    assert _near(im.getpixel(at(0.65, 0.7)), GREY, 6)
    # Where no box is, the image is untouched.
    assert not _find_colour(im, *at(0.25, 0.7), PRED_RGB) and not _find_colour(im, *at(0.25, 0.7), REF_RGB)


def test_chart_labels_use_the_leaderboard_decimals():
    from types import SimpleNamespace

    from giqa_harness.report.charts import bars_svg

    # A corpus BLEU of a model that matches nothing is a float a hair above 0; the tables print 0.00.
    metrics = {"bleu4": {"value": 2.509e-12, "ci95": [0.0, 0.0]}, "miou": {"value": 0.67614, "ci95": [0.6, 0.7]}}
    run = SimpleNamespace(side_metric=lambda side, metric: metrics.get(metric) if side == "des" else None)
    svg = bars_svg([run])
    assert ">0.00</text>" in svg and ">0.6761</text>" in svg
    assert "e-12" not in svg


def test_the_report_marks_incomplete_metrics_and_lists_the_problems(tmp_path, tiny_task, plugin):
    from giqa_harness.testing.faults import faulty_run

    _, out, _ = faulty_run(tmp_path, tiny_task, plugin, missing=["d2"], unjudged=["w1", "w2"], name="tiny_des")
    html = build_report([load_run(out, "faulty")])
    rows = {line.split("</td>")[1]: line for line in html.split("<tr")[1:] if "</td>" in line}
    assert rows["<td>mIoU"].startswith(' class="incomplete"') and "2/3 scored, 1 failed" in rows["<td>mIoU"]
    assert "incomplete</b>: 1 of 3 failed: 1 at generation (model error: KeyError" in rows["<td>mIoU"]
    assert "incomplete" not in rows["<td>Acc(Y)"]
    assert '<ul class="problems"><li>tiny_des: Acc(W) failed on every sample' in html
    assert ">1.0000 (2/3)</text>" in html  # the DES mIoU bar carries its coverage too


def test_the_report_repeats_a_runs_box_warnings(tmp_path, tiny_task):
    task = tiny_task(records=[RECORD], name="spam_task")
    answers = tmp_path / "spam.jsonl"
    spam = " ".join(f"[stain](<{i}, {i + 21}>)" for i in range(5))  # 5 boxes against 1 reference
    answers.write_text(json.dumps({"doc_id": "s1", "answer": spam}) + "\n")
    out = tmp_path / "spam_run"
    evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                       log_samples=True, progress=False, bootstrap=0))
    html = build_report([load_run(out)])
    assert '<ul class="box-warnings"><li class="warn">spam_task: box counts: 5.0 predicted vs 1.0' in html


def test_the_full_prompt_is_shown_on_demand_and_escaped(run_dir):
    assert "full prompt" not in build_report([load_run(run_dir)])  # replay sends no prompt
    samples = next(run_dir.glob("samples_*.jsonl"))
    row = json.loads(samples.read_text())
    row["full_prompt"] = "SYSTEM. USER: <image>\nDescribe the quality. ASSISTANT:"
    samples.write_text(json.dumps(row) + "\n")
    html = build_report([load_run(run_dir)])
    assert ('<details class="prompt"><summary>full prompt</summary>'
            "<pre>SYSTEM. USER: &lt;image&gt;\nDescribe the quality. ASSISTANT:</pre></details>") in html


def test_a_run_whose_every_task_failed_is_named_as_such_not_as_unlogged(tmp_path):
    from giqa_harness.errors import DatasetError

    out = tmp_path / "dead"
    out.mkdir()
    error = "EndpointUnreachableError: cannot reach http://127.0.0.1:9/v1: connection refused"
    (out / "results.json").write_text(json.dumps({
        "model": {"model": "openai"}, "config": {"log_samples": True},
        "results": {"giqa_synth_des": {"error": error, "n_failed": 2, "metrics": {}}}}))
    with pytest.raises(DatasetError, match="every task of this run failed") as info:
        load_run(out)
    assert "--log_samples" not in str(info.value) and "connection refused" in str(info.value)


def test_a_run_is_labelled_as_the_leaderboard_names_it(run_dir):
    from giqa_harness.leaderboard import load_results, method_name

    assert load_run(run_dir).label == method_name(load_results(run_dir)) == "replay (answers.jsonl)"
