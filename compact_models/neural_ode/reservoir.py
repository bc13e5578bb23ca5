"""The forecasting task of Chen et al. (Nat. Commun. 13, 1016 (2022)): a device as a reservoir.

A Mackey-Glass series (:func:`mackey_glass`) drives an oscillator: each sample of the series
sets the drive current, held for ``hold`` sampling steps (:func:`drive_current`), and the
device's output is recorded. A linear readout (ridge regression, :func:`forecast_nrmse`) over
delayed samples of that output, taken at the end of each held sample, is trained to predict
the series ``h`` samples ahead; its NRMSE on the later, held-out part of the series against
the horizon ``h`` measures what the device's dynamics (its fading memory and nonlinearity)
contribute. :func:`compare_reservoirs` runs the same task through a learned
:class:`~. NeuralODE` and through the physics it was learned from (any function that maps a
current sequence to the output), so that the learned model can be judged by what it does as
a computing substrate, not only by its waveforms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from neurospice.errors import ArgumentError

__all__ = ["mackey_glass", "drive_current", "forecast_nrmse", "compare_reservoirs",
           "ReservoirComparison"]


def mackey_glass(n: int, *, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 power: float = 10.0, sample: float = 1.0, step: float = 0.1,
                 x0: float = 1.2, discard: int = 300) -> np.ndarray:
    """``n`` samples, one per ``sample`` time units, of the Mackey-Glass series
    ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x`` (chaotic for the default
    ``tau = 17``), integrated with RK4 at ``step`` (the delayed values at the half steps by
    linear interpolation) from the constant history ``x0``; the first ``discard`` samples
    (the settling) are dropped."""
    if n < 1 or discard < 0 or not (step > 0 and sample >= step and tau >= step):
        raise ArgumentError("mackey_glass: n >= 1, discard >= 0 and 0 < step <= sample, tau")
    lag = int(round(tau / step))
    every = int(round(sample / step))
    total = (n + discard) * every + 1
    x = np.empty(total + lag)
    x[:lag + 1] = x0

    def f(xt, xd):
        return beta * xd / (1.0 + xd ** power) - gamma * xt

    for i in range(lag, total + lag - 1):
        d0, d1 = x[i - lag], x[i - lag + 1]
        dh = 0.5 * (d0 + d1)
        k1 = f(x[i], d0)
        k2 = f(x[i] + 0.5 * step * k1, dh)
        k3 = f(x[i] + 0.5 * step * k2, dh)
        k4 = f(x[i] + step * k3, d1)
        x[i + 1] = x[i] + step / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x[lag::every][discard:discard + n].copy()


def drive_current(series, low: float, high: float, hold: int) -> np.ndarray:
    """The drive: each sample of ``series`` mapped linearly onto ``[low, high]`` (its minimum
    to ``low``, its maximum to ``high``) and held for ``hold`` samples."""
    s = np.asarray(series, float)
    if s.ndim != 1 or len(s) < 2 or not np.ptp(s) > 0 or hold < 1:
        raise ArgumentError("drive_current: a non-constant 1-D series and hold >= 1")
    level = low + (high - low) * (s - s.min()) / np.ptp(s)
    return np.repeat(level, hold)


def forecast_nrmse(output, series, *, hold: int, horizons: Sequence[int], taps: int = 8,
                   stride: int = 1, washout: int = 20, train_fraction: float = 0.6,
                   ridge: float = 1e-8) -> np.ndarray:
    """NRMSE of a linear readout predicting ``series[j + h]`` for each ``h`` of ``horizons``
    from the device's ``output`` (one sample per step, ``hold`` steps per sample of
    ``series``): the features of sample ``j`` are the output at the last step of its hold and
    ``taps - 1`` earlier steps, ``stride`` apart (standardised, plus a constant); ridge
    regression (``ridge`` times the identity, on the standardised features) is fitted on the
    first ``train_fraction`` of the samples after ``washout`` and scored on the rest (RMS
    error divided by the standard deviation of the targets)."""
    y = np.asarray(output, float)
    s = np.asarray(series, float)
    if len(y) != len(s) * hold:
        raise ArgumentError(f"forecast_nrmse: {len(y)} output samples for {len(s)} series "
                            f"samples held {hold} steps each")
    if not np.all(np.isfinite(y)):
        raise ArgumentError("forecast_nrmse: the device output holds non-finite values")
    ends = np.arange(len(s)) * hold + hold - 1
    idx = ends[:, None] - stride * np.arange(taps)[None, :]
    first = max(washout, int(np.ceil(((taps - 1) * stride - hold + 1) / hold)))
    hmax = max(horizons)
    rows = np.arange(first, len(s) - hmax)
    cut = first + int(train_fraction * len(rows))
    if cut - first < 2 * taps or len(rows) - (cut - first) < 10:
        raise ArgumentError(f"forecast_nrmse: {len(s)} series samples are too few for "
                            f"{taps} taps, a washout of {washout} and horizon {hmax}")
    feats = y[idx[rows]]
    tr = rows < cut
    mu, sd = feats[tr].mean(axis=0), feats[tr].std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    x = np.column_stack([(feats - mu) / sd, np.ones(len(rows))])
    a = x[tr].T @ x[tr] + ridge * len(x[tr]) * np.eye(x.shape[1])
    out = []
    for h in horizons:
        target = s[rows + h]
        w = np.linalg.solve(a, x[tr].T @ target[tr])
        err = x[~tr] @ w - target[~tr]
        out.append(float(np.sqrt(np.mean(err ** 2)) / np.std(target[~tr])))
    return np.asarray(out)


@dataclass
class ReservoirComparison:
    """What :func:`compare_reservoirs` returns: the ``horizons`` (series samples), the NRMSE
    of the learned and of the physics reservoir at each, and their relative difference
    ``|learned - physics| / physics``."""

    horizons: np.ndarray
    learned: np.ndarray
    physics: np.ndarray

    @property
    def relative_difference(self) -> np.ndarray:
        return np.abs(self.learned - self.physics) / self.physics


def compare_reservoirs(model, physics: Callable[[np.ndarray], np.ndarray], series, *,
                       low: float, high: float, hold: int, horizons: Sequence[int],
                       y0: float | None = None, **readout) -> ReservoirComparison:
    """The Mackey-Glass forecast through the learned ``model`` (a one-input
    :class:`~. NeuralODE`, its numpy forward model from the initial output ``y0``, default the physics' first
    output) and through
    ``physics`` (a function from the drive current, one sample per ``model.dt``, to the
    device's output), driven by the same current (:func:`drive_current` of ``series``);
    ``readout``: :func:`forecast_nrmse`'s options."""
    if len(model.inputs) != 1:
        raise ArgumentError(f"compare_reservoirs: the model has {len(model.inputs)} inputs; "
                            "the reservoir drives one")
    cur = drive_current(series, low, high, hold)
    truth = np.asarray(physics(cur), float)
    learned = model.simulate(cur, y0=truth[0] if y0 is None else y0)
    nl = forecast_nrmse(learned, series, hold=hold, horizons=horizons, **readout)
    npy = forecast_nrmse(truth, series, hold=hold, horizons=horizons, **readout)
    return ReservoirComparison(np.asarray(horizons), nl, npy)
