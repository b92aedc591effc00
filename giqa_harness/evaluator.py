"""The evaluator: the one place that orchestrates a run, caches and writes files.

docs -> requests (questions re-rendered in the model's box syntax) -> cached, batched
``adapter.generate`` -> answers parsed in the model's format -> metrics -> results.json and samples.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .boxes.formats import CANONICAL_FORMAT, get_format, rerender
from .boxes.grounded import GroundedText
from .arguments import check_arguments, describe_accepted
from .cache import CachedLLM, ResponseCache, cache_key
from .datasets import load_docs
from .distributed import Shard, current_shard
from .docs import Doc
from .errors import ConfigError, EndpointUnreachableError, GiqaError, TaskError, UnknownNameError
from .models import ModelAdapter, Request
from .output import atomic_write_json, atomic_write_jsonl, redact
from .plugins import registry
from .prefetch import DEFAULT_DEPTH, LoadedImage, image_loader, prefetched_batches, request_window
from .progress import generation_status, progress, status
from .run_status import run_problems, task_error
from .sample_scoring import score_samples
from .task import TaskConfig
from .task_selection import check_limit, resolve_tasks, with_generation

RESULTS_SCHEMA_VERSION = 1
_log = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """Everything that defines a run; recorded (secrets redacted) in results.json."""

    model: str
    tasks: list[str]
    model_args: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 1
    limit: int | float | None = None  # below 1: a fraction of each task's docs
    output_path: Path | None = None
    log_samples: bool = False
    judge: str | None = None
    judge_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    bootstrap: int = 1000
    cache_path: Path | None = None  # default: <output_path>/cache.sqlite
    use_cache: bool = True
    progress: bool = True
    include_path: list[Path] = field(default_factory=list)  # extra task folders (--include_path)
    gen_kwargs: dict[str, Any] = field(default_factory=dict)  # over every task's generation_kwargs
    prefetch: int = DEFAULT_DEPTH  # batches of images prepared ahead of generation (0: none); see prefetch.py

    def to_json(self) -> dict[str, Any]:
        return redact(
            {
                "model": self.model,
                "model_args": self.model_args,
                "tasks": self.tasks,
                "batch_size": self.batch_size,
                "prefetch": self.prefetch,
                "limit": self.limit,
                "include_path": [str(p) for p in self.include_path],
                "gen_kwargs": self.gen_kwargs,
                "judge": self.judge,
                "judge_args": self.judge_args,
                "seed": self.seed,
                "bootstrap": self.bootstrap,
            }
        )


@dataclass
class Prepared:
    """A doc ready to generate, or the reason it cannot be."""

    doc: Doc
    key: str = ""
    question: str = ""
    image_size: tuple[int, int] | None = None
    referring: GroundedText | None = None
    answer: str | None = None
    failure: str | None = None
    cached: bool = False
    full_prompt: str | None = None  # the whole text the model was given (`ModelAdapter.full_prompts`)


def read_image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def _image_path(item: Prepared) -> str:
    return item.doc.image


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def build_request(task: TaskConfig, item: Prepared, image: Any, prepared_image: Any = None) -> Request:
    """The adapter's request for a prepared doc whose image is loaded (``prepared_image``: what the
    adapter's own `prepare_image` made of it ahead of time, if anything)."""
    assert item.image_size is not None and item.referring is not None
    return Request(
        doc_id=item.doc.doc_id, task=task.name, question=item.question, image=image,
        image_size=item.image_size, referring=item.referring.groundings, raw_question=item.doc.question,
        kind=item.doc.kind, generation_kwargs=dict(task.generation_kwargs), prepared_image=prepared_image,
    )


def full_prompt_key(answer_key: str) -> str:
    """Where the response cache keeps the full prompt beside an answer (shown again when it is reused)."""
    return f"full_prompt:{answer_key}"


