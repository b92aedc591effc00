"""Original Shikra, GroundingGPT and LLaVA-1.5 checkpoints as transformers' ``LlavaForConditionalGeneration``.

Both families are a Llama decoder whose ``<im_patch>`` placeholder tokens are replaced one for one by
CLIP patch features (one hidden layer, CLS dropped) passed through a projector: one linear layer in
Shikra (``model.mm_projector``), linear-GELU-linear in GroundingGPT (``model.mm_vision_projector``).
That is exactly ``LlavaForConditionalGeneration`` with ``vision_feature_select_strategy="default"``,
``vision_feature_layer`` = the family's ``mm_vision_select_layer`` and ``image_token_index`` = the id of
``<im_patch>``. Shikra's single layer becomes ``linear_1`` followed by an identity activation and an
identity ``linear_2`` (exact: every product is by 1 or 0). ``<im_start>``/``<im_end>`` stay ordinary
tokens. The CLIP tower is not in these checkpoints: their own loaders take it from a hub id (Shikra:
the config's ``mm_vision_tower``; GroundingGPT: openai/clip-vit-large-patch14-336), and so does this.

The original LLaVA-1.5 layout (haotian-liu/LLaVA; Q-Instruct's LLaVA checkpoints) is the same with a
linear-GELU-linear ``model.mm_projector`` and an ``<image>`` placeholder that is not a vocabulary token:
the conversion adds it (its embedding row is never read: the image features replace it) and saves a
``LlavaProcessor`` with it, so the result is an ordinary llava-hf folder for the ``llava`` adapter.

Converting removes the families' own packages from the path (they pin transformers 4.28/4.34, and
GroundingGPT's also needs its video and audio towers' weights at fixed paths) and gives left-padded
batched generation. The conversion runs in memory at load time; `convert_checkpoint` saves it once::

    python -m giqa_harness.model_adapters.llava_shaped shikra SRC_FOLDER DST_FOLDER [VISION_TOWER]
"""

from __future__ import annotations

import json
import sys
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from giqa_harness.errors import ConfigError, ModelLoadError
from giqa_harness.models import Request

from .hf_common import (
    HFLoadOptions, HFVisionAdapter, cut_at_stops, generation_settings, load_model, model_input_image,
    resolve_box_format,
)

IMAGE_PATCH = "<im_patch>"
IM_START, IM_END = "<im_start>", "<im_end>"


@dataclass(frozen=True)
class LegacyLayout:
    """Where one family's original checkpoint keeps its LLaVA-shaped parts.

    ``projector``: state-dict prefixes of the projector's linear layers, in order (one or two).
    ``token_groups``: the tokens the family's loader adds to the tokenizer, in its order (ids depend on
    it). ``image_token``: the token the image features replace. ``vision_tower``: the CLIP tower its
    loader uses; ``None`` means the config's ``mm_vision_tower``.
    """

    family: str
    projector: tuple[str, ...]
    token_groups: tuple[tuple[str, ...], ...]
    image_token: str = IMAGE_PATCH
    vision_tower: str | None = None
    pad_with_unk: bool = False


SHIKRA_LAYOUT = LegacyLayout(
    family="shikra", projector=("model.mm_projector",),
    token_groups=((IMAGE_PATCH,), (IM_START, IM_END)), pad_with_unk=True,
)
GROUNDINGGPT_LAYOUT = LegacyLayout(
    family="groundinggpt", projector=("model.mm_vision_projector.0", "model.mm_vision_projector.2"),
    token_groups=((IMAGE_PATCH,), (IM_START, IM_END), ("<vi_patch>",), ("<vi_start>", "<vi_end>"),
                  ("<so_patch>",), ("<so_start>", "<so_end>")),
    vision_tower="openai/clip-vit-large-patch14-336",
)
LLAVA_LAYOUT = LegacyLayout(
    family="llava", projector=("model.mm_projector.0", "model.mm_projector.2"), token_groups=(("<image>",),),
    image_token="<image>", pad_with_unk=True,
)
LAYOUTS = {layout.family: layout for layout in (SHIKRA_LAYOUT, GROUNDINGGPT_LAYOUT, LLAVA_LAYOUT)}

# Keys of an original config.json that are not Llama settings.
_NON_LLAMA_KEYS = ("model_type", "architectures", "transformers_version", "auto_map", "_name_or_path")


