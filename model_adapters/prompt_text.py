"""The text a model was really given, decoded back from its input ids (not a plugin itself).

Sample rows keep it as ``full_prompt`` and ``--dry_run`` prints it: decoding the ids the model
receives, rather than re-rendering the template, shows what the tokenizer and processor actually made
of the prompt (the BOS token, the system sentence, a chat template's markup). An image placeholder
that the processor repeats once per image feature (576 ``<image>`` tokens for LLaVA-1.5) is shown once,
and a placeholder id outside the vocabulary (the families' ``-200``) is shown as its marker text.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def decode_prompt(tokenizer: Any, ids: Sequence[int], markers: Mapping[int, str]) -> str:
    """``ids`` as text, special tokens kept; each run of an id in ``markers`` becomes its marker once."""
    pieces: list[str] = []
    chunk: list[int] = []
    previous: int | None = None
    for token in (int(t) for t in ids):
        if token in markers:
            if token != previous:
                if chunk:
                    pieces.append(tokenizer.decode(chunk, skip_special_tokens=False))
                    chunk = []
                pieces.append(markers[token])
        else:
            chunk.append(token)
        previous = token
    if chunk:
        pieces.append(tokenizer.decode(chunk, skip_special_tokens=False))
    return "".join(pieces)


def decode_batch_prompts(tokenizer: Any, inputs: Mapping[str, Any], markers: Mapping[int, str]) -> list[str]:
    """Each row of a left-padded batch (``input_ids`` with its ``attention_mask``), padding left out."""
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    rows = []
    for i in range(ids.shape[0]):
        row = ids[i][mask[i].bool()] if mask is not None else ids[i]
        rows.append(decode_prompt(tokenizer, row.tolist(), markers))
    return rows


def image_token_markers(processor: Any) -> dict[int, str]:
    """The processor's image placeholder token, id -> text (empty when it has none)."""
    token = getattr(processor, "image_token", None)
    tokenizer = getattr(processor, "tokenizer", None)
    if not isinstance(token, str) or tokenizer is None:
        return {}
    token_id = tokenizer.convert_tokens_to_ids(token)
    return {int(token_id): token} if isinstance(token_id, int) and token_id != tokenizer.unk_token_id else {}


__all__ = ["decode_batch_prompts", "decode_prompt", "image_token_markers"]
