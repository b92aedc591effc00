"""The report as a reader sees it: labels readable on crowded images (measured in headless Chromium),
no Python ``None`` among the scores, N/A never drawn as 0, and a notice when runs differ in samples."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.report import build_report, load_run
from giqa_harness.testing.bench import write_image

# Four boxes crowded into the top-left corner of the image: labels above them would leave the image, and
# labels at their corners would cover each other.
CROWDED = ("The [blurred sky region](<0, 42>) and the [noisy roof edge](<1, 43>) beside the "
           "[dark tree](<20, 62>) and the [overexposed window pane](<21, 63>) are poor.")
RECORDS = [
    {"id": "s1", "image": "images/grey.png", "kind": "des", "question": "Describe the quality.",
     "answer": "The [blurred sky region](<0, 42>) is soft."},
    {"id": "y1", "image": "images/grey.png", "kind": "vqa_yn", "qtype": "yes", "mode": "referring",
     "question": "Is the [sky](<0, 42>) blurred?", "answer": "Yes."},
]


@pytest.fixture
def run_dir(tmp_path, tiny_task):
    task = tiny_task(records=RECORDS, name="layout_task", metrics=["miou", "acc_y"])
    write_image(tmp_path / "data_layout_task" / "images" / "grey.png", size=(400, 300), color=(128, 128, 128))
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"doc_id": "s1", "answer": CROWDED}) + "\n"
                       + json.dumps({"doc_id": "y1", "answer": "Yes."}) + "\n")

    def make(name, limit=None):
        out = tmp_path / name
        evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                           log_samples=True, progress=False, bootstrap=0, limit=limit))
        return out

    return make


def test_samples_without_a_score_show_a_dash_not_none(run_dir):
    html = build_report([load_run(run_dir("full"))])
    tables = re.findall(r'<table class="scores">(.*?)</table>', html)
    assert tables and not any("None" in t for t in tables)
    assert 'class="noscore"' in html  # the yes/no question's mIoU does not apply: shown as a dash with a tooltip


def test_compared_runs_over_different_samples_get_a_notice(run_dir):
    full, short = load_run(run_dir("full"), "full"), load_run(run_dir("short", limit=1), "short")
    assert "cover different samples" not in build_report([full, load_run(run_dir("again"), "again")])
    html = build_report([full, short])
    assert "The runs cover different samples</b> (full: 2, short: 1; 1 in all of them)" in html


MEASURE = """<pre id="measure"></pre><script>
window.addEventListener('load', () => setTimeout(() => {
  const out = [];
  document.querySelectorAll('.imgbox').forEach(box => {
    const b = box.getBoundingClientRect();
    const labels = Array.from(box.querySelectorAll('.lbl')).map(l => {
      const r = l.getBoundingClientRect();
      return {text: l.textContent, x: r.left, y: r.top, w: r.width, h: r.height, full: l.scrollWidth <= l.clientWidth};
    });
    out.push({x: b.left, y: b.top, w: b.width, h: b.height, labels});
  });
  const notice = document.getElementById('coverage-notice');
  document.getElementById('measure').textContent = JSON.stringify({boxes: out, notice: notice ? notice.offsetHeight : 0});
}, 50));
</script></body>"""


def measure(html, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'); the layout test needs it")
    page = tmp_path / "page.html"
    page.write_text(html.replace("</body>", MEASURE))
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,1400", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.DOTALL)
    assert found and found.group(1), "the measuring script did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _overlap(a, b):
    return a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5 \
        and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5


def test_labels_of_crowded_boxes_neither_overlap_nor_leave_the_image(run_dir, tmp_path):
    full, short = load_run(run_dir("full"), "full"), load_run(run_dir("short", limit=1), "short")
    layout = measure(build_report([full, short]), tmp_path)
    crowded = [box for box in layout["boxes"] if any(l["text"] == "dark tree" for l in box["labels"])]
    assert crowded, "the crowded sample is not in the report"
    for box in crowded:
        labels = box["labels"]
        assert len(labels) >= 5  # the reference box and the four predicted ones
        for i, a in enumerate(labels):
            assert box["x"] - 0.5 <= a["x"] and a["x"] + a["w"] <= box["x"] + box["w"] + 0.5, a
            assert box["y"] - 0.5 <= a["y"] and a["y"] + a["h"] <= box["y"] + box["h"] + 0.5, a
            assert a["full"], f"label {a['text']!r} is cut"
            for b in labels[i + 1:]:
                assert not _overlap(a, b), (a, b)
    assert layout["notice"] > 0  # the different-samples notice is on the page, not hidden


def test_png_bars_draw_not_applicable_distinctly_from_zero():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from giqa_harness.report.charts import bars_figure

    values = {"a": {"miou": {"value": 0.6, "ci95": [0.5, 0.7]}}, "b": {"miou": {"value": None, "reason": "N/A"}},
              "c": {"miou": {"value": 0.0, "ci95": [0.0, 0.0]}}}
    runs = [SimpleNamespace(label=name, side_metric=lambda side, metric, m=m: m.get(metric) if side == "des" else None)
            for name, m in values.items()]
    fig = bars_figure(runs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["N/A"]
    bars = ax.patches
    hatched = [p for p in bars if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_height() > 0  # the N/A run: a full-height hatched outline
    zero = [p for p in bars if not p.get_hatch() and p.get_height() == 0]
    assert len(zero) == 1  # a real 0.0 stays an empty bar, without the N/A mark


def test_the_radar_leaves_off_a_metric_some_run_lacks_and_names_it_instead_of_drawing_zero():
    from giqa_harness.report.charts import radar_axes, radar_svg

    full = {"miou": {"value": 0.6}, "tag_recall": {"value": 0.5}, "bleu4": {"value": 8.0}, "llm_score": {"value": 60.0}}
    lacking = {**full, "tag_recall": {"value": None, "reason": "N/A: writes no boxes"}}
    runs = [SimpleNamespace(label=name, side_metric=lambda side, metric, m=m: m.get(metric) if side == "des" else None)
            for name, m in (("a", full), ("b", lacking))]
    axes, left_off = radar_axes(runs)
    assert [title for title, _ in axes] == ["DES mIoU", "BLEU@4", "LLM-Score"] and left_off == ["DES Tag-Recall"]
    svg = radar_svg(runs)
    assert "not on the radar (N/A for some run): DES Tag-Recall" in svg
    assert ">DES Tag-Recall</text>" not in svg  # no axis for it, so no point at the centre
    assert radar_axes(runs[:1])[1] == [] and "not on the radar" not in radar_svg(runs[:1])
