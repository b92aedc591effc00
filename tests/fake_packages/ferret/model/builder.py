"""Fake ``ferret.model.builder``: a Ferret-like model whose ``<region_fea>`` embeddings come from masks."""

from __future__ import annotations

import torch
from transformers import AutoTokenizer

from fake_multimodal import IMAGE_TOKEN_INDEX, FakeMultimodalLM

LOADS: list[dict] = []
REGION_POINTS = 2


class FakeFerret(FakeMultimodalLM):
    def __init__(self, folder: str, region_token_id: int) -> None:
        super().__init__(folder)
        self.config.mm_use_im_start_end = False
        self.config.im_region_fea_token = region_token_id
        self.region = torch.nn.Linear(2, self.config.hidden_size)
        generator = torch.Generator().manual_seed(2)
        with torch.no_grad():  # strong enough that which points were drawn shows in the answer
            self.region.weight.copy_(torch.randn(self.region.weight.shape, generator=generator) * 20)
            self.region.bias.copy_(torch.randn(self.region.bias.shape, generator=generator))
        self.vision_tower = torch.nn.Identity()

    def get_vision_tower(self) -> torch.nn.Module:
        return self.vision_tower

    def prepare_inputs_labels_for_multimodal(self, input_ids, attention_mask, past_key_values, labels, images,
                                             region_masks=None):
        embeds, _ = self.splice(input_ids, images)
        ids = input_ids[0]
        at = int((ids == IMAGE_TOKEN_INDEX).nonzero()[0])
        region_ids = (ids == self.config.im_region_fea_token).nonzero().flatten()
        region_at = [int(i) + len(embeds) - len(ids) for i in region_ids if i > at]
        masks = [] if region_masks is None else region_masks[0]
        assert len(masks) == len(region_at), "one region mask per <region_fea> token, as Ferret indexes them"
        self.calls.append({"input_ids": ids.tolist(), "images": tuple(images.shape),
                           "masks": [m.detach().clone() for m in masks]})
        for position, mask in zip(region_at, masks):
            points = mask.nonzero().float() / torch.tensor(mask.shape, dtype=torch.float)
            chosen = points[torch.randperm(len(points))[:REGION_POINTS]]  # random, like Ferret's sampler
            embeds = embeds.clone()
            embeds[position] = self.region(chosen.mean(dim=0).to(self.dtype))
        return None, attention_mask, past_key_values, embeds[None], labels


def load_pretrained_model(model_path, model_base, model_name, load_8bit=False, load_4bit=False, device_map="auto"):
    LOADS.append({"model_path": model_path, "model_base": model_base, "model_name": model_name,
                  "device_map": device_map})
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = FakeFerret(model_path, tokenizer.convert_tokens_to_ids("<region_fea>"))
    from transformers import CLIPImageProcessorPil

    return tokenizer, model, CLIPImageProcessorPil.from_pretrained(model_path), 2048
