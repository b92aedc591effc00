from __future__ import annotations

import torch

import fake_multimodal

CALLS: list[tuple[int, int]] = []


def process_images(images, image_processor, model_cfg=None):
    """Like mPLUG-Owl2's default ('resize'): each image squashed to a square of its longer side first."""
    out = []
    for image in images:
        CALLS.append(image.size)
        side = max(image.size)
        out.append(image_processor(images=[image.resize((side, side))], return_tensors="pt")["pixel_values"][0])
    return torch.stack(out)


def tokenizer_image_token(prompt, tokenizer, image_token_index=fake_multimodal.IMAGE_TOKEN_INDEX, return_tensors=None):
    return fake_multimodal.tokenizer_image_token(prompt, tokenizer, image_token_index, return_tensors, "<|image|>")
