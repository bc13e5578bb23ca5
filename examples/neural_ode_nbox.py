"""Learn the NbOx neuron's spiking from its membrane-voltage waveform and run the learned
model in the simulators (issue #18; after Chen et al., Nat. Commun. 13, 1016 (2022)).

The "measurement" is the project's NbOx neuron (the tonic preset's circuit: a voltage source
through R_s = 20 kohm onto C_m = 100 pF and the NbOx threshold switch, integrated in numpy
with the device model) under a random train of voltage pulses (1.9-2.8 V, 1.5-3 us long),
its membrane voltage recorded every 5 ns with 2 mV of noise. The neural ODE is a hybrid: the
RC charging of the membrane through R_s is known physics (``rc_charging(R_s C_m)``), the
network (delay embedding 2 x 20 ns and two low-pass states of the membrane voltage, 1 and
4 us, for the slow heating; MLP 32-32 tanh) learns the rest: the leak and the switching of
the device. It is trained on 60 us, then driven by three new pulse trains; its spikes (the
project's spike detection on the membrane voltage) are compared with the physics' in numpy,
and on the first of them in ngspice and VACASK transients of the exported card. Writes the recording (CSV), the
learned model and the Verilog-A card, and prints the spike-time errors, to --out (default
out/examples/neural_ode_nbox).

    .venv/bin/python examples/neural_ode_nbox.py [--out OUT_DIR] [--force] [--iterations N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from neurospice.calibration.recipes.neural_ode import verification_circuit
from neurospice.circuits.neural_ode_nbox import (compare_spike_times, nbox_recording,
                                                 train_nbox)
from neurospice.errors import NeurospiceError
from neurospice.fileio import check_folder, write_text_atomic
from neurospice.simulators import get_simulator


def report(name: str, cmp) -> str:
    if not cmp.same_count:
        return (f"{name}: {len(cmp.learned)} spikes against the physics' {len(cmp.physics)}")
    return (f"{name}: {len(cmp.physics)} spikes, largest spike-time error "
            f"{100 * cmp.worst:.2f} % of the latency ({1e9 * np.max(np.abs(cmp.error)):.1f} ns)")


def main(out: Path, force: bool = False, iterations: int | None = None) -> None:
    check_folder(out, overwrite=force)
    t0 = time.perf_counter()
    res, rec = train_nbox(**({} if iterations is None else {"iterations": iterations}))
    model = res.model
    print(f"trained in {time.perf_counter() - t0:.1f} s ({res.iterations} steps, "
          f"{res.stopped}); validation NRMSE {res.best_nrmse:.4f}")
    write_text_atomic(out / "nbox_learned.json", model.to_json(), overwrite=force)
    write_text_atomic(out / "nbox_learned.va", model.device.verilog_a(), overwrite=force)
    rows = "\n".join(f"{float(t)!r},{float(v)!r},{float(m)!r}"
                     for t, v, m in zip(rec.time, rec.inputs[:, 0], rec.output))
    write_text_atomic(out / "recording.csv", "time (s),source (V),membrane (V)\n" + rows + "\n",
                      overwrite=force)
    for seed in (8, 9, 7):                              # pulse trains never seen
        new = nbox_recording(4000, seed=seed)
        pred = model.simulate(new.inputs, y0=new.truth[0])
        print(f"held-out train {seed}: " + report("numpy", compare_spike_times(
            new.time, new.inputs[:, 0], new.truth, pred)))
    for sim in ("ngspice", "vacask"):
        simulator = get_simulator(sim)
        if not simulator.is_available():
            print(f"held-out train: {sim} not installed")
            continue
        res = simulator.run(verification_circuit(model, new.time, new.inputs,
                                                 y0=new.truth[0])).tran
        got = np.interp(new.time, res.axis, res.v(model.output))
        print(f"held-out train {seed}: " + report(sim, compare_spike_times(
            new.time, new.inputs[:, 0], new.truth, got)))
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/examples/neural_ode_nbox"))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--iterations", type=int, default=None,
                    help="training steps (default the case's, NBOX_TRAINING); fewer for a "
                         "smoke run")
    a = ap.parse_args()
    try:
        main(a.out, a.force, a.iterations)
    except NeurospiceError as exc:
        raise SystemExit(f"neural_ode_nbox: {exc}")
