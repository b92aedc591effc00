"""Bootstrap resamples as index arrays, so that metrics can aggregate a thousand resamples at once.

`resample_indices` draws exactly the indices that ``random.Random(seed).choices(values, k=n)``, called
once per resample, would pick: Python's generator state is handed to numpy's legacy Mersenne Twister,
which produces the same doubles, and ``floor(u * n)`` is what ``choices`` computes. A vectorized
aggregate therefore sees the same resamples as the scalar one and gives the same interval.

The helpers below aggregate every row of an index array the way the scalar aggregates do:
`column_sums` for integer statistics (exact), `sequential_means` for float values (summed left to
right, like `ordered_mean`, so the last bits match too).
"""

from __future__ import annotations

import random
from functools import reduce
from operator import add
from typing import Iterator, Sequence

import numpy as np

# Rows per chunk are chosen so that one chunk of indices stays near this many elements (16 MB as int64).
CHUNK_ELEMENTS = 2_000_000


def resample_indices(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of rows of ``n`` indices in ``range(n)``; row ``r`` (over all chunks) is the ``r``-th
    resample of ``random.Random(seed)``'s ``choices(range(n), k=n)``."""
    version, internal, _ = random.Random(seed).getstate()
    state = np.random.RandomState()
    state.set_state(("MT19937", np.array(internal[:-1], dtype=np.uint32), internal[-1]))
    rows = max(1, CHUNK_ELEMENTS // max(n, 1))
    scale = float(n)
    for first in range(0, n_resamples, rows):
        count = min(rows, n_resamples - first)
        # random.choices: population[floor(random() * n)]; the product is non-negative, so truncation floors.
        yield (state.random_sample(count * n) * scale).astype(np.int64).reshape(count, n)


def column_sums(table: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """For each row of ``indices``, the column sums of the rows of ``table`` (integers) it picks.

    Counts how often each sample is drawn, then one matrix product; float64 holds these integer sums
    exactly (far below 2**53), so the result equals Python's integer sums."""
    rows, n = indices.shape
    offsets = (np.arange(rows, dtype=np.int64) * n)[:, None]
    counts = np.bincount((indices + offsets).ravel(), minlength=rows * n).reshape(rows, n)
    return np.rint(counts.astype(np.float64) @ table.astype(np.float64)).astype(np.int64)


def ordered_mean(values: Sequence[float]) -> float | None:
    """The mean with the sum taken left to right (Python's ``sum`` compensates from 3.12 on; a fixed
    order keeps scalar and vectorized bootstraps equal to the last bit on every version)."""
    return reduce(add, values, 0.0) / len(values) if values else None


def sequential_means(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """`ordered_mean` of every row's resample (``cumsum`` adds strictly left to right)."""
    picked = values[indices]
    return np.cumsum(picked, axis=1)[:, -1] / indices.shape[1]
