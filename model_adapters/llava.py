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

Prompt: the processor's chat template when the checkpoint ships one (llava-hf checkpoints do; it
renders the family's own shape), else the family's template from models.md: ``USER: <image>\\n{q}
ASSISTANT:`` (Vicuna-based), ``[INST] <image>\\n{q} [/INST]`` (Mistral-based NeXT). ``prompt_template=``
overrides both; it must contain ``<image>`` and ``{question}``.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.boxes.frames import Frame, OriginalFrame, PadSquareFrame
from giqa_harness.errors import ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import Request

from .hf_common import (
    HFVisionAdapter, check_prompt_template, load_model, load_processor, model_input_image, read_config,
    resolve_box_format,
)

VICUNA_TEMPLATE = "USER: <image>\n{question} ASSISTANT:"
MISTRAL_TEMPLATE = "[INST] <image>\n{question} [/INST]"

# model_type of the config -> (variant, model class name, default box format)
_VARIANTS = {
    "llava": ("1.5", "LlavaForConditionalGeneration", "llava15"),
    "llava_next": ("1.6", "LlavaNextForConditionalGeneration", "llava16"),
}


def family_template(text_model_type: str | None) -> str:
    """The published prompt shape for a LLaVA whose language model is ``text_model_type``."""
    return MISTRAL_TEMPLATE if text_model_type == "mistral" else VICUNA_TEMPLATE


class LlavaAdapter(HFVisionAdapter):
    name = "llava"
    aliases = ("llava_next",)
    description = "LLaVA-1.5 / LLaVA-1.6 (NeXT), transformers-native; variant read from the checkpoint config"
    default_box_format = "llava15"

    variant: str
    template: str | None  # None: the processor's chat template

    def load(self, box_format: str | None, frame: str | None, prompt_template: str | None = None) -> None:
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
        self.model = load_model(getattr(transformers, class_name), self.options)
        self.box_format = resolve_box_format(format_name, self.default_frame(), box_format, frame)
        image_token = getattr(self.processor, "image_token", "<image>")
        if prompt_template:
            self.template = check_prompt_template(str(prompt_template), image_token)
        elif getattr(self.processor, "chat_template", None):
            self.template = None
        else:
            self.template = family_template(getattr(config.text_config, "model_type", None))

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

    def prepare_image(self, image: Any) -> Any:
        # 1.5's CLIP tower takes a square; NeXT tiles any aspect ratio itself.
        return model_input_image(image, self.image_frame, square=self.variant == "1.5")

    def encode(self, requests: Sequence[Request]) -> dict[str, Any]:
        images = self.prepared_images(requests)
        prompts = [self.prompt(r.question) for r in requests]
        return self.processor(images=images, text=prompts, return_tensors="pt", padding=True)


@hookimpl
def register_models(register: Any) -> None:
    register(LlavaAdapter)
