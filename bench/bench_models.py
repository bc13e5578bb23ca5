"""Compact-model benchmarks: a spin-diode frequency sweep as transients vs its envelope
rendering; the STNO transient in ngspice (OSDI and behavioral subcircuit) and VACASK, with a
look at why ngspice's OSDI path is slow; the MTJ's numpy reference vs the simulators.

Run alone with ``.venv/bin/python bench/bench_models.py`` (or through ``make bench``).
Prints ratios measured in this one run; nothing is asserted.
"""

from __future__ import annotations

import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import _timing as T

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.spin_diode import envelope
from neurospice.netlists import Circuit, Pwl, Sine
from neurospice.simulators import get_simulator

TIMEOUT = 300


def with_threads(deck: str, n: int) -> str:
    """The ngspice deck with ``num_threads`` (OpenMP threads of the device-load loop, used
    by OSDI devices) set to ``n`` instead of neurospice's default of one."""
    return re.sub(r"^set num_threads=\d+\s*$", f"set num_threads={n}", deck, count=1,
                  flags=re.MULTILINE)


def spinit_threads() -> str:
    for p in ("/usr/share/ngspice/scripts/spinit", "/usr/local/share/ngspice/scripts/spinit"):
        if Path(p).is_file():
            m = re.search(r"^\s*set\s+num_threads\s*=\s*(\d+)", Path(p).read_text(), re.M)
            return f"{m.group(1)} (set in {p})" if m else f"not set in {p}"
    return "unknown (no spinit found)"


# --------------------------------------------------------------------------- 2a spin diode

def spin_diode_sweep(freqs, i0: float, params: dict, settle: float = 45e-9,
                     per_period: int = 200, last_periods: int = 10) -> np.ndarray:
    """Rectified DC voltage at each frequency from VACASK transients (RF current drive,
    averaged over the last periods)."""
    dev = get_device("spin_diode")
    sim = get_simulator("vacask")
    out = []
    for f in freqs:
        c = Circuit("spin diode sweep")
        c.isource("rf", "0", "a", waveform=Sine(0.0, i0, float(f)))
        dev.add_to(c, "x1", ["a", "0"], rendering="osdi", params=params)
        c.tran(1 / f / per_period, settle, max_step=1 / f / per_period)
        tr = sim.run(c, timeout=TIMEOUT).tran
        t, v = tr.axis, tr["v(a)"]
        keep = t >= settle - last_periods / f
        out.append(np.trapezoid(v[keep], t[keep]) / (t[keep][-1] - t[keep][0]))
    return np.array(out)


def bench_spin_diode(repeats: int) -> None:
    T.header("2a. spin-diode frequency sweep: VACASK transients vs envelope rendering")
    dev = get_device("spin_diode")
    p = dev.params()
    i0 = 100e-6
    power = p["r0"] * i0**2 / 2
    freqs = p["f_res"] * (1 + p["alpha"] * np.linspace(-4, 4, 9))
    many = np.linspace(0.8, 1.2, 10_000) * p["f_res"]
    T.note(f"9 frequencies over f_res (1 +- 4 alpha), 45 ns each at 200 points per period, "
           f"I0 = {i0 * 1e6:g} uA")
    got = {}
    tran = T.measure(lambda: got.update(v=spin_diode_sweep(freqs, i0, p)), repeats)
    env9 = T.measure(lambda: envelope(freqs, power, p), 200)
    env10k = T.measure(lambda: envelope(many, power, p), 20)
    T.row("9 transients (VACASK)", tran)
    T.row("envelope, same 9 frequencies", env9)
    T.row("envelope, 10k frequencies", env10k)
    ref = envelope(freqs, power, p)
    T.row("max |tran - envelope| / max |envelope|",
          float(np.max(np.abs(got["v"] - ref)) / np.max(np.abs(ref))))
    T.ratio("transient sweep / envelope (9 freqs)", tran, env9)
    T.ratio("transient sweep / envelope (10k freqs)", tran, env10k)


# --------------------------------------------------------------------------- 2b STNO

def stno_circuit(rendering: str, stop: float = 20e-9, max_step: float = 1e-12) -> Circuit:
    dev = get_device("stno")
    c = Circuit("stno")
    c.isource("b", "0", "a", 2 * dev.params()["i_th"])
    dev.add_to(c, "x1", ["a", "0", "0"], rendering=rendering)
    c.tran(max_step, stop, max_step=max_step)
    return c


_STATS = {"iterations": r"Transient iterations = (\d+)",
          "timepoints": r"Accepted timepoints = (\d+)",
          "rejected": r"Rejected timepoints = (\d+)",
          "load s": r"Transient load time = ([\d.eE+-]+)",
          "analysis s": r"Transient analysis time = ([\d.eE+-]+)"}


def ngspice_stats(deck: str) -> dict[str, float]:
    """ngspice's own counters (``rusage all`` after the run) and the child process's CPU
    times and voluntary context switches."""
    deck = re.sub(r"^\.end\s*$", "", deck, flags=re.MULTILINE)
    if re.search(r"^\.control", deck, re.MULTILINE):
        deck = re.sub(r"^\.endc\s*$", "run\nrusage all\n.endc", deck, flags=re.MULTILINE)
    else:
        deck += ".control\nrun\nrusage all\n.endc\n"
    exe = str(get_simulator("ngspice").require())
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as d:
        (Path(d) / "deck.cir").write_text(deck + ".end\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        log = subprocess.run([exe, "-b", "deck.cir"], cwd=d, capture_output=True, text=True,
                             timeout=TIMEOUT).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = {k: float(m.group(1)) for k, rx in _STATS.items() if (m := re.search(rx, log))}
    stats["user s"] = after.ru_utime - before.ru_utime
    stats["sys s"] = after.ru_stime - before.ru_stime
    stats["ctx switches"] = after.ru_nvcsw - before.ru_nvcsw
    return stats


