"""Helpers of the family adapter tests: tiny checkpoint folders, the fake family packages, requests.

The fake packages (tests/fake_packages) stand in for code that cannot be installed here (Ferret,
mPLUG-Owl2, DepictQA); they hold a real tiny Llama decoder, so batching is really exercised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.models import Request

FAKE_PACKAGES = Path(__file__).parent / "fake_packages"
FAKE_MODULES = ("ferret", "mplug_owl2", "model", "fake_multimodal")
SIZES = [(30, 20), (20, 30), (24, 24), (40, 16), (16, 40), (32, 20), (28, 36), (36, 28)]
QUESTIONS = [
    "Is the image sharp?",
    "How is the exposure of the sky?",
    "Describe and evaluate the quality of the image.",
    "Is the [dog](<0, 399>) noisy?",
    "What distortion affects the [car](<42, 250>)?",
    "Is the [dog](<21, 63>) or the [car](<200, 399>) sharper?",
    "Rate the quality.",
    "Is there blur?",
]


def build_llama_folder(folder: Path, specials: tuple[str, ...] = (), seed: int = 0) -> Path:
    """A tiny random Llama checkpoint with a byte-level BPE tokenizer and a 32 px CLIP image processor."""
    import torch
    from transformers import CLIPImageProcessorPil, LlamaConfig, LlamaForCausalLM

    from giqa_harness.testing.tiny_models import VISION_SIZE, _tokenizer

    tokenizer = _tokenizer(["<s>", "<pad>", "</s>", "<unk>"], list(specials))
    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id,
                         initializer_range=0.4)  # large weights: answers follow the whole prompt, not its last token
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": VISION_SIZE},
                          crop_size={"height": VISION_SIZE, "width": VISION_SIZE}).save_pretrained(folder)
    return folder


def use_fake_packages(monkeypatch) -> None:
    """Put the fake family packages on ``sys.path`` for one test (forgotten again afterwards)."""
    monkeypatch.syspath_prepend(str(FAKE_PACKAGES))
    for name in list(sys.modules):
        if name.split(".")[0] in FAKE_MODULES:
            monkeypatch.delitem(sys.modules, name)


def forget_fake_packages() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in FAKE_MODULES:
            del sys.modules[name]


def image(size: tuple[int, int], seed: int) -> Image.Image:
    """A distinct colour per seed with a little noise, so that different images give different answers."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, 3) + rng.integers(-20, 21, (size[1], size[0], 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def make_requests(box_format, n: int = 8, generation_kwargs: dict | None = None) -> list[Request]:
    """Requests as the evaluator builds them: canonical grid questions re-rendered in ``box_format``."""
    canonical = get_format("giqa_grid")
    out = []
    for i in range(n):
        size = SIZES[i % len(SIZES)]
        question, parsed = rerender(QUESTIONS[i % len(QUESTIONS)], canonical, box_format, size)
        out.append(Request(doc_id=f"d{i}", task="t", question=question, image=image(size, i), image_size=size,
                           referring=parsed.groundings, raw_question=QUESTIONS[i % len(QUESTIONS)],
                           generation_kwargs=generation_kwargs or {"max_new_tokens": 8}))
    return out


def original_forward_logits(folder: Path, tower: Path, projector: tuple[str, ...], input_ids, pixels, image_token: int):
    """Logits as the families' own forward computes them, written from their description and not through
    transformers' LLaVA: CLIP hidden layer ``mm_vision_select_layer`` without CLS, the projector (one
    linear layer, or linear-GELU-linear), spliced one for one over the ``<im_patch>`` tokens."""
    import json

    import torch
    from safetensors.torch import load_file
    from transformers import CLIPVisionModel, LlamaConfig, LlamaForCausalLM

    state = load_file(str(folder / "model.safetensors"))
    raw = json.loads((folder / "config.json").read_text())
    config = LlamaConfig(**{k: v for k, v in raw.items()
                            if not k.startswith("mm_") and k not in ("model_type", "architectures")})
    lm = LlamaForCausalLM(config)
    lm.load_state_dict({k: v for k, v in state.items() if k.startswith(("model.embed_tokens", "model.layers",
                                                                          "model.norm", "lm_head"))})
    clip = CLIPVisionModel.from_pretrained(str(tower))
    with torch.no_grad():
        features = clip(pixels, output_hidden_states=True).hidden_states[raw["mm_vision_select_layer"]][:, 1:]
        for i, prefix in enumerate(projector):
            if i:
                features = torch.nn.functional.gelu(features)
            features = features @ state[f"{prefix}.weight"].T + state[f"{prefix}.bias"]
        embeds = lm.model.embed_tokens(input_ids.clamp(max=config.vocab_size - 1))  # LLaVA's <image> is new
        embeds[input_ids == image_token] = features.reshape(-1, features.shape[-1])
        return lm(inputs_embeds=embeds, attention_mask=torch.ones_like(input_ids)).logits
