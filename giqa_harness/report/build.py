"""Building the HTML report from run folders (results.json + samples_<task>.jsonl)."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Sequence

from ..errors import DatasetError
from ..leaderboard import load_results, method_name, side_tasks
from ..output import read_jsonl
from .charts import bars_svg, radar_svg
from .summary import summary_html
from .template import PAGE

NOT_APPLICABLE = ('<span class="noscore" title="no score for this sample: the metric does not apply to it, or was not '
                  'computed (the reason is in results.json)">–</span>')
PRED_COLOUR = "#e6007e"  # predicted boxes (magenta)
REF_COLOUR = "#00a651"  # reference boxes (green)
QUESTION_COLOUR = "#f5a200"  # boxes given in the question (amber, dashed)


@dataclass
class Run:
    folder: Path
    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]
    label: str
    _box_format: Any = field(default=None, repr=False)

    def side_metric(self, side: str, metric: str) -> dict[str, Any] | None:
        task = side_tasks(self.results)[side]
        return self.results["results"].get(task, {}).get("metrics", {}).get(metric) if task else None

    def box_format(self) -> Any:
        if self._box_format is None:
            from ..boxes.formats import format_from_description

            self._box_format = format_from_description(self.results["model"]["box_format"])
        return self._box_format


def load_run(folder: str | Path, label: str | None = None) -> Run:
    folder = Path(folder)
    results = load_results(folder)
    samples = {}
    for task in results.get("results", {}):
        log = folder / f"samples_{task}.jsonl"
        if log.is_file():
            samples[task] = read_jsonl(log)
    if not samples:
        tasks = results.get("results", {})
        failed = [(name, r["error"]) for name, r in tasks.items() if r.get("error")]
        if tasks and len(failed) == len(tasks):  # logged or not, a failed task leaves no samples to show
            name, error = failed[0]
            raise DatasetError(f"{folder}: every task of this run failed, so it has no samples to show "
                               f"(first: {name}: {error})")
        raise DatasetError(f"{folder} has no samples_<task>.jsonl: run the evaluation with --log_samples")
    named = (results.get("model") or {}).get("model")
    return Run(folder, results, samples, label or (method_name(results) if named else folder.name))


def image_data_url(path: str, max_side: int) -> str | None:
    """The image shrunk to ``max_side`` and embedded as a JPEG data URL (None if it cannot be read)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((max_side, max_side))
            buf = io.BytesIO()
            # JPEG keeps a 250-sample report a few MB; boxes are drawn as SVG, so no detail is lost on them.
            im.save(buf, format="JPEG", quality=88)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def highlight(text: str, groundings: Sequence[Any]) -> str:
    """``text`` as HTML with each grounding's markup wrapped in a highlight span."""
    out, cursor = [], 0
    for g in sorted((g for g in groundings if g.span), key=lambda g: g.span[0]):
        start, end = g.span
        if start < cursor:
            continue
        out.append(escape(text[cursor:start]))
        out.append(f'<mark title="{escape(g.phrase)}">{escape(text[start:end])}</mark>')
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


def overlay(image_key: str, boxes: Sequence[tuple[str, list[float], str, bool]]) -> str:
    """An image with boxes drawn over it: (phrase, box, colour, dashed) in normalized coordinates."""
    rects, labels = [], []
    for phrase, (x1, y1, x2, y2), colour, dashed in boxes:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        rects.append(f'<rect x="{x1:.5f}" y="{y1:.5f}" width="{max(x2 - x1, 0.002):.5f}" '
                     f'height="{max(y2 - y1, 0.002):.5f}" stroke="{colour}"{dash}/>')
        # data-x/-y: the box's corner; the page's placeLabels() moves labels off each other and inside
        # the image once it knows their sizes (the style is where they sit before, or without, script).
        labels.append(f'<span class="lbl" data-x="{x1:.5f}" data-y="{y1:.5f}" title="{escape(phrase)}" '
                      f'style="left:{x1 * 100:.2f}%;top:{y1 * 100:.2f}%;background:{colour}">{escape(phrase)}</span>')
    return (f'<div class="imgbox"><img data-img="{image_key}" alt="">'
            f'<svg viewBox="0 0 1 1" preserveAspectRatio="none">{"".join(rects)}</svg>{"".join(labels)}</div>')


def _boxes(groundings: list[dict[str, Any]], colour: str, dashed: bool = False) -> list[tuple[str, list[float], str, bool]]:
    return [(g["phrase"], b, colour, dashed) for g in groundings for b in g["boxes"]]


def sample_column(run: Run, row: dict[str, Any], image_key: str) -> str:
    scores = row.get("scores") or {}
    score_html = "".join(
        f"<tr><td>{escape(k)}</td><td>{_score_text(v)}</td></tr>" for k, v in scores.items()
    )
    if row.get("failed"):
        body = f'<p class="failed">failed: {escape(row["failed"])}</p>'
        boxes = _boxes(row.get("reference_groundings") or [], REF_COLOUR)
    else:
        size = tuple(row["image_size"]) if row.get("image_size") else (1, 1)
        parsed = run.box_format().parse(row["answer"], size)
        body = f'<p class="answer">{highlight(row["answer"], parsed.groundings)}</p>'
        dropped = (row.get("parsed") or {}).get("dropped", 0)
        if dropped:
            body += f'<p class="warn">{dropped} malformed box(es) dropped by the parser</p>'
        boxes = (_boxes(row.get("question_groundings") or [], QUESTION_COLOUR, dashed=True)
                 + _boxes(row.get("reference_groundings") or [], REF_COLOUR)
                 + _boxes((row.get("parsed") or {}).get("groundings") or [], PRED_COLOUR))
    return (f'<div class="run"><h4>{escape(run.label)}</h4>{overlay(image_key, boxes)}{body}'
            f'<table class="scores">{score_html}</table>{full_prompt_block(row)}</div>')


