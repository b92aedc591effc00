"""Base photographs: scikit-image's bundled sample images, cropped, flipped and scaled.

Only images that ship *inside* the scikit-image wheel are used (no download), read straight from the
package with PIL so that nothing but the PNG files themselves decides the pixels. Each of the 100
bench images is a different crop (position, zoom, aspect ratio, mirror) of one of these photos.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MissingDependencyError

# (file inside skimage/data, what the photo shows: used to open some reference descriptions)
SOURCES: tuple[tuple[str, str], ...] = (
    ("astronaut.png", "an astronaut in an orange suit"),
    ("coffee.png", "a cup of coffee on a wooden table"),
    ("chelsea.png", "a tabby cat"),
    ("motorcycle_left.png", "a red motorcycle in a workshop"),
    ("motorcycle_right.png", "a motorcycle parked in a garage"),
    ("ihc.png", "stained tissue under a microscope"),
    ("camera.png", "a photographer behind a camera on a tripod"),
    ("brick.png", "a brick wall"),
    ("grass.png", "a patch of grass"),
    ("gravel.png", "a bed of gravel"),
)

# Output sizes (width, height): multiples of 40 so that every grid-cell centre falls on a whole pixel.
SIZES: tuple[tuple[int, int], ...] = ((400, 400), (480, 360), (360, 480), (480, 320), (440, 360))


@dataclass(frozen=True)
class BaseImage:
    pixels: np.ndarray  # uint8, H x W x 3
    source: str
    subject: str
    crop: tuple[int, int, int, int]  # (left, top, right, bottom) in the source photo
    mirrored: bool


def _data_folder() -> Path:
    try:
        import skimage.data
    except ImportError:
        raise MissingDependencyError(
            "scikit-image", 'pip install "giqa-harness[synth]"', "the giqa_synth bench (its base photographs)"
        ) from None
    return Path(skimage.data.__file__).parent


@lru_cache(maxsize=None)
def load_source(name: str) -> np.ndarray:
    """One bundled photo as uint8 RGB (grey photos are replicated into three channels)."""
    from PIL import Image

    path = _data_folder() / name
    if not path.is_file():
        raise MissingDependencyError(
            "scikit-image", 'pip install "giqa-harness[synth]" (a version that bundles ' + name + ")",
            "the giqa_synth bench",
        )
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def source_digests() -> dict[str, str]:
    """sha256 of every source file, recorded in the manifest: same digests + same code = same bench."""
    folder = _data_folder()
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name, _ in SOURCES}


def make_base(index: int, rng: np.random.Generator) -> BaseImage:
    """Image ``index``: source ``index % 10`` (each photo used equally often), random crop of it."""
    from PIL import Image

    name, subject = SOURCES[index % len(SOURCES)]
    photo = load_source(name)
    out_w, out_h = SIZES[int(rng.integers(len(SIZES)))]
    src_h, src_w = photo.shape[:2]
    # The largest crop of the output's aspect ratio that fits, zoomed in by a random factor.
    full_w = min(src_w, src_h * out_w / out_h)
    zoom = float(rng.uniform(0.55, 1.0))
    crop_w, crop_h = full_w * zoom, full_w * zoom * out_h / out_w
    left = float(rng.uniform(0, src_w - crop_w))
    top = float(rng.uniform(0, src_h - crop_h))
    box = (int(left), int(top), int(left + crop_w), int(top + crop_h))
    mirrored = bool(rng.integers(2))
    image = Image.fromarray(photo).resize((out_w, out_h), Image.Resampling.LANCZOS, box=box)
    if mirrored:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return BaseImage(np.asarray(image, dtype=np.uint8).copy(), name, subject, box, mirrored)
