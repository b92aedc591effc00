"""Reading a task's samples from a local folder (JSON/JSONL + images) or a Hugging Face dataset.

Record schema (one JSON object per sample; see docs/data.md)::

    {"id": "0001_des", "image": "images/0001.png",
     "question": "Describe and evaluate the quality of the image.",
     "answer": "The [sky](<0, 59>) is over-exposed ...",
     "kind": "des" | "vqa_yn" | "vqa_w",
     "qtype": "yes" | "no" | "what" | "why" | "how",     # optional
     "mode": "referring" | "grounding"}                   # optional, derived from the markup if absent

Image paths are relative to the dataset folder and may not escape it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from .docs import KINDS, MODES, QUESTION_TYPES, Doc
from .errors import DatasetError
from .output import atomic_write_bytes
from .record_boxes import box_problems
from .task import FunctionRef, TaskConfig, expand_env
from .task_selection import doc_count

BENCH_HINT = (
    "The official GIQA-Bench is not published yet. Put its records (giqa_bench.jsonl) and images in that "
    "folder, or point GIQA_BENCH_DIR at them (schema: docs/data.md). Tasks that run without it: "
    "giqa_synth, giqa_synth_des, giqa_synth_vqa (the embedded synthetic bench)."
)


def dataset_folder(task: TaskConfig) -> Path:
    """The folder a task reads: built by its ``builder`` function, or its ``path``."""
    spec = task.dataset
    builder = spec.get("builder")
    if isinstance(builder, FunctionRef):
        folder = Path(builder.resolve()(**(spec.get("builder_args") or {})))
    elif builder is not None:
        raise DatasetError(f"{task.path}: dataset.builder must be written as !function module.attr")
    elif "path" in spec:
        folder = Path(expand_env(str(spec["path"])))
        if not folder.is_absolute():
            folder = (task.folder / folder).resolve()
    else:
        raise DatasetError(f"{task.path}: dataset needs 'path', 'builder' or 'hf_id'")
    if not folder.is_dir():
        raise DatasetError(f"task {task.name!r}: dataset folder {folder} does not exist. {BENCH_HINT}")
    return folder


def iter_records(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) from a JSONL file or a JSON list; errors name the file and line."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read {file}: {exc}") from None
    if file.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{file}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        if isinstance(data, dict) and isinstance(data.get("samples"), list):
            data = data["samples"]
        if not isinstance(data, list):
            raise DatasetError(f"{file}: expected a JSON list of records (or {{'samples': [...]}})")
        for i, record in enumerate(data):
            yield i + 1, record
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{file}:{lineno}: invalid JSON: {exc.msg}") from None


def safe_join(root: Path, relative: str, where: str) -> Path:
    """``root / relative`` that may not escape ``root`` (no ``..``, no absolute paths, no links out)."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise DatasetError(f"{where}: path {relative!r} escapes the dataset folder {root}")
    return candidate


