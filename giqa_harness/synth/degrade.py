"""Degradations: numpy/scipy image operations at three graded severities, applied inside a region
(or to the whole image when the region is None).

Each operation works on a crop of the image around the region with a margin wide enough that the
pasted pixels never see the crop's border; the crop starts on the image's 8 x 8 grid so that JPEG
blocking lands on the same block grid a real encoder would use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import ndimage

from .regions import Region

KINDS: tuple[str, ...] = (
    "gaussian_blur", "motion_blur", "noise", "jpeg", "overexposure", "underexposure", "colour_cast", "low_contrast",
)
GLOBAL_KINDS: tuple[str, ...] = ("gaussian_blur", "noise", "jpeg", "colour_cast", "low_contrast")

# Kinds whose presence makes a "No" to a question about another kind debatable (heavy JPEG also looks
# soft; clipped or crushed tones also look flat). Negatives are drawn outside these sets.
CONFUSABLE: dict[str, frozenset[str]] = {
    "gaussian_blur": frozenset({"gaussian_blur", "motion_blur"}),
    "motion_blur": frozenset({"gaussian_blur", "motion_blur"}),
    "noise": frozenset({"noise"}),
    "jpeg": frozenset({"jpeg", "gaussian_blur", "motion_blur"}),
    "overexposure": frozenset({"overexposure", "low_contrast"}),
    "underexposure": frozenset({"underexposure", "low_contrast"}),
    "colour_cast": frozenset({"colour_cast"}),
    "low_contrast": frozenset({"low_contrast", "overexposure", "underexposure"}),
}

# Camera pipeline order: optics and exposure first, then sensor noise, then compression.
STAGE: dict[str, int] = {k: 0 for k in KINDS} | {"noise": 1, "jpeg": 2}

GAUSSIAN_SIGMA = {1: 1.6, 2: 2.6, 3: 4.0}
MOTION_LENGTH = {1: 9, 2: 15, 3: 23}
NOISE_SIGMA = {1: 9.0, 2: 16.0, 3: 26.0}
JPEG_QUALITY = {1: 22, 2: 12, 3: 6}
OVER_GAIN_LIFT = {1: (1.35, 35.0), 2: (1.6, 60.0), 3: (1.9, 90.0)}
UNDER_GAIN = {1: 0.5, 2: 0.33, 3: 0.2}
CAST_STRENGTH = {1: 22.0, 2: 36.0, 3: 55.0}
CAST_TINTS: dict[str, tuple[float, float, float]] = {
    "blue": (-0.7, -0.2, 1.0), "orange": (1.0, 0.3, -0.8), "green": (-0.6, 1.0, -0.6), "magenta": (1.0, -0.8, 1.0),
}
CONTRAST_KEEP = {1: 0.5, 2: 0.35, 3: 0.22}


@dataclass(frozen=True)
class Degradation:
    """One applied degradation: what, how strong (1 mild .. 3 severe), where, and its exact parameters."""

    kind: str
    severity: int
    region: Region | None  # None: the whole image
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity,
            "region": self.region.to_json() if self.region else None, "params": self.params,
        }


def draw_params(kind: str, severity: int, rng: np.random.Generator) -> dict[str, Any]:
    """The random choices of one degradation (angle, tint, noise seed), drawn when it is planned."""
    if kind == "motion_blur":
        return {"length": MOTION_LENGTH[severity], "angle": float(rng.choice([0.0, 30.0, 45.0, 60.0, 90.0, 120.0, 135.0, 150.0]))}
    if kind == "noise":
        return {"sigma": NOISE_SIGMA[severity], "seed": int(rng.integers(2**31))}
    if kind == "colour_cast":
        return {"tint": str(rng.choice(sorted(CAST_TINTS))), "strength": CAST_STRENGTH[severity]}
    if kind == "gaussian_blur":
        return {"sigma": GAUSSIAN_SIGMA[severity]}
    if kind == "jpeg":
        return {"quality": JPEG_QUALITY[severity]}
    if kind == "overexposure":
        gain, lift = OVER_GAIN_LIFT[severity]
        return {"gain": gain, "lift": lift}
    if kind == "underexposure":
        return {"gain": UNDER_GAIN[severity]}
    if kind == "low_contrast":
        return {"keep": CONTRAST_KEEP[severity]}
    raise ValueError(f"unknown degradation kind {kind!r}")


def motion_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised line of ``length`` pixels at ``angle_deg``, drawn with bilinear weights."""
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), dtype=np.float64)
    c = (size - 1) / 2
    theta = np.deg2rad(angle_deg)
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * length):
        x, y = c + t * np.cos(theta), c - t * np.sin(theta)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                if 0 <= y0 + dy < size and 0 <= x0 + dx < size:
                    kernel[y0 + dy, x0 + dx] += wy * wx
    return kernel / kernel.sum()


