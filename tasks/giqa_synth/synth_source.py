"""The giqa_synth tasks' data: generated on first use into the cache (keyed by generator version and
seed), then read from there."""

from __future__ import annotations

from giqa_harness.synth import DEFAULT_SEED, ensure_bench


def build(seed: int = DEFAULT_SEED) -> str:
    """The bench folder for ``seed`` (generated first when it is not cached yet)."""
    return str(ensure_bench(seed))
