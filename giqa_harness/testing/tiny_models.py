"""Tiny random checkpoints of the transformers-native families, built offline in well under a second.

Tests, benchmarks and training/ use them to exercise the real loading, preprocessing and generation
paths without a model hub: each builder writes a folder that ``AutoProcessor.from_pretrained`` and the
family's ``*ForConditionalGeneration.from_pretrained`` load exactly as they load a published checkpoint.
The weights are random (seeded), so answers are gibberish but deterministic. Recipes target
transformers 5.x.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Sentences the byte-level BPE is trained on; the words of the benchmark prompts keep token counts low.
_CORPUS = [
    "Describe and evaluate the quality of the image.",
    "The sky is over-exposed while the dog is sharp. Overall quality is fair.",
    "Is the car sharp? Yes. No. What distortion affects the sky? How is the clarity?",
    "noise blur low high good poor bad excellent exposure colour contrast compression artifacts",
    "USER: ASSISTANT: [INST] [/INST] grounding phrase object",
]

# Written for these builders: one user turn with an image and text, then the assistant's turn.
# It renders exactly the published prompt shapes (models.md), so the adapter's template path is tested.
LLAVA15_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}USER: {% elif message['role'] == 'assistant' %}ASSISTANT: {% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{% if message['role'] == 'user' %} {% else %}{{ eos_token }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
MISTRAL_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}[INST] "
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %} [/INST]"
    "{% else %}{% for part in message['content'] %}{{ part['text'] if part is mapping else part }}{% endfor %}"
    "{{ eos_token }}{% endif %}"
    "{% endfor %}"
)

VISION_SIZE = 32  # pixels: the tiny CLIP tower's input size
PATCH = 8  # so 16 patches per image (+ CLS, dropped by the "default" feature strategy)


def _tokenizer(specials: list[str], extra_special: list[str], vocab_size: int = 300) -> Any:
    """A byte-level BPE trained in memory: any text encodes, nothing is downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    bos, pad, eos, unk = specials[:4]
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, pad_token=pad, eos_token=eos, unk_token=unk,
                                   padding_side="left")
    if extra_special:
        fast.add_special_tokens({"additional_special_tokens": extra_special})
    return fast


def _seeded(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def build_tiny_llava(folder: str | Path, variant: str = "llava", seed: int = 0) -> Path:
    """A random LLaVA-1.5 (``variant="llava"``) or LLaVA-NeXT (``"llava_next"``) checkpoint in ``folder``.

    CLIP tower at 32 px with 8 px patches (16 image tokens), a 2-layer Llama. The NeXT variant adds
    ``image_grid_pinpoints`` (multiples of 32) and the Mistral ``[INST]`` chat template, so both
    prompt shapes of the family are covered. The processor is saved with a chat template.
    """
    from transformers import (
        CLIPImageProcessorPil, CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration,
        LlavaNextConfig, LlavaNextForConditionalGeneration, LlavaNextImageProcessorPil, LlavaNextProcessor,
        LlavaProcessor,
    )

    if variant not in ("llava", "llava_next"):
        raise ValueError(f"variant must be 'llava' or 'llava_next', got {variant!r}")
    folder = Path(folder)
    tokenizer = _tokenizer(["<s>", "<pad>", "</s>", "<unk>"], ["<image>"])
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=VISION_SIZE, patch_size=PATCH)
    text = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                       num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id)
    common = dict(vision_config=vision, text_config=text, image_token_index=image_token,
                  vision_feature_select_strategy="default", vision_feature_layer=-2,
                  image_seq_length=(VISION_SIZE // PATCH) ** 2)
    crop = {"height": VISION_SIZE, "width": VISION_SIZE}
    processor_args = dict(patch_size=PATCH, vision_feature_select_strategy="default", num_additional_image_tokens=1)
    _seeded(seed)
    if variant == "llava":
        config = LlavaConfig(**common)
        model = LlavaForConditionalGeneration(config)
        images = CLIPImageProcessorPil(size={"shortest_edge": VISION_SIZE}, crop_size=crop)
        processor = LlavaProcessor(image_processor=images, tokenizer=tokenizer,
                                   chat_template=LLAVA15_CHAT_TEMPLATE, **processor_args)
    else:
        pinpoints = [[VISION_SIZE, VISION_SIZE], [VISION_SIZE, 2 * VISION_SIZE], [2 * VISION_SIZE, VISION_SIZE],
                     [2 * VISION_SIZE, 2 * VISION_SIZE]]
        config = LlavaNextConfig(image_grid_pinpoints=pinpoints, **common)
        model = LlavaNextForConditionalGeneration(config)
        images = LlavaNextImageProcessorPil(size={"shortest_edge": VISION_SIZE}, crop_size=crop,
                                            image_grid_pinpoints=pinpoints)
        processor = LlavaNextProcessor(image_processor=images, tokenizer=tokenizer,
                                       chat_template=MISTRAL_CHAT_TEMPLATE, **processor_args)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_kosmos2(folder: str | Path, seed: int = 0) -> Path:
    """A random Kosmos-2 checkpoint in ``folder`` (224 px squashed input, 64 latent image tokens).

    The processor is built first because it adds 1,035 tag and patch-index tokens; the text vocabulary
    is sized to the grown tokenizer. ``latent_query_num`` stays 64 (the processor's image-token count)
    and all 1,024 patch-index tokens stay (post-processing assumes a 32 x 32 grid). The vision tower
    keeps the published 224 px / 14 px patch geometry with two narrow layers.
    """
    from transformers import CLIPImageProcessorPil, Kosmos2Config, Kosmos2ForConditionalGeneration, Kosmos2Processor

    folder = Path(folder)
    tokenizer = _tokenizer(["<s>", "<pad>", "</s>", "<unk>"], [])
    images = CLIPImageProcessorPil(size={"height": 224, "width": 224}, do_center_crop=False)
    processor = Kosmos2Processor(image_processor=images, tokenizer=tokenizer)
    config = Kosmos2Config(
        text_config=dict(vocab_size=len(processor.tokenizer), embed_dim=32, layers=2, ffn_dim=64, attention_heads=2,
                         max_position_embeddings=512, dropout=0.0, attention_dropout=0.0,
                         pad_token_id=processor.tokenizer.pad_token_id, bos_token_id=processor.tokenizer.bos_token_id,
                         eos_token_id=processor.tokenizer.eos_token_id),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=14),
        latent_query_num=64,
    )
    _seeded(seed)
    model = Kosmos2ForConditionalGeneration(config)
    model.generation_config.pad_token_id = processor.tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
