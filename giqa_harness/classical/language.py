"""What a question asks about, and the words the classical baseline answers with.

Its own small vocabulary, written for quality questions in general (it is not shared with the
giqa_synth generator, whose wording it must not know).
"""

from __future__ import annotations

import re

from ..boxes.geometry import Box

# Ordered: the first kind whose pattern matches wins, so specific phrases come before generic words.
QUESTION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("overexposure", r"over-?expos|too bright|blown|highlight|clipp|burnt out"),
        ("underexposure", r"under-?expos|too dark|shadow|crushed|\bdark"),
        ("blocking", r"compress|jpe?g|block|artefact|artifact|pixelat"),
        ("noise", r"nois|grain|speckl"),
        ("low_contrast", r"contrast|haz[ey]|\bflat\b|washed|dull"),
        ("colour_cast", r"colou?r|tint|white balance|discolou?r|hue"),
        ("blur", r"blur|focus|sharp|soft|smear|shak|motion|detail|clarity|clear"),
        ("exposure", r"expos|bright"),
    )
)
ADJECTIVE = {
    "blur": "blurry", "noise": "noisy", "blocking": "blocky", "overexposure": "over-exposed",
    "underexposure": "under-exposed", "colour_cast": "colour-shifted", "low_contrast": "low-contrast",
}
# Grounded phrases name the distortion in two common words, as people describing quality tend to.
PHRASE = {
    "blur": "blurry, out-of-focus", "noise": "noisy, grainy", "blocking": "blocky, over-compressed",
    "overexposure": "over-exposed, blown-out", "underexposure": "under-exposed, dark",
    "colour_cast": "colour-shifted", "low_contrast": "low-contrast, hazy",
}
NOUN = {
    "blur": "blur", "noise": "noise", "blocking": "compression blocking", "overexposure": "over-exposure",
    "underexposure": "under-exposure", "colour_cast": "a colour cast", "low_contrast": "low contrast",
}
EFFECT = {
    "blur": "fine detail is lost", "noise": "grain covers the smooth tones", "blocking": "the area breaks into 8x8 blocks",
    "overexposure": "highlights are clipped to white", "underexposure": "shadow detail is crushed",
    "colour_cast": "the colours are shifted", "low_contrast": "the tones look flat",
}
SEVERITY = {1: "slightly", 2: "noticeably", 3: "heavily"}
RATING = {1: "Fair", 2: "Poor", 3: "Very poor"}


def asked_kind(question: str) -> str | None:
    """The distortion a question is about ('exposure' when it asks about exposure in general)."""
    for kind, pattern in QUESTION_KINDS:
        if pattern.search(question):
            return kind
    return None


def adjective(kind: str, note: str = "") -> str:
    if kind == "blur" and note == "motion":
        return "motion-blurred"
    if kind == "colour_cast" and note:
        return f"{note}-tinted"
    return ADJECTIVE[kind]


def phrase(kind: str, note: str, box: Box) -> str:
    """The grounded phrase of a finding: "the noisy, grainy region at the top left"."""
    words = adjective(kind, note) if note else PHRASE[kind]
    return f"the {words} region {place(box)}"


def place(box: Box) -> str:
    """"at the top left", "in the centre" ... from the box centre, by thirds."""
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    vertical = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else ""
    horizontal = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else ""
    if vertical and horizontal:
        return f"at the {vertical} {horizontal}"
    if vertical or horizontal:
        return f"at the {vertical or horizontal}"
    return "in the centre"


def rating_word(severities: list[int]) -> str:
    points = sum(severities)
    return "good" if points <= 1 else "fair" if points <= 3 else "poor" if points <= 5 else "bad"
