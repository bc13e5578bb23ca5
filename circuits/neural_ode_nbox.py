"""The NbOx neuron's spike-time case of the learned compact models (issue #18).

The NbOx neuron (:class:`~.neurons.NbOxNeuron`, the tonic preset's circuit: a voltage source
through R_s = 20 kohm onto C_m = 100 pF and the threshold switch) is the "measurement":
:func:`nbox_recording` drives it with a random pulse train
(:func:`~neurospice.compact_models.neural_ode.recordings.random_pulses`) and records its
membrane voltage ``v(mem)`` on a uniform grid, with white noise; :func:`nbox_membrane` gives
the noiseless voltage under any input. :func:`train_nbox` learns it with a hybrid neural ODE
(the RC charging known, :func:`~neurospice.compact_models.neural_ode.rc_charging`; the network
for the rest), and :func:`compare_spike_times` judges a learned membrane voltage by its spike
times (the project's detection, :func:`neurospice.analysis.spikes.spike_times`), each
measured from the onset of its pulse. The switch alone, from its voltage and current
(:func:`nbox_device_recording`), is learned as a network (:func:`train_nbox_device`,
:func:`learned_neuron`), fitted as a grey box, the ``nbox`` device's form
(:func:`train_nbox_thermal`, :func:`thermal_neuron`), or learned as a hybrid, the grey box
plus a learned factor on its conductance (:func:`train_nbox_hybrid`, in
:func:`learned_neuron`: the case's method, within its 2 %). See docs/guides/neural_ode.md
for where the case stands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurospice.analysis.spikes import spike_times
from neurospice.calibration.recipes.neural_ode import (pwl_corners, train,
                                                       train_switch_correction,
                                                       train_thermal_switch, train_two_terminal)
from neurospice.compact_models.neural_ode import rc_charging
from neurospice.compact_models.neural_ode.recordings import (Recording, pulse_onsets,
                                                             random_pulses)
from neurospice.netlists import Pwl

from .neurons import NbOxNeuron

__all__ = ["nbox_membrane", "nbox_traces", "nbox_recording", "SpikeComparison",
           "compare_spike_times", "spike_score", "train_nbox", "NBOX_TRAINING", "NBOX_TAU_RC",
           "DeviceRecording", "nbox_device_recording", "NBOX_DEVICE_TRAINING", "NBOX_R_S",
           "NBOX_C_M", "train_nbox_device", "learned_neuron", "learned_neuron_circuit",
           "NBOX_THERMAL_TRAINING", "train_nbox_thermal", "thermal_neuron",
           "thermal_neuron_circuit", "thermal_membrane", "neuron_spike_score",
           "NBOX_HYBRID_TRAINING", "NBOX_METALLIC", "train_nbox_hybrid"]


def nbox_membrane(v_in, dt: float, *, neuron=None) -> np.ndarray:
    """The NbOx neuron's noiseless membrane voltage ``v(mem)`` (V) at the samples of the
    source voltage ``v_in`` (one per ``dt``, piecewise linear between samples): the
    :class:`~neurospice.circuits.neurons.NbOxNeuron` ``neuron`` (default the tonic preset's
    values) driven by that PWL source, integrated in numpy (its
    :meth:`~neurospice.circuits.neurons.NbOxNeuron.simulate_numpy`), interpolated onto the
    samples."""
    return nbox_traces(v_in, dt, neuron=neuron)[0]


def nbox_traces(v_in, dt: float, *, neuron=None) -> tuple[np.ndarray, np.ndarray]:
    """The noiseless membrane voltage (V) and device current (A, ``i(vsns)``, from the
    membrane through the switch) of :func:`nbox_membrane`'s neuron at the samples of
    ``v_in``."""
    v = np.asarray(v_in, float).ravel()
    t = np.arange(len(v)) * dt
    tc, vc = pwl_corners(t, v)
    base = neuron if neuron is not None else NbOxNeuron()
    res = base.with_(v_in=Pwl(tc.tolist(), vc.tolist()), t_stop=float(t[-1]),
                     max_step=min(base.max_step, dt)).simulate_numpy()
    return np.interp(t, res.axis, res.v("mem")), np.interp(t, res.axis, res.vectors["i(vsns)"])


def nbox_recording(n: int = 8000, dt: float = 5e-9, *, seed: int = 0, noise: float = 2e-3,
                   neuron=None, **pulses) -> Recording:
    """The NbOx neuron under a random pulse train
    (:func:`~neurospice.compact_models.neural_ode.recordings.random_pulses`, ``pulses`` its
    options), ``n`` samples every ``dt``: the input is the source voltage, the output the
    membrane voltage plus N(0, ``noise``) V of noise."""
    v_in = random_pulses(n, dt, seed=seed, **pulses)
    mem = nbox_membrane(v_in, dt, neuron=neuron)
    rng = np.random.default_rng(seed + 10_000)
    return Recording(np.arange(n) * dt, v_in[:, None], mem + rng.normal(0.0, noise, n), mem)


@dataclass
class SpikeComparison:
    """Spike times of a learned model against the physics (:func:`compare_spike_times`):
    ``physics`` and ``learned`` (s, the project's spike detection), and when both have the
    same count, ``latency`` (s) of each physics spike after the onset of its pulse, ``error``
    (s, learned - physics) and ``relative`` = ``|error| / latency``."""

    physics: np.ndarray
    learned: np.ndarray
    latency: np.ndarray | None = None
    error: np.ndarray | None = None

    @property
    def same_count(self) -> bool:
        return len(self.physics) == len(self.learned)

    @property
    def relative(self) -> np.ndarray:
        if self.error is None:
            return np.array([np.inf])
        return np.abs(self.error) / self.latency

    @property
    def worst(self) -> float:
        """The largest relative error (inf when the counts differ)."""
        return float(np.max(self.relative)) if len(self.physics) else 0.0


def compare_spike_times(time_s, v_in, physics, learned) -> SpikeComparison:
    """Spikes of the membrane voltages ``physics`` and ``learned`` (sampled at ``time_s``)
    under the pulse train ``v_in``, detected with
    :func:`neurospice.analysis.spikes.spike_times` (the default detection: the start of each
    fast fall); each spike's time is measured from the onset of the pulse it fires in
    (:func:`~neurospice.compact_models.neural_ode.recordings.pulse_onsets`), and the error
    is relative to that latency."""
    t = np.asarray(time_s, float)
    sp = spike_times(t, np.asarray(physics, float))
    sl = spike_times(t, np.asarray(learned, float))
    out = SpikeComparison(sp, sl)
    if out.same_count and len(sp):
        on = pulse_onsets(t, v_in)
        k = np.searchsorted(on, sp, side="right") - 1
        ref = np.where(k >= 0, on[np.maximum(k, 0)], t[0])
        out.latency, out.error = sp - ref, sl - sp
    return out


#: R_s C_m of the NbOx neuron's tonic circuit (20 kohm x 100 pF): the known charging time.
NBOX_TAU_RC = 2e-6
#: Training settings of the NbOx spike-time case (docs/guides/neural_ode.md): the output
#: normalised around the switching region (0.8 V, 0.1 V per unit) instead of its mean and
#: standard deviation, two low-pass states of the output (1 and 4 us: the surroundings'
#: heating over many spikes), windows of 200 ns, a fast learning rate decaying 100-fold,
#: most windows around the discharges, the weights selected on the last 40 % of the
#: recording.
NBOX_TRAINING = dict(embedding=2, delay=4, hidden=(32, 32), window=40, batch=32, lr=3e-2,
                     lr_final=3e-4, iterations=1500, eval_every=50, patience=200, focus=0.7,
                     output_scaling=(0.8, 0.1), validation=0.4, filters=(1e-6, 4e-6), seed=0)


def spike_score(time_s, v_in, measured, start: int = 0):
    """A selection score for :func:`~neurospice.calibration.recipes.neural_ode.train`'s
    ``score``: the model runs free over ``v_in`` from the measured sample ``start`` (its
    filters at their values along the measurement before it); the score is
    the largest relative spike-time error (:func:`compare_spike_times` against ``measured``)
    when the spike counts agree, else 1 + the count difference + a tenth of the NRMSE (so
    that models without the spikes still rank)."""
    from neurospice.compact_models.neural_ode import measured_states, nrmse

    t = np.asarray(time_s, float)[start:] - float(time_s[start])
    u = np.asarray(v_in, float).reshape(len(time_s), -1)[start:]
    whole = np.asarray(measured, float)
    y = whole[start:]

    def score(model) -> float:
        f0 = model.y_offset + model.y_scale * measured_states(model, whole)[start,
                                                                            model.embedding:]
        pred = model.simulate(u, y0=y[0], f0=f0)
        if not np.all(np.isfinite(pred)):
            return float("inf")
        cmp = compare_spike_times(t, u[:, 0], y, pred)
        if cmp.same_count:
            return cmp.worst
        return 1.0 + abs(len(cmp.learned) - len(cmp.physics)) + 0.1 * nrmse(pred, y)
    return score


def train_nbox(n_train: int = 12000, *, progress: bool = False, **settings):
    """The NbOx spike-time case: the neuron's membrane voltage under a random pulse train
    (:func:`nbox_recording`, ``n_train`` samples every 5 ns, 60 us, seed 0) learned by a hybrid
    neural ODE, the RC charging through R_s known
    (:func:`~neurospice.compact_models.neural_ode.rc_charging` of :data:`NBOX_TAU_RC`), the
    network the rest; the weights are selected by their spike times on the recording's
    validation part (:func:`spike_score`); :data:`NBOX_TRAINING` unless ``settings`` say
    otherwise. Returns (TrainResult, the recording)."""
    rec = nbox_recording(n_train, seed=0)
    opts = {**NBOX_TRAINING, **settings}
    cut = int(round(n_train * (1 - opts["validation"])))
    score = spike_score(rec.time, rec.inputs, rec.output, start=cut)
    res = train([(rec.time, rec.inputs, rec.output)], inputs=("v_in",), output="mem",
                linear=rc_charging(NBOX_TAU_RC), units={"v_in": "V", "mem": "V"},
                name="nbox_learned", progress=progress, score=score, **opts)
    return res, rec


# --------------------------------------------------------------------------- the device learned
@dataclass
class DeviceRecording:
    """The NbOx neuron recorded with a current probe (:func:`nbox_device_recording`):
    ``time`` (s), the source voltage ``v_in`` (V), the measured membrane voltage ``v`` (V)
    and device current ``i`` (A), with noise, and their noiseless ``v_truth``, ``i_truth``."""

    time: np.ndarray
    v_in: np.ndarray
    v: np.ndarray
    i: np.ndarray
    v_truth: np.ndarray
    i_truth: np.ndarray


def nbox_device_recording(n: int = 4000, dt: float = 5e-9, *, seed: int = 0,
                          noise: float = 2e-3, current_noise: float = 0.2e-6,
                          neuron=None, **pulses) -> DeviceRecording:
    """:func:`nbox_recording` with the device current recorded too (the voltage across the
    switch is the membrane voltage): N(0, ``noise``) V and N(0, ``current_noise``) A of
    white noise on the two."""
    v_in = random_pulses(n, dt, seed=seed, **pulses)
    mem, cur = nbox_traces(v_in, dt, neuron=neuron)
    rng = np.random.default_rng(seed + 10_000)
    v = mem + rng.normal(0.0, noise, n)             # the same draw as nbox_recording's
    i = cur + rng.normal(0.0, current_noise, n)
    return DeviceRecording(np.arange(n) * dt, v_in, v, i, mem, cur)


#: R_s and C_m of the NbOx neuron's tonic circuit, the known part around the learned switch.
NBOX_R_S, NBOX_C_M = 20e3, 100e-12
#: Settings of the NbOx case learned as a two-terminal device (docs/guides/neural_ode.md):
#: the current state asinh(i / 5 uA), the heating low-passes of v i and i^2 at 4 us, a
#: 32-32 tanh curve, the return onto the curve within 0.1 ns.
NBOX_DEVICE_TRAINING = dict(i_scale=5e-6, heating=(4e-6,), relax=1e-10, hidden=(32, 32),
                            robust=0.01, rise=0.2, fall=0.7, balance=0.5, iterations=2000,
                            seed=0)


def train_nbox_device(seeds=(0, 1, 2), n: int = 4000, **settings):
    """The NbOx neuron's switch learned from its voltage and current: recordings of
    ``n`` samples (5 ns) under the pulse trains ``seeds`` (:func:`nbox_device_recording`,
    each from rest), :func:`~neurospice.calibration.recipes.neural_ode.train_two_terminal`
    with :data:`NBOX_DEVICE_TRAINING` unless ``settings`` say otherwise. Returns
    (TwoTerminalResult, the recordings)."""
    recs = [nbox_device_recording(n, seed=s) for s in seeds]
    res = train_two_terminal([(r.time, r.v, r.i) for r in recs], name="nbox_switch",
                             **{**NBOX_DEVICE_TRAINING, **settings})
    return res, recs


def learned_neuron(model, v_in, dt: float, *, r_s: float = NBOX_R_S, c_m: float = NBOX_C_M,
                   params=None, rtol: float = 1e-7) -> np.ndarray:
    """The membrane voltage (V) at the samples of ``v_in`` (one per ``dt``, piecewise
    linear) of the neuron circuit around a learned switch ``model``
    (:class:`~neurospice.compact_models.neural_ode.two_terminal.NeuralTwoTerminal` or
    :class:`~neurospice.compact_models.neural_ode.hybrid.HybridSwitch`): the source through
    ``r_s`` onto ``c_m`` and the switch, in numpy (the device's numpy rendering, its noise
    inputs at 0, LSODA restarted at every corner of the input, steps of at most ``dt``),
    from rest (``params``: the device's card, :meth:`NeuralTwoTerminal.card`)."""
    from scipy.integrate import solve_ivp

    dev = model.device
    p = dev.params(params)
    fast = dev.numpy.scalar_equations
    names = [s.name for s in dev.states]
    x0 = dev.numpy.initial_state(p)
    quiet = {k: 0.0 for k in dev.noise_inputs}
    v = np.asarray(v_in, float).ravel()
    t = np.arange(len(v)) * dt
    tc, vc = pwl_corners(t, v)

    def rhs(time, y):
        vin = float(np.interp(time, tc, vc))
        (cur,), rates = fast(time, {"p": float(y[0]), "n": 0.0, **quiet},
                             dict(zip(names, (float(a) for a in y[1:]))), p)
        return [((vin - y[0]) / r_s - cur) / c_m, *rates]

    y = np.array([0.0, *(x0[k] for k in names)])
    out = np.empty(len(v))
    out[0] = y[0]
    corners = np.searchsorted(t, tc)
    for a, b in zip(corners[:-1], corners[1:]):
        sol = solve_ivp(rhs, (t[a], t[b]), y, method="LSODA", t_eval=t[a:b + 1], rtol=rtol,
                        atol=1e-9, max_step=dt)
        if not sol.success:
            raise RuntimeError(f"learned neuron: integration failed at {sol.t[-1]:.4g} s: "
                               f"{sol.message}")
        out[a:b + 1] = sol.y[0]
        y = sol.y[:, -1]
    return out


def learned_neuron_circuit(model, v_in, dt: float, *, rendering: str = "osdi",
                           r_s: float = NBOX_R_S, c_m: float = NBOX_C_M, params=None):
    """:func:`learned_neuron`'s circuit as a netlist: a PWL source through the input's
    corners (:func:`~neurospice.calibration.recipes.neural_ode.pwl_corners`), ``r_s``,
    ``c_m`` and the learned switch (``rendering`` "osdi" or "subckt"), a transient sampled
    every ``dt`` with steps of at most ``dt`` and reltol 1e-7 (near the neuron's rheobase
    the time of a spike hangs on the slow passage by the threshold: at reltol 1e-6 ngspice
    put such a spike 35 ns after numpy's, at 1e-7 within a sample), VACASK's step limited
    to 1 % of the distance between the input's corners (as :func:`thermal_neuron_circuit`)."""
    from neurospice.netlists import Circuit

    v = np.asarray(v_in, float).ravel()
    t = np.arange(len(v)) * dt
    tc, vc = pwl_corners(t, v)
    c = Circuit(f"NbOx neuron around the learned switch {model.name}")
    c.vsource("in", "src", "0", waveform=Pwl(tc.tolist(), vc.tolist()))
    c.resistor("s", "src", "mem", r_s)
    c.capacitor("m", "mem", "0", c_m)
    model.add_to(c, "1", ["mem", "0"], rendering=rendering, params=params)
    c.option("reltol", 1e-7)
    c.option("breakpoint_fraction", 0.01)
    c.tran(dt, float(t[-1]), max_step=dt)
    return c


# --------------------------------------------------------------------------- the grey box
#: Settings of the NbOx case learned as a grey box (docs/guides/neural_ode.md): the
#: ``nbox`` device's functional form fitted to the switch's voltage and current
#: (:func:`~neurospice.calibration.recipes.neural_ode.train_thermal_switch`), the thermal
#: time chosen on the training recordings' spike times, on a log grid from 0.3 to 3 ns.
NBOX_THERMAL_TRAINING = dict(rise=0.2, fall=0.7, current_noise=0.2e-6, relative=0.01,
                             robust=3.0, tau_grid=(0.3e-9, 3e-9, 21), refine=13)


def thermal_neuron(card, v_in, dt: float) -> NbOxNeuron:
    """The NbOx neuron (the tonic preset's R_s and C_m) around the ``nbox`` device of the
    fitted ``card`` (:func:`train_nbox_thermal`), driven by the PWL source through the
    corners of ``v_in`` (one sample per ``dt``), its transient sampled every ``dt`` with
    steps of at most ``dt``: :meth:`~.neurons.NbOxNeuron.simulate_numpy` is its numpy
    rendering, :meth:`~.neurons.NbOxNeuron.circuit` its netlist."""
    v = np.asarray(v_in, float).ravel()
    t = np.arange(len(v)) * dt
    tc, vc = pwl_corners(t, v)
    base = NbOxNeuron()
    return NbOxNeuron(v_in=Pwl(tc.tolist(), vc.tolist()), device=dict(card),
                      t_stop=float(t[-1]), t_step=dt, max_step=min(base.max_step, dt))


def thermal_membrane(card, v_in, dt: float) -> np.ndarray:
    """The membrane voltage (V) at the samples of ``v_in`` of :func:`thermal_neuron`,
    integrated in numpy."""
    res = thermal_neuron(card, v_in, dt).simulate_numpy()
    return np.interp(np.arange(len(np.ravel(v_in))) * dt, res.axis, res.v("mem"))


def neuron_spike_score(recordings, membrane_of):
    """A score of a switch (lower is better) for the thermal-time choices of
    :func:`~neurospice.calibration.recipes.neural_ode.train_thermal_switch` and
    :func:`~neurospice.calibration.recipes.neural_ode.train_switch_correction`: the
    membrane voltage ``membrane_of(switch, v_in, dt)`` (at the samples of ``v_in``:
    :func:`thermal_membrane` of a card, :func:`learned_neuron` of a hybrid model) against
    each recording's measured one (:class:`DeviceRecording` s), :func:`compare_spike_times`;
    the largest relative error, or 1 + the largest spike-count difference where a count
    differs."""
    def score(switch) -> float:
        worst = 0.0
        for r in recordings:
            dt = float(r.time[1] - r.time[0])
            cmp = compare_spike_times(r.time, r.v_in, r.v, membrane_of(switch, r.v_in, dt))
            worst = max(worst, cmp.worst if cmp.same_count
                        else 1.0 + abs(len(cmp.learned) - len(cmp.physics)))
        return worst
    return score


def train_nbox_thermal(seeds=(0, 1, 2), n: int = 4000, *, neuron=None, **settings):
    """The NbOx neuron's switch fitted as a grey box: recordings of ``n`` samples (5 ns)
    under the pulse trains ``seeds`` (:func:`nbox_device_recording` of ``neuron``, default
    the tonic preset's, with noise, each from rest),
    :func:`~neurospice.calibration.recipes.neural_ode.train_thermal_switch` with
    :data:`NBOX_THERMAL_TRAINING` unless ``settings`` say otherwise, the thermal time chosen
    by the spike times of :func:`thermal_neuron` on the same recordings
    (:func:`neuron_spike_score`). Returns (ThermalSwitchResult, the recordings)."""
    recs = [nbox_device_recording(n, seed=s, neuron=neuron) for s in seeds]
    res = train_thermal_switch([(r.time, r.v, r.i) for r in recs],
                               score=neuron_spike_score(recs, thermal_membrane),
                               **{**NBOX_THERMAL_TRAINING, **settings})
    return res, recs


#: Settings of the NbOx case learned as a hybrid (docs/guides/neural_ode.md): a 12-unit
#: tanh network of (v, T, Ts) added to the grey box's current, the L2 weight chosen on the
#: held-out quarter among 1e-4..1e-1, then the thermal time re-chosen by the spike times
#: among the grey box's times 0.9, 1 and 1.1.
NBOX_HYBRID_TRAINING = dict(hidden=(12,), l2=(1e-4, 1e-3, 1e-2, 1e-1), tau_factors=(0.9, 1.1),
                            rise=0.2, fall=0.7, current_noise=0.2e-6, relative=0.01,
                            robust=3.0, iterations=1000, seed=0)
#: A physics the ``nbox`` grey box's form lacks: the switch of the recordings with a VO2-type
#: metallic channel (``mix`` 1: 10 mS opening around 700 K over 30 K), for
#: ``nbox_device_recording(neuron=NbOxNeuron(device=NBOX_METALLIC))``.
NBOX_METALLIC = dict(mix=1.0, g_met=10e-3, t_c=700.0, w_c=30.0)


def train_nbox_hybrid(seeds=(0, 1, 2), n: int = 4000, *, neuron=None, thermal=None,
                      grey=None, **settings):
    """The NbOx neuron's switch learned as a hybrid: the grey box
    (:func:`train_nbox_thermal` of the recordings of ``neuron``, ``thermal`` its settings;
    or ``grey``, the (ThermalSwitchResult, recordings) such a call returned), then a
    learned factor on its oxide conductance
    (:func:`~neurospice.calibration.recipes.neural_ode.train_switch_correction` with
    :data:`NBOX_HYBRID_TRAINING` unless ``settings`` say otherwise, on the same recordings;
    the thermal time re-chosen by the spike times of :func:`learned_neuron`). Returns
    (SwitchCorrectionResult, ThermalSwitchResult, the recordings)."""
    grey, recs = grey or train_nbox_thermal(seeds, n, neuron=neuron, **(thermal or {}))
    res = train_switch_correction([(r.time, r.v, r.i) for r in recs], grey.card,
                                  score=neuron_spike_score(recs, learned_neuron),
                                  **{**NBOX_HYBRID_TRAINING, **settings})
    return res, grey, recs


def thermal_neuron_circuit(card, v_in, dt: float, *, rendering: str = "osdi"):
    """:func:`thermal_neuron`'s netlist (``rendering`` "osdi" or "subckt"), VACASK's step
    limited to 1 % of the distance between the input's corners (``breakpoint_fraction``, as
    :func:`~neurospice.calibration.recipes.neural_ode.verification_circuit` says why: with
    its default, a quarter, the device current erred by 1.7e-4 of its range after an input
    corner, against 6e-6)."""
    c = thermal_neuron(card, v_in, dt).circuit(rendering)
    c.option("breakpoint_fraction", 0.01)
    return c
