"""The leaderboard: any number of results.json files as one table laid out like the paper's Table 5.

Values are on the paper's scales (mIoU, Tag-Recall and accuracies in [0, 1]; BLEU@4 x 100; LLM-Score
x 25). ``N/A`` marks a metric that does not apply (a model that emits no boxes); an empty cell marks one
that was not computed (e.g. no judge), with the reason in results.json. A value computed on part of its
samples carries its coverage, ``0.6250 (5/100)``, and its notes (count and cause of the failures).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .box_checks import run_warnings
from .box_checks import table_lines as box_table_lines
from .errors import DatasetError
from .metrics.coverage import entry_coverage, entry_notes
from .score.summary import answered_and_failed
from .score.summary import table_lines as score_table_lines

# (column title, task side, metric name, digits) in the order of Table 5.
COLUMNS: list[tuple[str, str, str, int]] = [
    ("DES mIoU", "des", "miou", 4),
    ("DES Tag-Recall", "des", "tag_recall", 4),
    ("BLEU@4", "des", "bleu4", 2),
    ("LLM-Score", "des", "llm_score", 2),
    ("VQA mIoU", "vqa", "miou", 4),
    ("VQA Tag-Recall", "vqa", "tag_recall", 4),
    ("Acc(Y)", "vqa", "acc_y", 4),
    ("Acc(W)", "vqa", "acc_w", 4),
    ("Acc(Total)", "vqa", "acc_total", 4),
]

BOX_COUNTS = "box_counts"  # not a metric: the task's box_checks counts, "predicted / reference" per answer

# `leaderboard --extended` adds these after Table 5's columns: the box metrics that charge for boxes
# matching nothing, and the box counts that show a run writing many more boxes than the references.
EXTENDED_COLUMNS: list[tuple[str, str, str, int]] = [
    ("DES Tag-P", "des", "tag_precision", 4),
    ("DES Tag-F1", "des", "tag_f1", 4),
    ("DES mIoU (penalized)", "des", "miou_penalized", 4),
    ("DES boxes/answer (pred / ref)", "des", BOX_COUNTS, 2),
    ("VQA Tag-P", "vqa", "tag_precision", 4),
    ("VQA Tag-F1", "vqa", "tag_f1", 4),
    ("VQA mIoU (penalized)", "vqa", "miou_penalized", 4),
    ("VQA boxes/answer (pred / ref)", "vqa", BOX_COUNTS, 2),
]

NA = "N/A"
SYNTH_PREFIX = "giqa_synth"
SYNTH_NOTE = "giqa_synth: the embedded synthetic bench, not comparable with the paper's GIQA-Bench rows"

# The published Table 5 of the Grounding-IQA paper (also in docs/metrics.md), for reference rows.
_PUBLISHED = """\
General|LLaVA-v1.5-7B|N/A|N/A|2.82|47.00|N/A|N/A|0.4444|0.5167|0.4733
General|LLaVA-v1.5-13B|N/A|N/A|3.00|49.00|N/A|N/A|0.3888|0.5250|0.4433
General|LLaVA-v1.6-7B|N/A|N/A|3.04|50.50|N/A|N/A|0.4889|0.5333|0.5067
General|mPLUG-Owl2-7B|N/A|N/A|3.62|48.25|N/A|N/A|0.5889|0.5250|0.5633
Ground|Shikra-7B|0.4506|0.4768|0.40|27.00|0.4126|0.4359|0.5333|0.3917|0.4767
Ground|Kosmos-2-1.6B|0.4946|0.3448|2.63|39.25|0.4982|0.4103|0.3889|0.4750|0.4233
Ground|Ferret-7B|0.6458|0.6778|3.16|43.75|0.5393|0.5769|0.4111|0.4875|0.4417
Ground|GroundingGPT-7B|0.4967|0.5391|1.99|32.50|0.3845|0.5321|0.5444|0.5250|0.5367
IQA|DepictQA-Wild-7B|N/A|N/A|3.34|56.50|N/A|N/A|0.4333|0.5458|0.4783
IQA|Q-Instruct (LLaVA-v1.5-7B)|N/A|N/A|22.69|58.25|N/A|N/A|0.6444|0.5375|0.6017
IQA|Q-Instruct (LLaVA-v1.5-13B)|N/A|N/A|19.01|57.25|N/A|N/A|0.6222|0.5417|0.5900
IQA|Q-Instruct (mPLUG-Owl2-7B)|N/A|N/A|21.46|62.00|N/A|N/A|0.6111|0.5375|0.5817
Ours|Grounding-IQA (LLaVA-v1.5-7B)|0.5763|0.5283|19.02|60.00|0.5180|0.5961|0.7777|0.5458|0.6850
Ours|Grounding-IQA (LLaVA-v1.5-13B)|0.6302|0.5548|20.24|60.50|0.6830|0.7564|0.7889|0.5542|0.6950
Ours|Grounding-IQA (LLaVA-v1.6-7B)|0.6583|0.5981|19.17|60.00|0.5459|0.6538|0.8333|0.5625|0.7250
Ours|Grounding-IQA (mPLUG-Owl2-7B)|0.5955|0.5474|22.87|63.00|0.6031|0.7372|0.8444|0.5875|0.7417
"""


@dataclass
class Row:
    group: str
    method: str
    cells: dict[str, str]  # column title -> formatted value
    intervals: dict[str, str]  # column title -> "[lo, hi]" or ""
    note: str = ""
    metric_notes: list[str] = field(default_factory=list)  # "<column> <kind>: <text>", also in ``note``
    box_warnings: list[str] = field(default_factory=list)  # box_checks warnings of the row's tasks
    synthetic: bool = False  # scored on giqa_synth: not comparable with the paper's GIQA-Bench rows


def published_rows() -> list[Row]:
    rows = []
    for line in _PUBLISHED.strip().splitlines():
        group, method, *values = line.split("|")
        rows.append(Row(group, method, dict(zip((c[0] for c in COLUMNS), values)), {}, "published (paper)"))
    return rows


def load_results(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"no results file at {file}") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{file}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def side_tasks(results: dict[str, Any], des_task: str | None = None, vqa_task: str | None = None) -> dict[str, str | None]:
    """Which task of a run feeds the DES columns and which the VQA columns (first ``*_des``/``*_vqa``)."""
    names = list(results.get("results", {}))

    def pick(explicit: str | None, suffix: str) -> str | None:
        if explicit:
            if explicit not in names:  # a silently empty row would read as "not computed"
                raise DatasetError(f"task {explicit!r} is not in this run; it has: {', '.join(names) or 'no tasks'}")
            return explicit
        return next((n for n in names if n.endswith(suffix)), None)

    return {"des": pick(des_task, "_des"), "vqa": pick(vqa_task, "_vqa")}


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def run_row(results: dict[str, Any], method: str | None = None, des_task: str | None = None,
            vqa_task: str | None = None, complete_only: bool = False, extended: bool = False) -> Row:
    """One run's row. A value computed on part of its samples reads ``0.6250 (5/100)`` (scored /
    applicable) and its notes go to the Note column; ``complete_only`` leaves such values out;
    ``extended`` adds the cells of `EXTENDED_COLUMNS`."""
    sides = side_tasks(results, des_task, vqa_task)
    cells: dict[str, str] = {}
    intervals: dict[str, str] = {}
    notes = []
    metric_notes: list[str] = []
    for side, task in sides.items():  # a failed task's columns are empty: say why, under the table too
        error = results["results"].get(task, {}).get("error") if task else None
        if error:
            metric_notes.append(f"{side.upper()} task {task} failed: {error}")
    for title, side, metric, digits in COLUMNS + (EXTENDED_COLUMNS if extended else []):
        task = sides[side]
        if metric == BOX_COUNTS:
            cells[title], intervals[title] = _box_count_cell(results["results"].get(task, {}) if task else {}, digits), ""
            continue
        entry = results["results"].get(task, {}).get("metrics", {}).get(metric) if task else None
        if entry is None:
            cells[title], intervals[title] = "", ""
            continue
        value = entry.get("value")
        if value is None:
            reason = entry.get("reason") or ""
            cells[title] = NA if reason.startswith("N/A") else ""
            intervals[title] = ""
            continue
        coverage = entry_coverage(entry)
        incomplete = coverage is not None and not coverage.complete
        if incomplete and complete_only:
            cells[title], intervals[title] = "", ""
            metric_notes.append(f"{title} left out: incomplete ({coverage.fraction()} scored)")
            continue
        cells[title] = _fmt(value, digits) + (f" ({coverage.fraction()})" if incomplete else "")
        ci = entry.get("ci95")
        intervals[title] = f"[{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]" if ci else ""
        metric_notes += [f"{title} {n['kind']}: {n['text']}" for n in entry_notes(entry)]
    failed = sum(r.get("n_failed", 0) for r in results.get("results", {}).values())
    if failed:
        notes.append(f"{failed} failed samples")
    if method is None:
        method = method_name(results)
    tasks = ",".join(t for t in sides.values() if t)
    synthetic = any(t.startswith(SYNTH_PREFIX) for t in sides.values() if t)
    if synthetic:
        notes.append(SYNTH_NOTE)
    return Row("run", method, cells, intervals, "; ".join([tasks] + notes + metric_notes), metric_notes,
               run_warnings(results, [sides["des"], sides["vqa"]]), synthetic=synthetic)


def method_name(results: dict[str, Any]) -> str:
    """A run's default name in every layout: the adapter, and the checkpoint's folder name if any."""
    model = results.get("model", {})
    args = model.get("model_args", {}) or {}
    pretrained = args.get("pretrained") or args.get("path")
    return model.get("model", "?") + (f" ({Path(str(pretrained)).name})" if pretrained else "")


def _box_count_cell(task_result: dict[str, Any], digits: int) -> str:
    counts = (task_result.get("box_checks") or {}).get("counts")
    if not counts:
        return ""
    return f"{_fmt(counts['predicted_per_answer'], digits)} / {_fmt(counts['reference_per_answer'], digits)}"


def column_titles(extended: bool = False) -> list[str]:
    return [c[0] for c in COLUMNS + (EXTENDED_COLUMNS if extended else [])]


def finished_runs(paths: Iterable[str | Path], names: list[str] | None = None
                  ) -> tuple[list[str | Path], list[str] | None, list[str]]:
    """The results files and run folders that hold results, with their ``--names``; and one line per run
    folder without results.json (a failed run, a training output dir), which is left out."""
    paths = list(paths)
    if names and len(names) != len(paths):  # a name beside the wrong run is worse than none
        raise DatasetError(f"--names gives {len(names)} name(s) for {len(paths)} results file(s)")
    kept = [i for i, p in enumerate(paths) if not (Path(p).is_dir() and not (Path(p) / "results.json").is_file())]
    skipped = [f"{paths[i]}: no results.json (not a finished run), skipped" for i in range(len(paths)) if i not in kept]
    return [paths[i] for i in kept], [names[i] for i in kept] if names else None, skipped


def build_rows(paths: Iterable[str | Path], names: list[str] | None = None, reference: bool = False,
               des_task: str | None = None, vqa_task: str | None = None, complete_only: bool = False,
               extended: bool = False, skipped: list[str] | None = None) -> list[Row]:
    """One row per run (after the paper's rows with ``reference``). A run with neither a DES nor a VQA
    task (only score or multiple-choice tasks) is left out, with a line in ``skipped``: an all-empty row
    would read as a run whose metrics were not computed."""
    paths = list(paths)
    names = names or []
    if names and len(names) != len(paths):  # a name beside the wrong run is worse than none
        raise DatasetError(f"--names gives {len(names)} name(s) for {len(paths)} results file(s)")
    rows = published_rows() if reference else []
    for i, path in enumerate(paths):
        results = load_results(path)
        if not des_task and not vqa_task and not any(side_tasks(results).values()):
            if skipped is not None:
                skipped.append(f"{path}: no *_des or *_vqa task (it has: {', '.join(results.get('results', {})) or 'none'}), "
                               "left out; score and multiple-choice tasks: --layout score / --layout mcq")
            continue
        try:
            rows.append(run_row(results, names[i] if i < len(names) else None, des_task, vqa_task, complete_only,
                                extended))
        except DatasetError as exc:
            raise DatasetError(f"{path}: {exc}") from None
    return rows


def header(with_ci: bool = True, extended: bool = False) -> list[str]:
    titles = column_titles(extended)
    return ["Group", "Method", *titles, *([f"{t} 95% CI" for t in titles] if with_ci else []), "Note"]


def to_csv(rows: list[Row], with_ci: bool = True, extended: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header(with_ci, extended))
    for row in rows:
        titles = column_titles(extended)
        note = "; ".join(n for n in [row.note, *row.box_warnings] if n)
        writer.writerow([row.group, row.method, *(row.cells.get(t, "") for t in titles),
                         *((row.intervals.get(t, "") for t in titles) if with_ci else ()), note])
    return buf.getvalue()


def markdown_cells(row: Row, titles: list[str], with_ci: bool) -> list[str]:
    """A row's Markdown cells in every layout: ``–`` for an empty cell, the interval after the value."""
    cells = []
    for title in titles:
        value = row.cells.get(title, "") or "–"
        if with_ci and row.intervals.get(title):
            value += f" {row.intervals[title]}"
        cells.append(value)
    return cells


def to_markdown(rows: list[Row], with_ci: bool = False, extended: bool = False) -> str:
    """The table; a row with box warnings gets a ``(!)`` after its method and the warnings below."""
    titles = column_titles(extended)
    head = ["Group", "Method", *titles]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    mark = any(r.synthetic for r in rows) and any(r.group != "run" for r in rows)
    for row in rows:
        cells = markdown_cells(row, titles, with_ci)
        method = row.method + (" (!)" if row.box_warnings else "") + (" ¹" if mark and row.synthetic else "")
        lines.append("| " + " | ".join([row.group, method, *cells]) + " |")
    # The table has no Note column: what qualifies a value, and box warnings, are listed under it.
    notes = [f"- {row.method}: {note}" for row in rows for note in row.metric_notes]
    notes += [f"- (!) {row.method}: {w}" for row in rows for w in row.box_warnings]
    if mark:
        notes.append(f"¹ {SYNTH_NOTE}.")
    return "\n".join(lines + ([""] + notes if notes else []))


def format_run_table(results: dict[str, Any]) -> str:
    """The per-task metric table printed at the end of a run. A value computed on part of its samples
    shows ``scored/applicable`` and, on the next line, its notes (``incomplete: ...`` with the causes)."""
    lines = []
    for task, res in results.get("results", {}).items():
        if res.get("error"):
            lines.append(f"{task}  FAILED: {res['error']}")
            continue
        n_docs = res.get("n_samples", res["n_scored"] + res["n_failed"])
        answered, failed = answered_and_failed(res)
        lines.append(f"{task}  ({answered} of {n_docs} docs answered, {failed} failed)")
        width = max([len(m.get("label") or n) for n, m in res["metrics"].items()] + [6])
        for name, m in res["metrics"].items():
            label = (m.get("label") or name).ljust(width)
            if m.get("value") is None:
                lines.append(f"  {label}  {m.get('reason', 'not computed')}")
            else:
                ci = m.get("ci95")
                ci_text = f"  95% CI [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else ""
                coverage = entry_coverage(m)
                count = f"n={m['n']}" if coverage is None or coverage.complete else f"{coverage.fraction()} scored"
                lines.append(f"  {label}  {m['value']:.4f}{ci_text}  ({count})")
            for note in entry_notes(m):
                lines.append(f"{' ' * (width + 4)}{note['kind']}: {note['text']}")
        lines.extend(box_table_lines(res))
        lines.extend(score_table_lines(res))
        if res.get("failures"):
            for failure in res["failures"][:5]:
                lines.append(f"  failed {failure['doc_id']}: {failure['reason']}")
            if len(res["failures"]) > 5:
                lines.append(f"  ... {len(res['failures']) - 5} more failures in results.json")
    return "\n".join(lines)
