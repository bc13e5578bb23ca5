"""Bayesian-machine benchmarks: inferences per second of the level-1 stochastic machine
(numpy and LFSR random sources) and the time of the SPICE column Monte-Carlo (ngspice).

Run alone with ``.venv/bin/python bench/bench_bayesian.py`` (or through ``make bench``).
Prints medians of repeats; nothing is asserted.
"""

from __future__ import annotations

import numpy as np

import _timing as T

from neurospice.circuits.bayesian import column as col
from neurospice.circuits.bayesian import machine as M, naive_bayes as nb
from neurospice.simulators import get_simulator


def main():
    gen = np.random.default_rng(0)
    lk = gen.uniform(0.1, 1.0, (16, 4, 10))
    model = nb.NaiveBayes(np.log(np.full(10, 0.1)), lk / lk.sum(axis=1, keepdims=True))
    mach = M.program(model, 8)
    x = gen.integers(0, 4, (1000, 16))
    T.header("level 1: 1000 inferences x 100 cycles (16 observations, 10 classes, 8 bits)")
    for rng in ("numpy", "lfsr"):
        t = T.measure(lambda: M.infer(mach, x, 100, rng=rng), repeats=3)
        T.row(f"level 1 ({rng})", t)
        T.row(f"inferences per second at 100 cycles ({rng})", 1000 / t.median, "1/s")
    T.header("level 2: SPICE column Monte-Carlo (ngspice), 1000 bits at 1.2 V and 0.6 V "
             "(the acceptance test's)")
    t = T.measure(lambda: col.montecarlo(n_bits=1000, vdd=(1.2, 0.6)), repeats=1)
    T.row("column Monte-Carlo 1000 bits x 2 supplies", t)
    T.row("bits read per second", 2000 / t.median, "1/s")
    T.header("level 2: one 4-column netlist (32 bits) at 1.2 V, compiled vs B-source "
             "transistors")
    design = col.ColumnDesign()
    draws = col.draw_columns(design, 4, seed=0)
    sim = get_simulator("ngspice")
    for rendering in ("osdi", "bsource"):
        t = T.measure(lambda: sim.run(col.column_circuit(design, draws, 1.2,
                                                         rendering=rendering)), repeats=3)
        T.row(f"column transient ({rendering})", t)


if __name__ == "__main__":
    main()
