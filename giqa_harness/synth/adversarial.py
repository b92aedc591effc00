"""Answer sets that show what the box metrics reward, to put beside the classical baseline on giqa_synth.

Each set is a replay file built from the bench's records; none looks at an image:

- ``whole_image``: one whole-image box for everything (`baselines.ANSWERS`);
- ``random_boxes``: the reference text with every box replaced by a uniformly random one (two distinct
  random rows and two distinct random columns of the 20 x 20 grid), phrases kept;
- ``box_grid``: the same 225 boxes in every answer, each as its own grounding with one generic phrase:
  every rectangle whose edges lie on a 5 x 5 coarse grid (15 spans per axis, 15 x 15 boxes, from one
  coarse cell to the whole image);
- ``shuffled_references``: the reference answer of another image (same kind and mode), so phrases and
  box sizes are realistic but the places are not this image's;
- ``jitter_1`` / ``jitter_3``: the reference answer with each box corner moved by exactly 1 (3) grid
  cells along each axis, the direction drawn at random, clamped to the grid.

Randomness is seeded, so the same seed writes the same files.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Callable

from ..boxes.formats.grid import GRID_SIZE
from ..datasets import iter_records
from .baselines import ANSWERS, evaluate_answers

ANSWER_SETS = ("whole_image", "random_boxes", "box_grid", "shuffled_references", "jitter_1", "jitter_3")
METHODS = ("classical", *ANSWER_SETS, "reference")

GENERIC_PHRASE = "the distorted region"
COARSE = 5  # the box grid's coarse cells per axis; GRID_SIZE / COARSE grid cells each
_PAIR = re.compile(r"<\s*(\d+)\s*,\s*(\d+)\s*>")


def grid_boxes(coarse: int = COARSE, n: int = GRID_SIZE) -> list[tuple[int, int]]:
    """Every rectangle on a ``coarse`` x ``coarse`` grid as a (top-left cell, bottom-right cell) pair."""
    step = n // coarse
    spans = [(a * step, b * step - 1) for a in range(coarse) for b in range(a + 1, coarse + 1)]
    return [(top * n + left, bottom * n + right) for top, bottom in spans for left, right in spans]


def box_grid_answer() -> str:
    return " ".join(f"[{GENERIC_PHRASE}](<{a}, {b}>)" for a, b in grid_boxes())


def _replace_boxes(text: str, move: Callable[[int, int, int, int], tuple[int, int, int, int]]) -> str:
    """``text`` (canonical grid syntax) with every cell pair's (row1, col1, row2, col2) passed through ``move``."""
    n = GRID_SIZE

    def sub(match: re.Match[str]) -> str:
        (r1, c1), (r2, c2) = divmod(int(match.group(1)), n), divmod(int(match.group(2)), n)
        r1, c1, r2, c2 = move(r1, c1, r2, c2)
        r1, r2 = sorted((r1, r2))
        c1, c2 = sorted((c1, c2))
        return f"<{r1 * n + c1}, {r2 * n + c2}>"

    return _PAIR.sub(sub, text)


def random_boxes(rng: random.Random) -> Callable[[int, int, int, int], tuple[int, int, int, int]]:
    def move(*_: int) -> tuple[int, int, int, int]:
        (r1, r2), (c1, c2) = rng.sample(range(GRID_SIZE), 2), rng.sample(range(GRID_SIZE), 2)  # never a line
        return r1, c1, r2, c2

    return move


def jitter(cells: int, rng: random.Random) -> Callable[[int, int, int, int], tuple[int, int, int, int]]:
    def move(*coords: int) -> tuple[int, int, int, int]:
        r1, c1, r2, c2 = (min(GRID_SIZE - 1, max(0, v + rng.choice((-cells, cells)))) for v in coords)
        return r1, c1, r2, c2

    return move


def shuffled(records: list[dict[str, Any]], rng: random.Random) -> dict[str, str]:
    """Each record gets the reference answer of another record of its kind and mode (a seeded cycle)."""
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["kind"], record.get("mode")), []).append(record)
    out = {}
    for group in groups.values():
        order = group[:]
        rng.shuffle(order)
        for i, record in enumerate(order):  # a cycle through the shuffled order: nobody keeps their own
            out[record["id"]] = order[(i + 1) % len(order)]["answer"]
    return out


def answer_set(records: list[dict[str, Any]], name: str, seed: int = 0) -> dict[str, str]:
    """``{doc id: answer}`` of answer set ``name`` for ``records``."""
    rng = random.Random(f"{name}:{seed}")
    if name == "shuffled_references":
        return shuffled(records, rng)
    if name == "box_grid":
        grid = box_grid_answer()
        return {r["id"]: grid for r in records}
    if name == "random_boxes":
        return {r["id"]: _replace_boxes(r["answer"], random_boxes(rng)) for r in records}
    if name.startswith("jitter_"):
        cells = int(name.split("_", 1)[1])
        return {r["id"]: _replace_boxes(r["answer"], jitter(cells, rng)) for r in records}
    if name in ANSWERS:
        return {r["id"]: ANSWERS[name](r) for r in records}
    raise KeyError(f"unknown answer set {name!r}; known: {', '.join(METHODS)}")


def write_answer_set(bench: Path, name: str, target: Path, seed: int = 0) -> Path:
    records = [record for _, record in iter_records(bench / "data.jsonl")]
    answers = answer_set(records, name, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()),
                      encoding="utf-8")
    return target


def evaluate_answer_sets(bench: Path, tasks: list[str], work: Path, bootstrap: int = 1000,
                         methods: tuple[str, ...] = METHODS, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Results documents of the classical adapter and each answer set on ``tasks`` (which read ``bench``)."""
    return {name: evaluate_answers(None if name == "classical" else
                                   write_answer_set(bench, name, work / f"{name}.jsonl", seed), tasks, bootstrap)
            for name in methods}


BOX_METRICS = (("mIoU", "miou"), ("mIoU (penalized)", "miou_penalized"), ("Tag-Recall", "tag_recall"),
               ("Tag-P", "tag_precision"), ("Tag-F1", "tag_f1"))


def markdown_table(results: dict[str, dict[str, Any]], task: str) -> str:
    """One row per method: every box metric of ``task`` with its 95% interval, and the box counts
    (``(!)`` where the run is flagged)."""
    head = ["answers", *(title for title, _ in BOX_METRICS), "boxes/answer (pred / ref)"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---|" * (len(head) - 1)]
    for name, document in results.items():
        result = document["results"][task]
        cells = [name]
        for _, metric in BOX_METRICS:
            entry = result["metrics"].get(metric) or {}
            value, ci = entry.get("value"), entry.get("ci95")
            cell = "–" if value is None else f"{value:.3f}"
            cells.append(cell + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and value is not None else ""))
        counts = (result.get("box_checks") or {}).get("counts")
        cells.append("–" if not counts else f"{counts['predicted_per_answer']:.2f} / "
                     f"{counts['reference_per_answer']:.2f}" + (" (!)" if counts["flagged"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
