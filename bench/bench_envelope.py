"""The envelope netlist from 32-16-4 up to the drone size (256 -> 128 -> 10, 34 176 devices):
build time and Python peak, the batched evaluation's first sample and its cost per further
sample (in ngspice one ``.dc`` sweep of a sample-index source: the circuit is built, loaded
and factored once, each sample continues from the last one's solution), the agreement with
numpy and the cost per element: the envelope's scaling table. Then ngspice against VACASK
(one transient stepping through the samples) and against numpy on the smaller networks.

Run with ``.venv/bin/python bench/bench_envelope.py [--samples N] [--largest 256]``; ratios
measured in this one run, nothing asserted. The network is untrained (trimmed: resonators at
their design frequencies), which costs the simulators the same as a trained one.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc

import numpy as np

import _timing as T

from neurospice.circuits.rfnet import envelope_netlist as EN
from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
from neurospice.netlists.writers import element_count


def network(sizes):
    return RFNetwork.build(list(sizes), linear_plan(sizes[0], 2e9, 12e9), band=8, seed=0,
                           trim=True, name="bench")


def inputs(sizes, n):
    return np.random.default_rng(1).uniform(0.1e-6, 1e-6, (n, sizes[0]))


def cpu() -> float:
    """CPU seconds of this process and its finished children (the batch simulators): on a
    shared machine the wall clock measures the other users as well."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def evaluate(sizes, n, simulator="ngspice"):
    """(per-sample seconds after the first, seconds of the first, largest relative
    difference to numpy, elements, Python peak MB of the build, build seconds, numpy
    seconds per sample, CPU seconds per sample after the first, CPU seconds of the first)."""
    net = network(sizes)
    x = inputs(sizes, n)
    tracemalloc.start()
    t0 = time.perf_counter()
    c = EN.build(net, x, swept=True, rendering="osdi")
    t_build = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    elements = element_count(c)
    del c
    t0, c0 = time.perf_counter(), cpu()
    one = EN.evaluate(net, x[:1], batched=True, simulator=simulator, timeout=1800)
    t_first, c_first = time.perf_counter() - t0, cpu() - c0
    t0, c0 = time.perf_counter(), cpu()
    out = EN.evaluate(net, x, batched=True, simulator=simulator, timeout=1800)
    t_all, c_all = time.perf_counter() - t0, cpu() - c0
    t_np = T.measure(lambda: net.forward(x), repeats=3).median / n
    ref = net.forward(x)
    rel = float(np.max(np.abs(out - ref) / np.abs(ref)))
    rel = max(rel, float(np.max(np.abs(one - ref[:1]) / np.abs(ref[:1]))))
    per = max(t_all - t_first, 0.0) / max(n - 1, 1)
    per_cpu = max(c_all - c_first, 0.0) / max(n - 1, 1)
    return per, t_first, rel, elements, peak / 2**20, t_build, t_np, per_cpu, c_first


def main():
    n = int(sys.argv[sys.argv.index("--samples") + 1]) if "--samples" in sys.argv else 30
    largest = int(sys.argv[sys.argv.index("--largest") + 1]) if "--largest" in sys.argv else 256
    T.header(f"envelope netlist, batched over {n} samples (ngspice: one .dc sweep of the "
             "sample index, KLU)")
    print(f"   {'network':<16} {'elements':>9} {'build s':>8} {'peak MB':>8} {'first s':>8} "
          f"{'per sample s':>13} {'first CPU s':>12} {'per sample CPU s':>17} "
          f"{'CPU us/element':>15} {'rel. to numpy':>14}")
    per_ng = {}
    for sizes in ((32, 16, 4), (64, 32, 10), (128, 64, 10), (256, 128, 10)):
        if sizes[0] > largest:
            break
        per, first, rel, elements, peak, build, t_np, per_cpu, c_first = evaluate(sizes, n)
        name = "-".join(map(str, sizes))
        per_ng[sizes] = per
        print(f"   {name:<16} {elements:9d} {build:8.2f} {peak:8.0f} {first:8.2f} {per:13.3f} "
              f"{c_first:12.2f} {per_cpu:17.3f} {1e6 * per_cpu / elements:15.2f} {rel:14.1e}",
              flush=True)
        T.RATIOS.append((f"envelope {name}: per sample / first (CPU)", per_cpu / c_first,
                         f"{elements} elements"))
        T.RATIOS.append((f"envelope {name}: netlist / numpy per sample (CPU)", per_cpu / t_np,
                         f"numpy {1e3 * t_np:.2f} ms"))
    T.header(f"VACASK (one transient through the samples, OSDI resonators) vs ngspice, {n} samples")
    for sizes in ((32, 16, 4), (64, 32, 10)):
        per, first, rel, *_ = evaluate(sizes, n, simulator="vacask")
        name = "-".join(map(str, sizes))
        print(f"   {name:<16} VACASK first {first:.2f} s, per sample {per:.3f} s, "
              f"rel. to numpy {rel:.1e}", flush=True)
        T.RATIOS.append((f"envelope {name}: VACASK / ngspice per sample",
                         per / max(per_ng[sizes], 1e-9), ""))


if __name__ == "__main__":
    main()
