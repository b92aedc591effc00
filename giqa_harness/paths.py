"""Where giqa-harness keeps caches (generated benches, embeddings): ``GIQA_HARNESS_CACHE`` or
``~/.cache/giqa_harness``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    root = Path(os.environ.get("GIQA_HARNESS_CACHE") or Path.home() / ".cache" / "giqa_harness")
    root.mkdir(parents=True, exist_ok=True)
    return root
