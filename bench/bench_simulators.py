"""Simulator benchmarks: neurospice's overhead over the bare simulator, the in-process path's
per-run cost, VACASK vs ngspice, how the cost grows with circuit size, and Monte-Carlo
throughput (``Simulator.run_many``) against the number of workers.

Run alone with ``.venv/bin/python bench/bench_simulators.py`` (or through ``make bench``);
``--runpath`` runs only the per-run path: the overhead over the bare simulator on a 10-30 ms
circuit, and the in-process back end against bare PySpice ``NgSpiceShared``.
Prints ratios measured in this one run; nothing is asserted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _timing as T
from bench_cli import children_cpu

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.randomness import draw_params
from neurospice.netlists import Circuit, Pulse, Pwl
from neurospice.simulators import get_simulator

TIMEOUT = 300


def rc_ladder(sections: int, points: int, stop: float = 4e-6) -> Circuit:
    """A pulse-driven RC ladder, transient with ``points`` steps (max step = stop/points)."""
    c = Circuit(f"rc ladder {sections}")
    c.vsource("in", "n0", 0, waveform=Pulse(0.0, 1.0, rise=1e-9, fall=1e-9, width=5e-7,
                                            period=1e-6))
    for k in range(sections):
        c.resistor(str(k + 1), f"n{k}", f"n{k + 1}", 1e3)
        c.capacitor(str(k + 1), f"n{k + 1}", 0, 1e-13)
    c.tran(stop / points, stop, max_step=stop / points)
    return c


def small_rc() -> Circuit:
    c = Circuit("small rc")
    c.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-9, fall=1e-9, width=1e-3))
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-6)
    c.tran(2e-5, 2e-3)
    return c


def in_process_cases() -> list[Circuit]:
    """The in-process comparison's circuits: a ~3 ms run, one of 10-30 ms (the acceptance:
    a 20-section ladder, 500 steps, 23 vectors back) and a ~100 ms one."""
    return [small_rc(), rc_ladder(20, 500), rc_ladder(50, 2000)]


def bare_command(sim_name: str, workdir: Path, circuit: Circuit) -> list[str]:
    """Write the circuit's deck into ``workdir`` as neurospice would; return the command that
    runs the simulator on it directly (the same flags neurospice uses)."""
    sim = get_simulator(sim_name)
    deck = sim.prepare(circuit, workdir)  # renders the netlist, compiles Verilog-A if any
    exe = str(sim.require())
    if sim_name == "vacask":
        (workdir / "deck.sim").write_text(deck.text)
        return [exe, "-qp", "deck.sim"]
    (workdir / "deck.cir").write_text(deck.text if deck.text.rstrip().endswith(".end")
                                      else deck.text + ".end\n")
    return [exe, "-b", "-r", "out.raw", "deck.cir"]


def with_cpu(fn, cpu: list[float]):
    """``fn`` that appends the CPU seconds of each call to ``cpu``: this process's and those
    of the children it waited for (the simulator), user + system."""
    def call():
        before = time.process_time() + children_cpu()
        fn()
        cpu.append(time.process_time() + children_cpu() - before)
    return call


def time_bare_vs_run(sim_name: str, circuit: Circuit, repeats: int,
                     cpu: dict[str, list[float]] | None = None) -> dict[str, T.Timing]:
    """Bare subprocess and neurospice's run() on the same deck, interleaved; with ``cpu``,
    the CPU seconds of each call go to ``cpu["bare"]`` and ``cpu["run"]``."""
    sim = get_simulator(sim_name)
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as d:
        wd = Path(d)
        cmd = bare_command(sim_name, wd, circuit)
        env = {k: v for k, v in os.environ.items() if k != "SPICE_ASCIIRAWFILE"}

        def bare():   # no timeout: subprocess's wait with one sleep-polls (up to 50 ms late)
            subprocess.run(cmd, cwd=wd, env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

        fns = {"bare": bare, "run": lambda: sim.run(circuit, timeout=TIMEOUT)}
        if cpu is not None:
            fns = {k: with_cpu(fn, cpu.setdefault(k, [])) for k, fn in fns.items()}
        return T.measure_interleaved(fns, repeats)


def time_run(sim_name: str, circuit, repeats: int, warmup: int = 0) -> T.Timing:
    sim = get_simulator(sim_name)
    return T.measure(lambda: sim.run(circuit, timeout=TIMEOUT), repeats, warmup)


def bench_overhead(big: Circuit, repeats: int) -> dict[str, T.Timing]:
    T.header("1a. neurospice overhead over the bare simulator (same netlist, ~1 s circuit)")
    T.note(f"circuit: {big.title}, {len(big.elements)} elements, "
           f"{round(big.analyses[0].stop / big.analyses[0].max_step)} time steps")
    runs = {}
    for name in ("ngspice", "vacask"):
        t = time_bare_vs_run(name, big, repeats)
        bare, run = t["bare"], t["run"]
        T.row(f"{name} bare subprocess", bare)
        T.row(f"{name} neurospice run() (render+run+parse)", run)
        T.overhead(f"{name} overhead of run() (target < 10 %)", run, bare)
        runs[name] = run
    return runs


def bench_overhead_small(circuit: Circuit, repeats: int) -> None:
    T.header("1a'. per-run overhead over the bare simulator on a 10-30 ms circuit "
             "(target <= 5 %)")
    T.note(f"circuit: {circuit.title}, {len(circuit.elements)} elements; bare: the simulator "
           "run on the same deck file by subprocess.run; run(): render, check, run, read, "
           "rename; interleaved, minima are the least disturbed by other load; CPU: this "
           "process's and the simulator's, which the other users of the machine do not "
           "inflate (the least of the repeats, and the mean)")
    for name in ("ngspice", "vacask"):
        cpu: dict[str, list[float]] = {}
        t = time_bare_vs_run(name, circuit, repeats, cpu)
        T.row(f"{name} bare subprocess", t["bare"])
        T.row(f"{name} neurospice run()", t["run"])
        T.overhead(f"{name} overhead of run() (target <= 5 %)", t["run"], t["bare"])
        bare_cpu, run_cpu = T.Timing(cpu["bare"]), T.Timing(cpu["run"])
        T.row(f"{name} CPU, bare / run()", f"{1e3 * bare_cpu.min:.2f} / {1e3 * run_cpu.min:.2f} "
              f"(mean {1e3 * statistics.fmean(cpu['bare']):.2f} / "
              f"{1e3 * statistics.fmean(cpu['run']):.2f})", "ms")
        T.overhead(f"{name} overhead of run() in CPU time", run_cpu, bare_cpu)


def pyspice_bare(text: str):
    """A callable that runs ``text`` through PySpice's bare ``NgSpiceShared`` in this
    process (load, run in the foreground, copy every vector of the last plot, remove), or
    None without PySpice."""
    try:
        import numpy as np
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
    except ImportError:
        return None
    import logging
    logging.getLogger("PySpice").setLevel(logging.ERROR)
    ng = NgSpiceShared.new_instance()

    def run():
        ng.load_circuit(text)
        ng.run()
        out = {k: np.array(v) for k, v in ng.plot(None, ng.last_plot).items()}
        ng.destroy()
        ng.remove_circuit()
        return out

    return run


def running_children_cpu() -> float:
    """CPU seconds (user + system) of this process's running children (Linux /proc; the
    ngspice-shared helper is one), 0 where /proc does not list them."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in kids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick   # utime, stime
    return total


