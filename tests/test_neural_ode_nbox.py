"""The NbOx spike-time case of the neural-ODE models (issue #18): the known-physics part
(RC charging), the pulse-train recordings of the NbOx neuron, the spike-time comparison,
how the inputs are presented to the simulators (corners only), the switch learned from its
voltage and current as a network (its renderings, its training, its neuron in numpy, ngspice
and VACASK; not within 2 %), as a grey box (the fit; the 2 % acceptance on held-out
trains in numpy, ngspice and VACASK) and as a hybrid, the grey box plus a learned factor
(its device built from the nbox definition, its renderings, the 2 % acceptance:
docs/guides/neural_ode.md)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from neurospice.calibration.recipes.neural_ode import pwl_corners, train
from neurospice.compact_models.neural_ode import NeuralODE, rc_charging
from neurospice.circuits.neural_ode_nbox import compare_spike_times, nbox_recording
from neurospice.compact_models.neural_ode.recordings import pulse_onsets, random_pulses
from neurospice.errors import NetlistError


def _hybrid(tau, dt=5e-9, embedding=2):
    """A model whose network outputs nothing: only the known RC charging acts."""
    m = NeuralODE.create(["v"], "y", dt=dt, u_offset=[1.2], u_scale=[0.9], y_offset=0.4,
                         y_scale=0.3, embedding=embedding, delay=2, hidden=(4,), seed=0)
    a, b, c = rc_charging(tau)(m)
    w, _ = m.weights[-1]
    return replace(m, linear=(a, b), weights=[m.weights[0], (0 * w, np.asarray(c))])


def test_rc_charging_is_the_rc_node_in_si():
    """With the network silent, the hybrid model is dv/dt = (u - v) / tau exactly (RK4:
    1e-9 of the swing), for each coordinate of the embedding."""
    tau, dt, n = 2e-6, 5e-9, 800
    m = _hybrid(tau, dt)
    y, z = m.simulate(np.full(n, 2.0), y0=[0.1, 0.1], states=True)
    t = np.arange(n) * dt
    exact = 2.0 - 1.9 * np.exp(-t / tau)
    assert np.max(np.abs(y - exact)) < 1e-9 * 1.9
    np.testing.assert_allclose(m.y_offset + m.y_scale * z[:, 1], exact, atol=1e-9)
    with pytest.raises(NetlistError, match="tau"):
        rc_charging(-1.0)
    with pytest.raises(NetlistError, match="input 1"):
        rc_charging(1e-6, input=1)(m)


def test_training_takes_known_physics_as_a_function_and_focus():
    """train() scales a known part given in SI to its own normalisation (the model it
    returns holds it), and draws focused windows without error."""
    t = np.arange(600) * 5e-9
    u = random_pulses(600, 5e-9, amplitude=(1.0, 2.0), width=(0.3e-6, 0.6e-6),
                      gap=(0.2e-6, 0.4e-6), seed=3)
    y = _hybrid(2e-6).simulate(u, y0=0.0)
    res = train([(t, u, y)], embedding=2, delay=2, hidden=(4,), iterations=4, window=10,
                linear=rc_charging(2e-6), focus=0.5, eval_every=2)
    a, b, c = rc_charging(2e-6)(res.model)
    np.testing.assert_array_equal(res.model.linear[0], a)
    np.testing.assert_array_equal(res.model.linear[1], b)


def test_pwl_corners_are_the_same_waveform():
    t = np.arange(50) * 1e-9
    x = np.interp(t, [0, 10e-9, 11e-9, 30e-9, 32e-9, 49e-9], [0, 0, 2.0, 2.0, -1.0, 0.5])
    tc, xc = pwl_corners(t, x)
    assert list(np.round(tc * 1e9).astype(int)) == [0, 10, 11, 30, 32, 49]
    np.testing.assert_allclose(np.interp(t, tc, xc), x, atol=1e-15)


def test_random_pulses_put_every_corner_on_a_sample():
    dt = 5e-9
    v = random_pulses(3000, dt, seed=4)
    tc, vc = pwl_corners(np.arange(3000) * dt, v)
    on = pulse_onsets(np.arange(3000) * dt, v)
    assert len(on) >= 3 and np.all(vc >= 0) and 1.9 <= vc[vc > 0].min()
    assert vc.max() <= 2.8
    # trapezoids: at most four corners a pulse (onset, top, end of top, back at 0) besides
    # the two ends, the first at the onset
    assert len(tc) <= 2 + 4 * len(on) and set(on) <= set(tc)


def test_nbox_recording_spikes_and_the_spike_time_comparison():
    """The neuron fires during the pulses only; the comparison measures each spike from its
    pulse's onset, and a different count is the worst error."""
    rec = nbox_recording(1600, seed=0)                  # 8 us: two pulses
    cmp = compare_spike_times(rec.time, rec.inputs[:, 0], rec.truth, rec.truth)
    assert len(cmp.physics) >= 3 and cmp.same_count and cmp.worst == 0.0
    on = pulse_onsets(rec.time, rec.inputs[:, 0])
    assert np.all(np.interp(cmp.physics, rec.time, rec.inputs[:, 0]) > 1.8)
    assert np.all(cmp.latency > 0.3e-6)                  # charging from rest takes ~0.6 us
    late = np.roll(rec.truth, 2)                          # every spike 10 ns late
    late[:2] = rec.truth[0]
    shifted = compare_spike_times(rec.time, rec.inputs[:, 0], rec.truth, late)
    np.testing.assert_allclose(shifted.error, 10e-9, atol=1e-12)
    assert shifted.worst == pytest.approx(np.max(10e-9 / shifted.latency))
    flat = compare_spike_times(rec.time, rec.inputs[:, 0], rec.truth,
                               np.full_like(rec.truth, 0.5))
    assert not flat.same_count and flat.worst == np.inf
    assert on[0] == pytest.approx(0.3e-6 - 5e-9)
    # the measurement noise is there and the spikes survive it
    assert 1e-3 < np.std(rec.output - rec.truth) < 3e-3
    assert len(compare_spike_times(rec.time, rec.inputs[:, 0], rec.truth,
                                   rec.output).learned) == len(cmp.physics)


