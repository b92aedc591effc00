"""The pipeline's stages: each reads earlier stages' outputs of a record and returns its own (JSON).

A stage declares what its output depends on — its ``config`` (models and options) and the record's
``key_input`` — which the pipeline hashes into the per-record cache key, so changing a prompt, a
threshold or an upstream result recomputes exactly what it affects. ``process`` handles a batch and
returns, per record, an output or a `Failed` with the reason; models load on first use only, so a
fully cached (resumed) stage never loads its model.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Generic, Sequence, TypeVar

from giqa_harness.boxes.geometry import Box
from giqa_harness.cache import cache_key
from giqa_harness.llm.base import LLMBackend
from giqa_harness.models import ModelAdapter

from .detect import Detector
from .fuse import insert_groundings, question_for, read_groundings
from .records import Detection, SourceRecord, Tag
from .refine import IQAQuery, ask_iqa, crop_box, keeps_box, merge_boxes
from .tags import PROMPTS as TAG_PROMPTS
from .tags import extract_tags, select_key_tags
from .vqa import PROMPTS as VQA_PROMPTS
from .vqa import KeyObject, VQAJob, generate_pairs

T = TypeVar("T")


@dataclass
class Failed:
    reason: str


@dataclass
class RecordState:
    """One record on its way through the stages."""

    source: SourceRecord
    outputs: dict[str, Any] = field(default_factory=dict)
    failure: tuple[str, str] | None = None  # (stage, reason)
    _digest: str | None = None

    @property
    def image_digest(self) -> str:
        """SHA-256 of the image file: what detection and refinement results depend on."""
        if self._digest is None:
            try:
                self._digest = hashlib.sha256(self.source.image_path.read_bytes()).hexdigest()
            except OSError as exc:
                self._digest = f"unreadable: {exc}"
        return self._digest

    def load_image(self) -> Any:
        from PIL import Image

        with Image.open(self.source.image_path) as im:
            return im.convert("RGB")


class Lazy(Generic[T]):
    """A model built on first use; ``identity`` (known before building) goes into cache keys."""

    def __init__(self, build: Callable[[], T], identity: dict[str, Any]) -> None:
        self._build, self.identity, self._value = build, identity, None

    @classmethod
    def of(cls, value: T) -> "Lazy[T]":
        """An already built model (tests, notebooks): its own ``identity()`` keys the cache."""
        lazy = cls(lambda: value, value.identity())  # type: ignore[attr-defined]
        lazy._value = value
        return lazy

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value

    def close(self) -> None:
        if self._value is not None:
            self._value.close()  # type: ignore[attr-defined]
            self._value = None


def prompt_digest(prompts: Sequence[str]) -> str:
    """Editing a prompt changes every cache key of its stage."""
    return cache_key(prompts=list(prompts))[:16]


class Stage(ABC):
    name: ClassVar[str]
    cacheable: ClassVar[bool] = True  # False for cheap pure stages (recomputing costs less than a lookup)

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Everything besides the record that determines this stage's output."""

    @abstractmethod
    def key_input(self, state: RecordState) -> Any:
        """The part of the record (and of earlier outputs) this stage's output depends on."""

    @abstractmethod
    def process(self, states: Sequence[RecordState]) -> list[Any]:
        """One JSON-serializable output or a `Failed` per record, same order."""

    def close(self) -> None:
        """Release models."""


def key_objects(state: RecordState) -> list[Tag]:
    return [Tag.from_json(t) for t in state.outputs["tags"]["key_objects"]]


