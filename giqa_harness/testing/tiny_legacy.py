"""Tiny random checkpoints in the *original* Shikra, GroundingGPT and LLaVA-1.5 layouts, built offline in
well under a second.

They are laid out as the families' own code saves them: a flat Llama ``config.json`` with the ``mm_*``
keys, the decoder's tensors under ``model.*``/``lm_head``, the projector under ``model.mm_projector``
(Shikra: one linear layer; LLaVA: linear-GELU-linear) or ``model.mm_vision_projector.0/.2``
(GroundingGPT, linear-GELU-linear), no vision tower (it is loaded from ``mm_vision_tower``), and a
tokenizer that already holds the tokens the family's loader adds (LLaVA's has no ``<image>`` token: its
code never puts one in the vocabulary). GroundingGPT checkpoints also carry video/audio tensors the image path never
uses; one stand-in tensor is written so that conversion is seen to leave it behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from .tiny_models import PATCH, VISION_SIZE, _tokenizer

HIDDEN = 32
SELECT_LAYER = -2
UNUSED_KEY = "model.llama_proj.weight"  # a GroundingGPT video-branch tensor: present, never used for images


def build_tiny_clip_tower(folder: str | Path, seed: int = 0) -> Path:
    """A random CLIP vision tower (32 px, 8 px patches: 16 patch features) and its image processor."""
    import torch
    from transformers import CLIPImageProcessorPil, CLIPVisionConfig, CLIPVisionModel

    folder = Path(folder)
    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2,
                              image_size=VISION_SIZE, patch_size=PATCH)
    CLIPVisionModel(config).save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": VISION_SIZE},
                          crop_size={"height": VISION_SIZE, "width": VISION_SIZE}).save_pretrained(folder)
    return folder


def build_tiny_original(folder: str | Path, family: str, vision_tower: str | Path, seed: int = 0) -> Path:
    """A random original-layout ``family`` (``shikra``, ``groundinggpt`` or ``llava``) checkpoint in ``folder``."""
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM

    from giqa_harness.model_adapters.llava_shaped import LAYOUTS

    layout = LAYOUTS[family]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(["<s>", "<pad>", "</s>", "<unk>"], [])
    if family != "llava":
        tokenizer.add_tokens([token for group in layout.token_groups for token in group], special_tokens=True)
    text = LlamaConfig(hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                       num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id,
                       initializer_range=0.4)  # large weights: answers follow the whole prompt, image included
    torch.manual_seed(seed)
    state = {k: v.contiguous() for k, v in LlamaForCausalLM(text).state_dict().items()}
    for prefix in layout.projector:
        layer = torch.nn.Linear(HIDDEN, HIDDEN)
        state[f"{prefix}.weight"], state[f"{prefix}.bias"] = layer.weight.detach(), layer.bias.detach()
    if family == "groundinggpt":
        state[UNUSED_KEY] = torch.randn(HIDDEN, HIDDEN)
    save_file(state, str(folder / "model.safetensors"))
    config = text.to_dict()
    config.update(model_type=family, architectures=[f"{family}_original"], mm_vision_tower=str(vision_tower),
                  mm_vision_select_layer=SELECT_LAYER, mm_hidden_size=HIDDEN, mm_use_im_start_end=True,
                  use_mm_proj=True, torch_dtype="float32")
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tokenizer.save_pretrained(folder)
    return folder
