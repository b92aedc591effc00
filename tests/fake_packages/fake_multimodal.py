"""What the fake family packages share: a real tiny Llama decoder and a deterministic stand-in image encoder.

The fakes stand in for the families' own model objects (their code cannot be installed here). They are
honest about the contract the adapters rely on: one unpadded prompt per call, the image placeholder
token -200 exactly once, pixels of the declared input size; they record what they receive so that tests
can check it, and they splice image features into the text embeddings the way LLaVA-style code does.
"""

from __future__ import annotations

import torch
from transformers import LlamaForCausalLM

IMAGE_TOKEN_INDEX = -200
IMAGE_FEATURES = 4  # one feature per image quadrant


class FakeMultimodalLM(torch.nn.Module):
    def __init__(self, folder: str) -> None:
        super().__init__()
        lm = LlamaForCausalLM.from_pretrained(folder)
        self.model, self.lm_head, self.config = lm.model, lm.lm_head, lm.config
        generator = torch.Generator().manual_seed(1)
        self.vision = torch.nn.Linear(3, self.config.hidden_size)
        with torch.no_grad():  # seeded: two loads of one checkpoint are the same model
            self.vision.weight.copy_(torch.randn(self.vision.weight.shape, generator=generator))
            self.vision.bias.copy_(torch.randn(self.vision.bias.shape, generator=generator))
        self.calls: list[dict] = []

    @property
    def device(self) -> torch.device:
        return self.lm_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.lm_head.weight.dtype

    def get_model(self) -> torch.nn.Module:
        return self.model

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        """``[1, 3, S, S]`` -> ``[IMAGE_FEATURES, hidden]``: each quadrant's mean colour, projected."""
        half = images.shape[-1] // 2
        quadrants = [images[0, :, r:r + half, c:c + half].mean(dim=(1, 2)) for r in (0, half) for c in (0, half)]
        return self.vision(torch.stack(quadrants).to(self.dtype))

    def splice(self, input_ids: torch.Tensor, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings of one prompt with the image placeholder replaced by the image features, and a
        0/1 indicator of which positions are image features."""
        assert input_ids.shape[0] == 1, "the adapter must embed one unpadded prompt at a time"
        ids = input_ids[0]
        where = (ids == IMAGE_TOKEN_INDEX).nonzero().flatten().tolist()
        assert len(where) == 1, f"expected one image placeholder, got {len(where)}"
        at = where[0]
        text = self.model.embed_tokens(ids.clamp(min=0))
        features = self.image_features(images)
        embeds = torch.cat([text[:at], features, text[at + 1:]])
        modality = torch.cat([torch.zeros(at), torch.ones(len(features)), torch.zeros(len(ids) - at - 1)]).long()
        return embeds, modality


def tokenizer_image_token(prompt: str, tokenizer, image_token_index: int = IMAGE_TOKEN_INDEX,
                          return_tensors: str | None = None, placeholder: str = "<image>"):
    """BOS, then the text around the placeholder with the placeholder's id in between."""
    ids = [tokenizer.bos_token_id]
    for i, chunk in enumerate(prompt.split(placeholder)):
        if i:
            ids.append(image_token_index)
        ids.extend(tokenizer(chunk, add_special_tokens=False).input_ids)
    return torch.tensor(ids) if return_tensors == "pt" else ids
