"""Fake ``mplug_owl2.model``: a decoder whose forward needs per-position modality indicators."""

from __future__ import annotations

import torch

from fake_multimodal import FakeMultimodalLM

LOADS: list[dict] = []


class ModalityDecoder(torch.nn.Module):
    """Like Owl2's modality-adaptive Llama: positions marked 1 (image) are treated differently."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.visual_shift = torch.nn.Parameter(torch.full((inner.config.hidden_size,), 0.5))
        self.modalities: list[torch.Tensor] = []

    @property
    def embed_tokens(self) -> torch.nn.Module:
        return self.inner.embed_tokens

    def forward(self, inputs_embeds, modality_indicators, attention_mask, position_ids, past_key_values,
                use_cache=True, return_dict=True):
        assert modality_indicators.shape == inputs_embeds.shape[:2]
        self.modalities.append(modality_indicators.clone())
        shifted = inputs_embeds + modality_indicators[..., None].to(inputs_embeds.dtype) * self.visual_shift
        return self.inner(inputs_embeds=shifted, attention_mask=attention_mask, position_ids=position_ids,
                          past_key_values=past_key_values, use_cache=use_cache, return_dict=return_dict)


class MPLUGOwl2LlamaForCausalLM(FakeMultimodalLM):
    def __init__(self, folder: str) -> None:
        super().__init__(folder)
        self.decoder = ModalityDecoder(self.model)

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        LOADS.append({"path": path, **kwargs})
        return cls(path)

    def get_model(self) -> torch.nn.Module:
        return self.decoder

    def prepare_inputs_labels_for_multimodal(self, input_ids, attention_mask, past_key_values, labels, images):
        embeds, modality = self.splice(input_ids, images)
        self.calls.append({"input_ids": input_ids[0].tolist(), "images": tuple(images.shape)})
        return None, modality[None], attention_mask, past_key_values, embeds[None], labels
