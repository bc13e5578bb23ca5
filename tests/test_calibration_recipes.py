"""Recipes on synthetic ground truth (recovery within 2 standard errors; standard errors
within a factor 2 of the scatter over 20 noisy repeats), the verify step in the simulators,
and the spin-diode recipe on the measured Ta/CoFeB field sweeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurospice import datasets
from neurospice.calibration import (IVSweep, OscillatorCurve, Spectrum, fit_mtj_rv,
                                    fit_spin_diode_field, fit_spin_diode_spectrum,
                                    fit_spin_diode_trace, fit_stno, load_spin_diode_sweeps,
                                    write_outputs)
from neurospice.calibration.fit import Dataset, Fit
from neurospice.calibration.recipes.spin_diode import kittel_field, kittel_model
from neurospice.compact_models.devices import get_device
from neurospice.simulators import get_simulator

SPIN_DIODE = datasets.path("spin_diode_tacofeb") / "5360_2p.csv"
REPEATS = 20


def _meta(n):
    return {"source": Path("synthetic"), "columns": {}, "units": {}, "lines": np.arange(n)}


def _check(cal_or_fits, truth, names):
    for name in names:
        value, err = cal_or_fits(name)
        assert err is not None and err > 0, name
        assert abs(value - truth[name]) < 2 * err, (name, value, truth[name], err)


def _repeat_ratio(make_fit, names):
    """reported stderr of the first fit / scatter of the estimates over REPEATS fits."""
    fits = [make_fit(k) for k in range(REPEATS + 1)]
    est = np.array([[f.value(n) for n in names] for f in fits[1:]])
    return {n: fits[0].stderr[n] / est[:, k].std(ddof=1) for k, n in enumerate(names)}


# --------------------------------------------------------------------------- MTJ
MTJ = get_device("mtj")
MTJ_TRUTH = {"rp": 2500.0, "tmr0": 1.2, "vh": 0.35}
V = np.r_[np.linspace(-0.6, -0.01, 50), np.linspace(0.01, 0.6, 50)]


def _mtj_sweeps(seed, noise=0.005):
    rng = np.random.default_rng(seed)
    out = []
    for m0 in (1.0, -1.0):
        i = MTJ.numpy.dc_current({"p": V}, {**MTJ_TRUTH, "m0": m0})["p,n"]
        out.append(IVSweep(voltage_v=V, current_a=i * (1 + rng.normal(0, noise, V.size)),
                           **_meta(V.size)))
    return out


@pytest.mark.slow
def test_mtj_recipe_recovers_and_reports_honest_errors():
    cal = fit_mtj_rv(_mtj_sweeps(0), seed=1)
    fit = cal.fits["R(V)"]
    assert [d.fixed["m0"] for d in fit.datasets] == [1.0, -1.0]     # told apart by R
    _check(lambda n: (cal.params[n], cal.stderr[n]), MTJ_TRUTH, MTJ_TRUTH)
    ratios = _repeat_ratio(lambda k: fit_mtj_rv(_mtj_sweeps(100 + k), global_stage=None)
                           .fits["R(V)"], list(MTJ_TRUTH))
    for n, r in ratios.items():
        assert 0.5 < r < 2.0, (n, r)


@pytest.mark.ngspice
def test_mtj_verify_step_in_ngspice_within_one_percent():
    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not installed")
    cal = fit_mtj_rv(_mtj_sweeps(3), global_stage=None, verify=True, simulators=("ngspice",))
    assert len(cal.verification) == 2
    for v in cal.verification:
        assert v.simulator == "ngspice" and v.passed and v.rms_rel < 0.01, v


@pytest.mark.vacask
def test_mtj_verify_step_in_vacask():
    if not get_simulator("vacask").is_available():
        pytest.skip("VACASK not installed")
    cal = fit_mtj_rv(_mtj_sweeps(4), global_stage=None, verify=True, simulators=("vacask",))
    assert all(v.passed for v in cal.verification)


# --------------------------------------------------------------------------- spin diode, f
SD_TRUTH = {"f_res": 5e9, "alpha": 0.02, "k_sd": 8800.0, "k_sym": 3000.0, "v_offset": 0.0}
F = np.linspace(4e9, 6e9, 160)
P_RF = 1e-6


def _spectrum(seed, noise=1e-4):
    from neurospice.compact_models.spin_diode import envelope

    rng = np.random.default_rng(seed)
    card = {k: v for k, v in SD_TRUTH.items() if k != "v_offset"}
    v = envelope(F, P_RF, card) + rng.normal(0, noise, F.size)
    return Spectrum(freq_hz=F, vdc_v=v, power_w=np.full(F.size, P_RF), **_meta(F.size))


def test_spin_diode_spectrum_recipe():
    cal = fit_spin_diode_spectrum(_spectrum(0), seed=2)
    fit = cal.fits["V(f)"]
    _check(lambda n: (fit.value(n), fit.stderr[n]), SD_TRUTH, ["f_res", "alpha", "k_sd",
                                                               "k_sym"])
    ratios = _repeat_ratio(lambda k: fit_spin_diode_spectrum(_spectrum(50 + k),
                                                             global_stage=None).fits["V(f)"],
                           ["f_res", "alpha", "k_sd", "k_sym"])
    for n, r in ratios.items():
        assert 0.5 < r < 2.0, (n, r)


# --------------------------------------------------------------------------- spin diode, B
TRACE_TRUTH = {"b_res": 0.42, "width": 0.015, "v_sym": -6e-6, "v_asym": 1.5e-6}
B = np.linspace(0.0, 0.8, 151)


def _trace(seed, truth=TRACE_TRUTH, noise=0.15e-6):
    rng = np.random.default_rng(seed)
    d = B - truth["b_res"]
    den = d ** 2 + truth["width"] ** 2
    v = (truth["v_sym"] * truth["width"] ** 2 + truth["v_asym"] * truth["width"] * d) / den
    return v - 2e-6 + 1e-6 * B + rng.normal(0, noise, B.size)


def test_field_trace_fit_recovers_resonance_and_width():
    fit = fit_spin_diode_trace(B, _trace(0), peaks=1)
    _check(lambda n: (fit.value(n), fit.stderr[n]), TRACE_TRUTH, TRACE_TRUTH)
    assert fit.r2 > 0.95
    ratios = _repeat_ratio(lambda k: fit_spin_diode_trace(B, _trace(10 + k), peaks=1),
                           ["b_res", "width"])
    for n, r in ratios.items():
        assert 0.5 < r < 2.0, (n, r)


def test_field_trace_spline_baseline_under_a_drifting_background():
    """A weak line on a large background with a slow drift (a sine of 0.35 T period): the
    quadratic leaves R^2 < 0.9, the spline baseline (chosen automatically) recovers the line."""
    truth = {"b_res": 0.42, "width": 0.015, "v_sym": -3e-6, "v_asym": 0.5e-6}
    drift = 0.4e-6 * np.sin(2 * np.pi * B / 0.35) + 0.24e-6 * np.cos(2 * np.pi * B / 0.5)
    v = _trace(3, truth, noise=0.1e-6) + drift
    quad = fit_spin_diode_trace(B, v, peaks=1, baseline="quadratic")
    fit = fit_spin_diode_trace(B, v, peaks=1)
    assert quad.r2 < 0.9 and "bg0" not in quad.values
    assert "bg0" in fit.values and fit.r2 > 0.95
    _check(lambda n: (fit.value(n), fit.stderr[n]), truth, ["b_res"])
    assert fit.value("width") == pytest.approx(truth["width"], rel=0.2)   # the wings blur


KITTEL = {"gamma_hz_per_t": 28e9, "meff_t": -0.2}
FREQS = np.arange(6e9, 18e9, 1e9)


def test_kittel_fit_uncertainty():
    sig = 1e-3

    def make(k):
        rng = np.random.default_rng(200 + k)
        b = kittel_field(FREQS, KITTEL["gamma_hz_per_t"], KITTEL["meff_t"])
        ds = Dataset(FREQS, b + rng.normal(0, sig, FREQS.size), sigma=sig)
        return Fit(kittel_model("in-plane"), ds, global_stage=None,
                   values={"gamma_hz_per_t": 3e10, "meff_t": 0.0}, noise=None).run()

    first = make(0)
    _check(lambda n: (first.value(n), first.stderr[n]), KITTEL, KITTEL)
    for n, r in _repeat_ratio(make, list(KITTEL)).items():
        assert 0.5 < r < 2.0, (n, r)


def test_field_recipe_on_synthetic_sweeps():
    alpha, w0 = 0.01, 0.004
    sweeps = []
    rng_seed = 0
    for f in FREQS:
        br = float(kittel_field(f, KITTEL["gamma_hz_per_t"], KITTEL["meff_t"]))
        w = w0 + alpha * f / KITTEL["gamma_hz_per_t"]
        truth = {"b_res": br, "width": w, "v_sym": -5e-6, "v_asym": 1e-6}
        sweeps.append(Spectrum(freq_hz=np.full(B.size, f), field_t=B,
                               vdc_v=_trace(rng_seed, truth, 0.05e-6), **_meta(B.size)))
        rng_seed += 1
    cal = fit_spin_diode_field(sweeps, peaks=1, conf_int="stderr")
    truth = {**KITTEL, "gilbert_damping": alpha, "width0_t": w0}
    _check(lambda n: (cal.derived[n]["value"], cal.derived[n]["stderr"]), truth, truth)
    assert all(t["r2"] > 0.9 for t in cal.extra["traces"])
    assert cal.params["f_res"] > 0 and 0 < cal.params["alpha"] < 0.5


# --------------------------------------------------------------------------- STNO
STNO_TRUTH = {"f0": 5e9, "n_shift": -1.5e9, "i_th": 10e-6, "q": 2.0, "p_gain": 1e-2}
I = np.linspace(1e-6, 60e-6, 90)


def _osc(seed):
    from neurospice.compact_models.stno import stationary_frequency, stationary_power

    rng = np.random.default_rng(seed)
    card = {k: v for k, v in STNO_TRUTH.items() if k != "p_gain"}
    dr = get_device("stno").defaults()["dr"]
    f = stationary_frequency(I, card) + rng.normal(0, 5e6, I.size)
    p = STNO_TRUTH["p_gain"] * (I * dr) ** 2 * stationary_power(I, card)
    p = p + rng.normal(0, 1e-10, I.size)
    return OscillatorCurve(current_a=I, freq_hz=f, power_w=p, **_meta(I.size))


@pytest.mark.slow
def test_stno_recipe():
    cal = fit_stno(_osc(0), seed=0)
    fit = cal.fits["f(I), P(I)"]
    names = ["f0", "n_shift", "i_th", "q"]
    _check(lambda n: (fit.value(n), fit.stderr[n]), STNO_TRUTH, names)
    ratios = _repeat_ratio(lambda k: fit_stno(_osc(30 + k), global_stage=None)
                           .fits["f(I), P(I)"], names)
    for n, r in ratios.items():
        assert 0.5 < r < 2.0, (n, r)


# --------------------------------------------------------------------------- measured data
def test_spin_diode_recipe_on_measured_field_sweeps(tmp_path):
    sweeps = load_spin_diode_sweeps(SPIN_DIODE)
    cal = fit_spin_diode_field(sweeps, drop_first=1)   # the lock-in not yet settled
    traces = cal.extra["traces"]
    assert len(traces) == 17
    # the first sample of a sweep reads 0.3-0.8 times the next in 14 of 17 traces
    firsts = [s.vdc_v[0] / s.vdc_v[1] for s in sweeps]
    assert sum(0.3 < r < 0.8 for r in firsts) >= 14
    assert any("first 1 sample" in n for n in cal.notes)
    # 2-17 GHz: R^2 > 0.9; in the Kittel fit unless the line sits below saturation (2 GHz:
    # 214 mT against |mu0 M_eff| ~ 0.22 T, where the in-plane Kittel law does not hold)
    for t in traces:
        if t["freq_hz"] > 1.5e9:
            assert t["r2"] > 0.9 and t["baseline"] == "quadratic", t
            assert t["kittel"] or "below saturation" in t["note"], t
    assert sum(t["kittel"] for t in traces) >= 15
    # per-trace errors carry the residuals' correlation (lag-1 autocorrelation > 0 here);
    # with them the damping law fits to a reduced chi-square near one
    assert all(t["stderr_scale"] > 1.2 for t in traces)
    assert 0.5 < cal.fits["damping"].redchi < 2.0
    # 1 GHz: a weak line (~3.7 uV) near the saturation field on a 16 uV background that
    # drifts by ~1 uV. R^2 stays under 0.9 (and the trace is left out), yet the fit is as good
    # as the data allow: its white noise caps R^2 near 0.93, and what it leaves beyond the
    # white noise is no more than the 2-6 GHz traces leave (residual RMS / noise)
    one = traces[0]
    assert one["trace"] == "1 GHz" and one["baseline"] == "spline" and 0.8 < one["r2"] < 0.9
    assert one["r2_limit"] < 0.95 and "white noise allows" in one["note"]
    excess = [t["rms_resid_v"] / t["noise_v"] for t in traces[1:6]]
    assert one["rms_resid_v"] / one["noise_v"] <= min(excess) * 1.1, (one, excess)
    assert 0.17 < one["b_res_t"] < 0.23 and not one["kittel"], one
    assert any("1 GHz" in w for w in cal.warnings)
    g, m = cal.derived["gamma_hz_per_t"], cal.derived["meff_t"]
    assert 26e9 < g["value"] < 30e9 and g["stderr"] < 0.02 * g["value"]
    assert -0.25 < m["value"] < -0.17                 # perpendicular anisotropy
    assert 0 <= cal.derived["gilbert_damping"]["value"] < 0.05
    paths = write_outputs(cal, tmp_path, plots=False)
    assert (tmp_path / "report.md").exists() and paths[0].name == "spin_diode.json"
    report = (tmp_path / "report.md").read_text()
    assert "| R^2 limit |" in report and "first 1 sample(s)" in report
