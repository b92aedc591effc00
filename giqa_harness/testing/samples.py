"""Building metric `Sample`s by hand, for tests and benchmarks (no images, no model run)."""

from __future__ import annotations

from typing import Sequence

from ..boxes.geometry import Box
from ..boxes.grounded import GroundedText, Grounding
from ..docs import Doc
from ..metrics.base import Sample

GroundingSpec = tuple[str, Sequence[Box]]  # (phrase, boxes)


def grounded(text: str = "", groundings: Sequence[GroundingSpec] = ()) -> GroundedText:
    """A `GroundedText` whose plain text is ``text`` and whose groundings are given directly."""
    return GroundedText(text=text, plain=text, groundings=tuple(Grounding(p, tuple(b)) for p, b in groundings))


def sample(
    prediction: GroundedText | str = "",
    reference: GroundedText | str = "",
    kind: str = "des",
    question: GroundedText | str = "",
    qtype: str | None = None,
    doc_id: str = "s",
    emits_boxes: bool = True,
) -> Sample:
    """A sample; strings are parsed with the canonical grid format on a 100 x 100 image."""
    from ..boxes.formats import CANONICAL_FORMAT, get_format

    def parse(value: GroundedText | str) -> GroundedText:
        if not isinstance(value, str):
            return value
        # What parsing "" gives, without a registry lookup: benchmarks build 10,000 samples this way.
        return get_format(CANONICAL_FORMAT).parse(value, (100, 100)) if value else GroundedText(text="", plain="")

    pred, ref, quest = parse(prediction), parse(reference), parse(question)
    doc = Doc(doc_id=doc_id, image="unused.png", question=quest.text, answer=ref.text, kind=kind,  # type: ignore[arg-type]
              qtype=qtype, image_size=(100, 100))
    return Sample(doc, pred.text, pred, ref, quest, emits_boxes)
