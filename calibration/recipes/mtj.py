"""The MTJ recipe: ``mtj-rv``.

- ``mtj-rv`` (:func:`fit_mtj_rv`): I-V (hence R(V)) sweeps of a static MTJ in its parallel and
  antiparallel states; ``rp`` from the P state, ``tmr0`` and ``vh`` from the AP state's R(V)
  (TMR(V) = tmr0 / (1 + V^2/vh^2)). Each sweep's state is taken from its low-bias resistance
  (the higher is AP) unless given. Relative residuals (current is proportional to bias).
  ``verify`` re-simulates the card in ngspice and VACASK (Verilog-A through OSDI) against the
  measured data: it passes when the card is as close to the data as the fit was.
- ``neurospice fit mtj FILES... --ensemble``: the P and AP sweeps of several devices (the
  k-th P sweep with the k-th AP sweep), rp, tmr0 and vh per device in one
  :func:`~..ensemble.fit_ensemble` call: their mean, spread and correlation, of R_P, R_AP
  and TMR too, and a variability card (rp lognormal) for ``draw_params``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.devices import get_device
from neurospice.errors import CalibrationError

from ..fit import Dataset, Fit, FitResult, Model
from .base import (Calibration, CardCheck, EnsembleRecipe, Option, Recipe, Verification,
                   as_list, collect_warnings, engine_kwargs, low_bias_resistance, verify_card)

__all__ = ["mtj_model", "fit_mtj_rv", "verify_mtj", "load_sweeps", "plot_rv_loop",
           "device_pair_model", "device_pairs", "MTJ_RV", "REGISTERED"]


def mtj_model() -> Model:
    """MTJ DC current I(V) (A) from the device's numpy rendering, state held at ``m0``."""
    dev = get_device("mtj")

    def func(v, p):
        return dev.numpy.dc_current({"p": v}, p)["p,n"]

    return Model.from_device(dev, func, name="mtj I(V)", x_label="voltage (V)",
                             y_label="current (A)",
                             description="DC current of the static MTJ at state m0")


