"""VQA samples with GIQA-Bench's exact composition: 90 Yes/No (35 Yes, 55 No) and 60 What/Why/How
(30/18/12), each either referring (a box in the question) or grounding (a box in the answer).

Every "Yes" is about a degradation that was applied inside the asked box (or, for grounding, somewhere
in the image, whose box the answer gives); every "No" is a true negative: the asked distortion (and
anything it could be confused with) was applied neither there nor to the whole image, and the clean
content there plainly lacks it.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .degrade import CONFUSABLE, KINDS, Degradation
from .plan import FAMILY, Content, ImagePlan
from .regions import Region, sample_region
from .text import SEVERITY_ADVERB, adjective, by_importance, capitalise, distorted_phrase, markup, neutral_phrase, pick

# (qtype, mode) -> number of samples; sums to 35 yes + 55 no + 30 what + 18 why + 12 how = 150.
COMPOSITION: dict[tuple[str, str], int] = {
    ("yes", "referring"): 27, ("yes", "grounding"): 8,
    ("no", "referring"): 43, ("no", "grounding"): 12,
    ("what", "referring"): 10, ("what", "grounding"): 20,
    ("why", "referring"): 8, ("why", "grounding"): 10,
    ("how", "referring"): 6, ("how", "grounding"): 6,
}

ASK_REFERRING = {
    "gaussian_blur": ("Is {R} blurry?", "Is {R} out of focus?", "Does {R} look blurred?"),
    "motion_blur": ("Does {R} show motion blur?", "Is {R} smeared by camera shake?", "Is there motion blur in {R}?"),
    "noise": ("Is {R} noisy?", "Does {R} show visible grain or noise?", "Is there noticeable noise in {R}?"),
    "jpeg": ("Does {R} show compression artefacts?", "Is {R} blocky?", "Are there JPEG blocks in {R}?"),
    "overexposure": ("Is {R} over-exposed?", "Is {R} too bright, with clipped highlights?", "Are the highlights in {R} blown out?"),
    "underexposure": ("Is {R} under-exposed?", "Is {R} too dark?", "Are the shadows in {R} crushed?"),
    "colour_cast": ("Does {R} have a colour cast?", "Are the colours in {R} tinted?", "Is {R} discoloured by a tint?"),
    "low_contrast": ("Is {R} low in contrast?", "Does {R} look hazy and flat?", "Is the contrast in {R} reduced?"),
}
ASK_ANYWHERE = {
    "gaussian_blur": "out of focus", "motion_blur": "smeared by motion blur", "noise": "noisy",
    "jpeg": "blocky from compression", "overexposure": "over-exposed", "underexposure": "under-exposed",
    "colour_cast": "affected by a colour cast", "low_contrast": "low in contrast",
}
ANYWHERE_TEMPLATES = ("Is any part of the image {a}?", "Is there a region of this photo that is {a}?",
                      "Does any area of the picture look {a}? If so, where?")
NEGATABLE_ANYWHERE = ("noise", "jpeg", "colour_cast", "overexposure", "underexposure")
ATTRIBUTE = {"sharpness": "sharpness", "noise": "noise level", "compression": "compression quality",
             "exposure": "exposure", "colour": "colour accuracy", "contrast": "contrast"}
HOW_ANYWHERE = {
    "sharpness": "How sharp is this image, and where is it least sharp?",
    "noise": "How clean is this image of noise, and where is it noisiest?",
    "compression": "How well does this image survive compression, and where is it damaged?",
    "exposure": "How good is the exposure of this image, and where is it worst?",
    "colour": "How accurate are the colours in this image, and where are they off?",
    "contrast": "How is the contrast of this image, and where is it weakest?",
}
RATING = {1: ("Fair", "Acceptable but not great"), 2: ("Poor", "Rather poor"), 3: ("Very poor", "Bad")}
EFFECT = {
    "gaussian_blur": "its fine detail is lost", "motion_blur": "its edges are streaked",
    "noise": "grain covers its smooth tones", "jpeg": "it breaks into compression blocks",
    "overexposure": "its highlights are clipped", "underexposure": "its shadows are crushed",
    "colour_cast": "its colours are off", "low_contrast": "its tones look flat",
}

class Sample(NamedTuple):
    question: str
    answer: str
    asks: str | None = None  # the distortion a Yes/No or How question asks about
    region: Region | None = None  # the box a referring question contains

    def meta(self) -> dict[str, object]:
        return {"asks": self.asks, "cells": list(self.region.cells) if self.region else None}


def _grounded(d: Degradation, rng: np.random.Generator) -> str:
    assert d.region is not None
    return markup(distorted_phrase(d, rng), d.region)


def _state(d: Degradation, rng: np.random.Generator) -> str:
    """"heavily motion-blurred", "a little colour-shifted" ..."""
    return f"{pick(rng, SEVERITY_ADVERB[d.severity])} {adjective(d, rng)}"


def _ask(kind: str, region: Region, rng: np.random.Generator) -> str:
    return capitalise(pick(rng, ASK_REFERRING[kind]).format(R=markup(neutral_phrase(region, rng), region)))


def yes_referring(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    answer = pick(rng, ("Yes.", "Yes, it is {s}.", "Yes: {e}.")).format(s=_state(d, rng), e=EFFECT[d.kind])
    assert d.region is not None
    return Sample(_ask(d.kind, d.region, rng), answer, d.kind, d.region)


def yes_grounding(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    question = pick(rng, ANYWHERE_TEMPLATES).format(a=ASK_ANYWHERE[d.kind])
    answer = pick(rng, ("Yes, {g} is {s}.", "Yes: {g}.", "Yes, there is one: {g}.")).format(
        g=_grounded(d, rng), s=_state(d, rng))
    return Sample(question, answer, d.kind)


def no_referring(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    """Either a degraded region asked about another distortion, or a clean region."""
    if rng.random() < 0.4:
        d = plan.local[int(rng.integers(len(plan.local)))]
        assert d.region is not None
        options = [k for k in KINDS if k not in plan.present(d.region)]
        if options:
            asked = str(options[int(rng.integers(len(options)))])
            answer = pick(rng, ("No.", "No, but it is {s} instead.", "No; the problem there is that {e}.")).format(
                s=_state(d, rng), e=EFFECT[d.kind])
            return Sample(_ask(asked, d.region, rng), answer, asked, d.region)
    taken = [d.region for d in plan.local if d.region is not None]
    for asked in rng.permutation(KINDS):
        asked = str(asked)
        if plan.global_ is not None and asked in CONFUSABLE[plan.global_.kind]:
            continue
        region = sample_region(rng, taken, lambda r, k=asked: content.clearly_free_of(k, r), tries=60)
        if region is not None:
            answer = pick(rng, ("No.", "No, it looks clean.", "No, that part of the image is fine."))
            return Sample(_ask(asked, region, rng), answer, asked, region)
    return None


def no_grounding(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    absent = [k for k in NEGATABLE_ANYWHERE if k not in plan.present(None) and content.clearly_free_of(k, None)]
    if not absent:
        return None
    asked = str(absent[int(rng.integers(len(absent)))])
    question = pick(rng, ANYWHERE_TEMPLATES).format(a=ASK_ANYWHERE[asked])
    answer = pick(rng, ("No.", "No, no part of the image is {a}.", "No, nothing in this picture is {a}.")).format(
        a=ASK_ANYWHERE[asked])
    return Sample(question, answer, asked)


def what_referring(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    assert d.region is not None
    r = markup(neutral_phrase(d.region, rng), d.region)
    question = pick(rng, ("What is wrong with {R}?", "What kind of distortion affects {R}?",
                          "What quality issue does {R} have?")).format(R=r)
    answer = pick(rng, ("It is {s}: {e}.", "{S}; {e}.")).format(s=_state(d, rng), S=capitalise(_state(d, rng)),
                                                               e=EFFECT[d.kind])
    return Sample(capitalise(question), answer, None, d.region)


def what_grounding(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    ranked = by_importance(plan.local)
    unique_worst = len(ranked) == 1 or ranked[0].severity > ranked[1].severity
    if unique_worst and rng.random() < 0.6:
        d = ranked[0]
        question = pick(rng, ("What is the most obvious quality problem in this image, and where is it?",
                              "What distortion stands out most in this picture? Show where it is."))
        answer = pick(rng, ("{G} is {s}.", "The worst problem is that {g} is {s}.")).format(
            G=capitalise(_grounded(d, rng)), g=_grounded(d, rng), s=_state(d, rng))
        return Sample(question, answer)
    question = pick(rng, ("What quality problems does this image have, and where are they?",
                          "What distortions can you find in this image? Point to each of them."))
    return Sample(question, capitalise(_problems(ranked, plan, rng)))


def _problems(ranked: list[Degradation], plan: ImagePlan, rng: np.random.Generator) -> str:
    """"[the blurry area ...](<a, b>) is heavily blurred and [...] is ...", lower-case, with a full stop."""
    parts = [f"{_grounded(d, rng)} is {_state(d, rng)}" for d in ranked]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    g = plan.global_
    tail = f" On top of that, the whole image is {_state(g, rng)}." if g is not None else ""
    return text + "." + tail


def why_referring(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    assert d.region is not None
    r = markup(neutral_phrase(d.region, rng), d.region)
    question = pick(rng, ("Why does {R} look worse than the rest of the image?", "Why is the quality of {R} low?",
                          "Why does {R} look poor?")).format(R=r)
    answer = pick(rng, ("Because it is {s}, so {e}.", "Because {e}: the area is {s}.")).format(
        s=_state(d, rng), e=EFFECT[d.kind])
    return Sample(capitalise(question), answer, None, d.region)


def why_grounding(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    question = pick(rng, ("Why would this image get a low quality score?", "Why does this picture look degraded?",
                          "Why is the quality of this photo reduced?"))
    return Sample(question, "Because " + _problems(by_importance(plan.local), plan, rng))


def how_referring(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    assert d.region is not None
    r = markup(neutral_phrase(d.region, rng), d.region)
    question = pick(rng, ("How is the {a} of {R}?", "How would you rate the {a} of {R}?")).format(
        a=ATTRIBUTE[FAMILY[d.kind]], R=r)
    answer = "{r}: it is {s}.".format(r=pick(rng, RATING[d.severity]), s=_state(d, rng))
    return Sample(question, answer, d.kind, d.region)


def how_grounding(plan: ImagePlan, content: Content, rng: np.random.Generator) -> Sample | None:
    d = plan.local[int(rng.integers(len(plan.local)))]
    family = FAMILY[d.kind]
    same = by_importance([x for x in plan.local if FAMILY[x.kind] == family])
    worst = max(x.severity for x in same)
    parts = [f"{_grounded(x, rng)} is {_state(x, rng)}" for x in same]
    answer = "{r}: {p}, while the rest is fine.".format(r=pick(rng, RATING[worst]), p=" and ".join(parts))
    return Sample(HOW_ANYWHERE[family], answer, d.kind)


WRITERS: dict[tuple[str, str], Callable[[ImagePlan, Content, np.random.Generator], Sample | None]] = {
    ("yes", "referring"): yes_referring, ("yes", "grounding"): yes_grounding,
    ("no", "referring"): no_referring, ("no", "grounding"): no_grounding,
    ("what", "referring"): what_referring, ("what", "grounding"): what_grounding,
    ("why", "referring"): why_referring, ("why", "grounding"): why_grounding,
    ("how", "referring"): how_referring, ("how", "grounding"): how_grounding,
}

