"""Answers in words and grid boxes, from an image's findings.

- DES: one grounded sentence per localized finding (strongest first), one per global finding, an
  overall rating;
- Yes/No with a box in the question: the evidence for the asked distortion inside that box against
  the rest of the image; without a box: whether any region shows it (and where);
- What/Why/How: the findings in the asked box, or over the image, with boxes when none was given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boxes.formats.base import BoxFormat
from ..boxes.geometry import Box
from ..boxes.grounded import Grounding
from .findings import ACCEPT, Finding, anomaly_scores, detect, evidence, global_findings
from .language import EFFECT, NOUN, RATING, SEVERITY, adjective, asked_kind, phrase, rating_word
from .measures import BlockMaps, measure

# Evidence (inside minus outside, in tile-score units) above which a referring question gets "Yes".
YES_EVIDENCE = {"overexposure": 2.0, "underexposure": 2.0, "blocking": 2.0, "noise": 2.5, "blur": 1.0,
                "colour_cast": 2.0, "low_contrast": 1.0}
EXPOSURE = ("overexposure", "underexposure")


@dataclass(frozen=True)
class Analysis:
    maps: BlockMaps
    scores: dict[str, np.ndarray]
    local: tuple[Finding, ...]
    global_: tuple[Finding, ...]

    def evidence(self, box: Box) -> dict[str, float]:
        return evidence(self.maps, self.scores, box)


def analyse(pixels: np.ndarray, blocks: int) -> Analysis:
    maps = measure(pixels, blocks)
    scores = anomaly_scores(maps)
    return Analysis(maps, scores, tuple(detect(maps, scores)), tuple(global_findings(maps)))


def _grounded(f: Finding, fmt: BoxFormat, size: tuple[int, int]) -> str:
    return fmt.render(Grounding(phrase(f.kind, f.note, f.box), (f.box,)), size)


def _state(f: Finding) -> str:
    return f"{SEVERITY[f.severity]} {adjective(f.kind, f.note)}"


def _capital(text: str) -> str:
    i = 1 if text.startswith("[") else 0
    return text[:i] + text[i : i + 1].upper() + text[i + 1 :]


def describe(a: Analysis, fmt: BoxFormat, size: tuple[int, int]) -> str:
    sentences = [_capital(f"{_grounded(f, fmt, size)} is {_state(f)}: {EFFECT[f.kind]}.") for f in a.local]
    sentences += [f"The whole image is {_state(f)}." for f in a.global_]
    if not sentences:
        return "The image looks clean: sharp, well exposed and free of visible noise. Overall, the quality is good."
    if not a.global_:
        sentences.append("The rest of the image looks clean.")
    sentences.append(f"Overall, the quality is {rating_word([f.severity for f in a.local + a.global_])}.")
    return " ".join(sentences)


def _kinds(asked: str | None) -> tuple[str, ...]:
    return EXPOSURE if asked == "exposure" else (asked,) if asked else ()


def _most_evident(scores: dict[str, float], kinds: tuple[str, ...]) -> str:
    """Of ``kinds``, the one whose evidence is largest relative to its Yes threshold."""
    return max(kinds, key=lambda k: scores[k] / YES_EVIDENCE[k])


def _severity_from_evidence(kind: str, value: float) -> int:
    ratio = value / YES_EVIDENCE[kind]
    return 1 if ratio < 2 else 2 if ratio < 4 else 3


def yes_no(a: Analysis, question: str, referring: tuple[Grounding, ...], fmt: BoxFormat, size: tuple[int, int]) -> str:
    kinds = _kinds(asked_kind(question))
    if not kinds:
        return "No."
    boxes = [b for g in referring for b in g.boxes]
    if boxes:
        scores = a.evidence(boxes[0])
        kind = _most_evident(scores, kinds)
        if scores[kind] >= YES_EVIDENCE[kind]:
            sev = _severity_from_evidence(kind, scores[kind])
            return f"Yes, it is {SEVERITY[sev]} {adjective(kind)}."
        return f"No, it does not look {adjective(kind)}."
    found = [f for f in a.local if f.kind in kinds and f.strength >= ACCEPT[f.kind]]
    if found:
        return f"Yes, {_grounded(found[0], fmt, size)} is {_state(found[0])}."
    if any(f.kind in kinds for f in a.global_):
        return f"Yes, the whole image is {adjective(kinds[0])}."
    return f"No, no part of the image looks {adjective(kinds[0])}."


def open_answer(a: Analysis, question: str, referring: tuple[Grounding, ...], fmt: BoxFormat,
                size: tuple[int, int]) -> str:
    """What/Why/How."""
    kinds = _kinds(asked_kind(question))
    lead = question.strip().split()[0].lower() if question.strip() else ""
    boxes = [b for g in referring for b in g.boxes]
    if boxes:
        scores = a.evidence(boxes[0])
        kind = _most_evident(scores, kinds or tuple(scores))
        if scores[kind] < YES_EVIDENCE[kind]:
            return "Good: this area looks clean." if lead == "how" else "Nothing obvious: this area looks clean."
        sev = _severity_from_evidence(kind, scores[kind])
        state = f"{SEVERITY[sev]} {adjective(kind)}"
        if lead == "how":
            return f"{RATING[sev]}: it is {state}."
        if lead == "why":
            return f"Because it is {state}, so {EFFECT[kind]}."
        return f"It is {state}: {EFFECT[kind]}."
    found = [f for f in a.local if not kinds or f.kind in kinds]
    if not found:
        if kinds:
            return f"Good: no part of the image shows {NOUN[kinds[0]]}."
        return "The image looks clean; I see no clear distortion."
    parts = [f"{_grounded(f, fmt, size)} is {_state(f)}" for f in found]
    listing = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    if lead == "how":
        return f"{RATING[max(f.severity for f in found)]}: {listing}."
    if lead == "why":
        return f"Because {listing}."
    return _capital(listing) + "."


def quality_score(a: Analysis) -> float:
    """A 1-5 quality score from the findings: ``1 + 4 * exp(-D)`` where the damage D sums, over every
    local and whole-image finding, its severity (1-3) times the fraction of the image its box covers."""
    import math

    damage = sum(f.severity * f.box.area for f in (*a.local, *a.global_))
    return 1.0 + 4.0 * math.exp(-damage)


def level_answer(a: Analysis) -> str:
    """The answer to a level question ("How would you rate the quality of this image?"): the score as a
    number, which score tasks read when an answer holds no level word."""
    return f"I rate it {quality_score(a):.3f} out of 5."
