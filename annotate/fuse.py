"""Stage 4, fusion: the kept boxes are written into the description as ``[phrase](<idx_l, idx_r>)``.

The markup comes from the benchmark's own codec (`giqa_harness.boxes.formats.grid`), so whatever is
written reads back through the ``giqa_grid`` parser; the groundings reported with a sample are that
parser's reading of the fused text (boxes snapped to cell centres, exactly what training sees).

Where a phrase goes: its first case-insensitive occurrence, at word boundaries when there is one, that
does not overlap a phrase already placed. Longer phrases are placed first, so "the man in white" takes
its words before "the man" looks for another occurrence. A phrase with no free occurrence, or holding
characters the markup cannot carry (``[``, ``]``, a line break), stays plain text.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from giqa_harness.boxes.formats.grid import GridFormat
from giqa_harness.boxes.geometry import Box
from giqa_harness.boxes.grounded import GroundedText, Grounding

# Three are public (shared/reference/metrics.md): the second on its own and followed by a sentence
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


def find_phrase(text: str, phrase: str, taken: Sequence[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """The span of the first free occurrence of ``phrase`` in ``text`` (case-insensitive), preferring
    occurrences at word boundaries; None when every occurrence overlaps ``taken`` or there is none."""
    if not phrase.strip():
        return None
    escaped = re.escape(phrase)
    left = r"(?<!\w)" if re.match(r"\w", phrase) else ""
    right = r"(?!\w)" if re.search(r"\w$", phrase) else ""
    for pattern in (left + escaped + right, escaped):
        for match in re.finditer(pattern, text, re.IGNORECASE):
            span = (match.start(), match.end())
            if not any(span[0] < end and start < span[1] for start, end in taken):
                return span
    return None


def insert_groundings(
    text: str, objects: Sequence[tuple[str, Sequence[Box]]], image_size: tuple[int, int]
) -> tuple[str, list[str]]:
    """``text`` with each phrase that has boxes rewritten as grid markup, and the phrases left plain."""
    placed: list[tuple[int, int, Sequence[Box]]] = []
    unplaced: list[str] = []
    for phrase, boxes in sorted(objects, key=lambda o: -len(o[0])):
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