def fit_mtj_rv(sweeps, *, states: Sequence[float] | None = None,
               free: Sequence[str] = ("rp", "tmr0", "vh"), fixed: Mapping | None = None,
               weighting: str | None = None, global_stage: str | None = "auto", seed: int = 0,
               conf_int: str = "stderr", verify: bool = False,
               simulators: Sequence[str] = ("ngspice", "vacask"),
               progress=False) -> Calibration:
    """Fit ``rp``, ``tmr0``, ``vh`` to MTJ I-V sweeps (:class:`IVSweep` s). ``states``: the
    m0 of each sweep (+1 parallel, -1 antiparallel); by default the sweep(s) with the higher
    low-bias resistance are AP. ``fixed``: other card values (held). Where every sweep
    carries its current's errors (an error column, ``current_err_a``) they are the
    points' sigma and ``weighting`` defaults to ``"absolute"`` (the errors are the
    weights); else to ``"relative"`` (current proportional to bias)."""
    sweeps = as_list(sweeps)
    errors = [getattr(s, "current_err_a", None) for s in sweeps]
    own = all(e is not None for e in errors)
    notes = []
    if own and weighting not in (None, "absolute"):
        raise CalibrationError(f"weighting={weighting!r} with the sweeps' own current errors: "
                               "they are absolute (A); leave weighting to its default")
    if any(e is not None for e in errors) and not own:
        notes.append("current errors: not every sweep carries them; none used (weights "
                     "from the residuals' noise)")
        errors = [None] * len(sweeps)
    elif own:
        notes.append("each point weighted by the data's own current errors (columns "
                     + ", ".join(repr(s.columns.get("current_err_a")) for s in sweeps) + ")")
    weighting = weighting or ("absolute" if own else "relative")
    model = mtj_model()
    rs = [low_bias_resistance(s.voltage_v, s.current_a) for s in sweeps]
    if states is None:
        if len(sweeps) == 1:
            raise CalibrationError("one sweep: the fit needs a P and an AP sweep (a file "
                                   "each, or one file with a column naming the state or "
                                   "sweep: --group-by COLUMN), or from Python states=[1] or "
                                   "[-1] for a single sweep")
        split = math.sqrt(min(rs) * max(rs))
        states = [-1.0 if r > split else 1.0 for r in rs]
        if min(rs) == max(rs):
            raise CalibrationError("all sweeps have the same resistance: give states=")
    if len(states) != len(sweeps):
        raise CalibrationError(f"{len(states)} states for {len(sweeps)} sweeps")
    datasets = []
    for k, (s, m0, e) in enumerate(zip(sweeps, states, errors)):
        name = f"{'P' if m0 > 0 else 'AP'} sweep {k + 1}"
        datasets.append(Dataset(np.asarray(s.voltage_v, float), s.current_a, name=name,
                                sigma=e, fixed={"m0": float(m0)}))
    rp = [r for r, m in zip(rs, states) if m > 0]
    rap = [r for r, m in zip(rs, states) if m < 0]
    start = {**(fixed or {})}
    if rp:
        start.setdefault("rp", float(np.median(rp)))
    if rp and rap:
        start.setdefault("tmr0", max(float(np.median(rap)) / start["rp"] - 1, 1e-3))
    elif rap:
        start.setdefault("tmr0", model.params["tmr0"].value)
        start.setdefault("rp", float(np.median(rap)) / (1 + start["tmr0"]))
    fit = Fit(model, datasets, free=[n for n in free if n not in (fixed or {})],
              values=start, weighting=weighting, global_stage=global_stage, seed=seed,
              conf_int=conf_int, progress=progress)
    res = fit.run()
    card = {k: v for k, v in res.values.items()}
    card["m0"] = get_device("mtj").defaults()["m0"]
    cal = Calibration("mtj-rv", "mtj", card, {n: res.stderr.get(n) for n in res.free},
                      {"R(V)": res}, warnings=collect_warnings({"R(V)": res}), notes=notes)
    cal.notes.append("m0 on the card is the default state; each sweep was fitted at its own "
                     "state (" + ", ".join(d.name for d in datasets) + ")")
    if verify:
        cal.verification = verify_mtj(res, card=card, simulators=simulators)
    return cal