# --------------------------------------------------------------------------- the learned switch
def _have(name):
    from neurospice.simulators import get_simulator

    return get_simulator(name).is_available()


def _switch(seed=0):
    """A learned switch with seeded random weights (no training), positive along the
    current's path so that its curve rises with the current (stable) and spans -1.5..2.5 V:
    the renderings' network, heating states and current are all exercised."""
    from neurospice.compact_models.neural_ode.two_terminal import NeuralTwoTerminal

    rng = np.random.default_rng(seed)
    w1 = np.abs(rng.normal(0, 1.0, (6, 3))) * [1.0, 0.3, -0.3]
    w2 = np.abs(rng.normal(0, 1.0, (5, 6)))
    w3 = np.abs(rng.normal(0, 1.0, (1, 5)))
    weights = [(w1, rng.normal(0, 0.3, 6)), (w2 / w2.sum(axis=1, keepdims=True), np.zeros(5)),
               (2.0 * w3 / w3.sum(), np.zeros(1))]
    return NeuralTwoTerminal(5e-6, 2e-9, (50e-9,), 0.5, 1.0, [1.0, 1e-5, 1e-10],
                             [1.0, 1e-5, 1e-10], weights, name="switch_t")


def test_switch_features_states_and_errors():
    """The features are asinh(i / i_scale) and the exact low-passes of v i and i^2 from
    rest; the description round-trips; bad inputs are NetlistErrors naming the field."""
    from neurospice.compact_models.neural_ode import low_pass
    from neurospice.compact_models.neural_ode.two_terminal import NeuralTwoTerminal

    m = _switch()
    v = np.linspace(0.0, 1.0, 50)
    i = 1e-5 * v ** 2
    f = m.features(v, i, 1e-9)
    np.testing.assert_allclose(f[:, 0], np.arcsinh(i / 5e-6))
    np.testing.assert_allclose(f[:, 1], low_pass(np.r_[0.0, v * i], 50e-9, 1e-9)[1:])
    np.testing.assert_allclose(f[:, 2], low_pass(np.r_[0.0, i * i], 50e-9, 1e-9)[1:])
    again = NeuralTwoTerminal.from_dict(json.loads(m.to_json()))
    np.testing.assert_array_equal(again.curve(f), m.curve(f))
    with pytest.raises(NetlistError, match="relax"):
        NeuralTwoTerminal(5e-6, -1.0, (), 0.0, 1.0, [0.0], [1.0], [(np.ones((1, 1)), [0.0])])
    with pytest.raises(NetlistError, match="lacks"):
        NeuralTwoTerminal.from_dict({"i_scale": 1.0})
    with pytest.raises(NetlistError, match="layer 0"):
        NeuralTwoTerminal(5e-6, 1e-9, (), 0.0, 1.0, [0.0], [1.0], [(np.ones((2, 1)), [0.0])])


