"""RRAM conductance relaxation after programming, and read noise.

**Relaxation** (:class:`Relaxation`). A cell programmed to ``g0`` and read at times ``t``
after programming (``t >= t_ref``, the first read) drifts as

    ln(G(t) / g0) = a + b L,    L = log10(t / t_ref),

with (a, b) drawn per cell from a bivariate normal whose mean and covariance depend on the
programmed state: the median drift is ``a_mean + b_mean L`` and the spread
``sqrt(var_a + 2 cov_ab L + var_b L^2)`` grows with log time. Each state is a row of the
table (its median programmed conductance ``g_state``); a ``g0`` between states takes the
parameters interpolated linearly in ln g0 (clamped beyond the first and last state). A cell
keeps its (a, b) over time: :meth:`Relaxation.sample` gives conductances at unseen times
that are consistent along a cell's life.

:func:`fit_relaxation` estimates the table from a per-cell table (cells x read times): per
cell a least-squares line of ln(G/g0) vs L; per state the mean of the cells' (a, b) and
their covariance with the read noise's share taken out (from the per-cell residuals). The
standard errors are the normal-theory ones over independent cells.

**Read noise** (:func:`read_noise_psd`, :func:`telegraph_levels`): the 1/f^alpha slope and
amplitude of a read-current trace's power spectral density (Welch, Hann windows, a line in
log-log with its residual standard error), and random telegraph noise: two levels, the
amplitude between them and the mean dwell time in each (Schmitt-trigger thresholds at a
quarter and three quarters of the way between the levels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurospice.compact_models.randomness import rng
from neurospice.errors import NetlistError

__all__ = ["Relaxation", "fit_relaxation", "PsdFit", "read_noise_psd", "Telegraph",
           "telegraph_levels"]

#: the columns of a relaxation table, per programmed state
COLUMNS = ("g_state", "a_mean", "b_mean", "var_a", "var_b", "cov_ab")


@dataclass
class Relaxation:
    """Relaxation vs log time per programmed state (see the module docstring).

    ``table``: array (states, 6) of :data:`COLUMNS`; ``t_ref``: the time of the first read
    (s); ``stderr``: the same shape, standard errors (NaN where unknown); ``cells``: cells per
    state."""

    table: np.ndarray
    t_ref: float
    stderr: np.ndarray | None = None
    cells: np.ndarray | None = None

    def __post_init__(self):
        self.table = np.atleast_2d(np.asarray(self.table, float))
        if self.table.shape[1] != len(COLUMNS) or not np.all(np.isfinite(self.table)):
            raise NetlistError(f"a relaxation table needs finite rows of {COLUMNS}")
        if not (np.isfinite(self.t_ref) and self.t_ref > 0):
            raise NetlistError("t_ref must be a positive time (s)")
        if np.any(self.table[:, 0] <= 0) or np.any(np.diff(self.table[:, 0]) <= 0):
            raise NetlistError("the states' conductances must be positive and increasing")

    def at(self, g0) -> np.ndarray:
        """The table's parameters for programmed conductances ``g0`` (shape g0.shape + (5,)),
        linear in ln g0 between states, clamped beyond them."""
        g0 = np.asarray(g0, float)
        if np.any(~(g0 > 0)):
            raise NetlistError("programmed conductances must be positive")
        x = np.log(self.table[:, 0])
        return np.stack([np.interp(np.log(g0), x, self.table[:, k])
                         for k in range(1, len(COLUMNS))], axis=-1)

    def log_time(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        if np.any(~(t >= self.t_ref)) or np.any(~np.isfinite(t)):
            raise NetlistError(f"read times must be finite and >= t_ref = {self.t_ref:g} s")
        return np.log10(t / self.t_ref)

    def median(self, g0, t) -> np.ndarray:
        """Median conductance of cells programmed to ``g0`` at times ``t`` (broadcast)."""
        p = self.at(g0)
        return np.asarray(g0, float) * np.exp(p[..., 0] + p[..., 1] * self.log_time(t))

    def spread(self, g0, t) -> np.ndarray:
        """Standard deviation of ln G at ``t`` for cells programmed to ``g0``."""
        p, L = self.at(g0), self.log_time(t)
        return np.sqrt(np.maximum(p[..., 2] + 2 * p[..., 4] * L + p[..., 3] * L * L, 0.0))

    def sample(self, g0, t, seed) -> np.ndarray:
        """Seeded conductances of cells programmed to ``g0`` (any shape) read at ``t``:
        a scalar time gives g0's shape; an array of times gives g0.shape + t.shape (each
        cell's own drift line through all its reads)."""
        g0 = np.asarray(g0, float)
        p = self.at(g0).reshape(-1, 5)
        gen = rng(seed)
        z = gen.standard_normal((p.shape[0], 2))
        # per cell: (a, b) = mean + chol(cov) z
        va, vb, cab = np.maximum(p[:, 2], 0), np.maximum(p[:, 3], 0), p[:, 4]
        la = np.sqrt(va)
        l21 = np.where(la > 0, cab / np.where(la > 0, la, 1), 0.0)
        l22 = np.sqrt(np.maximum(vb - l21 ** 2, 0.0))
        a = p[:, 0] + la * z[:, 0]
        b = p[:, 1] + l21 * z[:, 0] + l22 * z[:, 1]
        L = self.log_time(t)
        lnr = a[:, None] + b[:, None] * np.reshape(L, (1, -1))
        out = g0.reshape(-1, 1) * np.exp(lnr)
        return out.reshape(g0.shape + np.shape(L))

    def to_dict(self) -> dict:
        return {"t_ref": self.t_ref, "columns": list(COLUMNS), "table": self.table.tolist(),
                **({"stderr": np.where(np.isfinite(self.stderr), self.stderr, None).tolist()}
                   if self.stderr is not None else {}),
                **({"cells": self.cells.tolist()} if self.cells is not None else {})}


