"""Stage 3, refinement: the IQA filter and the box merge.

IQA filter: when one object has several boxes, an IQA-capable model (any registered adapter; Q-Instruct
in the paper) is asked "Is the image quality <T_q>?" about each box's crop; boxes answered "No" are
dropped. An answer with neither word keeps its box: only an explicit "No" is evidence against it.

Box merge (the paper's rule, with what it leaves undefined made exact; docs/annotate.md):

    merge(a, b)  <=>  (min(area(a), area(b)) < T_a  and  touches(a, b))  or  coverage(a, b) > T_o

- ``and`` binds tighter than ``or``; areas are normalized (fractions of the image), T_a = 0.256;
- "touch": the closed boxes share at least one point (overlap, or a common edge or corner);
- "coverage": intersection area / area of the smaller box, T_o = 0.95; 0 when the smaller box has no area;
- a merge replaces both boxes by their enclosing box, at the position of the earlier one;
- merging repeats, always taking the first mergeable pair (i < j) in list order, until no pair merges
  (a fixed point: every merge removes a box, so it ends).

Merging applies to the boxes of one object, never across objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from giqa_harness.boxes.geometry import Box, enclosing_box, intersection_area
from giqa_harness.metrics.yes_no import yes_no_label
from giqa_harness.models import ModelAdapter, Request

if TYPE_CHECKING:
    from PIL import Image

T_AREA = 0.256
T_COVER = 0.95
IQA_QUESTION = "Is the image quality {quality}?"


# -- box merge ----------------------------------------------------------------------------------------


def touches(a: Box, b: Box) -> bool:
    """True when the closed boxes share a point: they overlap, or meet at an edge or a corner."""
    return a.x1 <= b.x2 and b.x1 <= a.x2 and a.y1 <= b.y2 and b.y1 <= a.y2


def coverage(a: Box, b: Box) -> float:
    """How much of the smaller box the other covers: intersection / area of the smaller box."""
    smaller = min(a.area, b.area)
    return intersection_area(a, b) / smaller if smaller > 0 else 0.0


def should_merge(a: Box, b: Box, t_area: float = T_AREA, t_cover: float = T_COVER) -> bool:
    return (min(a.area, b.area) < t_area and touches(a, b)) or coverage(a, b) > t_cover


def merge_boxes(boxes: Sequence[Box], t_area: float = T_AREA, t_cover: float = T_COVER) -> list[Box]:
    """The boxes of one object after merging to a fixed point (see the module docstring)."""
    current = list(boxes)
    while True:
        pair = next(
            ((i, j) for i in range(len(current)) for j in range(i + 1, len(current))
             if should_merge(current[i], current[j], t_area, t_cover)),
            None,
        )
        if pair is None:
            return current
        i, j = pair
        current[i] = enclosing_box((current[i], current[j]))
        del current[j]


# -- IQA filter ---------------------------------------------------------------------------------------


def iqa_question(quality: str) -> str:
    return IQA_QUESTION.format(quality=" ".join(quality.split()))


def crop_box(image: "Image.Image", box: Box) -> "Image.Image":
    """The pixels under ``box`` (at least one pixel each way, so a degenerate box still crops)."""
    width, height = image.size
    left = min(width - 1, math.floor(box.x1 * width))
    top = min(height - 1, math.floor(box.y1 * height))
    right = max(left + 1, min(width, math.ceil(box.x2 * width)))
    bottom = max(top + 1, min(height, math.ceil(box.y2 * height)))
    return image.crop((left, top, right, bottom))


@dataclass(frozen=True)
class IQAQuery:
    """One crop to ask about; ``key`` says which record, object and box it is."""

    key: str
    crop: "Image.Image"
    quality: str


def ask_iqa(adapter: ModelAdapter, queries: Sequence[IQAQuery], batch_size: int = 8) -> dict[str, str | None]:
    """The adapter's answer for each query key (``None`` where the adapter failed on that crop).

    A batch that raises is retried one query at a time, so one bad crop loses nothing else.
    """
    answers: dict[str, str | None] = {}
    for start in range(0, len(queries), max(1, batch_size)):
        chunk = list(queries[start : start + batch_size])
        try:
            replies = _generate(adapter, chunk)
        except Exception:
            replies = []
            for query in chunk:
                try:
                    replies.extend(_generate(adapter, [query]))
                except Exception:
                    replies.append(None)
        answers.update({q.key: r for q, r in zip(chunk, replies)})
    return answers


def _generate(adapter: ModelAdapter, queries: Sequence[IQAQuery]) -> list[str | None]:
    requests = [
        Request(doc_id=q.key, task="annotate_iqa", question=iqa_question(q.quality), image=q.crop,
                image_size=q.crop.size, raw_question=iqa_question(q.quality), kind="vqa_yn")
        for q in queries
    ]
    replies = adapter.generate(requests)
    if not isinstance(replies, list) or len(replies) != len(requests):
        raise RuntimeError(f"adapter {adapter.name!r} returned a wrong number of answers")
    return [r if isinstance(r, str) else None for r in replies]


def keeps_box(answer: str) -> bool:
    """Only an explicit "No" (the first standalone yes/no word of the answer) drops a box."""
    return yes_no_label(answer) != "no"