# Standard JPEG (ITU T.81 Annex K) quantisation tables.
_LUMA_TABLE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64).reshape(8, 8)
_CHROMA_TABLE = np.full((8, 8), 99.0)
_CHROMA_TABLE[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]


def _quant_table(table: np.ndarray, quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality  # the IJG quality scaling
    return np.clip(np.floor((table * scale + 50) / 100), 1, 255)


def _dct_matrix(n: int = 8) -> np.ndarray:
    k, x = np.arange(n)[:, None], np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def jpeg_blocking(crop: np.ndarray, quality: int) -> np.ndarray:
    """Quantise 8 x 8 DCT blocks of Y, Cb and Cr as a baseline JPEG encoder at ``quality`` would."""
    h, w = crop.shape[:2]
    ph, pw = -h % 8, -w % 8
    padded = np.pad(crop, ((0, ph), (0, pw), (0, 0)), mode="edge")
    ycc = padded @ _RGB_TO_YCC.T
    ycc[..., 1:] += 128.0
    d = _dct_matrix()
    out = np.empty_like(ycc)
    for ch, table in enumerate((_LUMA_TABLE, _CHROMA_TABLE, _CHROMA_TABLE)):
        q = _quant_table(table, quality)
        plane = ycc[..., ch] - 128.0
        blocks = plane.reshape(plane.shape[0] // 8, 8, plane.shape[1] // 8, 8).transpose(0, 2, 1, 3)
        coef = np.round((d @ blocks @ d.T) / q) * q
        back = (d.T @ coef @ d).transpose(0, 2, 1, 3).reshape(plane.shape)
        out[..., ch] = back + 128.0
    out[..., 1:] -= 128.0
    rgb = out @ np.linalg.inv(_RGB_TO_YCC).T
    return rgb[:h, :w]


def _gaussian_blur(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    return ndimage.gaussian_filter(crop, sigma=(p["sigma"], p["sigma"], 0), mode="reflect")


def _motion_blur(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    kernel = motion_kernel(int(p["length"]), float(p["angle"]))
    return ndimage.convolve(crop, kernel[:, :, None], mode="reflect")


def _noise(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    rng = np.random.default_rng(int(p["seed"]))
    sigma = float(p["sigma"])
    grain = rng.standard_normal(crop.shape[:2] + (1,)) * sigma
    chroma = rng.standard_normal(crop.shape) * (0.4 * sigma)
    return crop + grain + chroma


def _jpeg(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    return jpeg_blocking(crop, int(p["quality"]))


def _overexposure(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    return crop * float(p["gain"]) + float(p["lift"])


def _underexposure(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    return crop * float(p["gain"])


def _colour_cast(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    return crop + np.asarray(CAST_TINTS[p["tint"]]) * float(p["strength"])


def _low_contrast(crop: np.ndarray, p: dict[str, Any], inner: tuple[slice, slice]) -> np.ndarray:
    mean = crop[inner].reshape(-1, 3).mean(axis=0)
    return mean + (crop - mean) * float(p["keep"])


_OPS: dict[str, Callable[[np.ndarray, dict[str, Any], tuple[slice, slice]], np.ndarray]] = {
    "gaussian_blur": _gaussian_blur, "motion_blur": _motion_blur, "noise": _noise, "jpeg": _jpeg,
    "overexposure": _overexposure, "underexposure": _underexposure, "colour_cast": _colour_cast,
    "low_contrast": _low_contrast,
}


def _margin(d: Degradation) -> int:
    if d.kind == "gaussian_blur":
        return int(4 * d.params["sigma"]) + 2
    if d.kind == "motion_blur":
        return int(d.params["length"]) + 2
    return 0


def apply(image: np.ndarray, d: Degradation) -> np.ndarray:
    """``image`` (float64 H x W x 3 in [0, 255]) with ``d`` applied; pixels outside its region unchanged."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = d.region.pixels((w, h)) if d.region is not None else (0, 0, w, h)
    m = _margin(d)
    cx0, cy0 = max(0, x0 - m) // 8 * 8, max(0, y0 - m) // 8 * 8
    # End on the 8 x 8 grid too (or the image edge), so that no JPEG block is padded inside the image.
    cx1, cy1 = min(w, -(-(x1 + m) // 8) * 8), min(h, -(-(y1 + m) // 8) * 8)
    inner = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
    degraded = _OPS[d.kind](image[cy0:cy1, cx0:cx1], d.params, inner)
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(degraded[inner], 0.0, 255.0)
    return out


def apply_all(pixels: np.ndarray, degradations: list[Degradation]) -> np.ndarray:
    """All degradations in camera-pipeline order (stable for equal stages); returns uint8."""
    image = pixels.astype(np.float64)
    for d in sorted(degradations, key=lambda d: STAGE[d.kind]):
        image = apply(image, d)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