class TagStage(Stage):
    name = "tags"

    def __init__(self, llm: Lazy[LLMBackend], max_attempts: int = 3, generation: dict[str, Any] | None = None,
                 drop_whole_image: bool = True) -> None:
        self.llm, self.max_attempts = llm, max_attempts
        self.generation = dict(generation or {})
        self.drop_whole_image = drop_whole_image

    def config(self) -> dict[str, Any]:
        return {"llm": self.llm.identity, "max_attempts": self.max_attempts, "generation": self.generation,
                "prompts": prompt_digest(TAG_PROMPTS), "drop_whole_image": self.drop_whole_image}

    def key_input(self, state: RecordState) -> Any:
        return state.source.description

    def process(self, states: Sequence[RecordState]) -> list[Any]:
        outcomes = extract_tags(self.llm.get(), [s.source.description for s in states], self.max_attempts,
                                **self.generation)
        results: list[Any] = []
        for state, outcome in zip(states, outcomes):
            if outcome.value is None:
                results.append(Failed(f"no valid tag JSON from the LLM ({outcome.failure()})"))
                continue
            kept, notes = select_key_tags(outcome.value, state.source.description, self.drop_whole_image)
            results.append({"tags": [t.to_json() for t in outcome.value],
                            "key_objects": [t.to_json() for t in kept], "notes": notes})
        return results

    def close(self) -> None:
        self.llm.close()


class DetectStage(Stage):
    name = "detect"

    def __init__(self, detector: Lazy[Detector]) -> None:
        self.detector = detector

    def config(self) -> dict[str, Any]:
        return {"detector": self.detector.identity}

    def key_input(self, state: RecordState) -> Any:
        return {"image": state.image_digest, "phrases": [t.phrase for t in key_objects(state)]}

    def process(self, states: Sequence[RecordState]) -> list[Any]:
        results: list[Any] = []
        for state in states:
            try:
                image = state.load_image()
            except Exception as exc:
                results.append(Failed(f"cannot read image {state.source.image_path}: {type(exc).__name__}: {exc}"))
                continue
            phrases = [t.phrase for t in key_objects(state)]
            found = self.detector.get().detect(image, phrases) if phrases else []
            results.append({"image_size": list(image.size),
                            "detections": [[d.to_json() for d in per_phrase] for per_phrase in found]})
        return results

    def close(self) -> None:
        self.detector.close()


class RefineStage(Stage):
    """IQA filter (when an IQA model is given) then box merge, per object."""

    name = "refine"

    def __init__(self, iqa: Lazy[ModelAdapter] | None, t_area: float, t_cover: float, batch_size: int = 8) -> None:
        self.iqa, self.t_area, self.t_cover, self.batch_size = iqa, t_area, t_cover, batch_size

    def config(self) -> dict[str, Any]:
        return {"iqa": self.iqa.identity if self.iqa else None, "t_area": self.t_area, "t_cover": self.t_cover}

    def key_input(self, state: RecordState) -> Any:
        return {"image": state.image_digest, "objects": state.outputs["tags"]["key_objects"],
                "detections": state.outputs["detect"]["detections"]}

    def process(self, states: Sequence[RecordState]) -> list[Any]:
        queries: list[IQAQuery] = []
        image_errors: dict[int, str] = {}
        for n, state in enumerate(states):
            groups = state.outputs["detect"]["detections"]
            if self.iqa is None or not any(len(g) > 1 for g in groups):
                continue
            try:
                image = state.load_image()
            except Exception as exc:
                image_errors[n] = f"cannot read image {state.source.image_path}: {exc}"
                continue
            for o, (tag, group) in enumerate(zip(key_objects(state), groups)):
                if len(group) > 1:
                    queries += [IQAQuery(f"{n}:{o}:{b}", crop_box(image, Detection.from_json(d).box), tag.quality)
                                for b, d in enumerate(group)]
        answers = ask_iqa(self.iqa.get(), queries, self.batch_size) if queries and self.iqa else {}
        return [Failed(image_errors[n]) if n in image_errors else self._refine(n, state, answers)
                for n, state in enumerate(states)]

    def _refine(self, n: int, state: RecordState, answers: dict[str, str | None]) -> Any:
        objects = []
        for o, (tag, group) in enumerate(zip(key_objects(state), state.outputs["detect"]["detections"])):
            boxes: list[Box] = []
            replies = []
            for b, raw in enumerate(group):
                key = f"{n}:{o}:{b}"
                if key in answers:
                    if answers[key] is None:
                        return Failed(f"the IQA model failed on box {b} of {tag.phrase!r}")
                    replies.append(answers[key])
                    if not keeps_box(answers[key]):  # type: ignore[arg-type]
                        continue
                boxes.append(Detection.from_json(raw).box)
            merged = merge_boxes(boxes, self.t_area, self.t_cover)
            objects.append({**tag.to_json(), "boxes": [list(b.as_tuple()) for b in merged], "detected": len(group),
                            "after_iqa": len(boxes), "iqa_answers": replies})
        return {"objects": objects}

    def close(self) -> None:
        if self.iqa is not None:
            self.iqa.close()


