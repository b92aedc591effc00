"""What an annotation run writes: the samples (JSONL), the conversation JSON LLaVA-style training reads,
the failures, the per-record log, and the statistics (with the box-area histogram of the paper's Fig. 6).

Samples follow the benchmark record schema (docs/data.md), so the output folder also loads as a task:
``{"id", "image", "question", "answer", "kind", "qtype", "mode", "groundings"}`` with ``image``
relative to the images folder and boxes in the ``[phrase](<a, b>)`` grid syntax inside the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from giqa_harness.boxes.geometry import Box
from giqa_harness.output import atomic_write_json, atomic_write_jsonl

from .stages import RecordState, state_to_json
from .vqa import balance

HISTOGRAM_BINS = 20  # equal-width bins of normalized box area over [0, 1]


def des_sample(state: RecordState, keep_ungrounded: bool = False) -> dict[str, Any] | None:
    fused = state.outputs["fuse"]
    if not fused["groundings"] and not keep_ungrounded:
        return None
    return {"id": f"{state.source.record_id}_des", "image": state.source.image, "question": fused["question"],
            "answer": fused["answer"], "kind": "des", "groundings": fused["groundings"]}


def vqa_samples(state: RecordState) -> list[dict[str, Any]]:
    rows = []
    for i, pair in enumerate(state.outputs.get("vqa", {}).get("pairs", [])):
        rows.append({"id": f"{state.source.record_id}_vqa{i}", "image": state.source.image,
                     "question": pair["question"], "answer": pair["answer"], "kind": pair["kind"],
                     "qtype": pair["qtype"], "mode": pair["mode"], "groundings": pair["groundings"]})
    return rows


def build_samples(states: Sequence[RecordState], seed: int = 0, balanced: bool = True,
                  keep_ungrounded: bool = False) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """DES and VQA samples of the records that finished every stage (VQA balanced when asked), and the
    VQA counts per question type before balancing."""
    des: list[dict[str, Any]] = []
    vqa: list[dict[str, Any]] = []
    for state in states:
        if state.failure is not None:
            continue
        sample = des_sample(state, keep_ungrounded)
        if sample is not None:
            des.append(sample)
        vqa += vqa_samples(state)
    before = _count(v["qtype"] for v in vqa)
    return des + (balance(vqa, seed) if balanced else vqa), before


def conversation(sample: dict[str, Any]) -> dict[str, Any]:
    """One sample as LLaVA's training code reads it (the image token opens the human turn); ``kind`` lets
    training/ keep DES or VQA only."""
    return {"id": sample["id"], "image": sample["image"], "kind": sample["kind"], "conversations": [
        {"from": "human", "value": f"<image>\n{sample['question']}"},
        {"from": "gpt", "value": sample["answer"]},
    ]}


def failure_rows(states: Sequence[RecordState]) -> list[dict[str, Any]]:
    return [{"id": s.source.record_id, "image": s.source.image, "stage": s.failure[0], "reason": s.failure[1]}
            for s in states if s.failure is not None]


def box_areas(samples: Sequence[dict[str, Any]]) -> list[float]:
    """Normalized areas of the boxes of the DES samples (each record's boxes once; VQA repeats them)."""
    return [Box(*b).area for s in samples if s["kind"] == "des" for g in s["groundings"] for b in g["boxes"]]


def histogram(values: Sequence[float], bins: int = HISTOGRAM_BINS) -> dict[str, list[float] | list[int]]:
    """Counts over ``bins`` equal-width bins of [0, 1]; the last bin includes 1.0."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    return {"edges": [i / bins for i in range(bins + 1)], "counts": counts}


def compute_stats(states: Sequence[RecordState], samples: Sequence[dict[str, Any]], vqa_before: dict[str, int],
                  stage_counts: dict[str, dict[str, int]], config: dict[str, Any]) -> dict[str, Any]:
    failed = [s for s in states if s.failure is not None]
    finished = [s for s in states if s.failure is None]
    qtypes = _count(s["qtype"] for s in samples if s["kind"] != "des")
    yes, no = qtypes.get("yes", 0), qtypes.get("no", 0)
    n_yn = sum(1 for s in samples if s["kind"] == "vqa_yn")
    n_w = sum(1 for s in samples if s["kind"] == "vqa_w")
    areas = box_areas(samples)
    des = [s for s in samples if s["kind"] == "des"]
    return {
        "records": {
            "total": len(states), "finished": len(finished), "failed": len(failed),
            "failed_by_stage": _count(s.failure[0] for s in failed if s.failure),
            "ungrounded": sum(1 for s in finished if not s.outputs["fuse"]["groundings"]),
        },
        "samples": {"total": len(samples), **{k: sum(1 for s in samples if s["kind"] == k)
                                              for k in ("des", "vqa_yn", "vqa_w")}},
        "images": len({s["image"] for s in samples}),
        "qtypes": qtypes,
        "modes": _count(s["mode"] for s in samples if s["kind"] != "des"),
        "yes_no_balance": {"yes": yes, "no": no, "yes_fraction": yes / (yes + no) if yes + no else None},
        "yn_w_balance": {"vqa_yn": n_yn, "vqa_w": n_w, "yn_fraction": n_yn / (n_yn + n_w) if n_yn + n_w else None},
        "vqa_before_balancing": vqa_before,
        "boxes": {"count": len(areas), "per_des_sample": len(areas) / len(des) if des else None},
        "box_area_histogram": {**histogram(areas), "of": "normalized areas of the DES samples' boxes"},
        "stages": stage_counts,
        "config": config,
    }


def write_outputs(out: Path, states: Sequence[RecordState], samples: Sequence[dict[str, Any]],
                  stats: dict[str, Any]) -> dict[str, Path]:
    """Write every output file under ``out``; returns their paths by role."""
    paths = {"samples": out / "annotations.jsonl", "conversations": out / "conversations.json",
             "failures": out / "failures.jsonl", "records": out / "records.jsonl", "stats": out / "stats.json"}
    atomic_write_jsonl(paths["samples"], samples)
    atomic_write_json(paths["conversations"], [conversation(s) for s in samples])
    atomic_write_jsonl(paths["failures"], failure_rows(states))
    atomic_write_jsonl(paths["records"], [state_to_json(s) for s in states])
    atomic_write_json(paths["stats"], stats)
    figure = plot_box_areas(stats["box_area_histogram"], out / "box_area_hist.png")
    if figure is not None:
        paths["histogram"] = figure
    return paths


def plot_box_areas(hist: dict[str, Any], path: Path) -> Path | None:
    """The box-area histogram as a PNG; None when matplotlib is not installed (the JSON has the numbers)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    edges, counts = hist["edges"], hist["counts"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(edges[:-1], counts, width=edges[1] - edges[0], align="edge", edgecolor="black", linewidth=0.5)
    ax.set_xlabel("box area (fraction of the image)")
    ax.set_ylabel("boxes")
    ax.set_xlim(0, 1)
    ax.set_title("Box-area distribution of the DES annotations")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return dict(sorted(out.items()))
