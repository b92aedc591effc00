"""Running the stages over every record: cached per record, resumable, isolated failures, sharded.

- Cache: each stage's output for a record is stored in ``OUT/cache.sqlite`` (the harness's
  `ResponseCache`) under ``cache_key(stage, config, record id, key_input)``, committed batch by batch.
  A killed run started again with the same arguments recomputes nothing it finished. Failures are not
  cached: the next run tries those records again.
- Failures: a record that fails a stage (invalid LLM JSON after the retries, an unreadable image, a
  model error) is logged with the stage and reason and leaves the pipeline; the others go on. A batch
  that raises is retried record by record, so one bad record costs no other. An LLM endpoint that
  cannot be reached (`EndpointUnreachableError`) is not asked record by record: the remaining records
  fail with that reason, the outputs are written, and the error is raised (a non-zero exit).
- Sharding: under ``accelerate launch`` (or torchrun) each rank annotates ``records[rank::world]``
  into the shared cache and writes ``OUT/shards/part-RANK.jsonl``; after a barrier rank 0 merges the
  parts, balances the VQA set and writes the outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from giqa_harness.cache import ResponseCache, cache_key
from giqa_harness.distributed import Shard, current_shard
from giqa_harness.errors import ConfigError, EndpointUnreachableError
from giqa_harness.output import atomic_write_jsonl, read_jsonl, redact

from .outputs import build_samples, compute_stats, write_outputs
from .overlap import run_overlapped
from .records import read_descriptions
from .refine import T_AREA, T_COVER
from .stages import (
    DetectStage, Failed, FuseStage, Lazy, RecordState, RefineStage, Stage, TagStage, VQAStage, state_from_json,
    state_to_json,
)


@dataclass
class AnnotateConfig:
    """Everything that defines an annotation run (recorded, secrets redacted, in stats.json)."""

    images_dir: Path
    descriptions: Path
    output: Path
    llm: str | None = None
    llm_args: dict[str, Any] = field(default_factory=dict)
    detector: str = "grounding_dino"
    detector_args: dict[str, Any] = field(default_factory=dict)
    iqa_model: str | None = None
    iqa_model_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 8
    tag_attempts: int = 3
    vqa: bool = True
    vqa_pairs: int = 4
    vqa_attempts: int = 2
    max_tokens: int = 512
    t_area: float = T_AREA
    t_cover: float = T_COVER
    balance: bool = True
    keep_ungrounded: bool = False
    limit: int | None = None
    progress: bool = True
    use_cache: bool = True

    def to_json(self) -> dict[str, Any]:
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self).items()}
        return redact(data)


def build_stages(config: AnnotateConfig, llm: Any = None, detector: Any = None, iqa: Any = None) -> list[Stage]:
    """The stages of a run; ``llm``/``detector``/``iqa`` given as objects replace the named ones."""
    llm_lazy = Lazy.of(llm) if llm is not None else _named_llm(config)
    detector_lazy = Lazy.of(detector) if detector is not None else _named_detector(config)
    iqa_lazy = Lazy.of(iqa) if iqa is not None else _named_iqa(config)
    generation = {"max_tokens": config.max_tokens, "temperature": 0}
    stages: list[Stage] = [
        TagStage(llm_lazy, config.tag_attempts, generation),
        DetectStage(detector_lazy),
        RefineStage(iqa_lazy, config.t_area, config.t_cover, config.batch_size),
        FuseStage(config.seed),
    ]
    if config.vqa:
        stages.append(VQAStage(llm_lazy, config.vqa_pairs, config.vqa_attempts, config.seed, generation))
    return stages


def _named_llm(config: AnnotateConfig) -> Lazy[Any]:
    if not config.llm:
        raise ConfigError("annotate needs --llm SPEC (hf:PATH, openai:MODEL@URL or vllm:PATH)")
    from giqa_harness.llm import build_backend

    return Lazy(lambda: build_backend(config.llm, **config.llm_args),  # type: ignore[arg-type]
                {"llm": config.llm, "llm_args": redact(config.llm_args)})


def _named_detector(config: AnnotateConfig) -> Lazy[Any]:
    from giqa_harness.plugins import registry

    from .detect import build_detector

    registry().detectors.get(config.detector)  # an unknown name fails now, not after the LLM stage
    return Lazy(lambda: build_detector(config.detector, config.detector_args),
                {"detector": config.detector, "detector_args": config.detector_args})


def _named_iqa(config: AnnotateConfig) -> Lazy[Any] | None:
    if not config.iqa_model:
        return None
    from giqa_harness.evaluator import build_adapter
    from giqa_harness.plugins import registry

    registry().models.get(config.iqa_model)
    return Lazy(lambda: build_adapter(config.iqa_model, config.iqa_model_args),  # type: ignore[arg-type]
                {"model": config.iqa_model, "model_args": redact(config.iqa_model_args)})


class Pipeline:
    """Runs stages over record states with the per-record cache."""

    def __init__(self, stages: Sequence[Stage], cache: ResponseCache | None, batch_size: int = 8,
                 progress: bool = True) -> None:
        self.stages, self.cache, self.batch_size, self.progress = list(stages), cache, max(1, batch_size), progress
        self.counts: dict[str, dict[str, int]] = {}
        self.stopped: EndpointUnreachableError | None = None  # why the remaining records were not run

    def run(self, states: Sequence[RecordState]) -> None:
        if len(self.stages) < 2 or len(states) <= self.batch_size:
            for stage in self.stages:
                self.run_stage(stage, [s for s in states if s.failure is None])
            return
        # Stages overlap over chunks of one batch (annotate/overlap.py): the same results, and the
        # detector works while the LLM endpoint answers. One progress bar per stage.
        for stage in self.stages:
            self._counts(stage)  # in stage order, whichever thread finishes first
        bars = [_progress(len(states), f"annotate {stage.name}", self.progress) for stage in self.stages]
        try:
            run_overlapped(self.stages, states, self.batch_size,
                           lambda stage, chunk, index: self.run_stage(stage, chunk, bars[index]))
        finally:
            for bar in bars:
                bar.close()

    def _counts(self, stage: Stage) -> dict[str, int]:
        return self.counts.setdefault(stage.name, {"reused": 0, "computed": 0, "failed": 0})

    def run_stage(self, stage: Stage, states: list[RecordState], shared_bar: Any = None) -> None:
        counts = self._counts(stage)
        keys: dict[str, str] = {}
        todo = states
        if stage.cacheable and self.cache is not None:
            config = stage.config()
            for s in states:
                keys[s.source.record_id] = cache_key(stage=stage.name, config=config, record=s.source.record_id,
                                                     input=stage.key_input(s))
            found = self.cache.get_many(list(keys.values()))
            todo = []
            for s in states:
                value = found.get(keys[s.source.record_id])
                if value is None:
                    todo.append(s)
                else:
                    s.outputs[stage.name] = json.loads(value)
                    counts["reused"] += 1
        if shared_bar is not None:
            bar = shared_bar
            bar.update(len(states) - len(todo))
        else:
            bar = _progress(len(states), f"annotate {stage.name}", self.progress, initial=len(states) - len(todo))
        try:
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                try:
                    results = _isolated(stage, batch)
                except EndpointUnreachableError as exc:
                    self.stopped = exc
                    for s in todo[start:]:
                        s.failure = (stage.name, str(exc))
                    counts["failed"] += len(todo) - start
                    break
                new: dict[str, str] = {}
                for s, result in zip(batch, results):
                    if isinstance(result, Failed):
                        s.failure = (stage.name, result.reason)
                        counts["failed"] += 1
                    else:
                        s.outputs[stage.name] = result
                        counts["computed"] += 1
                        if s.source.record_id in keys:
                            new[keys[s.source.record_id]] = json.dumps(result, ensure_ascii=False)
                if self.cache is not None and new:
                    self.cache.put_many(new)
                bar.update(len(batch))
        finally:
            if shared_bar is None:
                bar.close()

    def close(self) -> None:
        for stage in self.stages:
            stage.close()


def _isolated(stage: Stage, batch: list[RecordState]) -> list[Any]:
    """The stage's results for a batch; when the batch raises, record by record, so that an exception
    fails only the record that caused it."""
    try:
        results = stage.process(batch)
        if len(results) != len(batch):
            raise RuntimeError(f"stage {stage.name} returned {len(results)} results for {len(batch)} records")
        return results
    except EndpointUnreachableError:
        raise
    except Exception as exc:
        if len(batch) == 1:
            return [Failed(f"{type(exc).__name__}: {exc}")]
        return [_failure(stage, s) for s in batch]


def _failure(stage: Stage, state: RecordState) -> Any:
    try:
        return stage.process([state])[0]
    except EndpointUnreachableError:
        raise
    except Exception as exc:
        return Failed(f"{type(exc).__name__}: {exc}")


def _progress(total: int, desc: str, enabled: bool, initial: int = 0) -> Any:
    from giqa_harness.progress import progress

    return progress(total, desc, enabled, initial=initial, unit="record")  # plain lines when not a terminal


def annotate_records(
    config: AnnotateConfig, llm: Any = None, detector: Any = None, iqa: Any = None, shard: Shard | None = None
) -> tuple[list[RecordState], dict[str, dict[str, int]], EndpointUnreachableError | None] | None:
    """Every record's final state, the counts, and the error that stopped this rank (rank 0), after this
    rank annotated its shard; None on other ranks (which raise that error themselves)."""
    records = read_descriptions(config.images_dir, config.descriptions)
    if config.limit is not None:
        records = records[: config.limit]
    shard = shard or current_shard()
    config.output.mkdir(parents=True, exist_ok=True)
    cache = ResponseCache(config.output / "cache.sqlite") if config.use_cache else None
    if shard.world_size > 1 and cache is None:
        raise ConfigError("sharded annotation needs the cache (ranks share it); drop --no_cache")
    stages = build_stages(config, llm, detector, iqa)
    pipeline = Pipeline(stages, cache, config.batch_size, config.progress)
    states = [RecordState(r) for r in shard.select(records)]
    try:
        pipeline.run(states)
    finally:
        pipeline.close()
        if cache is not None:
            cache.close()
    if shard.world_size == 1:
        return states, pipeline.counts, pipeline.stopped
    parts = config.output / "shards"
    atomic_write_jsonl(parts / f"part-{shard.rank}.jsonl", [state_to_json(s) for s in states])
    (parts / f"counts-{shard.rank}.json").write_text(json.dumps(pipeline.counts), encoding="utf-8")
    shard.barrier()
    if not shard.is_main:
        if pipeline.stopped is not None:
            raise pipeline.stopped
        return None
    merged: dict[str, RecordState] = {}
    counts: dict[str, dict[str, int]] = {}
    for rank in range(shard.world_size):
        for row in read_jsonl(parts / f"part-{rank}.jsonl"):
            merged[row["id"]] = state_from_json(row, config.images_dir)
        for stage, numbers in json.loads((parts / f"counts-{rank}.json").read_text(encoding="utf-8")).items():
            for name, value in numbers.items():
                counts.setdefault(stage, {}).setdefault(name, 0)
                counts[stage][name] += value
    return [merged[r.record_id] for r in records], counts, pipeline.stopped


def annotate(
    config: AnnotateConfig, llm: Any = None, detector: Any = None, iqa: Any = None, shard: Shard | None = None
) -> dict[str, Any] | None:
    """Annotate, then (on rank 0) write the outputs; returns the statistics (None on other ranks)."""
    done = annotate_records(config, llm, detector, iqa, shard)
    if done is None:
        return None
    states, counts, stopped = done
    samples, before = build_samples(states, config.seed, config.balance, config.keep_ungrounded)
    stats = compute_stats(states, samples, before, counts, config.to_json())
    stats["files"] = {role: str(path) for role, path in write_outputs(config.output, states, samples, stats).items()}
    if stopped is not None:
        failed = sum(1 for s in states if s.failure is not None)
        raise EndpointUnreachableError(f"{stopped}; {failed} of {len(states)} records failed, the outputs so far "
                                       f"are in {config.output} and a rerun resumes from its cache")
    return stats
