"""Monte-Carlo on a Dask LocalCluster against the thread pool: a 200-draw seeded Monte-Carlo
of a small circuit on ngspice, run (a) on this process's thread pool with 2 threads and (b)
through a 2-worker LocalCluster on 127.0.0.1 (processes, one thread each), interleaved; the
results are checked equal bit for bit, and the cluster/thread-pool time ratio is printed
(target <= 1.3). The cluster's start-up is timed apart (paid once per campaign or session),
and so is a campaign streamed to its file (``store=``) on the cluster.

Run with ``.venv/bin/python bench/bench_dask.py [--draws N] [--repeats R]``; medians of
repeats and ratios measured in this one run, nothing asserted but the equality.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import _timing as T

DRAWS = {"r": lambda rng: rng.normal(1e3, 100.0), "c": lambda rng: rng.uniform(0.5e-9, 2e-9)}


def factory(r, c):
    """An RC step response (a transient of a few hundred points: ~10 ms of ngspice)."""
    from neurospice.netlists import Circuit, Pulse

    k = Circuit("rc")
    k.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
    k.resistor("1", "a", "b", r)
    k.capacitor("1", "b", 0, c)
    k.tran(2e-8, 1e-5)
    return k


def main() -> None:
    from neurospice.simulators.executors import cluster
    from neurospice.simulators.sweep import monte_carlo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n = args.draws
    T.header(f"Monte-Carlo of {n} seeded draws (RC transient) on ngspice: thread pool vs "
             "Dask LocalCluster, 2 workers each")
    t0 = time.perf_counter()
    with cluster(n_workers=2) as client:
        start = time.perf_counter() - t0
        out = {}

        def threads():
            out["threads"] = monte_carlo(factory, DRAWS, n, seed=1, workers=2, progress=False)

        def dask():
            out["dask"] = monte_carlo(factory, DRAWS, n, seed=1, executor=client,
                                      progress=False)

        with tempfile.TemporaryDirectory() as tmp:
            count = [0]

            def stored():
                count[0] += 1
                out["stored"] = monte_carlo(factory, DRAWS, n, seed=1, executor=client,
                                            progress=False,
                                            store=Path(tmp) / f"mc{count[0]}.nc")

            times = T.measure_interleaved({"threads": threads, "dask": dask,
                                           "stored": stored}, repeats=args.repeats,
                                          warmup=1)
    for key in ("dask", "stored"):
        for name in out["threads"].variables:
            a, b = out["threads"][name].values, out[key][name].values
            same = np.array_equal(a.view(np.uint64), b.view(np.uint64)) \
                if a.dtype.kind == "f" else np.array_equal(a, b)
            if not same:
                raise SystemExit(f"{key}: {name} differs from the thread pool's")
    T.note(f"results equal bit for bit ({len(out['threads'].data_vars)} variables, "
           f"{int(out['threads'].attrs['n_failed'])} failed points)")
    T.row("LocalCluster start (2 workers)", start, "s")
    T.row("thread pool, 2 threads", times["threads"])
    T.row("LocalCluster, 2 workers", times["dask"])
    T.row("LocalCluster, streamed to a .nc file", times["stored"])
    T.ratio("dask / threads (target <= 1.3)", times["dask"], times["threads"])
    T.ratio("dask streamed to file / threads", times["stored"], times["threads"])
    T.row("per draw on the thread pool", times["threads"].median * 1e3 / n, "ms")


if __name__ == "__main__":
    main()
