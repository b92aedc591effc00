"""The narrow, batched model contract every adapter implements.

The evaluator hands an adapter a batch of `Request` objects and gets back one answer string per
request, in order. Everything else (prompt templates, image preprocessing, tokenization) is the
adapter's own business; the adapter declares its `BoxFormat` (with its `Frame`) so the evaluator can
render referring boxes for it and parse its answers back without guessing.
"""

from __future__ import annotations

import importlib.util
import re
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Sequence

from .errors import ConfigError, GiqaError
from .output import is_secret_name

if TYPE_CHECKING:
    from PIL import Image

    from .boxes.formats.base import BoxFormat
    from .boxes.grounded import Grounding


@dataclass(frozen=True, eq=False)
class Request:
    """One generation request.

    ``question`` is already rendered in the adapter's own box syntax and frame (referring boxes
    included); ``referring`` holds the same boxes in original-image coordinates, for adapters that pass
    boxes out of band (Ferret's region masks, Kosmos-2's ``bboxes=``). ``image`` is the original RGB
    image; the adapter applies its own frame (padding, crop). ``raw_question`` is the canonical text.
    ``prepared_image`` is the adapter's own `ModelAdapter.prepare_image` of ``image``, done ahead in a
    worker thread, or None (then the adapter prepares ``image`` itself).
    """

    doc_id: str
    task: str
    question: str
    image: "Image.Image"
    image_size: tuple[int, int]
    referring: tuple["Grounding", ...] = ()
    raw_question: str = ""
    kind: str = "des"
    generation_kwargs: Mapping[str, Any] = field(default_factory=dict)
    prepared_image: Any = None


@dataclass(frozen=True, eq=False)
class ChoiceRequest:
    """One choice-scoring request: how likely is each candidate as the continuation of the model's own
    answer to ``request``, once the answer has begun with ``prefix``?

    ``prefix`` and the candidates are raw answer text: the adapter puts ``prefix`` right after its own
    prompt (where a generated answer would start), then each candidate right after the prefix, and
    sums the log-probabilities of the candidate's tokens only. Write separating spaces into the text
    (``" excellent"`` after ``"The quality of the image is"``).
    """

    request: Request
    prefix: str
    candidates: tuple[str, ...]


class ChoiceScoringUnsupported(GiqaError):
    """This adapter (or the endpoint behind it) cannot give candidate log-probabilities."""


