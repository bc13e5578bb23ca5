"""Calibration recipe for the NbOx/VO2 thermal threshold switch (``nbox``), ``nbox-iv``.

**The data**: a quasi-static dual DC voltage sweep 0 -> v_max -> 0 (e.g. a Keithley dual
sweep), given as its up and down branches. Under voltage control the device follows its
steady state: on the way up it stays on the insulating branch until that branch folds over
(V_th) and snaps to the conducting branch; on the way down it follows the conducting branch
until that one folds back (the hold voltage V_h) and drops to the insulating branch.

**The model of a sweep** (no time integration): the device's steady state,
:mod:`neurospice.compact_models.nbox.static` -- the S-shaped static I-V traced by the device
temperature (:func:`~neurospice.compact_models.nbox.static.static_curve`, thermal resistance
r_th + r_env: the surroundings settle in a DC sweep), the branch a slow voltage sweep follows
on it (:func:`~neurospice.compact_models.nbox.static.sweep_currents`) and the folds where it
jumps (:func:`~neurospice.compact_models.nbox.static.sweep_folds`).

**The fit** (:func:`fit_nbox_iv`): log-current residuals on both branches (currents span
decades), differential evolution then Levenberg-Marquardt (the engine of
:mod:`neurospice.calibration.fit`). Free by default: ``g_ref`` (insulating conductance at
the stage temperature), ``ea`` (its activation energy: the self-heating curvature of the
insulating branch), ``r_th`` (thermal resistance: with ``ea`` it sets how far the device
heats), ``t_c`` and ``w_c`` (the transition: where the insulating branch folds and how
gradually the conducting branch recovers), ``g_met`` and ``r_c`` (the on-state resistance and
its voltage dependence); on a current-limited loop (``control="current"``) only ``g_ref``,
``ea``, ``r_th`` and ``r_c``: the loop stops at the compliance in the heated film and cannot
tell the metallic channel (``t_c``, ``w_c``, ``g_met``) from it, so those stay at the card's
values unless named (said in the report). Held: ``t_amb`` (the stage temperature: give
it), ``t_ref = t_amb`` (so ``g_ref`` is the low-bias conductance of the insulating film),
``mix = 1`` (VO2-type
transition), and a thick film with a large permittivity (``d_ox`` = 10 um, ``eps_r`` = 1000:
the Poole-Frenkel field lowering is a few percent at 20 V, i.e. conduction is thermally
activated only) unless ``fixed`` says otherwise. Starting values and search bounds come from
the data (:func:`start_from_sweep`): the low-bias resistance gives ``g_ref``, the on-state
resistance ``g_met`` and ``r_c``, and the power at the switch (with the resistance drop along
the insulating branch) ``r_th``.

**Verification** (``verify=True``, :func:`verify_sweep`): the card re-simulated in the
simulators (:func:`~.base.verify_card`) as a DC sweep of the *current* (the static I-V is
single-valued in the current, so no branch is ambiguous), the voltage compared with the
static curve the fit used.

**Pulses** (optional, :func:`simulate_pulses`): the DC sweep says nothing about time, so the
heat capacities are not on it. Given measured voltage pulses (:class:`Transient` s), the
recipe fits ``c_th`` and ``c_env`` (and the share of the thermal resistance in the slow
surroundings, ``r_env / (r_th + r_env)``, with the sum held at the DC value) on the training
pulses in numpy, then simulates *every* pulse with the final card in ngspice (Verilog-A via
OSDI; numpy where the simulator is absent), driven by the measured voltage as a PWL source,
and reports the RMS relative current error per pulse amplitude. The pulse ambient may differ
from the DC sweep's: ``pulse_t_amb`` (K) or, with ``"read"``, the temperature at which the
card's low-bias resistance equals the one read after the pulses (the last samples of the
read-out), stated in the report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import CalibrationError, DataError, NetlistError

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.nbox import KB_EV
from neurospice.compact_models.nbox.static import static_curve, sweep_currents, sweep_folds

from ..fit import Dataset, Fit, FitResult, Model, Param
from .base import (Calibration, CardCheck, EnsembleRecipe, Option, Recipe, Verification,
                   as_list, collect_warnings, engine_kwargs, low_bias_resistance,
                   verify_card)

__all__ = ["FREE", "FREE_LOOP", "HELD_LOOP", "VO2_FIXED", "measured_switching",
           "switching_interval", "switch_bracket",
           "curve_to_current", "scurve_voltage", "nbox_scurve_model", "fold_voltages",
           "start_from_sweep", "nbox_iv_model", "fit_nbox_iv", "verify_sweep",
           "simulate_pulses", "fit_pulse_thermal", "read_samples", "read_ambient",
           "pulse_amplitude", "split_dual_sweep", "load_dual_sweep", "loop_datasets",
           "ensemble_figures", "ENSEMBLE_PER_CURVE", "ENSEMBLE_SHARED", "NBOX_IV", "REGISTERED"]

FREE = ("g_ref", "ea", "r_th", "t_c", "w_c", "g_met", "r_c")
# A current-limited loop stops at the compliance: the conducting state it reaches is the
# heated film (the metallic channel barely opens), so the loop does not tell the channel
# (t_c, w_c, g_met) from the film; by default those are held at the card's values
FREE_LOOP = ("g_ref", "ea", "r_th", "r_c")
HELD_LOOP = ("t_c", "w_c", "g_met")
VO2_FIXED = {"mix": 1.0, "d_ox": 1e-5, "eps_r": 1000.0, "t_noise": 0.0, "r_env": 2.0}
def _switch_region(v, i, min_step: float):
    """(v, ln conductance, a, b) of the steepest run of steps of ln|i/v| steeper than
    ``min_step`` per volt (steps a..b, i.e. samples a..b+1), or None."""
    v, i = np.asarray(v, float), np.asarray(i, float)
    ok = np.abs(v) > 0
    v, i = v[ok], i[ok]
    li = np.log(np.maximum(np.abs(i / v), 1e-300))      # ln conductance: ohmic parts flat
    dv = np.diff(v)
    ok = np.abs(dv) > 0
    slope = np.zeros(dv.size)
    slope[ok] = np.abs(np.diff(li)[ok] / dv[ok])
    k = int(np.argmax(slope))
    if slope[k] < min_step:
        return None
    a, b = k, k
    while a > 0 and slope[a - 1] >= min_step:
        a -= 1
    while b < slope.size - 1 and slope[b + 1] >= min_step:
        b += 1
    return v, li, a, b, k


def measured_switching(v, i, *, min_step: float = 0.8) -> float | None:
    """The switching voltage of one branch of a measured (or sampled) sweep: around the
    steepest step of ln|i/v| (the conductance) against v, the run of steps steeper than
    ``min_step`` per volt is the switching region; the voltage where ln|i| crosses the mean
    of its values at the two ends of that region (linear between samples), returned as a
    voltage. None if no step is that steep. The same function applies to data and to a
    model sampled on the data's voltages."""
    region = _switch_region(v, i, min_step)
    if region is None:
        return None
    v, li, a, b, k = region
    mid = 0.5 * (li[a] + li[b + 1])
    for m in range(a, b + 1):
        lo, hi = sorted((li[m], li[m + 1]))
        if lo <= mid <= hi and li[m] != li[m + 1]:
            return float(v[m] + (mid - li[m]) / (li[m + 1] - li[m]) * (v[m + 1] - v[m]))
    return float(0.5 * (v[k] + v[k + 1]))


def _steepest_step(v, i, min_step: float = 0.8) -> tuple[float, float] | None:
    """The voltages of the two samples around the steepest step of a switching branch."""
    region = _switch_region(v, i, min_step)
    if region is None:
        return None
    v, _, _, _, k = region
    return float(min(v[k], v[k + 1])), float(max(v[k], v[k + 1]))


def switching_interval(v, i, *, min_step: float = 0.8) -> tuple[float, float] | None:
    """The voltages (low, high) of the samples that bracket the switching region of one
    branch (see :func:`measured_switching`): the fold of a model that reproduces the data
    lies between them. None if the branch does not switch."""
    region = _switch_region(v, i, min_step)
    if region is None:
        return None
    v, _, a, b, _ = region
    return float(min(v[a], v[b + 1])), float(max(v[a], v[b + 1]))


