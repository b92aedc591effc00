"""GIQA tasks inside lmms-eval: the functions an exported task calls, and the exporter.

`export_lmms_tasks` writes a folder that ``lmms-eval --include_path DIR`` loads: one YAML per task, the
task's docs as JSONL, and a two-line ``giqa_utils.py`` that points lmms-eval at the functions below.
Those functions never import lmms-eval, and all scoring goes through giqa-harness's own
`score_samples`: ``process_results`` only records the answer (plus the box format the model speaks),
and each metric's aggregation scores the whole task at once, exactly as ``giqa-harness`` does, so the
numbers are identical whichever harness ran the model (corpus BLEU and the N/A rules included).

The box format and frame are chosen per lmms-eval model name through ``lmms_eval_specific_kwargs`` in
the task YAML (see `MODEL_FORMATS`), never guessed from the numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

# lmms-eval model name -> (box format, frame, emits boxes). Frames follow what each lmms-eval model
# class feeds its model: llava_hf keeps the llava-hf processors' centre crop; the original `llava`
# code pads to a mean-colour square; any-resolution models see the whole image.
MODEL_FORMATS: dict[str, tuple[str, str, bool]] = {
    "default": ("giqa_grid", "original", True),
    "llava": ("llava15", "pad_square:mean", True),
    "llava_hf": ("llava15", "center_crop", True),
    "llava_onevision": ("llava16", "original", True),
    "qwen_vl": ("qwen_vl", "original", True),
    "qwen2_vl": ("qwen2_vl", "original", True),
    "qwen2_5_vl": ("qwen25_vl", "original", True),
    "internvl2": ("internvl", "original", True),
    "internvl3": ("internvl", "original", True),
}

_SPOKEN_FORMAT: dict[str, dict[str, Any]] = {}  # giqa task -> format spec seen by doc_to_text


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    from PIL import Image

    with Image.open(doc["image"]) as im:
        return [im.convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question with its boxes re-rendered in the model's own syntax and frame."""
    from ..boxes.formats import CANONICAL_FORMAT, get_format, rerender

    spec = _format_spec(lmms_eval_specific_kwargs)
    _SPOKEN_FORMAT[doc["giqa_task"]] = spec
    size = tuple(doc["image_size"])
    question = f"{doc.get('prompt_prefix', '')}{doc['question']}{doc.get('prompt_suffix', '')}"
    text, _ = rerender(question, get_format(CANONICAL_FORMAT), get_format(spec["box_format"], spec["frame"]), size)
    return text


def doc_to_target(doc: dict[str, Any]) -> str:
    return doc["answer"]


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    """Record the answer for every metric of the task; scoring happens in the aggregation."""
    spec = _SPOKEN_FORMAT.get(doc["giqa_task"])
    if spec is None:  # doc_to_text always runs first in the same process
        spec = _format_spec(None)
    payload = {"doc_id": doc["doc_id"], "giqa_task": doc["giqa_task"], "answer": results[0] if results else "", **spec}
    return {name: payload for name in doc["metrics"]}


def _format_spec(kwargs: dict[str, Any] | None) -> dict[str, Any]:
    kwargs = kwargs or {}
    fmt, frame, emits = MODEL_FORMATS["default"]
    return {"box_format": kwargs.get("box_format", fmt), "frame": kwargs.get("frame", frame),
            "emits_boxes": bool(kwargs.get("emits_boxes", emits))}


_SCORED: dict[str, dict[str, Any]] = {}


