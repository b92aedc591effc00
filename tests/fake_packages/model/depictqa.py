"""Fake ``model.depictqa``: DepictQA's object with the methods the depictqa adapter uses."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoTokenizer, LlamaForCausalLM

INSTANCES: list["DepictQA"] = []


class DepictQA(torch.nn.Module):
    def __init__(self, args, training):
        super().__init__()
        assert training is False
        self.args = args
        self.llm = LlamaForCausalLM.from_pretrained(args.model["llm_path"])
        self.tokenizer = AutoTokenizer.from_pretrained(args.model["llm_path"])
        self.patch = args["vision_preprocess"]["patch_size"]
        self.short_side = args["vision_preprocess"]["resize"]
        self.vision_proj = torch.nn.Linear(3, self.llm.config.hidden_size)
        torch.nn.init.zeros_(self.vision_proj.weight)
        self.texts: list[str] = []
        INSTANCES.append(self)

    def vision_preprocess(self, image):
        """Keep the aspect ratio (short side ``resize``), pad to multiples of the patch size."""
        w, h = image.size
        scale = self.short_side / min(w, h)
        image = image.resize((round(w * scale), round(h * scale)))
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1) / 255
        pad_h, pad_w = (-image.height) % self.patch, (-image.width) % self.patch
        return torch.nn.functional.pad(pixels, (0, pad_w, 0, pad_h))

    def clip_encode(self, imgs):
        """One feature per patch (its mean colour, projected): the count follows the image's shape."""
        b, c, h, w = imgs.shape
        patches = imgs.reshape(b, c, h // self.patch, self.patch, w // self.patch, self.patch).mean(dim=(3, 5))
        return self.vision_proj(patches.flatten(2).transpose(1, 2).to(self.vision_proj.weight.dtype))

    def emb_text(self, text, bsz):
        self.texts.append(text)
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        return self.llm.model.embed_tokens(ids).expand(bsz, -1, -1)
