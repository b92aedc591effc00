"""Base model families: load a base for training, build the encoder that feeds it, save the result.

Each family mirrors its evaluation adapter so that fine-tuning sees exactly what evaluation shows:
the same image preparation (`model_input_image` of model_adapters.hf_common, in the same frame) and
the same prompt (model_adapters.llava's `resolve_prompt`: by default the authors' conversation, system
sentence included; the processor's chat template with ``model.prompt: chat_template``).

- ``llava``: LLaVA-1.5 (``LlavaForConditionalGeneration``) and LLaVA-1.6/NeXT
  (``LlavaNextForConditionalGeneration``), told apart by the checkpoint's ``model_type``.
- ``owl2``: mPLUG-Owl2 through its own ``mplug_owl2`` package (see `owl2_family`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from giqa_harness.boxes.frames import OriginalFrame, PadSquareFrame, parse_frame
from giqa_harness.errors import ModelLoadError

from .data import IGNORE_INDEX, Encoder, ExampleEncoder, PromptRenderer, box_text_format
from .recipe import Recipe

@dataclass
class LoadedBase:
    """A base model ready to train, the encoder of its inputs, its loss, and the facts the ``giqa``
    adapter needs to load the result the same way.

    ``loss(model, batch)`` is the cross-entropy summed over the answer tokens (the loop normalises it
    by the global batch's token count). ``preprocessors`` (processor, tokenizer, image processor) are
    saved beside the weights."""

    model: Any
    preprocessors: Sequence[Any]
    encoder: Encoder
    loss: Callable[[Any, dict[str, Any]], Any]
    family: str
    image_frame: str
    prompt_template: str | None
    pad_token_id: int

    def save(self, folder: Path, state_dict: dict[str, Any] | None = None) -> None:
        """Weights (``state_dict`` gathered from ZeRO-3 when given) and preprocessors, loadable by
        ``from_pretrained``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, state_dict=state_dict, safe_serialization=True)
        for item in self.preprocessors:
            item.save_pretrained(folder)


def answer_token_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Summed next-token cross-entropy over the answer tokens, for models whose logits align with
    ``input_ids`` (the processor already expanded the image tokens)."""
    import torch.nn.functional as F

    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs, use_cache=False).logits
    labels = batch["labels"][:, 1:]
    return F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")


def load_base(recipe: Recipe, dtype: str) -> LoadedBase:
    """The recipe's base model in ``dtype`` (``float32`` or ``bfloat16``/``float16`` when the
    launcher trains in that precision), not yet on a device."""
    if recipe.model.family == "llava":
        return load_llava(recipe, dtype)
    from .owl2_family import load_owl2

    return load_owl2(recipe, dtype)


def load_llava(recipe: Recipe, dtype: str) -> LoadedBase:
    from transformers import AutoModelForImageTextToText

    from giqa_harness.model_adapters.hf_common import (
        HFLoadOptions, load_processor, model_input_image, read_config, require_transformers, with_checkpoint_mean,
    )
    from giqa_harness.model_adapters.llava import resolve_prompt

    require_transformers("training a LLaVA model")
    m = recipe.model
    options = HFLoadOptions.from_args("llava", m.base, device="cpu", dtype=dtype,
                                      attn_implementation=m.attn_implementation, trust_remote_code=m.trust_remote_code)
    config = read_config(options)
    if config.model_type not in ("llava", "llava_next"):
        raise ModelLoadError(f"model.base {m.base} is a {config.model_type!r} checkpoint; family 'llava' "
                             "trains transformers' llava and llava_next checkpoints (llava-hf/*)")
    processor = load_processor(options)
    try:
        model = AutoModelForImageTextToText.from_pretrained(options.pretrained, **options.from_pretrained_kwargs())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load {m.base}: {exc}") from None
    variant = config.model_type
    # The llava adapter's defaults: 1.5 pads to a square with the processor's mean colour and squashes
    # to the CLIP tower's square input; NeXT tiles the original image itself.
    chosen = parse_frame(m.image_frame) if m.image_frame else (
        PadSquareFrame(color="mean") if variant == "llava" else OriginalFrame())
    frame = with_checkpoint_mean(chosen, processor.image_processor)
    image_token = getattr(processor, "image_token", "<image>")
    prompt = resolve_prompt(m.prompt, config, processor)  # as the llava adapter prompts by default
    encoder = ExampleEncoder(
        processor=processor,
        renderer=PromptRenderer(processor.tokenizer.eos_token, image_token, prompt.turn, processor, prompt.system),
        prepare_image=functools.partial(model_input_image, frame=frame, square=variant == "llava"),
        box_format=box_text_format(recipe.data.box_text),
        max_length=recipe.data.max_length,
    )
    if m.freeze_vision_tower:
        # LLaVA's own recipe trains the projector and the language model; the CLIP tower stays frozen.
        model.model.vision_tower.requires_grad_(False)
    pad = processor.tokenizer.pad_token_id
    return LoadedBase(model=model, preprocessors=(processor,), encoder=encoder, loss=answer_token_loss, family="llava",
                      image_frame=frame.describe(), prompt_template=prompt.first_turn,
                      pad_token_id=int(pad if pad is not None else processor.tokenizer.eos_token_id))