def switch_bracket(v, i) -> tuple[float, float] | None:
    """The voltages (low, high) that bracket the switch of an up sweep whose measured voltage
    *falls* across the jump (the source hit its current compliance, or a series resistance
    took the voltage: the first reading after the switch says nothing about where it was):
    from the last reading before the jump (the largest rise of the current between readings
    of :func:`_on_points`, at least threefold) to one source step above it (the median of
    the five voltage steps before). None where the branch does not switch or its voltage
    rises across the jump (then :func:`measured_switching` applies)."""
    v, i = np.asarray(v, float), np.asarray(i, float)
    on = _on_points(v, i)
    v, i = v[on], i[on]
    if v.size < 3:
        return None
    jumps = np.diff(np.log(i))
    k = int(np.argmax(jumps))
    if jumps[k] < math.log(3.0) or not v[k + 1] < v[k]:
        return None
    steps = np.diff(v[max(0, k - 5):k + 1])
    steps = steps[steps > 0]
    if not steps.size:
        return None
    return float(v[k]), float(v[k] + np.median(steps))


def _switch_current(v_up, i_up) -> float:
    """The current of the last reading before the switch of an up sweep whose voltage fell
    across it (:func:`switch_bracket`); inf where there is no such switch."""
    bracket = switch_bracket(v_up, i_up)
    return float(i_up[np.flatnonzero(v_up == bracket[0])[0]]) if bracket else np.inf


def _on_points(v, i) -> np.ndarray:
    """Readings that belong to a branch: positive current and more than 2 % of the largest
    voltage (a ~0 V first reading's ratio i/v is noise, not a conductance)."""
    v, i = np.asarray(v, float), np.asarray(i, float)
    return (v > 0.02 * float(np.max(v))) & (i > 0)


# =========================================================================== the fit
def start_from_sweep(v_up, i_up, v_down, i_down, t_amb: float,
                     ea: float = 0.25) -> dict[str, float]:
    """Starting values from a dual sweep (see the module docstring). ``ea`` (eV) is the
    assumed activation energy the thermal resistance estimate rests on."""
    v_up, i_up = np.asarray(v_up, float), np.asarray(i_up, float)
    v_down, i_down = np.asarray(v_down, float), np.asarray(i_down, float)
    r0 = low_bias_resistance(v_up, i_up, fraction=20)
    v_all, i_all = np.r_[v_up, v_down], np.r_[i_up, i_down]
    use = (v_all > 0.2 * v_up.max()) & (i_all > 0)
    r_all = v_all[use] / i_all[use]
    r_on = float(np.min(r_all))
    # readings at ~0 V or with no positive current (the first sample of a sweep) are no
    # points of the insulating branch: their log current would look like a jump
    on = (v_up > 0.02 * float(v_up.max())) & (i_up > 0)
    v_on, i_on = v_up[on], i_up[on]
    v_th = measured_switching(v_on, i_on) or float(v_up.max())
    slope = np.abs(np.diff(np.log(i_on))) / np.maximum(np.abs(np.diff(v_on)), 1e-12)
    # the jump: steeper than 0.8 per volt and than half the steepest step (an activated
    # insulating branch may itself rise faster than 0.8 per volt)
    steep = np.r_[slope > max(0.8, 0.5 * float(slope.max(initial=0.0))), True]
    before = np.zeros(len(v_up), bool)
    before[np.flatnonzero(on)] = (v_on < v_th) & ~steep  # insulating branch, before the jump
    if not np.any(before):
        raise DataError("no point of the up sweep below its switching voltage")
    kb = int(np.flatnonzero(before)[-1])
    r_b = v_up[kb] / i_up[kb]
    p_b = v_up[kb] * i_up[kb]
    r_c = 0.3 * r_on
    drop = max(math.log(max(r0 - r_c, 1.0) / max(r_b - r_c, 1.0)), 0.05)
    dt_b = drop * KB_EV * t_amb ** 2 / ea            # heating at the switch (ln G = ea/kT)
    return {"t_amb": t_amb, "t_ref": t_amb, "g_ref": 1.0 / max(r0 - r_c, 1.0), "ea": ea,
            "r_th": max(dt_b / p_b, 1.1), "t_c": t_amb + 1.3 * dt_b, "w_c": 0.1 * dt_b + 0.5,
            "g_met": 1.0 / (r_on - r_c), "r_c": r_c}


class _CurveCache:
    """One-entry cache: both branches of a sweep come from one static curve."""

    def __init__(self):
        self.key = None
        self.value = None

    def get(self, params, v_max):
        key = (tuple(sorted(params.items())), v_max)
        if key != self.key:        # the last curve starts the solver (a fit moves little)
            self.key, self.value = key, static_curve(params, v_max, guess=self.value)
        return self.value

    def get_span(self, params, t_max):
        """The curve traced up to the temperature ``t_max`` (K)."""
        key = (tuple(sorted(params.items())), "t_max", t_max)
        if key != self.key:
            self.key, self.value = key, static_curve(params, t_max=t_max, guess=self.value)
        return self.value


def nbox_iv_model() -> Model:
    """Current (A) of a slow dual sweep against voltage (V); meta ``branch`` = "up" or
    "down" and ``v_max`` (the turning voltage), or ``branch="static"`` with ``t_amb`` (K):
    the steady-state current at another ambient temperature (an anchor)."""
    dev = get_device("nbox")
    cache = _CurveCache()

    def func(v, p, branch="up", v_max=None, t_amb=None):
        card = {k: p[k] for k in dev.parameter}
        v = np.asarray(v, float)
        if branch == "folds":           # the fold penalty (fit_nbox_iv's "folds" data set)
            folds = sweep_folds(card, v_max, curve=cache.get(card, float(v_max)))
            f = np.array([folds["up"] if folds["up"] is not None else 2 * v_max,
                          folds["down"] if folds["down"] is not None else 1e-3 * v_max])
            lo, hi = v
            return 0.5 * (lo + hi) + f - np.clip(f, lo, hi)
        if branch == "static":          # a slow up sweep at another ambient temperature
            card["t_amb"] = float(t_amb)
            return sweep_currents(card, v, None, v_max=float(np.max(v)))[0]
        v_max = float(np.max(v)) if v_max is None else float(v_max)
        curve = cache.get(card, v_max)
        if branch == "up":
            return sweep_currents(card, v, None, v_max=v_max, curve=curve)[0]
        return sweep_currents(card, None, v, v_max=v_max, curve=curve)[1]

    return Model.from_device(dev, func, name="nbox dual sweep I(V)", x_label="voltage (V)",
                             y_label="current (A)",
                             description="slow dual voltage sweep of the thermal threshold "
                                         "switch (steady state, branch by sweep direction)")


def curve_to_current(card: Mapping[str, float], i_max: float, v_max: float):
    """The :func:`static_curve` of ``card`` traced past the voltage ``v_max`` and the current
    ``i_max`` (the temperature span grown until it carries that current)."""
    curve = static_curve(card, v_max)
    t_amb = card["t_amb"]
    for _ in range(8):
        if curve.i[-1] >= i_max:
            break
        curve = static_curve(card, t_max=t_amb + 4.0 * (curve.temp[-1] - t_amb))
    return curve


def scurve_voltage(card: Mapping[str, float], current, *, v_max: float,
                   curve=None) -> np.ndarray:
    """The steady-state voltage (V) at each ``current`` (A): the S-shaped static I-V is
    single-valued in the current (the current grows with the device temperature along it),
    so a point where the source set the current (at compliance) or any steady point of
    either branch has one model voltage, linear in ln i between the curve's points."""
    i = np.asarray(current, float)
    if curve is None:
        curve = curve_to_current(card, float(np.max(i)), v_max)
    li = np.log(np.maximum.accumulate(np.maximum(curve.i, 1e-300)))
    return np.interp(np.log(np.maximum(i, 1e-300)), li, curve.v)


