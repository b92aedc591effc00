"""A tiny random Grounding DINO checkpoint (transformers' ``GroundingDinoForObjectDetection``), built offline.

The annotation pipeline's detector loads it through exactly the calls that load
``IDEA-Research/grounding-dino-tiny`` (``AutoProcessor`` + ``from_pretrained``), so tests exercise the
real preprocessing, forward pass and post-processing without a model hub. Weights are random but
seeded: boxes are meaningless yet deterministic. Recipe constraints (transformers 5):
``d_model`` divisible by 32, ``decoder_layers >= 2``, and a ``BertTokenizer(vocab={...})`` (transformers
5 ignores ``vocab_file=``).
"""

from __future__ import annotations

import string
from pathlib import Path

_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Whole words common in quality descriptions, then single characters and their WordPiece continuations,
# so that any lowercase ASCII phrase tokenizes without [UNK].
_WORDS = [
    "the", "a", "of", "in", "on", "and", "with", "left", "right", "top", "bottom", "sky", "man", "woman",
    "dog", "cat", "car", "tree", "face", "building", "background", "foreground", "water", "grass", "road",
    "person", "shirt", "white", "red", "blue", "green", "black", "wearing",
]


def _vocab() -> dict[str, int]:
    tokens = list(_SPECIALS)
    tokens += list(string.punctuation)
    tokens += list(string.ascii_lowercase + string.digits)
    tokens += [f"##{c}" for c in string.ascii_lowercase + string.digits]
    tokens += [w for w in _WORDS if w not in tokens]
    return {tok: i for i, tok in enumerate(tokens)}


def build_tiny_grounding_dino(folder: str | Path, seed: int = 0, num_queries: int = 20) -> Path:
    """Write a random Grounding DINO model and its processor to ``folder``; returns the folder.

    About 0.8 MB on disk; a forward pass on a small image takes a few milliseconds on a CPU.
    """
    import torch
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _vocab()
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True)
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96})
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer)
    backbone = SwinConfig(
        image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=2,
        out_features=["stage2", "stage3", "stage4"],
    )
    text = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64,
    )
    config = GroundingDinoConfig(
        backbone_config=backbone, text_config=text, d_model=32, encoder_layers=1, decoder_layers=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_attention_heads=2, decoder_attention_heads=2,
        num_queries=num_queries, max_text_len=32,
    )
    torch.manual_seed(seed)
    model = GroundingDinoForObjectDetection(config)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
