"""Running one score or multiple-choice task inside an `Evaluator` (its adapter, cache, batch size).

Generation goes through the evaluator's own cached, batched path. Choice scoring mirrors it: keys
derived from the answer keys, one cache entry per request (a JSON list of log-probabilities), batches
of ``--batch_size``, and a failing batch retried one request at a time so that one bad input loses
nothing else. A method the adapter cannot serve is an error before anything runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

from ..cache import cache_key
from ..docs import Doc
from ..errors import ConfigError, EndpointUnreachableError, GiqaError
from ..metrics.base import MetricResult, bootstrap_ci
from ..metrics.coverage import Coverage, coverage_notes
from ..models import ChoiceRequest, ChoiceScoringUnsupported
from .answers import LETTERS, expected_level, options_text, read_level, read_option
from .correlation import LABELS, correlations
from .loaders import McqDoc, ScoreDoc
from .spec import ScoringSpec, read_spec

if TYPE_CHECKING:
    from ..evaluator import Evaluator, Prepared
    from ..task import TaskConfig

LIKELIHOOD, GENERATED = "likelihood", "generated"


def resolve_method(spec: ScoringSpec, adapter: Any, task: str) -> str:
    """``likelihood`` or ``generated`` for this adapter; asking for likelihood it lacks is an error."""
    supported = adapter.supports_choice_scoring()
    if spec.method == "generate" or (spec.method == "auto" and not supported):
        return GENERATED
    if not supported:
        raise ConfigError(f"task {task!r} asks for method: likelihood, but model {adapter.name!r} does not score "
                          "choices; use method: auto (falls back to generation) or generate")
    return LIKELIHOOD


def check_method(task: "TaskConfig", adapter: Any) -> str:
    """`resolve_method` for a task; the evaluator calls it once the model is built."""
    return resolve_method(read_spec(task.scoring, str(task.path)), adapter, task.name)


def as_doc(item: ScoreDoc | McqDoc, spec: ScoringSpec) -> Doc:
    """The evaluator's view of one record: the question the model is asked."""
    if isinstance(item, McqDoc):
        return Doc(item.doc_id, item.image, options_text(item.question, item.candidates, spec.instruction), "",
                   "mcq", qtype=item.qtype)  # type: ignore[arg-type]
    return Doc(item.doc_id, item.image, spec.question, "", "level")  # type: ignore[arg-type]


def choice_inputs(item: ScoreDoc | McqDoc, spec: ScoringSpec) -> tuple[str, tuple[str, ...]]:
    """(prefix, candidates) of one record, spaces written in as they follow the prompt."""
    if isinstance(item, McqDoc):
        if spec.choice_candidates == "letters":
            return "", tuple(f" {LETTERS[i]}" for i in range(len(item.candidates)))
        return "", tuple(f" {c}" for c in item.candidates)
    prefix = f" {spec.answer_prefix}" if spec.answer_prefix else ""
    return prefix, tuple(f" {word}" for word, _ in spec.levels)


def _checked(adapter: Any, choices: Sequence[ChoiceRequest]) -> list[list[float]]:
    scores = adapter.score_choices(list(choices))
    if not isinstance(scores, list) or len(scores) != len(choices) or any(
            not isinstance(s, list) or len(s) != len(c.candidates) for s, c in zip(scores, choices)):
        raise GiqaError(f"adapter {adapter.name!r} returned choice scores that do not match the requests")
    return [[float(v) for v in s] for s in scores]


def score_choices(ev: "Evaluator", task: "TaskConfig", items: list["Prepared"],
                  inputs: list[tuple[str, tuple[str, ...]]]) -> tuple[dict[int, list[float]], int]:
    """Log-probabilities by item index (failures recorded on the items), and how many came from the cache."""
    from ..evaluator import build_request
    from ..prefetch import load_image

    keys = {i: cache_key(choice=list(inputs[i]), answer=it.key) for i, it in enumerate(items) if it.failure is None}
    found = ev.cache.get_many(list(keys.values())) if ev.cache is not None and keys else {}
    out = {i: json.loads(found[k]) for i, k in keys.items() if k in found}
    reused = len(out)
    pending = [i for i in keys if i not in out]
    size = ev.config.batch_size
    for start in range(0, len(pending), size):
        batch, requests = [], []
        for i in pending[start:start + size]:
            try:
                request = build_request(task, items[i], load_image(items[i].doc.image))
            except Exception as exc:
                items[i].failure = f"image {items[i].doc.image}: {type(exc).__name__}: {exc}"
                continue
            batch.append(i)
            requests.append(ChoiceRequest(request, *inputs[i]))
        if not requests:
            continue
        try:
            scores = dict(zip(batch, _checked(ev.adapter, requests)))
        except (ChoiceScoringUnsupported, EndpointUnreachableError):
            raise  # as for generation: a dead endpoint fails the task, asking request by request would not help
        except Exception:
            scores = {}
            for i, request in zip(batch, requests):
                try:
                    scores[i] = _checked(ev.adapter, [request])[0]
                except (ChoiceScoringUnsupported, EndpointUnreachableError):
                    raise
                except Exception as exc:
                    items[i].failure = f"model error: {type(exc).__name__}: {exc}"
        out.update(scores)
        if ev.cache is not None:
            ev.cache.put_many({keys[i]: json.dumps(v) for i, v in scores.items()})
    return out, reused


