"""Which degradations each image gets, and where.

Regions are only accepted where the degradation will be visible (blurring a flat sky changes
nothing), and negative questions only ask about regions whose clean content cannot be mistaken for the
asked distortion (a naturally white shirt is not "over-exposed"). Both checks read the *clean* base
image; they keep the ground truth honest and never look at what a baseline would measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .degrade import CONFUSABLE, GLOBAL_KINDS, KINDS, Degradation, draw_params
from ..boxes.formats.grid import GRID_SIZE
from .regions import Region, sample_region
from .sources import BaseImage

FAMILY: dict[str, str] = {
    "gaussian_blur": "sharpness", "motion_blur": "sharpness", "noise": "noise", "jpeg": "compression",
    "overexposure": "exposure", "underexposure": "exposure", "colour_cast": "colour", "low_contrast": "contrast",
}
LOCAL_COUNT_WEIGHTS = (0.35, 0.45, 0.20)  # one, two or three localized degradations
GLOBAL_PROBABILITY = 0.3


class Content:
    """Statistics of the clean base image, summed per half-cell tile (40 x 40 tiles).

    Region edges run through cell centres, i.e. along half-cell lines, so every region statistic is
    exact from these tile sums, and a plan keeps a few KB instead of the image.
    """

    TILES = 2 * GRID_SIZE

    def __init__(self, pixels: np.ndarray) -> None:
        rgb = pixels.astype(np.float64)
        h, w = pixels.shape[:2]
        luma = rgb @ np.array([0.299, 0.587, 0.114])
        smooth = ndimage.gaussian_filter(luma, 1.0)
        detail = np.hypot(ndimage.sobel(smooth, 1), ndimage.sobel(smooth, 0)) / 8.0
        planes = np.stack([np.ones_like(luma), luma, luma * luma, detail, rgb[..., 0] - luma, rgb[..., 2] - luma,
                           luma >= 235.0, luma <= 25.0])
        rows = np.round(np.arange(self.TILES + 1) * h / self.TILES).astype(int)
        cols = np.round(np.arange(self.TILES + 1) * w / self.TILES).astype(int)
        sums = np.add.reduceat(np.add.reduceat(planes, rows[:-1], axis=1), cols[:-1], axis=2)
        self._cumulative = np.pad(sums.cumsum(axis=1).cumsum(axis=2), ((0, 0), (1, 0), (1, 0)))
        self.image_detail = float(detail.mean())
        self.image_chroma = np.array([float((rgb[..., 0] - luma).mean()), float((rgb[..., 2] - luma).mean())])

    def _mean(self, region: Region | None) -> np.ndarray:
        """Per-pixel means of every plane over the region (None: the whole image)."""
        if region is None:
            r0, c0, r1, c1 = 0, 0, self.TILES, self.TILES
        else:
            r0, c0, r1, c1 = 2 * region.row1 + 1, 2 * region.col1 + 1, 2 * region.row2 + 1, 2 * region.col2 + 1
        s = self._cumulative
        total = s[:, r1, c1] - s[:, r0, c1] - s[:, r1, c0] + s[:, r0, c0]
        return total / total[0]

    def detail_ratio(self, region: Region | None) -> float:
        return float(self._mean(region)[3]) / max(self.image_detail, 1e-6)

    def mean_luma(self, region: Region | None) -> float:
        return float(self._mean(region)[1])

    def luma_std(self, region: Region | None) -> float:
        m = self._mean(region)
        return float(np.sqrt(max(m[2] - m[1] ** 2, 0.0)))

    def bright_fraction(self, region: Region | None) -> float:
        return float(self._mean(region)[6])

    def dark_fraction(self, region: Region | None) -> float:
        return float(self._mean(region)[7])

    def colour_offset(self, region: Region | None) -> float:
        return float(np.hypot(*(self._mean(region)[4:6] - self.image_chroma)))

    def shows(self, kind: str, region: Region) -> bool:
        """Whether degrading ``region`` with ``kind`` would be clearly visible."""
        if kind in ("gaussian_blur", "motion_blur", "jpeg"):
            return self.detail_ratio(region) >= 0.8
        if kind == "low_contrast":
            return self.luma_std(region) >= 25.0 and self.detail_ratio(region) >= 0.6
        if kind == "overexposure":
            return self.mean_luma(region) <= 170.0
        if kind == "underexposure":
            return self.mean_luma(region) >= 70.0
        return 30.0 <= self.mean_luma(region) <= 225.0  # noise and colour casts vanish in clipped tones

    def clearly_free_of(self, kind: str, region: Region | None) -> bool:
        """Whether the clean content of ``region`` (None: the whole image) plainly lacks ``kind``."""
        if kind in ("gaussian_blur", "motion_blur", "jpeg"):
            return region is not None and self.detail_ratio(region) >= 1.0
        if kind == "low_contrast":
            return region is not None and self.luma_std(region) >= 30.0
        if kind == "overexposure":
            return self.bright_fraction(region) < 0.02 and self.mean_luma(region) <= 180.0
        if kind == "underexposure":
            return self.dark_fraction(region) < 0.02 and self.mean_luma(region) >= 60.0
        if kind == "colour_cast":
            return self.colour_offset(region) < 12.0
        return True  # no bundled photo carries visible noise


@dataclass(frozen=True)
class ImagePlan:
    index: int
    base: BaseImage
    degradations: tuple[Degradation, ...]

    @property
    def local(self) -> list[Degradation]:
        return [d for d in self.degradations if d.region is not None]

    @property
    def global_(self) -> Degradation | None:
        return next((d for d in self.degradations if d.region is None), None)

    def present(self, region: Region | None = None) -> set[str]:
        """Kinds (with what they can be confused with) present in ``region`` or, for None, anywhere."""
        out: set[str] = set()
        for d in self.degradations:
            if region is None or d.region is None or d.region == region or not d.region.separated_from(region, gap=0):
                out |= CONFUSABLE[d.kind]
        return out


def plan_image(index: int, base: BaseImage, content: Content, rng: np.random.Generator) -> ImagePlan:
    count = int(rng.choice(len(LOCAL_COUNT_WEIGHTS), p=LOCAL_COUNT_WEIGHTS)) + 1
    local: list[Degradation] = []
    families: set[str] = set()
    for kind in rng.permutation(KINDS):
        kind = str(kind)
        if len(local) == count:
            break
        if FAMILY[kind] in families:
            continue  # one blur per image, one exposure error per image: the text stays unambiguous
        region = sample_region(rng, [d.region for d in local if d.region], lambda r, k=kind: content.shows(k, r))
        if region is None:
            continue
        severity = int(rng.integers(1, 4))
        local.append(Degradation(kind, severity, region, draw_params(kind, severity, rng)))
        families.add(FAMILY[kind])
    if not local:
        raise RuntimeError(f"giqa_synth image {index}: no region can show any degradation")  # never for the bundled photos
    degradations = list(local)
    if rng.random() < GLOBAL_PROBABILITY:
        taken = set().union(*(CONFUSABLE[d.kind] for d in local))
        options = [k for k in GLOBAL_KINDS if k not in taken and not (CONFUSABLE[k] & taken)]
        if options:
            kind = str(rng.choice(options))
            severity = int(rng.choice([1, 2], p=[0.6, 0.4]))
            degradations.append(Degradation(kind, severity, None, draw_params(kind, severity, rng)))
    return ImagePlan(index, base, tuple(degradations))
