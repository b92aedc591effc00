"""A tiny random Llama-style causal LM with a byte-level BPE tokenizer and a chat template, built
offline into a folder that ``AutoModelForCausalLM`` / ``AutoTokenizer`` load back.

Its replies are gibberish, but it exercises every code path a real local LLM takes (chat template,
left-padded batched generation, dtype and device handling), in well under a second::

    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm
    folder = build_tiny_causal_lm(tmp_path / "lm")   # then: --judge hf:<folder>
"""

from __future__ import annotations

from pathlib import Path

# Enough text for a few hundred merges, with the words judges and annotators use.
_CORPUS = [
    "The image is blurry and the sky is over-exposed.",
    "Rate the answer from 0 to 4. Score: 3",
    "Noise, blur, low contrast, JPEG blocking and colour cast degrade the quality.",
    "Is the dog sharp? Yes. Is the car sharp? No.",
    "Describe and evaluate the quality of the image in detail.",
    "system user assistant reference answer question",
]

# Roles wrapped in their own special markers; add_generation_prompt opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL_TOKENS = ["<unk>", "<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def build_tiny_tokenizer(vocab_size: int = 320):
    """A byte-level BPE `PreTrainedTokenizerFast` trained in memory, with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        additional_special_tokens=SPECIAL_TOKENS[4:],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_causal_lm(folder: str | Path, seed: int = 0) -> Path:
    """Build and save the tiny model and tokenizer into ``folder``; returns the folder.

    The weights are drawn with a large initializer range so that the next-token distribution is
    peaked: greedy decoding then has no near-ties, and batched and one-by-one replies agree exactly.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512, initializer_range=0.5,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
