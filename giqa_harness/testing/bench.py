"""A tiny on-disk benchmark in the GIQA-Bench record schema, for tests and examples."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from ..hookspecs import hookimpl


def write_image(path: Path, size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (120, 160, 200)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def default_records() -> list[dict[str, Any]]:
    """Six samples covering every kind: DES, Yes/No referring, What grounding..."""
    return [
        {"id": "d1", "image": "images/a.png", "kind": "des",
         "question": "Describe and evaluate the quality of the image.",
         "answer": "The [sky](<0, 59>) is over-exposed while the [dog](<250, 293>) is sharp. Overall quality is fair."},
        {"id": "d2", "image": "images/b.png", "kind": "des",
         "question": "Describe and evaluate the quality of the image.",
         "answer": "The image is blurry overall, especially the [car](<120, 186>)."},
        {"id": "y1", "image": "images/a.png", "kind": "vqa_yn", "qtype": "yes",
         "question": "Is the [sky](<0, 59>) over-exposed?", "answer": "Yes."},
        {"id": "y2", "image": "images/b.png", "kind": "vqa_yn", "qtype": "no",
         "question": "Is the [car](<120, 186>) sharp?", "answer": "No."},
        {"id": "w1", "image": "images/a.png", "kind": "vqa_w", "qtype": "what",
         "question": "What distortion affects the sky?", "answer": "Over-exposure on the [sky](<0, 59>)."},
        {"id": "w2", "image": "images/b.png", "kind": "vqa_w", "qtype": "how",
         "question": "How is the clarity of the [car](<120, 186>)?", "answer": "Low."},
    ]


def write_bench(root: Path, records: Sequence[dict[str, Any]] | None = None, file: str = "data.jsonl") -> Path:
    """Write records and solid-colour images under ``root``; returns ``root``."""
    records = list(default_records() if records is None else records)
    root.mkdir(parents=True, exist_ok=True)
    for rec in records:
        image = root / rec["image"]
        if not image.exists() and ".." not in rec["image"]:
            write_image(image, size=(64, 48) if "a." in rec["image"] else (40, 60))
    (root / file).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return root


def task_plugin(task_dir: Path) -> SimpleNamespace:
    """A plugin object that registers ``task_dir`` as a task folder (use with `register_plugin`)."""

    @hookimpl
    def register_tasks(register):
        register(task_dir)

    return SimpleNamespace(register_tasks=register_tasks)


def write_task(task_dir: Path, name: str, data_root: Path, metrics: Sequence[str] = (), extra: str = "") -> Path:
    """A task YAML reading ``data_root``; returns the YAML path."""
    task_dir.mkdir(parents=True, exist_ok=True)
    path = task_dir / f"{name}.yaml"
    metric_list = "[" + ", ".join(metrics) + "]"
    path.write_text(
        f"task: {name}\nversion: 1\ndataset:\n  path: {data_root}\n  file: data.jsonl\nmetrics: {metric_list}\n{extra}",
        encoding="utf-8",
    )
    return path
