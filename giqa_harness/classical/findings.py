"""From per-block measures to findings: which distortion, where (a box), how strong.

Every measure becomes a per-tile anomaly score relative to the image itself (robust z-score against
the image's median tile), because a photo's own content sets what is normal for it. Regions are the
maximum-sum rectangles of ``score - threshold`` (tiles below the threshold count against a rectangle,
so it hugs the anomalous area), kept when large and strong enough. Distortions that one kind of damage
also causes (a blown-out area is also flat; blocking also removes detail) are resolved in favour of the
more specific evidence. Deterministic: no randomness anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..boxes.geometry import Box, iou
from .measures import BlockMaps

KINDS: tuple[str, ...] = (
    "overexposure", "underexposure", "blocking", "noise", "blur", "colour_cast", "low_contrast",
)  # most specific first: the order breaks ties between equally strong candidates

THRESHOLD = {"overexposure": 1.5, "underexposure": 2.2, "blocking": 2.5, "noise": 3.0, "blur": 1.0,
             "colour_cast": 2.0, "low_contrast": 1.0}  # tile score above which a tile counts as anomalous
ACCEPT = {"overexposure": 2.6, "underexposure": 3.3, "blocking": 3.0, "noise": 5.0, "blur": 1.8,
          "colour_cast": 3.0, "low_contrast": 1.8}  # mean tile score a region needs to be reported
MIN_TILES = 4  # two grid cells
MAX_REGIONS_PER_KIND = 2


@dataclass(frozen=True)
class Finding:
    kind: str
    box: Box
    strength: float  # mean anomaly score inside the box
    severity: int  # 1 mild, 2 moderate, 3 severe
    note: str = ""  # "motion" for directional blur, the tint of a colour cast


def _robust_z(values: np.ndarray, floor: float, valid: np.ndarray | None = None) -> np.ndarray:
    ref = values[valid] if valid is not None and valid.sum() >= 20 else values.ravel()
    median = float(np.median(ref))
    scale = max(1.4826 * float(np.median(np.abs(ref - median))), floor)
    return (values - median) / scale


def anomaly_scores(maps: BlockMaps) -> dict[str, np.ndarray]:
    """Per-tile scores, one map per kind; positive means "more of this distortion than usual here".

    Smoothing, blur and lost contrast all leave a region *cleaner* than the photo's own fine grain, so
    a drop of the noise residual supports them; blur is told from low contrast by the sharpness ratio
    (blur removes fine detail first, a contrast loss scales every scale alike).
    """
    z_sharp = _robust_z(maps.sharpness, 0.3)
    z_noise = _robust_z(maps.noise, 0.5)
    z_contrast = _robust_z(maps.contrast, 0.2)
    quieter = np.maximum(-z_noise, 0.0)
    luma_median = float(np.median(maps.luma))
    chroma_median = np.median(maps.chroma.reshape(-1, 2), axis=0)
    chroma_offset = np.hypot(*(maps.chroma - chroma_median).transpose(2, 0, 1))
    scores = {
        # Brightness in grey levels: clipped highlights count as 100 levels more.
        "overexposure": (maps.luma + 100 * maps.bright - 150.0) / 25.0,
        "underexposure": (np.maximum(luma_median - maps.luma, 0) + np.maximum(90.0 - maps.luma, 0)) / 30.0
        + 0.5 * np.maximum(-z_contrast, 0.0),
        "blocking": _robust_z(ndimage.uniform_filter(maps.blockiness, 3, mode="nearest"), 0.08),
        "noise": _robust_z(maps.noise, 1.0),
        "blur": -z_sharp + 0.5 * quieter,
        "colour_cast": chroma_offset / 10.0,  # in units of 10 levels of (R - Y, B - Y) offset
        "low_contrast": -z_contrast + 0.5 * quieter - np.maximum(-z_sharp, 0.0),
    }
    # Single tiles are noisy; a 3 x 3 median keeps region edges and drops isolated tiles.
    return {k: ndimage.median_filter(v, size=3, mode="nearest") for k, v in scores.items()}


def best_rectangle(score: np.ndarray) -> tuple[float, tuple[int, int, int, int]]:
    """The axis-aligned rectangle (r0, c0, r1, c1), end-exclusive, with the largest sum of ``score``.

    Kadane's algorithm over columns, run for every pair of rows at once.
    """
    n_rows, n_cols = score.shape
    prefix = np.vstack([np.zeros((1, n_cols)), np.cumsum(score, axis=0)])
    r0, r1 = np.triu_indices(n_rows + 1, k=1)
    columns = prefix[r1] - prefix[r0]  # pairs x cols: column sums of rows r0..r1-1
    best = np.full(len(r0), -np.inf)
    best_start = np.zeros(len(r0), dtype=int)
    best_end = np.zeros(len(r0), dtype=int)
    running = np.zeros(len(r0))
    start = np.zeros(len(r0), dtype=int)
    for c in range(n_cols):
        restart = running <= 0
        running = np.where(restart, columns[:, c], running + columns[:, c])
        start = np.where(restart, c, start)
        better = running > best
        best = np.where(better, running, best)
        best_start = np.where(better, start, best_start)
        best_end = np.where(better, c + 1, best_end)
    i = int(np.argmax(best))
    return float(best[i]), (int(r0[i]), int(best_start[i]), int(r1[i]), int(best_end[i]))


def _regions(score: np.ndarray, kind: str) -> list[tuple[int, int, int, int]]:
    work = score - THRESHOLD[kind]
    found = []
    for _ in range(MAX_REGIONS_PER_KIND):
        total, (r0, c0, r1, c1) = best_rectangle(work)
        if total <= 0 or r1 - r0 < MIN_TILES or c1 - c0 < MIN_TILES:
            break
        if float(score[r0:r1, c0:c1].mean()) < ACCEPT[kind]:
            break
        found.append((r0, c0, r1, c1))
        work[max(0, r0 - 1) : r1 + 1, max(0, c0 - 1) : c1 + 1] = -1e6  # never reuse these tiles
    return found


def _rest(values: np.ndarray, maps: BlockMaps, box: Box) -> np.ndarray:
    """Median of ``values`` over the tiles outside ``box`` (zero when the box covers every tile)."""
    outside = values[maps.outside(box)]
    return np.median(outside, axis=0) if len(outside) else np.zeros(values.shape[2:])


def _severity(kind: str, maps: BlockMaps, box: Box, strength: float) -> int:
    inside = maps.box_slices(box)
    if kind == "noise":
        level = float(np.median(maps.noise[inside]) - _rest(maps.noise, maps, box))
        return 1 if level < 8 else 2 if level < 16 else 3
    if kind == "overexposure":
        clipped = float(maps.bright[inside].mean())
        return 1 if clipped < 0.35 else 2 if clipped < 0.75 else 3
    if kind == "underexposure":
        luma = float(maps.luma[inside].mean())
        return 1 if luma > 50 else 2 if luma > 30 else 3
    return 1 if strength < 5 else 2 if strength < 8 else 3


def _note(kind: str, maps: BlockMaps, box: Box) -> str:
    inside = maps.box_slices(box)
    if kind == "blur":
        gain = float(np.median(maps.coherence[inside]) - _rest(maps.coherence, maps, box))
        return "motion" if gain > 0.15 else ""
    if kind == "colour_cast":
        r, b = np.median(maps.chroma[inside].reshape(-1, 2), axis=0) - _rest(maps.chroma, maps, box)
        if r > 0 and b > 0:
            return "magenta"
        if r <= 0 and b <= 0:
            return "green"
        return "orange" if r > b else "blue"
    return ""


def detect(maps: BlockMaps, scores: dict[str, np.ndarray]) -> list[Finding]:
    """Localized findings (``scores`` from `anomaly_scores`), strongest evidence first.

    Candidates of every kind compete: in order of their strength relative to what their kind needs
    to be reported, a candidate is kept unless it overlaps one already kept (one area, one cause).
    """
    candidates = []
    for kind in KINDS:
        for r0, c0, r1, c1 in _regions(scores[kind], kind):
            strength = float(scores[kind][r0:r1, c0:c1].mean())
            candidates.append((strength / ACCEPT[kind], kind, maps.tiles_to_box(r0, c0, r1, c1), strength))
    findings: list[Finding] = []
    for _, kind, box, strength in sorted(candidates, key=lambda c: (-c[0], KINDS.index(c[1]))):
        if any(iou(box, f.box) > 0.3 for f in findings):
            continue
        findings.append(Finding(kind, box, strength, _severity(kind, maps, box, strength), _note(kind, maps, box)))
    return findings


def evidence(maps: BlockMaps, scores: dict[str, np.ndarray], box: Box) -> dict[str, float]:
    """For a given box: how much more of each distortion it shows than the rest of the image (median
    tile score inside minus median outside)."""
    inside = maps.box_slices(box)
    return {kind: float(np.median(score[inside]) - _rest(score, maps, box)) for kind, score in scores.items()}


def global_findings(maps: BlockMaps) -> list[Finding]:
    """Distortions spread over the whole image, judged on absolute levels of the median tile (a
    relative score cannot see what every tile shares)."""
    from ..boxes.geometry import WHOLE_IMAGE

    out = []
    noise = float(np.median(maps.noise))
    if noise > 8.5:
        out.append(Finding("noise", WHOLE_IMAGE, noise, 1 if noise < 13 else 2))
    blocks = float(np.median(maps.blockiness))
    if blocks > 0.3:
        out.append(Finding("blocking", WHOLE_IMAGE, blocks, 1 if blocks < 0.6 else 2))
    sharpness = float(np.median(maps.sharpness))
    if sharpness < 0.7:
        out.append(Finding("blur", WHOLE_IMAGE, -sharpness, 2 if sharpness < 0.5 else 1))
    contrast = float(np.median(maps.contrast))
    if contrast < 1.5 and sharpness >= 0.7:
        out.append(Finding("low_contrast", WHOLE_IMAGE, -contrast, 2 if contrast < 1.3 else 1))
    chroma = maps.chroma.reshape(-1, 2)
    offset = np.median(chroma, axis=0)
    spread = float(np.median(np.hypot(*(chroma - offset).T)))
    if float(np.hypot(*offset)) > 25 and spread < 8:  # every tile shifted alike: a cast, not colourful content
        r, b = offset
        tint = "magenta" if r > 0 and b > 0 else "green" if r <= 0 and b <= 0 else "orange" if r > b else "blue"
        out.append(Finding("colour_cast", WHOLE_IMAGE, float(np.hypot(*offset)), 1, tint))
    return out
