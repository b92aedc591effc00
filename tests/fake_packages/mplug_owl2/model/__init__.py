"""Fake ``mplug_owl2.model``: a decoder whose forward needs per-position modality indicators.

Like the package's model it also trains: ``forward(input_ids, attention_mask, labels, images)`` splices
each right-padded row's image features in place of its placeholder and returns the mean cross-entropy
over the target labels, and ``save_pretrained`` writes a folder ``from_pretrained`` loads back whole.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch
from transformers import LlamaForCausalLM

from fake_multimodal import IMAGE_TOKEN_INDEX, FakeMultimodalLM

EXTRAS = "fake_owl2_extras.pt"  # the image projection and modality shift, which the Llama files do not hold
IGNORE_INDEX = -100

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
        model = cls(path)
        extras = Path(path) / EXTRAS
        if extras.is_file():
            state = torch.load(extras)
            model.vision.load_state_dict(state["vision"])
            with torch.no_grad():
                model.decoder.visual_shift.copy_(state["visual_shift"])
        return model

    def save_pretrained(self, folder, state_dict=None, safe_serialization=True):
        lm = LlamaForCausalLM(self.config)
        lm.model, lm.lm_head = self.model, self.lm_head
        lm.save_pretrained(folder, safe_serialization=safe_serialization)
        torch.save({"vision": self.vision.state_dict(), "visual_shift": self.decoder.visual_shift.detach()},
                   Path(folder) / EXTRAS)

    def forward(self, input_ids, attention_mask, labels, images, return_dict=True):
        rows = []
        for i in range(input_ids.shape[0]):
            n = int(attention_mask[i].sum())  # rows are right-padded
            ids = input_ids[i:i + 1, :n]
            embeds, modality = self.splice(ids, images[i:i + 1])
            at = int((ids[0] == IMAGE_TOKEN_INDEX).nonzero()[0])
            extra = embeds.shape[0] - n + 1
            row_labels = torch.cat([labels[i, :at], torch.full((extra,), IGNORE_INDEX), labels[i, at + 1:n]])
            rows.append((embeds, modality, row_labels))
        length = max(r[0].shape[0] for r in rows)
        hidden = rows[0][0].shape[1]
        embeds = torch.zeros(len(rows), length, hidden, dtype=rows[0][0].dtype)
        modality = torch.zeros(len(rows), length, dtype=torch.long)
        targets = torch.full((len(rows), length), IGNORE_INDEX)
        mask = torch.zeros(len(rows), length, dtype=torch.long)
        for i, (e, m, l) in enumerate(rows):
            embeds[i, :len(e)], modality[i, :len(m)], targets[i, :len(l)], mask[i, :len(e)] = e, m, l, 1
        out = self.decoder(inputs_embeds=embeds, modality_indicators=modality, attention_mask=mask, position_ids=None,
                           past_key_values=None, use_cache=False)
        logits = self.lm_head(out.last_hidden_state)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                                                 targets[:, 1:].reshape(-1), ignore_index=IGNORE_INDEX)
        return SimpleNamespace(loss=loss, logits=logits)

    def get_model(self) -> torch.nn.Module:
        return self.decoder

    def prepare_inputs_labels_for_multimodal(self, input_ids, attention_mask, past_key_values, labels, images):
        embeds, modality = self.splice(input_ids, images)
        self.calls.append({"input_ids": input_ids[0].tolist(), "images": tuple(images.shape)})
        return None, modality[None], attention_mask, past_key_values, embeds[None], labels
