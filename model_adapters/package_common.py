"""Base of the adapters whose model loads only through its family's own package (not a plugin itself).

Ferret (``ferret``), DepictQA (``model.depictqa`` from its ``src/`` folder) and mPLUG-Owl2
(``mplug_owl2``) are not on the package index and pin old transformers releases; the adapter imports
the package lazily and, when it is missing, raises `MissingDependencyError` with the repository's own
install line. Each prompt is embedded by the family's own code and the batch is decoded by
`embeds_decoding.decode` (left padding done right), so answers do not depend on the batch size.
"""

from __future__ import annotations

import importlib.util
import inspect
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

from giqa_harness.boxes.formats import BoxFormat
from giqa_harness.boxes.frames import Frame, parse_frame
from giqa_harness.errors import ConfigError, MissingDependencyError, ModelLoadError
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request

from .embeds_decoding import DecodeSettings, PromptEmbedding, decode
from .hf_common import (
    HFLoadOptions, HFVisionAdapter, _quiet_transformers, cut_at_stops, generation_settings, require_transformers,
    resolve_box_format, with_checkpoint_mean,
)


def module_available(module: str) -> bool:
    """Whether ``module`` (dotted names too) can be imported, found without importing anything.

    A dotted name is looked up in its top-level package's folders, so that checking DepictQA's
    ``model.depictqa`` does not import ``model`` (whose ``__init__`` pulls in deepspeed).
    """
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None or not rest:
        return spec is not None
    for location in spec.submodule_search_locations or ():
        base = Path(location, *rest)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def require_package(module: str, install: str, purpose: str) -> None:
    """Raise the install instruction when ``module`` cannot be imported."""
    if not module_available(module):
        raise MissingDependencyError(module, install, purpose)


def load_package_model(model_class: Any, options: HFLoadOptions) -> Any:
    """``from_pretrained`` with the load options, as the families' pinned transformers (4.28-4.35)
    understand them: the dtype is passed as ``torch_dtype`` (newer releases accept that name too)."""
    kwargs = options.from_pretrained_kwargs()
    kwargs["torch_dtype"] = kwargs.pop("dtype")
    try:
        model = model_class.from_pretrained(options.pretrained, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load {model_class.__name__} from {options.pretrained}: {exc}") from None
    if not options.device_map:
        model.to(options.device)
    return model.eval()


class PackageAdapter(ModelAdapter):
    """Batched generation over a family package's own prompt embeddings.

    Subclasses set ``package`` (the module to import), ``install`` and ``requires`` (the package,
    torch and transformers; dotted names are found without importing them); `load` sets
    ``self.model``, ``self.tokenizer`` and ``self.eos_ids``; `embed_prompt` embeds one request exactly as
    the family's code does; `step` runs the family's decoder on a left-padded batch; `embed_tokens`
    embeds generated token ids. ``family_stops`` are the family's own stop strings.
    """

    package: ClassVar[str]
    family_stops: ClassVar[tuple[str, ...]] = ()

    model: Any
    tokenizer: Any
    eos_ids: tuple[int, ...]

    # Requests are grouped by their generation settings exactly as the transformers-native adapters do.
    generate = HFVisionAdapter.generate

    @classmethod
    def can_load(cls) -> tuple[bool, str]:
        missing = [m for m in cls.requires if not module_available(m)]
        if missing:
            return False, f"missing {', '.join(missing)} ({cls.install})"
        return True, "ok"

    def __init__(self, box_format: str | None = None, frame: str | None = None, image_frame: str | None = None,
                 max_new_tokens: int | None = None, **family_args: Any) -> None:
        require_package(self.package, self.install, f"model {self.name!r}")
        require_transformers(f"model {self.name!r}")
        self._check_family_args(family_args)
        self.max_new_tokens = int(max_new_tokens) if max_new_tokens is not None else None
        self.model_args = {"box_format": box_format, "frame": frame, "image_frame": image_frame,
                           "max_new_tokens": self.max_new_tokens, **family_args}
        _quiet_transformers()
        self.load(**family_args)
        self.box_format = self.declare_format(box_format, frame)
        # As for the transformers-native adapters: images are prepared in the box frame unless a
        # fine-tuned model saw another one (``image_frame``).
        chosen = parse_frame(str(image_frame)) if image_frame else self.box_format.frame
        self.image_frame: Frame = with_checkpoint_mean(chosen, getattr(self, "image_processor", None))

    def _check_family_args(self, family_args: Mapping[str, Any]) -> None:
        """Unknown model arguments fail before anything heavy loads, listing the known ones."""
        known = [p for p in inspect.signature(self.load).parameters]
        unknown = sorted(set(family_args) - set(known))
        if unknown:
            common = ["box_format", "frame", "image_frame", "max_new_tokens"]
            raise ConfigError(f"model {self.name!r} has no argument {', '.join(unknown)}; "
                              f"its arguments: {', '.join(common + known)}")

    @abstractmethod
    def load(self, **family_args: Any) -> None:
        """Import the family package and load the model, its tokenizer and image processor."""

    def declare_format(self, box_format: str | None, frame: str | None) -> BoxFormat:
        """The format the evaluator renders questions in and parses answers with."""
        return resolve_box_format(self.default_box_format, self.default_frame(), box_format, frame)

    @abstractmethod
    def default_frame(self) -> Frame:
        """The frame the family's model reads boxes in."""

    @abstractmethod
    def embed_prompt(self, request: Request) -> PromptEmbedding:
        """One request's input embeddings, built by the family's own code, unpadded."""

    def prompt_text(self, request: Request) -> str | None:
        """One request's full prompt, decoded from the token ids the family's code embeds (None: the
        family cannot say). Tokenizing is cheap and deterministic, so it is rendered again on demand."""
        return None

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return [self.prompt_text(r) for r in requests]

    @abstractmethod
    def step(self, embeds: Any, attention_mask: Any, position_ids: Any, past: Any, extras: Any) -> tuple[Any, Any]:
        """The family's decoder on a padded batch: (logits of the last position, new cache)."""

    @abstractmethod
    def embed_tokens(self, token_ids: Any) -> Any:
        """Input embeddings of generated token ids ``[batch, 1]``."""

    def generate_batch(self, requests: Sequence[Request]) -> list[str]:
        gen_kwargs, task_stops = generation_settings(requests[0].generation_kwargs, self.max_new_tokens)
        settings = DecodeSettings.from_generate_kwargs(gen_kwargs, self.name)
        stops = [*self.family_stops, *task_stops]
        prompts = [self.embed_prompt(r) for r in requests]
        new_tokens = decode(self.step, self.embed_tokens, prompts, settings, self.eos_ids, self.tokenizer, stops)
        texts = [self.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in new_tokens]
        return [cut_at_stops(text, stops).strip() for text in texts]

    def identity(self) -> dict[str, Any]:
        options = getattr(self, "options", None)
        return {"model": self.name, "model_args": {k: v for k, v in self.model_args.items() if v is not None},
                "weights": options.fingerprint() if options is not None else None}

    def close(self) -> None:
        self.model = None

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        from .choice_scoring import score_with_steps

        return score_with_steps(self, requests)
