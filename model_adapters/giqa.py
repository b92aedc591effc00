"""``giqa``: Grounding-IQA entrants, i.e. models fine-tuned by training/ to write ``[phrase](<a, b>)``.

    giqa-harness --model giqa --model_args pretrained=runs/giqa-llava-1.5-7b/final --tasks giqa_des

A checkpoint folder from training/ holds the base family's usual files plus ``giqa_adapter.json``
(`GiqaCheckpointInfo`), which says which base adapter loads it and how it saw its images:

    {"schema_version": 1, "base": "llava", "box_format": "giqa_grid", "frame": "original",
     "image_frame": "pad_square:mean", "prompt_template": null, "base_model": "llava-hf/llava-1.5-7b-hf"}

``frame`` is what the numbers of its answers describe: the original image, because annotate/ writes
every box on the original image. ``image_frame`` is how images were prepared for training (null: the
base adapter's default); the adapter prepares them the same way. ``prompt_template`` is the exact
single-question prompt training rendered (training/ writes it); null, in older checkpoints, means the
checkpoint's own chat template (a llava base then gets ``prompt=chat_template``; an owl2 base the
``mplug_owl2`` conversation it was trained on). Model arguments given on the command line override the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Sequence

from giqa_harness.boxes.frames import parse_frame
from giqa_harness.errors import ConfigError, GiqaError, ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request

METADATA_FILE = "giqa_adapter.json"
SCHEMA_VERSION = 1
BASES = ("llava", "owl2")


@dataclass(frozen=True)
class GiqaCheckpointInfo:
    """The contents of ``giqa_adapter.json``; training/ writes it with `write`, the adapter reads it."""

    base: str
    box_format: str = "giqa_grid"
    frame: str = "original"
    image_frame: str | None = None
    prompt_template: str | None = None
    base_model: str | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ConfigError(f"{METADATA_FILE}: field 'base' must be one of {', '.join(BASES)}, got {self.base!r}")
        for name in ("frame", "image_frame"):
            spec = getattr(self, name)
            if spec is not None:
                try:
                    parse_frame(str(spec))
                except GiqaError as exc:
                    raise ConfigError(f"{METADATA_FILE}: field {name!r}: {exc}") from None
        if self.prompt_template is not None and "{question}" not in self.prompt_template:
            raise ConfigError(f"{METADATA_FILE}: field 'prompt_template' must contain '{{question}}'")

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / METADATA_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> "GiqaCheckpointInfo":
        path = Path(folder) / METADATA_FILE
        if not path.is_file():
            raise ConfigError(
                f"{Path(folder)} has no {METADATA_FILE}: it is not a checkpoint written by giqa-harness training "
                f"(write one with GiqaCheckpointInfo(base='llava').write(folder), see docs/adapters.md)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown fields {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if "base" not in data:
            raise ConfigError(f"{path}: field 'base' is missing ({' or '.join(BASES)})")
        if data.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
            raise ConfigError(f"{path}: schema_version {data['schema_version']} is newer than this giqa-harness reads")
        return cls(**data)


def base_adapter_class(base: str) -> type[ModelAdapter]:
    """The registered adapter of a base family; a clear error when its plugin is missing or failed."""
    from giqa_harness.plugins import registry

    reg = registry()
    if base not in reg.models:
        failure = reg.plugins.get(base)
        why = f": {failure.error}" if failure is not None and failure.error else ""
        raise ModelLoadError(
            f"a giqa checkpoint on a {base!r} base needs the {base!r} model adapter, which is not available{why}. "
            f"See docs/adapters.md for what it needs installed."
        )
    return reg.models.get(base)


class GiqaAdapter(ModelAdapter):
    """Loads a training/ checkpoint through its base family's adapter, speaking the grid syntax."""

    name = "giqa"
    description = "Grounding-IQA entrants fine-tuned by training/ (LLaVA or mPLUG-Owl2 base, giqa_grid syntax)"
    install = "pip install 'giqa-harness[hf]'"
    requires = ("torch", "transformers")
    default_box_format = "giqa_grid"

    def __init__(self, pretrained: str | None = None, **model_args: Any) -> None:
        if not pretrained:
            raise ConfigError("model 'giqa' needs --model_args pretrained=<checkpoint folder written by training/>")
        folder = Path(str(pretrained)).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"model 'giqa': checkpoint folder {folder} does not exist")
        self.info = GiqaCheckpointInfo.read(folder)
        from_file = {"box_format": self.info.box_format, "frame": self.info.frame,
                     "image_frame": self.info.image_frame, "prompt_template": self.info.prompt_template}
        args = {**{k: v for k, v in from_file.items() if v is not None}, **model_args}
        if self.info.prompt_template is None:  # an older checkpoint: what training rendered then
            if self.info.base == "llava":
                args.setdefault("prompt", "chat_template")
            else:
                from .owl2 import CONVERSATION

                args.setdefault("prompt_template", CONVERSATION)
        base_cls = base_adapter_class(self.info.base)
        try:
            self.inner = base_cls(pretrained=str(folder), **args)
        except TypeError as exc:
            raise ConfigError(f"model 'giqa' on a {self.info.base!r} base: bad model arguments ({exc})") from None
        self.box_format = self.inner.box_format
        self.emits_boxes = True

    @classmethod
    def frame_summary(cls) -> str:
        return "giqa_grid / original (from giqa_adapter.json)"

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return self.inner.generate(requests)

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return self.inner.render_prompts(requests)

    def full_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return self.inner.full_prompts(requests)

    def identity(self) -> dict[str, Any]:
        return {**self.inner.identity(), "model": self.name, "base": self.info.base}

    def close(self) -> None:
        self.inner.close()

    def supports_choice_scoring(self) -> bool:
        return self.inner.supports_choice_scoring()

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        return self.inner.score_choices(requests)


@hookimpl
def register_models(register: Any) -> None:
    register(GiqaAdapter)