def fit_relaxation(t, g, *, g0=None, states=None, n_states: int = 1) -> Relaxation:
    """Relaxation table from a per-cell table: ``g`` (cells, times) conductances read at
    ``t`` (times,) after programming (the first read is ``t_ref``); ``g0`` the programmed
    conductances (default: the first read); ``states`` a label per cell (default:
    ``n_states`` quantile bins of g0). At least 3 times and 4 cells per state."""
    t, g = np.asarray(t, float), np.asarray(g, float)
    if g.ndim != 2 or t.shape != (g.shape[1],) or t.size < 3:
        raise NetlistError("need g of shape (cells, times) and 3 read times or more")
    if not (np.all(np.isfinite(g)) and np.all(g > 0) and np.all(np.diff(t) > 0) and t[0] > 0):
        raise NetlistError("conductances must be finite and positive, times positive and "
                           "increasing")
    g0 = g[:, 0] if g0 is None else np.asarray(g0, float)
    if g0.shape != (g.shape[0],) or np.any(~(g0 > 0)):
        raise NetlistError("g0 must hold one positive conductance per cell")
    if states is None:
        if n_states < 1:
            raise NetlistError("n_states must be 1 or more")
        edges = np.quantile(g0, np.linspace(0, 1, n_states + 1))[1:-1]
        states = np.searchsorted(edges, g0)
    states = np.asarray(states)
    L = np.log10(t / t[0])
    y = np.log(g / g0[:, None])
    X = np.column_stack([np.ones_like(L), L])
    XtXi = np.linalg.inv(X.T @ X)
    coef = y @ X @ XtXi                       # (cells, 2): a, b
    resid = y - coef @ X.T
    rows, errs, counts = [], [], []
    for label in sorted(set(states.tolist()), key=lambda s: np.median(g0[states == s])):
        k = states == label
        c, r = coef[k], resid[k]
        n = int(k.sum())
        if n < 4:
            raise NetlistError(f"state {label!r}: {n} cells; at least 4 needed")
        noise = float(np.sum(r ** 2) / (n * (t.size - 2)))         # read-noise variance
        cov = np.cov(c.T, ddof=1) - noise * XtXi
        mean = c.mean(axis=0)
        se_mean = np.sqrt(np.diag(np.cov(c.T, ddof=1)) / n)
        se_var = np.sqrt(2.0 / (n - 1)) * np.diag(np.cov(c.T, ddof=1))
        rows.append([float(np.median(g0[k])), mean[0], mean[1], max(cov[0, 0], 0.0),
                     max(cov[1, 1], 0.0), cov[0, 1]])
        errs.append([np.nan, se_mean[0], se_mean[1], se_var[0], se_var[1], np.nan])
        counts.append(n)
    return Relaxation(np.array(rows), float(t[0]), np.array(errs), np.array(counts))


# --------------------------------------------------------------------------- read noise

@dataclass(frozen=True)
class PsdFit:
    """Read-noise PSD ~ ``amplitude`` / f^``alpha`` (amplitude: the PSD at 1 Hz, in
    unit^2/Hz), with standard errors, the band fitted and the number of segments."""

    alpha: float
    alpha_stderr: float
    amplitude: float
    amplitude_rel_stderr: float
    f_low: float
    f_high: float
    segments: int


