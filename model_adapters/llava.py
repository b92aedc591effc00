"""``llava``: LLaVA-1.5 and LLaVA-1.6/NeXT through transformers' native classes (llava-hf checkpoints).

    giqa-harness --model llava --model_args pretrained=llava-hf/llava-1.5-7b-hf --tasks giqa_vqa

The variant comes from the checkpoint's config: ``LlavaForConditionalGeneration`` (1.5) or
``LlavaNextForConditionalGeneration`` (1.6/NeXT, which also needs ``image_sizes``).

Frames (shared/reference/box-formats.md): LLaVA-1.5 reads boxes on the square padded with the mean
colour, so the adapter really pads each image (with this checkpoint's image mean) before the processor;
the padded image is square, so the llava-hf processors' default shortest-edge resize and centre crop
crop nothing and the model sees the whole image. NeXT's anyres tiling never pads to a square: its
default frame is the original image (``frame=pad_square`` pads it first, as an option). With
``frame=original`` on 1.5 the image is squashed to a square (again, nothing is cropped); with
``frame=center_crop`` it is cropped exactly as the processor would.

Prompt (``prompt=``): ``conversation`` (the default) is the authors' own conversation, which they
train and evaluate with (haotian-liu/LLaVA ``llava/conversation.py``; the v1.5 eval scripts pass
``--conv-mode vicuna_v1``): for a Vicuna (Llama) language model the ``vicuna_v1`` system sentence, then
``USER: <image>\\n{q} ASSISTANT:``; for a Mistral one ``[INST] <image>\\n{q} [/INST]`` (no system). A
ChatML checkpoint (the 34B) keeps its chat template, which renders its own conversation.
``chat_template`` renders the processor's chat template instead (the llava-hf templates drop the
system sentence; a checkpoint without one gets the family's turn alone). ``prompt_template=`` overrides both; it must contain ``<image>`` and ``{question}``.

``load_in_8bit=true`` loads the weights in 8 bits through bitsandbytes (CUDA only), as Q-Instruct's
LLaVA evaluation does; the default stays the checkpoint's precision.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass
from typing import Any, Sequence

from giqa_harness.boxes.frames import Frame, OriginalFrame, PadSquareFrame
from giqa_harness.errors import ConfigError, MissingDependencyError, ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import Request, bool_arg

from .hf_common import (
    HFVisionAdapter, check_prompt_template, load_model, load_processor, model_input_image, read_config,
    resolve_box_format,
)
from .llava_pixels import PreparedImage, SplitEncoder, image_pixels

VICUNA_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the user's questions.")
VICUNA_TEMPLATE = "USER: <image>\n{question} ASSISTANT:"
MISTRAL_TEMPLATE = "[INST] <image>\n{question} [/INST]"
PROMPT_MODES = ("conversation", "chat_template")

# model_type of the config -> (variant, model class name, default box format)
_VARIANTS = {
    "llava": ("1.5", "LlavaForConditionalGeneration", "llava15"),
    "llava_next": ("1.6", "LlavaNextForConditionalGeneration", "llava16"),
}


def family_template(text_model_type: str | None) -> str:
    """The published prompt shape of one turn for a LLaVA whose language model is ``text_model_type``."""
    return MISTRAL_TEMPLATE if text_model_type == "mistral" else VICUNA_TEMPLATE


@dataclass(frozen=True)
class LlavaPrompt:
    """How a LLaVA checkpoint is prompted: ``system`` before the first turn (joined by a space, as the
    conversation's separator), then ``turn`` per turn; ``turn`` None means the processor's chat template."""

    system: str = ""
    turn: str | None = None

    @property
    def first_turn(self) -> str | None:
        """The template of a single-question prompt (system included), or None for the chat template."""
        if self.turn is None:
            return None
        return f"{self.system} {self.turn}" if self.system else self.turn


def resolve_prompt(mode: str | None, config: Any, processor: Any) -> LlavaPrompt:
    """The prompt of ``prompt=mode`` for this checkpoint (see the module docstring)."""
    mode = str(mode) if mode else "conversation"
    if mode not in PROMPT_MODES:
        raise ConfigError(f"model 'llava': prompt={mode!r} is not one of {', '.join(PROMPT_MODES)}")
    chat_template = getattr(processor, "chat_template", None)
    text_model_type = getattr(getattr(config, "text_config", None), "model_type", None)
    if mode == "chat_template":  # without one, the family's turn alone (what the harness did before)
        return LlavaPrompt() if chat_template else LlavaPrompt(turn=family_template(text_model_type))
    if chat_template and "<|im_start|>" in chat_template:  # ChatML (LLaVA-NeXT-34B): its template is its conversation
        return LlavaPrompt()
    if text_model_type == "mistral":
        return LlavaPrompt(turn=MISTRAL_TEMPLATE)
    return LlavaPrompt(system=VICUNA_SYSTEM, turn=VICUNA_TEMPLATE)


def eight_bit_kwargs(options: Any) -> dict[str, Any]:
    """``from_pretrained`` keywords of an 8-bit load; clear errors off a GPU or without bitsandbytes."""
    if not str(options.device).startswith("cuda"):
        raise ConfigError(f"model argument load_in_8bit needs a CUDA GPU (bitsandbytes' 8-bit kernels); "
                          f"this run's device is {options.device}")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependencyError("bitsandbytes", "pip install bitsandbytes", "model argument load_in_8bit")
    from transformers import BitsAndBytesConfig

    return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True)}


class LlavaAdapter(HFVisionAdapter):
    name = "llava"
    aliases = ("llava_next",)
    description = "LLaVA-1.5 / LLaVA-1.6 (NeXT), transformers-native; variant read from the checkpoint config"
    default_box_format = "llava15"

    variant: str
    template: str | None  # None: the processor's chat template

    def load(self, box_format: str | None, frame: str | None, prompt_template: str | None = None,
             prompt: str | None = None, load_in_8bit: bool = False) -> None:
        import transformers

        config = read_config(self.options)
        if config.model_type not in _VARIANTS:
            raise ModelLoadError(
                f"{self.options.pretrained} is a {config.model_type!r} checkpoint, not a transformers LLaVA "
                "(llava or llava_next). Convert an original-format checkpoint (liuhaotian/llava-v1.5-*) once with "
                "`python -m giqa_harness.model_adapters.llava_shaped llava SRC DST`, or use the llava-hf/* ids."
            )
        self.variant, class_name, format_name = _VARIANTS[config.model_type]
        self.processor = load_processor(self.options)
        image_token = getattr(self.processor, "image_token", "<image>")
        if prompt_template:
            self.template = check_prompt_template(str(prompt_template), image_token)
        else:
            self.template = resolve_prompt(prompt, config, self.processor).first_turn
        self.model_args["prompt"] = "template" if prompt_template else (prompt or "conversation")
        extra: dict[str, Any] = {}
        if bool_arg(load_in_8bit, "load_in_8bit"):
            extra = eight_bit_kwargs(self.options)
            # bitsandbytes places the weights itself; a quantized model cannot be moved afterwards
            self.options = dataclasses.replace(self.options, device_map=self.options.device)
        self.model = load_model(getattr(transformers, class_name), self.options, **extra)
        self.box_format = resolve_box_format(format_name, self.default_frame(), box_format, frame)
        self.split_encoder = SplitEncoder(self.processor)

    def default_frame(self) -> Frame:
        return PadSquareFrame(color="mean") if self.variant == "1.5" else OriginalFrame()

    @classmethod
    def frame_summary(cls) -> str:
        return "llava15 / pad_square:mean (1.5); llava16 / original (NeXT)"

    def prompt(self, question: str) -> str:
        if self.template is not None:
            return self.template.replace("{question}", question)
        conversation = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)

    def prepare_image(self, image: Any) -> PreparedImage:
        # 1.5's CLIP tower takes a square; NeXT tiles any aspect ratio itself (its pixels also depend
        # on the batch's tiling, so they stay inside the processor call).
        framed = model_input_image(image, self.image_frame, square=self.variant == "1.5")
        return PreparedImage(framed, image_pixels(self.processor, framed) if self.variant == "1.5" else None)

    def encode(self, requests: Sequence[Request]) -> dict[str, Any]:
        prompts = [self.prompt(r.question) for r in requests]
        return self.split_encoder.encode(prompts, self.prepared_images(requests))


@hookimpl
def register_models(register: Any) -> None:
    register(LlavaAdapter)