@pytest.mark.parametrize("sim,rendering", [
    pytest.param("ngspice", "osdi", marks=[pytest.mark.ngspice, pytest.mark.openvaf]),
    pytest.param("ngspice", "subckt", marks=pytest.mark.ngspice),
    pytest.param("vacask", "osdi", marks=[pytest.mark.vacask, pytest.mark.openvaf])])
def test_switch_renderings_reproduce_numpy(sim, rendering):
    """Driven by a voltage waveform (a ramp up and down, PWL), the rendered switch's current
    in the simulator equals the device's numpy rendering (LSODA, rtol 1e-10) within 1e-4 of
    the current's range, the heating states included."""
    from neurospice.netlists import Circuit, Pwl
    from neurospice.simulators import get_simulator

    if not _have(sim):
        pytest.skip(f"{sim} not installed")
    m = _switch()
    tp, vp = [0.0, 100e-9, 200e-9, 300e-9, 400e-9], [0.0, 1.0, 0.4, 0.8, 0.2]
    t = np.linspace(0.0, 400e-9, 401)
    ref = m.device.numpy.transient(t, {"p": (tp, vp)}, rtol=1e-10, atol=1e-12,
                                   max_step=0.5e-9).currents["p,n"]
    c = Circuit("learned switch driven")
    c.vsource("d", "p", "0", waveform=Pwl(tp, vp))
    m.add_to(c, "1", ["p", "0"], rendering=rendering)
    c.option("reltol", 1e-7)
    c.option("vntol", 1e-9)
    c.option("breakpoint_fraction", 0.01)
    c.tran(1e-9, 400e-9, max_step=0.1e-9)
    res = get_simulator(sim).run(c).tran
    got = -np.interp(t, res.axis, res.i("vd"))
    span = float(np.ptp(ref))
    assert span > 1e-6                                     # the current moves
    assert np.max(np.abs(got - ref)) < 1e-4 * span


def test_train_two_terminal_recovers_a_known_curve():
    """A switch of known weights (:func:`_switch`, its return onto the curve within 10 ps)
    driven by a random voltage waveform and recorded every 1 ns with 1 mV of noise on the
    voltage: the learned curve (8-8 tanh, 400 steps) reproduces the known one within 10 mV
    (median 1.5 mV) along the held-out quarter."""
    from dataclasses import replace as with_

    from neurospice.calibration.recipes.neural_ode import train_two_terminal

    known = with_(_switch(), relax=1e-11)
    known.__dict__.pop("device", None)
    dt, n = 1e-9, 1200
    t = np.arange(n) * dt
    rng = np.random.default_rng(5)
    tp = np.arange(0, n + 40, 40) * dt
    vp = rng.uniform(0.0, 1.0, len(tp))
    tr = known.device.numpy.transient(t, {"p": (tp, vp)}, rtol=1e-9, atol=1e-12,
                                      max_step=0.2e-9)
    v = tr.voltages["p"] + rng.normal(0, 1e-3, n)
    i = tr.currents["p,n"]
    res = train_two_terminal([(t, v, i)], i_scale=5e-6, heating=(50e-9,), hidden=(8, 8),
                             iterations=400, balance=0.0, seed=0)
    f = known.features(tr.voltages["p"], tr.currents["p,n"], dt)[int(0.75 * n):]
    err = np.abs(res.model.curve(f) - known.curve(f))
    assert np.median(err) < 1.5e-3 and np.max(err) < 1e-2, (np.median(err), np.max(err))
    assert res.validation_residual < 3e-3 and res.model.relax == 1e-10


