"""Stage 1, tag extraction: an LLM lists a description's key objects as {T_r, T_q, T_e} triples.

The reply must be a JSON array of ``{"T_r": str, "T_q": str, "T_e": "positive"|"negative"|"no impact"}``
(``{"objects": [...]}`` and a Markdown code fence around it are accepted too). A reply that breaks the
schema is asked again with a differently worded prompt that names the problem; after ``max_attempts``
the record fails with every attempt's reason. T_e then filters out the non-critical objects.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.llm.base import LLMBackend

from .fuse import find_phrase
from .llm_json import Outcome, ask_with_retries, fill, json_array
from .records import EFFECTS, Tag

SYSTEM = "You turn image-quality descriptions into structured data. You answer with JSON and nothing else."

_FIELDS = (
    '- "T_r": the words of the description that name the object, copied exactly (for example '
    '"the man wearing a white t-shirt", not just "man");\n'
    '- "T_q": the quality the description gives it, as a short phrase ("clear", "blurry", "over-exposed");\n'
    '- "T_e": its effect on the quality of the whole image: "positive", "negative" or "no impact".\n'
)

# Attempt k uses PROMPTS[min(k, len - 1)]: the later ones are stricter and name the previous problem.
# ``{description}`` and ``{problem}`` are filled by `fill` (plain replacement: JSON braces stay as they are).
PROMPTS: tuple[str, ...] = (
    "Read this description of an image's quality and list every object or region it mentions.\n"
    "For each one give:\n" + _FIELDS
    + 'Words that stand for the whole picture ("the image", "the photo") get "no impact".\n'
    'Answer with a JSON array only, e.g. [{"T_r": "the sky", "T_q": "over-exposed", "T_e": "negative"}]; '
    "answer [] when no object is mentioned.\n\nDescription: {description}",
    "Your previous answer could not be used ({problem}).\n"
    "List the objects of the description below as a JSON array of objects with exactly the keys "
    '"T_r", "T_q" and "T_e":\n' + _FIELDS
    + "Write the JSON array and nothing before or after it.\n\nDescription: {description}",
    'Output format (strict): a JSON array; each element {"T_r": string, "T_q": string, '
    '"T_e": one of "positive", "negative", "no impact"}. No prose, no code fence.\n'
    "Previous problem: {problem}.\nDescription: {description}",
)

_WHOLE_IMAGE = {"image", "photo", "photograph", "picture", "frame", "shot", "overall quality", "quality"}
_WHOLE_IMAGE_PREFIXES = ("the ", "this ", "a ", "an ", "whole ", "entire ", "overall ")


def parse_tags(reply: str | None) -> tuple[list[Tag] | None, str | None]:
    """The triples in an LLM reply, or ``(None, reason)`` when the reply breaks the schema. Never raises."""
    data, error = json_array(reply, "objects")
    if data is None:
        return None, error
    tags: list[Tag] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            return None, f"element {i} is not an object"
        missing = [k for k in ("T_r", "T_q", "T_e") if not isinstance(item.get(k), str) or not item[k].strip()]
        if missing:
            return None, f"element {i} lacks a non-empty string for {', '.join(missing)}"
        effect = " ".join(item["T_e"].lower().replace("-", " ").replace("_", " ").split())
        if effect not in EFFECTS:
            return None, f"element {i} has T_e {item['T_e']!r}, not one of {', '.join(EFFECTS)}"
        tags.append(Tag(" ".join(item["T_r"].split()), " ".join(item["T_q"].split()), effect))
    return tags, None


def is_whole_image(phrase: str) -> bool:
    """True for phrases that mean the whole picture ("the image", "the overall photo")."""
    words = phrase.lower().strip(" .,;:!?")
    changed = True
    while changed:
        changed = False
        for prefix in _WHOLE_IMAGE_PREFIXES:
            if words.startswith(prefix):
                words, changed = words[len(prefix):], True
    return words in _WHOLE_IMAGE


def select_key_tags(
    tags: Sequence[Tag], description: str, drop_whole_image: bool = True
) -> tuple[list[Tag], list[str]]:
    """The critical objects (T_e positive or negative) whose T_r occurs as whole words in the description
    (where fusion can write its box), first of each phrase kept; and a note for every tag dropped, saying
    why."""
    kept: list[Tag] = []
    notes: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        key = tag.phrase.lower()
        if tag.effect == "no impact":
            notes.append(f"{tag.phrase!r}: T_e is 'no impact'")
        elif drop_whole_image and is_whole_image(tag.phrase):
            notes.append(f"{tag.phrase!r}: stands for the whole image")
        elif find_phrase(description, tag.phrase) is None:
            notes.append(f"{tag.phrase!r}: T_r does not occur as whole words in the description")
        elif key in seen:
            notes.append(f"{tag.phrase!r}: repeated")
        else:
            seen.add(key)
            kept.append(tag)
    return kept, notes


def extract_tags(
    llm: LLMBackend, descriptions: Sequence[str], max_attempts: int = 3, **generation: Any
) -> list[Outcome[list[Tag]]]:
    """Ask ``llm`` for the triples of every description, in one batch per attempt; invalid replies are
    asked again with the next, stricter prompt."""

    def prompt(i: int, attempt: int, problem: str) -> str:
        return fill(PROMPTS[min(attempt, len(PROMPTS) - 1)], description=descriptions[i], problem=problem)

    return ask_with_retries(llm, len(descriptions), prompt, lambda i, reply: parse_tags(reply), max_attempts,
                            system=SYSTEM, **generation)
