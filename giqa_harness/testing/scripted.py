"""Scripted stand-ins for the annotation pipeline's models: an LLM backend, a detector and an IQA model
whose answers a test decides, each recording what it was asked.

They let tests check the pipeline against exact ground truth (an LLM that returns the true tags, a
detector that returns the true regions) and count calls to prove that a resumed run recomputes nothing.
`scripted_plugin` registers them, so a run in a subprocess can name them like any plugin.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..annotate.detect import Detector
from ..annotate.records import Detection
from ..boxes.geometry import Box
from ..hookspecs import hookimpl
from ..llm.base import LLMBackend
from ..models import ModelAdapter, Request

if TYPE_CHECKING:
    from PIL import Image

_DESCRIPTION = re.compile(r"Description: (.*?)(?:\nKey objects:|\Z)", re.DOTALL)


def prompt_description(prompt: str) -> str:
    """The description a tag or VQA prompt of the pipeline asks about."""
    match = _DESCRIPTION.search(prompt)
    return match.group(1).strip() if match else ""


def is_tag_prompt(prompt: str) -> bool:
    return '"T_r"' in prompt


class ScriptedLLM(LLMBackend):
    """Replies ``reply(prompt)`` (a ``str`` or ``None`` for a failed call) and keeps every prompt."""

    def __init__(self, reply: Callable[[str], str | None], spec: str = "scripted") -> None:
        super().__init__(spec)
        self.reply = reply
        self.prompts: list[str] = []

    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        self.prompts += list(prompts)
        return [self.reply(p) for p in prompts]


def image_key(image: "Image.Image") -> str:
    """What `ScriptedDetector` knows an image by: a digest of its RGB pixels."""
    rgb = image.convert("RGB")
    return hashlib.sha256(rgb.tobytes() + repr(rgb.size).encode()).hexdigest()


class ScriptedDetector(Detector):
    """Boxes looked up by image and phrase.

    ``regions`` (or the JSON file ``path``): ``{image_key or "*": {phrase (any case): [[x1, y1, x2, y2] or
    [x1, y1, x2, y2, score], ...]}}``; a phrase with no entry gets no box.
    """

    name = "scripted"
    description = "boxes read from a table (tests)"

    def __init__(self, regions: dict[str, Any] | None = None, path: str | None = None) -> None:
        table = json.loads(Path(path).read_text(encoding="utf-8")) if path else (regions or {})
        self.regions = {img: {p.lower(): boxes for p, boxes in per.items()} for img, per in table.items()}
        self.calls: list[tuple[str, list[str]]] = []
        self.path = path

    def identity(self) -> dict[str, Any]:
        table = json.dumps(self.regions, sort_keys=True).encode()
        return {"detector": self.name, "regions": hashlib.sha256(table).hexdigest()}

    def detect(self, image: "Image.Image", phrases: Sequence[str]) -> list[list[Detection]]:
        key = image_key(image)
        self.calls.append((key, list(phrases)))
        table = {**self.regions.get("*", {}), **self.regions.get(key, {})}
        out = []
        for phrase in phrases:
            found = []
            for raw in table.get(phrase.lower(), []):
                box = Box.from_corners(*raw[:4])
                if box is not None:
                    found.append(Detection(box, float(raw[4]) if len(raw) > 4 else 1.0))
            out.append(found)
        return out


class ScriptedIQA(ModelAdapter):
    """An "IQA model" answering ``respond(request)``; by default always ``answer``."""

    name = "scripted_iqa"
    description = "answers decided by a test"
    emits_boxes = False

    def __init__(self, answer: Any = "Yes", respond: Callable[[Request], str] | None = None) -> None:
        from ..boxes.formats.grid import GridFormat

        self.box_format = GridFormat()
        self.respond = respond or (lambda request: str(answer))  # --model_args turns "Yes" into True
        self.model_args = {"answer": str(answer)}
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> list[str]:
        self.requests += list(requests)
        return [self.respond(r) for r in requests]


def scripted_plugin(llm: Callable[[str], str | None] | None = None) -> SimpleNamespace:
    """A plugin registering the scripted detector, the scripted IQA model and (given ``llm``, a reply
    function) the LLM scheme ``scripted:NAME``."""

    @hookimpl
    def register_detectors(register):
        register(ScriptedDetector)

    @hookimpl
    def register_models(register):
        register(ScriptedIQA)

    @hookimpl
    def register_judges(register):
        if llm is not None:
            register("scripted", lambda target, **options: ScriptedLLM(llm, spec=f"scripted:{target}"))

    return SimpleNamespace(register_detectors=register_detectors, register_models=register_models,
                           register_judges=register_judges)