@pytest.mark.slow
def test_learned_switch_neuron_spikes_alike_in_numpy_ngspice_and_vacask():
    """The NbOx switch learned briefly (one 20 us recording, 600 L-BFGS steps: not the
    case's training, which docs/guides/neural_ode.md measures) placed in the
    neuron's R_s, C_m circuit under a held-out pulse train: ngspice and VACASK transients of
    the Verilog-A card fire the spikes numpy fires (the device's numpy rendering), each
    within a sampling step (5 ns; the detection interpolates the 5 ns samples) of numpy's.
    Measured: the same times, but 5 ns on the last spike, which comes near the neuron's
    rheobase (at reltol 1e-6 ngspice put it 35 ns late)."""
    from neurospice.circuits.neural_ode_nbox import (learned_neuron, learned_neuron_circuit,
                                                     nbox_device_recording,
                                                     train_nbox_device)
    from neurospice.analysis.spikes import spike_times
    from neurospice.simulators import get_simulator

    res, _ = train_nbox_device(seeds=(0,), iterations=600)
    new = nbox_device_recording(2000, seed=7)
    dt = float(new.time[1])
    ref = spike_times(new.time, learned_neuron(res.model, new.v_in, dt))
    assert len(ref) >= 3
    for sim in ("ngspice", "vacask"):
        if not _have(sim):
            continue
        tran = get_simulator(sim).run(learned_neuron_circuit(res.model, new.v_in, dt)).tran
        got = spike_times(new.time, np.interp(new.time, tran.axis, tran.v("mem")))
        assert len(got) == len(ref), (sim, got, ref)
        assert np.max(np.abs(got - ref)) < 5.5e-9, (sim, got - ref)


# --------------------------------------------------------------------------- the grey box
def test_thermal_switch_regression_recovers_the_nbox_card():
    """The grey-box regression (no score: the thermal time is the regression's) on one
    noiseless 20 us recording of the NbOx neuron's switch, from the generic start: the
    conduction and heating parameters near the device's (measured: ea -0.45 %, r_c +0.23 %,
    r_env -1.0 %, tau_env +0.2 %, r_th +1.5 %, g_ref +3.7 %, eps_r +7.2 %: the barrier
    lowering goes as eps_r^-1/2), the thermal time placed poorly (0.79 ns for 1 ns: the
    recipe's docstring says so) but below the 5 ns sampling; bad options are
    CalibrationErrors."""
    from neurospice.calibration.recipes.neural_ode import train_thermal_switch
    from neurospice.circuits.neural_ode_nbox import nbox_device_recording
    from neurospice.compact_models.devices import get_device
    from neurospice.errors import CalibrationError

    rec = nbox_device_recording(4000, seed=0)
    res = train_thermal_switch([(rec.time, rec.v_truth, rec.i_truth)])
    truth = get_device("nbox").params()
    for name, tol in (("g_ref", 0.06), ("ea", 0.01), ("eps_r", 0.1), ("r_c", 0.01),
                      ("r_th", 0.03), ("r_env", 0.03)):
        assert res.card[name] == pytest.approx(truth[name], rel=tol), name
    tau_env = res.card["r_env"] * res.card["c_env"]
    assert tau_env == pytest.approx(truth["r_env"] * truth["c_env"], rel=0.01)
    assert 0.1e-9 < res.regression_tau_th < 5e-9 and not res.scores
    assert res.card["c_th"] * res.card["r_th"] == pytest.approx(res.regression_tau_th)
    with pytest.raises(CalibrationError, match="start"):
        train_thermal_switch([(rec.time, rec.v, rec.i)], start={"r_x": 1.0})
    with pytest.raises(CalibrationError, match="tau_grid"):
        train_thermal_switch([(rec.time, rec.v, rec.i)], tau_grid=(3e-9, 1e-9, 5))
    with pytest.raises(CalibrationError, match="validation"):
        train_thermal_switch([(rec.time, rec.v, rec.i)], validation=1.0)


#: a card of the grey box's fit (rounded): the conduction and heating of the NbOx switch
_FITTED = {"g_ref": 3.09e-06, "ea": 0.3077, "eps_r": 105.5, "r_c": 304.3, "r_th": 9.728e5,
           "c_th": 9.475e-16, "r_env": 1.936e5, "c_env": 2.068e-11}


@pytest.mark.parametrize("sim,rendering", [
    pytest.param("ngspice", "osdi", marks=[pytest.mark.ngspice, pytest.mark.openvaf]),
    pytest.param("ngspice", "subckt", marks=pytest.mark.ngspice),
    pytest.param("vacask", "osdi", marks=[pytest.mark.vacask, pytest.mark.openvaf])])