def verify_mtj(result: FitResult, *, card: Mapping[str, float] | None = None,
               simulators: Sequence[str] = ("ngspice", "vacask"), points: int = 1001,
               margin: float = 0.05, resolution: float = 1e-4) -> list[Verification]:
    """Re-simulate an MTJ card against the measured data (:func:`verify_card`): for each
    data set of ``result`` a DC sweep over its voltage range in ngspice and VACASK (the
    Verilog-A card through OSDI, the data set's state m0 as an instance parameter; the
    behavioral subcircuit is not used: in an ngspice DC sweep it lets the AP state switch
    above the critical current instead of holding it), read at the data's voltages
    (``points`` on the sweep) and compared with the measured currents. A row passes when the
    simulated card is as close to the data as the fit's numpy curve was: RMS residual at most
    (1 + ``margin``) times the fit's, plus ``resolution`` of the data range (the simulators'
    and the interpolation's own differences). ``card``: the card checked (default the fit's
    values; a card that does not hold the fit fails). Each row's note gives R^2 of the
    simulated card and of the fit on the data."""
    dev = get_device("mtj")
    card = dict(card) if card is not None else dict(result.values)
    params = {n: v for n, v in card.items() if n in dev.parameter}
    fitted = []
    for k, ds in enumerate(result.datasets):
        y = np.asarray(ds.y, float)
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        span = float(np.ptp(y)) or float(np.max(np.abs(y)))
        fit_rms = float(np.sqrt(np.mean((result.curve(k) - y) ** 2)))
        fitted.append((ss_tot, span, fit_rms))

    def circuit_of(device, card):
        from neurospice.netlists import Circuit

        checks = []
        for ds, (ss_tot, span, fit_rms) in zip(result.datasets, fitted):
            v = np.asarray(ds.x, float)
            lo, hi = float(v.min()), float(v.max())
            step = (hi - lo) / (points - 1)
            state = {**card, **{n: x for n, x in ds.fixed.items() if n in dev.parameter}}
            c = Circuit(f"verify {ds.name}")
            c.vsource("in", "a", 0, 0.0)
            device.add_to(c, "1", ["a", 0, 0], params=state, rendering="osdi")
            c.dc("vin", lo, hi + step / 2, step)

            def simulated(res, v=v):
                dc = res.dc
                return np.interp(v, dc.axis, -np.asarray(dc["i(vin)"]))

            r2_fit = 1 - len(v) * fit_rms ** 2 / ss_tot if ss_tot > 0 else math.nan
            limit = (1 + margin) * fit_rms / span + resolution
            checks.append(CardCheck(
                ds.name, c, np.asarray(ds.y, float), simulated, span,
                f"{points}-point DC sweep against the measured data; passes at RMS under "
                f"{limit:.3g} of the range ((1 + {margin:g}) x the fit's {fit_rms / span:.3g}"
                f" + {resolution:g}); R^2 of the fit {r2_fit:.6f}", limit=limit))
        return checks

    rows = verify_card(dev, params, circuit_of, simulators)
    n_of = {ds.name: (len(ds.y), ss_tot, span)
            for ds, (ss_tot, span, _) in zip(result.datasets, fitted)}
    for row in rows:
        if row.rms_rel is not None:
            n, ss_tot, span = n_of[row.dataset]
            r2 = 1 - n * (row.rms_rel * span) ** 2 / ss_tot if ss_tot > 0 else math.nan
            row.note = f"R^2 of the card {r2:.6f}; " + row.note
    return rows


def load_sweeps(path, **options) -> list:
    """I-V sweeps from one file, the layout read off its header: stacked sweeps told apart
    by a sweep (or cycle) column, side-by-side curves (several voltage columns), or one.
    ``options``: :func:`~..data.load_iv`'s (a ``split`` or ``group_by`` given wins)."""
    from ..data import layout_split, load_iv

    if "split" not in options and "group_by" not in options and "columns" not in options:
        split = layout_split(path, **options)
        if split is not None:
            options["split"] = split
    return as_list(load_iv(path, **options))


def _cli_kwargs(args) -> dict:
    return {**engine_kwargs(args), "verify": not args.no_verify}


NO_VERIFY = Option(("--no-verify",), {"action": "store_true",
                                      "help": "skip re-simulating the card in the simulators"})

def plot_rv_loop(cal, folder) -> list:
    """The data-and-fit plot of the R(V) fit and the R(V) loop of both states."""
    from pathlib import Path

    from neurospice.analysis import plots

    from ..report import fit_plots

    fit = cal.fits["R(V)"]
    out = fit_plots(cal, folder)
    curves = []
    for k, ds in enumerate(fit.datasets):
        v = np.asarray(ds.x, float)
        ok = np.abs(v) > 1e-3 * np.max(np.abs(v))
        curves.append({"x": v[ok], "y": v[ok] / ds.y[ok], "fit_x": v[ok],
                       "fit_y": v[ok] / fit.curve(k)[ok], "label": ds.name})
    out.append(plots.hysteresis_loop(curves, Path(folder) / "loop_rv.png",
                                     title="R(V) of both states: data and fit"))
    return out


# --------------------------------------------------------------------------- --ensemble
def device_pair_model() -> Model:
    """One device's P and AP sweeps as one curve for an ensemble fit: ``x`` the voltages of
    the P sweep followed by the AP sweep's, meta ``n_p`` the P sweep's length (the state is
    +1 on the first ``n_p`` points, -1 after); the current from the device's numpy rendering
    (a card's values are numbers: the ensemble fit evaluates it curve by curve)."""
    dev = get_device("mtj")

    def func(x, p, n_p):
        x = np.asarray(x, float)
        i_p, i_ap = (dev.numpy.dc_current({"p": x}, {**p, "m0": m0})["p,n"]
                     for m0 in (1.0, -1.0))
        return np.where(np.arange(x.shape[-1]) < np.asarray(n_p), i_p, i_ap)

    return Model.from_device(dev, func, name="mtj I(V), P then AP", x_label="voltage (V)",
                             y_label="current (A)",
                             description="one device's P sweep followed by its AP sweep")