def full_prompt_block(row: dict[str, Any]) -> str:
    """The text the model was given, folded away until asked for (absent from older logs)."""
    prompt = row.get("full_prompt")
    if not isinstance(prompt, str):
        return ""
    return f'<details class="prompt"><summary>full prompt</summary><pre>{escape(prompt)}</pre></details>'



def _score_text(value: Any) -> str:
    if value is None:  # the metric does not apply to this sample (e.g. mIoU of an answer without boxes)
        return NOT_APPLICABLE
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{escape(str(k))}={_score_text(v)}" for k, v in value.items() if not isinstance(v, (list, dict)))
    return escape(str(value))


def _sample_miou(row: dict[str, Any]) -> float | None:
    value = (row.get("scores") or {}).get("miou")
    if isinstance(value, dict):
        value = value.get("miou", value.get("value"))
    return float(value) if isinstance(value, (int, float)) else None


def build_report(runs: Sequence[Run], max_image_side: int = 480, title: str = "giqa-harness report") -> str:
    """The whole self-contained HTML page for one or more runs (same samples side by side)."""
    images: dict[str, str] = {}
    image_keys: dict[str, str] = {}
    keyed: dict[tuple[str, str], list[tuple[Run, dict[str, Any]]]] = {}
    for run in runs:
        for task, rows in run.samples.items():
            for row in rows:
                keyed.setdefault((task, row["doc_id"]), []).append((run, row))
    cards = []
    for (task, doc_id), entries in keyed.items():
        first = entries[0][1]
        path = first["image"]
        if path not in image_keys:
            image_keys[path] = f"i{len(image_keys)}"
            images[image_keys[path]] = image_data_url(path, max_image_side) or ""
        key = image_keys[path]
        failed = any(r.get("failed") or (r.get("parsed") or {}).get("dropped") for _, r in entries)
        mious = [m for m in (_sample_miou(r) for _, r in entries) if m is not None]
        kind = first["kind"] + (f"/{first['qtype']}" if first.get("qtype") else "") + (
            f"/{first['mode']}" if first.get("mode") else "")
        ref_groundings = _parse_canonical(first["reference"], first)
        q_groundings = _parse_canonical(first["question"], first)
        columns = "".join(sample_column(run, row, key) for run, row in entries)
        cards.append(
            f'<section class="card" data-task="{escape(task)}" data-kind="{escape(first["kind"])}" '
            f'data-failed="{int(bool(failed))}" data-miou="{min(mious) if mious else ""}" data-id="{escape(doc_id)}">'
            f'<header><b>{escape(task)}</b> · {escape(doc_id)} · {escape(kind)}</header>'
            f'<p class="q"><b>Q:</b> {highlight(first["question"], q_groundings)}</p>'
            f'<p class="ref"><b>Reference:</b> {highlight(first["reference"], ref_groundings)}</p>'
            f'<div class="runs">{columns}</div></section>'
        )
    tasks = sorted({t for t, _ in keyed})
    kinds = sorted({entries[0][1]["kind"] for entries in keyed.values()})
    legend = (f'<span class="key" style="border-color:{PRED_COLOUR}">predicted</span>'
              f'<span class="key" style="border-color:{REF_COLOUR}">reference</span>'
              f'<span class="key dashed" style="border-color:{QUESTION_COLOUR}">box in the question</span>')
    runs_list = "".join(f"<li>{escape(r.label)} — {escape(str(r.folder))}{_box_warnings_html(r)}</li>" for r in runs)
    return PAGE.substitute(
        title=escape(title),
        runs=runs_list,
        bars=bars_svg(runs),
        radar=radar_svg(runs),
        summary=summary_html(runs),
        legend=legend,
        notice=coverage_notice(runs),
        task_options="".join(f'<option>{escape(t)}</option>' for t in tasks),
        kind_options="".join(f'<option>{escape(k)}</option>' for k in kinds),
        cards="\n".join(cards),
        images=json.dumps(images).replace("</", "<\\/"),
        count=len(cards),
    )


def _box_warnings_html(run: Run) -> str:
    """The run's box_checks warnings (box spam, a likely wrong declared syntax), under its name."""
    from ..box_checks import run_warnings

    items = "".join(f'<li class="warn">{escape(w)}</li>' for w in run_warnings(run.results))
    return f'<ul class="box-warnings">{items}</ul>' if items else ""


def coverage_notice(runs: Sequence[Run]) -> str:
    """A visible note when compared runs did not answer the same samples (a ``--limit 10`` run beside a
    full one): their summary numbers then average different samples, and some cards have one column."""
    if len(runs) < 2:
        return ""
    keys = [{(task, row["doc_id"]) for task, rows in run.samples.items() for row in rows} for run in runs]
    if all(k == keys[0] for k in keys):
        return ""
    common = set.intersection(*keys)
    counts = ", ".join(f"{escape(run.label)}: {len(k)}" for run, k in zip(runs, keys))
    return (f'<p class="notice" id="coverage-notice"><b>The runs cover different samples</b> ({counts}; '
            f'{len(common)} in all of them). Their summary numbers are not over the same samples, and a card '
            f'shows only the runs that answered it.</p>')


def _parse_canonical(text: str, row: dict[str, Any]) -> tuple[Any, ...]:
    from ..boxes.formats import CANONICAL_FORMAT, get_format

    size = tuple(row["image_size"]) if row.get("image_size") else (1, 1)
    return get_format(CANONICAL_FORMAT).parse(text, size).groundings
