"""The spin-diode recipes: ``spin-diode-spectrum`` and ``spin-diode-field``.

- ``spin-diode-spectrum`` (:func:`fit_spin_diode_spectrum`): rectified voltage against
  frequency at known RF power; ``f_res``, ``alpha`` (HWHM / f_res), ``k_sd`` (antisymmetric
  V/W) and ``k_sym`` (symmetric V/W) through the device's :func:`envelope`, plus an offset.
- ``spin-diode-field`` (:func:`fit_spin_diode_field`): rectified voltage against field at
  fixed frequencies (the shared Ta/CoFeB data). Per trace, in tesla (B = mu0 H):
  ``V(B) = v_sym w^2/((B-B_r)^2+w^2) + v_asym w (B-B_r)/((B-B_r)^2+w^2) + v0 + v1 (B - B_c)
  + v2 (B - B_c)^2`` (w: half width at half maximum; B_c: the sweep's centre), with a second
  Lorentzian where one peak leaves a large residual (the unsaturated mode at low field), and
  a cubic B-spline baseline (breakpoints no closer than four half widths) instead of the
  quadratic where the quadratic leaves R^2 < 0.9. That is the 1 GHz trace of the Ta/CoFeB
  data: a weak line (~3.7 uV) at the saturation field (~0.21 T, where the tilted-state and
  the saturated modes meet at low frequency) on a large non-resonant signal (16 uV) that
  drifts by about +-1 uV (~6 %; the drift correlates with no other trace, so it is not a
  field-dependent background). The spline takes the slowest part of the drift (R^2 0.64 ->
  0.83 with the first sample dropped); no baseline smoother than the line reaches 0.9, and
  neither do up to four Lorentzians on the quadratic (0.85) nor a window of 4-15 half widths
  about the line (<= 0.88). Its white noise alone caps R^2 at 0.93 (each trace's table row
  gives that limit, the residual RMS and the white noise, :func:`~.fit.white_noise`), and
  the fit leaves 1.6 times the white noise, less than the 2-6 GHz traces (1.7-3.2): the
  trace is fitted as well as the others, but its line is too weak against the drift for
  R^2 0.9, so it is reported below the threshold and left out (it is below saturation and
  outside the Kittel fit anyway). ``drop_first`` leaves out samples recorded before the
  instrument settled (in these data the first sample of a sweep reads 0.3-0.8 times the
  next in 14 of 17 traces).
  Then the resonance field of the main peak against frequency is fitted by the Kittel
  relation, and the width by the linear damping law, each point weighted by its trace's
  standard error scaled by sqrt((1 + rho) / (1 - rho)) for the lag-1 autocorrelation rho
  of that trace's residuals (a drift makes neighbouring points alike, so the plain errors
  are too small; on the Ta/CoFeB data the scaling takes the damping fit's reduced
  chi-square from 5 to 1; the parameters' standard errors come from those errors, not
  from the reduced chi-square of a few degrees of freedom, unless the points scatter more
  than their errors allow: the fit engine's rule for data with their own sigma,
  :mod:`~neurospice.calibration.fit`). Kittel's relation:

  - in-plane field (default; the film's magnetisation lies along the field):
    ``f = g sqrt(B_r (B_r + M))``, i.e. ``B_r = -M/2 + sqrt(M^2/4 + (f/g)^2)``;
  - out-of-plane field: ``f = g (B_r - M)``;

  with ``g = gamma/2pi`` (Hz/T) and ``M = mu0 M_eff`` (T; negative for perpendicular
  anisotropy, M_eff = M_s - 2K/(mu0 M_s)); with ``anisotropy=True`` an in-plane uniaxial
  anisotropy field B_k too (:func:`kittel_frequency`, :func:`fit_kittel`, whose bounds
  exclude the mirror solution); damping ``w = w0 + gilbert_damping f / g`` (HWHM in T; the
  FWHM form is dH = dH0 + (4 pi alpha_G / gamma) f), which holds for both geometries.
  (``alpha`` on the card is the spin diode's HWHM / f_res, not the Gilbert damping.)
  ``geometry="auto"`` fits both and keeps the lower chi-square.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.devices import get_device
from neurospice.errors import CalibrationError, DataError

from ..fit import Dataset, Fit, FitResult, Model, Param
from .base import (Calibration, CardCheck, Option, Recipe, Verification, as_list,
                   collect_warnings, count_arg, engine_kwargs, linear_start, verify_card)

__all__ = ["spin_diode_spectrum_model", "field_lorentzian_model", "kittel_model",
           "damping_model", "fit_kittel", "kittel_derived",
           "linewidth_bias_model", "fit_linewidth_bias", "linewidth_bias_derived", "G_FACTOR", "G_PLAUSIBLE",
           "fit_spin_diode_spectrum", "fit_spin_diode_trace",
           "fit_spin_diode_field", "verify_spectrum", "verify_spectrum_fit", "kittel_frequency", "kittel_field", "load_spectra",
           "load_field_sweeps", "field_sweep_table", "plot_field_sweeps",
           "SPIN_DIODE_SPECTRUM", "SPIN_DIODE_FIELD", "REGISTERED"]

def spin_diode_spectrum_model() -> Model:
    """Rectified voltage (V) against frequency (Hz) at RF power ``power_w`` (meta), from
    the device's envelope, plus an offset ``v_offset`` (V)."""
    from neurospice.compact_models.spin_diode import envelope

    dev = get_device("spin_diode")

    def func(f, p, power_w=1e-6):
        return envelope(f, power_w, {k: p[k] for k in dev.parameter}) + p["v_offset"]

    def guess(datasets):
        ds = datasets[0]
        f, y = np.asarray(ds.x, float), ds.y
        p = float(np.mean(ds.meta.get("power_w", 1e-6)))
        off = float(np.median(np.r_[y[:5], y[-5:]]))
        imax, imin = int(np.argmax(y)), int(np.argmin(y))
        f_res = 0.5 * (f[imax] + f[imin])
        alpha = max(abs(f[imax] - f[imin]) / (2 * f_res), 1e-4)
        k_sd = (y[imax] - y[imin]) / 2 / p * (1 if f[imax] > f[imin] else -1)
        k_sym = (float(np.interp(f_res, f, y)) - off) / p
        return {"f_res": f_res, "alpha": min(alpha, 0.4), "k_sd": k_sd, "k_sym": k_sym,
                "v_offset": off}

    extra = [Param("v_offset", 0.0, -1.0, 1.0, "V", "constant offset of the detector")]
    return Model.from_device(dev, func, extra=extra, guess=guess, name="spin_diode V(f)",
                             x_label="frequency (Hz)", y_label="rectified voltage (V)")