def nbox_scurve_model() -> Model:
    """Voltage (V) against current (A) of the device's steady state (the static S-curve,
    :func:`scurve_voltage`); meta ``v_max``: the largest voltage of the sweep. The model of
    a current-limited loop: each reading, on either branch or at compliance, is one point of
    the S-curve, with no branch to choose. Meta ``i_max``: the loop's largest current (the
    curve is traced to 1.5 (r_th + r_env) v_max i_max above ambient, one curve for every
    data set of the loop); ``start`` and ``noise_group``: ignored (the loop's starting
    values and its readings' noise groups, for ``--ensemble``)."""
    dev = get_device("nbox")
    cache = _CurveCache()

    def func(i, p, v_max=1.0, i_max=None, start=None, noise_group=None):
        card = {k: p[k] for k in dev.parameter}
        i = np.asarray(i, float)
        i_max = float(np.max(i)) if i_max is None else max(float(i_max), float(np.max(i)))
        # the temperature span in closed form (T - t_amb = R P, and P <= v_max i_max at
        # every reading), smooth in the card: a span grown in steps would move the grid,
        # and with it the interpolation, discontinuously
        t_top = card["t_amb"] + 1.5 * (card["r_th"] + card["r_env"]) * float(v_max) * i_max
        curve = cache.get_span(card, t_top)
        if curve.i[-1] < float(np.max(i)):
            curve = curve_to_current(card, float(np.max(i)), float(v_max))
        return scurve_voltage(card, i, v_max=float(v_max), curve=curve)

    return Model.from_device(dev, func, name="nbox static S-curve V(I)", x_label="current (A)",
                             y_label="voltage (V)",
                             description="steady state of the thermal threshold switch, "
                                         "voltage at each current (a current-limited loop)")


def _search(start: Mapping[str, float], t_amb: float) -> dict:
    s = start
    return {"g_ref": (s["g_ref"] / 3, s["g_ref"] * 3), "ea": (0.05, 1.0),
            "r_th": (s["r_th"] / 10, s["r_th"] * 10),
            "t_c": (t_amb + 0.5, t_amb + 6 * (s["t_c"] - t_amb)),
            "w_c": (0.05, 3 * (s["t_c"] - t_amb)),
            "g_met": (s["g_met"] / 5, s["g_met"] * 20), "r_c": (1.0, 3 * s["r_c"] + 10.0)}


def _sweeps(data) -> tuple:
    """(v_up, i_up, v_down, i_down) from [up, down] IVSweep s or ((v, i), (v, i))."""
    data = as_list(data)
    if len(data) != 2:
        from ..table import spell

        raise CalibrationError(f"the nbox-iv recipe takes one dual sweep as its up and down "
                               f"branches ({spell('split', 'reversal')}); got {len(data)} "
                               "curve(s): several loops (files, or cycles told apart by a "
                               "column) are fitted together with --ensemble")
    out = []
    for d in data:
        v, i = (d.voltage_v, d.current_a) if hasattr(d, "voltage_v") else d
        out += [np.asarray(v, float), np.asarray(i, float)]
    if out[0].max() < out[2].max() * 0.5 or np.mean(np.diff(out[0])) < 0:
        raise CalibrationError("the first curve should be the up sweep (rising voltage)")
    return tuple(out)


def _limited(data, v_up, v_dn) -> list:
    """The compliance masks (the loader's, else none) of the [up, down] branches."""
    limited = [getattr(d, "compliance", None) for d in as_list(data)]
    return [np.zeros(len(v), bool) if m is None else np.asarray(m, bool)
            for m, v in zip(limited, (v_up, v_dn))]


def _current_errors(data, notes: list) -> list:
    """The [up, down] branches' own current errors (an error column, ``current_err_a``)
    when both carry them, with a note; else [None, None]."""
    errors = [getattr(d, "current_err_a", None) for d in as_list(data)]
    if len(errors) != 2 or any(e is None for e in errors):
        return [None, None]
    notes.append("each current weighted by the data's own errors (column "
                 f"{as_list(data)[0].columns.get('current_err_a')!r}; on the log residual: "
                 "sigma_I / I)")
    return [np.asarray(e, float) for e in errors]


def _scurve_datasets(v_up, i_up, v_dn, i_dn, limited, v_min: float, v_max: float) -> list:
    """The readings above ``v_min`` with positive current as S-curve data sets (x the
    current, y the voltage): the up and the down sweep's insulating readings, and as a third
    set the conducting state: the readings at compliance (``limited``: the masks of both
    branches) and those above 1.5 times the current before the switch (when the voltage fell
    across it, :func:`switch_bracket`). Each set gets its own noise scale: at compliance the
    source holds the current and on the conducting branch near the hold the voltage hardly
    moves with the current, so only the voltage's noise is left there."""
    sets = []
    cc_v, cc_i = [], []
    meta = {"v_max": v_max, "i_max": float(max(np.max(i_up), np.max(i_dn)))}
    i_th = _switch_current(v_up, i_up)
    for name, v, i, cc in (("up sweep", v_up, i_up, limited[0]),
                           ("down sweep", v_dn, i_dn, limited[1])):
        ok = (v > v_min) & (i > 0)
        cc = cc | (i > 1.5 * i_th)              # the conducting state
        keep = ok & ~cc
        if keep.sum() < 5:
            raise DataError(f"{name}: fewer than 5 points off compliance above {v_min} V with "
                            "positive current")
        sets.append(Dataset(i[keep], v[keep], name=name, meta=meta))
        cc_v.append(v[ok & cc])
        cc_i.append(i[ok & cc])
    cc_v, cc_i = np.concatenate(cc_v), np.concatenate(cc_i)
    if cc_v.size >= 3:
        sets.append(Dataset(cc_i, cc_v, name="conducting", meta=meta))
    return sets


def _scurve_fit(sets, free, values, t_amb, global_stage, seed, conf_int, progress,
                global_options, model=None) -> Fit:
    """The least-squares problem of a current-limited loop: log voltage residuals against
    the S-curve (:func:`nbox_scurve_model`). Smooth in the parameters (no fold moves a point
    from branch to branch), so the local stage from :func:`start_from_sweep` needs no wide
    global search: ``"de"`` is sized to the problem (6 generations of 6 per parameter)."""
    model = model or nbox_scurve_model()
    opts = {**({"maxiter": 6, "popsize": 6, "tol": 1e-6}
               if global_stage in ("de", "auto") else {}), **(global_options or {})}
    return Fit(model, sets, free=list(free), fixed=[n for n in model.params if n not in free],
               values=values, weighting="log", global_stage=global_stage, seed=seed,
               conf_int=conf_int, progress=progress,
               search={n: b for n, b in _search(values, t_amb).items() if n in free},
               bounds={"r_th": (1.0, 1e7), "r_c": (0.0, 1e6), "g_met": (1e-9, 1e2),
                       "t_c": (t_amb + 1e-3, 1e5), "w_c": (1e-3, 1e4)},
               global_options=opts)


def _vertex(x, y, k: int) -> float:
    """The extreme value of the parabola through points k-1, k, k+1 (y[k] where they do not
    bend or the extreme falls outside them): a fold located between the grid points of the
    static curve."""
    if not 0 < k < len(x) - 1:
        return float(y[k])
    u0, u2 = x[k - 1] - x[k], x[k + 1] - x[k]
    d0, d2 = y[k - 1] - y[k], y[k + 1] - y[k]
    if u0 == 0 or u2 == 0 or u0 == u2:
        return float(y[k])
    a = (d0 / u0 - d2 / u2) / (u0 - u2)
    b = d0 / u0 - a * u0
    if a == 0 or not min(u0, u2) <= -b / (2 * a) <= max(u0, u2):
        return float(y[k])
    return float(y[k] - b * b / (4 * a))


def fold_voltages(card: Mapping[str, float], v_max: float) -> tuple:
    """(V_th, V_hold) of a slow dual sweep to ``v_max`` (:func:`sweep_folds`), each refined
    to the extreme of the parabola through the static curve's points around it (smooth in
    the card's parameters, for their standard errors); None where the sweep does not
    jump."""
    curve = static_curve(card, v_max)
    folds = sweep_folds(card, v_max, curve=curve)
    out = []
    for b in ("up", "down"):
        if folds[b] is None:
            out.append(None)
            continue
        k = int(np.flatnonzero(curve.v == folds[b])[0])
        out.append(_vertex(curve.temp, curve.v, k))
    return tuple(out)


