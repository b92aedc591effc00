"""Words for what was applied: phrases for regions, sentences for degradations, whole descriptions.

Every choice is drawn from the image's own random generator, so the wording varies from sample to
sample (several phrasings per degradation, location and severity) but is reproducible. Phrases in
reference answers name the distortion ("the grainy patch in the lower right"); phrases in questions
name only the place, so a question never gives its answer away.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..boxes.formats.grid import GridFormat
from ..boxes.grounded import Grounding
from .degrade import Degradation
from .regions import Region, location

SEVERITY_ADVERB = {1: ("slightly", "mildly", "a little"), 2: ("noticeably", "clearly", "moderately"),
                   3: ("heavily", "severely", "badly")}
SEVERITY_ADJECTIVE = {1: ("slight", "mild", "faint"), 2: ("noticeable", "clear", "moderate"),
                      3: ("heavy", "severe", "strong")}
TINT_WORD = {"blue": "bluish", "orange": "orange", "green": "greenish", "magenta": "magenta"}

ADJECTIVES = {
    "gaussian_blur": ("blurry", "out-of-focus", "blurred"),
    "motion_blur": ("motion-blurred", "smeared", "shake-blurred"),
    "noise": ("noisy", "grainy", "speckled"),
    "jpeg": ("blocky", "compression-damaged", "JPEG-blocked"),
    "overexposure": ("over-exposed", "blown-out", "overly bright"),
    "underexposure": ("under-exposed", "dark", "murky"),
    "colour_cast": ("{tint}-tinted", "colour-shifted", "discoloured"),
    "low_contrast": ("low-contrast", "hazy", "washed-out"),
}
NOUNS = ("area", "region", "patch", "part", "section")

LOC_PREP = {
    ("top", "left"): ("in the top-left corner", "at the upper left", "in the upper-left part of the frame"),
    ("top", "centre"): ("at the top", "near the top edge", "in the upper middle"),
    ("top", "right"): ("in the top-right corner", "at the upper right", "in the upper-right part of the frame"),
    ("middle", "left"): ("on the left", "along the left side", "at the left edge"),
    ("middle", "centre"): ("in the centre", "in the middle of the frame", "at the centre"),
    ("middle", "right"): ("on the right", "along the right side", "at the right edge"),
    ("bottom", "left"): ("in the bottom-left corner", "at the lower left", "in the lower-left part of the frame"),
    ("bottom", "centre"): ("at the bottom", "near the bottom edge", "in the lower middle"),
    ("bottom", "right"): ("in the bottom-right corner", "at the lower right", "in the lower-right part of the frame"),
}
LOC_ADJ = {
    ("top", "left"): ("top-left", "upper-left"), ("top", "centre"): ("upper", "top"),
    ("top", "right"): ("top-right", "upper-right"), ("middle", "left"): ("left-hand", "left"),
    ("middle", "centre"): ("central", "middle"), ("middle", "right"): ("right-hand", "right"),
    ("bottom", "left"): ("bottom-left", "lower-left"), ("bottom", "centre"): ("lower", "bottom"),
    ("bottom", "right"): ("bottom-right", "lower-right"),
}

LOCAL_SENTENCES = {
    "gaussian_blur": ("{P} is {adv} out of focus, so its fine detail is lost.",
                      "Detail in {P} is {adv} softened by defocus blur.",
                      "{P} looks {adv} blurred: edges there are soft and textures run together."),
    "motion_blur": ("{P} is {adv} smeared by motion blur, with streaks running {direction}.",
                    "Camera shake has {adv} streaked {P} {direction}.",
                    "{P} shows {adj} motion blur; its edges are doubled and stretched {direction}."),
    "noise": ("{P} is {adv} noisy, with grainy speckles over every surface.",
              "{Adj} sensor noise covers {P}.",
              "{P} is {adv} grainy; the noise shows most in its smooth tones."),
    "jpeg": ("{P} shows {adj} JPEG blocking, with visible 8x8 squares.",
             "Compression artefacts {adv} break {P} into blocks.",
             "{P} is {adv} blocky from heavy compression."),
    "overexposure": ("{P} is {adv} over-exposed, and its highlights are clipped to white.",
                     "Too much light leaves {P} {adv} over-exposed and washed of detail.",
                     "{P} is {adv} over-exposed, so its bright tones are washed out."),
    "underexposure": ("{P} is {adv} under-exposed, and its shadows are crushed.",
                      "{P} is {adv} too dark to show its detail.",
                      "Under-exposure leaves {P} {adv} dark."),
    "colour_cast": ("{P} has a {adj} {tint} colour cast.",
                    "Colours in {P} are {adv} shifted towards {tint}.",
                    "A {adj} {tint} tint covers {P}."),
    "low_contrast": ("{P} is {adv} low in contrast and looks hazy.",
                     "Contrast in {P} is {adv} reduced, so it looks flat and grey.",
                     "{P} looks {adv} washed out, with muted tones."),
}
GLOBAL_SENTENCES = {
    "gaussian_blur": ("The whole image is {adv} soft, as if slightly out of focus.",
                      "Across the entire frame the picture is {adv} blurred."),
    "noise": ("A {adj} layer of noise covers the whole picture.", "The entire image is {adv} grainy."),
    "jpeg": ("The entire image shows {adj} compression blocking.", "The whole picture is {adv} blocky from compression."),
    "colour_cast": ("The whole photo has a {adj} {tint} cast.", "All colours in the image are {adv} shifted towards {tint}."),
    "low_contrast": ("Overall, the picture is {adv} low in contrast.", "The whole image looks {adv} flat and hazy."),
}
DES_QUESTIONS = (
    "Explore the quality factors of the image and offer an evaluation based on your insights.",
    "Describe and evaluate the quality of the image.",
    "Explore the quality factors of the image and offer an evaluation based on your insights. "
    "Point out the positions of the regions you mention.",
    "Assess the visual quality of this picture and mark the regions that affect it.",
    "How good is the quality of this image? Describe the problems and where they are.",
    "Evaluate this image's quality, referring to specific regions.",
    "Describe the quality of the photo, including where any distortions appear.",
    "Give a detailed quality assessment of this image with the locations of its defects.",
    "What is the quality of this image like? Point to the affected areas.",
    "Analyse the image for quality issues and describe where they occur.",
    "Rate the quality of the image and explain your rating with reference to regions of the image.",
    "Inspect the image and report its quality problems together with their positions.",
    "Describe any distortions in this image and judge its overall quality.",
    "Provide a quality description of the image, grounding each issue you find.",
    "Examine the image quality: which parts are degraded, how, and how good is it overall?",
)
OPENERS = ("This is a photo of {subject}.", "The picture shows {subject}.", "The image shows {subject}.")
CLEAN_REST = ("The rest of the image is sharp and well exposed.", "Elsewhere the photo is clean and sharp.",
              "Outside the affected {area}, the quality is good.")
CLOSERS = ("Overall, the quality is {rating}.", "Overall quality: {rating}.",
           "I would rate the overall quality as {rating}.", "Taken together, the image quality is {rating}.")

_GRID = GridFormat()


def pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return str(options[int(rng.integers(len(options)))])


def markup(phrase: str, region: Region) -> str:
    """``[phrase](<a, b>)`` exactly as the canonical grid format renders it."""
    return _GRID.render(Grounding(phrase, (region.box,)), (1, 1))


def capitalise(text: str) -> str:
    """Upper-case the first letter, looking through a leading ``[`` of markup."""
    i = 1 if text.startswith("[") else 0
    return text[:i] + text[i : i + 1].upper() + text[i + 1 :]


def adjective(d: Degradation, rng: np.random.Generator) -> str:
    return pick(rng, ADJECTIVES[d.kind]).format(tint=d.params.get("tint", ""))


def direction(angle: float) -> str:
    return "horizontally" if angle in (0.0, 180.0) else "vertically" if angle == 90.0 else "diagonally"


def tint_name(d: Degradation) -> str:
    return TINT_WORD.get(str(d.params.get("tint", "")), "")


def distorted_phrase(d: Degradation, rng: np.random.Generator) -> str:
    """A reference phrase that names the distortion and the place."""
    assert d.region is not None
    where = location(d.region)
    adj, noun = adjective(d, rng), pick(rng, NOUNS)
    if rng.random() < 0.5:
        return f"the {adj} {noun} {pick(rng, LOC_PREP[where])}"
    return f"the {adj} {pick(rng, LOC_ADJ[where])} {noun}"


def neutral_phrase(region: Region, rng: np.random.Generator) -> str:
    """A question phrase that names only the place."""
    where, noun = location(region), pick(rng, NOUNS)
    form = int(rng.integers(3))
    if form == 0:
        return f"the {pick(rng, LOC_ADJ[where])} {noun}"
    if form == 1:
        return f"the {noun} {pick(rng, LOC_PREP[where])}"
    return f"the marked {noun}"


def fill(template: str, d: Degradation, rng: np.random.Generator, grounded: str = "") -> str:
    adv = pick(rng, SEVERITY_ADVERB[d.severity])
    adj = pick(rng, SEVERITY_ADJECTIVE[d.severity])
    text = template.format(
        P=grounded, adv=adv, adj=adj, Adj=adj.capitalize(), tint=tint_name(d),
        direction=direction(float(d.params.get("angle", 0.0))),
    )
    return capitalise(text)


def local_sentence(d: Degradation, rng: np.random.Generator) -> str:
    assert d.region is not None
    return fill(pick(rng, LOCAL_SENTENCES[d.kind]), d, rng, markup(distorted_phrase(d, rng), d.region))


def global_sentence(d: Degradation, rng: np.random.Generator) -> str:
    return fill(pick(rng, GLOBAL_SENTENCES[d.kind]), d, rng)


def rating(degradations: Sequence[Degradation]) -> str:
    points = sum(d.severity * (1.5 if d.region is None else 1.0) for d in degradations)
    return "good" if points <= 1 else "fair" if points <= 3 else "poor" if points <= 5 else "bad"


def by_importance(degradations: Sequence[Degradation]) -> list[Degradation]:
    """Most severe first; among equals the larger region, then reading order."""
    def key(d: Degradation) -> tuple[float, float, int]:
        assert d.region is not None
        return (-d.severity, -d.region.box.area, d.region.cells[0])

    return sorted((d for d in degradations if d.region is not None), key=key)


def description(subject: str, degradations: Sequence[Degradation], rng: np.random.Generator) -> str:
    """The DES reference: an optional opener, one grounded sentence per localized degradation (most
    severe first), the global one if any, what is left clean, and an overall rating."""
    sentences = []
    if rng.random() < 0.5:
        sentences.append(pick(rng, OPENERS).format(subject=subject))
    local = by_importance(degradations)
    sentences += [local_sentence(d, rng) for d in local]
    global_ = [d for d in degradations if d.region is None]
    if global_:
        sentences += [global_sentence(d, rng) for d in global_]
    elif rng.random() < 0.7:
        sentences.append(pick(rng, CLEAN_REST).format(area="regions" if len(local) > 1 else "region"))
    sentences.append(pick(rng, CLOSERS).format(rating=rating(degradations)))
    return " ".join(sentences)