def fit_spin_diode_spectrum(spectra, *, power_w: float | None = None,
                            free: Sequence[str] = ("f_res", "alpha", "k_sd", "k_sym",
                                                   "v_offset"),
                            global_stage: str | None = "auto", seed: int = 0,
                            conf_int: str = "stderr", progress=False, verify: bool = False,
                            simulators: Sequence[str] = ("ngspice", "vacask")) -> Calibration:
    """Fit the spin-diode envelope to rectified-voltage spectra swept in frequency (one or
    several, e.g. at several powers; parameters shared). The RF power comes from the
    spectrum's ``power_w`` column, else ``power_w``. ``verify``: re-simulate the card in
    ``simulators`` at the largest power (:func:`verify_spectrum`)."""
    spectra = as_list(spectra)
    datasets = []
    for k, s in enumerate(spectra):
        if s.vdc_v is None:
            from ..table import spell

            raise DataError("the spectrum has no rectified voltage (vdc) column (name it with "
                            f"{spell('columns', None, key='vdc')})", path=str(s.source))
        p = s.power_w if s.power_w is not None else power_w
        if p is None:
            from ..table import spell

            raise DataError("the RF power is not in the data: a power column (P (dBm), "
                            f"P (uW)), an RF current and {spell('impedance')}, or "
                            f"{spell('power_w')} (W)", path=str(s.source))
        if np.ndim(p) and np.size(p) and np.ptp(p) == 0:
            p = float(np.asarray(p).flat[0])    # one power: the curve on any grid
        datasets.append(Dataset(np.asarray(s.freq_hz, float), s.vdc_v,
                                name=f"spectrum {k + 1}", meta={"power_w": p}))
    model = spin_diode_spectrum_model()
    f_lo = min(float(np.min(d.x)) for d in datasets)
    f_hi = max(float(np.max(d.x)) for d in datasets)
    ymax = max(float(np.max(np.abs(d.y))) for d in datasets)
    pmin = min(float(np.min(d.meta["power_w"])) for d in datasets)
    kmax = 20 * ymax / pmin
    fit = Fit(model, datasets, free=free, global_stage=global_stage, seed=seed,
              conf_int=conf_int, progress=progress,
              search={"f_res": (f_lo, f_hi), "alpha": (1e-4, 0.3), "k_sd": (-kmax, kmax),
                      "k_sym": (-kmax, kmax), "v_offset": (-ymax, ymax)})
    res = fit.run()
    dev = get_device("spin_diode")
    card = {k: v for k, v in res.values.items() if k in dev.parameter}
    cal = Calibration("spin-diode-spectrum", "spin_diode", card,
                      {n: res.stderr.get(n) for n in res.free}, {"V(f)": res},
                      warnings=collect_warnings({"V(f)": res}),
                      notes=["r0 and dr cancel in the envelope: held at the table's values"])
    if verify:
        cal.verification = verify_spectrum_fit(cal, simulators)
    return cal


def verify_spectrum_fit(cal: Calibration, simulators: Sequence[str]) -> list[Verification]:
    """:func:`verify_spectrum` of a ``spin-diode-spectrum`` calibration: at the largest
    RF power of its data, differences relative to the data's range."""
    fit = cal.fits["V(f)"]
    power = max(float(np.max(d.meta["power_w"])) for d in fit.datasets)
    span = max(float(np.ptp(d.y)) for d in fit.datasets)
    return verify_spectrum(cal.params, power_w=power, span_v=span, simulators=simulators)


def _lorentz_terms(b, br, w):
    d = b - br
    den = d * d + w * w
    return w * w / den, w * d / den


def _spline_basis(b, knots):
    """Cubic B-spline basis (columns) on ``knots`` (breakpoints spanning ``b``)."""
    from scipy.interpolate import BSpline

    t = np.r_[[knots[0]] * 3, knots, [knots[-1]] * 3]
    return BSpline.design_matrix(np.clip(b, knots[0], knots[-1]), t, 3).toarray()


def field_lorentzian_model(peaks: int = 1, *, centre: float = 0.0,
                           knots: Sequence[float] | None = None) -> Model:
    """Symmetric + antisymmetric Lorentzian(s) in field (T) on a background (V): a quadratic
    about ``centre`` (``v0``, ``v1``, ``v2``), or with ``knots`` (breakpoints, T) a cubic
    B-spline baseline (coefficients ``bg0`` ... ``bg<n>``, V; n = len(knots) + 1)."""
    knots = None if knots is None else np.asarray(knots, float)
    nbg = 0 if knots is None else len(knots) + 2
    cache = {}

    def background(b, p):
        if knots is None:
            x = b - centre
            return p["v0"] + p["v1"] * x + p["v2"] * x * x
        key = (b.size, float(b[0]), float(b[-1]))
        if key not in cache or not np.array_equal(cache[key][0], b):
            cache[key] = (b.copy(), _spline_basis(b, knots))
        return cache[key][1] @ np.array([p[f"bg{j}"] for j in range(nbg)])

    def func(b, p):
        b = np.asarray(b, float)
        out = background(b, p)
        for k in range(peaks):
            s = "" if k == 0 else str(k + 1)
            ls, la = _lorentz_terms(b, p["b_res" + s], p["width" + s])
            out = out + p["v_sym" + s] * ls + p["v_asym" + s] * la
        return out

    rows = []
    for k in range(peaks):
        s = "" if k == 0 else str(k + 1)
        rows += [Param("b_res" + s, 0.1, -10.0, 10.0, "T", "resonance field mu0 H_r"),
                 Param("width" + s, 0.01, 1e-6, 5.0, "T", "half width at half maximum"),
                 Param("v_sym" + s, 0.0, -1.0, 1.0, "V", "symmetric Lorentzian amplitude"),
                 Param("v_asym" + s, 0.0, -1.0, 1.0, "V", "antisymmetric Lorentzian amplitude")]
    # unbounded: lmfit's bound transform would blur the derivatives of a background term
    # that sits at a tiny fraction of a wide range
    if knots is None:
        rows += [Param("v0", 0.0, unit="V", description="background at the sweep's centre"),
                 Param("v1", 0.0, unit="V/T", description="background slope"),
                 Param("v2", 0.0, unit="V/T^2", description="background curvature")]
        name = f"field Lorentzian x{peaks}"
    else:
        rows += [Param(f"bg{j}", 0.0, unit="V", description="B-spline baseline coefficient")
                 for j in range(nbg)]
        name = f"field Lorentzian x{peaks}, spline baseline ({len(knots) - 1} segments)"
    return Model(name, func, rows, x_label="field mu0 H (T)", y_label="rectified voltage (V)")


def _peak_guess(b, y, exclude=None):
    """Start values for one peak: the largest excursion from the background."""
    base = float(np.median(y))
    dev = np.abs(y - base)
    if exclude is not None:
        dev = np.where(np.abs(b - exclude[0]) < 3 * exclude[1], 0.0, dev)
    i = int(np.argmax(dev))
    half = dev[i] / 2
    lo, hi = i, i
    while lo > 0 and dev[lo] > half:
        lo -= 1
    while hi < len(b) - 1 and dev[hi] > half:
        hi += 1
    step = float(np.median(np.abs(np.diff(b))))
    w = max(abs(b[hi] - b[lo]) / 2, 2 * step)
    return float(b[i]), w, float(y[i] - base), base


