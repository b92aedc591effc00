"""``kosmos2``: Kosmos-2 through transformers' ``Kosmos2ForConditionalGeneration`` and its processor.

    giqa-harness --model kosmos2 --model_args pretrained=microsoft/kosmos-2-patch14-224 --tasks giqa_des

Kosmos-2 has no chat template. Prompts start with ``<grounding>`` so that the model links phrases to
boxes; the default is ``<grounding> Question: {question} Answer:`` (``prompt_template=`` overrides it).

Referring boxes go in the way the model was trained to read them: each referred phrase becomes
``<phrase>text</phrase>`` in the prompt and its boxes go to the processor's ``bboxes=`` argument,
which inserts the patch-index tokens itself (with ``image_embeds_position_mask`` marking the image).

Answers are decoded with the tag and patch-index tokens kept (they are ordinary added tokens, not
special ones): ``<phrase> a car</phrase><object><patch_index_0044><patch_index_0863></object>`` is exactly
what the ``kosmos2`` box format parses. The processor's ``post_process_generation`` would strip them.
Frame: original (the processor squashes the whole image to 224 x 224, no crop). Decoding: greedy with
no-repeat n-gram size 3, as its own grounding evaluation.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.boxes.frames import OriginalFrame
from giqa_harness.boxes.geometry import Box
from giqa_harness.errors import ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import Request

from .hf_common import (
    HFVisionAdapter, check_prompt_template, load_model, load_processor, model_input_image, read_config,
    resolve_box_format,
)

DEFAULT_TEMPLATE = "<grounding> Question: {question} Answer:"
IMAGE_EMBEDDINGS = "<image embeddings>"  # how a full prompt shows the 64 positions the image fills
_EPS = 1e-6


def processor_box(coords: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Corners the processor accepts: it rejects zero-width or zero-height boxes (grid references can be
    that thin), so a degenerate side is widened by a millionth, which lands in the cell it touches."""
    x1, y1, x2, y2 = (min(1.0, max(0.0, float(v))) for v in coords)
    if x2 <= x1:
        x1, x2 = (x1, x1 + _EPS) if x1 + _EPS <= 1.0 else (x2 - _EPS, x2)
    if y2 <= y1:
        y1, y2 = (y1, y1 + _EPS) if y1 + _EPS <= 1.0 else (y2 - _EPS, y2)
    return (x1, y1, x2, y2)


def count_positions_past_padding(text_model: Any) -> None:
    """Make cached decoding give a left-padded row the positions it would have alone.

    Kosmos-2 numbers positions fairseq-style from the non-pad tokens of the prompt, but each decoding
    step numbers the new token ``cache length + 1``, which counts the left padding: a padded row's
    answer then depends on the batch it is in (transformers 5.24). Its ``prepare_inputs_for_generation``
    drops any ``position_ids``; this wraps it (on this instance only) to pass positions counted from the
    attention mask, which equal the model's own numbering for an unpadded row.
    """
    original = text_model.prepare_inputs_for_generation
    padding_idx = text_model.model.embed_positions.padding_idx

    def prepare(*args: Any, **kwargs: Any) -> Any:
        inputs = original(*args, **kwargs)
        mask, current = inputs.get("attention_mask"), inputs.get("input_ids")
        if mask is not None and current is not None:
            mask = mask.long()
            inputs["position_ids"] = (mask.cumsum(dim=1) * mask)[:, -current.shape[1]:] + padding_idx
        return inputs

    text_model.prepare_inputs_for_generation = prepare


class Kosmos2Adapter(HFVisionAdapter):
    name = "kosmos2"
    description = "Kosmos-2, transformers-native; referring boxes through the processor's bboxes="
    default_box_format = "kosmos2"
    # Its grounding evaluation decodes with one beam and blocks repeated 3-grams (``--beam 1
    # --no-repeat-ngram-size 3`` in microsoft/unilm kosmos-2/evaluation/grd-zeroshot-*.sh); a task's
    # own value wins.
    family_generation = {"no_repeat_ngram_size": 3}

    def load(self, box_format: str | None, frame: str | None, prompt_template: str | None = None) -> None:
        from transformers import Kosmos2ForConditionalGeneration

        config = read_config(self.options)
        if config.model_type != "kosmos-2":
            raise ModelLoadError(f"{self.options.pretrained} is a {config.model_type!r} checkpoint, not Kosmos-2")
        self.processor = load_processor(self.options)
        self.model = load_model(Kosmos2ForConditionalGeneration, self.options)
        count_positions_past_padding(self.model.text_model)
        self.box_format = resolve_box_format("kosmos2", OriginalFrame(), box_format, frame)
        self.template = check_prompt_template(str(prompt_template)) if prompt_template else DEFAULT_TEMPLATE

    @classmethod
    def frame_summary(cls) -> str:
        return "kosmos2 / original"

    def referring_text(self, request: Request) -> tuple[str, list[Any] | None]:
        """The question with each referred grounding as ``<phrase>text</phrase>``, and its boxes (in the
        declared frame) for ``bboxes=``. Spans come from parsing the question in the declared format,
        boxes from ``request.referring`` when it matches one to one (exact, not re-quantized)."""
        parsed = self.box_format.parse(request.question, request.image_size)
        spans = [g for g in parsed.groundings if g.span is not None]
        if not spans:
            return request.question, None
        sources = request.referring if len(request.referring) == len(spans) else spans
        pieces, boxes, cursor = [], [], 0
        for grounding, source in zip(spans, sources):
            start, end = grounding.span  # type: ignore[misc]
            pieces.append(request.question[cursor:start])
            # A leading space as in Kosmos-2's own prompts; the processor pairs boxes with non-empty
            # <phrase> pairs only, so an empty phrase gets a word.
            pieces.append(f"<phrase> {grounding.phrase.strip() or 'the region'}</phrase>")
            cursor = end
            boxes.append([processor_box(self.box_format.frame.from_original(b, request.image_size))
                          for b in source.boxes if isinstance(b, Box)] or None)
        pieces.append(request.question[cursor:])
        return "".join(pieces), boxes

    def prompt_texts(self, inputs: Any) -> list[str]:
        """The positions ``image_embeds_position_mask`` marks hold placeholder ids that the image
        embeddings replace; they are shown once, as `IMAGE_EMBEDDINGS`."""
        from .prompt_text import decode_batch_prompts

        ids = inputs["input_ids"].clone()
        ids[inputs["image_embeds_position_mask"].bool()] = -1
        return decode_batch_prompts(self.processor.tokenizer, {**inputs, "input_ids": ids}, {-1: IMAGE_EMBEDDINGS})

    def encode(self, requests: Sequence[Request]) -> dict[str, Any]:
        texts, bboxes = [], []
        for req in requests:
            question, boxes = self.referring_text(req)
            texts.append(self.template.replace("{question}", question))
            bboxes.append(boxes)
        images = [model_input_image(r.image, self.image_frame, square=True) for r in requests]
        return self.processor(images=images, text=texts, bboxes=bboxes, return_tensors="pt", padding=True)


@hookimpl
def register_models(register: Any) -> None:
    register(Kosmos2Adapter)