def run_score_task(ev: "Evaluator", task: "TaskConfig", records: Sequence[ScoreDoc | McqDoc]
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The task's result (as results.json holds it) and its sample rows, for records loaded beforehand."""
    started = time.perf_counter()
    spec = read_spec(task.scoring, str(task.path))
    method = resolve_method(spec, ev.adapter, task.name)
    items = ev.prepare(task, [as_doc(r, spec) for r in records])
    prepared = time.perf_counter()
    log_probs: dict[int, list[float]] = {}
    if method == LIKELIHOOD:
        log_probs, reused = score_choices(ev, task, items, [choice_inputs(r, spec) for r in records])
        fresh = len(log_probs) - reused
    else:
        ev.generate(task, items)
        reused = sum(it.cached for it in items)
        fresh = sum(1 for it in items if it.answer is not None and not it.cached)
    answered = time.perf_counter()
    rows = []
    for i, (record, it) in enumerate(zip(records, items)):
        row: dict[str, Any] = {"doc_id": record.doc_id, "task": task.name, "kind": it.doc.kind, "image": record.image,
                               "prompt": it.question, "method": method, "failed": it.failure}
        if it.failure is None and method == GENERATED:
            row["answer"] = it.answer
        if it.failure is None and method == LIKELIHOOD:
            row["log_probs"] = log_probs[i]
        rows.append(row)
    result = score_rows(task, spec, records, rows, method, ev.config.bootstrap, ev.config.seed)
    result["cache"] = {"reused": reused, "generated": fresh}
    # the same phases as a grounding task's timings (answering by likelihood counts as generation)
    result["timings"] = {"prepare_s": prepared - started, "generate_s": answered - prepared,
                         "score_s": time.perf_counter() - answered}
    return result, rows


def score_rows(task: "TaskConfig", spec: ScoringSpec, records: Sequence[ScoreDoc | McqDoc], rows: list[dict[str, Any]],
               method: str, bootstrap: int, seed: int) -> dict[str, Any]:
    """The task result from the sample rows (answers or log-probabilities), which it completes: shared by
    a live run and by `rescore_rows`, so both give identical numbers for identical outputs."""
    if spec.kind == "level":
        metrics, extra = _level_metrics(spec, records, rows, method, bootstrap, seed)  # type: ignore[arg-type]
    else:
        metrics, extra = _mcq_metrics(records, rows, method, bootstrap, seed)  # type: ignore[arg-type]
    failures = [{"doc_id": r["doc_id"], "reason": r["failed"]} for r in rows if r["failed"]]
    return {
        "version": task.version, "scoring": {**spec.to_json(), "method_used": method}, "metrics": metrics, **extra,
        "n_samples": len(rows), "n_scored": len(rows) - len(failures), "n_failed": len(failures), "failures": failures,
        "kinds": {spec.kind: len(rows)},
    }


def rescore_rows(task: "TaskConfig", logged: list[dict[str, Any]], bootstrap: int, seed: int
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`score_rows` again from a samples log: the records come back from the rows themselves."""
    spec = read_spec(task.scoring, str(task.path))
    records: list[ScoreDoc | McqDoc] = []
    rows = []
    methods = {r.get("method") for r in logged}
    if len(methods) > 1:
        raise GiqaError(f"task {task.name!r}: the log mixes methods {sorted(map(str, methods))}")
    method = methods.pop() if methods else GENERATED
    for r in logged:
        if spec.kind == "level":
            records.append(ScoreDoc(r["doc_id"], r["image"], float(r["mos"])))
        else:
            records.append(McqDoc(r["doc_id"], r["image"], r.get("question", ""), tuple(r["candidates"]),
                                  LETTERS.index(r["correct_option"]), r.get("qtype", "?"), r.get("concern", "?")))
        failed = r.get("failed")
        row = {k: r.get(k) for k in ("doc_id", "task", "kind", "image", "prompt", "method")}
        # Unreadable answers are read again (the reading rules may have changed); model failures stay.
        row["failed"] = None if failed and str(failed).startswith("unreadable") else failed
        if row["failed"] is None and method == GENERATED:
            row["answer"] = r.get("answer")
        if row["failed"] is None and method == LIKELIHOOD:
            row["log_probs"] = [float("-inf") if v is None else float(v) for v in r["log_probs"]]
        rows.append(row)
    return score_rows(task, spec, records, rows, method, bootstrap, seed), rows


def _finite_log_probs(rows: list[dict[str, Any]]) -> None:
    """A candidate an endpoint left out of its top log-probabilities (log 0) is logged as null: JSON has no
    infinity."""
    for row in rows:
        if "log_probs" in row:
            row["log_probs"] = [v if v != float("-inf") else None for v in row["log_probs"]]


UNREADABLE = "unreadable"


def _covered(result: MetricResult, failures: Sequence[str]) -> MetricResult:
    """``result`` with the coverage of its task: failures before an answer existed count at generation,
    unreadable answers (a level score nothing could be read from) in the metric."""
    coverage = Coverage.count(result.n + len(failures), result.n,
                              [f for f in failures if not f.startswith(UNREADABLE)],
                              [f for f in failures if f.startswith(UNREADABLE)])
    return replace(result, failed=coverage.failed, coverage=coverage, notes=tuple(coverage_notes(coverage)))


def _metric_json(result: MetricResult, label: str, method: str) -> dict[str, Any]:
    return {**result.to_json(), "label": f"{label} ({method})", "method": method}


def _level_metrics(spec: ScoringSpec, records: Sequence[ScoreDoc], rows: list[dict[str, Any]], method: str,
                   bootstrap: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    weights = [w for _, w in spec.levels]
    pairs = []
    unreadable = 0
    for record, row in zip(records, rows):
        row.update(mos=record.mos, question=spec.question, reference=f"MOS {record.mos:g}")
        if row["failed"]:
            continue
        if method == LIKELIHOOD:
            score, probs = expected_level(row["log_probs"], weights)
            row["probabilities"] = dict(zip((w for w, _ in spec.levels), probs))
            row["answer"] = f"expected level {score:.3f} (" + ", ".join(
                f"{word} {p:.2f}" for word, p in row["probabilities"].items()) + ")"  # for the report
        else:
            read = read_level(row["answer"], spec.levels)
            if read is None:  # counted as a failure of this sample, never given a made-up score
                row["failed"] = f"{UNREADABLE}: no level word or in-range number in the answer"
                unreadable += 1
                continue
            score, row["read"] = read
        row["score"] = score
        row["scores"] = {"score": score}
        pairs.append((score, record.mos))
    _finite_log_probs(rows)
    results = correlations(pairs, spec.metrics, spec.plcc_logistic, bootstrap, seed)
    failures = [r["failed"] for r in rows if r["failed"]]
    metrics = {name: _metric_json(_covered(r, failures), LABELS[name], method) for name, r in results.items()}
    return metrics, {"unreadable": unreadable}


def _accuracy(values: list[float], failures: Sequence[str], bootstrap: int, seed: int) -> MetricResult:
    def mean(v: Sequence[float]) -> float | None:
        return sum(v) / len(v) if v else None

    value = mean(values)
    low, high = bootstrap_ci(values, mean, n_resamples=bootstrap, seed=seed)
    reason = None if value is not None else "no answered questions"
    return _covered(MetricResult("accuracy", value, low, high, n=len(values), reason=reason), failures)


def _mcq_metrics(records: Sequence[McqDoc], rows: list[dict[str, Any]], method: str, bootstrap: int, seed: int
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    unreadable = 0
    by: dict[str, dict[str, list[float]]] = {"type": {}, "concern": {}}
    failed_by: dict[str, dict[str, list[str]]] = {"type": {}, "concern": {}}
    values = []
    for record, row in zip(records, rows):
        row.update(question=record.question, candidates=list(record.candidates), correct_option=LETTERS[record.correct],
                   reference=f"{LETTERS[record.correct]}. {record.candidates[record.correct]}", qtype=record.qtype,
                   concern=record.concern)
        if row["failed"]:
            failed_by["type"].setdefault(record.qtype, []).append(row["failed"])
            failed_by["concern"].setdefault(record.concern, []).append(row["failed"])
            continue
        if method == LIKELIHOOD:
            scores = row["log_probs"]
            chosen: int | None = max(range(len(scores)), key=lambda k: scores[k])
            row["answer"] = f"{LETTERS[chosen]} (" + ", ".join(
                f"{LETTERS[k]} {v:.2f}" for k, v in enumerate(scores)) + ")"  # for the report
        else:
            chosen = read_option(row["answer"], record.candidates)
        if chosen is None:
            unreadable += 1  # wrong, and counted apart: never a random pick
        row["chosen"] = LETTERS[chosen] if chosen is not None else None
        row["correct"] = chosen == record.correct
        values.append(1.0 if row["correct"] else 0.0)
        row["scores"] = {"correct": values[-1]}
        by["type"].setdefault(record.qtype, []).append(values[-1])
        by["concern"].setdefault(record.concern, []).append(values[-1])
    _finite_log_probs(rows)
    failures = [r["failed"] for r in rows if r["failed"]]
    metrics = {"accuracy": _metric_json(_accuracy(values, failures, bootstrap, seed), "Accuracy", method)}
    breakdown = {axis: {name: _accuracy(groups.get(name, []), failed_by[axis].get(name, []), bootstrap, seed).to_json()
                        for name in sorted(set(groups) | set(failed_by[axis]))}
                 for axis, groups in by.items()}
    return metrics, {"breakdown": breakdown, "unreadable": unreadable}
