"""Plumbing shared by the adapters that load a model through transformers (not a plugin itself).

- `HFLoadOptions`: the model arguments every such adapter accepts (``pretrained`` as a local folder or
  a hub id, ``device``, ``dtype``, ``device_map``, ``attn_implementation``, ``trust_remote_code`` off
  unless passed, ``revision``) and how they become ``from_pretrained`` keywords.
- `generation_settings`: a task's ``generation_kwargs`` (lmms-eval vocabulary) -> ``generate`` keywords,
  greedy unless the task asks otherwise, plus the stop strings the answer is cut at.
- `model_input_image`: the image exactly as a model receives it in a declared frame. training/ imports
  it so that fine-tuning sees images exactly as the adapter shows them.
- `HFVisionAdapter`: left-padded batched ``generate`` that decodes only the new tokens; a family
  subclass supplies loading, prompts and the processor call.

torch and transformers are imported inside functions only: `giqa-harness list` imports this module.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from giqa_harness.boxes.formats import BoxFormat, get_format
from giqa_harness.boxes.frames import Frame, PadSquareFrame, parse_frame
from giqa_harness.errors import ConfigError, MissingDependencyError, ModelLoadError
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request, bool_arg

if TYPE_CHECKING:
    from PIL import Image

HF_INSTALL = "pip install 'giqa-harness[hf]'"
DEFAULT_MAX_NEW_TOKENS = 128  # what the families' own evaluations use for short answers (models.md)
_DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16", "half": "float16",
           "bfloat16": "bfloat16", "bf16": "bfloat16", "auto": "auto"}


def require_transformers(purpose: str) -> None:
    """Raise the actionable missing-package error before any import fails deep inside an adapter."""
    import importlib.util

    for package in ("torch", "transformers"):
        if importlib.util.find_spec(package) is None:
            raise MissingDependencyError(package, HF_INSTALL, purpose)


# -- model arguments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HFLoadOptions:
    """How to load a checkpoint; built from model arguments by `from_args`."""

    pretrained: str
    device: str
    dtype: str
    device_map: str | None = None
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    revision: str | None = None

    @classmethod
    def from_args(cls, adapter: str, pretrained: Any, device: Any = None, dtype: Any = None, device_map: Any = None,
                  attn_implementation: Any = None, trust_remote_code: Any = False, revision: Any = None
                  ) -> "HFLoadOptions":
        if not pretrained:
            raise ConfigError(f"model {adapter!r} needs --model_args pretrained=<local folder or hub id>")
        text = str(pretrained)
        local = Path(text).expanduser()
        if local.exists():
            if not (local / "config.json").is_file():
                raise ConfigError(f"model {adapter!r}: {local} has no config.json; pass a checkpoint folder")
            text = str(local.resolve())
        elif text.startswith((".", "/", "~")) or text.count("/") > 1:
            raise ConfigError(f"model {adapter!r}: checkpoint folder {text} does not exist")
        resolved_device = str(device) if device else default_device()
        if dtype is None:
            # fp32 on CPU (half precision is slow or unsupported there); the checkpoint's own dtype elsewhere
            dtype = "float32" if resolved_device == "cpu" else "auto"
        if str(dtype).lower() not in _DTYPES:
            raise ConfigError(f"model {adapter!r}: dtype {dtype!r} is not one of {', '.join(sorted(_DTYPES))}")
        return cls(pretrained=text, device=resolved_device, dtype=_DTYPES[str(dtype).lower()],
                   device_map=str(device_map) if device_map else None,
                   attn_implementation=str(attn_implementation) if attn_implementation else None,
                   trust_remote_code=bool_arg(trust_remote_code, "trust_remote_code"),
                   revision=str(revision) if revision else None)

    @property
    def is_local(self) -> bool:
        return Path(self.pretrained).is_dir()

    def from_pretrained_kwargs(self) -> dict[str, Any]:
        import torch

        kwargs: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
        kwargs["dtype"] = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
        if self.device_map:
            kwargs["device_map"] = self.device_map
        if self.attn_implementation:
            kwargs["attn_implementation"] = self.attn_implementation
        if self.revision:
            kwargs["revision"] = self.revision
        return kwargs

    def processor_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
        if self.revision:
            kwargs["revision"] = self.revision
        return kwargs

    def fingerprint(self) -> str | None:
        """For a local folder, a digest of its config and weight files' sizes and times, so that a
        checkpoint rewritten in place (training/ does that) never reuses cached answers."""
        if not self.is_local:
            return None
        digest = hashlib.sha256()
        for path in sorted(Path(self.pretrained).iterdir()):
            if path.suffix in (".json", ".safetensors", ".bin", ".jinja", ".model"):
                stat = path.stat()
                digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]


def default_device() -> str:
    """The accelerator of this process (its LOCAL_RANK's GPU under a data-parallel launcher), else CPU."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def read_config(options: HFLoadOptions) -> Any:
    """The checkpoint's config (its ``architectures`` decide between family variants)."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(options.pretrained, **options.processor_kwargs())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read the config of {options.pretrained}: {exc}") from None


def load_model(model_class: Any, options: HFLoadOptions, **extra: Any) -> Any:
    """``model_class.from_pretrained`` with the load options (and ``extra`` keywords, such as a
    quantization config), placed on the device, in eval mode."""
    try:
        model = model_class.from_pretrained(options.pretrained, **options.from_pretrained_kwargs(), **extra)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load {model_class.__name__} from {options.pretrained}: {exc}") from None
    if not options.device_map:
        model.to(options.device)
    return model.eval()


def load_processor(options: HFLoadOptions) -> Any:
    """``AutoProcessor`` with left padding, which batched generation of a decoder needs."""
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(options.pretrained, **options.processor_kwargs())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the processor of {options.pretrained}: {exc}") from None
    processor.tokenizer.padding_side = "left"
    return processor


# -- generation -------------------------------------------------------------------------------------

# Keys of a task's generation_kwargs that are not `generate` arguments.
_STOP_KEYS = ("until", "stop")


def generation_settings(task_kwargs: Mapping[str, Any], max_new_tokens: int | None) -> tuple[dict[str, Any], list[str]]:
    """A task's ``generation_kwargs`` -> (``generate`` keywords, stop strings).

    Greedy with one beam unless the task samples: ``temperature > 0`` turns sampling on (lmms-eval's
    convention), ``temperature: 0`` means greedy. ``until``/``stop`` cut the answer at the first stop
    string. ``max_new_tokens`` given as a model argument overrides the task; otherwise the task's value,
    otherwise `DEFAULT_MAX_NEW_TOKENS`. Other keys must be `GenerationConfig` fields.
    """
    from transformers import GenerationConfig

    kwargs = dict(task_kwargs)
    stops: list[str] = []
    for key in _STOP_KEYS:
        value = kwargs.pop(key, None)
        if value:
            stops.extend([value] if isinstance(value, str) else [str(v) for v in value])
    out: dict[str, Any] = {"do_sample": False, "num_beams": 1}
    temperature = kwargs.pop("temperature", None)
    if temperature is not None and float(temperature) > 0:
        out.update(do_sample=True, temperature=float(temperature))
    out.update(kwargs)
    if max_new_tokens is not None:
        out["max_new_tokens"] = int(max_new_tokens)
    out.setdefault("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
    known = GenerationConfig()
    unknown = sorted(k for k in out if not hasattr(known, k))
    if unknown:
        raise ConfigError(f"generation_kwargs {', '.join(unknown)} are not transformers generate() options")
    return out, stops


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """The text before the earliest stop string."""
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


def check_prompt_template(template: str, *required: str) -> str:
    """A user's ``prompt_template``: it must hold ``{question}`` and every other required marker."""
    missing = [m for m in ("{question}", *required) if m not in template]
    if missing:
        raise ConfigError(f"prompt_template must contain {' and '.join(map(repr, missing))}, got {template!r}")
    return template


# -- images -----------------------------------------------------------------------------------------


def with_checkpoint_mean(frame: Frame, image_processor: Any) -> Frame:
    """Mean-colour square padding takes this checkpoint's own image mean (LLaVA pads with the CLIP
    processor's ``image_mean`` x 255); every other frame is returned unchanged."""
    mean = getattr(image_processor, "image_mean", None)
    if not isinstance(frame, PadSquareFrame) or frame.color != "mean" or mean is None or len(mean) != 3:
        return frame
    return PadSquareFrame(color="mean", mean_rgb=tuple(int(v * 255) for v in mean))  # type: ignore[arg-type]


def model_input_image(image: "Image.Image", frame: Frame, square: bool = True) -> "Image.Image":
    """The image as the model receives it in ``frame``, before the processor's own resize.

    The frame pads or crops (`Frame.prepare_image`). When the model takes a square input
    (``square=True``: CLIP towers at a fixed size) and the framed image is not square, it is squashed
    to a square here: the processors' shortest-edge resize plus centre crop (the llava-hf default)
    then crops nothing, so the original frame really is the whole image.
    """
    # convert() copies even an RGB image: a 1-4 MP photograph costs milliseconds, so only when needed.
    framed = frame.prepare_image(image if image.mode == "RGB" else image.convert("RGB"))
    if square and framed.width != framed.height:
        side = max(framed.width, framed.height)
        framed = framed.resize((side, side), resample=3)  # 3 = bicubic, as CLIP processors resample
    return framed


def resolve_box_format(default_name: str, default_frame: Frame, box_format: Any, frame: Any) -> BoxFormat:
    """The format an adapter declares: its own default, or the ``box_format=``/``frame=`` overrides."""
    chosen = get_format(str(box_format) if box_format else default_name)
    return chosen.with_frame(parse_frame(str(frame)) if frame else default_frame)


# -- the adapter base -------------------------------------------------------------------------------


class HFVisionAdapter(ModelAdapter):
    """Base of the transformers-native adapters: load, then batched left-padded greedy generation.

    Subclasses implement `load` (set ``self.model`` and ``self.processor``, declare ``self.box_format``)
    and `encode` (prompts and images -> model inputs, images prepared in ``self.image_frame``);
    `decode` can post-process the new tokens.
    """

    install: ClassVar[str] = HF_INSTALL
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    skip_special_tokens: ClassVar[bool] = True
    # The family's own decoding settings where they differ from greedy (a task's generation_kwargs win).
    family_generation: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, pretrained: str | None = None, box_format: str | None = None, frame: str | None = None,
                 image_frame: str | None = None, device: str | None = None, dtype: str | None = None,
                 device_map: str | None = None, attn_implementation: str | None = None,
                 trust_remote_code: bool = False, max_new_tokens: int | None = None, revision: str | None = None,
                 **family_args: Any) -> None:
        require_transformers(f"model {self.name!r}")
        self._check_family_args(family_args)
        self.options = HFLoadOptions.from_args(self.name, pretrained, device, dtype, device_map,
                                               attn_implementation, trust_remote_code, revision)
        self.max_new_tokens = int(max_new_tokens) if max_new_tokens is not None else None
        self.model_args = {
            "pretrained": self.options.pretrained, "revision": self.options.revision,
            "box_format": box_format, "frame": frame, "image_frame": image_frame,
            "max_new_tokens": self.max_new_tokens, "dtype": self.options.dtype, **family_args,
        }
        _quiet_transformers()
        self.load(box_format=box_format, frame=frame, **family_args)
        # Published models' numbers describe the image they saw, so by default the image is prepared
        # in the box frame. A model fine-tuned on original-image boxes from padded inputs (training/)
        # sees one frame and writes another: ``image_frame`` says how its images are prepared.
        chosen = parse_frame(str(image_frame)) if image_frame else self.box_format.frame
        self.image_frame: Frame = with_checkpoint_mean(chosen, getattr(self.processor, "image_processor", None))

    def _check_family_args(self, family_args: Mapping[str, Any]) -> None:
        """Unknown model arguments fail before anything heavy loads, listing the known ones."""
        import inspect

        own = [p for p in inspect.signature(self.load).parameters if p not in ("box_format", "frame")]
        unknown = sorted(set(family_args) - set(own))
        if unknown:
            shared = inspect.signature(HFVisionAdapter.__init__).parameters
            common = [p for p in shared if p not in ("self", "family_args")]
            raise ConfigError(f"model {self.name!r} has no argument {', '.join(unknown)}; "
                              f"its arguments: {', '.join(common + own)}")

    @abstractmethod
    def load(self, box_format: str | None, frame: str | None, **family_args: Any) -> None:
        """Load ``self.model`` and ``self.processor`` and set ``self.box_format``."""

    @abstractmethod
    def encode(self, requests: Sequence[Request]) -> dict[str, Any]:
        """The processor's output for a batch: left-padded ``input_ids``, ``attention_mask``, pixels."""

    def decode(self, new_tokens: Any) -> list[str]:
        texts = self.processor.batch_decode(new_tokens, skip_special_tokens=self.skip_special_tokens)
        return [t.strip() for t in texts]

    def identity(self) -> dict[str, Any]:
        out = {"model": self.name, "model_args": {k: v for k, v in self.model_args.items() if v is not None},
               "weights": self.options.fingerprint()}
        if self.family_generation:  # other decoding, other answers: never reuse the cached ones
            out["generation"] = dict(self.family_generation)
        return out

    @property
    def device(self) -> Any:
        return self.model.device

    def generate(self, requests: Sequence[Request]) -> list[str]:
        # Requests of one task share generation settings; group anyway so a mixed batch stays correct.
        groups: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            groups.setdefault(json.dumps(dict(req.generation_kwargs), sort_keys=True, default=str), []).append(i)
        answers: list[str] = [""] * len(requests)
        for indices in groups.values():
            batch = [requests[i] for i in indices]
            for i, text in zip(indices, self.generate_batch(batch)):
                answers[i] = text
        return answers

    def generate_batch(self, requests: Sequence[Request]) -> list[str]:
        import torch

        gen_kwargs, stops = generation_settings({**self.family_generation, **requests[0].generation_kwargs},
                                                self.max_new_tokens)
        encoded = self.encode(requests)
        self.record_prompts(requests, self.prompt_texts(encoded))
        inputs = self.to_device(encoded)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **gen_kwargs)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        return [cut_at_stops(text, stops).strip() for text in self.decode(new_tokens)]

    def prompt_texts(self, inputs: Mapping[str, Any]) -> list[str]:
        """The full prompt of each row, decoded from the encoded ``input_ids`` (padding left out)."""
        from .prompt_text import decode_batch_prompts

        tokenizer = getattr(self.processor, "tokenizer", self.processor)  # a processor, or a bare tokenizer
        return decode_batch_prompts(tokenizer, inputs, self.prompt_markers())

    def prompt_markers(self) -> dict[int, str]:
        """Image placeholder ids shown once per run in a full prompt: the processor's image token."""
        from .prompt_text import image_token_markers

        return image_token_markers(self.processor)

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return list(self.prompt_texts(self.encode(requests)))

    def to_device(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Tensors onto the model's device; floating inputs (pixels) in the model's dtype."""
        out = {}
        for key, value in inputs.items():
            if hasattr(value, "to"):
                floating = value.is_floating_point()
                value = value.to(self.device, dtype=self.model.dtype) if floating else value.to(self.device)
            out[key] = value
        return out

    def close(self) -> None:
        self.model = None
        self.processor = None

    def score_choices(self, requests: Sequence["ChoiceRequest"]) -> list[list[float]]:
        from .choice_scoring import score_with_forward

        return score_with_forward(self, requests)


def _quiet_transformers() -> None:
    """Loading-progress bars and advisory warnings would drown the harness's own progress output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


__all__ = [
    "DEFAULT_MAX_NEW_TOKENS", "HF_INSTALL", "HFLoadOptions", "HFVisionAdapter", "check_prompt_template", "cut_at_stops",
    "default_device", "generation_settings", "load_model", "load_processor",
    "model_input_image", "read_config", "require_transformers", "resolve_box_format", "with_checkpoint_mean",
]
