"""The NbOx neuron zoo: each preset's behaviour, in ngspice (OSDI) and VACASK, and the numpy
circuit simulator against ngspice.

Tolerances: spike counts must be equal (exact); spike times within 1 % (rtol 1e-2 of the
time since t = 0, atol 1 ns: one max step), as the acceptance asks. Behaviour checks are
qualitative by design (monotonic, strictly decreasing, factor 5 of silence)."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.analysis.spikes import classify, detect_spikes, firing_rate, isi_stats
from neurospice.circuits import neurons as N
from neurospice.simulators import get_simulator


def _sim_or_skip(name):
    sim = get_simulator(name)
    if not sim.is_available():
        pytest.skip(f"{name} not installed")
    return sim


def _spikes(res, stim):
    return detect_spikes(res.axis, res[N.SPIKE_CURRENT], threshold=stim.spike_threshold,
                         hysteresis=stim.spike_hysteresis).times


@pytest.mark.parametrize("simulator", ["ngspice", "vacask"])
@pytest.mark.parametrize("preset", list(N.PRESETS))
def test_each_preset_is_labelled_correctly(preset, simulator):
    sim = _sim_or_skip(simulator)
    circuit, stim = N.PRESETS[preset]()
    res = sim.run(circuit, timeout=120).tran
    label = classify(_spikes(res, stim), stim).label
    assert label == preset, f"{preset} in {simulator} was labelled {label}"


def _run(simulator, circuit, stim):
    if simulator == "numpy":
        return stim.neuron.simulate_numpy()
    return _sim_or_skip(simulator).run(circuit, timeout=120).tran


@pytest.mark.parametrize("other", ["numpy", "vacask"])
@pytest.mark.parametrize("preset", ["tonic", "lif", "latency", "integration", "phasic_burst"])
def test_deterministic_presets_agree_with_ngspice(preset, other):
    """The same circuit in numpy (its own ODE integration) and in VACASK (the same netlist):
    equal spike count, spike times within 1 %."""
    circuit, stim = N.PRESETS[preset]()
    ref = _spikes(_run("ngspice", circuit, stim), stim)
    got = _spikes(_run(other, circuit, stim), stim)
    assert len(ref) > 0 and len(got) == len(ref), (len(got), len(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-2, atol=1e-9)


@pytest.mark.parametrize("simulator", ["ngspice", "vacask", "numpy"])
def test_phasic_burst_count_is_robust(simulator):
    """The burst ends by a per-spike step of the surroundings' temperature, not at a tipping
    point: the spike count is the same with the step amplitude 1 % lower or higher (the
    count's plateau is 1.64-1.685 V around the preset's 1.66 V), so no simulator's
    integration error can tip it."""
    counts = []
    for scale in (0.99, 1.0, 1.01):
        circuit, stim = N.phasic_burst(1.66 * scale)
        times = _spikes(_run(simulator, circuit, stim), stim)
        assert classify(times, stim).label == "phasic_burst"
        counts.append(len(times))
    assert counts[0] == counts[1] == counts[2] >= 3, counts


def test_f_i_curve_has_a_threshold_and_rises():
    sim = _sim_or_skip("vacask")
    levels = (20e-6, 50e-6, 80e-6, 95e-6, 110e-6, 140e-6, 180e-6)
    circuit, stim = N.lif(levels)
    times = _spikes(sim.run(circuit, timeout=120).tran, stim)
    rates = np.array([firing_rate(times, a, b) for a, b, _ in stim.segments])
    firing = rates > 0
    k = int(np.argmax(firing))
    assert firing.any() and k >= 2 and not firing[:k].any() and firing[k:].all()
    assert np.all(np.diff(rates[k:]) > 0), rates


def test_latency_decreases_with_amplitude():
    sim = _sim_or_skip("ngspice")
    lat = []
    for amp in (100e-6, 120e-6, 150e-6, 200e-6, 300e-6):
        circuit, stim = N.latency(amp)
        times = _spikes(sim.run(circuit, timeout=120).tran, stim)
        lat.append(times[0] - stim.onset)
    assert np.all(np.diff(lat) < 0), lat


def test_integration_threshold_k():
    sim = _sim_or_skip("vacask")
    k = N.integration_threshold(simulator="vacask")
    assert k is not None and k >= 2
    circuit, stim = N.integration(k - 1)
    assert len(_spikes(sim.run(circuit).tran, stim)) == 0          # k-1 pulses: silent
    circuit, stim = N.integration(k)
    assert classify(_spikes(sim.run(circuit).tran, stim), stim).label == "integration"
    circuit, stim = N.integration(k, spacing=10e-6)                # spread out: silent
    assert len(_spikes(sim.run(circuit).tran, stim)) == 0


def test_phasic_burst_is_followed_by_silence():
    sim = _sim_or_skip("ngspice")
    circuit, stim = N.phasic_burst()
    times = _spikes(sim.run(circuit, timeout=120).tran, stim)
    burst = times[-1] - times[0]
    assert len(times) >= 3 and stim.t_stop - times[-1] >= 5 * burst


def test_stochastic_cv_grows_with_noise():
    sim = _sim_or_skip("vacask")
    cvs = []
    for noise in (3.0, 10.0, 30.0):
        circuit, stim = N.stochastic(noise)
        cvs.append(isi_stats(_spikes(sim.run(circuit, timeout=120).tran, stim), skip_first=1).cv)
    circuit, stim = N.tonic()
    cv0 = isi_stats(_spikes(sim.run(circuit).tran, stim), skip_first=1).cv
    assert cv0 < cvs[0] < cvs[1] < cvs[2], (cv0, cvs)


def test_generator_values_are_arguments():
    n = N.NbOxNeuron(r_s=5e3, c_m=1e-9, device={"r_c": 100.0})
    text = n.circuit().to_netlist("ngspice")
    assert "5000.0" in text and "1e-09" in text and "r_c=100.0" in text.replace(" ", "")
    with pytest.raises(ValueError, match="r_s must be positive"):
        N.NbOxNeuron(r_s=0.0)
    sub = n.circuit(rendering="subckt").to_netlist("ngspice")
    assert ".subckt ns_nbox" in sub.lower()
