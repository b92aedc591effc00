"""LLaVA-1.5's pixel values computed per image ahead of generation, apart from tokenization.

The llava-hf processor does two separable things for a batch: its image processor turns each image
into ``pixel_values`` (resize, crop, rescale, normalize: for a 1-4 MP photograph, milliseconds of
CPU), and its tokenizer encodes each prompt with the ``<image>`` token repeated once per image
feature. The first depends on the image alone, so the prefetch pool's worker threads can do it while
the model generates (see giqa_harness/prefetch.py); only the tokenization stays in ``generate``.

The split is checked against the processor rather than trusted: the first two requests of the first
batch are also encoded by the whole processor call, and only when every tensor is identical are
batches encoded the split way. A processor that expands prompts differently (another transformers version, a custom
checkpoint) therefore falls back to the whole processor call for the rest of the run, with the same
inputs as if the split did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

VERIFIED_REQUESTS = 2  # requests of the first batch encoded both ways


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """An image as the processor receives it (framed, squashed), and its ``pixel_values`` row
    (shape ``(1, C, H, W)``), or None when this processor's pixels cannot be computed on their own."""

    image: Any
    pixel_values: Any = None


def image_pixels(processor: Any, image: Any) -> Any:
    """The image processor's ``pixel_values`` for one image, as the whole processor call computes them."""
    return processor.image_processor(images=[image], return_tensors="pt")["pixel_values"]


class SplitEncoder:
    """Encodes a batch from pixel values computed ahead plus a tokenizer call, once verified."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.image_token = getattr(processor, "image_token", "<image>")
        self.verified: bool | None = None  # None: not compared with the processor yet

    def encode(self, prompts: Sequence[str], prepared: Sequence[PreparedImage]) -> Any:
        if self.verified is False or any(p.pixel_values is None for p in prepared):
            return self.whole(prompts, prepared)
        split = self.split(prompts, prepared)
        if split is None:
            return self.whole(prompts, prepared)
        if self.verified is None:
            # Compared on (up to) two requests of the first batch: two prompts of different lengths
            # also check the padding, and the whole call re-processes only two images.
            head = min(VERIFIED_REQUESTS, len(prompts))
            self.verified = same_inputs(self.split(prompts[:head], prepared[:head]),
                                        self.whole(prompts[:head], prepared[:head]))
            if not self.verified:
                return self.whole(prompts, prepared)
        return split

    def whole(self, prompts: Sequence[str], prepared: Sequence[PreparedImage]) -> Any:
        return self.processor(images=[p.image for p in prepared], text=list(prompts), return_tensors="pt",
                              padding=True)

    def split(self, prompts: Sequence[str], prepared: Sequence[PreparedImage]) -> Any:
        """The processor's output rebuilt from the parts, or None when a prompt does not hold exactly
        one image token (the processor's own errors and checks then apply)."""
        import torch
        from transformers import BatchFeature

        if any(prompt.count(self.image_token) != 1 for prompt in prompts):
            return None
        pixel_values = torch.cat([p.pixel_values for p in prepared])
        expanded = [prompt.replace(self.image_token, self.expansion(pixel_values, i)) for i, prompt in enumerate(prompts)]
        text = self.processor.tokenizer(expanded, return_tensors="pt", padding=True)
        return BatchFeature({**text, "pixel_values": pixel_values})


    def expansion(self, pixel_values: Any, index: int) -> str:
        """The image tokens that stand for image ``index`` in its prompt (the processor's own rule)."""
        return self.processor.replace_image_token({"pixel_values": pixel_values}, index)


def same_inputs(a: Any, b: Any) -> bool:
    """The same keys, and equal tensors (shape, dtype and every value) under each."""
    import torch

    return set(a.keys()) == set(b.keys()) and all(
        a[k].shape == b[k].shape and a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a.keys())