def test_grey_box_neuron_renderings_reproduce_numpy(sim, rendering):
    """The neuron around a fitted card under a sub-threshold input (up to 1.4 V, then down
    to 0.5 V: the switch heats and cools, no spike): the netlist's membrane voltage and
    switch current in the simulator equal the numpy integration (rtol 1e-10) within 1e-4 of
    their ranges. Measured: 2.4e-5 and 6.5e-5 at most (ngspice), 1.1e-5 and 6e-6 (VACASK,
    1.7e-4 of the current without the circuit's breakpoint_fraction)."""
    from neurospice.circuits.neural_ode_nbox import thermal_neuron, thermal_neuron_circuit
    from neurospice.simulators import get_simulator

    if not _have(sim):
        pytest.skip(f"{sim} not installed")
    dt = 5e-9
    t = np.arange(601) * dt
    v_in = np.interp(t, [0.0, 100e-9, 1.5e-6, 1.6e-6, 3e-6], [0.0, 1.4, 1.4, 0.5, 0.5])
    ref = thermal_neuron(_FITTED, v_in, dt).simulate_numpy(rtol=1e-10, atol=1e-12)
    v_ref = np.interp(t, ref.axis, ref.v("mem"))
    i_ref = np.interp(t, ref.axis, ref.vectors["i(vsns)"])
    res = get_simulator(sim).run(thermal_neuron_circuit(_FITTED, v_in, dt,
                                                        rendering=rendering)).tran
    assert np.ptp(i_ref) > 5e-6 and np.max(v_ref) < 0.75          # heats; stays below V_th
    assert np.max(np.abs(np.interp(t, res.axis, res.v("mem")) - v_ref)) < 1e-4 * np.ptp(v_ref)
    assert np.max(np.abs(np.interp(t, res.axis, res.i("vsns")) - i_ref)) < 1e-4 * np.ptp(i_ref)


@pytest.fixture(scope="module")
def grey_box():
    """The grey box on the coarse grid (the acceptance tests' common first step, 25-30 s):
    (ThermalSwitchResult, the training recordings)."""
    from neurospice.circuits.neural_ode_nbox import train_nbox_thermal

    return train_nbox_thermal(tau_grid=(0.5e-9, 2e-9, 7), refine=5)


@pytest.mark.slow
def test_grey_box_switch_spike_times_within_2_percent_in_numpy_ngspice_and_vacask(grey_box):
    """Issue #18's NbOx acceptance: the switch fitted as a grey box (the ``nbox`` form, its
    parameters from three noisy 20 us recordings, trains 0-2) on a coarser grid of thermal
    times than :data:`NBOX_THERMAL_TRAINING`'s (7 points from 0.5 to 2 ns and 5 around the
    best, against 21 and 13: the same card here) placed in the neuron's R_s, C_m circuit
    under the held-out pulse trains 7, 8 and 9: every physics spike is fired and each
    within 2 % of its latency, in numpy, and in ngspice and VACASK transients of the card
    (Verilog-A), ngspice's and VACASK's each within a 5 ns sample of numpy's. Measured: 13,
    15 and 19 spikes within 0.64 %, 0.53 % and 0.74 % in numpy, 1.02 %, 1.07 % and 0.74 % in
    ngspice and VACASK (a spike a sample later on trains 7 and 8)."""
    from neurospice.circuits.neural_ode_nbox import thermal_membrane, thermal_neuron_circuit

    res, _ = grey_box
    _held_out_spikes_within_2_percent(
        lambda v_in, dt: thermal_membrane(res.card, v_in, dt),
        lambda v_in, dt: thermal_neuron_circuit(res.card, v_in, dt))


