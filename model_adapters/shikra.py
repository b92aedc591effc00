"""``shikra``: Shikra-7B (shikras/shikra), converted into transformers' LLaVA class at load time.

    giqa-harness --model shikra --model_args pretrained=/models/shikra-7b --tasks giqa_vqa

``pretrained`` is the Shikra checkpoint (``shikras/shikra-7b-delta-v1`` applied to LLaMA-7B with the
repository's ``apply_delta``) or a folder written by ``python -m
giqa_harness.model_adapters.llava_shaped shikra SRC DST``. Facts from shikras/shikra (see
docs/adapters.md): the Vicuna v1.1 conversation (system sentence, ``USER:``/``ASSISTANT:``, answers end
with ``</s>``); the image placeholder ``<image>`` is put before the question and becomes
``<im_start>`` + 256 ``<im_patch>`` + ``<im_end>``; the image is pasted on a **white** square
(``Expand2square``) and CLIP ViT-L/14 at 224 px reads it; boxes are ``[x1,y1,x2,y2]`` with three
decimals on that square (``PlainBoxFormatter``); the demo decodes greedily.
"""

from __future__ import annotations

from typing import Any

from giqa_harness.boxes.frames import Frame, PadSquareFrame
from giqa_harness.hookspecs import hookimpl

from .llava_shaped import SHIKRA_LAYOUT, LlavaShapedAdapter

SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the user's questions.")
IMAGE = "<image>"


def shikra_prompt(question: str, image_placeholder: str) -> str:
    """Shikra's prompt: the image goes first unless the question places ``<image>`` itself."""
    user = question if IMAGE in question else f"{IMAGE} {question}"
    return f"{SYSTEM} USER: {user.replace(IMAGE, image_placeholder)} ASSISTANT:"


class ShikraAdapter(LlavaShapedAdapter):
    name = "shikra"
    description = "Shikra-7B (shikras/shikra), converted to transformers' LLaVA class; white-padded square at 224"
    default_box_format = "shikra"
    layout = SHIKRA_LAYOUT

    def default_frame(self) -> Frame:
        return PadSquareFrame(color="white")

    @classmethod
    def frame_summary(cls) -> str:
        return "shikra / pad_square:white"

    def prompt(self, question: str) -> str:
        return shikra_prompt(question, self.image_placeholder())


@hookimpl
def register_models(register: Any) -> None:
    register(ShikraAdapter)
