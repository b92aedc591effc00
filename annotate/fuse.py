"""Stage 4, fusion: the kept boxes are written into the description as ``[phrase](<idx_l, idx_r>)``.

The markup comes from the benchmark's own codec (`giqa_harness.boxes.formats.grid`), so whatever is
written reads back through the ``giqa_grid`` parser; the groundings reported with a sample are that
parser's reading of the fused text (boxes snapped to cell centres, exactly what training sees).

Where a phrase goes: its first case-insensitive occurrence as whole words (no letter, digit, mark or
underscore of any script touching either end) that does not overlap a phrase already placed. A phrase is
never placed inside a longer word: "a" is not found in "sharp". Longer phrases are placed first, so "the
man in white" takes its words before "the man" looks for another occurrence. Objects that share a phrase
(compared case-insensitively, spaces folded) are one grounding holding all their boxes: which box belongs
to which mention is unknown, so none is guessed. A phrase with no free whole-word occurrence, or holding
characters the markup cannot carry (``[``, ``]``, a line break), stays plain text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Sequence

from giqa_harness.boxes.formats.grid import GridFormat
from giqa_harness.boxes.geometry import Box
from giqa_harness.boxes.grounded import GroundedText, Grounding

# Three are public (the paper's examples): the second on its own and followed by a sentence
# asking for positions (that sentence's wording is ours), and the first. The other twelve are ours.
QUESTION_POOL: tuple[str, ...] = (
    "Describe and evaluate the quality of the image.",
    "Explore the quality factors of the image and offer an evaluation based on your insights.",
    "Explore the quality factors of the image and offer an evaluation based on your insights. "
    "Point out where the objects you mention are located.",
    "Assess the quality of this image and mark where each key object is.",
    "How good is the quality of this image? Describe it and locate the objects you mention.",
    "Give a detailed quality evaluation of the image, including the positions of the important regions.",
    "Describe the image's quality, pointing out where the notable objects are.",
    "Evaluate the visual quality of this picture and indicate the location of each object you discuss.",
    "Analyze the image quality in detail and give the positions of the objects that affect it.",
    "Please describe the quality of this image, with the locations of its key objects.",
    "What is the quality of this image like? Explain, and show where the relevant objects are.",
    "Provide a quality assessment of the image that names and locates its key objects.",
    "Examine the clarity, exposure, noise and other quality factors of this image, noting where the main "
    "objects are.",
    "Rate and describe the quality of the image, giving the position of each object you mention.",
    "Review the image quality and report which regions look good or poor, and where they lie.",
)

_GRID = GridFormat()
_UNCARRIABLE = re.compile(r"[\[\]\n]")


def question_for(record_id: str, seed: int = 0) -> str:
    """The DES question of a record: drawn from the pool by a hash of (seed, record id), so it does not
    depend on record order, sharding or resumption."""
    digest = hashlib.sha256(f"{seed}:{record_id}".encode("utf-8")).digest()
    return QUESTION_POOL[int.from_bytes(digest[:8], "big") % len(QUESTION_POOL)]


def is_word_character(char: str) -> bool:
    """Whether ``char`` continues a word in any script: a letter, digit, combining mark or underscore."""
    return char == "_" or unicodedata.category(char)[0] in "LNM"


def _whole_words(text: str, start: int, end: int) -> bool:
    """No word character joins the span ``text[start:end]`` to its neighbours on either side."""
    joined_left = start > 0 and is_word_character(text[start]) and is_word_character(text[start - 1])
    joined_right = end < len(text) and is_word_character(text[end - 1]) and is_word_character(text[end])
    return not (joined_left or joined_right)


def find_phrase(text: str, phrase: str, taken: Sequence[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """The span of the first occurrence of ``phrase`` in ``text`` (case-insensitive) that stands as whole
    words and does not overlap ``taken``; None when there is none."""
    if not phrase.strip():
        return None
    # A lookahead finds overlapping occurrences too, so a taken or mid-word one does not hide the next.
    for match in re.finditer(f"(?=({re.escape(phrase)}))", text, re.IGNORECASE):
        start, end = match.start(1), match.end(1)
        if _whole_words(text, start, end) and not any(start < e and s < end for s, e in taken):
            return start, end
    return None


def merge_repeated_phrases(objects: Sequence[tuple[str, Sequence[Box]]]) -> list[tuple[str, list[Box]]]:
    """One entry per phrase (case-insensitive, spaces folded), in first-seen order, holding every box of
    the objects that share it, each box once."""
    merged: dict[str, tuple[str, list[Box]]] = {}
    for phrase, boxes in objects:
        key = " ".join(phrase.split()).casefold()
        entry = merged.setdefault(key, (phrase, []))
        entry[1].extend(b for b in boxes if b not in entry[1])
    return list(merged.values())


def insert_groundings(
    text: str, objects: Sequence[tuple[str, Sequence[Box]]], image_size: tuple[int, int]
) -> tuple[str, list[str]]:
    """``text`` with each phrase that has boxes rewritten as grid markup, and the phrases left plain.

    Objects sharing a phrase are merged first (`merge_repeated_phrases`)."""
    placed: list[tuple[int, int, Sequence[Box]]] = []
    unplaced: list[str] = []
    for phrase, boxes in sorted(merge_repeated_phrases(objects), key=lambda o: -len(o[0])):
        if not boxes:
            continue
        span = None if _UNCARRIABLE.search(phrase) else find_phrase(text, phrase, [(s, e) for s, e, _ in placed])
        if span is None:
            unplaced.append(phrase)
        else:
            placed.append((span[0], span[1], boxes))
    pieces: list[str] = []
    cursor = 0
    for start, end, boxes in sorted(placed, key=lambda p: p[0]):
        pieces.append(text[cursor:start])
        # The words as the text writes them (keeping its case), with the boxes of the phrase.
        pieces.append(_GRID.render(Grounding(text[start:end], tuple(boxes)), image_size))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), unplaced


def read_groundings(text: str, image_size: tuple[int, int]) -> GroundedText:
    """How the ``giqa_grid`` parser reads fused text (what a training or benchmark reader will see)."""
    return _GRID.parse(text, image_size)
