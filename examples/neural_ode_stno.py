"""Learn a spin-torque nano-oscillator's amplitude dynamics from its waveforms alone and run
the learned model in the simulators (issue #18; after Chen et al., Nat. Commun. 13, 1016
(2022)).

The "measurement" is the project's own STNO model (its numpy rendering, the full 5 GHz
precession) under a random sequence of drive currents, its precession amplitude recorded
every 0.1 ns with noise. A neural ODE (delay embedding 1, MLP 32-32 tanh: smaller than the
documented 100-100 default, which the amplitude's one-dimensional dynamics do not need) is
trained on 400 ns of it with the ``neural_ode`` recipe, then asked to predict the response to
a new current sequence: in numpy and in ngspice and VACASK transients of the exported card.
Writes the recording (CSV), the calibration (JSON with the model, cards, report, plots) and
prints the held-out NRMSE to --out (default out/examples/neural_ode_stno).

    .venv/bin/python examples/neural_ode_stno.py [--out OUT_DIR] [--force]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from neurospice.calibration import write_outputs
from neurospice.calibration.recipes.neural_ode import fit_neural_ode, verification_circuit
from neurospice.compact_models.neural_ode import NeuralODE, nrmse
from neurospice.compact_models.neural_ode.recordings import stno_recording
from neurospice.errors import NeurospiceError
from neurospice.fileio import check_folder, write_text_atomic
from neurospice.simulators import get_simulator


def main(out: Path, force: bool = False) -> None:
    check_folder(out, overwrite=force)
    rec = stno_recording(4000, seed=0)
    t0 = time.perf_counter()
    cal = fit_neural_ode([SimpleNamespace(time_s=rec.time, current_a=rec.inputs[:, 0],
                                          voltage_v=rec.output)],
                         hidden=(32, 32), iterations=600, verify=("ngspice",))
    print(f"trained in {time.perf_counter() - t0:.1f} s; "
          f"validation NRMSE {cal.derived['validation_nrmse']['value']:.4f}")
    write_outputs(cal, out, overwrite=force)
    rows = "\n".join(f"{float(t)!r},{float(i)!r},{float(v)!r}"
                     for t, i, v in zip(rec.time, rec.inputs[:, 0], rec.output))
    write_text_atomic(out / "recording.csv", "time (s),current (A),voltage (V)\n" + rows + "\n",
                      overwrite=force)
    model = NeuralODE.from_dict(cal.extra["model"])
    new = stno_recording(1500, seed=7)                  # an input sequence never seen
    pred = model.simulate(new.inputs, y0=new.output[0])
    print(f"held-out sequence: NRMSE numpy {nrmse(pred, new.output):.4f}")
    for sim in ("ngspice", "vacask"):
        simulator = get_simulator(sim)
        if not simulator.is_available():
            print(f"held-out sequence: {sim} not installed")
            continue
        res = simulator.run(verification_circuit(model, new.time, new.inputs,
                                                 y0=new.output[0])).tran
        got = np.interp(new.time, res.axis, res.v(model.output))
        print(f"held-out sequence: NRMSE {sim} {nrmse(got, new.output):.4f}, "
              f"largest difference from numpy {np.max(np.abs(got - pred)) / np.ptp(pred):.2e}"
              " of the range")
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/examples/neural_ode_stno"))
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    try:
        main(a.out, a.force)
    except NeurospiceError as exc:
        raise SystemExit(f"neural_ode_stno: {exc}")
