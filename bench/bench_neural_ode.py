"""Learned vs physics model (issue #18): the STNO's neural ODE against the STNO model it was
learned from, as transients of the same 150 ns random current sequence, in numpy and in each
simulator, printed as ratios; and the training time of the acceptance case. The same for the
NbOx neuron: the neuron circuit around its learned switch (trained as the spike-time case
is, :func:`~neurospice.circuits.neural_ode_nbox.train_nbox_device`) against the physics
neuron under the same held-out 20 us pulse train, and the switch's training time; and the
time of the grey-box fit that meets the spike-time case
(:func:`~neurospice.circuits.neural_ode_nbox.train_nbox_thermal`: its neuron is the physics
neuron with the fitted card, whose transients take the physics' time), and of the hybrid
that adds a learned factor to it
(:func:`~neurospice.circuits.neural_ode_nbox.train_nbox_hybrid`, the acceptance's method),
and its neuron's transients against the physics', as for the learned switch.

Run alone with ``.venv/bin/python bench/bench_neural_ode.py``. Prints what it measured in this
one run; nothing is asserted. The physics model must resolve its 5 GHz precession (steps of a
few ps); the learned model describes the amplitude only and steps at the 0.1 ns sampling.
"""

from __future__ import annotations

import time

import _timing as T

from neurospice.calibration.recipes.neural_ode import pwl_corners, train, verification_circuit
from neurospice.circuits.neural_ode_nbox import (learned_neuron, learned_neuron_circuit,
                                                 nbox_device_recording, nbox_traces,
                                                 train_nbox_device, train_nbox_hybrid,
                                                 train_nbox_thermal)
from neurospice.circuits.neurons import NbOxNeuron
from neurospice.compact_models.devices import get_device
from neurospice.compact_models.neural_ode.recordings import stno_recording
from neurospice.netlists import Circuit, Pwl
from neurospice.simulators import get_simulator


def physics_circuit(rec, rendering: str):
    """The STNO driven by the recording's currents (a PWL current source)."""
    c = Circuit("stno physics model under the recorded currents")
    c.isource("in", "0", "p", waveform=Pwl(rec.time.tolist(), rec.inputs[:, 0].tolist()))
    get_device("stno").add_to(c, "1", ["p", "0", "0"], rendering=rendering)
    c.tran(2e-12, float(rec.time[-1]), max_step=10e-12)
    return c


def main() -> None:
    rec = stno_recording(4000, seed=0)
    t0 = time.perf_counter()
    res = train([(rec.time, rec.inputs, rec.output)], hidden=(16, 16), iterations=400)
    T.row("training (16-16 tanh, 400 steps, 4000 samples)", time.perf_counter() - t0)
    new = stno_recording(1500, seed=7)
    model = res.model
    learned = T.measure(lambda: model.simulate(new.inputs, y0=new.output[0]))
    physics = T.measure(lambda: stno_recording(1500, seed=7), repeats=1)
    T.ratio("numpy: physics / learned transient time", physics.median, learned.median)
    for sim, rendering in (("ngspice", "osdi"), ("vacask", "osdi")):
        s = get_simulator(sim)
        if not s.is_available():
            print(f"{sim}: not installed")
            continue
        lt = T.measure(lambda: s.run(verification_circuit(model, new.time, new.inputs,
                                                          y0=new.output[0])), repeats=1)
        pt = T.measure(lambda: s.run(physics_circuit(new, rendering)), repeats=1)
        T.ratio(f"{sim} ({rendering}): physics / learned transient time", pt.median, lt.median)


def nbox() -> None:
    """The NbOx switch learned as a network inside the neuron's R_s, C_m circuit: its
    training time and its neuron's transients against the physics' (:func:`neuron_times`)."""
    t0 = time.perf_counter()
    res, _ = train_nbox_device()
    T.row(f"NbOx switch training ({res.iterations} L-BFGS steps, 3 x 4000 samples)",
          time.perf_counter() - t0)
    neuron_times(res.model, "learned-switch")


def neuron_times(model, what: str) -> None:
    """The NbOx neuron around a learned switch ``model`` against the physics neuron, under
    the same held-out 20 us pulse train: numpy (the switch's numpy rendering with LSODA
    against the physics' numpy integration) and each simulator (the switch's Verilog-A card
    in the R_s, C_m circuit against the neuron's own card, both at the learned circuit's
    tolerances: reltol 1e-7, steps of at most 5 ns)."""
    new = nbox_device_recording(4000, seed=7)
    dt = float(new.time[1])
    learned = T.measure(lambda: learned_neuron(model, new.v_in, dt), repeats=1)
    physics = T.measure(lambda: nbox_traces(new.v_in, dt), repeats=1)
    T.ratio(f"NbOx numpy: physics / {what} neuron transient time", physics.median,
            learned.median)
    tc, vc = pwl_corners(new.time, new.v_in)
    neuron = NbOxNeuron(v_in=Pwl(tc.tolist(), vc.tolist()), t_stop=float(new.time[-1]),
                        reltol=1e-7, max_step=dt)
    for sim in ("ngspice", "vacask"):
        s = get_simulator(sim)
        if not s.is_available():
            print(f"{sim}: not installed")
            continue
        # a warm-up run each: the Verilog-A cards are compiled once (cached)
        lt = T.measure(lambda: s.run(learned_neuron_circuit(model, new.v_in, dt)), repeats=1,
                       warmup=1)
        pt = T.measure(lambda: s.run(neuron.circuit("osdi")), repeats=1, warmup=1)
        T.ratio(f"NbOx {sim} (osdi): physics / {what} neuron transient time",
                pt.median, lt.median, "both at reltol 1e-7, steps <= 5 ns")


def nbox_grey_box() -> None:
    """The grey-box fit of the NbOx switch: the regression and the spike-time choice of its
    thermal time on the three training recordings."""
    t0 = time.perf_counter()
    res = train_nbox_thermal()[0]
    T.row(f"NbOx grey-box fit (regression, {len(res.scores)} spike-time checks of 3 x 20 us)",
          time.perf_counter() - t0)


def nbox_hybrid() -> None:
    """The hybrid fit of the NbOx switch (the acceptance's method): the grey box, then the
    learned factor on its conductance (an L-BFGS fit per L2 weight) and the spike-time
    choice of the thermal time."""
    t0 = time.perf_counter()
    res, grey, _ = train_nbox_hybrid()
    T.row(f"NbOx hybrid fit (grey box {grey.seconds:.1f} s, network {res.seconds:.1f} s: "
          f"{len(res.losses)} L2 weights, {len(res.scores)} spike-time checks)",
          time.perf_counter() - t0)
    neuron_times(res.model, "hybrid-switch")


if __name__ == "__main__":
    main()
    nbox()
    nbox_grey_box()
    nbox_hybrid()