class ModelAdapter(ABC):
    """Base class of every model adapter.

    Subclasses set ``name`` (the ``--model`` value), ``description`` and ``install`` (what to pip
    install), and ``emits_boxes`` (False for models that never write boxes: their mIoU and
    Tag-Recall are N/A). ``box_format`` is set in ``__init__``. Heavy imports happen in ``__init__``.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    install: ClassVar[str] = "pip install giqa-harness"
    requires: ClassVar[tuple[str, ...]] = ()  # importable modules needed to load; see `can_load`
    emits_boxes: ClassVar[bool] = True
    default_box_format: ClassVar[str] = "giqa_grid"
    # Requests per `generate` call: None means ``--batch_size``. Engines that batch continuously
    # themselves (vLLM, HTTP endpoints) set a large window instead (see giqa_harness/prefetch.py).
    request_window: ClassVar[int | None] = None

    box_format: "BoxFormat"

    @abstractmethod
    def generate(self, requests: Sequence[Request]) -> list[str]:
        """One answer per request, same order. Must not depend on how requests are batched."""

    def generate_each(self, requests: Sequence[Request], done: Callable[[int, str], None]) -> list[str]:
        """`generate`, also calling ``done(index, answer)`` for each request as its answer exists, so
        the evaluator caches it at once: a run killed in the middle of a large ``request_window``
        keeps what was already answered. Call ``done`` from the thread that called this method, only
        with a final answer (never for a request that fails), at most once per request; return what
        `generate` would. Default: `generate`, then ``done`` for each answer (an adapter whose engine
        only returns at the end of a call has nothing earlier to report). Override it where answers
        arrive one by one (the ``openai`` adapter reports each HTTP reply as it comes)."""
        answers = self.generate(requests)
        # Reported only when the evaluator will accept the whole list (its length, no None).
        if isinstance(answers, list) and len(answers) == len(requests) and all(isinstance(a, str) for a in answers):
            for index, answer in enumerate(answers):
                done(index, answer)
        return answers

    def prepare_image(self, image: "Image.Image") -> Any:
        """The part of this adapter's image work that depends on the image alone (framing, padding,
        resizing, encoding), which the evaluator runs in worker threads ahead of `generate` and passes
        on as ``Request.prepared_image``. Must be thread-safe and give what ``generate`` would compute
        itself. Default: nothing is prepared ahead (None)."""
        return None

    def prepared_images(self, requests: Sequence[Request]) -> list[Any]:
        """Each request's `prepare_image` result: the one prepared ahead, else prepared now."""
        return [r.prepared_image if r.prepared_image is not None else self.prepare_image(r.image) for r in requests]

    def close(self) -> None:
        """Release memory or connections; called once when the run ends."""

    def supports_choice_scoring(self) -> bool:
        """Whether `score_choices` is available; score tasks fall back to generation when it is not."""
        return type(self).score_choices is not ModelAdapter.score_choices

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        """Optional capability: per request, the log-probability (natural log, summed over the
        candidate's tokens) of each candidate, in order. Must not depend on how requests are batched."""
        raise ChoiceScoringUnsupported(f"model {self.name!r} does not score choices (no log-probabilities)")

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        """The full text each request would give the model (system sentence, template, image
        placeholders, rendered boxes), built without generating; None where the adapter cannot say.
        ``--dry_run`` prints these; a transformers adapter decodes them from its real input ids."""
        return [None] * len(requests)

    def record_prompts(self, requests: Sequence[Request], prompts: Sequence[str | None]) -> None:
        """Called by `generate` with what it really sent, for `full_prompts` to hand back. Kept per
        request object and forgotten with it, so an adapter used without the evaluator leaks nothing."""
        sent = self.__dict__.setdefault("_sent_prompts", weakref.WeakKeyDictionary())
        for request, prompt in zip(requests, prompts):
            sent[request] = prompt

    def full_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        """What the model was given for these (already generated) requests: the recorded text, else
        `render_prompts` (a request answered from the cache was never sent in this run)."""
        sent = self.__dict__.get("_sent_prompts")
        out = [sent.pop(r, None) if sent is not None else None for r in requests]
        missing = [i for i, prompt in enumerate(out) if prompt is None]
        if missing:
            for i, prompt in zip(missing, self.render_prompts([requests[i] for i in missing])):
                out[i] = prompt
        return out

    def identity(self) -> dict[str, Any]:
        """What identifies this model's answers (goes into the response cache key and results.json).

        Defaults to the class name and the model arguments it was built with, secrets removed: a new
        API key changes no answer and must not throw the cache away.
        """
        args = getattr(self, "model_args", {})
        return {"model": self.name, "model_args": {k: v for k, v in args.items() if not is_secret_name(k)}}

    @classmethod
    def can_load(cls) -> tuple[bool, str]:
        """Whether this adapter's own dependencies import here, without importing them."""
        missing = [m for m in cls.requires if importlib.util.find_spec(m.split(".")[0]) is None]
        if missing:
            return False, f"missing {', '.join(missing)} ({cls.install})"
        return True, "ok"

    @classmethod
    def frame_summary(cls) -> str:
        """The default format and frame, for `giqa-harness list models` (no instantiation)."""
        return cls.default_box_format


def parse_model_args(text: str | None) -> dict[str, Any]:
    """``k=v,k2=v2`` -> dict, with ``true``/``false``/numbers converted. Values may not contain commas
    unless quoted with single or double quotes."""
    if not text:
        return {}
    out: dict[str, Any] = {}
    for item in _split_top_level(text):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"bad --model_args item {item!r}: expected key=value")
        out[key.strip()] = coerce_value(value.strip())
    return out


def _split_top_level(text: str) -> list[str]:
    items, current, quote = [], [], None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+")


def coerce_value(value: str) -> Any:
    """A command-line value as Python: booleans, None, integers written without leading zeros, finite
    decimals; anything else stays a string (``007``, ``nan`` and revision hashes keep their text)."""
    low = value.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value):
        return float(value)
    return value


def bool_arg(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"model argument {name!r} must be true or false, got {value!r}")
