"""``validate --data``'s image check: every image a task reads exists and decodes to the last pixel.

Reading a header (all a run needs before generation) does not find a file cut short by an interrupted
copy; decoding every pixel does, so the check loads each image fully, once per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .docs import Doc

MAX_LISTED = 10  # problems named one by one; the rest are counted


def image_problems(docs: Sequence[Doc]) -> list[str]:
    """Missing or undecodable images, and declared ``image_size`` values that are not the image's."""
    problems: list[str] = []
    missing: list[str] = []
    sizes: dict[str, tuple[int, int] | None] = {}
    for doc in docs:
        if doc.image not in sizes:
            sizes[doc.image] = None
            if not Path(doc.image).is_file():
                missing.append(doc.image)
                continue
            try:
                sizes[doc.image] = decoded_size(doc.image)
            except Exception as exc:  # any decoder error: truncated, corrupt, not an image
                problems.append(f"image {doc.image} cannot be decoded: {type(exc).__name__}: {exc}")
        actual = sizes[doc.image]
        if doc.image_size is not None and actual is not None and tuple(doc.image_size) != actual:
            problems.append(f"record {doc.doc_id!r}: image_size {list(doc.image_size)} but {doc.image} is "
                            f"{actual[0]}x{actual[1]} (boxes would be scaled by the wrong size)")
    if missing:
        problems.insert(0, f"{len(missing)} images missing, e.g. {missing[0]}")
    if len(problems) > MAX_LISTED:
        problems = problems[:MAX_LISTED] + [f"... and {len(problems) - MAX_LISTED} more image problems"]
    return problems


def decoded_size(path: str) -> tuple[int, int]:
    """The size of the image at ``path`` after decoding every pixel (raises on a truncated file)."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        return im.size
