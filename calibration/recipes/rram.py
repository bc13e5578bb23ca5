"""Calibration of the HfO2 RRAM (compact_models/rram); the ``rram-pulse-updates`` recipe.

- :func:`set_reset_from_loop` (-> :class:`LoopSwitching`): SET/RESET parameters from an I-V loop (a quasi-static sweep):
  the SET and RESET voltages (steepest conductance change on each branch), R_on and R_off at a
  read voltage, and from them the gap bounds ``gmin``/``gmax`` of the card (i0, g0, v0 held).
- :func:`fit_weak_reset` (-> :class:`WeakResetDrift`): the seed's weak-RESET drift parameters (two slopes, knee, offset)
  from resistance vs pulse number, with the 1/f noise gain from the residual.
- :func:`fit_pulse_updates` (-> :class:`PulseUpdates`): a conductance-update model fitted to
  measured potentiation and depression ramps (the ``rram_pulse_updates`` data set): the mean ramp per direction,
  ``I(n) = a + (b - a) expm1(-nu n/N) / expm1(-nu)`` (``nu`` the nonlinearity; the
  asymmetry is the difference between the directions), fitted with the calibration engine
  (:class:`~neurospice.calibration.fit.Fit`, relative residuals), and a cycle-to-cycle noise
  model -- per ramp a relative offset o and a relative drift s along the ramp (each ramp's
  deviation from the mean is o + s n/N, the pair drawn from a fitted bivariate normal), plus
  a per-pulse read noise sigma_e -- whose predicted spread across ramps,
  mean(n) sqrt(var(o + s n/N) + sigma_e^2), is compared with the measured one (it grows
  along the ramp where the drift term matters, as in the measured depression ramps);
  :func:`simulate_ramps` draws seeded synthetic ramps. As the recipe ``rram-pulse-updates``
  (:func:`calibrate_pulse_updates`): the ramps of one or more files (:func:`load_ramps`), each
  ramp's direction told by its trend (rising: potentiation). The update model is not a card
  of the ``rram`` device (no circuit renders it), so there is no card to write or re-simulate.
- ``rram-relaxation`` (:func:`calibrate_relaxation`): median drift and spread of ln G vs log
  time per programmed state from per-cell tables (:func:`load_cell_table`, long or wide);
  ``rram-read-noise`` (:func:`calibrate_read_noise`): PSD slope and amplitude and random
  telegraph noise of evenly sampled read traces (:func:`load_noise_traces`). Neither has a
  card: their models live in :mod:`neurospice.compact_models.rram.relaxation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurospice.errors import CalibrationError

from .base import (Calibration, EnsembleRecipe, Option, Recipe, collect_warnings,
                   count_arg)

__all__ = ["LoopSwitching", "WeakResetDrift", "UpdateModel", "PulseUpdates",
           "set_reset_from_loop", "fit_weak_reset", "ramp_model", "fit_direction",
           "fit_pulse_updates", "simulate_ramps", "load_ramps", "calibrate_pulse_updates",
           "READ_VOLTAGE", "spread_error", "ramp_datasets", "ramp_card", "RRAM_PULSE_UPDATES",
           "load_cell_table", "calibrate_relaxation",
           "load_noise_traces", "calibrate_read_noise", "RRAM_RELAXATION", "RRAM_READ_NOISE",
           "REGISTERED"]


@dataclass(frozen=True)
class LoopSwitching:
    """SET/RESET of one I-V loop: switching voltages (V), resistances at the read voltage
    (ohm), their ratio, and the gap bounds (m) of the card that reproduce them."""

    v_set: float
    v_reset: float
    r_on: float
    r_off: float
    on_off: float
    gmin: float
    gmax: float


@dataclass(frozen=True)
class WeakResetDrift:
    """The two-slope weak-RESET drift of one device: slopes ``m1``, ``m2`` of ln(R/R0) per
    pulse before and after the knee ``n_star``, offset ``c1`` (0: folded into ``r0``, ohm),
    the 1/f noise gain and the residual RMS of ln R."""

    m1: float
    m2: float
    n_star: float
    c1: float
    r0: float
    flicker_gain: float
    residual_rms: float


# --------------------------------------------------------------------------- SET/RESET loop

def set_reset_from_loop(v, i, *, v_read: float = 0.1, params=None) -> LoopSwitching:
    """SET/RESET from one loop starting in the HRS (rising positive branch first): V_set and
    V_reset, R_off (before SET) and R_on (after SET) at +v_read, the ON/OFF ratio, and the
    gap bounds that reproduce R_on and R_off with the card's i0, g0, v0."""
    from neurospice.compact_models.rram import gap_for_resistance

    v, i = np.asarray(v, dtype=float), np.asarray(i, dtype=float)
    if v.shape != i.shape or v.size < 20:
        raise CalibrationError("the loop needs matching v and i arrays of 20 points or more")
    k_top, k_bottom = int(np.argmax(v)), int(np.argmin(v))
    if not 0 < k_top < k_bottom:
        raise CalibrationError("the loop must sweep positive (SET) first, then negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(np.abs(v) > 1e-3, i / v, np.nan)
    up, down = slice(0, k_top), slice(k_top, k_bottom)
    lg = np.log(np.abs(g))
    d_up = np.nan_to_num(np.diff(lg[up]), nan=0.0)
    d_down = np.nan_to_num(np.diff(lg[down]), nan=0.0)
    v_set = float(v[up][np.argmax(d_up) + 1])
    v_reset = float(v[down][np.argmin(d_down) + 1])
    k_off = int(np.argmin(np.abs(v[up] - v_read)))
    k_on = k_top + int(np.argmin(np.abs(v[k_top:k_bottom] - v_read)))
    r_off, r_on = v[k_off] / i[k_off], v[k_on] / i[k_on]
    return LoopSwitching(v_set, v_reset, float(r_on), float(r_off), float(r_off / r_on),
                         float(gap_for_resistance(r_on, v[k_on], params)),
                         float(gap_for_resistance(r_off, v[k_off], params)))


# --------------------------------------------------------------------------- weak RESET

def fit_weak_reset(n, r) -> WeakResetDrift:
    """Two-slope drift of ln(R/R0) vs pulse number for one device (the seed's model): m1, m2,
    n_star, c1 with R0 = R at n = 0 divided by exp(c1) -- and the 1/f gain estimated from the
    residual's standard deviation (sqrt of the sum of the squared fractional coefficients)."""
    from neurospice.compact_models.rram.variability import fractional_coefficients, two_slope_fit

    n, r = np.asarray(n, dtype=float), np.asarray(r, dtype=float)
    if n.size != r.size or n.size < 10 or np.any(r <= 0):
        raise CalibrationError("need at least 10 positive resistances, one per pulse number")
    w = np.log(r / r[0])
    m1, m2, ns, c1, rms = two_slope_fit(n, w)
    return WeakResetDrift(m1, m2, ns, 0.0, float(r[0] * np.exp(c1)),
                          rms / float(np.sqrt(np.sum(fractional_coefficients() ** 2))), rms)


# --------------------------------------------------------------------------- pulse updates

def _ramp(x, p, n_total):
    nu = np.asarray(p["nu"], float)          # a number, or one per curve (an ensemble fit)
    linear = np.abs(nu) < 1e-9
    safe = np.where(linear, 1.0, nu)
    with np.errstate(over="ignore", invalid="ignore"):
        curved = np.expm1(-safe * x / n_total) / np.expm1(-safe)
    frac = np.where(linear, x / n_total, curved)
    return p["a"] + (p["b"] - p["a"]) * frac


def ramp_model():
    """The calibration engine's Model of one update ramp (pulse index -> read current)."""
    from neurospice.calibration.fit import Model, Param

    return Model("rram_update_ramp", lambda x, p, n_total: _ramp(np.asarray(x, float), p, n_total),
                 [Param("a", 2e-4, 0.0, 1.0, "A", "read current before the first pulse"),
                  Param("b", 2e-4, 0.0, 1.0, "A", "read current after the last pulse"),
                  Param("nu", 1.0, -30.0, 30.0, "", "nonlinearity (0: linear)")],
                 x_label="pulse", y_label="read current (A)",
                 description="nonlinear conductance-update ramp")


@dataclass
class UpdateModel:
    """A fitted update model for one direction: ramp parameters, noise, and the statistics
    used to judge it."""

    direction: str
    a: float
    b: float
    nu: float
    n_total: int
    sigma_offset: float
    sigma_read: float
    sigma_drift: float
    rho: float
    mean_measured: np.ndarray
    spread_measured: np.ndarray
    fit: object

    def mean(self, n=None) -> np.ndarray:
        n = np.arange(self.n_total) if n is None else np.asarray(n, dtype=float)
        return _ramp(n, {"a": self.a, "b": self.b, "nu": self.nu}, self.n_total)

    def spread(self) -> np.ndarray:
        """Predicted standard deviation across ramps at each pulse."""
        u = np.arange(self.n_total) / self.n_total
        var = (self.sigma_offset**2 + 2 * self.rho * self.sigma_offset * self.sigma_drift * u
               + (self.sigma_drift * u) ** 2 + self.sigma_read**2)
        return self.mean() * np.sqrt(var)


def _matrix(ramps):
    n = min(len(r.current_a) for r in ramps)
    return np.array([np.asarray(r.current_a[:n], dtype=float) for r in ramps])


def fit_direction(ramps, direction: str) -> UpdateModel:
    """Fit one direction's ramps (a list of PulseRamp): the mean ramp through the calibration
    engine, then the noise from the ramps' deviations from it."""
    from neurospice.calibration.fit import Dataset, Fit

    if len(ramps) < 3:
        raise CalibrationError(f"{direction}: need at least 3 ramps, got {len(ramps)}")
    a = _matrix(ramps)
    n = a.shape[1]
    mean = a.mean(axis=0)
    x = np.arange(n, dtype=float)
    res = Fit(ramp_model(), Dataset(x, mean, name=f"{direction} mean ramp",
                                    meta={"n_total": n}),
              values={"a": float(mean[0]), "b": float(mean[-1]), "nu": 0.5},
              bounds={"a": (0.5 * mean.min(), 2 * mean.max()),
                      "b": (0.5 * mean.min(), 2 * mean.max())},
              weighting="relative", global_stage=None).run()
    v = res.values
    model_mean = _ramp(x, v, n)
    rel = a / model_mean[None, :] - 1.0
    # each ramp's deviation: an offset and a drift along the ramp (least squares per ramp)
    design = np.column_stack([np.ones(n), x / n])
    coef, *_ = np.linalg.lstsq(design, rel.T, rcond=None)     # (2, ramps)
    offsets, drifts = coef
    sigma_offset = float(offsets.std(ddof=1))
    sigma_drift = float(drifts.std(ddof=1))
    rho = float(np.corrcoef(offsets, drifts)[0, 1]) if sigma_drift > 0 and sigma_offset > 0 \
        else 0.0
    sigma_read = float((rel - (design @ coef).T).std(ddof=3))
    # ramps reading the same at a pulse: spread 0 exactly (not the mean's rounding)
    spread = np.where(np.ptp(a, axis=0) > 0, a.std(axis=0, ddof=1), 0.0)
    return UpdateModel(direction, float(v["a"]), float(v["b"]), float(v["nu"]), n,
                       sigma_offset, sigma_read, sigma_drift, rho, mean, spread, res)


@dataclass(frozen=True)
class PulseUpdates:
    """Potentiation and depression update models and their asymmetry (``asymmetry``:
    ``nu_potentiation``, ``nu_depression``, and the mean current change per pulse
    ``step_potentiation_a``, ``step_depression_a`` in A)."""

    potentiation: UpdateModel
    depression: UpdateModel
    asymmetry: dict


def fit_pulse_updates(set_ramps, reset_ramps) -> PulseUpdates:
    """Potentiation (SET) and depression (RESET) update models, and their asymmetry: the
    nonlinearities and the mean current change per pulse of each direction."""
    pot, dep = fit_direction(set_ramps, "potentiation"), fit_direction(reset_ramps, "depression")
    return PulseUpdates(pot, dep, {"nu_potentiation": pot.nu, "nu_depression": dep.nu,
                                   "step_potentiation_a": (pot.b - pot.a) / pot.n_total,
                                   "step_depression_a": (dep.b - dep.a) / dep.n_total})


def simulate_ramps(model: UpdateModel, n_ramps: int, seed) -> np.ndarray:
    """Seeded synthetic ramps from the update model and its noise: shape (ramps, pulses)."""
    gen = np.random.default_rng(seed)
    so, sd, rho = model.sigma_offset, model.sigma_drift, model.rho
    cov = [[so * so, rho * so * sd], [rho * so * sd, sd * sd]]
    o, s = gen.multivariate_normal([0.0, 0.0], cov, size=n_ramps).T
    u = np.arange(model.n_total) / model.n_total
    read = model.sigma_read * gen.standard_normal((n_ramps, model.n_total))
    return model.mean()[None, :] * (1.0 + o[:, None] + s[:, None] * u[None, :] + read)


# --------------------------------------------------------------------------- as a recipe

def load_ramps(path, **options) -> list:
    """Read-current ramps side by side, one per column (:func:`~..data.load_pulse_updates`;
    ``options``: its reading options, ``decimal``, ``delimiter``, ...)."""
    from ..data import load_pulse_updates

    return load_pulse_updates(path, **options)


def calibrate_pulse_updates(ramps, *, progress=False) -> Calibration:
    """The ``rram-pulse-updates`` recipe: ramps (:class:`~..data.PulseRamp` s) sorted by
    their trend (the mean of the last tenth above that of the first: potentiation), then
    :func:`fit_pulse_updates`. The fitted update models and their noise are derived
    quantities; ``extra`` holds the predicted and measured spread across ramps."""
    rising, falling = [], []
    for r in ramps:
        cur = np.asarray(r.current_a, float)
        k = max(1, cur.size // 10)
        (rising if cur[-k:].mean() > cur[:k].mean() else falling).append(r)
    out = fit_pulse_updates(rising, falling)
    fits = {f"{m.direction} mean ramp": m.fit for m in (out.potentiation, out.depression)}
    derived = {}
    for m in (out.potentiation, out.depression):
        d = m.direction
        for name, value, unit, text in (
                ("a", m.a, "A", "read current before the first pulse"),
                ("b", m.b, "A", "read current after the last pulse"),
                ("nu", m.nu, "", "nonlinearity (0: linear)"),
                ("sigma_offset", m.sigma_offset, "", "relative offset per ramp (std)"),
                ("sigma_drift", m.sigma_drift, "", "relative drift along a ramp (std)"),
                ("rho", m.rho, "", "correlation of offset and drift"),
                ("sigma_read", m.sigma_read, "", "relative read noise per pulse")):
            stderr = m.fit.stderr.get(name) if name in ("a", "b", "nu") else None
            derived[f"{name}_{d}"] = {"value": value, "stderr": stderr, "unit": unit,
                                      "description": f"{d}: {text}"}
    spread, spread_notes = {}, []
    for m, ramps_of in ((out.potentiation, rising), (out.depression, falling)):
        error, note = spread_error(m)
        spread[m.direction] = {"mean_rel_error": error, "ramps": len(ramps_of),
                               "pulses": m.n_total,
                               "pulses_without_spread": int(np.sum(~(m.spread_measured > 0)))}
        if note:
            spread_notes.append(note)
    cal = Calibration("rram-pulse-updates", None, {}, {}, fits, derived,
                      warnings=collect_warnings(fits),
                      extra={"asymmetry": out.asymmetry, "spread": spread})
    cal.curves["updates"] = out
    cal.notes += spread_notes + [
        f"{len(rising)} rising ramps (potentiation), {len(falling)} falling (depression), "
        "told apart by their trend",
        "mean ramp I(n) = a + (b - a) expm1(-nu n/N) / expm1(-nu), relative residuals; noise: "
        "per-ramp offset and drift (bivariate normal) plus read noise; spread: mean relative "
        "error of the predicted spread across ramps against the measured one (extra)",
        "no card: the update model is not a parameter set of the rram device, so there is "
        "nothing to re-simulate"]
    return cal


def spread_error(model: UpdateModel) -> tuple[float, str]:
    """(mean relative error of the predicted spread across ramps against the measured one,
    a note or ""): the mean of abs(predicted / measured - 1) over the pulses where the ramps
    differ (measured spread > 0). Where every ramp reads the same (a reading quantised
    coarser than the noise, ramps started from one programmed value) the relative error
    is not defined: those pulses are left out and the note names them and the spread
    predicted there; NaN when no pulse has a spread."""
    pred = np.asarray(model.spread(), float)
    meas = np.asarray(model.spread_measured, float)
    ok = meas > 0
    if ok.all():
        return float(np.mean(np.abs(pred / meas - 1))), ""
    where = np.flatnonzero(~ok) + 1
    shown = ", ".join(str(k) for k in where[:8]) + (" ..." if where.size > 8 else "")
    level = float(np.max(pred[~ok] / np.abs(model.mean()[~ok])))
    said = (f"{model.direction}: every ramp reads the same at {where.size} of "
            f"{meas.size} pulses ({shown}): no measured spread to compare with there (the "
            f"model predicts up to {level:.3g} of the mean)")
    if not ok.any():
        return math.nan, said + "; the spread's mean relative error is not defined (NaN)"
    return float(np.mean(np.abs(pred[ok] / meas[ok] - 1))), \
        said + f"; the spread's mean relative error is over the other {int(ok.sum())}"


READ_VOLTAGE = 0.1
"""Read voltage (V) at which the ramps' read currents are turned into resistances and gaps
(the ``--ensemble`` figures and variability card)."""


def ramp_datasets(ramps) -> list:
    """The ramps as named :class:`~..fit.Dataset` s (x the pulse index from 0, meta
    ``n_total`` its length) for an ensemble fit; all of one direction (CalibrationError
    otherwise: fit the potentiation and the depression files in separate runs)."""
    from ..fit import Dataset

    out, rising = [], set()
    for k, r in enumerate(ramps):
        cur = np.asarray(r.current_a, float)
        m = max(1, cur.size // 10)
        rising.add(bool(cur[-m:].mean() > cur[:m].mean()))
        src = getattr(r, "source", None)
        name = f"{Path(src).name if src else 'ramp'} {r.columns.get('current_a', k + 1)}"
        out.append(Dataset(np.arange(cur.size, dtype=float), cur, name=name,
                           meta={"n_total": cur.size}))
    if len(rising) > 1:
        raise CalibrationError("--ensemble fits ramps of one direction: these files hold "
                               "rising (potentiation) and falling (depression) ramps; give "
                               "each direction's files in its own run")
    return out


def _ramp_start(datasets, warnings: list[str]) -> dict:
    y = np.array([np.asarray(d.y, float)[[0, -1]] for d in datasets])
    return {"a": float(y[:, 0].mean()), "b": float(y[:, 1].mean()), "nu": 0.5}


def _ramp_bounds(datasets) -> dict:
    y = np.concatenate([np.asarray(d.y, float) for d in datasets])
    return {"a": (0.2 * y.min(), 5 * y.max()), "b": (0.2 * y.min(), 5 * y.max())}


def _ramp_figures(v) -> dict:
    lo, hi = np.minimum(v["a"], v["b"]), np.maximum(v["a"], v["b"])
    return {"r_on": READ_VOLTAGE / hi, "r_off": READ_VOLTAGE / lo, "on_off": hi / lo}


def ramp_card(v) -> dict:
    """The variability card's device parameters from ramp parameters: the gap bounds of the
    ``rram`` card whose read resistances at :data:`READ_VOLTAGE` are the ramp's end points
    (``gmin`` from the high-current end, ``gmax`` from the low-current end; i0, g0, v0 the
    card's defaults)."""
    from neurospice.compact_models.rram import gap_for_resistance

    f = _ramp_figures(v)
    return {"gmin": gap_for_resistance(f["r_on"], READ_VOLTAGE),
            "gmax": gap_for_resistance(f["r_off"], READ_VOLTAGE)}


RRAM_PULSE_UPDATES = Recipe(
    "rram-pulse-updates", "rram",
    "RRAM synapse: nonlinear potentiation/depression update ramps and their "
    "cycle-to-cycle noise from read currents after identical pulses",
    run=calibrate_pulse_updates, load=load_ramps, default=True,
    ensemble=EnsembleRecipe(ramp_model, ramp_datasets, per_curve=("a", "b", "nu"),
                            start=_ramp_start, bounds=_ramp_bounds, weighting="relative",
                            figures=_ramp_figures, card=ramp_card))

# --------------------------------------------------------------------------- time domain

def load_cell_table(path, **options) -> list:
    """A per-cell table, long or wide (:func:`~..cells.load_cells`)."""
    from ..cells import load_cells

    return load_cells(path, **options)


def calibrate_relaxation(tables, *, states: int = 1, progress=False) -> Calibration:
    """The ``rram-relaxation`` recipe: the cells of every table (read at the same times)
    through :func:`~neurospice.compact_models.rram.relaxation.fit_relaxation`; the states
    are the tables' state column when they have one, else ``states`` quantile bins of the
    first read. Derived: per state the median drift (a, b of ln G/g0 = a + b log10 t/t_ref)
    and the spread's variances and covariance, with standard errors; ``extra`` the table
    and, per state and read time, the fitted and measured median and spread of ln G/g0."""
    from neurospice.compact_models.rram.relaxation import COLUMNS, fit_relaxation

    if not tables:
        raise CalibrationError("no per-cell table to fit")
    t = tables[0].time
    for tab in tables[1:]:
        if tab.time.shape != t.shape or not np.allclose(tab.time, t, rtol=1e-9):
            raise CalibrationError(f"{tab.name} is read at other times than "
                                   f"{tables[0].name}: fit them apart")
    g = np.vstack([tab.conductance for tab in tables])
    labelled = [tab.state is not None for tab in tables]
    if any(labelled) and not all(labelled):
        raise CalibrationError("some tables have a state column and some not")
    label = np.array([s for tab in tables for s in tab.state]) if all(labelled) else None
    fit = fit_relaxation(t, g, states=label, n_states=states)
    g0 = g[:, 0]
    if label is None:
        edges = np.quantile(g0, np.linspace(0, 1, states + 1))[1:-1]
        label = np.searchsorted(edges, g0)
    names = sorted(set(label.tolist()), key=lambda s: np.median(g0[label == s]))
    derived, per_state = {}, []
    units = {"g_state": "S", "a_mean": "", "b_mean": "1/decade", "var_a": "", "var_b": "",
             "cov_ab": ""}
    text = {"g_state": "median programmed conductance", "a_mean": "median ln(G/g0) at t_ref",
            "b_mean": "median drift of ln G per decade of time",
            "var_a": "cell-to-cell variance of a", "var_b": "cell-to-cell variance of b",
            "cov_ab": "covariance of a and b"}
    L = np.log10(t / t[0])
    for i, st in enumerate(names):
        for j, col in enumerate(COLUMNS):
            se = fit.stderr[i, j]
            derived[f"{col}_{st}"] = {"value": float(fit.table[i, j]),
                                      "stderr": None if not np.isfinite(se) else float(se),
                                      "unit": units[col],
                                      "description": f"state {st}: {text[col]}"}
        y = np.log(g[label == st] / g0[label == st, None])
        gs = fit.table[i, 0]
        per_state.append({
            "state": str(st), "cells": int(np.sum(label == st)),
            "time_s": t.tolist(),
            "median_measured": np.median(y, axis=0).tolist(),
            "median_fitted": np.log(fit.median(gs, t) / gs).tolist(),
            "spread_measured": y.std(axis=0, ddof=1).tolist(),
            "spread_fitted": fit.spread(gs, t).tolist()})
    cal = Calibration("rram-relaxation", None, {}, {}, {}, derived,
                      extra={"relaxation": fit.to_dict(), "states": per_state})
    cal.curves["relaxation"] = fit
    dropped = sum(len(tab.report.dropped) for tab in tables)
    cal.notes += [
        f"{g.shape[0]} cells x {t.size} reads from {len(tables)} table(s); "
        f"{len(names)} state(s) ({'from the state column' if all(labelled) else 'quantile bins of the first read'})",
        "per cell a least-squares line of ln(G/g0) vs log10(t/t_ref); per state the mean "
        "of the lines and their covariance less the read noise's share",
        "spread_fitted includes no read noise: the measured spread at t_ref is the read "
        "noise alone",
        "no card: the relaxation table is used through Relaxation.sample, not a netlist"]
    if dropped:
        cal.notes.append(f"{dropped} read(s) or cell(s) dropped on request (see the loader "
                         "report)")
    return cal


def load_noise_traces(path, **options) -> list:
    """Read-noise records (:func:`~..cells.load_read_traces`)."""
    from ..cells import load_read_traces

    return load_read_traces(path, **options)


def calibrate_read_noise(traces, *, segments: int = 16, progress=False) -> Calibration:
    """The ``rram-read-noise`` recipe: per trace the 1/f^alpha PSD slope and amplitude
    (:func:`~neurospice.compact_models.rram.relaxation.read_noise_psd`) and, where the
    trace has two levels, the random-telegraph amplitude and dwell times
    (:func:`~neurospice.compact_models.rram.relaxation.telegraph_levels`)."""
    from neurospice.compact_models.rram.relaxation import read_noise_psd, telegraph_levels
    from neurospice.errors import NetlistError

    if not traces:
        raise CalibrationError("no read-noise trace to fit")
    derived, rows, notes = {}, [], []
    for k, tr in enumerate(traces, 1):
        try:
            psd = read_noise_psd(tr.values, tr.dt, segments=segments)
        except NetlistError as exc:
            raise CalibrationError(f"{tr.name}: {exc}") from None
        u = tr.unit or "unit"
        row = {"trace": tr.name, "dt_s": tr.dt, "samples": int(tr.values.size),
               "alpha": psd.alpha, "alpha_stderr": psd.alpha_stderr,
               "amplitude": psd.amplitude, "amplitude_rel_stderr": psd.amplitude_rel_stderr,
               "band_hz": [psd.f_low, psd.f_high]}
        derived[f"alpha_{k}"] = {"value": psd.alpha, "stderr": psd.alpha_stderr, "unit": "",
                                 "description": f"{tr.name}: PSD slope (1/f^alpha)"}
        derived[f"psd_1hz_{k}"] = {"value": psd.amplitude,
                                   "stderr": psd.amplitude * psd.amplitude_rel_stderr,
                                   "unit": f"{u}^2/Hz",
                                   "description": f"{tr.name}: PSD at 1 Hz"}
        try:
            rtn = telegraph_levels(tr.values, tr.dt)
        except NetlistError as exc:
            notes.append(f"{tr.name}: no telegraph noise measured ({exc})")
        else:
            row["rtn"] = {"amplitude": rtn.amplitude, "amplitude_stderr": rtn.amplitude_stderr,
                          "tau_low_s": rtn.tau_low, "tau_low_stderr": rtn.tau_low_stderr,
                          "tau_high_s": rtn.tau_high, "tau_high_stderr": rtn.tau_high_stderr,
                          "dwells": list(rtn.dwells)}
            for name, v, e, unit, what in (
                    ("rtn_amplitude", rtn.amplitude, rtn.amplitude_stderr, u, "RTN amplitude"),
                    ("tau_low", rtn.tau_low, rtn.tau_low_stderr, "s", "mean dwell, low"),
                    ("tau_high", rtn.tau_high, rtn.tau_high_stderr, "s", "mean dwell, high")):
                derived[f"{name}_{k}"] = {"value": v, "stderr": e, "unit": unit,
                                          "description": f"{tr.name}: {what}"}
        rows.append(row)
    cal = Calibration("rram-read-noise", None, {}, {}, {}, derived, extra={"traces": rows})
    cal.notes += notes + [
        f"Welch PSD, {segments} Hann segments, a line in log-log over every other bin from "
        "the second to half of Nyquist; RTN by two-means levels and a Schmitt trigger at 1/4 "
        "and 3/4 between them",
        "no card: noise figures are not parameters of the rram netlist"]
    return cal


def _relaxation_kwargs(args) -> dict:
    return {"states": args.states}


def _noise_kwargs(args) -> dict:
    return {"segments": args.segments}


RRAM_RELAXATION = Recipe(
    "rram-relaxation", "rram",
    "RRAM retention: median drift and spread of the conductance vs log time after "
    "programming, per programmed state, from a per-cell table (cells x read times)",
    run=calibrate_relaxation, load=load_cell_table,
    options=(Option(("--states",), {"type": count_arg, "default": 1,
                                    "help": "rram-relaxation: programmed states as quantile "
                                            "bins of the first read when the table has no "
                                            "state column (default 1)"}),),
    cli_kwargs=_relaxation_kwargs)

RRAM_READ_NOISE = Recipe(
    "rram-read-noise", "rram",
    "RRAM read noise: 1/f^alpha PSD slope and amplitude, random-telegraph amplitude and "
    "dwell times, from evenly sampled read traces",
    run=calibrate_read_noise, load=load_noise_traces,
    options=(Option(("--segments",), {"type": count_arg, "default": 16,
                                      "help": "rram-read-noise: Welch segments (default "
                                              "16)"}),),
    cli_kwargs=_noise_kwargs)

REGISTERED = (RRAM_PULSE_UPDATES, RRAM_RELAXATION, RRAM_READ_NOISE)
