"""Crossbar benchmarks: ngspice time vs array size (8x8 to 128x128) for an operating point
(OSDI vs behavioral subcircuit, and VACASK) and a short read transient; the numpy pulse-level
simulators' throughput (device-pulses per second): the seed's statistical model, the physical
model with its default sub-steps, and the physical Monte-Carlo of the seed-mapped ensemble.

Run alone with ``.venv/bin/python bench/bench_crossbar.py`` (or through ``make bench``).
Prints medians of repeats and ratios measured in this one run; nothing is asserted.
"""

from __future__ import annotations

import numpy as np

import _timing as T

from neurospice.compact_models.rram import variability as var
from neurospice.compact_models.rram import weak_reset as wr
from neurospice.netlists import Pulse
from neurospice.circuits.crossbar import Crossbar, program
from neurospice.simulators import get_simulator

TIMEOUT = 600


def array(n, rendering="osdi", r_wire=0.0):
    w = np.random.default_rng(n).uniform(0, 1, (n, n))
    return Crossbar("rram", n, n, program(w, "rram", spread={}).cell_params,
                    r_row=r_wire, r_col=r_wire, rendering=rendering)


def op_time(n, sim, rendering, repeats, r_wire=0.0):
    xb = array(n, rendering, r_wire)
    c = xb.circuit(np.full(n, 0.1))
    s = get_simulator(sim)
    return T.measure(lambda: s.run(c, timeout=TIMEOUT), repeats=repeats)


def tran_time(n, repeats):
    """A 0.1 V, 10 ns read pulse on every row, 20 ns of transient (states move negligibly)."""
    xb = array(n)
    c = xb.circuit(np.zeros(n))
    c.analyses.clear()
    for i in range(n):
        c[f"vin{i}"].waveform = Pulse(0.0, 0.1, delay=2e-9, rise=1e-9, fall=1e-9, width=10e-9)
    c.tran(0.2e-9, 20e-9)
    s = get_simulator("ngspice")
    return T.measure(lambda: s.run(c, timeout=TIMEOUT), repeats=repeats)


def main():
    T.header("crossbar operating point vs size (RRAM 1R, ideal wires, virtual-ground sense)")
    base = {}
    for n in (8, 16, 32, 64, 128):
        reps = 3 if n <= 32 else 1
        t = op_time(n, "ngspice", "osdi", reps)
        T.row(f"ngspice OSDI {n}x{n}", t)
        base[n] = t
        if n <= 64:
            ts = op_time(n, "ngspice", "subckt", reps)
            T.row(f"ngspice subckt {n}x{n}", ts)
            T.ratio(f"subckt / OSDI {n}x{n}", ts, t)
        tv = op_time(n, "vacask", "osdi", reps)
        T.row(f"VACASK OSDI {n}x{n}", tv)
        T.ratio(f"VACASK / ngspice OSDI {n}x{n}", tv, t)
    T.ratio("ngspice OSDI 128x128 / 8x8 (256x the cells)", base[128], base[8])
    T.header("with 1 ohm wire segments (a 2-D resistive mesh: the solver's fill-in grows)")
    for n in (16, 32, 64):
        reps = 3 if n <= 16 else 1
        t = op_time(n, "ngspice", "osdi", reps, r_wire=1.0)
        tv = op_time(n, "vacask", "osdi", reps, r_wire=1.0)
        T.row(f"ngspice OSDI {n}x{n} wires", t)
        T.row(f"VACASK OSDI {n}x{n} wires", tv)
        T.ratio(f"ngspice wires / no wires {n}x{n}", t, base[n])
        T.ratio(f"VACASK / ngspice {n}x{n} wires", tv, t)
    T.header("crossbar short read transient vs size (ngspice OSDI, ideal wires)")
    tr = {}
    for n in (8, 16, 32):
        tr[n] = tran_time(n, 3 if n <= 16 else 1)
        T.row(f"transient {n}x{n}", tr[n])
    T.ratio("transient 32x32 / 8x8 (16x the cells)", tr[32], tr[8])
    T.header("numpy pulse-level throughput")
    t = T.measure(lambda: var.weak_reset_montecarlo(100, 2000, seed=1), repeats=3)
    T.row("seed model 100 devices x 2000 pulses", t)
    T.row("seed model device-pulses per second", 2e5 / t.median, "1/s")
    amps = np.full(100, var.WEAK_RESET_AMPLITUDE)
    t_fine = T.measure(lambda: var.simulate_pulse_train(
        amps, var.WEAK_RESET_WIDTH, n_devices=500, params={"gi": 0.84e-9}), repeats=2)
    T.row("physical model 500 devices x 100 pulses", t_fine)
    T.row("physical model device-pulses per second", 5e4 / t_fine.median, "1/s")
    t_phys = T.measure(lambda: wr.physical_weak_reset_montecarlo(100, 2000, seed=1), repeats=2)
    T.row("physical, seed-mapped 100 x 2000", t_phys)
    T.row("seed-mapped physical device-pulses per second", 2e5 / t_phys.median, "1/s")
    T.ratio("seed-mapped physical / seed model (100 x 2000)", t_phys, t)


if __name__ == "__main__":
    main()
