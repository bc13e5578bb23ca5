"""The steady state of the NbOx/VO2 threshold switch: its S-shaped static I-V and what a slow
voltage sweep does on it. One solver, used by the device's users (neurons, demos) and by the
``nbox-iv`` calibration recipe.

The steady state of the thermal device is P(v, T) = (T - t_amb) / R with P the oxide Joule
power of the card (:func:`oxide_power`, the device's own numpy rendering, so the curve is
exactly the card's DC behaviour) and R = r_th + r_env (a DC sweep: the surroundings settle
too) or r_th alone (``include_env=False``: surroundings at ambient, the curve on the time
scale of a spike). For each temperature T on a grid the voltage that holds it is found
vectorised (:func:`voltage_for_power`: Newton in ln v, then bisection where that has not
converged), which traces the S-shaped static I-V single-valued in T (:func:`static_curve`).

A slow sweep under voltage control selects a branch without any integration
(:func:`sweep_currents`): going up, the state at voltage v is the *first* temperature at
which v(T) reaches v (running maximum of v(T)); going down from the top state, the *last*
temperature not above it at which v(T) falls to v (running minimum). The folds where the
path jumps are the sweep's switching voltages (:func:`sweep_folds`); :func:`threshold_hold`
gives the device's first fold pair (V_th, V_h).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np

from . import DEVICE

__all__ = ["StaticCurve", "oxide_power", "voltage_for_power", "static_curve",
           "sweep_currents", "sweep_folds", "threshold_hold"]

BISECT_STEPS = 48     # bisection steps in log10(v) over 14 decades: ~1e-13 decade
NEWTON_STEPS = 10     # secant steps in ln v before bisecting what has not converged
NEWTON_TOL = 1e-13    # |ln(P / target)| at which every point has converged
T_SPAN = 1500.0       # K above ambient traced when neither v_max nor t_max is given


class StaticCurve(NamedTuple):
    """The static I-V ordered by device temperature: ``temp`` (K), ``v`` (V), ``i`` (A)."""

    temp: np.ndarray
    v: np.ndarray
    i: np.ndarray


def oxide_power(v, temp, params: Mapping[str, float]):
    """(terminal current (A), oxide Joule power (W)) at terminal voltage ``v`` and device
    temperature ``temp`` (arrays), surroundings at ``temp`` and no noise. ``params``: a full
    card (:meth:`Device.params`)."""
    # with Ts = T and no noise the rate of T is P / c_th: the oxide power, from the rendering
    cur, rates = DEVICE.numpy.evaluate({"p": v}, {"T": temp, "Ts": temp}, params, time=1.0)
    return cur["p,n"], rates["T"] * params["c_th"]


def voltage_for_power(temp, target, params: Mapping[str, float], *,
                      guess=None) -> np.ndarray:
    """The terminal voltage at which the oxide dissipates ``target`` (W) at ``temp`` (K).

    P = v^2 G/(1 + G r_c)^2 grows as v^2 where G does not depend on the field, so Newton's
    step in ln v with slope 2, u <- u - ln(P/target)/2, is exact there; with a weak field
    dependence (Poole-Frenkel) the later steps take the secant slope of ln P in ln v of each
    point (superlinear: |ln(P/target)| < 1e-13 after three to five evaluations of the
    card over all temperatures at once); points that have not converged after
    ``NEWTON_STEPS`` are bisected in log10 v over [1e-10, 1e4] V. ``guess``: a
    :class:`StaticCurve` of a nearby card (the previous one of a fit), whose voltage at
    these temperatures starts the iteration (fewer steps, the same converged voltage)."""
    return _solve(temp, target, params, guess)[0]


def _solve(temp, target, p, guess):
    """(voltage, terminal current) of :func:`voltage_for_power` (the current of the last
    evaluation, at the voltage returned)."""
    temp = np.asarray(temp, float)
    target = np.maximum(target, 1e-300)
    g = p["g_ref"] + p["mix"] * p["g_met"]
    u = 0.5 * np.log(target * (1 + g * p["r_c"]) ** 2 / g)
    if guess is not None and len(guess.temp) > 1:
        u_guess = np.interp(temp, guess.temp, np.log(np.maximum(guess.v, 1e-300)))
    else:
        u_guess = None
    slope = np.full(u.shape, 2.0)
    u_prev = err_prev = None
    for step in range(NEWTON_STEPS):
        if step == 0 and u_guess is not None:
            cur, power = oxide_power(np.exp(u_guess), temp, p)
            err = np.log(np.maximum(power, 1e-300) / target)
            if np.all(np.abs(err) < 0.1):      # near: keep it (else the closed-form start)
                u = u_guess
        if step > 0 or u is not u_guess:
            cur, power = oxide_power(np.exp(u), temp, p)
            err = np.log(np.maximum(power, 1e-300) / target)
        if np.all(np.abs(err) <= NEWTON_TOL):
            break
        if u_prev is not None:          # secant slope where the last step moved u
            du = u - u_prev
            moved = np.abs(du) > 1e-12
            slope = np.where(moved, np.clip((err - err_prev) / np.where(moved, du, 1.0),
                                            1.0, 8.0), slope)
        u_prev, err_prev = u, err
        u = u - err / slope
    else:
        cur, power = oxide_power(np.exp(u), temp, p)
    bad = ~(np.abs(np.log(np.maximum(power, 1e-300) / target)) < 1e-9)
    if np.any(bad):
        t, tg = temp[bad], target[bad]
        lo, hi = np.full(t.size, -10.0), np.full(t.size, 4.0)
        for _ in range(BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            _, pw = oxide_power(10.0 ** mid, t, p)
            high = pw > tg
            hi = np.where(high, mid, hi)
            lo = np.where(high, lo, mid)
        u[bad] = np.log(10.0) * 0.5 * (lo + hi)
        cur = np.array(cur, float)
        cur[bad] = oxide_power(np.exp(u[bad]), t, p)[0]
    return np.exp(u), cur


def temperature_grid(p: Mapping[str, float], u_max: float, n: int) -> np.ndarray:
    """Temperatures above ambient: geometric from 1 mK to ``u_max`` (K above ``t_amb``) plus
    a dense band across the transition (t_c +- 12 w_c) where the metallic channel opens."""
    t0 = p["t_amb"]
    u = np.geomspace(1e-3, u_max, n)
    if p["mix"] > 0:
        lo, hi = p["t_c"] - 12 * p["w_c"] - t0, p["t_c"] + 12 * p["w_c"] - t0
        lo, hi = max(lo, 1e-3), min(hi, u_max)
        if hi > lo:
            u = np.union1d(u, np.linspace(lo, hi, n // 2))
    return t0 + u


def static_curve(params: Mapping[str, float] | None = None, v_max: float | None = None, *,
                 t_max: float | None = None, n: int = 1200,
                 include_env: bool = True, guess: StaticCurve | None = None) -> StaticCurve:
    """The steady-state (S-shaped) I-V traced by the device temperature (see the module
    docstring), as a :class:`StaticCurve` (temp, v, i) ordered by temperature.

    How far up: to ``t_max`` (K) when given; else far enough to pass ``v_max`` (V) on the
    last branch (the temperature span grown until it does, up to 1e5 K); else
    ``t_amb + 1500`` K. ``include_env``: the thermal resistance is r_th + r_env, else r_th.
    ``guess``: the curve of a nearby card, to start the solver (:func:`voltage_for_power`;
    a fit passes its previous curve)."""
    p = DEVICE.params(params)
    r_tot = p["r_th"] + (p["r_env"] if include_env else 0.0)
    if t_max is not None:
        if not t_max > p["t_amb"]:
            raise ValueError(f"t_max ({t_max} K) must be above t_amb ({p['t_amb']} K)")
        temp = temperature_grid(p, t_max - p["t_amb"], n)
        v, cur = _solve(temp, (temp - p["t_amb"]) / r_tot, p, guess)
    elif v_max is None:
        temp = temperature_grid(p, T_SPAN, n)
        v, cur = _solve(temp, (temp - p["t_amb"]) / r_tot, p, guess)
    else:
        g_hi = p["mix"] * p["g_met"] + p["g_ref"]
        u_max = max(2.0 * r_tot * v_max ** 2 * g_hi / (1 + g_hi * p["r_c"]) ** 2,
                    2.0 * (p["t_c"] - p["t_amb"]) + 24 * p["w_c"], 1.0)
        for _ in range(8):
            temp = temperature_grid(p, u_max, n)
            v, cur = _solve(temp, (temp - p["t_amb"]) / r_tot, p, guess)
            if v[-1] > v_max or u_max > 1e5:
                break
            u_max *= 4.0
    return StaticCurve(temp, v, np.asarray(cur, float))


def _interp_path(vq, v, i, k):
    """Linear interpolation of the current between path points k-1 and k."""
    k = np.clip(k, 1, v.size - 1)
    v0, v1 = v[k - 1], v[k]
    frac = np.clip((vq - v0) / np.where(v1 > v0, v1 - v0, 1.0), 0.0, 1.0)
    return i[k - 1] + frac * (i[k] - i[k - 1])


def sweep_currents(params: Mapping[str, float] | None, v_up=None, v_down=None, *,
                   v_max: float | None = None, curve: StaticCurve | None = None,
                   include_env: bool = True):
    """Currents of a slow dual sweep 0 -> v_max -> 0 under voltage control, at the up-sweep
    voltages ``v_up`` and the down-sweep voltages ``v_down`` (either may be None).
    ``v_max`` (default: the largest voltage given) is the turning point; ``curve``: the
    :func:`static_curve` of ``params`` when already traced. Returns (i_up, i_down), None for
    a branch not asked for."""
    vs = [np.asarray(a, float) for a in (v_up, v_down) if a is not None]
    if v_max is None:
        v_max = max(float(np.max(a)) for a in vs)
    temp, v, i = curve if curve is not None else static_curve(params, v_max,
                                                              include_env=include_env)
    run_max = np.maximum.accumulate(v)
    i_up = i_down = None
    if v_up is not None:
        vq = np.asarray(v_up, float)
        k = np.searchsorted(run_max, vq, side="left")
        i_up = _interp_path(vq, v, i, k)
    if v_down is not None:
        k_top = int(min(np.searchsorted(run_max, v_max, side="left"), v.size - 1))
        rv, ri = v[k_top::-1], i[k_top::-1]          # from the top state, cooling
        run_min = np.minimum.accumulate(rv)
        vq = np.asarray(v_down, float)
        j = np.clip(np.searchsorted(-run_min, -vq, side="left"), 1, rv.size - 1)
        r0, r1 = rv[j - 1], rv[j]
        frac = np.clip((r0 - vq) / np.where(r0 > r1, r0 - r1, 1.0), 0.0, 1.0)
        i_down = ri[j - 1] + frac * (ri[j] - ri[j - 1])
    return i_up, i_down


def sweep_folds(params: Mapping[str, float] | None, v_max: float, *,
                curve: StaticCurve | None = None, include_env: bool = True) -> dict:
    """The folds where a slow dual sweep to ``v_max`` jumps: ``up`` (the threshold, where
    the up path jumps with the largest current ratio) and ``down`` (the hold, likewise on the
    way down), each with the ratio of the currents after and before the jump (``up_ratio``,
    ``down_ratio``); None where the path does not jump (no NDR below v_max)."""
    temp, v, i = curve if curve is not None else static_curve(params, v_max,
                                                              include_env=include_env)
    out = {"up": None, "down": None, "up_ratio": 1.0, "down_ratio": 1.0}
    run_max = np.maximum.accumulate(v)
    k_top = int(min(np.searchsorted(run_max, v_max, side="left"), v.size - 1))
    # up: local maxima of v(T) that are running maxima, below v_max (all at once)
    k = np.arange(1, max(k_top, 1))
    k = k[(v[k] >= v[k - 1]) & (v[k + 1] < v[k]) & (v[k] == run_max[k]) & (v[k] < v_max)]
    if k.size:
        j = np.minimum(np.searchsorted(run_max, v[k] * (1 + 1e-12), side="left"), v.size - 1)
        ratio = np.abs(i[j]) / np.maximum(np.abs(i[k]), 1e-300)
        m = int(np.argmax(ratio))             # the first of the largest, as a loop would
        if ratio[m] > 1.0:
            out["up"], out["up_ratio"] = float(v[k[m]]), float(ratio[m])
    rv, ri = v[k_top::-1], i[k_top::-1]
    run_min = np.minimum.accumulate(rv)
    k = np.arange(1, max(rv.size - 1, 1))
    k = k[(rv[k] <= rv[k - 1]) & (rv[k + 1] > rv[k]) & (rv[k] == run_min[k])]
    if k.size:
        j = np.minimum(np.searchsorted(-run_min, -rv[k] * (1 - 1e-12), side="left"),
                       rv.size - 1)
        ratio = np.abs(ri[k]) / np.maximum(np.abs(ri[j]), 1e-300)
        m = int(np.argmax(ratio))
        if ratio[m] > 1.0:
            out["down"], out["down_ratio"] = float(rv[k[m]]), float(ratio[m])
    return out


def threshold_hold(params: Mapping[str, float] | None = None, *, include_env: bool = True,
                   t_max: float | None = None) -> tuple[float, float]:
    """(V_th, V_h): the first local maximum of the static v(T) (the threshold, where the
    insulating branch folds over) and the following minimum (the hold voltage), on the
    :func:`static_curve` up to ``t_max`` (default t_amb + 1500 K). Raises ValueError when the
    I-V has no NDR (monotonic v(T))."""
    _, v, _ = static_curve(params, t_max=t_max, include_env=include_env, n=2000)
    dv = np.diff(v)
    falling = np.flatnonzero(dv < 0)
    if not len(falling):
        raise ValueError("the quasi-static I-V has no negative differential resistance")
    k_th = falling[0]
    rising = np.flatnonzero(dv[k_th:] > 0)
    k_h = k_th + (rising[0] if len(rising) else len(dv))
    return float(v[k_th]), float(v[k_h])