def _scurve_covariance(res, card: Mapping[str, float], se) -> np.ndarray:
    """The covariance of the free parameters of an S-curve fit, from a Jacobian of its
    weighted log-voltage residuals taken by central differences of a tenth of a standard
    error (the engine's forward differences of ~1e-8 resolve the static curve's grid, and
    the figures (folds) are differences of strongly correlated parameters, which the
    covariance must carry to a few digits), scaled by the reduced chi-square."""
    model = res.model

    def residuals(values):
        out = []
        for ds, noise in zip(res.datasets, res.noise):
            f = model.func(np.asarray(ds.x, float), values, **(ds.meta or {}))
            sigma = 1.0 if ds.sigma is None else ds.sigma
            out.append((np.log(f) - np.log(np.asarray(ds.y, float))) / (noise * sigma))
        return np.concatenate(out)

    base = {**res.values, **card}
    r0 = residuals(base)
    cols = []
    for n, h in zip(res.free, 0.1 * np.asarray(se)):
        h = min(h, 0.01 * abs(base[n]) or h)      # inside the parameter's range
        cols.append((residuals({**base, n: base[n] + h}) - residuals({**base, n: base[n] - h}))
                    / (2 * h))
    se = np.asarray(se, float)
    jac = np.array(cols).T * se                  # in units of the standard errors
    dof = max(r0.size - jac.shape[1], 1)
    return np.linalg.pinv(jac.T @ jac) * np.outer(se, se) * float(r0 @ r0) / dof


def _fold_errors(cal, res, v_max: float, own_jacobian: bool = False) -> None:
    """Standard errors of the fitted folds (V_th, V_hold) by the delta method: the
    gradient of :func:`fold_voltages` over the free parameters (central differences of
    a tenth of a standard error) with the fit's covariance (``own_jacobian``: the S-curve
    fit's, :func:`_scurve_covariance`)."""
    free = [n for n in res.free if res.stderr.get(n)]
    if len(free) != len(res.free):
        return
    se = np.array([res.stderr[n] for n in free])
    cov = np.asarray(res.correlation, float) * np.outer(se, se)
    try:
        if own_jacobian:
            cov = _scurve_covariance(res, cal.params, se)
            se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        base = fold_voltages(cal.params, v_max)
        grads = []
        for j, n in enumerate(free):
            h = min(0.1 * se[j], 0.01 * abs(cal.params[n]) or 0.1 * se[j])
            hi = fold_voltages({**cal.params, n: cal.params[n] + h}, v_max)
            lo = fold_voltages({**cal.params, n: cal.params[n] - h}, v_max)
            grads.append([None if a is None or b is None else (a - b) / (2 * h)
                          for a, b in zip(hi, lo)])
    except (NetlistError, ValueError, np.linalg.LinAlgError):
        cal.notes.append("no standard errors of the folds: the card's neighbourhood within a "
                         "tenth of a standard error leaves the parameters' ranges")
        return
    for m, tag in enumerate(("v_th_fold", "v_hold_fold")):
        g = [row[m] for row in grads]
        if base[m] is None or any(x is None for x in g) or tag not in cal.derived:
            continue
        g = np.array(g)
        cal.derived[tag]["value"] = base[m]
        cal.derived[tag]["stderr"] = float(np.sqrt(max(g @ cov @ g, 0.0)))


