"""Many loops, cycles or devices in one fit: shared and per-curve parameters, ensemble
statistics, and the variability card a Monte-Carlo draws from.

:func:`fit_ensemble` fits N curves of one :class:`~neurospice.calibration.fit.Model` in one
least-squares problem. ``shared`` parameters take one value for every curve; the others are
per curve. The per-curve parameters are regularised by the ensemble itself (a hierarchical
normal model, fitted by empirical Bayes): each curve's parameters are pulled toward the
ensemble mean by a prior whose covariance is the ensemble's own (estimated, EM-style, as the
scatter of the per-curve estimates plus their posterior uncertainty). An ill-conditioned
curve therefore borrows strength from the others instead of scattering, and the reported
spread is the devices' scatter with the fit noise taken out -- not the (wider) scatter of
one-by-one fits. The EM update adds each curve's full posterior covariance (not only its
variances), so the correlation between parameters whose estimates are themselves
correlated (an amplitude and a time constant) is not inflated. The standard errors treat the
ensemble mean as a parameter of the fit (flat prior): where the curves' spread is not
resolved the prior pins every curve to the mean, and the errors are then the mean's (with a
warning), not the collapsed prior's width. A value at its bound, or in a direction the
curves do not determine (a singular Hessian), gets a NaN standard error and a warning.
The EM iterations run on a Gauss-Newton quadratic of the data term (no model evaluation);
when the prior settles, the curves are solved again under it and the quadratic renewed,
until that solve moves no curve (on four nbox loops: 2 solves under the prior and 200 model
evaluations in all; a solve per EM iteration had taken 25 solves, 692 evaluations, from a
rougher start).

Noise: each point's residual is divided by its curve's noise scale times its group's
(:func:`_noise_scales`, from the residuals of the first, unweighted pass). The groups are
the recipe's: a curve's Dataset may carry one label per point in meta ``noise_group``
(taken out of the meta the model sees), e.g. a threshold-switch loop's insulating
readings (1 % current noise), its readings at compliance (0.2 % voltage noise) and its
conducting branch. One noise scale per loop had mixed them: each loop's ``g_ref`` standard
error was about half its scatter over noise draws.

Evaluation is vectorised over curves where the model allows: the model function is called
once with ``x`` of shape (curves, points) (curves of different lengths padded) and every
parameter an array of shape (curves, 1); a model that refuses arrays is evaluated curve by
curve (the result says which). The Jacobian's finite differences perturb one per-curve
parameter of every curve at once (the curves' residuals are disjoint), so a step costs
(per-curve + shared parameters + 1) evaluations whatever the number of curves.

:class:`EnsembleFit` holds the per-curve values and standard errors, the ensemble mean,
spread and correlation (each with a standard error), the same statistics of extracted
figures (``figures(values) -> {name: array}``: V_th, R_on, f_res, ... from the parameters),
and :meth:`EnsembleFit.variability_card` writes the
:class:`~neurospice.compact_models.randomness.VariabilityCard` that
:func:`~neurospice.compact_models.randomness.draw_params` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from neurospice.errors import CalibrationError

__all__ = ["EnsembleFit", "fit_ensemble", "statistics", "markdown"]


def statistics(columns: Mapping[str, np.ndarray]) -> dict:
    """Mean, standard deviation (ddof 1) and correlation of per-curve values, with standard
    errors (normal theory: s/sqrt(n), s/sqrt(2(n-1)), (1 - r^2)/sqrt(n-3))."""
    names = list(columns)
    a = np.array([np.asarray(columns[k], float) for k in names])
    n = a.shape[1]
    if n < 3:
        raise CalibrationError(f"statistics need at least 3 curves, got {n}")
    mean, std = a.mean(axis=1), a.std(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(a) if len(names) > 1 else np.ones((1, 1))
    corr = np.where(np.isfinite(corr), corr, 0.0)
    np.fill_diagonal(corr, 1.0)
    return {"n": n, "names": names,
            "mean": dict(zip(names, mean.tolist())),
            "mean_stderr": dict(zip(names, (std / np.sqrt(n)).tolist())),
            "std": dict(zip(names, std.tolist())),
            "std_stderr": dict(zip(names, (std / np.sqrt(2 * (n - 1))).tolist())),
            "correlation": corr.tolist(),
            "correlation_stderr": ((1 - corr ** 2) / np.sqrt(max(n - 3, 1))).tolist()}


@dataclass
class EnsembleFit:
    """The outcome of :func:`fit_ensemble`.

    - ``names``: the per-curve parameters; ``values``/``stderr``: arrays (curves, names)
      (posterior means and standard errors under the ensemble prior);
    - ``shared``/``shared_stderr``: the parameters common to every curve;
    - ``mean``/``cov``: the ensemble (population) mean and covariance of the per-curve
      parameters, the fit noise taken out; ``mean_stderr``, ``std_stderr``;
    - ``independent``: the per-curve values of the unregularised first pass (for comparison);
    - ``figures``: name -> per-curve array of the extracted figures;
    - ``vectorised``: whether the model was evaluated for all curves at once;
    - ``evaluations``: model evaluations (each over every curve when vectorised);
    - ``mean_cov``: the covariance of the ensemble mean (the mean a parameter of the fit,
      its uncertainty carried into every per-curve and shared standard error);
    - ``warnings``: what the data do not determine (a standard error that is NaN, and in
      the tables "-", is not identifiable: a singular covariance or a value at its bound).
    """

    curves: list[str]
    names: list[str]
    values: np.ndarray
    stderr: np.ndarray
    shared: dict[str, float]
    shared_stderr: dict[str, float | None]
    mean: np.ndarray
    cov: np.ndarray
    independent: np.ndarray
    figures: dict[str, np.ndarray] = field(default_factory=dict)
    vectorised: bool = False
    evaluations: int = 0
    rms: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    mean_cov: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.curves)

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation of each per-curve parameter."""
        return np.sqrt(np.diag(self.cov))

    @property
    def correlation(self) -> np.ndarray:
        s = self.std
        with np.errstate(invalid="ignore", divide="ignore"):
            c = self.cov / np.outer(s, s)
        c = np.where(np.isfinite(c), c, 0.0)
        np.fill_diagonal(c, 1.0)
        return c

    @property
    def correlation_stderr(self) -> np.ndarray:
        """Standard error of each correlation (normal theory, (1 - r^2)/sqrt(n - 3); the
        diagonal 0)."""
        r = self.correlation
        se = (1 - r ** 2) / np.sqrt(max(self.n - 3, 1))
        np.fill_diagonal(se, 0.0)
        return se

    @property
    def mean_stderr(self) -> np.ndarray:
        """Standard error of the ensemble mean: the square root of ``mean_cov``'s diagonal
        (without it: sqrt((population variance + mean posterior variance) / curves))."""
        if self.mean_cov is not None:
            return np.sqrt(np.diag(self.mean_cov))
        return np.sqrt((np.diag(self.cov) + np.mean(self.stderr ** 2, axis=0)) / self.n)

    @property
    def std_stderr(self) -> np.ndarray:
        """Standard error of the population standard deviation (normal theory)."""
        return self.std / np.sqrt(2 * (self.n - 1))

    def per_curve(self) -> list[dict]:
        """One row per curve: its name, values, standard errors and figures."""
        return [{"curve": c,
                 "values": {k: float(self.values[i, j]) for j, k in enumerate(self.names)},
                 "stderr": {k: float(self.stderr[i, j]) for j, k in enumerate(self.names)},
                 "figures": {k: float(v[i]) for k, v in self.figures.items()}}
                for i, c in enumerate(self.curves)]

    def summary(self) -> dict:
        """JSON-ready statistics: the parameters' ensemble mean, spread and correlation (with
        standard errors), the shared parameters, and :func:`statistics` of the figures."""
        out = {"curves": self.n, "vectorised": self.vectorised,
               "evaluations": self.evaluations,
               "shared": {k: {"value": v, "stderr": self.shared_stderr.get(k)}
                          for k, v in self.shared.items()},
               "params": {k: {"mean": float(self.mean[j]),
                              "mean_stderr": float(self.mean_stderr[j]),
                              "std": float(self.std[j]),
                              "std_stderr": float(self.std_stderr[j]),
                              "std_independent": float(self.independent[:, j].std(ddof=1))}
                          for j, k in enumerate(self.names)},
               "correlation": {"names": self.names, "matrix": self.correlation.tolist(),
                               "stderr": self.correlation_stderr.tolist()},
               "notes": list(self.notes), "warnings": list(self.warnings)}
        if self.figures:
            out["figures"] = statistics(self.figures)
        return out

    def draw(self, n: int, seed) -> np.ndarray:
        """``n`` draws of the per-curve parameters from the fitted ensemble (normal)."""
        from neurospice.compact_models.randomness import rng

        w, v = np.linalg.eigh(self.cov)
        root = v * np.sqrt(np.clip(w, 0.0, None))
        return self.mean + rng(seed).standard_normal((n, len(self.names))) @ root.T

    def variability_card(self, device: str, transform: Callable | None = None, *,
                         lognormal: Sequence[str] = (), n_draw: int = 20000, seed=0,
                         source: str = ""):
        """The :class:`~neurospice.compact_models.randomness.VariabilityCard` of the
        ensemble for ``device``. Without ``transform`` its parameters are the per-curve ones
        (normal, the ensemble mean and covariance as fitted); ``transform({name: array}) ->
        {device parameter: array}`` maps them onto device parameters, and the card is then
        the moments of ``n_draw`` seeded draws pushed through it (``lognormal`` names:
        moments of the log)."""
        from neurospice.compact_models.randomness import VariabilityCard

        if transform is None and not lognormal:
            return VariabilityCard(device, {k: {"mean": float(self.mean[j]),
                                                "std": float(self.std[j])}
                                            for j, k in enumerate(self.names)},
                                   self.correlation, self.n, source)
        draws = self.draw(n_draw, seed)
        cols = {k: draws[:, j] for j, k in enumerate(self.names)}
        mapped = dict(transform(cols)) if transform is not None else cols
        params, rows = {}, []
        for name, vals in mapped.items():
            vals = np.asarray(vals, float)
            log = name in lognormal
            if log:
                if np.any(vals <= 0):
                    raise CalibrationError(f"variability card: {name} drawn <= 0 cannot be "
                                           "lognormal")
                vals = np.log(vals)
            params[name] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)),
                            "distribution": "lognormal" if log else "normal"}
            rows.append(vals)
        corr = np.corrcoef(np.array(rows)) if len(rows) > 1 else np.ones((1, 1))
        corr = np.where(np.isfinite(corr), corr, 0.0)
        np.fill_diagonal(corr, 1.0)
        return VariabilityCard(device, params, (corr + corr.T) / 2, self.n, source)


