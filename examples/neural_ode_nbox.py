"""Learn the NbOx neuron's threshold switch as a hybrid from its voltage and current
waveforms and run it in the neuron circuit in numpy, ngspice and VACASK (issue #18).

The "measurement" is the project's NbOx neuron (the tonic preset's circuit: a voltage source
through R_s = 20 kohm onto C_m = 100 pF and the NbOx threshold switch, integrated in numpy
with the device model) under random trains of voltage pulses (1.9-2.8 V, 1.5-3 us long), its
membrane voltage (the voltage across the switch) and the switch's current recorded every
5 ns, with 2 mV and 0.2 uA of noise: three recordings of 20 us, each from rest. The circuit
around the switch is known; only the switch is learned, as a hybrid of known physics and a
network: first the grey box
(:func:`~neurospice.calibration.recipes.neural_ode.train_thermal_switch`: the functional form
of a thermal threshold switch, Poole-Frenkel/Arrhenius conduction heated by its own Joule
power, a device temperature with a thermal time of about a nanosecond, slow surroundings, a
contact resistance, the ``nbox`` device, with its eight parameters fitted to the waveforms),
then a learned factor on its conductance, a 12-unit tanh network of the voltage and the
surroundings' temperature trained on the grey box's residual
(:func:`~neurospice.calibration.recipes.neural_ode.train_switch_correction`), the thermal time
chosen on the recordings' spike times. The hybrid switch then sits in the same R_s, C_m
circuit under three pulse trains never seen, and its spikes (the project's detection on the
membrane voltage, each timed from its pulse's onset) are compared with the physics' in numpy
and in ngspice and VACASK transients of its Verilog-A card. Writes the recordings (CSV), the
hybrid model (JSON: the card and the weights) and the neuron's netlist for the first held-out
train, and prints the spike-time errors, to --out (default out/examples/neural_ode_nbox).

    .venv/bin/python examples/neural_ode_nbox.py [--out OUT_DIR] [--force]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurospice.circuits.neural_ode_nbox import (compare_spike_times, learned_neuron,
                                                 learned_neuron_circuit, nbox_device_recording,
                                                 train_nbox_hybrid)
from neurospice.errors import NeurospiceError
from neurospice.fileio import check_folder, write_text_atomic
from neurospice.simulators import get_simulator

HELD_OUT = (7, 8, 9)         # pulse trains never seen in training (which used 0, 1, 2)


def report(name: str, cmp) -> str:
    if not cmp.same_count:
        return (f"{name}: {len(cmp.learned)} spikes against the physics' {len(cmp.physics)}")
    return (f"{name}: {len(cmp.physics)} spikes, largest spike-time error "
            f"{100 * cmp.worst:.2f} % of the latency ({1e9 * np.max(np.abs(cmp.error)):.0f} ns)")


def main(out: Path, force: bool = False) -> None:
    check_folder(out, overwrite=force)
    t0 = time.perf_counter()
    res, grey, recs = train_nbox_hybrid()
    model = res.model
    print(f"learned in {time.perf_counter() - t0:.1f} s (the grey box {grey.seconds:.1f} s, "
          f"its {grey.excluded} switching samples left out; {grey.stopped})")
    print("grey-box card: " + ", ".join(f"{k} = {v:.4g}" for k, v in grey.card.items()))
    print(f"learned factor: tanh network {list(model.hidden)} of {', '.join(model.inputs)}, "
          f"{model.size} weights of norm {model.weight_norm:.3f}, L2 weight {res.l2:g}; "
          f"held-out residual of the current over its noise scale, median / rms: grey box "
          f"{res.before[0]:.3f} / {res.before[1]:.3f}, hybrid {res.after[0]:.3f} / "
          f"{res.after[1]:.3f}; thermal time "
          f"{1e9 * model.card['r_th'] * model.card['c_th']:.3f} ns")
    write_text_atomic(out / "nbox_hybrid.json", json.dumps(model.to_dict(), indent=1),
                      overwrite=force)
    for k, rec in enumerate(recs):
        rows = "\n".join(f"{float(t)!r},{float(s)!r},{float(v)!r},{float(i)!r}"
                         for t, s, v, i in zip(rec.time, rec.v_in, rec.v, rec.i))
        write_text_atomic(out / f"recording_{k + 1}.csv", "time (s),source (V),membrane (V),"
                          "switch current (A)\n" + rows + "\n", overwrite=force)
    sims = [s for s in ("ngspice", "vacask") if get_simulator(s).is_available()]
    for seed in HELD_OUT:
        new = nbox_device_recording(4000, seed=seed)
        dt = float(new.time[1] - new.time[0])
        mem = learned_neuron(model, new.v_in, dt)
        lines = [report("numpy", compare_spike_times(new.time, new.v_in, new.v_truth, mem))]
        circuit = learned_neuron_circuit(model, new.v_in, dt)
        if seed == HELD_OUT[0]:
            circuit.write(out / f"neuron_train_{seed}.cir", overwrite=force)
        for sim in sims:
            tran = get_simulator(sim).run(circuit).tran
            got = np.interp(new.time, tran.axis, tran.v("mem"))
            lines.append(report(sim, compare_spike_times(new.time, new.v_in, new.v_truth,
                                                         got)))
        print(f"held-out train {seed}: " + "; ".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/examples/neural_ode_nbox"))
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    try:
        main(a.out, a.force)
    except NeurospiceError as exc:
        raise SystemExit(f"neural_ode_nbox: {exc}")