def fit_nbox_iv(data, *, t_amb: float = 300.0, free: Sequence[str] | None = None,
                fixed: Mapping[str, float] | None = None,
                start: Mapping[str, float] | None = None, v_min: float = 0.2,
                global_stage: str | None = "de", seed: int = 0, conf_int: str = "stderr",
                global_options: Mapping | None = None, progress=False,
                pulses: Sequence | None = None, pulse_train: Sequence[float] | None = None,
                pulse_t_amb: float | str | None = "read",
                simulators: Sequence[str] = ("ngspice",), fold_guard: int = 2,
                fold_penalty: bool = True, control: str = "auto",
                verify: bool = False) -> Calibration:
    """Fit the card to a dual DC sweep (``data``: the [up, down] branches, as
    ``load_iv(path, split="reversal")`` gives them). ``t_amb`` (K): the stage temperature
    (held). ``free``: the parameters fitted; default :data:`FREE`, or for a current-limited
    loop :data:`FREE_LOOP`, with :data:`HELD_LOOP` (the metallic channel, which such a loop
    does not separate from the heated film) held at the card's values (``fixed`` or the
    device defaults; a report line says so). ``fixed``: other card values to hold
    (default: :data:`VO2_FIXED`). Points below
    ``v_min`` (V) are left out (log residuals of near-zero currents are noise).

    ``pulses``: measured voltage-pulse transients (a pulse, then a low read level);
    ``pulse_train``: the amplitudes (V) whose pulses train the heat capacities (default:
    the middle amplitude); ``pulse_t_amb``: the pulse set-up's ambient (K), or ``"read"``
    (:func:`read_ambient`), or None (``t_amb``). See :func:`fit_pulse_thermal` and
    :func:`simulate_pulses`. ``verify``: re-simulate the card's static I-V in
    ``simulators`` (:func:`verify_sweep`).

    The folds: a sample next to a switching voltage changes branch when the model's fold
    moves past it, so the least-squares surface is piecewise and a local stage can stop in a
    neighbouring piece. Hence ``fold_guard``: the ``fold_guard`` samples on each side of
    the steepest step of each measured switch are left out of the current residuals
    (reported); and ``fold_penalty``: two more residuals hold each model fold
    between the samples that bracket the measured switch (:func:`switching_interval`): zero
    inside, growing with the distance outside (one sigma per half interval), so the fold
    has a smooth pull toward the data and the points left in never change branch near the
    optimum."""
    v_up, i_up, v_dn, i_dn = _sweeps(data)
    limited = _limited(data, v_up, v_dn)
    free_up, free_dn = ~limited[0], ~limited[1]
    held = {**VO2_FIXED, **(fixed or {})}
    values = {**start_from_sweep(v_up[free_up], i_up[free_up], v_dn[free_dn], i_dn[free_dn],
                                 t_amb), **held, **(start or {})}
    values["t_amb"] = t_amb
    v_max = float(max(v_up.max(), v_dn.max()))
    if control == "auto":
        control = "current" if any(m.any() for m in limited) else "voltage"
    if control not in ("voltage", "current"):
        raise CalibrationError(f"control must be 'auto', 'voltage' or 'current', got "
                               f"{control!r}")
    at_limit = [f"{name}: {int(cc.sum())} point(s) at {float(v[cc].min()):.4g}-"
                f"{float(v[cc].max()):.4g} V" for name, v, cc in
                (("up sweep", v_up, limited[0]), ("down sweep", v_dn, limited[1])) if cc.any()]
    intervals, guarded = [], []
    loop_held, own_errors = [], []
    if control == "current" and free is None:
        card0 = get_device("nbox").params(held)
        loop_held = [n for n in HELD_LOOP if n not in held]
        values.update({n: card0[n] for n in loop_held})
        free = FREE_LOOP
    free = FREE if free is None else free
    if control == "current":
        if _current_errors(data, [])[0] is not None:
            own_errors.append("current errors not used: a current-limited loop is fitted "
                              "as the voltage at its current (the current is the abscissa)")
        free = [n for n in free if n not in held]
        sets = _scurve_datasets(v_up, i_up, v_dn, i_dn, limited, v_min, v_max)
        fit = _scurve_fit(sets, free, values, t_amb, global_stage, seed, conf_int, progress,
                          global_options)
        res = fit.run()
    else:
        model = nbox_iv_model()
        sets = []
        errors = _current_errors(data, own_errors)
        for name, v, i, cc, err in (("up sweep", v_up, i_up, limited[0], errors[0]),
                                    ("down sweep", v_dn, i_dn, limited[1], errors[1])):
            keep = (v > v_min) & (i > 0) & ~cc
            if keep.sum() < 5:
                raise DataError(f"{name}: fewer than 5 points above {v_min} V with positive "
                                "current")
            intervals.append(switching_interval(v[keep], i[keep]))
            span = _steepest_step(v[keep], i[keep])
            if span is not None and fold_guard > 0:
                step = float(np.median(np.abs(np.diff(v))))
                near = (v >= span[0] - (fold_guard - 1 + 0.5) * step) & \
                    (v <= span[1] + (fold_guard - 1 + 0.5) * step) & keep
                if (keep & ~near).sum() >= 5:
                    guarded.append(f"{name}: {int(near.sum())} point(s) at "
                                   f"{float(v[near].min()):.4g}-{float(v[near].max()):.4g} V")
                    keep &= ~near
            sets.append(Dataset(v[keep], i[keep], name=name,
                                sigma=None if err is None else err[keep] / i[keep],
                                meta={"branch": name.split()[0], "v_max": v_max}))
        if fold_penalty and all(s_ is not None for s_ in intervals):
            lo = np.array([a for a, _ in intervals])
            hi = np.array([b for _, b in intervals])
            mid = 0.5 * (lo + hi)
            sets.append(Dataset(np.array([lo, hi]), mid, sigma=0.5 * (hi - lo) / mid,
                                name="folds", meta={"branch": "folds", "v_max": v_max},
                                penalty=True))
        free = [n for n in free if n not in held]
        fixed_names = [n for n in model.params if n not in free]
        opts = {**({"maxiter": 30, "popsize": 8, "tol": 1e-6}
                   if global_stage in ("de", "auto") else {}), **(global_options or {})}
        fit = Fit(model, sets, free=free, fixed=fixed_names, values=values, weighting="log",
                  global_stage=global_stage, seed=seed, conf_int=conf_int, progress=progress,
                  search={n: b for n, b in _search(values, t_amb).items() if n in free},
                  bounds={"r_th": (1.0, 1e7), "r_c": (0.0, 1e6), "g_met": (0.0, 1e2)},
                  global_options=opts)
        res = fit.run()
    dev = get_device("nbox")
    card = {k: v for k, v in res.values.items() if k in dev.parameter}
    fits = {"dual sweep": res}
    cal = Calibration("nbox-iv", "nbox", card, {n: res.stderr.get(n) for n in res.free},
                      fits, warnings=collect_warnings(fits), notes=own_errors)
    # under compliance the device voltage never passes the threshold: the folds are those
    # of a voltage sweep to twice the largest reading
    v_fold = 2.0 * v_max if control == "current" else v_max
    _switching_summary(cal, card, v_up, i_up, v_dn, i_dn, v_fold,
                       sample=control == "voltage")
    _fold_errors(cal, res, v_fold, own_jacobian=control == "current")
    if at_limit and control == "current":
        cal.notes.append("current-limited loop: every reading fitted as a point of the static "
                         "S-curve (voltage at its current, log residuals; the curve is "
                         "single-valued in the current, so no branch is chosen), the points at "
                         "the source's compliance (the source set the current there; marked "
                         "by the loader) included as such, with the conducting readings as a "
                         "data set of their own (its own noise scale): " + "; ".join(at_limit))
    elif at_limit:
        cal.notes.append("left out of the fit, at the source's current compliance (the source, "
                         "not the device, set the current there; marked by the loader): "
                         + "; ".join(at_limit))
    if loop_held:
        cal.notes.append("held at the card's values (a current-limited loop reaches the heated "
                         "film, not the metallic channel: it cannot tell one from the other): "
                         + ", ".join(f"{n} = {values[n]:.6g}" for n in loop_held)
                         + "; name them with --free (free=) to fit them")
    if guarded:
        cal.notes.append(f"left out of the current residuals, next to the switches "
                         f"(fold_guard = {fold_guard}): " + "; ".join(guarded))
    if control == "voltage" and len(sets) == 3:
        cal.notes.append("fold penalty: the model's threshold fold held within "
                         f"{intervals[0][0]:.4g}-{intervals[0][1]:.4g} V and its hold fold "
                         f"within {intervals[1][0]:.4g}-{intervals[1][1]:.4g} V (the samples "
                         "that bracket the measured switches)")
    cal.notes += [
        f"stage (ambient) temperature held at t_amb = {t_amb:.2f} K; t_ref = t_amb, so g_ref "
        "is the low-bias conductance of the insulating film at the stage temperature",
        "held: " + ", ".join(f"{k} = {held[k]:g}" for k in sorted(held)),
        "the steady state uses r_th + r_env (the surroundings settle in a DC sweep): the "
        "fitted r_th is the total; r_env is split off only when pulses are fitted",
        "the card's c_th and c_env are not determined by a DC sweep"
        + ("" if pulses else " (table values on the card)"),
    ]
    if pulses:
        _pulse_stage(cal, pulses, pulse_train, pulse_t_amb, simulators, progress)
    if verify:
        cal.verification += verify_sweep(cal.params, v_max,
                                         simulators=[s for s in simulators if s != "numpy"])
    return cal