def _bic(r: FitResult) -> float:
    """Bayesian information criterion of a one-trace fit (residuals in the data's units)."""
    n = len(r.datasets[0])
    return n * math.log(max(r.chisqr * r.noise[0] ** 2 / n, 1e-300)) + r.nfree * math.log(n)


def fit_spin_diode_trace(b, v, *, peaks: int | None = None, name: str = "",
                         baseline: str = "auto", min_r2: float = 0.9) -> FitResult:
    """One field sweep: ``peaks`` Lorentzians (1, 2, or None: one, and a second when it
    lowers the BIC by more than 10). Multi-start local fits from the largest excursions.

    ``baseline``: ``"quadratic"``; ``"spline"`` (a cubic B-spline, see below); ``"auto"``:
    quadratic, and the spline where the quadratic fit leaves R^2 < ``min_r2`` and the spline
    lowers the BIC by more than 10. The spline's breakpoints are evenly spaced, no closer
    than four half widths of the widest fitted line (so the baseline cannot take the shape
    of a resonance); the number of segments (2 to that limit) is chosen by the BIC. It
    absorbs a slow drift of a large non-resonant signal (see fit_spin_diode_field)."""
    if baseline not in ("quadratic", "spline", "auto"):
        raise ValueError("baseline must be 'quadratic', 'spline' or 'auto'")
    b, v = np.asarray(b, float), np.asarray(v, float)
    order = np.argsort(b)
    b, v = b[order], v[order]
    centre = float(0.5 * (b[0] + b[-1]))
    span_b, span_v = float(np.ptp(b)), float(np.ptp(v)) or 1e-12

    def bounded(model):
        bounds = {f"b_res{s}": (float(b[0]), float(b[-1])) for s in ("", "2")
                  if f"b_res{s}" in model.params}
        bounds.update({f"width{s}": (0.5 * float(np.min(np.diff(b))), span_b / 8)
                       for s in ("", "2") if f"width{s}" in model.params})
        amp_lim = 20 * span_v
        bounds.update({k: (-amp_lim, amp_lim) for k in model.params if k.startswith("v_")})
        return bounds

    def run(n, first=None):
        model = field_lorentzian_model(n, centre=centre)
        br, w, amp, base = _peak_guess(b, v)
        start = {"b_res": br, "width": w, "v_sym": amp, "v_asym": 0.0, "v0": base}
        starts = [{"b_res": br + w, "v_sym": 0.0, "v_asym": amp},
                  {"b_res": br - w, "v_sym": 0.0, "v_asym": -amp},
                  {"width": 3 * w}]
        if n == 2:
            prev = first.values
            start = {k: prev[k] for k in ("b_res", "width", "v_sym", "v_asym", "v0", "v1", "v2")}
            resid = v - first.curve(0)
            br2, w2, amp2, _ = _peak_guess(b, resid, exclude=(prev["b_res"], prev["width"]))
            start.update({"b_res2": br2, "width2": w2, "v_sym2": amp2, "v_asym2": 0.0})
            starts = [{"b_res2": br2, "width2": 3 * w2}, {"v_asym2": amp2, "v_sym2": 0.0}]
        ds = Dataset(b, v, name=name or "trace")
        return Fit(model, ds, values=start, bounds=bounded(model), global_stage="multistart",
                   starts=starts, noise="auto").run()

    def run_spline(prev: FitResult, segments: int):
        """``prev``'s lines on a spline baseline of ``segments`` segments."""
        n = 2 if "b_res2" in prev.values else 1
        knots = np.linspace(b[0], b[-1], segments + 1)
        model = field_lorentzian_model(n, knots=knots)
        lines = {k: prev.values[k] for k in model.params if not k.startswith("bg")}
        no_bg = {**{f"bg{j}": 0.0 for j in range(segments + 3)}, **lines}
        coef = np.linalg.lstsq(_spline_basis(b, knots), v - model.eval(b, no_bg),
                               rcond=None)[0]
        start = {**lines, **{f"bg{j}": float(c) for j, c in enumerate(coef)}}
        ds = Dataset(b, v, name=name or "trace")
        return Fit(model, ds, values=start, bounds=bounded(model), global_stage=None,
                   noise="auto").run()

    one = run(1)
    best = one
    if peaks == 2 or (peaks is None and one.r2 < 0.995):
        try:
            two = run(2, one)
        except Exception:             # a second peak that does not converge is no peak
            two = None
        if two is not None and all(two.stderr[n] is not None for n in two.free):
            if peaks == 2 or _bic(two) < _bic(one) - 10:
                best = two
    if baseline == "spline" or (baseline == "auto" and best.r2 < min_r2):
        widest = max(abs(v_) for k, v_ in best.values.items() if k.startswith("width"))
        most = max(2, min(int(span_b / (4 * widest)), 20))
        splines = []
        for segments in range(2, most + 1):
            try:
                r = run_spline(best, segments)
            except Exception:         # a baseline that does not converge is no candidate
                continue
            if all(r.stderr[k] is not None for k in r.free if not k.startswith("bg")):
                splines.append(r)
        if splines:
            pick = min(splines, key=_bic)
            if baseline == "spline" or _bic(pick) < _bic(best) - 10:
                best = pick
    return best


G_FACTOR = 2 * math.pi * 1.054571817e-34 / 9.2740100783e-24
"""Lande g per unit gamma/2pi (Hz/T): g = h (gamma/2pi) / mu_B."""

G_PLAUSIBLE = (1.8, 2.4)
"""Lande g factors of the ferromagnets these devices use (transition metals and their
alloys: 2.0-2.2); a Kittel fit outside this range warns: wrong geometry or a missing
anisotropy term, not a new material."""


def kittel_frequency(b, gamma_hz_per_t, meff_t, geometry="in-plane", bk_t=0.0):
    """Resonance frequency (Hz) at field b (T) of a saturated film with effective
    magnetisation ``meff_t`` (mu0 M_eff, T) and an in-plane uniaxial anisotropy field
    ``bk_t`` (mu0 H_k, T; in plane: the field along the easy axis):

    - in-plane field: f = g sqrt((b + bk) (b + bk + M));
    - out-of-plane field: f = g sqrt((b - M) (b - M - bk)) (= g (b - M) for bk = 0).
    """
    b = np.asarray(b, float)
    if geometry == "in-plane":
        return gamma_hz_per_t * np.sqrt(np.clip((b + bk_t) * (b + bk_t + meff_t), 0, None))
    if bk_t == 0:
        return gamma_hz_per_t * (b - meff_t)
    return gamma_hz_per_t * np.sqrt(np.clip((b - meff_t) * (b - meff_t - bk_t), 0, None))