def device_pairs(sweeps) -> list:
    """The loaded sweeps as one :class:`~..fit.Dataset` per device (:func:`device_pair_model`):
    each sweep's state from its low-bias resistance (above the geometric mean of the lowest
    and the highest: AP), the k-th P sweep paired with the k-th AP sweep in the order given
    (files, then curves in a file); CalibrationError when the counts differ."""
    sweeps = as_list(sweeps)
    rs = [low_bias_resistance(s.voltage_v, s.current_a) for s in sweeps]
    if not sweeps or min(rs) == max(rs):
        raise CalibrationError("--ensemble: the sweeps do not show two states (P and AP) by "
                               "their low-bias resistance")
    split = math.sqrt(min(rs) * max(rs))
    ps = [s for s, r in zip(sweeps, rs) if r <= split]
    aps = [s for s, r in zip(sweeps, rs) if r > split]
    if len(ps) != len(aps):
        raise CalibrationError(f"--ensemble pairs each P sweep with an AP sweep in the order "
                               f"given: {len(ps)} P and {len(aps)} AP sweeps")
    out = []
    for k, (a, b) in enumerate(zip(ps, aps)):
        x = np.r_[np.asarray(a.voltage_v, float), np.asarray(b.voltage_v, float)]
        y = np.r_[np.asarray(a.current_a, float), np.asarray(b.current_a, float)]
        src = getattr(a, "source", None)
        name = f"device {k + 1}" + (f" ({Path(str(src)).name})" if src else "")
        out.append(Dataset(x, y, name=name, meta={"n_p": len(a.voltage_v)}))
    return out


def _pair_start(datasets, warnings: list[str]) -> dict:
    r = np.array([[low_bias_resistance(d.x[:n], d.y[:n]),
                   low_bias_resistance(d.x[n:], d.y[n:])]
                  for d in datasets for n in [d.meta["n_p"]]])
    rp = float(np.median(r[:, 0]))
    return {"rp": rp, "tmr0": max(float(np.median(r[:, 1])) / rp - 1, 1e-3), "vh": 0.4}


def _pair_bounds(datasets) -> dict:
    r = [low_bias_resistance(d.x[:d.meta["n_p"]], d.y[:d.meta["n_p"]]) for d in datasets]
    return {"rp": (0.2 * min(r), 5 * max(r))}


def _pair_figures(v) -> dict:
    rp, tmr0 = np.asarray(v["rp"], float), np.asarray(v["tmr0"], float)
    return {"r_p": rp, "r_ap": rp * (1 + tmr0), "tmr_percent": 100 * tmr0}


def _pair_card(v) -> dict:
    return {"rp": v["rp"], "tmr0": v["tmr0"], "vh": v["vh"]}


MTJ_RV = Recipe(
    "mtj-rv", "mtj", "static MTJ: rp, tmr0, vh from P and AP I-V (R(V)) sweeps",
    run=fit_mtj_rv, load=load_sweeps, free=("rp", "tmr0", "vh"), model=mtj_model,
    options=(NO_VERIFY,), cli_kwargs=_cli_kwargs, default=True,
    plots=plot_rv_loop,
    verify=lambda cal, simulators: verify_mtj(cal.fits["R(V)"], card=cal.params,
                                              simulators=simulators),
    ensemble=EnsembleRecipe(device_pair_model, device_pairs, per_curve=("rp", "tmr0", "vh"),
                            start=_pair_start, bounds=_pair_bounds, weighting="relative",
                            figures=_pair_figures, card=_pair_card, lognormal=("rp",)))

REGISTERED = (MTJ_RV,)
