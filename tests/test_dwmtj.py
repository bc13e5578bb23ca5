"""Domain-wall MTJ synapse: stepping through 2/3/5 states, the stochastic landing position
(sigma), the energy per update, and SPICE vs numpy."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.compact_models import dwmtj
from neurospice.compact_models.devices import get_device
from neurospice.netlists import Circuit, Pwl
from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param

DW = get_device("dwmtj")
I_PROG = 75e-6          # J = 1e12 A/m^2 in the default 50 nm x 1.5 nm track
PERIOD = 3e-9           # pulse + ~8 relaxation times


def _sequence(nst):
    """Up through every state, then back down."""
    return [I_PROG] * (nst - 1) + [-I_PROG] * (nst - 1)


def _params(nst):
    sites = dwmtj.sites({"nst": nst})
    return {"nst": float(nst), "q0": float(sites[0])}


def test_readout_conductance_and_velocity_law():
    p = DW.params()
    for q in (0.0, 50e-9, p["ltrack"]):
        i = DW.numpy.dc_current({"p": 0.01}, {"q0": q})["p,n"]
        assert i / 0.01 == pytest.approx(float(dwmtj.conductance(q)), rel=1e-12)
    assert dwmtj.conductance(p["ltrack"]) == pytest.approx(p["gp"], rel=1e-12)
    # half the depinning current: far slower than the pinning (vpin), so the wall stays pinned
    assert abs(dwmtj.wall_velocity(0.5 * p["jdep"] * p["wt"] * p["tfl"])) < 1e-2 * p["vpin"]
    v = dwmtj.wall_velocity(np.array([1e-4, 1e-3, 1e-2]))
    assert np.all(np.diff(v) > 0) and v[-1] <= p["vsat"] and v[-1] > 0.99 * p["vsat"]
    assert dwmtj.wall_velocity(-1e-4) == pytest.approx(-dwmtj.wall_velocity(1e-4), rel=1e-12)
    with pytest.raises(ValueError, match="does not depin"):
        dwmtj.step_pulse_width(1e-6)


@pytest.mark.parametrize("nst", [2, 3, 5])
def test_pulses_step_through_the_states(nst):
    """Deterministic (sigma = 0): each programming pulse advances the wall by one site, up
    to the last state and back down; the conductance takes the nst nominal levels."""
    params = {**_params(nst), "sigma": 0.0}
    width = dwmtj.step_pulse_width(I_PROG, params)
    q, _ = dwmtj.simulate_pulses(_sequence(nst), width, PERIOD, params=params)
    sites = dwmtj.sites(params)
    expect = np.concatenate([sites, sites[-2::-1]])
    np.testing.assert_allclose(q[:, 0], expect, atol=0.02 * sites[0], rtol=0)
    g = dwmtj.conductance(q[:nst, 0], params)
    assert np.all(np.diff(g) > 0) and len(np.unique(np.round(g, 8))) == nst


@pytest.mark.parametrize("nst", [2, 3, 5])
def test_landing_position_spread_matches_sigma(nst):
    """1000 seeded repeats of the sequence: around every site the position's standard
    deviation equals sigma within 10 % (measured: within ~4 %), its mean the site within
    0.2 sigma."""
    params = _params(nst)
    width = dwmtj.step_pulse_width(I_PROG, params)
    seq = _sequence(nst)
    xi = np.random.default_rng(100 + nst).standard_normal((len(seq), 1000))
    q, _ = dwmtj.simulate_pulses(seq, width, PERIOD, n_repeats=1000, params=params, xi=xi)
    sites = dwmtj.sites(params)
    targets = np.concatenate([sites[1:], sites[-2::-1]])
    sigma = DW.params(params)["sigma"]
    for k, site in enumerate(targets):
        assert q[k + 1].std(ddof=1) == pytest.approx(sigma, rel=0.10), (nst, k)
        assert abs(q[k + 1].mean() - site) < 0.2 * sigma, (nst, k)


def test_energy_per_update_is_femtojoules():
    """Energy per update for the nanoscale defaults: ~1 fJ (I^2 R t for 75 uA, 0.5-1.25 kOhm,
    0.28 ns); the numpy record agrees with I^2 t / G(q) within 5 %."""
    params = _params(5)
    width = dwmtj.step_pulse_width(I_PROG, params)
    q, energy = dwmtj.simulate_pulses(_sequence(5), width, PERIOD, params=params)
    assert np.all((energy > 0.1e-15) & (energy < 10e-15))
    approx = I_PROG ** 2 * (width + 20e-12) / dwmtj.conductance(0.5 * (q[:-1] + q[1:]), params)
    np.testing.assert_allclose(energy, approx, rtol=0.05)


@pytest.mark.parametrize("sim,rendering", [
    pytest.param(s, r, marks=simulator_param(s).marks, id=f"{s}-{r}")
    for s, r in (("ngspice", "osdi"), ("ngspice", "subckt"), ("vacask", "osdi"))])
def test_spice_agrees_with_the_numpy_pulse_model(sim, rendering):
    """The 5-state sequence with seeded landing noise through SPICE (current-source pulses,
    noise PWL from the same samples): the position after every pulse within 0.05 sigma of the
    numpy pulse model, and the energy per pulse (integral of v i) within 2 %."""
    params = _params(5)
    width = dwmtj.step_pulse_width(I_PROG, params)
    seq = _sequence(5)
    xi = np.random.default_rng(7).standard_normal(len(seq))
    q_ref, e_ref = dwmtj.simulate_pulses(seq, width, PERIOD, params=params, xi=xi[:, None])
    t_i, i_i, t_x, v_x = dwmtj.pulse_waveforms(seq, width, PERIOD, xi=xi)
    c = Circuit("dw-mtj programming")
    c.isource("prog", 0, "a", waveform=Pwl(t_i, i_i))
    c.vsource("xi", "x", 0, waveform=Pwl(t_x, v_x))
    DW.add_to(c, "1", ["a", 0, "x"], rendering=rendering, params=params)
    c.option("reltol", 1e-5)
    c.tran(5e-12, t_i[-1], max_step=10e-12)
    res = get_simulator(sim).run(c).tran
    q = res[next(n for n in res.names if n.endswith(".s_q)"))] * 1e-7
    ends = 0.5e-9 + np.arange(len(seq) + 1) * PERIOD - 0.05e-9
    ends[0] = 0.2e-9
    np.testing.assert_allclose(np.interp(ends, res.axis, q), q_ref[:, 0],
                               atol=0.05 * DW.params()["sigma"], rtol=0)
    windows = [(0.5e-9 + k * PERIOD, 0.5e-9 + (k + 1) * PERIOD) for k in range(len(seq))]
    e = dwmtj.programming_energy(res.axis, res["v(a)"], np.interp(res.axis, t_i, i_i), windows)
    np.testing.assert_allclose(e, e_ref[:, 0], rtol=0.02)