def read_samples(transient, *, tail: float = 0.3):
    """The relaxed read-out of a pulse record ``(v, i)``: the samples at the final (read)
    level in the last ``tail`` fraction of the read window (use the smallest pulse: it
    relaxes first)."""
    v = np.asarray(transient.voltage_v, float)
    i = np.asarray(transient.current_a, float)
    level = np.median(v[-max(5, v.size // 20):])
    if abs(level) < 1e-3:        # the record ends at 0 V: the read is the last level above
        on = np.flatnonzero(np.abs(v) > 1e-2)
        if not on.size:
            raise DataError("no read level in the pulse record", path=str(transient.source))
        end = on[-1] + 1
        level = np.median(v[max(end - 20, 0):end])
    else:
        end = v.size
    at = np.flatnonzero(np.abs(v[:end] - level) < 0.05 * abs(level))
    start = at[0] + int((1 - tail) * (end - at[0]))
    k = at[at >= start]
    if k.size < 3:
        raise DataError("fewer than 3 read samples in the pulse record",
                        path=str(transient.source))
    return v[k], i[k]


def _switching_summary(cal, card, v_up, i_up, v_dn, i_dn, v_max, sample: bool = True):
    """The measured and the model's switching voltages into ``cal.derived``; ``sample``:
    the model's also sampled on the measured voltages (a voltage-controlled sweep; under
    compliance the readings are no voltage-controlled path, so the model's are its folds)."""
    curve = static_curve(card, v_max)
    folds = sweep_folds(card, v_max, curve=curve)
    m_up, m_dn = sweep_currents(card, v_up, v_dn, v_max=v_max, curve=curve)
    on_up, on_dn = _on_points(v_up, i_up), _on_points(v_dn, i_dn)
    meas = {"up": measured_switching(v_up[on_up], i_up[on_up]),
            "down": measured_switching(v_dn[on_dn], i_dn[on_dn])}
    bracket = switch_bracket(v_up, i_up)
    if bracket is not None:          # the voltage fell at the switch (compliance)
        meas["up"] = 0.5 * (bracket[0] + bracket[1])
    sampled = {"up": measured_switching(v_up[on_up], m_up[on_up]),
               "down": measured_switching(v_dn[on_dn], m_dn[on_dn])} if sample else \
        {"up": folds["up"], "down": folds["down"]}
    desc = {"up": "threshold (switch on the up sweep)",
            "down": "hold (release on the down sweep)"}
    for b in ("up", "down"):
        tag = "v_th" if b == "up" else "v_hold"
        cal.derived[f"{tag}_measured"] = {"value": meas[b], "unit": "V",
                                          "description": desc[b] + ", measured"}
        cal.derived[f"{tag}_model"] = {"value": sampled[b], "unit": "V",
                                       "description": desc[b] + (
                                           ", model sampled on the measured voltages (same "
                                           "definition as the data)" if sample else
                                           ", model fold (a current-limited loop is no "
                                           "voltage-controlled path to sample the model on)")}
        cal.derived[f"{tag}_fold"] = {"value": folds[b], "unit": "V",
                                      "description": desc[b] + ", model fold of the static "
                                      "I-V (exact)"}
    if bracket is not None:
        cal.derived["v_th_measured"]["description"] += (
            f": the middle of {bracket[0]:.4g}-{bracket[1]:.4g} V, from the last reading before "
            "the jump (the voltage fell across it) to one source step above (switch_bracket)")
    if meas["up"] and meas["down"] and sampled["up"] and sampled["down"]:
        cal.derived["window_measured"] = {"value": meas["up"] - meas["down"], "unit": "V",
                                          "description": "hysteresis window V_th - V_hold"}
        cal.derived["window_model"] = {"value": sampled["up"] - sampled["down"], "unit": "V",
                                       "description": "hysteresis window of the model"}
    cal.curves["sweep"] = {"v_up": v_up, "i_up": i_up, "v_down": v_dn, "i_down": i_dn,
                        "model_i_up": m_up, "model_i_down": m_dn}   # for plots


def verify_sweep(card: Mapping[str, float], v_max: float, *,
                 simulators: Sequence[str] = ("ngspice",), points: int = 201,
                 tolerance: float = 0.01) -> list[Verification]:
    """The card re-simulated (:func:`~.base.verify_card`, Verilog-A through OSDI): the
    current through the device ramped slowly from 0 to the largest current of the static
    curve below ``v_max`` (a transient 2000 times the slowest thermal time constant: the
    framework's DC analysis holds the thermal states instead of settling them), the
    terminal voltage at ``points`` currents compared with the static curve (the fit's numpy
    prediction) relative to ``v_max``. Under current control the steady state is unique
    (the S-curve is single-valued in the current), so no branch is ambiguous."""
    def circuit_of(device, values):
        from neurospice.netlists import Circuit, Pwl

        p = device.params(values)
        _, v, i = static_curve(p, v_max)
        i_top = float(i[np.flatnonzero(v <= v_max)[-1]])
        tau = max(p["r_th"] * p["c_th"], (p["r_th"] + p["r_env"]) * p["c_env"])
        t_end = 2000.0 * tau
        grid = np.linspace(0.0, i_top, points)
        c = Circuit("verify nbox static I-V")
        c.isource("drive", 0, "a", waveform=Pwl([0.0, t_end], [0.0, i_top]))
        device.add_to(c, "1", ["a", 0, 0], params=values, rendering="osdi")
        c.tran(t_end / 4000, t_end, max_step=t_end / 4000)

        def simulated(res):
            tr = res.tran
            return np.interp(grid, np.asarray(tr.axis) / t_end * i_top, np.asarray(tr["v(a)"]))

        return [CardCheck("static I-V", c, np.interp(grid, i, v), simulated, float(v_max),
                          f"current ramped to {i_top:.4g} A in {t_end:.3g} s, {points} points")]

    return verify_card("nbox", card, circuit_of, simulators, tolerance=tolerance)


# =========================================================================== pulses
PULSE_SOLVER = {"rtol": 1e-6, "atol": 1e-8, "max_step": 1e-3}


def pulse_amplitude(transient) -> float:
    """The pulse level (V): the median of the samples above half the largest voltage."""
    v = np.asarray(transient.voltage_v, float)
    return float(np.median(v[v > 0.5 * v.max()]))


def _pulse_mask(transient, v_floor: float = 0.1) -> np.ndarray:
    """Samples compared with the model: the pulse and the read (|v| > v_floor); the samples
    near 0 V are noise."""
    return np.abs(np.asarray(transient.voltage_v, float)) > v_floor


def read_ambient(card: Mapping[str, float], transient) -> float:
    """The ambient temperature (K) at which the card's steady-state low-bias resistance
    equals the relaxed read-out resistance of ``transient`` (bisection on t_amb; T_ref and
    the rest of the card held). The pulse set-up's stage temperature, seen through the
    card's own R(T)."""
    v, i = read_samples(transient)
    v_r, r_meas = float(np.median(v)), float(np.median(v / i))
    p = get_device("nbox").params(card)

    def resistance(t_a):
        q = {**p, "t_amb": t_a}
        i_m = sweep_currents(q, [v_r], None, v_max=v_r * 1.001)[0][0]
        return v_r / i_m

    lo, hi = 51.0, min(2000.0, p["t_c"] + 50 * p["w_c"])
    if not resistance(hi) < r_meas < resistance(lo):
        raise CalibrationError(f"no ambient temperature gives the read resistance "
                               f"{r_meas:.4g} ohm with this card")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if resistance(mid) > r_meas else (lo, mid)
    return 0.5 * (lo + hi)


def pulse_model(t_amb: float) -> Model:
    """Current (A) against time (s) of the device driven by a measured voltage record
    (meta ``times``, ``volts``: the PWL drive), from rest at ``t_amb``; the total thermal
    resistance ``r_tot`` = r_th + r_env is held (it is the DC sweep's) and ``r_th`` follows
    as r_tot - r_env."""
    dev = get_device("nbox")

    def func(t, p, times=None, volts=None):
        card = {k: p[k] for k in dev.parameter}
        card["t_amb"] = t_amb
        res = dev.numpy.transient(np.asarray(t, float), {"p": (times, volts)}, card,
                                  x0={"T": t_amb, "Ts": t_amb}, **PULSE_SOLVER)
        return res.currents["p,n"]

    extra = [Param("r_tot", 1e3, 2.0, 1e12, "K/W", "total thermal resistance (held)")]
    return Model.from_device(dev, func, extra=extra, name="nbox pulse I(t)",
                             x_label="time (s)", y_label="current (A)")


def fit_pulse_thermal(card: Mapping[str, float], pulses: Sequence, t_amb: float, *,
                      seed: int = 0, progress=False) -> FitResult:
    """Fit ``c_th``, ``c_env`` and the split of the thermal resistance (``r_env``, with
    ``r_th = r_tot - r_env`` and r_tot the card's r_th + r_env held) to measured pulse
    records (relative residuals, local stage from time constants read off the data: a
    fast one of 0.1 ms and a slow one of 20 ms, half the resistance each)."""
    r_tot = card["r_th"] + card["r_env"]
    model = pulse_model(t_amb)
    sets = []
    for tr in pulses:
        keep = _pulse_mask(tr)
        sets.append(Dataset(np.asarray(tr.time_s, float)[keep],
                            np.asarray(tr.current_a, float)[keep],
                            name=f"{pulse_amplitude(tr):.3g} V pulse",
                            meta={"times": np.asarray(tr.time_s, float),
                                  "volts": np.asarray(tr.voltage_v, float)}))
    start = {**card, "r_tot": r_tot, "r_env": 0.5 * r_tot, "c_th": 1e-4 / (0.5 * r_tot),
             "c_env": 2e-2 / (0.5 * r_tot), "t_amb": t_amb}
    free = ["c_th", "c_env", "r_env"]
    fixed = [n for n in model.params if n not in free and n != "r_th"]
    fit = Fit(model, sets, free=free, fixed=fixed, values=start, weighting="relative",
              constraints={"r_th": "r_tot - r_env"}, global_stage=None, seed=seed,
              bounds={"r_env": (1.0 + 1e-9, r_tot - 1.0), "c_th": (1e-12, 1e2),
                      "c_env": (1e-12, 1e2)}, progress=progress, max_nfev=200)
    return fit.run()


def simulate_pulses(card: Mapping[str, float], pulses: Sequence, t_amb: float, *,
                    simulator: str = "ngspice", train: Sequence[str] = ()) -> list[dict]:
    """Simulate each measured pulse record with the card: the measured voltage as a PWL
    source across the device (2-wire: the contact resistance is in the card), from rest at
    ``t_amb``. ``simulator``: "ngspice" or "vacask" (Verilog-A via OSDI) or "numpy"; a
    simulator that is not available falls back to numpy (said in the row). Returns one row
    per pulse: amplitude, RMS relative current error over the pulse and over the read,
    the simulator used, the currents (for plots) and whether the pulse trained the heat
    capacities (its name in ``train``)."""
    dev = get_device("nbox")
    card = {**card, "t_amb": t_amb}
    rows = []
    for tr in pulses:
        t = np.asarray(tr.time_s, float)
        v = np.asarray(tr.voltage_v, float)
        i_meas = np.asarray(tr.current_a, float)
        used = simulator
        if simulator != "numpy":
            from neurospice.simulators import get_simulator

            sim = get_simulator(simulator)
            if not sim.is_available():
                used = "numpy"
        if used == "numpy":
            i_mod = dev.numpy.transient(t, {"p": (t, v)}, card,
                                        x0={"T": t_amb, "Ts": t_amb},
                                        **PULSE_SOLVER).currents["p,n"]
        else:
            from neurospice.netlists import Circuit, Pwl

            c = Circuit(f"nbox pulse {pulse_amplitude(tr):.3g} V")
            c.vsource("in", "a", 0, waveform=Pwl(t, v))
            dev.add_to(c, "1", ["a", "s", 0], params=card, rendering="osdi")
            c.vsource("sns", "s", 0, 0.0)
            step = float(np.median(np.diff(t)))
            c.tran(step, float(t[-1]), max_step=step / 2)
            res = sim.run(c).tran
            i_mod = np.interp(t, res.axis, np.asarray(res["i(vsns)"]))
        amp = pulse_amplitude(tr)
        on = v > 0.5 * amp
        read = _pulse_mask(tr) & ~on
        read[:np.flatnonzero(on)[-1] + 1] = False
        rel = (i_mod - i_meas) / np.abs(i_meas)
        name = f"{amp:.3g} V pulse"
        rows.append({"amplitude_v": amp, "name": name, "simulator": used,
                     "rms_rel_pulse": float(np.sqrt(np.mean(rel[on] ** 2))),
                     "rms_rel_read": float(np.sqrt(np.mean(rel[read] ** 2)))
                     if read.any() else None,
                     "i_end_measured": float(np.median(i_meas[on][-6:-1])),
                     "i_end_model": float(np.median(i_mod[on][-6:-1])),
                     "train": name in train, "time_s": t, "i_measured": i_meas,
                     "i_model": i_mod})
    return rows


def _pulse_stage(cal, pulses, train, pulse_t_amb, simulators, progress):
    pulses = sorted(as_list(pulses), key=pulse_amplitude)
    amps = [pulse_amplitude(p) for p in pulses]
    if train is None:
        chosen = [pulses[len(pulses) // 2]]
    else:
        chosen = [p for p, a in zip(pulses, amps) if any(abs(a - x) < 0.02 for x in train)]
        if not chosen:
            raise CalibrationError(f"no pulse at the training amplitude(s) {list(train)}")
    card = dict(cal.params)
    if pulse_t_amb == "read":
        t_p = read_ambient(card, pulses[0])
        how = (f"the pulse ambient {t_p:.2f} K is where the card's low-bias resistance equals "
               f"the relaxed read-out of the {amps[0]:.3g} V pulse")
    else:
        t_p = float(pulse_t_amb) if pulse_t_amb is not None else card["t_amb"]
        how = f"the pulse ambient is held at {t_p:.2f} K"
    res = fit_pulse_thermal(card, chosen, t_p, progress=progress)
    for k in ("c_th", "c_env", "r_env", "r_th"):
        card[k] = res.values[k]
        cal.stderr[k] = res.stderr.get(k)
    cal.params.update({k: card[k] for k in ("c_th", "c_env", "r_env", "r_th")})
    cal.fits["pulse heat capacities"] = res
    cal.warnings += [f"pulse heat capacities: {w}" for w in res.warnings]
    names = [d.name for d in res.datasets]
    rows = []
    for sim in simulators:
        rows += simulate_pulses(card, pulses, t_p, simulator=sim, train=names)
    cal.extra["pulses"] = [{k: v for k, v in r.items() if k not in ("time_s", "i_measured",
                                                                      "i_model")}
                           for r in rows]
    cal.curves["pulses"] = rows         # arrays for plots (not in the JSON)
    cal.derived["pulse_t_amb"] = {"value": t_p, "unit": "K",
                                  "description": "ambient of the pulse simulations"}
    for r in rows:
        cal.verification.append(Verification(
            r["simulator"], r["name"], r["rms_rel_pulse"], None, None,
            "RMS relative current error against the measurement during the pulse"
            + (f"; {r['rms_rel_read']:.3g} during the read" if r["rms_rel_read"] is not None
               else "") + ("; trained c_th, c_env, r_env" if r["train"] else "; predicted")))
    cal.notes.append(f"the card keeps the DC sweep's t_amb; set t_amb = {t_p:.2f} K to "
                     "reproduce the pulse simulations")
    if any(res.stderr.get(k) is None for k in ("c_th", "c_env", "r_env")):
        cal.notes.append("the pulse currents barely depend on the heat capacities with this "
                         "card at this ambient (no covariance): c_th, c_env, r_env stay near "
                         "their starting values (time constants 0.1 ms and 20 ms, half the "
                         "resistance each) and are not calibrated")
    cal.notes += [how, "c_th, c_env and the split of the thermal resistance (r_env; r_th = "
                  "total - r_env, the total from the DC sweep) fitted on the "
                  + ", ".join(names) + " in numpy; every pulse then simulated with the final "
                  "card (" + ", ".join(simulators) + ") driven by the measured voltage"]


# =========================================================================== as a recipe
def split_dual_sweep(sweep) -> list:
    """[up, down] of one dual sweep (an :class:`~..data.IVSweep`; one swept to negative
    voltage is mirrored, with a note), cut where the *source* turned back: at the largest
    current (a monotonic source ramp drives the most current at its turn), or, where the
    source limited the current, in the middle of the longest run of points at compliance.
    Not where the measured voltage turns: under a current compliance or a series resistance
    the device voltage drops when the device switches, so a cut at the voltage's turn would
    put the switch into the down branch."""
    from dataclasses import replace

    v, i = np.asarray(sweep.voltage_v, float), np.asarray(sweep.current_a, float)
    big = v[np.abs(v) > 0.1 * float(np.max(np.abs(v), initial=0.0))]
    if big.size and float(np.median(big)) < 0:
        # 0 -> -v_max -> 0: a threshold switch conducts alike both ways; fitted mirrored
        v, i = -v, -i
        sweep = replace(sweep, voltage_v=v, current_a=i)
        sweep.report.notes.append("the sweep goes to negative voltage (the other polarity): "
                                  "fitted mirrored, (V, I) -> (-V, -I)")
    cc = getattr(sweep, "compliance", None)
    if cc is not None and np.any(cc):
        edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(cc, int), 0]))
        runs = edges.reshape(-1, 2)
        a, b = runs[int(np.argmax(runs[:, 1] - runs[:, 0]))]
        turn = (int(a) + int(b)) // 2
    else:
        turn = int(np.argmax(i))
    if not 2 <= turn <= v.size - 3:
        raise DataError("a dual sweep must rise to its turning point and come back: the "
                        f"largest current is at point {turn + 1} of {v.size}",
                        path=str(sweep.source))
    fields = ("voltage_v", "current_a", "time_s", "temperature_k", "sweep", "cycle",
              "device", "compliance", "lines", "voltage_err_v", "current_err_a")
    out = []
    for part in (slice(0, turn + 1), slice(turn + 1, None)):
        out.append(replace(sweep, **{f: getattr(sweep, f)[part] for f in fields
                                     if getattr(sweep, f, None) is not None}))
    return out


def load_dual_sweep(path, **options) -> list:
    """A dual DC sweep 0 -> v_max -> 0 from one file, cut into its up and down branches
    where the source turned back (:func:`split_dual_sweep`; a ``compliance`` limit or column
    marks the points where the source limited the current); several loops stacked with a
    sweep or cycle column: [up, down] of each, in order. A ``split``, ``group_by`` or
    side-by-side ``columns`` given: ``load_iv``'s curves as they come."""
    from ..data import layout_split, load_iv

    if any(k in options for k in ("split", "group_by", "columns")):
        return as_list(load_iv(path, **{"split": "reversal", **options}))
    if layout_split(path, **options) == "sweep_column":     # loops stacked, told apart by
        return [branch for loop in load_iv(path, split="sweep_column", **options)  # a column
                for branch in split_dual_sweep(loop)]
    return split_dual_sweep(load_iv(path, **options))


# =========================================================================== --ensemble
ENSEMBLE_PER_CURVE = ("g_ref", "r_th", "r_c")
ENSEMBLE_SHARED = ("ea",)


def loop_datasets(data) -> list:
    """Each dual sweep of ``data`` (the [up, down] pairs :func:`load_dual_sweep` returned for
    every file, in order) as one S-curve :class:`~..fit.Dataset` (x the current, y the
    voltage: every reading above 2 % of the loop's largest voltage with positive current, the
    points at compliance included) for ``--ensemble``; meta ``v_max`` and ``i_max``, and
    ``noise_group`` per reading: ``insulating``, ``at compliance`` (the source set the
    current: only the voltage's noise is left) or ``conducting`` (above 1.5 times the
    current before the switch), each weighted by its own noise level in the fit."""
    data = as_list(data)
    if len(data) % 2:
        raise CalibrationError(f"--ensemble takes dual sweeps as [up, down] pairs; got "
                               f"{len(data)} branch(es)")
    out = []
    for k in range(0, len(data), 2):
        v_up, i_up, v_dn, i_dn = _sweeps(data[k:k + 2])
        v, i = np.r_[v_up, v_dn], np.r_[i_up, i_dn]
        keep = _on_points(v, i)
        if keep.sum() < 10:
            raise DataError(f"loop {k // 2 + 1}: fewer than 10 readings with positive current")
        src = getattr(data[k], "source", None)
        group = getattr(data[k], "group", None) or getattr(data[k], "cycle", None)
        name = f"{Path(str(src)).name if src else 'loop'} {k // 2 + 1}"
        if isinstance(group, str):
            name += f" ({group})"
        order = np.argsort(i[keep])
        # the starting values from the readings off compliance, as for one loop: at
        # compliance the source set the current, and start_from_sweep read the plateau as
        # the insulating branch (r_th a quarter of the truth at 1 mA, and the fit from there
        # settled in the far end of the ea-r_th valley: ea 0.13 for 0.30)
        up, dn = _limited(data[k:k + 2], v_up, v_dn)
        try:
            start = start_from_sweep(v_up[~up], i_up[~up], v_dn[~dn], i_dn[~dn], 300.0)
        except DataError:
            start = None
        i_th = _switch_current(v_up, i_up)
        group = np.where(np.r_[up, dn], "at compliance",
                         np.where(i > 1.5 * i_th, "conducting", "insulating"))
        out.append(Dataset(i[keep][order], v[keep][order], name=name,
                           meta={"v_max": float(v.max()), "i_max": float(i.max()),
                                 "start": start, "noise_group": group[keep][order]}))
    return out


def _ensemble_start(datasets, warnings: list[str]) -> dict:
    """Starting values: :func:`start_from_sweep` of each loop (meta ``start`` of
    :func:`loop_datasets`), the median over the loops, then fitted to the median loop alone;
    t_c, w_c and g_met at the card's defaults (held unless named with --free). Appended to
    ``warnings`` (they join the ensemble fit's): loops that give no starting values, and a
    refinement that failed (the joint fit then starts from the rough medians)."""
    has = [bool((d.meta or {}).get("start")) for d in datasets]
    given = [d for d, h in zip(datasets, has) if h]
    starts = [d.meta["start"] for d in given]
    if not starts:
        raise CalibrationError("no loop gives starting values (no insulating branch below "
                               "its switch)")
    if len(given) < len(datasets):
        left = [d.name or f"loop {k + 1}" for k, (d, h) in enumerate(zip(datasets, has))
                if not h]
        warnings.append(f"starting values from {len(given)} of {len(datasets)} loops: "
                        f"{', '.join(left)} {'shows' if len(left) == 1 else 'show'} no "
                        "insulating branch below the switch")
    start = {**VO2_FIXED, **{k: float(np.median([s_[k] for s_ in starts]))
                             for k in ("g_ref", "ea", "r_th", "r_c")}}
    # refined on the loop nearest the median low-bias conductance alone (a second or so):
    # ea and r_th are nearly degenerate, and the joint fit started from the rough values
    # can settle in the wrong part of their valley
    g = np.array([s_["g_ref"] for s_ in starts])
    loop = given[int(np.argmin(np.abs(g - np.median(g))))]
    free = [*ENSEMBLE_PER_CURVE, *ENSEMBLE_SHARED]
    try:
        res = _scurve_fit([loop], free, {**get_device("nbox").params(VO2_FIXED), **start},
                          start["t_amb"] if "t_amb" in start else 300.0, None, 0, "stderr",
                          False, None).run()
    except CalibrationError as exc:
        warnings.append(f"starting values: the refinement on {loop.name or 'the median loop'} "
                        f"alone failed ({exc}); the joint fit starts from the loops' median "
                        "rough values, from where it can settle in the wrong part of the "
                        "ea-r_th valley")
        return start
    return {**start, **{k: res.values[k] for k in free}}


def _ensemble_bounds(datasets) -> dict:
    return {"r_th": (1.0, 1e9), "r_c": (0.0, 1e6), "ea": (0.02, 2.0)}


def _ensemble_card(values) -> dict:
    """The full card of each curve (arrays): held values, shared and per-curve ones."""
    dev = get_device("nbox")
    n = max(np.size(v) for v in values.values())
    out = []
    for k in range(n):
        out.append(dev.params({**VO2_FIXED, **{name: float(np.ravel(v)[k] if np.size(v) > 1
                                                         else np.ravel(v)[0])
                                               for name, v in values.items()}}))
    return out


def ensemble_figures(values) -> dict:
    """Per curve: V_th and V_hold (:func:`fold_voltages` of a sweep to twice the threshold),
    R_off (the low-bias resistance 1/g_ref + r_c) and R_on (V_hold / I_hold, the resistance
    where the conducting state releases)."""
    rows = []
    for card in _ensemble_card(values):
        curve = static_curve(card)
        v_th, v_hold = fold_voltages(card, 2.0 * float(np.max(curve.v)))
        falling = np.flatnonzero(np.diff(curve.v) < 0)
        i_hold = None
        if v_hold is not None and falling.size:
            i_hold = float(curve.i[falling[0] + int(np.argmin(curve.v[falling[0]:]))])
        rows.append((v_th if v_th is not None else np.nan,
                     v_hold if v_hold is not None else np.nan,
                     1.0 / card["g_ref"] + card["r_c"],
                     v_hold / i_hold if i_hold else np.nan))
    a = np.array(rows, float)
    return {"v_th": a[:, 0], "v_hold": a[:, 1], "r_off": a[:, 2], "r_on": a[:, 3]}


def _cli_kwargs(args) -> dict:
    return {**engine_kwargs(args), "t_amb": args.t_amb, "verify": not args.no_verify}


NBOX_IV = Recipe(
    "nbox-iv", "nbox", "NbOx/VO2 threshold switch: g_ref, ea, r_th, t_c, w_c, g_met, r_c "
    "from a quasi-static dual DC sweep (snap at V_th, release at V_hold)",
    run=fit_nbox_iv, load=load_dual_sweep, free=FREE, model=nbox_iv_model,
    options=(Option(("--t-amb",), {"type": float, "default": 300.0,
                                   "help": "stage temperature in K of an nbox dual sweep "
                                           "(default 300)"}),
             Option(("--no-verify",), {"action": "store_true",
                                       "help": "skip re-simulating the card in the "
                                               "simulators"})),
    cli_kwargs=_cli_kwargs, default=True,
    ensemble=EnsembleRecipe(nbox_scurve_model, loop_datasets, shared=ENSEMBLE_SHARED,
                            per_curve=ENSEMBLE_PER_CURVE, start=_ensemble_start,
                            bounds=_ensemble_bounds, weighting="relative",
                            figures=ensemble_figures),
    verify=lambda cal, simulators: verify_sweep(
        cal.params, max(float(np.max(cal.curves["sweep"]["v_up"])),
                        float(np.max(cal.curves["sweep"]["v_down"]))), simulators=simulators))

REGISTERED = (NBOX_IV,)
