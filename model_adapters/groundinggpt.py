"""``groundinggpt``: GroundingGPT-7B (lzw-lzw/GroundingGPT, weights ``zwli/GroundingGPT``), images only,
converted into transformers' LLaVA class at load time.

    giqa-harness --model groundinggpt --model_args pretrained=zwli/GroundingGPT --tasks giqa_des

Facts from lzw-lzw/GroundingGPT (``lego`` package; see docs/adapters.md): the default conversation is
``{system}###Human: {message}###Assistant:`` with the "curious human" system sentence and ``###`` as
the separator the answer ends at; the image message is ``<im_start>`` + 576 ``<im_patch>`` +
``<im_end>`` + a newline before the question; the image is pasted on a square filled with the CLIP
mean colour and read by CLIP ViT-L/14 at 336 px (the loader always takes openai/clip-vit-large-patch14-336);
boxes are ``[x1, y1, x2, y2]`` in 0-1 on that square (its ``postprocess_output`` undoes the padding).
Its own demo samples at temperature 0.2; evaluation here is greedy.
"""

from __future__ import annotations

from typing import Any

from giqa_harness.boxes.frames import Frame, PadSquareFrame
from giqa_harness.hookspecs import hookimpl

from .llava_shaped import GROUNDINGGPT_LAYOUT, LlavaShapedAdapter

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")
SEPARATOR = "###"


def groundinggpt_prompt(question: str, image_placeholder: str) -> str:
    return f"{SYSTEM}{SEPARATOR}Human: {image_placeholder}\n{question}{SEPARATOR}Assistant:"


class GroundingGPTAdapter(LlavaShapedAdapter):
    name = "groundinggpt"
    description = "GroundingGPT-7B (lzw-lzw/GroundingGPT), images only, converted to transformers' LLaVA class"
    default_box_format = "groundinggpt"
    layout = GROUNDINGGPT_LAYOUT
    family_stops = (SEPARATOR,)

    def default_frame(self) -> Frame:
        return PadSquareFrame(color="mean")  # CLIP's image mean x 255, what its expand2square fills with

    @classmethod
    def frame_summary(cls) -> str:
        return "groundinggpt / pad_square:mean"

    def prompt(self, question: str) -> str:
        return groundinggpt_prompt(question, self.image_placeholder())


@hookimpl
def register_models(register: Any) -> None:
    register(GroundingGPTAdapter)