class Evaluator:
    def __init__(self, config: RunConfig, adapter: ModelAdapter | None = None, shard: Shard | None = None) -> None:
        if config.batch_size < 1:
            raise ConfigError(f"--batch_size must be at least 1, got {config.batch_size}")
        check_limit(config.limit)  # a negative slice would silently drop the last docs
        self.config = config
        self.registry = registry()
        self.tasks = with_generation(resolve_tasks(config.tasks, config.include_path), config.gen_kwargs)
        for task in self.tasks:  # a typo in a metric name fails now, not after hours of generation
            for spec in task.metrics:
                if spec.name not in self.registry.metrics:
                    unknown = UnknownNameError("metric", spec.name, self.registry.metrics.names())
                    raise TaskError(f"{task.path}: {unknown}")
                try:  # and so does a misspelt option
                    self.registry.metrics.get(spec.name).read_options(spec.options)
                except TaskError as exc:
                    raise TaskError(f"{task.path}: {exc}") from None
        if adapter is None:  # an unknown model name is the cheapest mistake to report: first
            self.registry.models.get(config.model)
        # Every task's data is read and checked before the model is built: bad or missing data fails in
        # seconds, not after minutes of loading a 7B model.
        loading = time.perf_counter()
        self.docs = {task.name: load_score_records(task, config.limit) if task.scoring  # giqa_harness/score/
                     else load_docs(task, config.limit) for task in self.tasks}
        self.load_data_s = time.perf_counter() - loading
        self.adapter = adapter if adapter is not None else build_adapter(config.model, config.model_args)
        for task in self.tasks:  # a score task asking for choice likelihoods the model lacks: now, not later
            if task.scoring:
                from .score.runner import check_method

                check_method(task, self.adapter)
        self.shard = shard or current_shard()
        if self.shard.world_size > 1 and not (config.use_cache and (config.cache_path or config.output_path)):
            raise ConfigError("data-parallel evaluation needs --output_path (ranks share its response cache)")
        self.canonical = get_format(CANONICAL_FORMAT)
        cache_path = config.cache_path or (config.output_path / "cache.sqlite" if config.output_path else None)
        self.cache = ResponseCache(cache_path) if (config.use_cache and cache_path) else None
        self._stored: set[str] = set()  # answer keys already written by `_call` as each answer came
        # Only rank 0 scores: other ranks of a data-parallel run never load a judge.
        self.judge = (build_judge(config.judge, config.judge_args, self.cache)
                      if config.judge and self.shard.is_main else None)

    # -- generation ---------------------------------------------------------------------------

    def prepare(self, task: TaskConfig, docs: Sequence[Doc]) -> list[Prepared]:
        fmt = self.adapter.box_format
        identity = self.adapter.identity()
        out = []
        for doc in docs:
            item = Prepared(doc)
            try:
                item.image_size = doc.image_size or read_image_size(doc.image)
            except Exception as exc:  # missing or unreadable image: recorded, the run goes on
                item.failure = f"image {doc.image}: {_describe_error(exc)}"
                out.append(item)
                continue
            question = task.format_question(doc.question)
            item.question, item.referring = rerender(question, self.canonical, fmt, item.image_size)
            # The image path stands for the data: the same ids under another folder (another bench
            # directory, another synth seed) are other images and must not reuse these answers.
            item.key = cache_key(
                model=identity, task=task.name, version=task.version, doc=doc.doc_id, image=doc.image,
                question=item.question, generation=task.generation_kwargs,
            )
            out.append(item)
        return out

    def generate(self, task: TaskConfig, items: list[Prepared]) -> None:
        """Fill ``answer`` (or ``failure``) for every item; cached answers are reused, new ones stored
        as the adapter reports each (`ModelAdapter.generate_each`) and again, with full prompts, as
        each batch finishes."""
        todo = [it for it in items if it.failure is None]
        if self.cache is not None and todo:
            found = self.cache.get_many([it.key for it in todo])
            for it in todo:
                if it.key in found:
                    it.answer, it.cached = found[it.key], True
            prompts = self.cache.get_many([full_prompt_key(it.key) for it in todo if it.cached])
            for it in todo:
                it.full_prompt = prompts.get(full_prompt_key(it.key)) if it.cached else None
        pending = [it for it in todo if it.answer is None]
        if self.config.progress:
            status(generation_status(task.name, len(todo) - len(pending), len(pending), self.cache is not None))
        bar = progress(len(pending), task.name, self.config.progress)
        # Images of the next batches are decoded and framed in worker threads while this one generates.
        window = request_window(self.adapter, self.config.batch_size)
        loader = image_loader(self.adapter.prepare_image)
        try:
            for batch, loaded in prefetched_batches(pending, window, _image_path, loader, self.config.prefetch):
                self._generate_batch(task, batch, loaded)
                if self.cache is not None:  # answers the adapter reported as they came are stored already
                    self.cache.put_many({it.key: it.answer for it in batch
                                         if it.answer is not None and it.key not in self._stored})
                    self.cache.put_many({full_prompt_key(it.key): it.full_prompt for it in batch
                                         if it.answer is not None and it.full_prompt is not None})
                bar.update(len(batch))
        finally:
            bar.close()

    def _generate_batch(self, task: TaskConfig, batch: list[Prepared], loaded: list[LoadedImage]) -> None:
        requests: list[Request] = []
        ready: list[Prepared] = []
        for it, got in zip(batch, loaded):
            if got.error is not None:
                it.failure = f"image {it.doc.image}: {_describe_error(got.error)}"
                continue
            requests.append(build_request(task, it, got.image, got.prepared))
            ready.append(it)
        if not requests:
            return
        try:
            answers = self._call(requests, ready)
        except EndpointUnreachableError:
            raise  # the model's endpoint is down: asking sample by sample would only fail each
        except Exception:
            # Isolate the failing sample(s): answer one by one, so one bad input loses nothing else.
            for it, req in zip(ready, requests):
                try:
                    it.answer = self._call([req], [it])[0]
                except EndpointUnreachableError:
                    raise
                except Exception as exc:
                    it.failure = f"model error: {_describe_error(exc)}"
            self._attach_full_prompts(ready, requests)
            return
        for it, answer in zip(ready, answers):
            it.answer = answer
        self._attach_full_prompts(ready, requests)

    def _attach_full_prompts(self, items: list[Prepared], requests: list[Request]) -> None:
        """Each item's full prompt, as the adapter says it sent it (None from adapters that cannot say).
        A prompt that cannot be rendered costs the sample nothing: the reason stands in its place."""
        try:
            prompts = self.adapter.full_prompts(requests)
        except Exception as exc:
            prompts = [f"(full prompt unavailable: {_describe_error(exc)})"] * len(requests)
        for it, prompt in zip(items, prompts):
            it.full_prompt = prompt

    def _call(self, requests: list[Request], items: list[Prepared]) -> list[str]:
        def store(index: int, answer: str) -> None:  # cached at once: a killed run keeps this answer
            if self.cache is not None and isinstance(answer, str) and 0 <= index < len(items):
                self.cache.put_many({items[index].key: answer})
                self._stored.add(items[index].key)

        answers = self.adapter.generate_each(requests, store)
        if not isinstance(answers, list) or len(answers) != len(requests):
            raise GiqaError(
                f"adapter {self.adapter.name!r} returned {len(answers) if isinstance(answers, list) else type(answers).__name__}"
                f" answers for {len(requests)} requests"
            )
        missing = [req.doc_id for req, a in zip(requests, answers) if a is None]
        if missing:  # a failed request, not the answer "None": fail it (uncached, so a rerun asks again)
            raise GiqaError(f"adapter {self.adapter.name!r} returned None for doc {missing[0]}")
        return [a if isinstance(a, str) else str(a) for a in answers]

    # -- scoring ------------------------------------------------------------------------------

    def score(self, task: TaskConfig, items: list[Prepared]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return score_samples(
            task, items, self.adapter.box_format, self.adapter.emits_boxes, self.judge,
            seed=self.config.seed, bootstrap=self.config.bootstrap,
        )

    def run_task(self, task: TaskConfig) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """Generate and score one task; None on a non-main rank of a data-parallel run."""
        t0 = time.perf_counter()
        if task.scoring:  # score-based IQA and multiple choice (giqa_harness/score/), on rank 0 only
            from .score.runner import run_score_task

            return run_score_task(self, task, self.docs[task.name]) if self.shard.is_main else None
        docs = self.docs[task.name]
        items = self.prepare(task, self.shard.select(docs))
        t1 = time.perf_counter()
        self.generate(task, items)
        t2 = time.perf_counter()
        if self.shard.world_size > 1:
            # Every rank answered its shard into the shared cache; rank 0 reads them all back.
            self.shard.barrier()
            if not self.shard.is_main:
                return None
            items = self.prepare(task, docs)
            self.generate(task, items)
        result, samples = self.score(task, items)
        t3 = time.perf_counter()
        result["timings"] = {"prepare_s": t1 - t0, "generate_s": t2 - t1, "score_s": t3 - t2}
        result["cache"] = {"reused": sum(it.cached for it in items), "generated": sum(
            1 for it in items if it.answer is not None and not it.cached)}
        return result, samples

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        task_results: dict[str, Any] = {}
        logged: dict[str, list[dict[str, Any]]] = {}
        try:
            for task in self.tasks:
                try:
                    done = self.run_task(task)
                except Exception as exc:  # recorded; the finished tasks are still written
                    if not isinstance(exc, GiqaError):  # a bug, not a user error: keep its traceback
                        _log.error("task %s failed", task.name, exc_info=True)
                    task_results[task.name] = failed_task(task, len(self.docs[task.name]), exc)
                    if self.shard.world_size > 1:  # the other ranks cannot be told to skip it
                        break
                    continue
                if done is not None:
                    task_results[task.name], logged[task.name] = done
        finally:
            self.adapter.close()
        if not self.shard.is_main:
            return {}
        results = self.results_document(task_results, time.perf_counter() - started)
        if self.config.output_path is not None:
            self.write(results, logged)
        if self.judge is not None:
            self.judge.close()
        return results

    def results_document(self, task_results: dict[str, Any], wall: float) -> dict[str, Any]:
        return {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "giqa_harness_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": self.config.to_json(),
            "model": {
                **redact(self.adapter.identity()),
                "box_format": self.adapter.box_format.describe(),
                "emits_boxes": self.adapter.emits_boxes,
            },
            "judge": redact(self.judge.identity()) if self.judge is not None else None,
            "tasks_config": {t.name: t.to_json() for t in self.tasks},
            "results": task_results,
            "problems": run_problems({"results": task_results}),
            "environment": environment_versions(),
            "timings": {"total_s": wall, "load_data_s": self.load_data_s},
        }

    def write(self, results: dict[str, Any], logged: dict[str, list[dict[str, Any]]]) -> None:
        out = self.config.output_path
        assert out is not None
        if self.config.log_samples:
            for name, rows in logged.items():
                atomic_write_jsonl(out / f"samples_{name}.jsonl", rows)
        atomic_write_json(out / "results.json", results)


def failed_task(task: TaskConfig, n_docs: int, exc: BaseException) -> dict[str, Any]:
    """The results.json entry of a task that raised: no metrics, the error instead."""
    return {"version": task.version, "error": task_error(exc), "metrics": {}, "n_samples": n_docs,
            "n_scored": 0, "n_failed": 0, "failures": []}


def load_score_records(task: TaskConfig, limit: int | None) -> list[Any]:
    """A score or multiple-choice task's records (its ``scoring`` block checked first)."""
    from .score.loaders import load_items
    from .score.spec import read_spec

    spec = read_spec(task.scoring, str(task.path))
    return load_items(task, spec.loader, spec.loader_args, limit)


def build_adapter(name: str, model_args: dict[str, Any]) -> ModelAdapter:
    cls = registry().models.get(name)
    check_arguments(f"model {name!r}", cls.__init__, model_args)
    try:
        return cls(**model_args)
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: bad --model_args ({exc}); it accepts: {describe_accepted(cls.__init__)}") from None


def build_judge(spec: str, options: dict[str, Any], cache: ResponseCache | None) -> Any:
    from .llm import build_backend

    backend = build_backend(spec, **options)
    return CachedLLM(backend, cache) if cache is not None else backend


def environment_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("numpy", "pillow", "torch", "transformers", "pycocoevalcap", "vllm"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions


def evaluate(config: RunConfig, adapter: ModelAdapter | None = None) -> dict[str, Any]:
    """Run an evaluation and return the results document (also written under ``output_path``)."""
    return Evaluator(config, adapter=adapter).run()

