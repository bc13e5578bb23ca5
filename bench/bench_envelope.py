"""The drone-size envelope netlist (256 -> 128 -> 10, 34 176 devices): build, render and
simulate times, per-sample cost of a batched evaluation (one transient stepping through the
samples: the circuit is built and loaded once, only the input waveforms carry the samples)
against the numpy envelope, and the agreement with numpy; then a scaling table over network
sizes (time per element).

Run with ``.venv/bin/python bench/bench_envelope.py [--samples N]``; ratios measured in this
one run, nothing asserted. The network is untrained (trimmed: resonators at their design
frequencies), which costs the simulators the same as a trained one.
"""

from __future__ import annotations

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


def evaluate(sizes, n, simulator="ngspice"):
    """(per-sample seconds after the first, seconds of the first, largest relative
    difference to numpy, elements, Python peak MB of the build)."""
    net = network(sizes)
    x = inputs(sizes, n)
    tracemalloc.start()
    t0 = time.perf_counter()
    c = EN.build(net, x[:1], batched=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t_build = time.perf_counter() - t0
    elements = element_count(c)
    t0 = time.perf_counter()
    one = EN.evaluate(net, x[:1], batched=True, simulator=simulator, timeout=1800)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = EN.evaluate(net, x, batched=True, simulator=simulator, timeout=1800)
    t_all = time.perf_counter() - t0
    ref = net.forward(x)
    rel = float(np.max(np.abs(out - ref) / np.abs(ref)))
    rel = max(rel, float(np.max(np.abs(one - ref[:1]) / np.abs(ref[:1]))))
    per = max(t_all - t_first, 0.0) / max(n - 1, 1)
    return per, t_first, rel, elements, peak / 2**20, t_build


def main():
    n = int(sys.argv[sys.argv.index("--samples") + 1]) if "--samples" in sys.argv else 30
    T.header(f"envelope netlist, batched over {n} samples (ngspice, KLU chosen by size)")
    print(f"   {'network':<16} {'elements':>9} {'build s':>8} {'first s':>8} "
          f"{'per sample s':>13} {'us/element':>11} {'rel. to numpy':>14} {'peak MB':>8}")
    for sizes in ((32, 16, 4), (64, 32, 10), (128, 64, 10), (256, 128, 10)):
        per, first, rel, elements, peak, build = evaluate(sizes, n)
        name = "-".join(map(str, sizes))
        print(f"   {name:<16} {elements:9d} {build:8.2f} {first:8.2f} {per:13.3f} "
              f"{1e6 * per / elements:11.2f} {rel:14.1e} {peak:8.0f}", flush=True)
        T.RATIOS.append((f"envelope {name}: per sample / first", per / first,
                         f"{elements} elements"))


if __name__ == "__main__":
    main()
