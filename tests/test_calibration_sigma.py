"""Standard errors from the data's own sigma, or scaled by the reduced chi-square.

The fit engine's rule (:mod:`neurospice.calibration.fit`, ``Fit(sigma="auto")``): where
every data set carries its own sigma, the covariance comes from those errors alone unless
the chi-square is above its 99 % point for the degrees of freedom (then it is scaled by the
reduced chi-square); without sigma it is always scaled.

A decaying exponential on a background, y = a exp(-x/tau) + c, 20 points with errors that
grow along x (sigma_i = 0.005 (1 + x_i)), 40 seeded draws per case. Measured (seeds
0-39; standard error / rms error of the values about the truth): errors right, all 40
draws from sigma, one draw's ratio 0.81-0.99 (the errors from one draw to the next within
1.12-1.22 of each other: the model is not linear); sigma understated 3x (the noise three
times sigma), all 40 scaled (reduced chi-square 3.2-17), median 0.84, one draw's
0.53-1.38. Scaled always, the errors-right case gives one draw's 0.54-1.17; from sigma
always, the understated case 0.22-0.41.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurospice.calibration.fit import Dataset, Fit, Model, Param
from neurospice.errors import CalibrationError

X = np.linspace(0.0, 6.0, 20)
SIGMA = 0.005 * (1.0 + X)
TRUTH = {"a": 1.0, "tau": 1.5, "c": 0.2}
NAMES = list(TRUTH)
DRAWS = 40


def decay() -> Model:
    def func(x, p):
        return p["a"] * np.exp(-np.asarray(x, float) / p["tau"]) + p["c"]

    return Model("decay", func, [Param("a", 0.8, 0.0, 10.0), Param("tau", 1.0, 0.01, 100.0),
                                 Param("c", 0.0, -10.0, 10.0)])


def _draws(noise_factor: float, sigma_factor: float = 1.0, **fit_kw):
    model = decay()
    y0 = model.eval(X, TRUTH)
    values, errors, results = [], [], []
    for seed in range(DRAWS):
        gen = np.random.default_rng(seed)
        y = y0 + noise_factor * SIGMA * gen.standard_normal(X.size)
        res = Fit(model, Dataset(X, y, sigma=sigma_factor * SIGMA, name="decay"),
                  global_stage=None, **fit_kw).run()
        values.append([res.values[n] for n in NAMES])
        errors.append([res.stderr[n] for n in NAMES])
        results.append(res)
    return np.array(values), np.array(errors), results


def _ratios(values, errors):
    """Each draw's standard error over the scatter of the values about the truth."""
    truth = np.array([TRUTH[n] for n in NAMES])
    scatter = np.sqrt(np.mean((values - truth) ** 2, axis=0))
    return errors / scatter


def test_errors_from_sigma_when_the_points_scatter_as_their_sigma():
    """Errors right: every draw's errors from sigma, each within 0.7-1.4 of the scatter
    (scaled by a reduced chi-square of 17 degrees of freedom, one draw's would range
    0.54-1.17), and nearly the same in every draw (largest / smallest under 1.4; scaled,
    2.3-2.6)."""
    values, errors, results = _draws(1.0)
    assert [r.stderr_basis for r in results].count("absolute") == DRAWS, \
        [r.stderr_reason for r in results if r.stderr_basis != "absolute"]
    assert all("from the data's sigma" in r.stderr_reason for r in results)
    ratio = _ratios(values, errors)
    print("errors right: one draw's se/scatter", ratio.min(axis=0), ratio.max(axis=0))
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio
    assert np.all(errors.max(axis=0) / errors.min(axis=0) < 1.4)


def test_errors_scaled_when_the_points_scatter_more_than_their_sigma():
    """Sigma understated 3x: chi-square far above its 99 % point in every draw, the errors
    scaled by the reduced chi-square: median within 0.7-1.4 of the scatter, one draw's
    within 0.4-1.6 (from sigma they would be 0.22-0.41 of it)."""
    values, errors, results = _draws(3.0)
    assert all(r.stderr_basis == "scaled" and "above its 99 % point" in r.stderr_reason
               for r in results), [r.stderr_reason for r in results]
    ratio = _ratios(values, errors)
    print("understated 3x: median", np.median(ratio, axis=0), "one draw's", ratio.min(axis=0),
          ratio.max(axis=0), "redchi", min(r.redchi for r in results),
          max(r.redchi for r in results))
    assert np.all((np.median(ratio, axis=0) > 0.7) & (np.median(ratio, axis=0) < 1.4))
    assert np.all((ratio > 0.4) & (ratio < 1.6)), ratio


def test_the_two_bases_differ_by_the_square_root_of_the_reduced_chi_square():
    """The same fit with ``sigma="absolute"`` and ``"scaled"``: the errors differ by
    exactly sqrt(reduced chi-square); the profile intervals follow the basis (from sigma:
    where chi-square has risen by 1, i.e. value +- one standard error on this nearly
    linear problem, within 10 %)."""
    model = decay()
    gen = np.random.default_rng(5)
    y = model.eval(X, TRUTH) + SIGMA * gen.standard_normal(X.size)
    ds = Dataset(X, y, sigma=1.3 * SIGMA)           # sigma overstated: reduced chi-square < 1
    ab = Fit(model, ds, global_stage=None, sigma="absolute", conf_int="profile").run()
    sc = Fit(model, ds, global_stage=None, sigma="scaled", conf_int="profile").run()
    assert ab.stderr_basis == "absolute" and sc.stderr_basis == "scaled"
    assert ab.redchi < 0.8
    for n in NAMES:
        assert ab.values[n] == pytest.approx(sc.values[n], rel=1e-9)
        assert sc.stderr[n] == pytest.approx(ab.stderr[n] * math.sqrt(ab.redchi), rel=1e-6)
        for res in (ab, sc):
            lo, hi = res.ci[n]["68.27%"]
            half = 0.5 * (hi - lo)
            assert half == pytest.approx(res.stderr[n], rel=0.1), (res.stderr_basis, n)
    assert ab.to_dict()["statistics"]["stderr_basis"] == "absolute"
    assert "standard errors from the data's sigma" in ab.summary()


def test_without_sigma_the_errors_are_scaled():
    """A data set without sigma (its noise estimated from the residuals): scaled, and the
    reason names it; a fit of two data sets where one lacks sigma: scaled too."""
    model = decay()
    gen = np.random.default_rng(1)
    y = model.eval(X, TRUTH) + 0.03 * gen.standard_normal(X.size)
    res = Fit(model, Dataset(X, y, name="bare"), global_stage=None).run()
    assert res.stderr_basis == "scaled" and "(data without sigma: bare)" in res.stderr_reason
    both = Fit(model, [Dataset(X, y, name="bare"), Dataset(X, y, sigma=SIGMA, name="with")],
               global_stage=None).run()
    assert both.stderr_basis == "scaled" and "bare" in both.stderr_reason


def test_sigma_policy_is_checked():
    model = decay()
    y = model.eval(X, TRUTH)
    with pytest.raises(CalibrationError, match="bare carries none"):
        Fit(model, Dataset(X, y, name="bare"), sigma="absolute")
    with pytest.raises(ValueError, match="Dataset.sigma"):
        Fit(model, Dataset(X, y, sigma=SIGMA), sigma=SIGMA)