def record_to_doc(record: Any, root: Path, where: str) -> Doc:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a record must be a JSON object")
    for key in ("id", "image", "question", "answer", "kind"):
        if key not in record:
            raise DatasetError(f"{where}: missing field {key!r}")
    for key in ("question", "answer", "image"):
        if not isinstance(record[key], str):
            raise DatasetError(f"{where}: field {key!r} must be a string")
    kind = record["kind"]
    if kind not in KINDS:
        raise DatasetError(f"{where}: field 'kind' is {kind!r}; expected one of {list(KINDS)}")
    qtype = record.get("qtype")
    if qtype is not None and qtype not in QUESTION_TYPES:
        raise DatasetError(f"{where}: field 'qtype' is {qtype!r}; expected one of {list(QUESTION_TYPES)}")
    mode = record.get("mode")
    if mode is not None and mode not in MODES:
        raise DatasetError(f"{where}: field 'mode' is {mode!r}; expected one of {list(MODES)}")
    if mode is None and kind != "des":
        mode = "referring" if "](<" in record["question"] else "grounding" if "](<" in record["answer"] else None
    size = record.get("image_size")
    if size is not None and not (isinstance(size, list) and len(size) == 2
                                 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        # boxes are scaled by it before the image is opened: a bad one would stop the whole run later
        raise DatasetError(f"{where}: field 'image_size' must be [width, height] in pixels, got {size!r}")
    problems = box_problems(record["question"], "question") + box_problems(record["answer"], "answer")
    if problems:
        raise DatasetError("\n".join(f"{where}: {problem}" for problem in problems))
    known = {"id", "image", "question", "answer", "kind", "qtype", "mode", "image_size"}
    return Doc(
        doc_id=str(record["id"]),
        image=str(safe_join(root, record["image"], where)),
        question=record["question"],
        answer=record["answer"],
        kind=kind,
        qtype=qtype,
        mode=mode,
        image_size=tuple(size) if size is not None else None,  # type: ignore[arg-type]
        extra={k: v for k, v in record.items() if k not in known},
    )


def _matches(doc: Doc, filt: dict[str, list[str]]) -> bool:
    return all(getattr(doc, key) in allowed for key, allowed in filt.items())


MAX_LISTED_ERRORS = 20  # a broken file is reported in one go, but not line by line to the end


def load_docs(task: TaskConfig, limit: int | float | None = None) -> list[Doc]:
    """The task's docs in file order, filtered, first ``limit`` of them. Every record is checked
    (fields, boxes, duplicate ids) before any is returned: one `DatasetError` lists what is wrong."""
    if "hf_id" in task.dataset:
        located = _load_hf(task)
    else:
        root = dataset_folder(task)
        file = root / str(task.dataset.get("file", "data.jsonl"))
        if not file.is_file():
            raise DatasetError(f"task {task.name!r}: records file {file} not found. {BENCH_HINT}")
        image_root = safe_join(root, str(task.dataset.get("image_root", ".")), str(task.path))
        located = _checked_records(((f"{file}:{line}", rec) for line, rec in iter_records(file)), image_root)
    first_seen: dict[str, str] = {}
    errors = []
    for where, doc in located:
        if doc.doc_id in first_seen:
            errors.append(f"{where}: duplicate id {doc.doc_id!r}, first used at {first_seen[doc.doc_id]}")
        else:
            first_seen[doc.doc_id] = where
    _raise_if_any(task, errors)
    docs = [d for _, d in located if _matches(d, task.filter)]
    return docs[: doc_count(limit, len(docs))]


def _checked_records(records: Iterable[tuple[str, Any]], root: Path) -> list[tuple[str, Doc]]:
    """(where, doc) for every record; the problems of all records are raised together."""
    out: list[tuple[str, Doc]] = []
    errors: list[str] = []
    for where, record in records:
        try:
            out.append((where, record_to_doc(record, root, where)))
        except DatasetError as exc:
            errors.append(str(exc))
    _raise_if_any(None, errors)
    return out


def _raise_if_any(task: TaskConfig | None, errors: list[str]) -> None:
    if not errors:
        return
    listed = "\n".join(errors[:MAX_LISTED_ERRORS])
    more = f"\n... and {len(errors) - MAX_LISTED_ERRORS} more" if len(errors) > MAX_LISTED_ERRORS else ""
    prefix = f"task {task.name!r}: " if task is not None else ""
    raise DatasetError(f"{prefix}{listed}{more}")


def _load_hf(task: TaskConfig) -> list[tuple[str, Doc]]:
    """A Hugging Face dataset with the same fields; PIL images are written once to a local cache."""
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise DatasetError(
            f"task {task.name!r} reads the Hugging Face dataset {task.dataset['hf_id']!r}, which needs "
            "'pip install datasets'"
        ) from None
    from .paths import cache_root

    hf_id = str(task.dataset["hf_id"])
    split = str(task.dataset.get("split", "test"))
    try:
        ds = datasets.load_dataset(hf_id, split=split)
    except Exception as exc:
        raise DatasetError(f"task {task.name!r}: cannot load {hf_id!r} split {split!r}: {exc}. {BENCH_HINT}") from None
    # One folder per (dataset, split): images are named by row id, and ids often restart in each split.
    folder = f"{hf_id.replace('/', '__')}/{split.replace('/', '__')}"
    root = safe_join(cache_root() / "hf_images", folder, f"{task.path}: dataset.hf_id/split")
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, row in enumerate(ds):
        row = dict(row)
        image = row.get("image")
        if not isinstance(image, str):
            name = f"{row.get('id', i)}.png"
            target = safe_join(root, name, f"{hf_id}[{i}]")
            if not target.exists():  # written atomically: a killed run leaves no truncated image to reuse
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, format="PNG")
                atomic_write_bytes(target, buffer.getvalue())  # creates the folder (ids may hold a slash)
            row["image"] = name
        rows.append((f"{hf_id}[{i}]", row))
    return _checked_records(rows, root)
