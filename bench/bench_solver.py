"""ngspice's linear solver: its own sparse solver (``.options sparse``) against KLU
(``.options klu``) on the circuits where the choice matters, and what ``solver='auto'`` (the
default, :func:`neurospice.netlists.writers.ngspice_solver`) picks for each:

- OP of crossbars with wire resistance (a mesh: KLU wins from a few thousand elements);
- transient of an RC ladder (a chain: ngspice's sparse solver wins);
- OP of the envelope netlist of an RF network (34 000 elements for the drone network; here a
  128 x 64 x 10 one unless ``--drone``).

Run with ``.venv/bin/python bench/bench_solver.py``; medians of repeats and the sparse/KLU
ratio measured in this one run, nothing asserted.
"""

from __future__ import annotations

import sys

import numpy as np

import _timing as T

from neurospice.netlists import Circuit, Pulse
from neurospice.netlists.writers import element_count, ngspice_solver
from neurospice.simulators import get_simulator

TIMEOUT = 900


def ladder(n: int) -> Circuit:
    c = Circuit(f"RC ladder of {n} sections")
    c.vsource("in", "n0", "0", 0.0, waveform=Pulse(0, 1, 0, 1e-9, 1e-9, 1e-6))
    for k in range(n):
        c.resistor(f"{k}", f"n{k}", f"n{k + 1}", 100.0)
        c.capacitor(f"{k}", f"n{k + 1}", "0", 1e-12)
    c.tran(1e-10, 2e-7)
    return c


def crossbar(n: int) -> Circuit:
    from neurospice.circuits.crossbar import Crossbar, program

    w = np.random.default_rng(n).uniform(0, 1, (n, n))
    xb = Crossbar("rram", n, n, program(w, "rram", spread={}).cell_params, r_row=1.0,
                  r_col=1.0, rendering="osdi")
    return xb.circuit(np.full(n, 0.1))


def envelope(sizes) -> Circuit:
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan

    net = RFNetwork.build(list(sizes), linear_plan(sizes[0], 2e9, 12e9), band=8, seed=0,
                          trim=True, name="bench")
    x = np.random.default_rng(0).uniform(0, 1e-6, sizes[0])
    c = EN.build(net, x)
    c.op()
    return c


def main() -> None:
    drone = "--drone" in sys.argv
    sim = get_simulator("ngspice")
    cases = [("RC ladder 100, tran", ladder(100)), ("RC ladder 1000, tran", ladder(1000)),
             ("crossbar 16x16, OP", crossbar(16)), ("crossbar 32x32, OP", crossbar(32)),
             ("crossbar 64x64, OP", crossbar(64)),
             ("envelope 128-64-10, OP", envelope((128, 64, 10)))]
    if drone:
        cases.append(("envelope drone 256-128-10, OP", envelope((256, 128, 10))))
    print(f"{'circuit':32s} {'elements':>9s} {'sparse s':>9s} {'klu s':>9s} "
          f"{'sparse/klu':>10s}  auto")
    for name, c in cases:
        times = {}
        for solver in ("sparse", "klu"):
            c.option("solver", solver)
            reps = 1 if element_count(c) > 20000 else 3
            times[solver] = T.measure(lambda: sim.run(c, timeout=TIMEOUT), repeats=reps).median
        c.option("solver", "auto")
        auto = ngspice_solver(c) or "sparse"
        ratio = times["sparse"] / times["klu"]
        T.RATIOS.append((f"solver sparse/klu: {name}", ratio, f"auto picks {auto}"))
        print(f"{name:32s} {element_count(c):9d} {times['sparse']:9.3f} {times['klu']:9.3f} "
              f"{ratio:10.2f}  {auto}", flush=True)


if __name__ == "__main__":
    main()