def read_noise_psd(x, dt: float, *, segments: int = 16, f_high_fraction: float = 0.5) -> PsdFit:
    """The 1/f^alpha fit of a read trace ``x`` sampled every ``dt``: Welch PSD (Hann windows,
    ``segments`` non-overlapping), a least-squares line of ln PSD vs ln f over the band from
    the second bin to ``f_high_fraction`` of Nyquist, every other bin (adjacent Hann bins
    are correlated), the standard error from the residuals."""
    from scipy.signal import welch

    x = np.asarray(x, float)
    if x.ndim != 1 or not np.all(np.isfinite(x)) or not dt > 0:
        raise NetlistError("a read trace must be finite 1-D values with dt > 0")
    nper = x.size // segments
    if nper < 32:
        raise NetlistError(f"{x.size} samples are too few for {segments} segments of 32")
    f, p = welch(x - x.mean(), fs=1.0 / dt, window="hann", nperseg=nper, noverlap=0,
                 detrend="linear")
    keep = (f > 0) & (f <= f_high_fraction * 0.5 / dt)
    f, p = f[keep][1::2], p[keep][1::2]
    if f.size < 4 or np.any(p <= 0):
        raise NetlistError("too few positive PSD bins to fit a slope")
    X = np.column_stack([np.ones_like(f), np.log(f)])
    coef, *_ = np.linalg.lstsq(X, np.log(p), rcond=None)
    r = np.log(p) - X @ coef
    s2 = float(r @ r / (f.size - 2))
    cov = s2 * np.linalg.inv(X.T @ X)
    # E[ln periodogram mean] = ln PSD + digamma(K) - ln K: the bias of averaging K segments
    from scipy.special import digamma

    k = x.size // nper
    bias = float(digamma(k) - np.log(k))
    return PsdFit(float(-coef[1]), float(np.sqrt(cov[1, 1])), float(np.exp(coef[0] - bias)),
                  float(np.sqrt(cov[0, 0])), float(f[0]), float(f[-1]), k)


@dataclass(frozen=True)
class Telegraph:
    """Random telegraph noise: the two levels, the amplitude between them (with its standard
    error), the mean dwell times (s) in the low and high state with standard errors
    (exponential dwells: mean/sqrt(count)), and the number of complete dwells."""

    low: float
    high: float
    amplitude: float
    amplitude_stderr: float
    tau_low: float
    tau_low_stderr: float
    tau_high: float
    tau_high_stderr: float
    dwells: tuple[int, int]


def telegraph_levels(x, dt: float) -> Telegraph:
    """Two-level RTN from a read trace ``x`` sampled every ``dt``: levels by two-means,
    states by a Schmitt trigger at 1/4 and 3/4 between them, dwell times from the complete
    dwells (the first and last, cut by the record, are left out)."""
    x = np.asarray(x, float)
    if x.ndim != 1 or x.size < 16 or not np.all(np.isfinite(x)) or not dt > 0:
        raise NetlistError("a read trace must be finite 1-D values (16 or more) with dt > 0")
    lo, hi = np.percentile(x, [10, 90])
    for _ in range(50):
        mid = (lo + hi) / 2
        new_lo, new_hi = x[x <= mid].mean(), x[x > mid].mean()
        if np.isclose(new_lo, lo) and np.isclose(new_hi, hi):
            break
        lo, hi = new_lo, new_hi
    t1, t3 = lo + 0.25 * (hi - lo), lo + 0.75 * (hi - lo)
    state = np.empty(x.size, dtype=bool)
    cur = x[0] > (lo + hi) / 2
    for k, v in enumerate(x):
        if cur and v < t1:
            cur = False
        elif not cur and v > t3:
            cur = True
        state[k] = cur
    edges = np.flatnonzero(np.diff(state.astype(int))) + 1
    bounds = np.concatenate([[0], edges, [x.size]])
    runs = np.diff(bounds)[1:-1]
    which = state[bounds[1:-2]] if len(runs) else np.array([], bool)
    up, down = runs[which] * dt, runs[~which] * dt
    if len(up) < 2 or len(down) < 2:
        raise NetlistError("fewer than 2 complete dwells in each state: no telegraph signal "
                           "to measure")
    xs_lo, xs_hi = x[~state], x[state]
    amp = float(xs_hi.mean() - xs_lo.mean())
    # samples within a dwell are correlated only through the level: the noise is white
    se_amp = float(np.sqrt(xs_hi.var(ddof=1) / xs_hi.size + xs_lo.var(ddof=1) / xs_lo.size))
    return Telegraph(float(xs_lo.mean()), float(xs_hi.mean()), amp, se_amp,
                     float(down.mean()), float(down.mean() / np.sqrt(len(down))),
                     float(up.mean()), float(up.mean() / np.sqrt(len(up))),
                     (int(len(down)), int(len(up))))