def score_payloads(payloads: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Score one task's recorded answers with giqa-harness (memoized: every metric aggregates the same
    list of payloads, so the task is scored once)."""
    from ..boxes.formats import get_format
    from ..datasets import load_docs
    from ..evaluator import Prepared
    from ..sample_scoring import score_samples
    from ..task import task_index

    key = json.dumps([[p["doc_id"], p["answer"], p["box_format"], p["frame"]] for p in payloads], sort_keys=True)
    if key in _SCORED:
        return _SCORED[key]
    first = payloads[0]
    task = task_index().resolve([first["giqa_task"]])[0]
    by_id = {d.doc_id: d for d in load_docs(task)}
    items = []
    for p in payloads:
        doc = by_id[p["doc_id"]]
        items.append(Prepared(doc=doc, answer=p["answer"], image_size=doc.image_size or _size(doc.image)))
    fmt = get_format(first["box_format"], first["frame"])
    judge = _judge_from_environment()
    result, _ = score_samples(task, items, fmt, first["emits_boxes"], judge, bootstrap=0)
    _SCORED[key] = result
    return result


def _size(path: str) -> tuple[int, int]:
    from ..evaluator import read_image_size

    return read_image_size(path)


def _judge_from_environment() -> Any:
    """A judge for LLM-scored metrics from GIQA_HARNESS_JUDGE (same spec as --judge), if set."""
    import os

    spec = os.environ.get("GIQA_HARNESS_JUDGE")
    if not spec:
        return None
    from ..llm import build_backend

    return build_backend(spec)


def aggregate(metric: str, payloads: Sequence[dict[str, Any]]) -> float:
    """The task-level value giqa-harness computes for ``metric`` (NaN where it reports none)."""
    entry = score_payloads(payloads)["metrics"].get(metric, {})
    value = entry.get("value")
    return float(value) if value is not None else math.nan


# One aggregation function per metric, because lmms-eval's YAML names a function, not a call.
def aggregate_miou(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("miou", payloads)


def aggregate_tag_recall(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("tag_recall", payloads)


def aggregate_bleu4(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("bleu4", payloads)


def aggregate_llm_score(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("llm_score", payloads)


def aggregate_acc_y(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("acc_y", payloads)


def aggregate_acc_w(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("acc_w", payloads)


def aggregate_acc_total(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("acc_total", payloads)


def aggregate_miou_penalized(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("miou_penalized", payloads)


def aggregate_tag_precision(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("tag_precision", payloads)


def aggregate_tag_f1(payloads: Sequence[dict[str, Any]]) -> float:
    return aggregate("tag_f1", payloads)


class _Function(str):
    """A value written as lmms-eval's ``!function module.attr`` tag."""


def _yaml_dump(config: dict[str, Any]) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Function, lambda dumper, value: dumper.represent_scalar("!function", str(value)))
    return yaml.dump(config, Dumper=Dumper, sort_keys=False)


UTILS_SOURCE = (
    '"""Written by `giqa-harness export-lmms-tasks`: lmms-eval calls giqa-harness\'s own functions."""\n'
    "from giqa_harness.interop.lmms_tasks import *  # noqa: F401,F403\n"
)


def export_lmms_tasks(folder: Path, task_names: Sequence[str], limit: int | None = None,
                      model_formats: dict[str, tuple[str, str, bool]] | None = None) -> list[Path]:
    """Write the lmms-eval task folder; returns the YAML files written."""
    from ..datasets import load_docs
    from ..errors import ConfigError
    from ..evaluator import read_image_size
    from ..task import task_index

    formats = {**MODEL_FORMATS, **(model_formats or {})}
    specific = {name: {"box_format": f, "frame": fr, "emits_boxes": e} for name, (f, fr, e) in formats.items()}
    tasks = task_index().resolve(list(task_names))
    scored = [t.name for t in tasks if t.scoring]
    if scored:  # their records are not grounding docs: exported as such they would be the wrong questions
        raise ConfigError(f"{', '.join(scored)}: score and multiple-choice tasks (docs/score.md) cannot be exported; "
                          "export-lmms-tasks writes grounding tasks (DES/VQA) only")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "giqa_utils.py").write_text(UTILS_SOURCE, encoding="utf-8")
    written = []
    for task in tasks:
        lmms_name = task.name if task.name.startswith("giqa_") else f"giqa_{task.name}"
        metrics = [m.name for m in task.metrics]
        rows = []
        for doc in load_docs(task, limit):
            rows.append({
                "doc_id": doc.doc_id, "giqa_task": task.name, "image": doc.image, "question": doc.question,
                "answer": doc.answer, "kind": doc.kind, "qtype": doc.qtype, "mode": doc.mode,
                "image_size": list(doc.image_size or read_image_size(doc.image)), "metrics": metrics,
                "prompt_prefix": task.prompt.get("prefix", ""), "prompt_suffix": task.prompt.get("suffix", ""),
            })
        data_file = (folder / "data" / f"{lmms_name}.jsonl").resolve()
        data_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        config = {
            "task": lmms_name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data_file)}},
            "test_split": "test",
            "output_type": "generate_until",
            "doc_to_visual": _Function("giqa_utils.doc_to_visual"),
            "doc_to_text": _Function("giqa_utils.doc_to_text"),
            "doc_to_target": _Function("giqa_utils.doc_to_target"),
            "process_results": _Function("giqa_utils.process_results"),
            "generation_kwargs": dict(task.generation_kwargs),
            "lmms_eval_specific_kwargs": specific,
            "metric_list": [{"metric": m, "aggregation": _Function(f"giqa_utils.aggregate_{m}"),
                             "higher_is_better": True} for m in metrics],
            "metadata": {"version": task.version, "giqa_task": task.name},
        }
        path = folder / f"{lmms_name}.yaml"
        path.write_text(_yaml_dump(config), encoding="utf-8")
        written.append(path)
    return written
