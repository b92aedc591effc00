"""Re-scoring logged samples without running any model.

A run logged with ``--log_samples`` holds, per doc, the doc fields, the prompt, the raw answer and the
reference. `rescore_run` parses the answers again with the run's declared box format and frame and
recomputes every metric of the (current) task definitions, e.g. after adding ``--judge``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .boxes.formats import format_from_description
from .cache import CachedLLM, ResponseCache
from .docs import Doc
from .errors import ConfigError, DatasetError, UnknownNameError
from .evaluator import Prepared, build_judge, environment_versions
from .sample_scoring import score_samples
from .leaderboard import load_results
from .output import REDACTED, atomic_write_json, atomic_write_jsonl, read_jsonl, redact
from .run_status import run_problems
from .task import TaskConfig
from .task_selection import resolve_tasks, with_generation


def doc_from_row(row: dict[str, Any]) -> Doc:
    return Doc(
        doc_id=str(row["doc_id"]), image=row["image"], question=row["question"], answer=row["reference"],
        kind=row["kind"], qtype=row.get("qtype"), mode=row.get("mode"),
        image_size=tuple(row["image_size"]) if row.get("image_size") else None,  # type: ignore[arg-type]
    )


def run_task(name: str, results: dict[str, Any]) -> TaskConfig:
    """The task config a run used: registered, on its --include_path, or (when neither finds it any
    more) the task file results.json recorded; with its --gen_kwargs, which are part of what was asked."""
    config = results.get("config", {})
    path = ((results.get("tasks_config") or {}).get(name) or {}).get("path")
    try:
        task = resolve_tasks([name], config.get("include_path") or [])[0]
    except (UnknownNameError, ConfigError):
        if not path or not Path(path).is_file():
            raise
        task = next(t for t in resolve_tasks([path]) if t.name == name)
    return with_generation([task], config.get("gen_kwargs") or {})[0]


def rescore_run(run_dir: Path, output: Path | None = None, judge: str | None = None,
                judge_args: dict[str, Any] | None = None, seed: int | None = None,
                bootstrap: int | None = None) -> dict[str, Any]:
    """Recompute the metrics of a logged run; writes results.json (and samples) under ``output``."""
    results = load_results(run_dir)
    config = results.get("config", {})
    seed = config.get("seed", 0) if seed is None else seed
    bootstrap = config.get("bootstrap", 1000) if bootstrap is None else bootstrap
    box_format = format_from_description(results["model"]["box_format"])
    emits_boxes = bool(results["model"].get("emits_boxes", True))
    output = output or run_dir
    if judge is None:  # the run's own judge, or judged metrics would silently turn "not computed"
        judge = config.get("judge")
        judge_args = judge_args or {k: v for k, v in (config.get("judge_args") or {}).items() if v != REDACTED}
    judge_args = judge_args or {}
    # The run's cache holds the judge replies it already paid for: reuse them (identical scores, no calls).
    run_cache = run_dir / "cache.sqlite"
    cache = ResponseCache(run_cache if run_cache.is_file() else output / "cache.sqlite")
    judge_backend: CachedLLM | Any = build_judge(judge, judge_args, cache) if judge else None
    new_results: dict[str, Any] = {}
    logged: dict[str, list[dict[str, Any]]] = {}
    for task_name, old_result in results.get("results", {}).items():
        log = run_dir / f"samples_{task_name}.jsonl"
        if old_result.get("error") and not log.is_file():  # the task failed in the run: it stays failed
            new_results[task_name] = old_result
            continue
        if not log.is_file():
            raise DatasetError(f"{log} not found: rescoring needs a run made with --log_samples")
        task = run_task(task_name, results)
        if task.scoring:  # score and multiple-choice tasks read their own rows (giqa_harness/score/)
            from .score.runner import rescore_rows

            result, rows = rescore_rows(task, list(read_jsonl(log)), bootstrap, seed)
            new_results[task_name] = {**result, "rescored_from": str(log)}
            logged[task_name] = rows
            continue
        items = []
        for row in read_jsonl(log):
            doc = doc_from_row(row)
            items.append(Prepared(doc=doc, question=row.get("prompt", ""), answer=row.get("answer"),
                                  failure=row.get("failed"), image_size=doc.image_size,
                                  full_prompt=row.get("full_prompt")))
        result, rows = score_samples(task, items, box_format, emits_boxes, judge_backend, seed=seed, bootstrap=bootstrap)
        result["rescored_from"] = str(log)
        new_results[task_name] = result
        logged[task_name] = rows
    doc = dict(results)
    doc["results"] = new_results
    doc["problems"] = run_problems(doc)
    doc["judge"] = redact(judge_backend.identity()) if judge_backend is not None else results.get("judge")
    doc["config"] = {**config, "judge": judge, "judge_args": redact(judge_args), "seed": seed, "bootstrap": bootstrap}
    doc["environment"] = environment_versions()
    output.mkdir(parents=True, exist_ok=True)
    for name, rows in logged.items():
        atomic_write_jsonl(output / f"samples_{name}.jsonl", rows)
    atomic_write_json(output / "results.json", doc)
    if judge_backend is not None:
        judge_backend.close()
    cache.close()
    return doc


def log_to_replay(run_dir: Path, target: Path) -> tuple[int, int]:
    """Turn a run's sample logs into a replay file of ``{task, doc_id, answer}``; returns (answers written,
    likelihood rows left out). A row answered by choice likelihood has no generated answer, only a readable
    summary of its log-probabilities, which a replay would read back as a different answer."""
    logs = sorted(Path(run_dir).glob("samples_*.jsonl"))
    if not logs:  # an empty replay file would only fail later, far from the cause
        raise DatasetError(f"{run_dir} has no samples_<task>.jsonl: --to_replay needs a run made with --log_samples")
    rows = []
    left_out = 0
    for log in logs:
        for row in read_jsonl(log):
            if row.get("method") == "likelihood":
                left_out += 1
            elif row.get("answer") is not None:
                rows.append({"task": row["task"], "doc_id": row["doc_id"], "answer": row["answer"]})
    atomic_write_jsonl(target, rows)
    return len(rows), left_out
