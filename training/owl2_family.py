"""mPLUG-Owl2 through its own ``mplug_owl2`` package (not on the package index; imported lazily).

Mirrors the owl2 adapter: prompt ``USER: <|image|>{question} ASSISTANT:`` (the package's
``mplug_owl2`` conversation; later turns without the image marker, every answer ending with ``</s>``).
Its evaluation scripts add a space after ``ASSISTANT:``, which the answer's own leading space replaces
here, so the checkpoint records this template and the ``giqa`` adapter prompts with it exactly;
the image squashed to a square in the adapter's frame and run through the package's
``process_images`` with the checkpoint's CLIP image processor (448 px), the text tokenized by the
package's ``tokenizer_image_token`` (the image becomes the placeholder id -200, which the model
replaces with its visual-abstractor features and whose labels it ignores).

Its tokenizer is a slow sentencepiece one (no character offsets), so answer tokens are found by
tokenizing the text up to each answer's start and end: the prefix's tokens must be a prefix of the
whole text's tokens (true at these boundaries, which follow ``ASSISTANT:`` and ``</s>``); a tokenizer
for which that fails is reported rather than silently mislabelled.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from giqa_harness.boxes.formats import BoxFormat
from giqa_harness.boxes.frames import Frame, OriginalFrame, parse_frame
from giqa_harness.errors import DatasetError, ModelLoadError

from .data import IGNORE_INDEX, Conversation, PromptRenderer, box_text_format, load_image, rewrite_boxes, text_and_spans
from .families import LoadedBase
from .recipe import Recipe


@dataclass
class Owl2Encoder:
    tokenize: Callable[[str], list[int]]  # tokenizer_image_token bound to the tokenizer and placeholder id
    image_token_index: int
    renderer: PromptRenderer
    pixels: Callable[[Any], Any]  # PIL image -> [3, S, S] tensor, as the adapter prepares it
    box_format: BoxFormat | None = None
    max_length: int = 2048

    def encode(self, conversation: Conversation) -> dict[str, Any]:
        import torch

        image = load_image(conversation.image)
        conversation = rewrite_boxes(conversation, self.box_format, image.size)
        text, spans = text_and_spans(self.renderer, conversation.turns)
        ids = self.tokenize(text)
        labels = [IGNORE_INDEX] * len(ids)
        for start, end in spans:
            a, b = self._boundary(ids, text[:start], conversation.id), self._boundary(ids, text[:end], conversation.id)
            labels[a:b] = ids[a:b]
        if len(ids) > self.max_length:
            if ids.index(self.image_token_index) >= self.max_length:
                raise DatasetError(f"sample {conversation.id!r}: its image lies beyond data.max_length "
                                   f"({self.max_length}); raise data.max_length")
            ids, labels = ids[: self.max_length], labels[: self.max_length]
        return {"input_ids": torch.tensor(ids, dtype=torch.long), "labels": torch.tensor(labels, dtype=torch.long),
                "images": self.pixels(image)}

    def _boundary(self, ids: list[int], prefix: str, sample: str) -> int:
        head = self.tokenize(prefix)
        if ids[: len(head)] != head:
            raise ModelLoadError(f"sample {sample!r}: the tokenizer splits the text differently at an answer "
                                 "boundary than in the whole conversation; answers cannot be masked exactly")
        return len(head)


def owl2_pixels(image: Any, frame: Frame, image_processor: Any, process_images: Callable[..., Any]) -> Any:
    from giqa_harness.model_adapters.hf_common import model_input_image

    return process_images([model_input_image(image, frame, square=True)], image_processor)[0]


def owl2_answer_loss(model: Any, batch: dict[str, Any]) -> Any:
    """The package's own loss is a mean over the target tokens; times their count it is the sum (the
    image placeholder's expansion adds only ignored labels, so the count is unchanged)."""
    targets = (batch["labels"][:, 1:] != IGNORE_INDEX).sum()
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"],
                images=batch["images"], return_dict=True)
    if int(targets) == 0:  # the mean is NaN then; contribute nothing, keep the graph
        return out.logits.sum() * 0.0
    return out.loss * targets


def load_owl2(recipe: Recipe, dtype: str) -> LoadedBase:
    from giqa_harness.model_adapters.hf_common import HFLoadOptions
    from giqa_harness.model_adapters.llava_shaped import clip_image_processor
    from giqa_harness.model_adapters.owl2 import CONVERSATION, IMAGE, INSTALL
    from giqa_harness.model_adapters.package_common import load_package_model, require_package

    require_package("mplug_owl2", INSTALL, "training an mPLUG-Owl2 model (recipe model.family: owl2)")
    from mplug_owl2.constants import IMAGE_TOKEN_INDEX
    from mplug_owl2.mm_utils import process_images, tokenizer_image_token
    from mplug_owl2.model import MPLUGOwl2LlamaForCausalLM
    from transformers import AutoTokenizer

    m = recipe.model
    options = HFLoadOptions.from_args("owl2", m.base, device="cpu", dtype=dtype,
                                      attn_implementation=m.attn_implementation, trust_remote_code=m.trust_remote_code)
    model = load_package_model(MPLUGOwl2LlamaForCausalLM, options)
    try:
        tokenizer = AutoTokenizer.from_pretrained(options.pretrained, use_fast=False, **options.processor_kwargs())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the tokenizer of {m.base}: {exc}") from None
    image_processor = clip_image_processor(options.pretrained)
    frame = parse_frame(m.image_frame) if m.image_frame else OriginalFrame()  # the owl2 adapter's default
    if m.freeze_vision_tower:
        # mPLUG-Owl2's own fine-tuning freezes the vision model and trains the abstractor and the LLM.
        model.get_model().vision_model.requires_grad_(False)
    encoder = Owl2Encoder(
        tokenize=functools.partial(_tokenize, tokenizer_image_token, tokenizer, IMAGE_TOKEN_INDEX),
        image_token_index=IMAGE_TOKEN_INDEX,
        renderer=PromptRenderer(tokenizer.eos_token, IMAGE, CONVERSATION),
        pixels=functools.partial(owl2_pixels, frame=frame, image_processor=image_processor,
                                 process_images=process_images),
        box_format=box_text_format(recipe.data.box_text),
        max_length=recipe.data.max_length,
    )
    # The package pads with the unknown token when the tokenizer has no pad token (its train.py).
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.unk_token_id
    return LoadedBase(model=model, preprocessors=(tokenizer, image_processor), encoder=encoder, loss=owl2_answer_loss,
                      family="owl2", image_frame=frame.describe(), prompt_template=CONVERSATION,
                      pad_token_id=int(pad))


def _tokenize(tokenizer_image_token: Callable[..., Any], tokenizer: Any, image_token_index: int,
              text: str) -> list[int]:
    return list(tokenizer_image_token(text, tokenizer, image_token_index))