class FuseStage(Stage):
    """Writes the kept boxes into the description and draws the DES question (cheap and pure)."""

    name = "fuse"
    cacheable = False

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def key_input(self, state: RecordState) -> Any:
        return None

    def process(self, states: Sequence[RecordState]) -> list[Any]:
        results = []
        for state in states:
            size = tuple(state.outputs["detect"]["image_size"])
            objects = [(o["T_r"], [Box(*b) for b in o["boxes"]]) for o in state.outputs["refine"]["objects"]]
            text, unplaced = insert_groundings(state.source.description, objects, size)  # type: ignore[arg-type]
            parsed = read_groundings(text, size)  # type: ignore[arg-type]
            results.append({"question": question_for(state.source.record_id, self.seed), "answer": text,
                            "groundings": [g.to_json() for g in parsed.groundings], "unplaced": unplaced})
        return results


def grounded_objects(state: RecordState) -> list[KeyObject]:
    """The objects whose phrase was written into the description with boxes."""
    placed = {g["phrase"].lower() for g in state.outputs["fuse"]["groundings"]}
    return [KeyObject(o["T_r"], o["T_q"], tuple(Box(*b) for b in o["boxes"]))
            for o in state.outputs["refine"]["objects"] if o["boxes"] and o["T_r"].lower() in placed]


class VQAStage(Stage):
    name = "vqa"

    def __init__(self, llm: Lazy[LLMBackend], pairs_per_record: int = 4, max_attempts: int = 2, seed: int = 0,
                 generation: dict[str, Any] | None = None) -> None:
        self.llm, self.pairs_per_record, self.max_attempts, self.seed = llm, pairs_per_record, max_attempts, seed
        self.generation = dict(generation or {})

    def config(self) -> dict[str, Any]:
        return {"llm": self.llm.identity, "pairs": self.pairs_per_record, "max_attempts": self.max_attempts,
                "seed": self.seed, "generation": self.generation, "prompts": prompt_digest(VQA_PROMPTS)}

    def key_input(self, state: RecordState) -> Any:
        return {"description": state.outputs["fuse"]["answer"], "objects": state.outputs["refine"]["objects"]}

    def process(self, states: Sequence[RecordState]) -> list[Any]:
        jobs, where = [], []
        results: list[Any] = [{"pairs": [], "dropped": []} for _ in states]
        for n, state in enumerate(states):
            objects = grounded_objects(state)
            if objects:
                size = tuple(state.outputs["detect"]["image_size"])
                jobs.append(VQAJob(state.source.record_id, state.outputs["fuse"]["answer"], tuple(objects), size))
                where.append(n)
        if jobs:
            outcomes = generate_pairs(self.llm.get(), jobs, self.pairs_per_record, self.max_attempts, self.seed,
                                      **self.generation)
            for n, outcome in zip(where, outcomes):
                results[n] = outcome.value if outcome.value is not None else Failed(
                    f"no valid VQA JSON from the LLM ({outcome.failure()})")
        return results

    def close(self) -> None:
        self.llm.close()


def state_to_json(state: RecordState) -> dict[str, Any]:
    src = state.source
    return {"id": src.record_id, "image": src.image, "description": src.description, "outputs": state.outputs,
            "failure": list(state.failure) if state.failure else None}


def state_from_json(data: dict[str, Any], images_dir: Path) -> RecordState:
    source = SourceRecord(data["id"], data["image"], images_dir / data["image"], data["description"])
    failure = data.get("failure")
    return RecordState(source, dict(data["outputs"]), tuple(failure) if failure else None)  # type: ignore[arg-type]