def cpu_per_call(fn, n: int) -> tuple[float, float]:
    """CPU seconds per call of ``fn`` over ``n`` calls in a row: this process's, and its
    running children's (the ngspice-shared helper)."""
    own, kids = time.process_time(), running_children_cpu()
    for _ in range(n):
        fn()
    return (time.process_time() - own) / n, (running_children_cpu() - kids) / n


def bench_in_process_vs_pyspice(circuits: list[Circuit], repeats: int) -> None:
    T.header("1b'. in-process runs vs bare PySpice NgSpiceShared on the same deck "
             "(target <= 1.2x on a 10-30 ms circuit)")
    T.note("run(): render, check, the deck to the helper process, load, run, vectors back; "
           "bare: PySpice in this process. CPU: this process's and its children's (the "
           "helper), n runs in a row each: on a shared machine the wall clock also "
           "counts the other users, the CPU time does not")
    sim = get_simulator("ngspice-shared")
    for c in circuits:
        text = c.to_netlist("ngspice")
        bare = pyspice_bare(text)
        if bare is None:
            T.note("PySpice not installed: nothing to compare")
            return
        run = lambda c=c: sim.run(c)  # noqa: E731
        t = T.measure_interleaved({"bare": bare, "run": run}, repeats, warmup=2)
        T.row(f"{c.title}: PySpice NgSpiceShared", t["bare"])
        T.row(f"{c.title}: ngspice-shared run()", t["run"])
        T.ratio(f"{c.title}: run() / bare NgSpiceShared", t["run"], t["bare"])
        T.ratio(f"{c.title}: on minima", t["run"].min, t["bare"].min)
        run_cpu, bare_cpu = cpu_per_call(run, repeats), cpu_per_call(bare, repeats)
        T.row(f"{c.title}: CPU per run, bare", 1e3 * sum(bare_cpu), "ms")
        T.row(f"{c.title}: CPU per run(), here / helper",
              f"{1e3 * run_cpu[0]:.2f} / {1e3 * run_cpu[1]:.2f}", "ms")
        T.ratio(f"{c.title}: in CPU time", sum(run_cpu), sum(bare_cpu))


