"""The NbOx/VO2 threshold switch: quasi-static S-type NDR, and its four renderings agreeing.

Tolerances: the renderings are compared on a slow voltage ramp through the snap-back; the
switching edge is a ~1 ns thermal runaway, so its time is compared (rtol 2e-3 of the ramp
time) and the currents/temperatures away from the edges (within 1e-3 of the swing plus 1 uA /
0.1 K absolute: the simulators' reltol is 1e-5, their step control a few 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.nbox import static_curve, sweep_currents, threshold_hold
from neurospice.netlists import Circuit, Pwl
from neurospice.simulators import get_simulator

NBOX = get_device("nbox")
VO2 = {"mix": 1.0, "t_c": 340.0, "w_c": 3.0, "g_met": 5e-3, "ea": 0.25, "g_ref": 2e-6}


def _have(name):
    return get_simulator(name).is_available()


def test_defaults_put_vth_vh_in_the_nbo2_range():
    v_th, v_h = threshold_hold(include_env=False)
    assert 0.8 < v_th < 1.2 and 0.5 < v_h < 0.8 and v_h < v_th - 0.2
    v_th2, v_h2 = threshold_hold()      # surroundings heated too: both a little lower
    assert v_th2 < v_th and v_h2 < v_h


def test_quasi_static_iv_is_s_shaped():
    temp, v, i = static_curve()
    assert np.all(np.diff(i) > 0)                    # current-controlled: i single-valued
    dv = np.diff(v)
    assert np.any(dv < 0) and dv[0] > 0 and dv[-1] > 0   # rise, NDR, rise
    vu = np.linspace(0.0, 1.5, 201)[1:]
    vd = vu[::-1]
    iu, idn = sweep_currents(None, vu, vd)
    # the up sweep snaps at V_th, the down sweep recovers at V_h: a hysteresis window
    v_th, v_h = threshold_hold()
    jump_up = vu[np.argmax(np.diff(iu)) + 1]
    jump_dn = vd[np.argmax(np.abs(np.diff(idn)))]
    assert jump_up == pytest.approx(v_th, abs=0.01)
    assert jump_dn == pytest.approx(v_h, abs=0.01)


def test_vo2_family_also_snaps_back():
    v_th, v_h = threshold_hold(VO2)
    assert v_h < v_th
    temp, v, i = static_curve(VO2)
    k = np.flatnonzero(np.diff(v) < 0)[0]            # the threshold (first fold)
    assert temp[k] < 340.0 + 3 * VO2["w_c"]          # at the transition, not far above it


def test_dc_holds_temperature_at_ambient():
    cur = NBOX.numpy.dc_current({"p": 1e-3})["p,n"]
    p = NBOX.params()
    # at 1 mV the field lowering adds < 2 %: the low-field conductance g_ref at t_amb = t_ref
    assert float(cur) == pytest.approx(1e-3 * p["g_ref"] / (1 + p["g_ref"] * p["r_c"]),
                                       rel=0.02)


def _ramp():
    return Pwl([0.0, 2e-6, 3e-6, 5e-6, 5.5e-6], [0.0, 1.2, 1.2, 0.0, 0.0])


def _circuit(rendering):
    c = Circuit(f"nbox ramp {rendering}")
    c.vsource("in", "a", "0", waveform=_ramp())
    NBOX.add_to(c, "1", ["a", "s", "0"], rendering=rendering)
    c.vsource("sns", "s", "0", 0.0)
    c.option("reltol", 1e-5)
    c.tran(5e-9, 5.5e-6, max_step=5e-9)
    return c


def _edges(t, i):
    """Times of the up and down switching edges (largest current steps)."""
    di = np.diff(i)
    return t[np.argmax(di)], t[np.argmin(di)]


CASES = [("ngspice", "osdi"), ("ngspice", "subckt"), ("vacask", "osdi")]


@pytest.mark.parametrize("sim,rendering", CASES)
def test_renderings_agree_with_numpy(sim, rendering):
    if not _have(sim):
        pytest.skip(f"{sim} not installed")
    res = get_simulator(sim).run(_circuit(rendering), timeout=120).tran
    t = np.linspace(0, 5.5e-6, 5501)
    ref = NBOX.numpy.transient(t, {"p": (np.asarray(_ramp().times), np.asarray(_ramp().values))},
                               max_step=5e-9, rtol=1e-7)
    i_ref = ref.currents["p,n"]
    i_sim = np.interp(t, res.axis, res["i(vsns)"])
    t_sim = np.interp(t, res.axis, res["v(x1.s_t)" if rendering == "subckt" else "v(n1.s_t)"]) * 1e3
    up_r, dn_r = _edges(t, i_ref)
    up_s, dn_s = _edges(t, i_sim)
    assert up_s == pytest.approx(up_r, rel=2e-3) and dn_s == pytest.approx(dn_r, rel=2e-3)
    assert 0.8 < 1.2 * up_r / 2e-6 < 1.2              # it switches at V_th ~ 1 V
    away = (np.abs(t - up_r) > 50e-9) & (np.abs(t - dn_r) > 50e-9)
    np.testing.assert_allclose(i_sim[away], i_ref[away], rtol=0,
                               atol=1e-3 * np.ptp(i_ref) + 1e-6)
    np.testing.assert_allclose(t_sim[away], ref.states["T"][away], rtol=0,
                               atol=1e-3 * np.ptp(ref.states["T"]) + 0.1)


def test_noise_input_moves_the_temperature():
    """A unit noise sample holds T higher by t_noise (steady state, no power)."""
    _, rates = NBOX.numpy.evaluate({"p": 0.0, "xi": 1.0}, {"T": 300.0, "Ts": 300.0},
                                   {"t_noise": 5.0})
    p = NBOX.params()
    assert rates["T"] == pytest.approx(5.0 / p["r_th"] / p["c_th"], rel=1e-9)


@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice not available")
def test_subcircuit_rendering_runs_a_long_neuron_transient():
    """100 us of tonic spiking through the behavioral subcircuit in ngspice (its conductances
    and oxide voltage live on scaled internal nodes): it completes and fires as the OSDI
    rendering does (spike count equal, first and last spike within 1 %)."""
    from neurospice.analysis.spikes import detect_spikes
    from neurospice.circuits import neurons

    times = {}
    for rendering in ("subckt", "osdi"):
        c, stim = neurons.tonic(rendering=rendering, t_stop=100e-6)
        res = get_simulator("ngspice").run(c, timeout=300).tran
        times[rendering] = detect_spikes(res.axis, res[neurons.SPIKE_CURRENT],
                                         threshold=stim.spike_threshold,
                                         hysteresis=stim.spike_hysteresis).times
    assert len(times["subckt"]) == len(times["osdi"]) > 50
    np.testing.assert_allclose(times["subckt"][[0, -1]], times["osdi"][[0, -1]], rtol=1e-2)