def _held_out_spikes_within_2_percent(numpy_of, circuit_of):
    """The acceptance on the held-out trains 7, 8 and 9: the membrane voltage
    ``numpy_of(v_in, dt)`` (numpy) and the transients of ``circuit_of(v_in, dt)`` in
    ngspice and VACASK fire every physics spike, each within 2 % of its latency, the
    simulators' within a 5 ns sample of numpy's."""
    from neurospice.circuits.neural_ode_nbox import nbox_device_recording
    from neurospice.simulators import get_simulator

    sims = [s for s in ("ngspice", "vacask") if _have(s)]
    for seed, count in ((7, 13), (8, 15), (9, 19)):
        new = nbox_device_recording(4000, seed=seed)
        dt = float(new.time[1])
        runs = {"numpy": numpy_of(new.v_in, dt)}
        for sim in sims:
            tran = get_simulator(sim).run(circuit_of(new.v_in, dt)).tran
            runs[sim] = np.interp(new.time, tran.axis, tran.v("mem"))
        for name, mem in runs.items():
            cmp = compare_spike_times(new.time, new.v_in, new.v_truth, mem)
            assert len(cmp.physics) == count and cmp.same_count, (seed, name, cmp.learned)
            assert cmp.worst < 0.02, (seed, name, cmp.worst)
            alike = compare_spike_times(new.time, new.v_in, runs["numpy"], mem)
            assert np.max(np.abs(alike.error)) < 5.5e-9, (seed, name, alike.error)


# --------------------------------------------------------------------------- the hybrid
def _hybrid_switch(scale=0.3, inputs=("v", "Ts"), seed=0):
    """A hybrid switch of the fitted card with seeded random weights (no training): the
    learned factor on the conductance between exp(-scale) and exp(scale) or so."""
    from neurospice.compact_models.neural_ode.hybrid import HybridSwitch

    rng = np.random.default_rng(seed)
    n = len(inputs)
    weights = [(rng.normal(0, 1.0, (6, n)), rng.normal(0, 0.3, 6)),
               (rng.normal(0, scale / 3, (1, 6)), np.zeros(1))]
    off = {"v": 0.7, "T": 320.0, "Ts": 303.0}
    sc = {"v": 0.2, "T": 60.0, "Ts": 60.0}
    return HybridSwitch({**_FITTED, "t_amb": 300.0, "t_ref": 300.0}, inputs,
                        [off[k] for k in inputs], [sc[k] for k in inputs], weights)