def bench_small_runs(n_runs: int) -> None:
    T.header(f"1b. per-run cost of {n_runs} small runs (RC, 100-step tran)")
    c = small_rc()
    per_run = {}
    for name in ("ngspice-shared", "ngspice", "vacask"):
        t = time_run(name, c, n_runs, warmup=1)  # warm-up loads libngspice / fills caches
        per_run[name] = t
        T.row(f"{name} per run", t)
    T.ratio("ngspice batch / ngspice-shared per run", per_run["ngspice"],
            per_run["ngspice-shared"])
    T.ratio("vacask / ngspice-shared per run", per_run["vacask"], per_run["ngspice-shared"])
    T.ratio("vacask / ngspice batch per run", per_run["vacask"], per_run["ngspice"])


def bench_vacask_vs_ngspice(big_runs: dict[str, T.Timing], medium: Circuit,
                            repeats: int) -> None:
    T.header("1c. VACASK vs ngspice on the same circuit (neurospice run())")
    T.ratio("vacask / ngspice, ~1 s circuit", big_runs["vacask"], big_runs["ngspice"])
    ng = time_run("ngspice", medium, repeats)
    va = time_run("vacask", medium, repeats)
    T.row(f"ngspice, medium ({medium.title})", ng)
    T.row(f"vacask, medium ({medium.title})", va)
    T.ratio("vacask / ngspice, medium circuit", va, ng)


def bench_scaling(sizes: tuple[int, ...], points: int, repeats: int) -> None:
    T.header(f"1d. cost vs circuit size (RC ladders, {points}-step tran)")
    times: dict[tuple[str, int], T.Timing] = {}
    for n in sizes:
        c = rc_ladder(n, points)
        for name in ("ngspice", "vacask"):
            times[name, n] = time_run(name, c, repeats)
            T.row(f"{name}, {n} sections", times[name, n])
    for name in ("ngspice", "vacask"):
        for small, large in zip(sizes, sizes[1:]):
            T.ratio(f"{name} {large} / {small} sections", times[name, large],
                    times[name, small], f"size x{large // small}")
    for n in sizes:
        T.ratio(f"vacask / ngspice, {n} sections", times["vacask", n], times["ngspice", n])


def mtj_montecarlo(n: int, seed: int = 1) -> list[Circuit]:
    """``n`` MTJ switching transients (OSDI), each with its own device draw: 5 % spread of
    rp, tmr0 and the critical currents (device-to-device variability)."""
    dev = get_device("mtj")
    spread = {k: ("normal", 0.05) for k in ("rp", "tmr0", "ic0_p", "ic0_ap")}
    out = []
    for k, p in enumerate(draw_params(dev, n, seed, spread)):
        c = Circuit(f"mtj draw {k}")
        c.vsource("in", "a", 0, waveform=Pwl([0.0, 50e-9, 150e-9, 200e-9],
                                             [0.0, 0.6, -0.6, 0.0]))
        dev.add_to(c, "x1", ["a", "0", "0"], params=p)
        c.tran(0.1e-9, 200e-9, max_step=0.1e-9)
        out.append(c)
    return out


def bench_montecarlo(n: int, repeats: int) -> None:
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    T.header(f"1e. Monte-Carlo throughput: {n} MTJ draws (OSDI, 2000-step tran) with "
             f"run_many, by workers ({cores} CPU cores)")
    circuits = mtj_montecarlo(n)
    for name in ("ngspice", "vacask"):
        sim = get_simulator(name)
        sim.run(circuits[0], timeout=TIMEOUT)          # compile the Verilog-A once
        t = T.measure_interleaved({w: (lambda w=w: sim.run_many(circuits, workers=w,
                                                                timeout=TIMEOUT))
                                   for w in counts}, repeats)
        for w in counts:
            T.row(f"{name}, {w} worker(s): runs per second", n / t[w].median)
        for w in counts[1:]:
            T.ratio(f"{name} throughput, {w} workers / 1", t[1], t[w], "speed-up")


def main() -> None:
    if "--runpath" in sys.argv:      # only the per-run path (issue 16's acceptance)
        bench_overhead_small(rc_ladder(20, 1000), repeats=30)
        bench_in_process_vs_pyspice(in_process_cases(), repeats=60)
        return
    big = rc_ladder(200, 30000)
    runs = bench_overhead(big, repeats=4)
    bench_overhead_small(rc_ladder(20, 1000), repeats=30)
    bench_in_process_vs_pyspice(in_process_cases(), repeats=60)
    bench_small_runs(n_runs=100)
    bench_vacask_vs_ngspice(runs, rc_ladder(100, 10000), repeats=3)
    bench_scaling((10, 100, 1000), points=2000, repeats=3)
    bench_montecarlo(16, repeats=2)


if __name__ == "__main__":
    main()