def compile_time(va: Path, repeats: int) -> T.Timing:
    from neurospice.simulators.openvaf import openvaf_executable

    exe = str(openvaf_executable())
    with tempfile.TemporaryDirectory(prefix="bench-va-") as d:
        return T.measure(lambda: subprocess.run([exe, str(va), "-o", f"{d}/m.osdi"],
                                                check=True, capture_output=True,
                                                timeout=TIMEOUT), repeats)


def bench_stno(repeats: int) -> None:
    T.header("2b. STNO transient (2 i_th DC, 20 ns at 1 ps max step): OSDI vs subcircuit")
    osdi, subckt = stno_circuit("osdi"), stno_circuit("subckt")
    ng = get_simulator("ngspice")
    with tempfile.TemporaryDirectory() as d:
        osdi_deck = ng.prepare(osdi, Path(d)).text  # compiles (cached) and renders
        subckt_deck = ng.prepare(subckt, Path(d)).text
    osdi_8threads = with_threads(osdi_deck, 8)
    t = T.measure_interleaved({
        "ng-osdi": lambda: ng.run(osdi, timeout=TIMEOUT),
        "ng-osdi-8t": lambda: ng.run(osdi_8threads, timeout=TIMEOUT),
        "ng-subckt": lambda: ng.run(subckt, timeout=TIMEOUT),
        "vacask": lambda: get_simulator("vacask").run(osdi, timeout=TIMEOUT),
    }, repeats)
    T.row("ngspice OSDI (as neurospice writes it: 1 thread)", t["ng-osdi"])
    T.row("ngspice OSDI, spinit's `num_threads=8`", t["ng-osdi-8t"])
    T.row("ngspice behavioral subcircuit", t["ng-subckt"])
    T.row("VACASK OSDI", t["vacask"])
    T.ratio("ngspice OSDI / ngspice subckt", t["ng-osdi"], t["ng-subckt"])
    T.ratio("ngspice OSDI 8 threads / 1 thread", t["ng-osdi-8t"], t["ng-osdi"])
    T.ratio("ngspice subckt / VACASK OSDI", t["ng-subckt"], t["vacask"])
    T.ratio("ngspice OSDI / VACASK OSDI", t["ng-osdi"], t["vacask"])

    T.header("2b'. why ngspice's OSDI path was slow (one run each, ngspice's `rusage all`)")
    T.note(f"ngspice spinit num_threads = {spinit_threads()}; CPUs here: "
           f"{len(__import__('os').sched_getaffinity(0))}")
    T.row("openvaf-r compile of stno.va (cached by neurospice)",
          compile_time(get_device("stno").committed_file("va"), 1))
    cols = ("iterations", "timepoints", "rejected", "analysis s", "load s", "user s", "sys s",
            "ctx switches")
    print("   " + f"{'deck':<22}" + "".join(f"{c:>13}" for c in cols))
    for name, deck in (("OSDI (1 thread)", osdi_deck), ("OSDI num_threads=8", osdi_8threads),
                       ("subckt", subckt_deck)):
        s = ngspice_stats(deck)
        print("   " + f"{name:<22}" + "".join(
            f"{s.get(c, float('nan')):>13.4g}" for c in cols))


# --------------------------------------------------------------------------- 2c MTJ

def bench_mtj(repeats: int) -> None:
    T.header("2c. MTJ transient (triangle +-0.6 V, 200 ns, 2000 points): numpy vs SPICE")
    dev = get_device("mtj")
    times = [0.0, 50e-9, 150e-9, 200e-9]
    volts = [0.0, 0.6, -0.6, 0.0]
    t_eval = np.linspace(0.0, 200e-9, 2001)
    step = 0.1e-9

    def circuit(rendering):
        c = Circuit("mtj triangle")
        c.vsource("in", "a", 0, waveform=Pwl(times, volts))
        dev.add_to(c, "x1", ["a", "0", "0"], rendering=rendering)
        c.tran(step, times[-1], max_step=step)
        return c

    osdi, subckt = circuit("osdi"), circuit("subckt")
    ng, va = get_simulator("ngspice"), get_simulator("vacask")
    drive = {"p": (times, volts)}
    t = T.measure_interleaved({
        "numpy": lambda: dev.numpy.transient(t_eval, drive, max_step=step),
        "ng-osdi": lambda: ng.run(osdi, timeout=TIMEOUT),
        "ng-subckt": lambda: ng.run(subckt, timeout=TIMEOUT),
        "vacask": lambda: va.run(osdi, timeout=TIMEOUT),
    }, repeats, warmup=1)
    T.row("numpy reference (LSODA, max_step 0.1 ns)", t["numpy"])
    T.row("ngspice OSDI", t["ng-osdi"])
    T.row("ngspice subcircuit", t["ng-subckt"])
    T.row("VACASK OSDI", t["vacask"])
    ref = va.run(osdi, timeout=TIMEOUT).tran
    m_ref = np.interp(t_eval, ref.axis, ref["v(nx1.s_m)"])
    m = dev.numpy.transient(t_eval, drive, max_step=step).states["m"]
    T.row("max |m numpy - m VACASK|", float(np.max(np.abs(m - m_ref))))
    for key, label in (("vacask", "VACASK"), ("ng-osdi", "ngspice OSDI"),
                       ("ng-subckt", "ngspice subckt")):
        T.ratio(f"{label} / numpy", t[key], t["numpy"])


def main() -> None:
    bench_spin_diode(repeats=3)
    bench_stno(repeats=3)
    bench_mtj(repeats=3)


if __name__ == "__main__":
    main()