# --------------------------------------------------------------------------- the fit

def _pinv_psd(H: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """Pseudo-inverse of symmetric positive semi-definite matrices (stacked on the first
    axes), directions below ``rcond`` of the largest eigenvalue dropped."""
    w, V = np.linalg.eigh((H + np.swapaxes(H, -1, -2)) / 2)
    top = np.max(np.abs(w), axis=-1, keepdims=True)
    keep = w > rcond * np.maximum(top, 1e-300)
    inv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
    return np.einsum("...ak,...k,...bk->...ab", V, inv, V)


def _singular(H: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """Per parameter of the symmetric matrix ``H``: whether it takes part (a component over
    0.01) in a direction below ``rcond`` of the largest eigenvalue (not identifiable)."""
    w, V = np.linalg.eigh((H + H.T) / 2)
    null = w <= rcond * max(float(np.max(np.abs(w))), 1e-300)
    return np.any((np.abs(V) > 0.01) & null[None, :], axis=1)


def _curve(c, k):
    """(x, y, meta, name, noise groups) of a Dataset or an (x, y) pair; the groups (one
    label per point, meta ``noise_group``) are taken out of the meta the model sees."""
    if hasattr(c, "x") and hasattr(c, "y"):
        x, y = np.asarray(c.x, float), np.asarray(c.y, float)
        meta = dict(getattr(c, "meta", None) or {})
        name = getattr(c, "name", None) or f"curve {k}"
    else:
        try:
            x, y = c
        except (TypeError, ValueError):
            raise CalibrationError(f"curve {k}: give a Dataset or an (x, y) pair") from None
        x, y, meta, name = np.asarray(x, float), np.asarray(y, float), {}, f"curve {k}"
    groups = meta.pop("noise_group", None)
    groups = np.zeros(y.shape, int) if groups is None else np.asarray(groups).ravel()
    if groups.shape != y.shape:
        raise CalibrationError(f"{name}: meta noise_group has {groups.size} labels for "
                               f"{y.size} points")
    return x, y, meta, name, groups


def _noise_scales(r2: np.ndarray, mask: np.ndarray, group: np.ndarray,
                  sweeps: int = 30) -> np.ndarray:
    """The noise scale of every point (curves, width) from the squared residuals ``r2``:
    a curve's factor times its group's level (``group``: labels 0..G-1 per point), fitted by
    alternating means of the squares (the two-way model E r^2 = c_i^2 s_g^2: a noisy curve
    does not dominate, and a group with few points in a curve borrows its level from the
    others). One group: each curve's residual RMS."""
    G = int(group[mask].max()) + 1
    onehot = (group[None, :, :] == np.arange(G)[:, None, None]) & mask[None]   # (G, n, w)
    r2 = np.where(mask, r2, 0.0)
    s2 = np.ones(G)
    for _ in range(sweeps if G > 1 else 1):
        c2 = np.einsum("gnw,nw->n", onehot, r2 / s2[group.clip(0)]) / mask.sum(axis=1)
        c2 = np.where(c2 > 0, c2, 1.0)
        s2 = np.einsum("gnw,nw->g", onehot, r2 / c2[:, None]) / \
            np.maximum(onehot.sum(axis=(1, 2)), 1)
        s2 = np.where(s2 > 0, s2, 1.0)
        s2 = s2 / np.exp(np.sum(onehot.sum(axis=(1, 2)) * np.log(s2)) / mask.sum())
    c2 = np.einsum("gnw,nw->n", onehot, r2 / s2[group.clip(0)]) / mask.sum(axis=1)
    c2 = np.where(c2 > 0, c2, 1.0)
    return np.where(mask, np.sqrt(c2[:, None] * s2[group.clip(0)]), 1.0)


class _Problem:
    """The stacked curves and the model, evaluated vectorised when it can be."""

    def __init__(self, model, curves, shared, per, fixed, start):
        self.model, self.shared, self.per, self.fixed = model, list(shared), list(per), fixed
        self.start = {k: start[k] for k in per}
        self.shared_start = {k: start[k] for k in shared}
        parsed = [_curve(c, k) for k, c in enumerate(curves)]
        self.names = [p[3] for p in parsed]
        labels = [p[4] for p in parsed]
        self.group_names, codes = np.unique(np.concatenate(labels), return_inverse=True)
        codes = np.split(codes, np.cumsum([g.size for g in labels])[:-1])
        self.n = len(parsed)
        self.lengths = np.array([p[0].size for p in parsed])
        for (x, y, _, name, _) in parsed:
            if x.shape != y.shape or x.ndim != 1 or x.size < 2 or not (
                    np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
                raise CalibrationError(f"{name}: x and y must be finite 1-D arrays of one "
                                       "length (2 points or more)")
        width = int(self.lengths.max())
        self.mask = np.arange(width)[None, :] < self.lengths[:, None]
        self.x = np.zeros((self.n, width))
        self.y = np.zeros((self.n, width))
        self.group = np.full((self.n, width), -1)
        for i, (x, y, _, _, _) in enumerate(parsed):
            self.x[i, :x.size], self.y[i, :y.size] = x, y
            self.x[i, x.size:] = x[-1]
            self.group[i, :y.size] = codes[i]
        self.metas = [p[2] for p in parsed]
        self.evaluations = 0
        self.vectorised = self._try_vectorised()

    def _stacked_meta(self):
        keys = set().union(*self.metas) if self.metas else set()
        out = {}
        for k in keys:
            vals = [m.get(k) for m in self.metas]
            out[k] = np.array(vals, float)[:, None] if all(
                isinstance(v, (int, float, np.number)) for v in vals) else vals[0]
        return out

    def _try_vectorised(self) -> bool:
        p = {**self.fixed, **self.shared_start,
             **{k: np.full((self.n, 1), v) for k, v in self.start.items()}}
        try:
            with np.errstate(all="ignore"):
                y = np.asarray(self.model.func(self.x, p, **self._stacked_meta()), float)
        except Exception:        # noqa: BLE001 -- a model that refuses arrays runs per curve
            return False
        if y.shape != self.x.shape:
            return False
        loop = self._loop({k: np.full(self.n, v) for k, v in self.start.items()},
                          self.shared_start)
        return bool(np.allclose(y[self.mask], loop[self.mask], rtol=1e-9, atol=0,
                                equal_nan=True))

    def _loop(self, per_values, shared_values):
        out = np.zeros_like(self.x)
        for i in range(self.n):
            L = self.lengths[i]
            p = {**self.fixed, **shared_values, **{k: float(v[i]) for k, v in per_values.items()}}
            out[i, :L] = self.model.func(self.x[i, :L], p, **self.metas[i])
        return out

    def evaluate(self, per_values: Mapping[str, np.ndarray], shared_values) -> np.ndarray:
        """Model values (curves, width) for per-curve arrays and shared scalars."""
        self.evaluations += 1
        if self.vectorised:
            p = {**self.fixed, **shared_values,
                 **{k: np.asarray(v, float)[:, None] for k, v in per_values.items()}}
            return np.asarray(self.model.func(self.x, p, **self._stacked_meta()), float)
        return self._loop(per_values, shared_values)


def fit_ensemble(model, curves: Sequence, *, shared: Sequence[str] = (),
                 per_curve: Sequence[str] | None = None, values: Mapping | None = None,
                 bounds: Mapping | None = None, weighting: str = "absolute",
                 figures: Callable | None = None, regularise: bool = True,
                 iterations: int = 200, tol: float = 1e-3,
                 max_solves: int = 5) -> EnsembleFit:
    """Fit the curves (Datasets, or (x, y) pairs) of ``model`` together.

    ``shared``: parameters with one value for all curves; ``per_curve`` (default: every
    other parameter in ``values``, else every model parameter not shared): one value per
    curve; the rest are held at their defaults (or ``values``). ``values``: starting values
    (one number each); ``bounds``: name -> (lower, upper) over the model's. ``weighting``:
    ``"absolute"`` or ``"relative"`` residuals, each point's scaled by its curve's and its
    noise group's residual RMS from the first pass (so a noisy curve does not dominate, nor
    a noisy part of every curve; groups: meta ``noise_group`` of each Dataset, one label
    per point, the model never sees it; without one, a curve is one group).
    ``figures(values)`` -> {name: per-curve array}, from the per-curve parameters as arrays
    (shared ones as scalars). ``regularise``: the ensemble prior (see the module
    docstring); False leaves the one-by-one values (the first pass). ``iterations``: the
    most empirical-Bayes iterations (on the quadratic model: no model evaluation; four nbox
    loops 3 % apart took 47); ``tol``: the largest change of a per-curve value, relative to
    the population's standard deviation, at which the prior has settled; ``max_solves``:
    the most solves under the prior (each evaluates the model on every curve until the
    per-curve fit converges; a solve that keeps moving the curves by more than ``tol`` --
    ten nbox loops: a solve every other iteration, 100 in 200 iterations and 87 s where
    the fit had taken 7 s -- stops there, with a note that the prior did not settle)."""

    values = dict(values or {})
    unknown = [k for k in [*shared, *(per_curve or ()), *values] if k not in model.params]
    if unknown:
        raise CalibrationError(f"model {model.name} has no parameter(s) {unknown}")
    if weighting not in ("absolute", "relative"):
        raise CalibrationError(f"weighting must be 'absolute' or 'relative', got {weighting!r}")
    if per_curve is None:
        per_curve = [k for k in model.params if k not in shared]
    if set(shared) & set(per_curve):
        raise CalibrationError("a parameter cannot be both shared and per curve")
    if len(curves) < 3:
        raise CalibrationError(f"an ensemble fit needs at least 3 curves, got {len(curves)}")
    start = {**model.defaults(), **values}
    fixed = {k: v for k, v in start.items() if k not in shared and k not in per_curve}
    prob = _Problem(model, curves, shared, per_curve, fixed, start)
    n, m, s = prob.n, len(per_curve), len(shared)
    names = list(per_curve) + list(shared)
    lo = np.array([max(model.params[k].lower, (bounds or {}).get(k, (-np.inf, np.inf))[0])
                   for k in names])
    hi = np.array([min(model.params[k].upper, (bounds or {}).get(k, (-np.inf, np.inf))[1])
                   for k in names])
    theta0 = np.concatenate([np.tile([start[k] for k in per_curve], n),
                             [start[k] for k in shared]]).astype(float)
    mask = prob.mask
    rows = int(mask.sum())
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    typical = np.maximum(np.abs(np.concatenate([theta0[:m], theta0[n * m:]])), 1e-6 * width)
    typical = np.where(typical > 0, typical, 1e-12)
    scale = np.ones(mask.shape)

    def residual_matrix(P, sh):
        f = prob.evaluate({k: P[:, j] for j, k in enumerate(per_curve)}, sh)
        r = f - prob.y
        if weighting == "relative":
            r = r / np.where(prob.y != 0, np.abs(prob.y), 1.0)
        return np.where(mask, r / scale, 0.0)

    def shared_dict(v):
        return {k: float(v[j]) for j, k in enumerate(shared)}

    def cost(P, S, r, Q, mu):
        c = float(np.sum(r ** 2))
        if Q is not None:
            D = P - mu
            c += float(np.einsum("na,ab,nb->", D, Q, D))
        return c

    def solve(P, S, Q=None, mu=None, max_iter=200):
        """Batched Levenberg-Marquardt: every curve's step at once, the shared parameters
        through the Schur complement of the per-curve blocks."""
        lam = 1e-3
        r = residual_matrix(P, shared_dict(S))
        c0 = cost(P, S, r, Q, mu)
        for _ in range(max_iter):
            hP = 1e-7 * np.maximum(np.abs(P), typical[:m])
            hP = np.where(P + hP > hi[:m], -hP, hP)
            J = np.empty((n, r.shape[1], m))
            for j in range(m):
                Pj = P.copy()
                Pj[:, j] += hP[:, j]
                J[:, :, j] = (residual_matrix(Pj, shared_dict(S)) - r) / hP[:, j][:, None]
            K = np.empty((n, r.shape[1], s))
            hS = 1e-7 * np.maximum(np.abs(S), typical[m:])
            hS = np.where(S + hS > hi[m:], -hS, hS)
            for k in range(s):
                Sk = S.copy()
                Sk[k] += hS[k]
                K[:, :, k] = (residual_matrix(P, shared_dict(Sk)) - r) / hS[k]
            A = np.einsum("nwa,nwb->nab", J, J)
            ga = np.einsum("nwa,nw->na", J, r)
            if Q is not None:
                A = A + Q
                ga = ga + (P - mu) @ Q
            B = np.einsum("nwa,nwk->nak", J, K)
            C = np.einsum("nwk,nwl->kl", K, K)
            gs = np.einsum("nwk,nw->k", K, r)
            while True:
                Ad = A + lam * np.einsum("nab,ab->nab", A, np.eye(m)) + 1e-300 * np.eye(m)
                try:
                    Ainv = np.linalg.inv(Ad)
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                if s:
                    Cd = C + lam * np.diag(np.diag(C))
                    Sch = Cd - np.einsum("nak,nab,nbl->kl", B, Ainv, B)
                    rhs = gs - np.einsum("nak,nab,nb->k", B, Ainv, ga)
                    dS = -np.linalg.lstsq(Sch, rhs, rcond=None)[0]
                    dP = -np.einsum("nab,nb->na", Ainv, ga + np.einsum("nak,k->na", B, dS))
                else:
                    dS = np.zeros(0)
                    dP = -np.einsum("nab,nb->na", Ainv, ga)
                P1 = np.clip(P + dP, lo[:m], hi[:m])
                S1 = np.clip(S + dS, lo[m:], hi[m:])
                r1 = residual_matrix(P1, shared_dict(S1))
                c1 = cost(P1, S1, r1, Q, mu)
                if np.isfinite(c1) and c1 <= c0:
                    break
                lam *= 4
                if lam > 1e12:
                    return P, S, r, J, K, A, B, C, c0
            done = c0 - c1 <= 1e-10 * max(c0, 1e-300)
            P, S, r, c0 = P1, S1, r1, c1
            lam = max(lam / 3, 1e-9)
            if done:
                break
        return P, S, r, J, K, A, B, C, c0

    def posterior(state, Q=None):
        """Per-curve posterior covariances given the ensemble mean (for the EM update), and
        the standard errors with the mean a parameter of the fit (flat prior): a prior that
        pins every curve to the mean (the spread not resolved) leaves the mean's own
        uncertainty in each value, not the prior's width. In coordinates scaled by the
        parameters' typical sizes; directions of the Hessian below 1e-12 of its largest
        eigenvalue are not identifiable: their parameters' standard errors NaN."""
        P, S, r, J, K, A, B, C, _ = state
        dof = max(rows - (n * m + s), 1)
        s2 = float(np.sum(r ** 2) / dof)
        dp, ds = typical[:m], typical[m:]
        As = A * np.outer(dp, dp)
        Ainv = _pinv_psd(As)                           # (curves, m, m), scaled
        cov_p = Ainv * np.outer(dp, dp) * s2           # given the mean (and shared values)
        # the coupled block z = (shared, mean): H_{P_i z} = [B_i, -Q]
        Qs = Q * np.outer(dp, dp) if Q is not None else None
        Bs = B * np.outer(dp, ds)
        Hpz = Bs if Qs is None else np.concatenate([Bs, np.broadcast_to(-Qs, (n, m, m))], 2)
        nz = Hpz.shape[2]
        bad = np.zeros((n, m), bool)
        for i in range(n):
            bad[i] = _singular(As[i])
        var_p, var_s, mean_cov = np.einsum("naa->na", cov_p), np.zeros(s), None
        if nz:
            Z = -np.einsum("nak,nab,nbl->kl", Hpz, Ainv, Hpz)
            Z[:s, :s] += C * np.outer(ds, ds)
            if Qs is not None:
                G = As - Qs                            # the curves' own J'J (scaled)
                Z[s:, s:] = np.einsum("ab,nbc,ncd->ad", Qs, Ainv, G)   # n Q - sum Q A^-1 Q
            Z = (Z + Z.T) / 2
            Zinv = _pinv_psd(Z)
            zbad = _singular(Z)
            W = np.einsum("nab,nbk->nak", Ainv, Hpz)     # A_i^-1 H_{P_i z}
            full = Ainv + np.einsum("nak,kl,nbl->nab", W, Zinv, W)
            var_p = np.einsum("naa->na", full) * dp ** 2 * s2
            var_s = np.diag(Zinv)[:s] * ds ** 2 * s2
            if Qs is not None:
                mean_cov = Zinv[s:, s:] * np.outer(dp, dp) * s2
                bad |= zbad[s:][None, :]
            if s:
                bad |= np.any((np.abs(W[:, :, :s]) > 1e-3) & zbad[:s], axis=2)
                var_s = np.where(zbad[:s], np.nan, var_s)
        var_p = np.where(bad, np.nan, var_p)
        return var_p, var_s, cov_p, mean_cov

    # pass 1: one by one (shared parameters joint), then each point weighted by its
    # curve's and its group's noise (_noise_scales)
    P0 = np.tile(theta0[:n * m].reshape(n, m)[0], (n, 1))
    S0 = theta0[n * m:]
    state = solve(P0, S0)
    rr = state[2] * scale
    rms = np.sqrt(np.sum(rr ** 2, axis=1) / prob.lengths)
    scale = _noise_scales(rr ** 2, mask, prob.group)
    state = solve(state[0], state[1])
    independent = state[0].copy()
    post_var, var_s, post_cov, mean_cov = posterior(state)
    warnings: list[str] = []
    notes = [f"model evaluated {'for all curves at once' if prob.vectorised else 'curve by curve'}"]
    if len(prob.group_names) > 1:
        group_rms = [float(np.sqrt(np.mean(rr[mask & (prob.group == g)] ** 2)))
                     for g in range(len(prob.group_names))]
        notes.append("residuals weighted by a noise scale per curve and per group (RMS of "
                     + ("relative" if weighting == "relative" else "absolute")
                     + " residuals: " + ", ".join(f"{g} {v:.3g}" for g, v in
                                                  zip(prob.group_names, group_rms)) + ")")
    if regularise:
        from neurospice.progress import progress  # noqa: PLC0415

        def prior(P, post_cov, first):
            mu = P.mean(axis=0)
            D = P - mu
            if first:
                Sigma = (D.T @ D) / (n - 1) - np.mean(post_cov, axis=0)
            else:
                Sigma = (D.T @ D + post_cov.sum(axis=0)) / n
            # keep the prior proper: eigenvalues floored at a hair of the largest, and at a
            # relative std of 1e-8, in coordinates scaled by the parameters' sizes
            # (unscaled, the floor set by r_th ~ 1e6 left g_ref ~ 3e-6 with no prior at
            # all; with no floor, identical curves drove the precision to overflow)
            dp = typical[:m]
            w, V = np.linalg.eigh((Sigma + Sigma.T) / 2 / np.outer(dp, dp))
            w = np.maximum(w, max(1e-10 * w.max(), 1e-16))
            Sigma = (V * w) @ V.T * np.outer(dp, dp)
            return mu, Sigma, np.linalg.inv(Sigma)

        def linearise(state):
            """The data term about ``state`` as a quadratic (Gauss-Newton: J'J, J'r and
            their blocks with the shared parameters), and the noise variance."""
            P_, S_, r, J, K = state[:5]
            s2 = float(np.sum(r ** 2) / max(rows - (n * m + s), 1))
            return (P_, S_, np.einsum("nwa,nwb->nab", J, J), np.einsum("nwa,nw->na", J, r),
                    np.einsum("nwa,nwk->nak", J, K), np.einsum("nwk,nwl->kl", K, K),
                    np.einsum("nwk,nw->k", K, r), s2)

        def step(lin, mu, Q):
            """The modes (per-curve and shared) and the per-curve posterior covariances of
            the quadratic data term under the prior (mu, Q): no model evaluation."""
            P_, S_, A_, g_, B_, C_, gs_, s2 = lin
            dp = typical[:m]
            Ainv = _pinv_psd((A_ + Q) * np.outer(dp, dp)) * np.outer(dp, dp)
            ga = g_ + (P_ - mu) @ Q
            dS = np.zeros(s)
            if s:
                Sch = C_ - np.einsum("nak,nab,nbl->kl", B_, Ainv, B_)
                rhs = gs_ - np.einsum("nak,nab,nb->k", B_, Ainv, ga)
                dS = -np.linalg.lstsq(Sch, rhs, rcond=None)[0]
            dP = -np.einsum("nab,nb->na", Ainv, ga + np.einsum("nak,k->na", B_, dS))
            return (np.clip(P_ + dP, lo[:m], hi[:m]), np.clip(S_ + dS, lo[m:], hi[m:]),
                    Ainv * s2)

        # the empirical-Bayes (EM) iterations run on the quadratic model of the data term;
        # when the prior settles the per-curve fit is solved again under it (the model
        # evaluated) and the quadratic model renewed, until the solve moves no curve: the
        # fixed point of solving under every iteration's prior, at a few solves instead
        # of one per iteration (25 on four nbox loops)
        P, lin, solves, settled = independent, linearise(state), 0, False
        for it in progress(range(iterations), total=iterations, desc="ensemble fit",
                           unit="iter"):    # a bar on a terminal; the loop may stop early
            mu, Sigma, Q = prior(P, post_cov, it == 0)
            Pn, Sn, post_cov = step(lin, mu, Q)
            change = np.max(np.abs(Pn - P) / np.sqrt(np.diag(Sigma)))
            P = Pn
            if change < tol and it or it == iterations - 1:
                state = solve(P, Sn, Q, mu)
                solves += 1
                post_var, var_s, post_cov, mean_cov = posterior(state, Q)
                moved = np.max(np.abs(state[0] - P) / np.sqrt(np.diag(Sigma)))
                P = state[0].copy()
                lin = linearise(state)
                if moved < tol:
                    settled = True
                    break
                if solves >= max_solves:
                    break
        if not settled:     # the last iteration, or the max_solves-th, solved under it
            notes.append("the ensemble prior did not settle: the last solve under it moved "
                         f"a curve by {moved:.2g} of the population's spread (tol {tol:g})")
        mean = P.mean(axis=0)
        D = P - mean
        Sigma = (D.T @ D + post_cov.sum(axis=0)) / n
        notes.append(f"per-curve parameters regularised by the ensemble prior ({it + 1} "
                     f"empirical-Bayes iterations, {solves} solve(s) under the prior)")
    else:
        P = independent
        mean = P.mean(axis=0)
        D = P - mean
        Sigma = (D.T @ D) / (n - 1)
        mean_cov = (Sigma + np.mean(post_cov, axis=0)) / n
        Sigma[np.diag_indices(m)] = np.maximum(np.diag(Sigma) - post_var.mean(axis=0), 0.0)
    theta_shared = state[1]
    sh_vals = shared_dict(theta_shared)
    # a value at its bound: its standard error is not that of a free parameter
    theta = np.concatenate([P, np.tile(theta_shared, (n, 1))], axis=1)
    at = (np.abs(theta - lo) <= 1e-9 * typical) | (np.abs(theta - hi) <= 1e-9 * typical)
    for j, k in enumerate(names):
        if at[:, j].any():
            which = "every curve" if j >= m or at[:, j].all() else \
                ", ".join(prob.names[i] for i in np.flatnonzero(at[:, j]))
            warnings.append(f"{k} sits at its bound ({lo[j]:g}, {hi[j]:g}) in {which}: not "
                            "identifiable there (standard error left out); widen the bound "
                            "or hold it")
    post_var = np.where(at[:, :m], np.nan, post_var)
    var_s = np.where(at[0, m:], np.nan, var_s)
    if np.isnan(post_var).any() or np.isnan(var_s).any():
        lost = [k for j, k in enumerate(per_curve) if np.isnan(post_var[:, j]).any()] + \
            [k for j, k in enumerate(shared) if np.isnan(var_s[j])]
        warnings.append("not identifiable from these curves (standard error NaN, '-' in the "
                        "tables; a singular covariance or a value at its bound): "
                        + ", ".join(lost))
    lost_mean = np.isnan(post_var).all(axis=0)       # no curve's value identifiable
    mean_cov = np.where(lost_mean[:, None] | lost_mean[None, :], np.nan, mean_cov)
    se = np.sqrt([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan
                  for c in post_var.T])
    for j, k in enumerate(per_curve):
        if regularise and np.sqrt(Sigma[j, j]) < 0.1 * se[j]:
            warnings.append(
                f"{k}: the curves' spread is not resolved (population std "
                f"{np.sqrt(Sigma[j, j]):.3g}, a tenth of the per-curve standard error "
                f"{se[j]:.3g} or less): the prior pins every curve's {k} to the "
                "ensemble mean, and its standard errors are the mean's")
    sh_err = {k: None if np.isnan(var_s[j]) else float(np.sqrt(max(var_s[j], 0.0)))
              for j, k in enumerate(shared)}
    out = EnsembleFit(list(prob.names), list(per_curve), P, np.sqrt(np.maximum(post_var, 0)),
                      sh_vals, sh_err, mean, (Sigma + Sigma.T) / 2, independent,
                      vectorised=prob.vectorised, evaluations=prob.evaluations, rms=rms,
                      notes=notes, mean_cov=mean_cov, warnings=warnings)
    if figures is not None:
        figs = figures({**sh_vals, **{k: P[:, j] for j, k in enumerate(per_curve)}})
        out.figures = {k: np.broadcast_to(np.asarray(v, float), (n,)).copy()
                       for k, v in figs.items()}
    return out


# --------------------------------------------------------------------------- the report

def markdown(fit: EnsembleFit, title: str, *, card=None, card_file: str = "") -> str:
    """The Markdown report of an ensemble fit: the per-curve table (values, standard errors,
    figures), the ensemble mean, spread and correlation of the parameters (with standard
    errors, and the one-by-one spread for comparison), the same statistics of the figures,
    the shared parameters, and the variability card (``card``, written to ``card_file``)."""
    from .report import num

    def corr_table(names, matrix, stderr=None):
        rows = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for i, a in enumerate(names):
            cells = [num(matrix[i][j], 3) + (f" ± {num(stderr[i][j], 2)}"
                                             if stderr is not None and i != j else "")
                     for j in range(len(names))]
            rows.append(f"| {a} | " + " | ".join(cells) + " |")
        return rows

    s = fit.summary()
    figs = list(fit.figures)
    out = [f"# {title}", "", f"{fit.n} curves fitted together "
           f"({'vectorised over curves' if fit.vectorised else 'curve by curve'}, "
           f"{fit.evaluations} model evaluations).", "", "## Per curve", "",
           "| curve | " + " | ".join(f"{k} (± se)" for k in fit.names)
           + "".join(f" | {k}" for k in figs) + " | RMS |",
           "|---" * (len(fit.names) + len(figs) + 2) + "|"]
    for i, row in enumerate(fit.per_curve()):
        cells = [f"{num(row['values'][k], 5)} ± {num(row['stderr'][k], 2)}" for k in fit.names]
        cells += [num(row["figures"][k], 5) for k in figs]
        rms = num(float(fit.rms[i]), 3) if fit.rms is not None else "-"
        out.append(f"| {row['curve']} | " + " | ".join(cells) + f" | {rms} |")
    out += ["", "## Parameters over the ensemble", "",
            "Mean and standard deviation of the population (the fit noise taken out), each "
            "± its standard error; `std one by one`: the scatter of unregularised "
            "per-curve fits.", "",
            "| parameter | mean | std | std one by one |", "|---|---|---|---|"]
    for k, v in s["params"].items():
        out.append(f"| {k} | {num(v['mean'], 5)} ± {num(v['mean_stderr'], 2)} | "
                   f"{num(v['std'], 4)} ± {num(v['std_stderr'], 2)} | "
                   f"{num(v['std_independent'], 4)} |")
    if len(fit.names) > 1:
        out += ["", "Correlation (± standard error):", "",
                *corr_table(fit.names, s["correlation"]["matrix"],
                            s["correlation"]["stderr"])]
    if s["shared"]:
        out += ["", "## Shared parameters", "", "| parameter | value | stderr |",
                "|---|---|---|"]
        out += [f"| {k} | {num(v['value'], 6)} | {num(v['stderr'], 3)} |"
                for k, v in s["shared"].items()]
    if "figures" in s:
        f = s["figures"]
        out += ["", "## Figures over the ensemble", "", "| figure | mean | std |",
                "|---|---|---|"]
        out += [f"| {k} | {num(f['mean'][k], 5)} ± {num(f['mean_stderr'][k], 2)} | "
                f"{num(f['std'][k], 4)} ± {num(f['std_stderr'][k], 2)} |" for k in f["names"]]
        if len(f["names"]) > 1:
            out += ["", "Correlation (± standard error):", "",
                    *corr_table(f["names"], f["correlation"], f["correlation_stderr"])]
    if card is not None:
        out += ["", "## Variability card", "",
                f"`{card_file or 'variability card'}` (device {card.device}; "
                "`draw_params(device, n, seed, path)` draws from it):", "",
                "| parameter | distribution | mean | std |", "|---|---|---|---|"]
        out += [f"| {k} | {d} | {num(m, 6)} | {num(sd, 4)} |"
                for k, d, m, sd in zip(card.names, card.distribution, card.mean, card.std)]
    if fit.warnings:
        out += ["", "## Warnings", "", *[f"- {w}" for w in fit.warnings]]
    if fit.notes:
        out += ["", "## Notes", "", *[f"- {n}" for n in fit.notes]]
    return "\n".join(out) + "\n"
