"""Verification of fitted cards in the simulators: every recipe with a card and a
``verify`` re-simulates it (ngspice and VACASK, through OSDI) and writes rows that pass on
synthetic data; a card that does not hold the fit fails."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.calibration.data import OscillatorCurve, Spectrum
from neurospice.calibration.recipes import RECIPES
from neurospice.calibration.recipes.spin_diode import fit_spin_diode_spectrum, verify_spectrum
from neurospice.calibration.recipes.stno import fit_stno, verify_stno
from neurospice.compact_models.devices import get_device
from neurospice.compact_models.spin_diode import envelope
from neurospice.compact_models.stno import stationary_frequency, stationary_power
from neurospice.simulators import get_simulator

SIMS = tuple(s for s in ("ngspice", "vacask") if get_simulator(s).is_available())
pytestmark = pytest.mark.skipif(not SIMS, reason="neither ngspice nor vacask available")


def test_recipes_with_a_card_verify():
    """The recipes whose model is a device card say how they verify it."""
    for name in ("mtj-rv", "nbox-iv", "spin-diode-spectrum", "spin-diode-field", "stno"):
        assert RECIPES[name].verify is not None, name


def _spectrum(seed=0):
    rng = np.random.default_rng(seed)
    true = {**get_device("spin_diode").defaults(), "f_res": 4.2e9, "alpha": 0.02,
            "k_sd": 5e3, "k_sym": 1e3}
    f = np.linspace(3.6e9, 4.8e9, 121)
    v = envelope(f, 1e-6, true) + rng.normal(0, 5e-5, f.size)
    return Spectrum(source="synthetic", columns={}, units={}, lines=(), freq_hz=f, vdc_v=v, power_w=np.full(f.size, 1e-6))


def test_spin_diode_spectrum_verifies_and_a_wrong_card_fails():
    cal = fit_spin_diode_spectrum(_spectrum(), global_stage=None, verify=True, simulators=SIMS)
    assert len(cal.verification) == len(SIMS)
    assert all(v.passed for v in cal.verification), cal.verification
    wrong = {**cal.params, "k_sd": 1.2 * cal.params["k_sd"]}
    rows = verify_spectrum(wrong, fitted=cal.params, power_w=1e-6, simulators=SIMS[:1])
    assert rows and not rows[0].passed and rows[0].rms_rel > 0.03


def test_spin_diode_field_card_verifies():
    from neurospice.calibration.recipes.base import Calibration

    card = {**get_device("spin_diode").defaults(), "f_res": 6e9, "alpha": 0.03}
    rows = RECIPES["spin-diode-field"].verify(
        Calibration("spin-diode-field", "spin_diode", card, {}, {}), SIMS)
    assert len(rows) == len(SIMS) and all(v.passed for v in rows), rows
    wrong = verify_spectrum({**card, "f_res": 6.1e9}, fitted=card, simulators=SIMS[:1])
    assert not wrong[0].passed


def test_stno_verifies_and_a_wrong_card_fails():
    rng = np.random.default_rng(1)
    true = {**get_device("stno").defaults(), "f0": 6e9, "n_shift": -2e9, "i_th": 1e-5,
            "q": 2.0}
    i = np.linspace(0.5e-5, 4e-5, 40)
    f = stationary_frequency(i, true) + rng.normal(0, 2e6, i.size)
    p = 1e-2 * (i * true["dr"]) ** 2 * stationary_power(i, true) + rng.normal(0, 1e-12, i.size)
    curve = OscillatorCurve(source="synthetic", columns={}, units={}, lines=(),
                           current_a=i, freq_hz=f, power_w=p)
    cal = fit_stno(curve, global_stage=None, verify=True, simulators=SIMS)
    assert len(cal.verification) == len(SIMS)
    assert all(v.passed for v in cal.verification), cal.verification
    wrong = {**cal.params, "n_shift": 1.2 * cal.params["n_shift"]}
    rows = verify_stno(wrong, fitted=cal.params, simulators=SIMS[:1])
    assert not rows[0].passed and rows[0].rms_rel > 0.03


def _mtj_sweeps(seed=0, noise=0.005):
    from neurospice.calibration.data import IVSweep

    rng = np.random.default_rng(seed)
    dev = get_device("mtj")
    v = np.r_[np.linspace(-0.6, -0.01, 40), np.linspace(0.01, 0.6, 40)]
    truth = {**dev.defaults(), "rp": 2500.0, "tmr0": 1.2, "vh": 0.35}
    return [IVSweep(source="synthetic", columns={}, units={}, lines=(), voltage_v=v,
                    current_a=dev.numpy.dc_current({"p": v}, {**truth, "m0": m0})["p,n"]
                    * (1 + rng.normal(0, noise, v.size))) for m0 in (1.0, -1.0)]


def test_mtj_verify_checks_the_card_against_the_data_and_a_wrong_card_fails():
    """mtj-rv's verify compares the re-simulated card with the measured currents (not with
    the card's own numpy curve): the fitted card is as close to the data as the fit was in
    every simulator; the same card with rp 3 % off (what the 0.5 % noise cannot hide) fails,
    through verify_mtj and through the recipe's verify of a Calibration holding it."""
    from neurospice.calibration.recipes.base import Calibration
    from neurospice.calibration.recipes.mtj import fit_mtj_rv, verify_mtj

    cal = fit_mtj_rv(_mtj_sweeps(), global_stage=None, verify=True, simulators=SIMS)
    assert len(cal.verification) == 2 * len(SIMS)
    fit = cal.fits["R(V)"]
    for row in cal.verification:
        assert row.passed, row
        assert "R^2 of the card" in row.note and "R^2 of the fit" in row.note
    wrong = {**cal.params, "rp": 1.03 * cal.params["rp"]}
    rows = verify_mtj(fit, card=wrong, simulators=SIMS)
    assert len(rows) == 2 * len(SIMS) and not any(r.passed for r in rows), rows
    good = {r.dataset: r.rms_rel for r in cal.verification}
    assert all(r.rms_rel > 2 * good[r.dataset] for r in rows)
    rows = RECIPES["mtj-rv"].verify(Calibration("mtj-rv", "mtj", wrong, {}, {"R(V)": fit}),
                                    SIMS[:1])
    assert rows and not any(r.passed for r in rows)