def kittel_field(f, gamma_hz_per_t, meff_t, geometry="in-plane", bk_t=0.0):
    """Resonance field (T) at frequency f (Hz): the inverse of :func:`kittel_frequency`
    (the saturated branch)."""
    f = np.asarray(f, float)
    if geometry == "in-plane":
        return -bk_t - meff_t / 2 + np.sqrt(meff_t ** 2 / 4 + (f / gamma_hz_per_t) ** 2)
    return meff_t + bk_t / 2 + np.sqrt(bk_t ** 2 / 4 + (f / gamma_hz_per_t) ** 2)


def kittel_model(geometry: str = "in-plane", *, swept: str = "frequency",
                 anisotropy: bool = False) -> Model:
    """Kittel's relation as a model: ``swept="frequency"`` (resonance field, T, against
    frequency, Hz: field-swept lines at fixed frequencies give B_r(f)) or ``"field"``
    (resonance frequency against field: frequency-swept lines at fixed fields give f_r(B)).
    Parameters ``gamma_hz_per_t`` = gamma/2pi (Hz/T), ``meff_t`` = mu0 M_eff (T) and
    with ``anisotropy``, ``bk_t`` = mu0 H_k, the in-plane uniaxial anisotropy field (T),
    and ``bk_ratio`` = bk_t / (abs(meff_t) / 2) (fit it with :func:`fit_kittel`, which holds
    bk_t to that ratio: (bk, M) and (bk + M, -M) give the same in-plane curve, and
    abs(bk_ratio) < 1 leaves only the solution with the smaller anisotropy)."""
    if geometry not in ("in-plane", "out-of-plane"):
        raise ValueError("geometry must be 'in-plane' or 'out-of-plane'")
    if swept not in ("frequency", "field"):
        raise ValueError("swept must be 'frequency' or 'field'")

    if swept == "frequency":
        def func(f, p):
            return kittel_field(f, p["gamma_hz_per_t"], p["meff_t"], geometry,
                                p.get("bk_t", 0.0))
        labels = {"x_label": "frequency (Hz)", "y_label": "resonance field mu0 H_r (T)"}
    else:
        def func(b, p):
            return kittel_frequency(b, p["gamma_hz_per_t"], p["meff_t"], geometry,
                                    p.get("bk_t", 0.0))
        labels = {"x_label": "field mu0 H (T)", "y_label": "resonance frequency (Hz)"}

    params = [Param("gamma_hz_per_t", 28e9, 1e9, 1e11, "Hz/T", "gamma/2pi"),
              Param("meff_t", 0.5, -5.0, 5.0, "T", "effective magnetisation mu0 M_eff")]
    if anisotropy:
        params += [Param("bk_t", 0.0, -5.0, 5.0, "T",
                         "in-plane uniaxial anisotropy field mu0 H_k"),
                   Param("bk_ratio", 0.0, -0.999, 0.999, "", "bk_t / (|meff_t| / 2): "
                         "the parametrisation that excludes the mirror solution")]
    return Model(f"Kittel ({geometry})", func, params, **labels)


