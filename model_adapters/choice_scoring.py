"""Candidate log-probabilities for the adapters that hold a model in this process (not a plugin itself).

`ModelAdapter.score_choices` asks: given the prompt and the start of the answer (``prefix``), how
likely is each candidate as what comes next? Two shared implementations:

- `score_with_forward` for transformers-native adapters (llava, llava_next, kosmos2, shikra,
  groundinggpt, giqa on them): the adapter's own ``encode`` of the request alone, then one forward pass
  over K rows (prompt + prefix + candidate k, padded on the right). Right padding never reaches an
  earlier token through causal attention, and a request is never batched with another, so the numbers
  are the same at any ``--batch_size``.
- `score_with_steps` for package adapters (owl2, ferret, depictqa): the family's own prompt
  embedding, then the family's decoder step fed the prefix and candidate tokens one at a time, the K
  candidates side by side.

Continuation tokens are what the tokenizer makes of the text *after* a short context (`_ANCHOR`), so a
word keeps the leading-space form it has inside a sentence (``" excellent"`` -> ``▁excellent``).
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.errors import GiqaError
from giqa_harness.models import ChoiceRequest

_ANCHOR = "A:"  # stands for the prompt's last characters ("ASSISTANT:", "Answer:")


def continuation_ids(tokenizer: Any, context: str, text: str) -> list[int]:
    """Token ids of ``text`` as it would be tokenized right after ``context`` (both after `_ANCHOR`)."""
    before = tokenizer(_ANCHOR + context, add_special_tokens=False)["input_ids"]
    whole = tokenizer(_ANCHOR + context + text, add_special_tokens=False)["input_ids"]
    shared = 0
    while shared < min(len(before), len(whole)) and before[shared] == whole[shared]:
        shared += 1
    return list(whole[shared:])


def candidate_tokens(tokenizer: Any, choice: ChoiceRequest) -> tuple[list[int], list[list[int]]]:
    """(prefix ids, ids of each candidate after the prefix); an empty candidate is an error."""
    prefix = continuation_ids(tokenizer, "", choice.prefix) if choice.prefix else []
    candidates = [continuation_ids(tokenizer, choice.prefix, c) for c in choice.candidates]
    empty = [c for c, ids in zip(choice.candidates, candidates) if not ids]
    if empty:
        raise GiqaError(f"choice candidate {empty[0]!r} has no tokens after the prefix {choice.prefix!r}")
    return prefix, candidates


def sum_logprobs(log_probs: Any, start: int, tokens: Sequence[int]) -> float:
    """Sum of ``log_probs[start - 1 + i, tokens[i]]``: the model's prediction of each token sits one
    position before it."""
    return float(sum(log_probs[start - 1 + i, t].item() for i, t in enumerate(tokens)))


def score_with_forward(adapter: Any, choices: Sequence[ChoiceRequest]) -> list[list[float]]:
    """`score_choices` of an `HFVisionAdapter` (see the module docstring)."""
    import torch

    tokenizer = getattr(adapter.processor, "tokenizer", adapter.processor)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = []
    for choice in choices:
        inputs = dict(adapter.encode([choice.request]))
        ids = inputs["input_ids"]
        prefix, candidates = candidate_tokens(tokenizer, choice)
        length, rows = ids.shape[1], len(candidates)
        start = length + len(prefix)
        width = start + max(len(c) for c in candidates)
        tokens = torch.full((rows, width), pad, dtype=ids.dtype)
        mask = torch.zeros((rows, width), dtype=torch.long)
        for k, cand in enumerate(candidates):
            tokens[k, :start] = torch.cat([ids[0], torch.tensor(prefix, dtype=ids.dtype)])
            tokens[k, start:start + len(cand)] = torch.tensor(cand, dtype=ids.dtype)
            mask[k, :start + len(cand)] = 1
        batch: dict[str, Any] = {"input_ids": tokens, "attention_mask": mask}
        for key, value in inputs.items():
            if key in batch or not hasattr(value, "shape"):
                continue
            if value.dim() >= 2 and tuple(value.shape[:2]) == tuple(ids.shape):  # per-token (Kosmos-2's image mask)
                grown = value.new_zeros((rows, width, *value.shape[2:]))
                grown[:, :length] = value[0]
                batch[key] = grown
            else:  # per-request (pixels, image sizes): the same image on every row
                batch[key] = value.expand(rows, *value.shape[1:]) if value.shape[0] == 1 else value
        with torch.inference_mode():
            logits = adapter.model(**adapter.to_device(batch)).logits.float()
        log_probs = logits.log_softmax(dim=-1).cpu()
        out.append([sum_logprobs(log_probs[k], start, cand) for k, cand in enumerate(candidates)])
    return out


def score_with_steps(adapter: Any, choices: Sequence[ChoiceRequest]) -> list[list[float]]:
    """`score_choices` of a `PackageAdapter`: its ``embed_prompt``, ``step`` and ``embed_tokens``, the K
    candidates of a request decoded side by side (the same prompt on every row, so nothing is padded
    on the left; a row that has run out of tokens is fed its last one again, which no earlier position
    sees)."""
    import torch

    from .embeds_decoding import left_pad

    out = []
    for choice in choices:
        prompt = adapter.embed_prompt(choice.request)
        prefix, candidates = candidate_tokens(adapter.tokenizer, choice)
        sequences = [[*prefix, *cand] for cand in candidates]
        rows, width = len(sequences), max(len(s) for s in sequences)
        totals = [0.0] * rows
        embeds, mask, positions, extras = left_pad([prompt] * rows)
        with torch.inference_mode():
            logits, past = adapter.step(embeds, mask, positions, None, extras)
            position = positions[:, -1:] + 1
            for i in range(width):
                log_probs = logits.float().log_softmax(dim=-1)
                for k, sequence in enumerate(sequences):
                    if len(prefix) <= i < len(sequence):
                        totals[k] += float(log_probs[k, sequence[i]].item())
                if i == width - 1:
                    break
                fed = torch.tensor([[s[min(i, len(s) - 1)]] for s in sequences], device=mask.device)
                mask = torch.cat([mask, mask.new_ones((rows, 1))], dim=1)
                step_extras = {k: v.new_zeros((rows, 1)) for k, v in extras.items()}
                logits, past = adapter.step(adapter.embed_tokens(fed), mask, position, past, step_extras)
                position = position + 1
        out.append(totals)
    return out
