"""The spin-torque nano-oscillator recipe: ``stno``.

- ``stno`` (:func:`fit_stno`): oscillator curves f(I) and P(I); ``i_th``, ``q``, ``f0`` and
  ``n_shift`` through :func:`stationary_frequency` and :func:`stationary_power`, with the
  emitted power P = p_gain (I dr)^2 p(I) (``p_gain`` in W/V^2, the output coupling: not on
  the card; ``dr`` held, since only p_gain dr^2 is determined).

The data are f(I), P(I) tables, or spectrum-analyser traces (a PSD trace per bias current:
stacked, side by side, or one file per current; :mod:`~neurospice.calibration.spectra`),
whose lines give f, P and the linewidth with a standard error per point.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.devices import get_device
from neurospice.errors import CalibrationError, DataError

from ..fit import Dataset, Fit, Model, Param, white_noise
from ..spectra import LineCurve, Trace, find_traces, oscillator_curves
from .base import (Calibration, CardCheck, Option, Recipe, Verification, as_list,
                   collect_warnings, engine_kwargs, linear_start, verify_card)

__all__ = ["stno_model", "fit_stno", "running", "subthreshold_linewidth", "verify_stno", "load_curves", "STNO", "REGISTERED"]

def subthreshold_linewidth(current_a, params) -> np.ndarray:
    """Full width at half maximum (Hz) of the thermally excited line below threshold:
    gamma_g (1 - I/i_th) / pi (the small-amplitude decay rate of the amplitude, gamma_g -
    sigma I, is the half width in rad/s); zero at and above the threshold, where the line
    width is set by the noise and the nonlinear frequency shift (not fitted here)."""
    i = np.asarray(current_a, float)
    return np.clip(params["gamma_g"] * (1.0 - i / params["i_th"]), 0.0, None) / math.pi


def stno_model() -> Model:
    """Oscillator frequency (Hz), emitted power (W) or sub-threshold linewidth (FWHM, Hz)
    against bias current (A): meta ``quantity`` = "freq", "power" or "linewidth"."""
    from neurospice.compact_models.stno import stationary_frequency, stationary_power

    dev = get_device("stno")

    def func(i, p, quantity="freq"):
        card = {k: p[k] for k in dev.parameter}
        if quantity == "freq":
            return stationary_frequency(i, card)
        if quantity == "linewidth":
            return subthreshold_linewidth(i, card)
        i = np.asarray(i, float)
        return p["p_gain"] * (i * p["dr"]) ** 2 * stationary_power(i, card)

    extra = [Param("p_gain", 1e-2, 0.0, 1e3, "W/V^2",
                   "emitted power per squared RF voltage amplitude (output coupling)")]
    return Model.from_device(dev, func, extra=extra, name="stno f(I), P(I)",
                             x_label="current (A)", y_label="frequency (Hz) / power (W)")


def running(current_a, power_w, noise_sigmas: float = 3.0) -> np.ndarray:
    """Where the oscillator runs: power above ``noise_sigmas`` times its white noise
    (:func:`~..fit.white_noise`, estimated from the curve alone) and above the median power
    of the lowest-current tenth of the points (the detector's floor). Near-threshold points
    with a small but measurable power are kept: the frequency's slope lives there."""
    i, p = np.asarray(current_a, float), np.asarray(power_w, float)
    order = np.argsort(i)
    noise = white_noise(i[order], p[order])
    low = p[order][:max(3, len(p) // 10)]
    floor = float(np.median(low)) if len(low) else 0.0
    noise = noise if math.isfinite(noise) and noise > 0 else 0.0
    return p > floor + noise_sigmas * noise


def fit_stno(curves, *, free: Sequence[str] = ("f0", "n_shift", "i_th", "q", "p_gain"),
             fixed: Mapping | None = None, global_stage: str | None = "de", seed: int = 0,
             conf_int: str = "stderr", progress=False, verify: bool = False,
             simulators: Sequence[str] = ("ngspice", "vacask"),
             rbw: float | None = None) -> Calibration:
    """Fit threshold, nonlinear damping Q, frequency and frequency shift to oscillator
    curves (:class:`OscillatorCurve`: current, frequency, power, linewidth) or spectrum
    traces (:class:`~neurospice.calibration.spectra.Trace`, one per bias current; ``rbw``:
    their resolution bandwidth in Hz, see :func:`~neurospice.calibration.spectra.find_line`).
    Frequencies are fitted where the oscillator runs (:func:`running`: power above its
    noise, so the near-threshold points stay in; all finite frequencies when no power is
    given; for traces, where a line stands above the noise floor); the points left out are
    listed in a note. A row without a frequency keeps its power reading, and the reverse.
    A linewidth column adds the sub-threshold linewidth (:func:`subthreshold_linewidth`,
    points where the oscillator does not yet run) and frees ``gamma_g``. Traces give every
    point a standard error (the line fits'): the fit is weighted by them, and the traces
    without a line (below threshold) enter P(I) as 0 +- their noise; lines found below the
    fitted threshold (thermally excited) leave P(I) and, three or more, give the
    sub-threshold linewidth (``gamma_g``), and the fit is repeated. ``verify``: the card's
    f(I) re-simulated in ``simulators`` (:func:`verify_stno`)."""
    curves = as_list(curves)
    datasets, notes = [], []
    free = list(free)
    traces = [c for c in curves if isinstance(c, Trace)]
    reweigh: list = []
    if traces:
        made = oscillator_curves(traces, rbw=rbw)
        if len(made) > 1:
            raise CalibrationError(
                f"traces at {len(made)} settings of "
                f"{', '.join(sorted({k for c in made for k in c.group}))} ("
                + "; ".join(", ".join(f"{k} {v:g}" for k, v in c.group.items())
                            for c in made[:4]) + (", ..." if len(made) > 4 else "")
                + "): one STNO card is one operating point; fit each setting's traces in "
                "a call of its own (a file per setting)")
        curves = [c for c in curves if not isinstance(c, Trace)] + made
    elif rbw is not None:
        notes.append(f"rbw={rbw:g} Hz not used: the data are f(I), P(I) tables, not spectrum "
                     "traces")
    for k, c in enumerate(curves):
        i = np.asarray(c.current_a, float)
        f = np.asarray(c.freq_hz, float)
        if np.all(i[np.isfinite(i)] <= 0) and np.any(i < 0):
            i = -i                      # the bias of the other polarity drives it the same
            notes.append(f"curve {k + 1}: every bias current is negative (the other "
                         "polarity): fitted against |I|")
        if isinstance(c, LineCurve):
            notes += c.notes
            datasets += _line_datasets(k, i, c, notes, reweigh)
            continue
        err = {q: _own_errors(c, q, k, notes) for q in ("freq", "power", "linewidth")}
        on = np.isfinite(f)
        if c.power_w is not None:
            p = np.asarray(c.power_w, float)
            has_p = np.isfinite(p)
            run = np.zeros(i.size, bool)
            run[has_p] = running(i[has_p], p[has_p])
            on &= run | ~has_p
            datasets.append(Dataset(i[has_p], p[has_p], name=f"P(I) {k + 1}",
                                    sigma=_at(err["power"], has_p), meta={"quantity": "power"}))
            off = np.isfinite(f) & has_p & ~run
            if off.any():
                notes.append(f"f(I) {k + 1}: {int(off.sum())} point(s) at I <= "
                             f"{float(i[off].max()):.4g} A left out of the frequency fit: "
                             "power within 3 noise levels of the detector floor (the "
                             "oscillator does not run there)")
            for what, n in (("power", int((~has_p).sum())), ("frequency",
                                                             int((has_p & ~np.isfinite(f))
                                                                 .sum()))):
                if n:
                    notes.append(f"curve {k + 1}: {n} point(s) without a {what} reading: "
                                 f"in {'f(I)' if what == 'power' else 'P(I)'} only")
        if on.sum() >= 3:
            datasets.append(Dataset(i[on], f[on], name=f"f(I) {k + 1}",
                                    sigma=_at(err["freq"], on), meta={"quantity": "freq"}))
        lw = getattr(c, "linewidth_hz", None)
        if lw is not None:
            lw = np.asarray(lw, float)
            below = np.isfinite(lw) & (~on if c.power_w is not None else np.ones(len(i), bool))
            if c.power_w is None and on.any():
                below &= i < float(i[on].min())
            if below.sum() >= 3:
                datasets.append(Dataset(i[below], lw[below], name=f"linewidth(I) {k + 1}",
                                        sigma=_at(err["linewidth"], below),
                                        meta={"quantity": "linewidth"}))
                if "gamma_g" not in free:
                    free.append("gamma_g")
                notes.append(f"linewidth(I) {k + 1}: {int(below.sum())} sub-threshold "
                             "point(s) fitted as FWHM = gamma_g (1 - I/i_th) / pi; above the "
                             "threshold the linewidth is set by noise: not fitted")
    if not any(d.meta["quantity"] == "freq" for d in datasets):
        raise DataError("fewer than 3 points where the oscillator runs (a finite frequency "
                        "and, with a power column, power above its noise): no f(I) to fit",
                        path=str(curves[0].source) if curves else None)
    model = stno_model()
    dev = get_device("stno")
    start = {**(fixed or {})}
    fdat = next(d for d in datasets if d.meta["quantity"] == "freq")
    pdat = next((d for d in datasets if d.meta["quantity"] == "power"), None)
    ldat = next((d for d in datasets if d.meta["quantity"] == "linewidth"), None)
    ion = np.asarray(fdat.x)
    if pdat is not None:
        # the threshold from P ~ (I - i_th) near onset: the line through the running points
        # nearest the onset, extrapolated to zero power
        pi_, pp = np.asarray(pdat.x), np.asarray(pdat.y)
        near = np.sort(ion)[:max(3, len(ion) // 4)]
        sel = np.isin(pi_, near)
        a, b = linear_start(pi_[sel], pp[sel])
        i_th = -b / a if a > 0 and 0 < -b / a < float(ion.min()) else float(ion.min()) * 0.95
    else:
        i_th = float(ion.min()) * 0.9
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
    if ldat is not None:
        lslope, licpt = linear_start(ldat.x, ldat.y)
        start.setdefault("gamma_g", max(math.pi * licpt, 1e3))
    free = [n for n in free if n not in (fixed or {}) and (pdat is not None or n != "p_gain")]
    imax = max(float(np.max(d.x)) for d in datasets)
    search = {"i_th": (0.2 * i_th, min(imax, 3 * i_th)), "q": (0.0, 50.0)}
    if "gamma_g" in start:
        search["gamma_g"] = (start["gamma_g"] / 5, start["gamma_g"] * 5)
    fit = Fit(model, datasets, free=free, values=start, global_stage=global_stage,
              seed=seed, conf_int=conf_int, progress=progress, search=search)
    res = fit.run()
    if reweigh:
        res = _reweighed(model, datasets, reweigh, res, dict(free=free, seed=seed,
                                                             conf_int=conf_int,
                                                             progress=progress, search=search))
        notes.append("P(I) from traces: each line's relative power error applied to the "
                     "fitted P(I), and the fit repeated (weights from the readings would "
                     "favour the low ones)")
        changed, widths = _thermal_lines(datasets, reweigh, res.values["i_th"], notes)
        if changed:
            datasets += widths
            if widths and "gamma_g" not in free and "gamma_g" not in (fixed or {}):
                lslope, licpt = linear_start(widths[0].x, widths[0].y)
                free.append("gamma_g")
                res.values["gamma_g"] = max(math.pi * licpt, 1e3)
            res = _reweighed(model, datasets, reweigh, res, dict(
                free=free, seed=seed, conf_int=conf_int, progress=progress, search=search))
    card = {k: v for k, v in res.values.items() if k in dev.parameter}
    cal = Calibration("stno", "stno", card, {n: res.stderr.get(n) for n in res.free},
                      {"f(I), P(I)": res}, warnings=collect_warnings({"f(I), P(I)": res}),
                      notes=notes)
    lines = [ln.to_dict() for c in curves if isinstance(c, LineCurve) for ln in c.line_fits]
    if lines:
        cal.extra["lines"] = lines
    i_th, q, n_shift = res.values["i_th"], res.values["q"], res.values["n_shift"]
    cal.derived["dfdi_threshold"] = {
        "value": n_shift / (i_th * (1 + q)), "stderr": None, "unit": "Hz/A",
        "description": "frequency slope df/dI just above the threshold, "
                       "n_shift / (i_th (1 + q))"}
    if pdat is not None:
        cal.derived["p_gain"] = {"value": res.values["p_gain"],
                                 "stderr": res.stderr.get("p_gain"), "unit": "W/V^2",
                                 "description": "output coupling (not on the card)"}
    cal.notes.append("dr held at its value: the power determines p_gain dr^2 only")
    if verify:
        cal.verification = verify_stno(card, i_max=imax, span_hz=float(np.ptp(fdat.y)),
                                       simulators=simulators)
    return cal


_ERROR_FIELDS = {"freq": ("freq_err_hz", "f(I)"), "power": ("power_err_w", "P(I)"),
                 "linewidth": ("linewidth_err_hz", "linewidth(I)")}


def _own_errors(curve, quantity: str, k: int, notes: list) -> np.ndarray | None:
    """The errors of ``quantity`` that curve ``k``'s file gives per point (an error column,
    :data:`~..data.ERROR_WORDS`), with a note, or None."""
    attr, what = _ERROR_FIELDS[quantity]
    errors = getattr(curve, attr, None)
    if errors is None:
        return None
    notes.append(f"{what} {k + 1}: weighted by the data's own errors (column "
                 f"{curve.columns.get(attr, attr)!r})")
    return np.asarray(errors, float)


def _at(errors: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    return None if errors is None else errors[mask]


def _reweighed(model, datasets, reweigh, res, options):
    """The fit repeated from ``res`` with each line's relative power error applied to the
    fitted P(I): weighted by the measured powers, the low readings would count more
    (p_gain -0.55 standard errors on average over 20 draws)."""
    for d, rel, floor, _ in reweigh:
        ymod = np.abs(model.eval(d.x, res.values, quantity="power"))
        d.sigma = np.where(np.isfinite(rel), np.maximum(rel * ymod, floor), d.sigma)
    return Fit(model, datasets, values=res.values, global_stage=None, **options).run()


def _thermal_lines(datasets, reweigh, i_th, notes) -> tuple[bool, list[Dataset]]:
    """Lines found below the fitted threshold ``i_th`` (thermally excited: their power is
    not the oscillation's, zero there in the model) taken out of P(I) (``datasets`` and
    ``reweigh`` updated; their frequency stays in f(I), f0 there): (any taken out, the
    linewidth(I) data sets of the curves with 3 or more, weighted by their errors)."""
    changed, widths = False, []
    for j, (d, rel, floor, (k, i, c)) in enumerate(reweigh):
        early = np.isfinite(rel) & (d.x < i_th)
        if not early.any():
            continue
        changed = True
        new = Dataset(d.x[~early], d.y[~early], sigma=np.asarray(d.sigma)[~early],
                      name=d.name, meta=dict(d.meta))
        datasets[datasets.index(d)] = new
        reweigh[j] = (new, rel[~early], floor, (k, i, c))
        notes.append(f"{d.name}: {int(early.sum())} line(s) below the fitted threshold (I = "
                     + ", ".join(f"{x:.4g}" for x in d.x[early]) + " A), thermally excited: "
                     "left out of P(I) (the model's power is zero there); their frequency "
                     "stays in f(I) (f0 there)")
        sub = c.found & (i < i_th) & np.isfinite(c.linewidth_se) & (c.linewidth_se > 0)
        if sub.sum() >= 3:
            widths.append(Dataset(i[sub], c.linewidth_hz[sub], sigma=c.linewidth_se[sub],
                                  name=f"linewidth(I) {k + 1}", meta={"quantity": "linewidth"}))
            notes.append(f"linewidth(I) {k + 1}: the {int(sub.sum())} thermal line(s) fitted "
                         "as FWHM = gamma_g (1 - I/i_th) / pi")
    return changed, widths


def _line_datasets(k: int, i: np.ndarray, c: LineCurve, notes: list,
                   reweigh: list) -> list[Dataset]:
    """f(I) and P(I) of curve ``k`` read off traces, weighted by the line fits' standard
    errors: f where a line was found, P everywhere (0 +- the noise below threshold).
    ``reweigh`` receives (P(I) data set, relative error of each line's power (NaN below
    threshold), the smallest error below threshold)."""
    out = []
    ok = np.isfinite(c.power_se) & (c.power_se > 0)
    if (~ok).any():
        notes.append(f"P(I) {k + 1}: {int((~ok).sum())} trace(s) without a power standard "
                     "error (a trace without noise) left out of P(I)")
    found = c.found[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(found, c.power_se[ok] / c.power_w[ok], np.nan)
    floor = float(np.min(c.power_se[ok][~found])) if (~found).any() else \
        float(np.min(c.power_se[ok]))
    out.append(Dataset(i[ok], c.power_w[ok], sigma=c.power_se[ok], name=f"P(I) {k + 1}",
                       meta={"quantity": "power"}))
    reweigh.append((out[-1], rel, floor, (k, i, c)))
    on = c.found & np.isfinite(c.freq_se) & (c.freq_se > 0)
    if on.sum() >= 3:
        out.append(Dataset(i[on], c.freq_hz[on], sigma=c.freq_se[on], name=f"f(I) {k + 1}",
                           meta={"quantity": "freq"}))
    if c.found.any():
        notes.append(f"linewidth(I) {k + 1}: the FWHM of the {int(c.found.sum())} line(s) "
                     "listed in the report; above the threshold not fitted (the card's "
                     "linewidth law is the sub-threshold one)")
    return out


def verify_stno(card: Mapping[str, float], *, fitted: Mapping[str, float] | None = None,
                i_max: float | None = None, span_hz: float | None = None, points: int = 3,
                simulators: Sequence[str] = ("ngspice", "vacask"), settle_s: float = 40e-9,
                window_s: float = 20e-9, step_s: float | None = None,
                tolerance: float = 0.01) -> list[Verification]:
    """Re-simulate an STNO card (:func:`~.base.verify_card`, Verilog-A through OSDI):
    ``points`` oscillators, each under its own DC current from 2 i_th to ``i_max``
    (default 4 i_th; at least 2 i_th, where the oscillation settles within ``settle_s``),
    in one transient; each one's frequency (zero crossings over ``window_s``) is compared
    with :func:`stationary_frequency` of ``fitted`` (default ``card``). Only the frequency
    is checked: the emitted power needs the output coupling, which is not on the card.
    ``span_hz``: the data range the differences are relative to (default: n_shift times
    the stationary power's range on the grid)."""
    from neurospice.analysis.rf import tone_frequency
    from neurospice.compact_models.stno import stationary_frequency, stationary_power

    def circuit_of(device, card):
        from neurospice.netlists import Circuit

        p = device.params(fitted if fitted is not None else card)
        hi = max(i_max if i_max is not None else 4 * p["i_th"], 2 * p["i_th"])
        currents = np.linspace(2 * p["i_th"], hi, points) if hi > 2 * p["i_th"] \
            else np.full(1, hi)
        expected = stationary_frequency(currents, p)
        step = step_s or 1.0 / (200 * float(np.max(np.abs(expected))))
        c = Circuit("verify stno f(I)")
        for k, i in enumerate(currents):
            c.isource(f"b{k}", 0, f"a{k}", float(i))
            device.add_to(c, f"o{k}", [f"a{k}", 0, 0], params=card, rendering="osdi")
        c.tran(step, settle_s + window_s, max_step=step)
        span = span_hz if span_hz else float(abs(p["n_shift"]) * np.ptp(
            stationary_power(currents, p)))

        def simulated(res):
            tr = res.tran
            return np.array([tone_frequency(tr.axis, tr[f"v(a{k})"], t_start=settle_s)
                             for k in range(len(currents))])

        return [CardCheck("f(I)", c, expected, simulated, span,
                          f"{len(currents)} DC currents, {1e9 * (settle_s + window_s):.3g} ns "
                          "transient; power not checked (output coupling not on the card)")]

    return verify_card("stno", card, circuit_of, simulators, tolerance=tolerance)


def load_curves(path, **options) -> list:
    """Oscillator curves f(I), P(I) from one file (:func:`~..data.load_oscillator`,
    ``options`` its keyword arguments; stacked curves are split where the current axis
    starts again unless ``split`` says otherwise), or the spectrum traces of a file that
    holds them (:func:`~..spectra.find_traces`: one trace per bias current)."""
    from ..data import READ_OPTIONS, load_oscillator

    taken = {"columns", "on_nan", "min_points", *READ_OPTIONS}
    traces = find_traces(path, **{k: v for k, v in options.items() if k in taken})
    if traces is None:
        return as_list(load_oscillator(path, **{"split": "auto", **options}))
    other = sorted(set(options) - taken)
    if other:
        from ..table import spell

        raise DataError(f"a file of spectrum traces: {', '.join(spell(k) for k in other)} "
                        "do(es) not apply to it", path=str(path))
    return traces


def _sections(cal: Calibration) -> list[str]:
    """The report's table of the spectrum traces' lines (none for f(I) tables)."""
    rows = cal.extra.get("lines")
    if not rows:
        return []
    out = ["## Spectrum traces", "",
           "| I (A) | line | f (Hz) | ± | P (W) | ± | FWHM (Hz) | ± | note |",
           "|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "-" if v is None else f"{v:.5g}"  # noqa: E731
    for r in rows:
        out.append(f"| {r['current_a']:.5g} | {'yes' if r['found'] else 'below threshold'} | "
                   f"{fmt(r['freq_hz'])} | {fmt(r['freq_se'])} | {fmt(r['power_w'])} | "
                   f"{fmt(r['power_se'])} | {fmt(r['linewidth_hz'])} | "
                   f"{fmt(r['linewidth_se'])} | {r['why'] or ''} |")
    return out + [""]


STNO = Recipe("stno", "stno", "STNO: f0, n_shift, i_th, q from f(I) and P(I)",
              run=fit_stno, load=load_curves, free=("f0", "n_shift", "i_th", "q", "p_gain"),
              model=stno_model, default=True,
              options=(Option(("--no-verify",), {"action": "store_true", "help": "skip "
                                                 "re-simulating the card in the simulators"}),
                       Option(("--rbw",), {"type": float, "metavar": "HZ", "help": "spectrum "
                                           "traces in dBm or W per bin: the analyser's "
                                           "resolution bandwidth (default: the file's "
                                           "preamble, else the frequency step)"})),
              cli_kwargs=lambda args: {**engine_kwargs(args), "verify": not args.no_verify,
                                       "rbw": args.rbw},
              sections=_sections,
              verify=lambda cal, simulators: verify_stno(cal.params, simulators=simulators))

REGISTERED = (STNO,)
