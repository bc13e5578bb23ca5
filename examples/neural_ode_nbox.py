"""Learn the NbOx neuron's threshold switch from its voltage and current waveforms and run
the learned device in the neuron circuit in numpy, ngspice and VACASK (issue #18).

The "measurement" is the project's NbOx neuron (the tonic preset's circuit: a voltage source
through R_s = 20 kohm onto C_m = 100 pF and the NbOx threshold switch, integrated in numpy
with the device model) under random trains of voltage pulses (1.9-2.8 V, 1.5-3 us long), its
membrane voltage (the voltage across the switch) and the switch's current recorded every
5 ns, with 2 mV and 0.2 uA of noise: three recordings of 20 us, each from rest. The circuit
around the switch is known; only the switch is learned
(:class:`~neurospice.compact_models.neural_ode.two_terminal.NeuralTwoTerminal`): its static
current-controlled curve v = V(asinh(i / 5 uA), heating), a 32-32 tanh network of the
current and of the low-passes (4 us) of the power v i and of i^2, with the return onto the
curve within 0.1 ns; the threshold and hold voltages are the curve's folds. The learned
switch then sits in the same R_s, C_m circuit under three pulse trains never seen, and its
spikes (the project's detection on the membrane voltage, each timed from its pulse's onset)
are compared with the physics' in numpy and in ngspice and VACASK transients of the
Verilog-A card. Writes the recordings (CSV), the learned device and its Verilog-A card, and
prints the spike-time errors, to --out (default out/examples/neural_ode_nbox).

    .venv/bin/python examples/neural_ode_nbox.py [--out OUT_DIR] [--force]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from neurospice.circuits.neural_ode_nbox import (compare_spike_times, learned_neuron,
                                                 learned_neuron_circuit,
                                                 nbox_device_recording, train_nbox_device)
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
    res, recs = train_nbox_device()
    model = res.model
    print(f"trained in {time.perf_counter() - t0:.1f} s ({res.iterations} L-BFGS steps, "
          f"{res.excluded} switching samples left out); median residual "
          f"{1e3 * res.train_residual:.1f} mV (training), {1e3 * res.validation_residual:.1f} mV "
          f"(validation)")
    write_text_atomic(out / "nbox_switch.json", model.to_json(), overwrite=force)
    write_text_atomic(out / "nbox_switch.va", model.device.verilog_a(), overwrite=force)
    for k, rec in enumerate(recs):
        rows = "\n".join(f"{float(t)!r},{float(s)!r},{float(v)!r},{float(i)!r}"
                         for t, s, v, i in zip(rec.time, rec.v_in, rec.v, rec.i))
        write_text_atomic(out / f"recording_{k + 1}.csv", "time (s),source (V),membrane (V),"
                          "switch current (A)\n" + rows + "\n", overwrite=force)
    sims = [s for s in ("ngspice", "vacask") if get_simulator(s).is_available()]
    for seed in HELD_OUT:
        new = nbox_device_recording(4000, seed=seed)
        dt = float(new.time[1] - new.time[0])
        lines = [report("numpy", compare_spike_times(new.time, new.v_in, new.v_truth,
                                                     learned_neuron(model, new.v_in, dt)))]
        for sim in sims:
            tran = get_simulator(sim).run(learned_neuron_circuit(model, new.v_in, dt)).tran
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