def fit_kittel(x, y, *, swept: str = "frequency", geometry: str = "in-plane",
               anisotropy: bool = True, sigma=None, conf_int: str = "stderr") -> FitResult:
    """Fit Kittel's relation (:func:`kittel_model`) to resonance fields against frequency
    (``swept="frequency"``: x = f in Hz, y = B_r in T) or resonance frequencies against field
    (``swept="field"``: x = B in T, y = f_r in Hz); ``sigma`` the points' standard errors
    (the parameters' errors then come from them unless the points scatter more than they
    allow: the engine's ``sigma="auto"``; without ``sigma`` the errors are estimated from
    the residuals). With ``anisotropy`` the in-plane anisotropy field
    ``bk_t`` is fitted as ``bk_ratio |meff_t| / 2`` with abs(bk_ratio) < 1 (in plane, the
    mirror of (bk, M) is (bk + M, -M)) and bk_ratio >= 0 out of plane (there the mirror is
    (-bk, M + bk)), which excludes the mirror solutions; starts from both signs of M_eff
    (multistart). The result warns when the
    Lande g (``gamma_hz_per_t`` times :data:`G_FACTOR`) lies outside :data:`G_PLAUSIBLE`."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    model = kittel_model(geometry, swept=swept, anisotropy=anisotropy)
    if swept == "frequency":
        fx, by = x, y
    else:
        fx, by = y, x
    slope, icpt = linear_start(fx, by)
    g0 = 1 / slope if slope > 0 else 28e9
    m0 = -2 * icpt if geometry == "in-plane" else icpt
    m0 = m0 if abs(m0) > 1e-3 else 0.5
    starts = [{"meff_t": -m0, "gamma_hz_per_t": g0}, {"meff_t": 2 * m0}, {"meff_t": m0 / 2}]
    free = ["gamma_hz_per_t", "meff_t"]
    constraints = {}
    if anisotropy:
        free.append("bk_ratio")
        constraints = {"bk_t": "bk_ratio * abs(meff_t) / 2"}
        starts += [{**s, "bk_ratio": r} for s in list(starts) + [{}] for r in (-0.5, 0.5)]
    ds = Dataset(x, y, sigma=sigma, name="resonance field" if swept == "frequency"
                 else "resonance frequency")
    # out of plane, (M, bk) and (M + bk, -bk) are the mirror pair: bk >= 0 (an anisotropy
    # field's size; the easy axis's direction does not matter there) leaves one
    bounds = {"bk_ratio": (0.0, 0.999)} if anisotropy and geometry == "out-of-plane" else {}
    if bounds:
        starts = [{**s, "bk_ratio": abs(s.get("bk_ratio", 0.1))} for s in starts]
    res = Fit(model, ds, free=free, values={"gamma_hz_per_t": g0, "meff_t": m0},
              constraints=constraints, bounds=bounds, global_stage="multistart", starts=starts,
              conf_int=conf_int, noise=None if sigma is not None else "auto").run()
    g = res.values["gamma_hz_per_t"] * G_FACTOR
    if not G_PLAUSIBLE[0] <= g <= G_PLAUSIBLE[1]:
        res.warnings.append(
            f"Lande g = {g:.3g} outside {G_PLAUSIBLE[0]}-{G_PLAUSIBLE[1]} (the ferromagnets "
            "of these devices): the geometry (in-plane/out-of-plane) or the anisotropy term "
            "is probably wrong" + ("" if anisotropy else "; try anisotropy=True"))
    return res


def kittel_derived(kit: FitResult) -> dict:
    """The derived-quantity rows of a Kittel fit: gamma/2pi, mu0 M_eff, g and (when fitted)
    the in-plane anisotropy field."""
    g, se = kit.values["gamma_hz_per_t"], kit.stderr.get("gamma_hz_per_t")
    out = {
        "gamma_hz_per_t": {"value": g, "stderr": se, "unit": "Hz/T",
                           "description": "gamma/2pi (Kittel)"},
        "meff_t": {"value": kit.values["meff_t"], "stderr": kit.stderr.get("meff_t"),
                   "unit": "T",
                   "description": "mu0 M_eff (Kittel; negative: perpendicular anisotropy)"},
        "g_factor": {"value": g * G_FACTOR, "stderr": se * G_FACTOR if se else None,
                     "unit": "", "description": "Lande g = h gamma/2pi / mu_B"},
    }
    if "bk_t" in kit.constraints:
        out["bk_t"] = {"value": kit.values["bk_t"], "stderr": kit.stderr.get("bk_t"),
                       "unit": "T", "description": "in-plane uniaxial anisotropy field mu0 H_k"}
    return out


def damping_model(gamma_hz_per_t: float) -> Model:
    """Half width (T) against frequency (Hz): w = w0 + gilbert_damping f / g."""
    def func(f, p):
        return p["width0_t"] + p["gilbert_damping"] * np.asarray(f, float) / gamma_hz_per_t

    return Model("damping", func, [
        Param("width0_t", 0.0, -1.0, 1.0, "T", "inhomogeneous half width mu0 dH0"),
        Param("gilbert_damping", 0.01, 0.0, 1.0, "", "Gilbert damping")],
        x_label="frequency (Hz)", y_label="half width mu0 dH (T)")


def linewidth_bias_model() -> Model:
    """Linewidth (Hz) against DC bias current (A) under spin-transfer torque:
    ``w = w0 (1 - I / i_th)`` (the effective damping alpha (1 - I/I_th)); the spin-torque
    efficiency is -dw/dI = w0 / i_th (Hz/A), the threshold the zero crossing."""
    def func(i, p):
        return p["linewidth0_hz"] * (1.0 - np.asarray(i, float) / p["i_th"])

    return Model("linewidth vs bias", func, [
        Param("linewidth0_hz", 1e8, 0.0, 1e12, "Hz", "linewidth at zero bias"),
        Param("i_th", 1e-3, -1e3, 1e3, "A", "threshold current: the linewidth's zero "
              "crossing (its sign: the current direction that lowers the damping)")],
        x_label="DC bias current (A)", y_label="linewidth (Hz)")


def fit_linewidth_bias(current_a, linewidth_hz, *, sigma=None,
                       conf_int: str = "stderr") -> FitResult:
    """Fit :func:`linewidth_bias_model` to linewidths (any one convention, HWHM or FWHM, Hz)
    measured at DC bias currents (A), e.g. each spectrum's alpha f_res from
    :func:`fit_spin_diode_spectrum` at its bias. Starts from the least-squares line (the
    model is the line w0 - (w0/i_th) I, so the start is the answer up to weighting); the
    spin-torque efficiency and its standard error are in :func:`linewidth_bias_derived`."""
    i, w = np.asarray(current_a, float), np.asarray(linewidth_hz, float)
    if i.size < 3 or np.ptp(i) <= 0:
        raise DataError("linewidth vs bias needs three points or more at different currents")
    slope, icpt = linear_start(i, w)
    if slope == 0 or icpt <= 0:
        raise CalibrationError("the linewidth does not change with bias (or is not positive "
                               "at zero bias): no spin-torque efficiency to fit")
    ds = Dataset(i, w, sigma=sigma, name="linewidth(I)")
    return Fit(linewidth_bias_model(), ds, values={"linewidth0_hz": icpt,
                                                  "i_th": -icpt / slope},
               global_stage=None, conf_int=conf_int,
               noise=None if sigma is not None else "auto").run()


def linewidth_bias_derived(res: FitResult) -> dict:
    """Derived rows of :func:`fit_linewidth_bias`: threshold, zero-bias linewidth and the
    spin-torque efficiency w0 / i_th with its standard error from the covariance."""
    w0, ith = res.values["linewidth0_hz"], res.values["i_th"]
    s_w, s_i = res.stderr.get("linewidth0_hz"), res.stderr.get("i_th")
    eff = w0 / ith
    s_eff = None
    if s_w is not None and s_i is not None:
        k = [res.free.index("linewidth0_hz"), res.free.index("i_th")]
        rho = float(res.correlation[k[0], k[1]]) if np.isfinite(res.correlation[k[0], k[1]]) \
            else 0.0
        rel = (s_w / w0) ** 2 + (s_i / ith) ** 2 - 2 * rho * (s_w / w0) * (s_i / ith)
        s_eff = abs(eff) * math.sqrt(max(rel, 0.0))
    return {"i_th": {"value": ith, "stderr": s_i, "unit": "A",
                     "description": "threshold: the linewidth's zero crossing"},
            "linewidth0_hz": {"value": w0, "stderr": s_w, "unit": "Hz",
                              "description": "linewidth at zero bias"},
            "st_efficiency_hz_per_a": {"value": eff, "stderr": s_eff, "unit": "Hz/A",
                                       "description": "spin-torque efficiency -dw/dI"}}


def fit_spin_diode_field(sweeps, *, geometry: str = "in-plane", min_r2: float = 0.9,
                         peaks: int | None = None, card_field_t: float | None = None,
                         damping_min_field_t: float | None = None, drop_first: int = 0,
                         anisotropy: bool = False, conf_int: str = "auto",
                         progress=False, verify: bool = False,
                         simulators: Sequence[str] = ("ngspice", "vacask")) -> Calibration:
    """The field-sweep recipe (see the module docstring) on :class:`Spectrum` s with
    ``field_t``, ``vdc_v`` and a constant ``freq_hz`` (:func:`load_spin_diode_sweeps`).
    ``verify``: the card's V_dc(f) re-simulated in ``simulators`` at 1 uW (the data hold no
    RF power; :func:`verify_spectrum`).

    Traces with R^2 under ``min_r2`` or a resonance below saturation (in-plane, M < 0:
    B_r < -M) are left out of the Kittel and damping fits, and the report says so. The
    damping law is fitted on traces with B_r >= ``damping_min_field_t`` (default, in plane
    with M < 0: 1.5 |M|, where the magnetisation is well saturated; near saturation the
    lines broaden beyond the Gilbert law). The
    card is the spin-diode resonator at ``card_field_t`` (default: the median resonance
    field): f_res from Kittel, alpha = frequency HWHM / f_res from the damping law (in
    plane: gilbert_damping g (B + B_k + M/2) / f_res); k_sd and k_sym need the RF power, which these
    data do not give, and keep their table values.

    ``anisotropy``: fit an in-plane uniaxial anisotropy field too (:func:`fit_kittel`; its
    value and error in ``derived["bk_t"]``); without it the Kittel fit warns when the Lande
    g it implies is implausible.

    ``drop_first``: samples left out at the start of every sweep (in acquisition order), for
    an instrument that has not settled there (a lock-in's time constant after the field
    step to the sweep's start); the report says how many and where."""
    sweeps = as_list(sweeps)
    if drop_first < 0:
        raise ValueError("drop_first must be >= 0")
    if geometry not in ("in-plane", "out-of-plane", "auto"):
        raise ValueError("geometry must be 'in-plane', 'out-of-plane' or 'auto'")
    traces, rows = {}, []
    for k, s in enumerate(sweeps):
        if s.field_t is None or s.vdc_v is None:
            what = ("field" if s.field_t is None else "") + \
                (" and " if s.field_t is None and s.vdc_v is None else "") + \
                ("rectified-voltage" if s.vdc_v is None else "")
            hint = ""
            if s.field_t is None and np.ptp(s.freq_hz) > 0:
                hint = ("; the frequency is swept: spectra V_dc(f) at one field are fitted by "
                        "the spin-diode-spectrum recipe (--recipe spin-diode-spectrum)")
            raise DataError(f"a field sweep needs field and rectified-voltage columns; no "
                            f"{what} column found{hint}", path=str(s.source))
        f = float(np.median(s.freq_hz))
        if np.ptp(s.freq_hz) > 1e-6 * f:
            raise DataError("the frequency changes within a field sweep", path=str(s.source))
        label = f"{f / 1e9:g} GHz"
        if progress is True:
            import sys
            print(f"\rfit spin-diode field sweeps: trace {k + 1}/{len(sweeps)} ({label})   ",
                  end="", file=sys.stderr, flush=True)
        if len(s.field_t) - drop_first < 12:
            raise DataError(f"{label}: {len(s.field_t)} points, {drop_first} dropped: too few "
                            "for a line on a background", path=str(s.source))
        r = fit_spin_diode_trace(s.field_t[drop_first:], s.vdc_v[drop_first:], peaks=peaks,
                                 name=label)
        traces[label] = r
        rows.append((label, f, r))
    if progress is True:
        import sys
        print(file=sys.stderr)

    def main_peak(r):
        """The resonance followed by Kittel: of two, the one of larger amplitude; a line
        narrower than a field step (one point off the curve, e.g. the first point of a sweep
        at near-zero field) is not a resonance."""
        v = r.values
        if "b_res2" not in v:
            return ""
        step = float(np.min(np.diff(np.sort(np.asarray(r.datasets[0].x)))))
        spike = [abs(v["width" + s]) < step for s in ("", "2")]
        if spike[0] != spike[1]:
            return "2" if spike[0] else ""
        if math.hypot(v["v_sym2"], v["v_asym2"]) > math.hypot(v["v_sym"], v["v_asym"]):
            return "2"
        return ""

    table = []
    for label, f, r in rows:
        s = main_peak(r)
        factor = r.correlation_factor()
        scaled = {n: None if r.stderr.get(n + s) is None else r.stderr[n + s] * factor
                  for n in ("b_res", "width")}
        table.append({"trace": label, "freq_hz": f, "b_res_t": r.values["b_res" + s],
                      "b_res_stderr": scaled["b_res"],
                      "width_t": abs(r.values["width" + s]),
                      "width_stderr": scaled["width"],
                      "stderr_scale": factor,
                      "v_sym": r.values["v_sym" + s], "v_asym": r.values["v_asym" + s],
                      "peaks": 2 if "b_res2" in r.values else 1, "r2": r.r2,
                      "r2_limit": r.r2_limit[0],
                      "rms_resid_v": float(np.sqrt(np.mean(r.residuals(0) ** 2))),
                      "noise_v": r.white_noise[0],
                      "baseline": "spline" if "bg0" in r.values else "quadratic",
                      "used": r.r2 >= min_r2 and r.stderr.get("b_res" + s) is not None,
                      "note": "" if r.r2 >= min_r2 else
                      f"R^2 {r.r2:.3f} < {min_r2} (its white noise allows {r.r2_limit[0]:.3f})"})
        if table[-1]["b_res_stderr"] is None:
            table[-1]["note"] = "resonance field not determined"

    def kittel_fit(geom, rows_used):
        f = np.array([t["freq_hz"] for t in rows_used])
        b = np.array([t["b_res_t"] for t in rows_used])
        sig = np.array([t["b_res_stderr"] for t in rows_used])
        return fit_kittel(f, b, swept="frequency", geometry=geom, anisotropy=anisotropy,
                          sigma=sig, conf_int=conf_int)

    geoms = ("in-plane", "out-of-plane") if geometry == "auto" else (geometry,)
    notes = []
    kittel = {}
    for geom in geoms:
        used = [t for t in table if t["used"]]
        if len(used) < 3:
            raise CalibrationError(f"only {len(used)} traces fitted with R^2 >= {min_r2}: "
                                   "too few for the Kittel fit")
        res = kittel_fit(geom, used)
        if geom == "in-plane" and res.values["meff_t"] < 0:
            below = [t for t in used if t["b_res_t"] < -res.values["meff_t"]]
            if below and len(used) - len(below) >= 3:
                for t in below:
                    t["note"] = (t["note"] + "; " if t["note"] else "") + \
                        "below saturation (B_r < -mu0 M_eff): left out of the Kittel fit"
                res = kittel_fit(geom, [t for t in used if t not in below])
        kittel[geom] = res
    if geometry == "auto":
        geometry = min(kittel, key=lambda g: kittel[g].chisqr)
        other = next(g for g in kittel if g != geometry)
        notes.append(f"geometry auto: {geometry} (chi-square {kittel[geometry].chisqr:.4g}) "
                     f"over {other} ({kittel[other].chisqr:.4g})")
    kit = kittel[geometry]
    g, meff = kit.values["gamma_hz_per_t"], kit.values["meff_t"]
    kit_used = {float(f) for f in np.asarray(kit.datasets[0].x)}
    for t in table:
        t["kittel"] = t["freq_hz"] in kit_used
    b_min = damping_min_field_t
    if b_min is None:
        b_min = 1.5 * max(-meff, 0.0) if geometry == "in-plane" else 0.0
    for t in table:
        t["damping"] = t["kittel"] and t["width_stderr"] is not None and t["b_res_t"] >= b_min
    used = [t for t in table if t["damping"]]
    if len(used) < 3:
        raise CalibrationError(f"only {len(used)} traces above {b_min:g} T for the damping fit")
    fw = np.array([t["freq_hz"] for t in used])
    ww = np.array([t["width_t"] for t in used])
    sw = np.array([t["width_stderr"] for t in used])
    a0, c0 = linear_start(fw, ww)
    damp = Fit(damping_model(g), Dataset(fw, ww, sigma=sw, name="half width"),
               values={"gilbert_damping": max(a0 * g, 1e-4), "width0_t": c0},
               global_stage=None, noise=None, conf_int=conf_int).run()
    alpha = damp.values["gilbert_damping"]
    fits = {"kittel": kit, "damping": damp, **{f"trace {k}": r for k, r in traces.items()}}

    b_card = card_field_t if card_field_t is not None else \
        float(np.median([t["b_res_t"] for t in table if t["kittel"]]))
    dev = get_device("spin_diode")
    bk = kit.values.get("bk_t", 0.0)
    f_card = float(kittel_frequency(b_card, g, meff, geometry, bk))
    if geometry == "in-plane":
        bb = b_card + bk
        hw = alpha * g * (bb + meff / 2) + damp.values["width0_t"] * \
            g * (2 * bb + meff) / (2 * math.sqrt(bb * (bb + meff)))
    else:
        hw = g * (alpha * f_card / g + damp.values["width0_t"])
    card = dev.params({"f_res": f_card, "alpha": min(max(hw / f_card, 1e-5), 0.5)})
    derived = {
        **kittel_derived(kit),
        "gilbert_damping": {"value": alpha, "stderr": damp.stderr.get("gilbert_damping"),
                            "unit": "", "description": "Gilbert damping (linear law)"},
        "width0_t": {"value": damp.values["width0_t"], "stderr": damp.stderr.get("width0_t"),
                     "unit": "T", "description": "inhomogeneous half width mu0 dH0"},
        "card_field_t": {"value": b_card, "stderr": None, "unit": "T",
                         "description": "field at which the card's f_res and alpha hold"},
    }
    warnings = collect_warnings({"kittel": kit, "damping": damp})
    bad = [t["trace"] for t in table if t["r2"] < min_r2]
    if bad:
        warnings.append(f"traces with R^2 < {min_r2}: {', '.join(bad)} (left out)")
    if drop_first:
        notes.append(f"the first {drop_first} sample(s) of every sweep left out (drop_first; "
                     f"fields {', '.join(f'{1e3 * float(s.field_t[0]):.3g}' for s in sweeps[:3])}"
                     f"{' ...' if len(sweeps) > 3 else ''} mT)")
    notes += [f"{t['trace']}: spline baseline (the quadratic left R^2 < {min_r2}: a slowly "
              "drifting non-resonant signal)" for t in table if t["baseline"] == "spline"]
    scales = [t["stderr_scale"] for t in table]
    notes += [f"per-trace errors of B_r and the width scaled by sqrt((1 + rho) / (1 - rho)) "
              f"for the residuals' lag-1 autocorrelation rho ({min(scales):.2g}-"
              f"{max(scales):.2g}x here): the drift makes neighbouring points alike",
              f"geometry: {geometry} field; Kittel B_r(f) and the damping law fitted with "
              "each trace's standard error as sigma; their parameters' errors: Kittel "
              f"{kit.stderr_basis}, {kit.stderr_reason}; damping {damp.stderr_basis}, "
              f"{damp.stderr_reason}",
              "damping: HWHM w = w0 + alpha_G f / (gamma/2pi); FWHM dH = 2 w0 + (4 pi alpha_G / "
              f"gamma) f; fitted on traces with B_r >= {b_min:.4g} T",
              "the card holds f_res and alpha at card_field_t; k_sd, k_sym (V/W) need the RF "
              "power, not in these data: table values"]
    stderr = {"f_res": None, "alpha": None}
    cal = Calibration("spin-diode-field", "spin_diode", card, stderr, fits, derived,
                      warnings=warnings, notes=notes,
                      extra={"geometry": geometry, "traces": table})
    if verify:
        cal.verification = verify_spectrum(card, simulators=simulators,
                                           name="V_dc(f) of the card")
    return cal


# =========================================================================== verification
def verify_spectrum(card: Mapping[str, float], *, fitted: Mapping[str, float] | None = None,
                    power_w: float = 1e-6,
                    span_v: float | None = None, points: int = 5,
                    simulators: Sequence[str] = ("ngspice", "vacask"),
                    name: str = "V_dc(f)", ppp: int = 200, periods: int = 20,
                    tolerance: float = 0.01) -> list[Verification]:
    """Re-simulate a spin-diode card (:func:`~.base.verify_card`, Verilog-A through OSDI):
    ``points`` resonators, one per frequency f_res (1 + alpha u), u in [-2, 2], each
    driven by its own RF current of power ``power_w`` into r0, in one transient; the
    rectified DC voltage of each (its mean over ``periods`` RF periods after the ring-down,
    12 / (2 pi alpha f_res)) is compared with the envelope of ``fitted`` (the fit's values;
    default ``card``), so a card that does not hold the fit fails. ``span_v``: the data
    range the differences are relative to (default: the envelope's range on the grid)."""
    from neurospice.analysis.rf import rectified_dc
    from neurospice.compact_models.spin_diode import envelope

    def circuit_of(device, card):
        from neurospice.netlists import Circuit, Sine

        p = device.params(fitted if fitted is not None else card)
        freqs = p["f_res"] * (1 + p["alpha"] * np.linspace(-2.0, 2.0, points))
        settle = 12.0 / (2 * math.pi * p["alpha"] * p["f_res"])
        step = 1.0 / (float(freqs.max()) * ppp)
        i0 = math.sqrt(2 * power_w / p["r0"])
        c = Circuit(f"verify spin diode {name}")
        for k, f in enumerate(freqs):
            c.isource(f"rf{k}", 0, f"n{k}", waveform=Sine(0.0, i0, float(f)))
            device.add_to(c, f"d{k}", [f"n{k}", 0], params=card, rendering="osdi")
        c.tran(step, settle + periods / float(freqs.min()), max_step=step)
        expected = envelope(freqs, power_w, p)

        def simulated(res):
            tr = res.tran
            return np.array([rectified_dc(tr.axis, tr[f"v(n{k})"], float(f), t_start=settle,
                                          periods=periods) for k, f in enumerate(freqs)])

        span = span_v if span_v else float(np.ptp(expected))
        return [CardCheck(name, c, expected, simulated, span,
                          f"{points} frequencies in f_res (1 +- 2 alpha), transient at "
                          f"{power_w:.3g} W")]

    return verify_card("spin_diode", card, circuit_of, simulators, tolerance=tolerance)


# =========================================================================== as a recipe
def load_spectra(path, **options) -> list:
    """Rectified-voltage spectra V_dc(f) from one file (:func:`~..data.load_spectrum`,
    ``options`` its keyword arguments; stacked spectra are split where the frequency axis
    starts again unless ``split`` says otherwise)."""
    from ..data import load_spectrum

    return as_list(load_spectrum(path, **{"split": "auto", **options}))


def load_field_sweeps(path, **options) -> list:
    """Field sweeps at fixed frequencies, the layout read off the header: pairs of columns
    named ``<label>_<f>_GHz`` (:func:`~..data.load_spin_diode_sweeps`; it takes no
    options), else spectra with field columns (:func:`~..data.load_spectrum` with
    ``options``; side by side unless ``split`` or ``group_by`` says otherwise; sweeps
    stacked in one file with a frequency column that changes are one curve per frequency;
    a file without a frequency column takes it from its preamble or its name)."""
    from ..data import READ_OPTIONS, has_frequency_pairs, load_spectrum, load_spin_diode_sweeps
    from ..table import spell

    if has_frequency_pairs(path, **{k: v for k, v in options.items() if k in READ_OPTIONS}):
        if options:
            raise DataError("the <label>_<f>_GHz column pairs are read as they are: "
                            f"{', '.join(spell(k) for k in sorted(options))} do(es) not apply",
                            path=str(path))
        return load_spin_diode_sweeps(path)
    if "group_by" not in options:
        curves = as_list(load_spectrum(path, **{"split": "columns", **options}))
        if "split" in options or "columns" in options or \
                all(np.ptp(c.freq_hz) == 0 or c.field_t is None or np.ptp(c.field_t) == 0
                    for c in curves):
            return curves
        # field sweeps stacked, each at its own frequency: one curve per frequency
        options = {**options, "group_by": curves[0].columns["freq_hz"]}
    return as_list(load_spectrum(path, **options))


def field_sweep_table(cal) -> list[str]:
    """The report's table of field sweeps (one row per trace)."""
    from ..report import num

    traces = cal.extra.get("traces")
    if not traces:
        return []
    lines = ["## Field sweeps", "",
             "| trace | B_r (mT) | +- | half width (mT) | +- | V_sym (uV) | V_asym (uV) "
             "| peaks | R^2 | R^2 limit | resid. RMS (uV) | noise (uV) | Kittel | damping "
             "| note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in traces:
        lines.append(
            f"| {t['trace']} | {num(t['b_res_t'] * 1e3, 5)} | "
            f"{num(t['b_res_stderr'] and t['b_res_stderr'] * 1e3, 2)} | "
            f"{num(t['width_t'] * 1e3, 4)} | "
            f"{num(t['width_stderr'] and t['width_stderr'] * 1e3, 2)} | "
            f"{num(t['v_sym'] * 1e6, 3)} | {num(t['v_asym'] * 1e6, 3)} | {t['peaks']} | "
            f"{num(t['r2'], 4)} | {num(t.get('r2_limit'), 3)} | "
            f"{num(t.get('rms_resid_v') and t['rms_resid_v'] * 1e6, 3)} | "
            f"{num(t.get('noise_v') and t['noise_v'] * 1e6, 3)} | "
            f"{'yes' if t.get('kittel') else 'no'} | "
            f"{'yes' if t.get('damping') else 'no'} | {t['note']} |")
    return lines + ["", "R^2 limit: the R^2 a curve leaving only the trace's white noise would "
                    "reach (noise: each point's deviation from the line through its "
                    "neighbours); resid. RMS: data minus fit.", ""]


def plot_field_sweeps(cal, folder) -> list:
    """Every trace with its fit, and the Kittel and damping plot."""
    from pathlib import Path

    from neurospice.analysis import plots

    from ..report import fit_panels

    folder = Path(folder)
    panels = []
    for name, fit in cal.fits.items():
        if name.startswith("trace "):
            p = fit_panels(fit)[0]
            p.update(label=name[len("trace "):], xlabel="mu0 H (T)", ylabel="V_dc (uV)")
            panels.append(p)
    out = [plots.fit_overlay(panels, folder / "traces.png", ncols=4, yscale=1e6, dpi=60,
                             title="rectified voltage vs field: data and fit")]
    table = cal.extra["traces"]
    kit, damp = cal.fits["kittel"], cal.fits["damping"]
    geom = cal.extra["geometry"]
    fmax = max(t["freq_hz"] for t in table)
    grid = np.linspace(0.0, fmax * 1.05, 300)[1:]
    out.append(plots.kittel_plot(
        [t["freq_hz"] for t in table], [t["b_res_t"] for t in table],
        [t["b_res_stderr"] for t in table], grid,
        kittel_field(grid, kit.values["gamma_hz_per_t"], kit.values["meff_t"], geom,
                     kit.values.get("bk_t", 0.0)),
        folder / "kittel.png", width_t=[t["width_t"] for t in table],
        width_err=[t["width_stderr"] for t in table],
        fit_width_t=damp.model.eval(grid, damp.values),
        used=[t.get("kittel", False) for t in table],
        width_used=[t.get("damping", False) for t in table],
        title=f"Kittel ({geom}) and damping"))
    return out


def _spectrum_kwargs(args) -> dict:
    return {**engine_kwargs(args), **({"power_w": args.power} if args.power is not None else {}),
            "verify": not args.no_verify}


def _field_kwargs(args) -> dict:
    return {"geometry": args.geometry, "drop_first": args.drop_first,
            "verify": not args.no_verify}


NO_VERIFY = Option(("--no-verify",), {"action": "store_true",
                                      "help": "skip re-simulating the card in the simulators"})


SPIN_DIODE_SPECTRUM = Recipe(
    "spin-diode-spectrum", "spin_diode",
    "spin diode: f_res, alpha, k_sd, k_sym from V_dc(f) at known RF power",
    run=fit_spin_diode_spectrum, load=load_spectra,
    free=("f_res", "alpha", "k_sd", "k_sym", "v_offset"), model=spin_diode_spectrum_model,
    options=(Option(("--power",), {"type": float, "help": "RF power (W) for spin-diode "
                                                          "spectra without a power column"}),
             NO_VERIFY),
    cli_kwargs=_spectrum_kwargs,
    verify=lambda cal, simulators: verify_spectrum_fit(cal, simulators))

SPIN_DIODE_FIELD = Recipe(
    "spin-diode-field", "spin_diode",
    "spin diode: V_dc(B) per frequency -> resonance field and width, Kittel, damping",
    run=fit_spin_diode_field, load=load_field_sweeps, default=True,
    options=(Option(("--geometry",), {"choices": ["in-plane", "out-of-plane", "auto"],
                                      "default": "in-plane",
                                      "help": "field geometry of spin-diode field sweeps"}),
             Option(("--drop-first",), {"type": count_arg, "default": 0, "metavar": "N",
                                        "help": "samples left out at the start of every "
                                                "spin-diode field sweep (an instrument not "
                                                "yet settled; default 0)"}),
             NO_VERIFY),
    cli_kwargs=_field_kwargs,
    verify=lambda cal, simulators: verify_spectrum(cal.params, simulators=simulators,
                                                   name="V_dc(f) of the card"), shows_fit=lambda name: not name.startswith("trace "),
    plots=plot_field_sweeps, sections=field_sweep_table)

REGISTERED = (SPIN_DIODE_SPECTRUM, SPIN_DIODE_FIELD)
