"""NbOx neuron: a 100-us transient in ngspice (OSDI), ngspice (behavioral subcircuit),
VACASK and the numpy circuit simulator, as ratios to VACASK; spike-analysis throughput on a
10^7-sample waveform. Run from the repository root: ``python bench/bench_neurons.py``."""

from __future__ import annotations

import numpy as np

from _timing import header, measure, measure_interleaved, note, ratio, row

from neurospice.analysis.spikes import detect_spikes, isi_stats
from neurospice.errors import NeurospiceError
from neurospice.circuits import neurons as N
from neurospice.simulators import get_simulator


def main():
    header("NbOx neuron, tonic preset, 100 us transient (~100 spikes)")
    circuit, stim = N.tonic(t_stop=100e-6)
    sub, _ = N.tonic(t_stop=100e-6, rendering="subckt")
    runs = {}
    if get_simulator("vacask").is_available():
        runs["vacask (OSDI)"] = lambda: get_simulator("vacask").run(circuit)
    if get_simulator("ngspice").is_available():
        runs["ngspice (OSDI)"] = lambda: get_simulator("ngspice").run(circuit)
    for fn in runs.values():                        # warm the OSDI compile cache
        fn()
    timings = measure_interleaved(runs, repeats=3)
    failed = []
    if get_simulator("ngspice").is_available():   # the slowest: one repeat
        try:
            timings["ngspice (subcircuit)"] = measure(
                lambda: get_simulator("ngspice").run(sub, timeout=900), repeats=1)
        except NeurospiceError as exc:            # report it, keep benchmarking the rest
            failed.append(f"ngspice (subcircuit) failed: {exc}")
    timings["numpy (LSODA)"] = measure(stim.neuron.simulate_numpy, repeats=3)
    for key, t in timings.items():
        row(key, t)
    base = next(iter(timings))
    for key, t in timings.items():
        if key != base:
            ratio(f"{key} / {base}", t, timings[base])
    for line in failed:
        note(line)

    header("spike analysis on a 10^7-sample waveform (10^4 spikes)")
    n = 10_000_000
    t = np.arange(n) * 1e-9
    x = np.where((np.arange(n) % 1000) < 20, 1e-3, 0.0) + 1e-6 * np.sin(t * 1e7)
    timing = measure(lambda: isi_stats(detect_spikes(t, x, threshold=5e-4,
                                                     hysteresis=2.5e-4).times), repeats=3)
    row("detect + ISI stats", timing)
    row("throughput", n / timing.median / 1e6, "Msamples/s")
    note("ratios are medians of repeats measured in this run; the ngspice subcircuit is one "
         "repeat (it inlines the device locals into long B-source expressions); numpy "
         "evaluates the device's generated source on Python floats inside LSODA (it took "
         "~41 s with numpy scalars inside scipy's BDF)")


if __name__ == "__main__":
    main()