def checkpoint_folder(options: HFLoadOptions) -> Path:
    """A local folder with the checkpoint's files (a hub id is fetched into the hub cache)."""
    if options.is_local:
        return Path(options.pretrained)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(options.pretrained, revision=options.revision,
                                      allow_patterns=["*.json", "*.safetensors", "*.bin", "*.model", "*.txt"]))
    except Exception as exc:  # offline, unknown id, no access: all say the same thing to the user
        raise ModelLoadError(f"cannot fetch {options.pretrained}: {exc}") from None


def raw_config(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {folder / 'config.json'}: {exc}") from None


def is_original_format(config: dict[str, Any]) -> bool:
    """An original (flat Llama config plus ``mm_*`` keys) rather than a transformers LLaVA checkpoint."""
    return "text_config" not in config and any(key.startswith("mm_") for key in config)


def read_state_dict(folder: Path) -> dict[str, Any]:
    """Every tensor of the checkpoint's safetensors or PyTorch shards, on the CPU."""
    import torch

    shards = sorted(folder.glob("*.safetensors"))
    if shards:
        from safetensors.torch import load_file

        return {k: v for shard in shards for k, v in load_file(str(shard)).items()}
    shards = sorted(folder.glob("pytorch_model*.bin"))
    if not shards:
        raise ModelLoadError(f"{folder} holds no *.safetensors or pytorch_model*.bin weights")
    return {k: v for shard in shards for k, v in torch.load(shard, map_location="cpu", weights_only=True).items()}


def clip_image_processor(source: str | Path, **kwargs: Any) -> Any:
    """The CLIP image processor of a tower (the PIL implementation: torchvision is not required);
    ``kwargs`` go to ``from_pretrained`` (``revision``)."""
    import transformers

    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    try:
        return cls.from_pretrained(str(source), **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the CLIP image processor of {source}: {exc}") from None


def convert(folder: Path, layout: LegacyLayout, vision_tower: str | None = None, dtype: Any = None
            ) -> tuple[Any, Any, Any]:
    """An original checkpoint -> (``LlavaForConditionalGeneration`` on the CPU, tokenizer, image processor).

    ``dtype`` (a torch dtype) defaults to the checkpoint's own ``torch_dtype``. See the module docstring
    for why the two architectures are the same.
    """
    import torch
    from transformers import AutoTokenizer, CLIPVisionModel, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    config = raw_config(folder)
    dtype = dtype or getattr(torch, str(config.get("torch_dtype") or "float32"))
    tower = vision_tower or layout.vision_tower or config.get("mm_vision_tower")
    if not tower:
        raise ConfigError(f"{folder}: the config names no mm_vision_tower; pass --model_args vision_tower=<CLIP id>")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    for group in layout.token_groups:
        tokenizer.add_tokens(list(group), special_tokens=True)
    if layout.pad_with_unk and tokenizer.unk_token is not None:
        tokenizer.pad_token = tokenizer.unk_token
    try:
        vision = CLIPVisionModel.from_pretrained(str(tower), dtype=dtype)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the CLIP vision tower {tower}: {exc}") from None
    state = read_state_dict(folder)
    language, projector = _split_state(state, layout, folder)
    text_config = LlamaConfig(**{k: v for k, v in config.items() if k not in _NON_LLAMA_KEYS
                                 and not k.startswith("mm_")})
    _grow_vocabulary(language, len(tokenizer))
    text_config.vocab_size = language["model.language_model.embed_tokens.weight"].shape[0]
    vision_config = vision.config
    llava_config = LlavaConfig(
        vision_config=vision_config, text_config=text_config,
        image_token_index=tokenizer.convert_tokens_to_ids(layout.image_token),
        projector_hidden_act="linear" if len(layout.projector) == 1 else "gelu",
        vision_feature_layer=int(config.get("mm_vision_select_layer", -1)),
        vision_feature_select_strategy="default",
        image_seq_length=(vision_config.image_size // vision_config.patch_size) ** 2,
        multimodal_projector_bias=True,
    )
    with torch.device("meta"):  # no memory and no random init for weights about to be replaced
        model = LlavaForConditionalGeneration(llava_config)
    weights = {k: v.to(dtype) for k, v in {**language, **projector}.items()}
    result = model.load_state_dict(weights, strict=False, assign=True)
    if result.unexpected_keys or any(not k.startswith("model.vision_tower.") for k in result.missing_keys):
        raise ModelLoadError(f"{folder} does not match the {layout.family} layout: missing "
                             f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
    # The tower comes whole (with its buffers); the rotary embedding's buffer is computed, not stored.
    model.model.vision_tower = vision
    rotary = model.model.language_model.rotary_emb
    model.model.language_model.rotary_emb = type(rotary)(config=model.config.text_config)
    still_meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if still_meta:
        raise ModelLoadError(f"conversion of {folder} left tensors without data: {still_meta[:5]}")
    model.config.giqa_converted_from = layout.family  # a saved conversion is recognised by its family
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model.eval(), tokenizer, clip_image_processor(tower)


def _grow_vocabulary(language: dict[str, Any], size: int) -> None:
    """Rows for tokens the tokenizer gained (LLaVA's ``<image>``) take the mean row, as the families'
    own loaders initialise added tokens; a checkpoint that already has them is left alone."""
    import torch

    for key in ("model.language_model.embed_tokens.weight", "lm_head.weight"):
        rows = language.get(key)
        if rows is not None and size > rows.shape[0]:
            extra = rows.float().mean(dim=0, keepdim=True).to(rows.dtype).expand(size - rows.shape[0], -1)
            language[key] = torch.cat([rows, extra])


def _split_state(state: dict[str, Any], layout: LegacyLayout, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decoder's tensors renamed into LLaVA's layout, and the projector as ``linear_1``/``linear_2``.

    Everything else (GroundingGPT's video and audio branches) is left behind.
    """
    import torch

    language = {}
    for key, value in state.items():
        if key.startswith(("model.embed_tokens.", "model.layers.", "model.norm.")):
            language["model.language_model." + key[len("model."):]] = value
        elif key == "lm_head.weight":
            language[key] = value
    if "model.language_model.embed_tokens.weight" not in language:
        raise ModelLoadError(f"{folder} has no model.embed_tokens weights: not an original {layout.family} checkpoint")
    projector = {}
    for index, prefix in enumerate(layout.projector, start=1):
        for part in ("weight", "bias"):
            if f"{prefix}.{part}" not in state:
                raise ModelLoadError(f"{folder} lacks {prefix}.{part}: not an original {layout.family} checkpoint")
            projector[f"model.multi_modal_projector.linear_{index}.{part}"] = state[f"{prefix}.{part}"]
    if len(layout.projector) == 1:  # identity second layer, see the module docstring
        hidden = projector["model.multi_modal_projector.linear_1.weight"].shape[0]
        projector["model.multi_modal_projector.linear_2.weight"] = torch.eye(hidden)
        projector["model.multi_modal_projector.linear_2.bias"] = torch.zeros(hidden)
    return language, projector


def convert_checkpoint(family: str, source: str | Path, destination: str | Path,
                       vision_tower: str | None = None) -> Path:
    """Convert an original ``family`` checkpoint folder once and save it where the adapter loads it fast."""
    if family not in LAYOUTS:
        raise ConfigError(f"unknown family {family!r}; choose one of {', '.join(sorted(LAYOUTS))}")
    model, tokenizer, image_processor = convert(Path(source), LAYOUTS[family], vision_tower)
    destination = Path(destination)
    model.save_pretrained(destination)
    if family == "llava":  # an ordinary llava-hf folder: the processor expands <image> itself
        from transformers import LlavaProcessor

        LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                       patch_size=model.config.vision_config.patch_size, vision_feature_select_strategy="default",
                       num_additional_image_tokens=1, image_token=LLAVA_LAYOUT.image_token).save_pretrained(destination)
    else:
        tokenizer.save_pretrained(destination)
        image_processor.save_pretrained(destination)
    return destination


def as_llava_hf(pretrained: str, revision: str | None = None) -> str:
    """A checkpoint the ``llava`` adapter can load: ``pretrained`` itself, or, for an original LLaVA-1.5
    checkpoint, its conversion, made once and kept under the harness cache (``converted/``)."""
    import hashlib
    import shutil

    from giqa_harness.paths import cache_root

    options = HFLoadOptions.from_args("llava", pretrained, device="cpu", revision=revision)
    folder = checkpoint_folder(options)
    if not is_original_format(raw_config(folder)):
        return options.pretrained
    key = hashlib.sha256(f"{folder.resolve()}:{options.fingerprint()}".encode()).hexdigest()[:16]
    target = cache_root() / "converted" / f"llava-{key}"
    if not (target / "config.json").is_file():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        convert_checkpoint("llava", folder, partial)
        partial.rename(target)
    return str(target)


class LlavaShapedAdapter(HFVisionAdapter):
    """A family converted into ``LlavaForConditionalGeneration``: its prompt wraps the image as
    ``<im_start>`` + N ``<im_patch>`` + ``<im_end>``; the answer is cut at the family's stop strings.

    ``pretrained`` is an original checkpoint (converted at load time) or the output of
    `convert_checkpoint`. ``vision_tower`` overrides the CLIP tower of an original checkpoint.
    """

    layout: ClassVar[LegacyLayout]
    family_stops: ClassVar[tuple[str, ...]] = ()

    image_processor: Any
    image_tokens: int

    def load(self, box_format: str | None, frame: str | None, vision_tower: str | None = None) -> None:
        import torch
        from transformers import AutoTokenizer, LlavaForConditionalGeneration

        folder = checkpoint_folder(self.options)
        config = raw_config(folder)
        if is_original_format(config):
            if self.options.device_map:
                raise ConfigError(f"device_map needs a converted checkpoint: run python -m "
                                  f"giqa_harness.model_adapters.llava_shaped {self.layout.family} SRC DST first")
            dtype = None if self.options.dtype == "auto" else getattr(torch, self.options.dtype)
            model, tokenizer, self.image_processor = convert(folder, self.layout, vision_tower, dtype)
            if self.options.attn_implementation:
                model.set_attn_implementation(self.options.attn_implementation)
            model.to(self.options.device)
        elif config.get("giqa_converted_from") == self.layout.family:
            model = load_model(LlavaForConditionalGeneration, self.options)
            tokenizer = AutoTokenizer.from_pretrained(self.options.pretrained, **self.options.processor_kwargs())
            self.image_processor = clip_image_processor(self.options.pretrained)
        else:
            raise ModelLoadError(f"{self.options.pretrained} is neither an original {self.layout.family} checkpoint "
                                 f"(a Llama config with mm_* keys) nor one converted from it by convert_checkpoint "
                                 f"(its config has model_type {config.get('model_type')!r})")
        tokenizer.padding_side = "left"
        self.model, self.processor = model, tokenizer
        self.image_tokens = int(model.config.image_seq_length)
        self.box_format = resolve_box_format(self.default_box_format, self.default_frame(), box_format, frame)

    @abstractmethod
    def default_frame(self) -> Any:
        """The frame the family reads boxes in (its padding colour)."""

    def image_placeholder(self) -> str:
        return IM_START + IMAGE_PATCH * self.image_tokens + IM_END

    @abstractmethod
    def prompt(self, question: str) -> str:
        """The family's whole prompt for one question, image placeholder expanded."""

    def prompt_markers(self) -> dict[int, str]:
        return {int(self.processor.convert_tokens_to_ids(IMAGE_PATCH)): IMAGE_PATCH}

    def encode(self, requests: Sequence[Request]) -> dict[str, Any]:
        batch = self.processor([self.prompt(r.question) for r in requests], return_tensors="pt", padding=True)
        images = [model_input_image(r.image, self.image_frame, square=True) for r in requests]
        batch["pixel_values"] = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        return dict(batch)

    def generate_batch(self, requests: Sequence[Request]) -> list[str]:
        import torch

        gen_kwargs, task_stops = generation_settings(requests[0].generation_kwargs, self.max_new_tokens)
        stops = [*self.family_stops, *task_stops]
        if self.family_stops:  # end rows early at the family's separator instead of running to max_new_tokens
            gen_kwargs.update(stop_strings=list(self.family_stops), tokenizer=self.processor)
        encoded = self.encode(requests)
        self.record_prompts(requests, self.prompt_texts(encoded))
        inputs = self.to_device(encoded)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **gen_kwargs)
        texts = self.decode(output[:, inputs["input_ids"].shape[1]:])
        return [cut_at_stops(text, stops).strip() for text in texts]


def main(argv: Sequence[str]) -> int:
    if len(argv) not in (3, 4):
        print("usage: python -m giqa_harness.model_adapters.llava_shaped FAMILY SRC DST [VISION_TOWER]",
              file=sys.stderr)
        return 2
    print(convert_checkpoint(*argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
