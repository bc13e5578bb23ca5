"""The NbOx spike-time case of the neural-ODE models (issue #18): the known-physics part
(RC charging), the pulse-train recordings of the NbOx neuron, the spike-time comparison and
how the inputs are presented to the simulators (corners only)."""

from __future__ import annotations

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
