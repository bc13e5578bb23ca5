"""Crossbar benchmarks: where a read's time goes, phase by phase (program, build, simulator's
run with its Python path, the bare simulator on the same deck, read-out) against the bare
simulator, N = 8..128, with the time per cell (the crossbar's scaling table); ngspice time
vs array size (8x8 to 128x128) for an operating point
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


def _clock():
    """(wall, this process's CPU, finished child processes' CPU) in seconds."""
    import resource
    import time

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return np.array([time.perf_counter(), time.process_time(),
                     child.ru_utime + child.ru_stime])


def phases(n, repeats=2):
    """Seconds of each phase of a 1R n x n read in ngspice (what ``Crossbar.read`` does),
    each the least of ``repeats``: program (weights -> cell states, numpy), build (the
    Circuit, saving only the column currents), run (the simulator object's whole run:
    render, trust check, ngspice, raw file, results), read (column currents from the
    result), bare (ngspice -b on the same deck and files, alone). Each as (wall, this
    process's CPU, the simulator process's CPU): on a loaded machine the CPU split is the
    steadier one (the toolkit's part of a run is this process's CPU during it)."""
    import subprocess
    import tempfile
    from pathlib import Path

    w = np.random.default_rng(n).uniform(0, 1, (n, n))
    best: dict = {}

    def keep(name, t0):
        d = _clock() - t0
        best[name] = d if name not in best else np.minimum(best[name], d)

    s = get_simulator("ngspice")
    for _ in range(repeats):
        t0 = _clock()
        p = program(w, "rram", spread={})
        keep("program", t0)
        t0 = _clock()
        xb = Crossbar("rram", n, n, p.cell_params)
        c = xb.circuit(np.full(n, 0.1), outputs_only=True)
        keep("build", t0)
        t0 = _clock()
        res = s.run(c, timeout=TIMEOUT)
        keep("run", t0)
        t0 = _clock()
        xb.column_currents(res.op)
        keep("read", t0)
        with tempfile.TemporaryDirectory() as d:
            deck = s.prepare(c, Path(d))
            (Path(d) / "deck.cir").write_text(deck.text)
            t0 = _clock()
            subprocess.run([str(s.executable), "-b", "-r", "out.raw", "deck.cir"], cwd=d,
                           capture_output=True, timeout=TIMEOUT, check=True)
            keep("bare", t0)
    return best


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
    T.header("crossbar read phase by phase (RRAM 1R, ideal wires, ngspice OSDI, the read "
             "saving the column currents only): wall seconds, and Python / simulator in wall "
             "time and in CPU time")
    print(f"   {'N':>4} {'cells':>6} {'program':>8} {'build':>8} {'run':>8} {'bare sim':>9} "
          f"{'read':>7} {'python':>8} {'py/sim':>7} {'CPU py':>7} {'CPU sim':>8} "
          f"{'py/sim':>7} {'us/cell sim':>12} {'us/cell py':>11}")
    for n in (8, 16, 32, 64, 128):
        t = phases(n, repeats=3 if n <= 64 else 2)
        wall = {k: v[0] for k, v in t.items()}
        py = wall["program"] + wall["build"] + wall["read"] + max(wall["run"] - wall["bare"],
                                                                   0.0)
        # CPU: this process's in every phase (the run's: rendering, trust check, reading
        # the raw file), against the simulator process's in the run
        py_cpu = sum(t[k][1] for k in ("program", "build", "run", "read"))
        sim_cpu = t["run"][2]
        print(f"   {n:4d} {n * n:6d} {wall['program']:8.3f} {wall['build']:8.3f} "
              f"{wall['run']:8.3f} {wall['bare']:9.3f} {wall['read']:7.3f} {py:8.3f} "
              f"{py / wall['bare']:7.2f} {py_cpu:7.3f} {sim_cpu:8.3f} {py_cpu / sim_cpu:7.2f} "
              f"{1e6 * wall['bare'] / n**2:12.1f} {1e6 * py / n**2:11.1f}", flush=True)
        T.RATIOS.append((f"crossbar {n}x{n}: Python phases / bare simulator (wall)",
                         py / wall["bare"], ""))
        T.RATIOS.append((f"crossbar {n}x{n}: Python phases / simulator (CPU)",
                         py_cpu / sim_cpu, ""))
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
