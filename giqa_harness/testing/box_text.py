"""Text for exercising box parsers: hostile fuzz strings and realistic model answers.

Shared by tests/test_formats.py (hypothesis draws from `MARKUP_PIECES`) and
benchmarks/bench_parsers.py (which fuzzes with `random_markup` and times `realistic_answer`).
"""

from __future__ import annotations

import random

from ..boxes.formats.base import BoxFormat
from ..boxes.geometry import Box
from ..boxes.grounded import Grounding

# Fragments of every built-in syntax, broken ones included, so that random text reaches deep into
# the parsers instead of bouncing off their first regular expression.
MARKUP_PIECES: tuple[str, ...] = (
    "[", "]", "(", ")", "<", ">", "{", "}", ",", ";", ":", ".", " ", "  ", "\n", "\t", '"', "'", "-", "+",
    "0", "1", "0.5", "999", "1000", "-3", "1e9", "1e999", "nan", "NaN", "inf", "-inf", "Infinity",
    "9" * 40, "0.123", ".5", "5.",
    "the dog", "a cat", "sky", " is blurry", " and ", " or ", "The ", " in ", " at ",
    "[0.1,0.2,0.3,0.4]", "[0.12, 0.34, 0.56, 0.78]", "[100, 200, 300, 400]", " <region_fea>", "[1,2;3,4,5,6,7,8]",
    "<phrase>", "</phrase>", "<object>", "</object>", "<patch_index_0044>", "<patch_index_1023>",
    "<patch_index_5000>", "</delimiter_of_multi_objects/>", "<grounding>", "</image>", "<patch_index_",
    "<ref>", "</ref>", "<box>", "</box>", "(100,200),(300,400)", "(1,2)", "[[10, 20, 30, 40]]",
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
    '{"bbox_2d": [', '10, 20, 300, 400]', ', "label": "dog"}', '{"bbox_2d": [1, 2, 3, 4]}', "```json\n", "```",
    "<loc_12>", "<loc_999>", "<loc_1000>", "<loc_", "</s>", "<s>", "<pad>",
    "[sky](<0, 59>)", "](<", ">)", "<1, 2>", "<3,",
)

_SUBJECTS = ("the sky", "the dog", "a car", "the background", "the person's face", "the tree", "the text")
_DISTORTIONS = ("is over-exposed", "shows motion blur", "is out of focus", "has visible noise",
                "suffers from compression artifacts", "is sharp and clear", "looks under-exposed")


def random_markup(rng: random.Random, max_pieces: int = 40) -> str:
    """A random string: markup fragments, arbitrary characters and (rarely) long runs."""
    parts = []
    for _ in range(rng.randint(0, max_pieces)):
        roll = rng.random()
        if roll < 0.7:
            parts.append(rng.choice(MARKUP_PIECES))
        elif roll < 0.95:
            parts.append(chr(rng.randint(0, 0x2FFF)))
        else:
            parts.append(rng.choice(MARKUP_PIECES) * rng.randint(2, 200))
    return "".join(parts)


def random_box(rng: random.Random) -> Box:
    x1, x2 = sorted((rng.random(), rng.random()))
    y1, y2 = sorted((rng.random(), rng.random()))
    return Box(x1, y1, x2, y2)


def realistic_answer(fmt: BoxFormat, image_size: tuple[int, int], rng: random.Random) -> str:
    """A quality description of three sentences with two to four groundings in ``fmt``'s syntax,
    about as long as the answers of the GIQA-DES task."""
    sentences = []
    for i in range(3):
        subject = rng.choice(_SUBJECTS)
        if i < 2 or rng.random() < 0.5:
            boxes = tuple(random_box(rng) for _ in range(1 if rng.random() < 0.8 else 2))
            subject = fmt.render(Grounding(subject, boxes), image_size)
        sentences.append(f"{subject[0].upper()}{subject[1:]} {rng.choice(_DISTORTIONS)}.")
    return " ".join(sentences) + " Overall, the quality of the image is fair."