def test_hybrid_switch_is_the_nbox_form_times_the_learned_factor():
    """The hybrid device built from the nbox definition: with the network's output layer at
    0 its current and state rates are the nbox card's (to rounding); with weights, its
    current is the card's with the oxide conductance times exp(network), through the
    contact resistance, and its heat that current's in the oxide; the description round-trips; bad
    descriptions are NetlistErrors naming what."""
    from neurospice.compact_models.nbox import DEVICE
    from neurospice.compact_models.neural_ode.hybrid import HybridSwitch

    m = _hybrid_switch()
    rng = np.random.default_rng(1)
    v = rng.uniform(-1.2, 1.2, 200)
    temp, ts = rng.uniform(300, 900, 200), rng.uniform(300, 320, 200)
    volts, states = {"p": v, "n": 0 * v, "xi": 0 * v}, {"T": temp, "Ts": ts}
    card = DEVICE.params(m.card)
    ref_i, ref_r = DEVICE.numpy.equations(0.0, volts, states, card)
    silent = HybridSwitch(m.card, m.inputs, m.in_offset, m.in_scale,
                          [m.weights[0], (0 * m.weights[1][0], 0 * m.weights[1][1])])
    got_i, got_r = silent.device.numpy.equations(0.0, volts, states, silent.device.params())
    np.testing.assert_allclose(got_i[0], ref_i[0], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(got_r[0], ref_r[0], rtol=1e-12, atol=1e-6)
    # the factor: the card's oxide conductance (its current over the oxide's voltage, as
    # the training computes it) times exp(network), the current through r_c, its heat
    f = np.exp(m.log_factor(v=v, Ts=ts))
    assert 0.3 < f.min() < 0.95 and 1.05 < f.max() < 3.0      # the network acts
    g = ref_i[0] / (v - card["r_c"] * ref_i[0]) * f
    want_i = v * g / (1 + g * card["r_c"])
    want_t = (v * v * g / (1 + g * card["r_c"]) ** 2 - (temp - ts) / card["r_th"]) / card["c_th"]
    got_i, got_r = m.device.numpy.equations(0.0, volts, states, m.device.params())
    np.testing.assert_allclose(got_i[0], want_i, rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(got_r[0], want_t, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(got_r[1], ref_r[1], rtol=1e-12, atol=1e-6)
    again = HybridSwitch.from_dict(json.loads(m.to_json()))
    np.testing.assert_array_equal(again.log_factor(v=v, Ts=ts), m.log_factor(v=v, Ts=ts))
    assert m.size == 6 * 2 + 6 + 6 + 1 and m.weight_norm > 0
    assert m.device.parameter["g_ref"].default == _FITTED["g_ref"]
    with pytest.raises(NetlistError, match="inputs"):
        HybridSwitch(m.card, ("v", "X"), [0, 0], [1, 1], m.weights)
    with pytest.raises(NetlistError, match="lacks"):
        HybridSwitch.from_dict({"card": {}})
    with pytest.raises(NetlistError, match="r_c"):
        HybridSwitch({"r_c": -1.0}, m.inputs, m.in_offset, m.in_scale, m.weights)


@pytest.mark.parametrize("sim,rendering", [
    pytest.param("ngspice", "osdi", marks=[pytest.mark.ngspice, pytest.mark.openvaf]),
    pytest.param("ngspice", "subckt", marks=pytest.mark.ngspice),
    pytest.param("vacask", "osdi", marks=[pytest.mark.vacask, pytest.mark.openvaf])])
def test_hybrid_neuron_renderings_reproduce_numpy(sim, rendering):
    """The neuron around a hybrid switch (random weights, the factor 0.5-2.5) under the
    grey box's sub-threshold input: the netlist's membrane voltage and switch current in
    the simulator equal the numpy integration (the device's numpy rendering, rtol 1e-10)
    within 1e-4 of their ranges."""
    from neurospice.circuits.neural_ode_nbox import learned_neuron, learned_neuron_circuit
    from neurospice.simulators import get_simulator

    if not _have(sim):
        pytest.skip(f"{sim} not installed")
    m = _hybrid_switch()
    dt = 5e-9
    t = np.arange(601) * dt
    v_in = np.interp(t, [0.0, 100e-9, 1.5e-6, 1.6e-6, 3e-6], [0.0, 1.4, 1.4, 0.5, 0.5])
    v_ref = learned_neuron(m, v_in, dt, rtol=1e-10)
    i_ref = (v_in - v_ref) / 20e3 - np.gradient(v_ref, dt) * 100e-12
    res = get_simulator(sim).run(learned_neuron_circuit(m, v_in, dt,
                                                        rendering=rendering)).tran
    mem = np.interp(t, res.axis, res.v("mem"))
    assert np.ptp(i_ref) > 5e-6 and np.max(v_ref) < 0.75          # heats; stays below V_th
    assert np.max(np.abs(mem - v_ref)) < 1e-4 * np.ptp(v_ref), np.max(np.abs(mem - v_ref))


@pytest.mark.slow
def test_hybrid_switch_spike_times_within_2_percent_in_numpy_ngspice_and_vacask(grey_box):
    """Issue #18's NbOx acceptance met by a hybrid: the grey box on the coarse grid of
    :func:`test_grey_box_switch_spike_times_within_2_percent_in_numpy_ngspice_and_vacask`,
    then the learned factor on its conductance (:data:`NBOX_HYBRID_TRAINING`: 12 tanh
    units of v and Ts) trained on its residual, in the neuron's R_s, C_m circuit under the
    held-out pulse trains 7, 8 and 9: every physics spike fired, each within 2 % of its
    latency, in numpy (the hybrid device's numpy rendering) and in ngspice and VACASK
    transients of its Verilog-A card, ngspice's and VACASK's each within a 5 ns sample of
    numpy's; the learned part is there (weights' norm above 0.1) and does not worsen the
    held-out residual. Measured: 13, 15 and 19 spikes within 0.51 %, 0.53 % and 0.74 % in
    numpy, ngspice and VACASK alike; the network 49 weights of norm 0.64 (L2 weight 1e-3),
    the held-out residual rms 0.551 -> 0.547 of the noise scale (the form is exact here);
    33 s after the grey box it shares with the grey-box test (13 s)."""
    from neurospice.circuits.neural_ode_nbox import (learned_neuron, learned_neuron_circuit,
                                                     train_nbox_hybrid)

    res, _, _ = train_nbox_hybrid(grey=grey_box)
    m = res.model
    assert m.weight_norm > 0.1 and res.after[1] <= res.before[1]
    _held_out_spikes_within_2_percent(lambda v_in, dt: learned_neuron(m, v_in, dt),
                                      lambda v_in, dt: learned_neuron_circuit(m, v_in, dt))
