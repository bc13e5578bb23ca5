"""The spin-torque nano-oscillator recipe: ``stno``.

- ``stno`` (:func:`fit_stno`): oscillator curves f(I) and P(I); ``i_th``, ``q``, ``f0`` and
  ``n_shift`` through :func:`stationary_frequency` and :func:`stationary_power`, with the
  emitted power P = p_gain (I dr)^2 p(I) (``p_gain`` in W/V^2, the output coupling: not on
  the card; ``dr`` held, since only p_gain dr^2 is determined).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.devices import get_device
from neurospice.errors import DataError

from ..fit import Dataset, Fit, FitResult, Model, Param
from .base import Calibration, Recipe, as_list, collect_warnings, engine_kwargs, linear_start

__all__ = ["stno_model", "fit_stno", "load_curves", "STNO", "REGISTERED"]

def stno_model() -> Model:
    """Oscillator frequency (Hz) or emitted power (W) against bias current (A): meta
    ``quantity`` = "freq" or "power"."""
    from neurospice.compact_models.stno import stationary_frequency, stationary_power

    dev = get_device("stno")

    def func(i, p, quantity="freq"):
        card = {k: p[k] for k in dev.parameter}
        if quantity == "freq":
            return stationary_frequency(i, card)
        i = np.asarray(i, float)
        return p["p_gain"] * (i * p["dr"]) ** 2 * stationary_power(i, card)

    extra = [Param("p_gain", 1e-2, 0.0, 1e3, "W/V^2",
                   "emitted power per squared RF voltage amplitude (output coupling)")]
    return Model.from_device(dev, func, extra=extra, name="stno f(I), P(I)",
                             x_label="current (A)", y_label="frequency (Hz) / power (W)")


def fit_stno(curves, *, free: Sequence[str] = ("f0", "n_shift", "i_th", "q", "p_gain"),
             fixed: Mapping | None = None, global_stage: str | None = "de", seed: int = 0,
             conf_int: str = "stderr", progress=False) -> Calibration:
    """Fit threshold, nonlinear damping Q, frequency and frequency shift to oscillator
    curves (:class:`OscillatorCurve`: current, frequency, power). Frequencies are fitted
    where the oscillator runs (power above 5 % of its largest value when power is given)."""
    curves = as_list(curves)
    datasets = []
    for k, c in enumerate(curves):
        i = np.asarray(c.current_a, float)
        on = np.ones(len(i), bool)
        if c.power_w is not None:
            on = c.power_w > 0.05 * np.max(c.power_w)
            datasets.append(Dataset(i, c.power_w, name=f"P(I) {k + 1}",
                                    meta={"quantity": "power"}))
        if on.sum() >= 3:
            datasets.append(Dataset(i[on], c.freq_hz[on], name=f"f(I) {k + 1}",
                                    meta={"quantity": "freq"}))
    if not any(d.meta["quantity"] == "freq" for d in datasets):
        raise DataError("fewer than 3 points where the oscillator runs: no f(I) to fit")
    model = stno_model()
    dev = get_device("stno")
    start = {**(fixed or {})}
    fdat = next(d for d in datasets if d.meta["quantity"] == "freq")
    pdat = next((d for d in datasets if d.meta["quantity"] == "power"), None)
    ion = np.asarray(fdat.x)
    i_th = float(ion.min()) * 0.9 if pdat is None else float(ion.min()) * 0.95
    start.setdefault("i_th", i_th)
    q = start.setdefault("q", dev.defaults()["q"])
    pw = lambda i: max((i / i_th - 1) / (i / i_th + q), 1e-3)  # noqa: E731
    slope, icpt = linear_start([pw(i) for i in ion], fdat.y)
    start.setdefault("f0", icpt)
    start.setdefault("n_shift", slope)
    if pdat is not None:
        imax = float(np.max(pdat.x))
        start.setdefault("p_gain", float(np.max(pdat.y)) /
                         ((imax * dev.defaults()["dr"]) ** 2 * pw(imax)))
    free = [n for n in free if n not in (fixed or {}) and (pdat is not None or n != "p_gain")]
    imax = max(float(np.max(d.x)) for d in datasets)
    fit = Fit(model, datasets, free=free, values=start, global_stage=global_stage,
              seed=seed, conf_int=conf_int, progress=progress,
              search={"i_th": (0.2 * i_th, min(imax, 3 * i_th)), "q": (0.0, 20.0)})
    res = fit.run()
    card = {k: v for k, v in res.values.items() if k in dev.parameter}
    cal = Calibration("stno", "stno", card, {n: res.stderr.get(n) for n in res.free},
                      {"f(I), P(I)": res}, warnings=collect_warnings({"f(I), P(I)": res}))
    if pdat is not None:
        cal.derived["p_gain"] = {"value": res.values["p_gain"],
                                 "stderr": res.stderr.get("p_gain"), "unit": "W/V^2",
                                 "description": "output coupling (not on the card)"}
    cal.notes.append("dr held at its value: the power determines p_gain dr^2 only")
    return cal


def load_curves(path, **options) -> list:
    """Oscillator curves f(I), P(I) from one file (:func:`~..data.load_oscillator`,
    ``options`` its keyword arguments; stacked curves are split where the current axis
    starts again unless ``split`` says otherwise)."""
    from ..data import load_oscillator

    return as_list(load_oscillator(path, **{"split": "auto", **options}))


STNO = Recipe("stno", "stno", "STNO: f0, n_shift, i_th, q from f(I) and P(I)",
              run=fit_stno, load=load_curves, free=("f0", "n_shift", "i_th", "q", "p_gain"),
              model=stno_model, cli_kwargs=engine_kwargs, default=True)

REGISTERED = (STNO,)
