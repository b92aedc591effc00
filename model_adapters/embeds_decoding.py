"""Batched decoding from prompt embeddings, for families whose own code splices the image into the text.

Ferret, DepictQA and mPLUG-Owl2 build each prompt's input embeddings in their own package (image
features, region features, modality indicators). Their own batched paths do not survive left padding:
they prepend the attention mask where the padding is, or count positions from the first pad. So each
prompt is embedded alone (no padding), the rows are left-padded here with a correct attention mask and
positions counted from each row's first real token, and the batch is decoded with the KV cache. A row's
answer then does not depend on the rows beside it.

The loop supports what the harness's tasks ask for: greedy (the default) or sampling with
``temperature``/``top_p``/``top_k``, ``max_new_tokens``, stop strings and the end-of-sequence tokens.
Beam search is refused with a `ConfigError` rather than silently replaced.

torch is imported inside functions only: adapter modules import this one at ``giqa-harness list`` time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from giqa_harness.errors import ConfigError

# generate() keywords the loop honours; `generation_settings` (hf_common) produces them from a task.
SUPPORTED_KWARGS = ("max_new_tokens", "do_sample", "temperature", "top_p", "top_k", "num_beams")


@dataclass
class PromptEmbedding:
    """One prompt as its family's model embedded it, unpadded.

    ``embeds`` is ``[length, hidden]``; ``extras`` holds per-position integer tensors ``[length]`` the
    model's forward also needs (mPLUG-Owl2's modality indicators); padding and generated tokens get 0.
    """

    embeds: Any
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecodeSettings:
    max_new_tokens: int
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0

    @classmethod
    def from_generate_kwargs(cls, kwargs: Mapping[str, Any], family: str) -> "DecodeSettings":
        unsupported = sorted(k for k in kwargs if k not in SUPPORTED_KWARGS)
        if unsupported:
            raise ConfigError(
                f"model {family!r} decodes with its own loop, which does not support generation_kwargs "
                f"{', '.join(unsupported)}; supported: {', '.join(SUPPORTED_KWARGS)}"
            )
        if int(kwargs.get("num_beams", 1)) != 1:
            raise ConfigError(f"model {family!r} does not support beam search (num_beams must be 1)")
        temperature = float(kwargs.get("temperature", 1.0) or 1.0)
        return cls(max_new_tokens=int(kwargs["max_new_tokens"]), do_sample=bool(kwargs.get("do_sample", False)),
                   temperature=temperature, top_p=float(kwargs.get("top_p", 1.0) or 1.0),
                   top_k=int(kwargs.get("top_k", 0) or 0))


# step(inputs_embeds [B, L, D], attention_mask [B, past + L], position_ids [B, L], past, extras {k: [B, L]})
#   -> (logits of the last position [B, vocab], new past)
StepFn = Callable[[Any, Any, Any, Any, Mapping[str, Any]], "tuple[Any, Any]"]


def left_pad(prompts: Sequence[PromptEmbedding]) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Rows padded on the left: (embeds, attention_mask, position_ids, extras).

    Padding embeddings are zeros and masked out; positions start at 0 on each row's first real token.
    """
    import torch

    width = max(p.embeds.shape[0] for p in prompts)
    first = prompts[0].embeds
    embeds = first.new_zeros((len(prompts), width, first.shape[-1]))
    mask = torch.zeros((len(prompts), width), dtype=torch.long, device=first.device)
    keys = sorted({k for p in prompts for k in p.extras})
    extras = {k: torch.zeros((len(prompts), width), dtype=torch.long, device=first.device) for k in keys}
    for row, prompt in enumerate(prompts):
        length = prompt.embeds.shape[0]
        embeds[row, width - length:] = prompt.embeds
        mask[row, width - length:] = 1
        for key, values in prompt.extras.items():
            extras[key][row, width - length:] = values.to(first.device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return embeds, mask, positions, extras


def choose_tokens(logits: Any, settings: DecodeSettings) -> Any:
    """Greedy argmax, or a sample after temperature, top-k and top-p (nucleus) filtering."""
    import torch

    if not settings.do_sample:
        return logits.argmax(dim=-1)
    scores = logits.float() / max(settings.temperature, 1e-5)
    if settings.top_k > 0:
        kth = torch.topk(scores, min(settings.top_k, scores.shape[-1]), dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if settings.top_p < 1.0:
        ordered, order = torch.sort(scores, descending=True, dim=-1)
        probs = ordered.softmax(dim=-1)
        drop_sorted = probs.cumsum(dim=-1) - probs > settings.top_p  # keeps the token that crosses top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    return torch.multinomial(scores.softmax(dim=-1), num_samples=1).squeeze(-1)


def decode(step: StepFn, embed_tokens: Callable[[Any], Any], prompts: Sequence[PromptEmbedding],
           settings: DecodeSettings, eos_ids: Sequence[int], tokenizer: Any, stops: Sequence[str]) -> list[list[int]]:
    """New token ids of every prompt (end-of-sequence token excluded), decoding all rows together.

    A row stops at an end-of-sequence token or once its decoded text holds a stop string; finished rows
    keep being fed (their tokens are discarded) so the batch stays rectangular.
    """
    import torch

    embeds, mask, positions, extras = left_pad(prompts)
    with torch.inference_mode():
        logits, past = step(embeds, mask, positions, None, extras)
        rows = len(prompts)
        generated: list[list[int]] = [[] for _ in range(rows)]
        done = [False] * rows
        next_position = positions[:, -1:] + 1
        eos = set(int(i) for i in eos_ids)
        for _ in range(settings.max_new_tokens):
            tokens = choose_tokens(logits, settings)
            for row, token in enumerate(tokens.tolist()):
                if done[row]:
                    continue
                if token in eos:
                    done[row] = True
                    continue
                generated[row].append(token)
                if stops and _holds_stop(tokenizer, generated[row], stops):
                    done[row] = True
            if all(done):
                break
            mask = torch.cat([mask, mask.new_ones((rows, 1))], dim=1)
            step_extras = {k: v.new_zeros((rows, 1)) for k, v in extras.items()}
            logits, past = step(embed_tokens(tokens[:, None]), mask, next_position, past, step_extras)
            next_position = next_position + 1
    return generated


def _holds_stop(tokenizer: Any, tokens: list[int], stops: Sequence[str]) -> bool:
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    return any(stop in text for stop in stops)
