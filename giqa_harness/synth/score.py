"""Score and multiple-choice probes made from the bench's own ground truth (annotations.jsonl).

Nothing here changes the bench files: both read the annotations of a generated bench folder.

**Synthetic MOS** (a probe of how a model ranks known damage, not human opinion). Each applied
degradation d has a severity s_d in {1, 2, 3} and covers a fraction a_d of the image (1 for a
whole-image degradation). Its impact is ``s_d * sqrt(a_d)``: damage counts more the wider it is, with
diminishing growth, as a small severe defect is still plainly visible. With P the sum of impacts::

    MOS = 1 + 4 * exp(-MOS_RATE * P)          # in (1, 5]; 5 for an undamaged image

**Multiple choice** in Q-Bench A1's layout, three questions per image:

- what / distortion: "Which distortion is the most severe in this image?" -- the degradation with
  the largest impact against three distortion families the image does not show;
- yes-or-no / distortion: "Is this image affected by <family>?" -- a present family on even image
  indexes, an absent one (not confusable with any present) on odd ones;
- what / in-context distortion: "Where in the image is the <family> most visible?" -- the third
  (top/middle/bottom x left/centre/right) of the strongest local degradation of that family against
  three other positions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError
from .degrade import CONFUSABLE, KINDS

MOS_RATE = 0.35
FAMILY_NAMES = {
    "gaussian_blur": "blur", "motion_blur": "motion blur", "noise": "noise", "jpeg": "compression artifacts",
    "overexposure": "over-exposure", "underexposure": "under-exposure", "colour_cast": "colour cast",
    "low_contrast": "low contrast",
}
POSITIONS = tuple(f"{v} {h}" for v in ("top", "middle", "bottom") for h in ("left", "centre", "right"))


def read_annotations(folder: Path) -> list[dict[str, Any]]:
    path = folder / "annotations.jsonl"
    if not path.is_file():
        raise DatasetError(f"{path} not found: not a giqa_synth bench folder")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def coverage(degradation: dict[str, Any]) -> float:
    region = degradation.get("region")
    if region is None:
        return 1.0
    x1, y1, x2, y2 = region["box"]
    return max(0.0, (x2 - x1) * (y2 - y1))


def impact(degradation: dict[str, Any]) -> float:
    return float(degradation["severity"]) * math.sqrt(coverage(degradation))


def synthetic_mos(degradations: list[dict[str, Any]]) -> float:
    """The module docstring's formula."""
    return 1.0 + 4.0 * math.exp(-MOS_RATE * sum(impact(d) for d in degradations))


def score_records(folder: Path) -> list[dict[str, Any]]:
    """One ``{"id", "image", "mos"}`` per bench image, in image order."""
    return [{"id": f"synth_{i:03d}_score", "image": a["image"], "mos": synthetic_mos(a["degradations"])}
            for i, a in enumerate(read_annotations(folder))]


def _position(box: list[float]) -> str:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    vertical = "top" if cy < 0.36 else "bottom" if cy > 0.64 else "middle"
    horizontal = "left" if cx < 0.36 else "right" if cx > 0.64 else "centre"
    return f"{vertical} {horizontal}"


def _shuffled(rng: np.random.Generator, correct: str, others: list[str]) -> list[str]:
    options = [correct, *others]
    return [options[i] for i in rng.permutation(len(options))]


def mcq_questions(folder: Path, seed: int = 0) -> list[dict[str, Any]]:
    """The module docstring's questions, as Q-Bench A1 records (``img_path`` relative to ``folder``)."""
    out = []
    for i, a in enumerate(read_annotations(folder)):
        rng = np.random.default_rng([seed, i, 18])
        present = {d["kind"] for d in a["degradations"]}
        confusable = set().union(*(CONFUSABLE[k] for k in present))
        absent_families = sorted({FAMILY_NAMES[k] for k in KINDS if k not in confusable} - {FAMILY_NAMES[k] for k in present})
        worst = max(a["degradations"], key=impact)
        name = FAMILY_NAMES[worst["kind"]]
        distractors = [str(x) for x in rng.choice(absent_families, size=min(3, len(absent_families)), replace=False)]
        if distractors:
            out.append({"id": f"synth_{i:03d}_mcq_worst", "img_path": a["image"], "type": "what", "concern": "distortion",
                        "question": "Which distortion is the most severe in this image?",
                        "candidates": _shuffled(rng, name, distractors), "correct_ans": name})
        asked_present = i % 2 == 0 or not absent_families
        asked = name if asked_present else str(rng.choice(absent_families))
        out.append({"id": f"synth_{i:03d}_mcq_yn", "img_path": a["image"], "type": "yes-or-no", "concern": "distortion",
                    "question": f"Is this image affected by {asked}?", "candidates": ["Yes", "No"],
                    "correct_ans": "Yes" if asked_present else "No"})
        local = [d for d in a["degradations"] if d.get("region") is not None]
        if local:
            strongest = max(local, key=impact)
            where = _position(strongest["region"]["box"])
            kinds_here = [d for d in local if FAMILY_NAMES[d["kind"]] == FAMILY_NAMES[strongest["kind"]]]
            if len(kinds_here) == 1:  # one region of that family: "where" has one answer
                others = [str(p) for p in rng.choice([p for p in POSITIONS if p != where], size=3, replace=False)]
                out.append({"id": f"synth_{i:03d}_mcq_where", "img_path": a["image"], "type": "what",
                            "concern": "in-context distortion",
                            "question": f"Where in the image is the {FAMILY_NAMES[strongest['kind']]} most visible?",
                            "candidates": _shuffled(rng, where, others), "correct_ans": where})
    return out
