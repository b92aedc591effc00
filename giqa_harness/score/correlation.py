"""SRCC, PLCC and KRCC between predicted scores and mean opinion scores, with bootstrap intervals.

- SRCC: Spearman's rank correlation; KRCC: Kendall's tau-b; PLCC: Pearson's linear correlation
  (scipy.stats in every case).
- PLCC is computed on the raw predictions by default. ``plcc_logistic: true`` adds ``plcc_logistic``:
  PLCC after the customary 4-parameter logistic mapping
  ``f(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``, fitted once by least squares on all pairs
  (the interval resamples the mapped pairs; it does not refit).
- Intervals: percentile bootstrap over (prediction, MOS) pairs, seeded (`metrics.base.bootstrap_ci`).
- A correlation is undefined when either side is constant (a constant predictor): the value is then
  None with that reason, never 0.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ..metrics.base import MetricResult, bootstrap_ci

Pairs = Sequence[tuple[float, float]]
LABELS = {"srcc": "SRCC", "plcc": "PLCC", "krcc": "KRCC", "plcc_logistic": "PLCC (logistic)"}


def _correlation(function: Callable[..., Any]) -> Callable[[Pairs], float | None]:
    def statistic(pairs: Pairs) -> float | None:
        if len(pairs) < 2:
            return None
        x, y = np.array(pairs, dtype=np.float64).T
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(function(x, y)[0])
        return None if math.isnan(value) else value

    return statistic


def _stats() -> dict[str, Callable[[Pairs], float | None]]:
    from scipy import stats

    return {"srcc": _correlation(stats.spearmanr), "plcc": _correlation(stats.pearsonr),
            "krcc": _correlation(stats.kendalltau)}


def logistic4(x: np.ndarray, b1: float, b2: float, b3: float, b4: float) -> np.ndarray:
    return (b1 - b2) / (1.0 + np.exp(-(x - b3) / max(abs(b4), 1e-12))) + b2


def fit_logistic(pairs: Pairs) -> tuple[float, float, float, float] | None:
    """The mapping's parameters, or None when the fit fails (fewer than 4 pairs, constant input)."""
    from scipy.optimize import curve_fit

    x, y = np.array(pairs, dtype=np.float64).T
    if len(x) < 4 or np.ptp(x) == 0:
        return None
    start = [float(y.max()), float(y.min()), float(np.mean(x)), float(np.std(x)) or 1.0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(logistic4, x, y, p0=start, maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    return tuple(float(p) for p in params)  # type: ignore[return-value]


def correlations(pairs: Pairs, names: Sequence[str], logistic: bool, n_resamples: int, seed: int
                 ) -> dict[str, MetricResult]:
    """One `MetricResult` per requested correlation (and ``plcc_logistic`` when asked)."""
    stats = _stats()
    out: dict[str, MetricResult] = {}
    for name in names:
        out[name] = _result(name, list(pairs), stats[name], n_resamples, seed)
    if logistic:
        params = fit_logistic(pairs)
        if params is None:
            out["plcc_logistic"] = MetricResult("plcc_logistic", None, n=len(pairs),
                                                reason="the logistic mapping could not be fitted")
        else:
            x, y = np.array(pairs, dtype=np.float64).T
            mapped = list(zip(logistic4(x, *params).tolist(), y.tolist()))
            out["plcc_logistic"] = _result("plcc_logistic", mapped, stats["plcc"], n_resamples, seed)
    return out


def _result(name: str, pairs: list[tuple[float, float]], statistic: Callable[[Pairs], float | None],
            n_resamples: int, seed: int) -> MetricResult:
    value = statistic(pairs)
    if value is None:
        reason = "undefined: fewer than 2 scored samples" if len(pairs) < 2 else \
            "undefined: the predictions (or the MOS) are constant"
        return MetricResult(name, None, n=len(pairs), reason=reason)
    low, high = bootstrap_ci(pairs, statistic, n_resamples=n_resamples, seed=seed)
    return MetricResult(name, value, low, high, n=len(pairs))
