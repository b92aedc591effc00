"""SRCC, PLCC and KRCC with intervals; undefined (not 0) for a constant predictor; the logistic option."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from giqa_harness.score.correlation import correlations, fit_logistic, logistic4


def _pairs(n=60, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    mos = rng.uniform(1, 5, n)
    pred = mos + rng.normal(0, noise, n)
    return list(zip(pred.tolist(), mos.tolist()))


def test_values_are_scipys_and_intervals_hold_them():
    pairs = _pairs()
    x, y = np.array(pairs).T
    out = correlations(pairs, ["srcc", "plcc", "krcc"], False, n_resamples=200, seed=0)
    assert out["srcc"].value == pytest.approx(stats.spearmanr(x, y)[0])
    assert out["plcc"].value == pytest.approx(stats.pearsonr(x, y)[0])
    assert out["krcc"].value == pytest.approx(stats.kendalltau(x, y)[0])
    for result in out.values():
        assert result.n == 60 and result.ci_low <= result.value <= result.ci_high
    assert "plcc_logistic" not in out


def test_a_constant_predictor_is_undefined_with_the_reason():
    pairs = [(3.0, m) for _, m in _pairs()]
    out = correlations(pairs, ["srcc", "plcc", "krcc"], True, n_resamples=50, seed=0)
    for name in ("srcc", "plcc", "krcc", "plcc_logistic"):
        assert out[name].value is None and out[name].reason


def test_the_logistic_mapping_straightens_a_sigmoid_relation():
    rng = np.random.default_rng(1)
    pred = rng.uniform(-6, 6, 80)
    mos = logistic4(pred, 5.0, 1.0, 0.0, 1.0) + rng.normal(0, 0.05, 80)
    pairs = list(zip(pred.tolist(), mos.tolist()))
    out = correlations(pairs, ["plcc"], True, n_resamples=50, seed=0)
    assert out["plcc_logistic"].value > 0.99 > out["plcc"].value + 0.02
    b1, b2, b3, b4 = fit_logistic(pairs)
    assert (b1, b2) == pytest.approx((5.0, 1.0), abs=0.2)


def test_intervals_are_reproducible_for_a_seed():
    pairs = _pairs(noise=1.0)
    a = correlations(pairs, ["srcc"], False, n_resamples=100, seed=3)["srcc"]
    b = correlations(pairs, ["srcc"], False, n_resamples=100, seed=3)["srcc"]
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
