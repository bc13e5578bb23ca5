"""Learning benchmarks: training throughput (samples per second) of each system of
neurospice.learning on the digits, one seed, reduced sizes. Nothing is asserted.

Run alone with ``.venv/bin/python bench/bench_learning.py`` (or through ``make bench``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _timing as T  # noqa: E402

from neurospice.learning import binary_ep, bnn, data, dw_quantised, metaplastic, vdsp  # noqa: E402


def main():
    task = data.load_digits(seed=0)
    small = task.subset(300, 200)
    T.header("learning: training throughput (samples per second, digits)")
    for rule, syn in (("vdsp", "ideal"), ("stdp", "ideal"), ("vdsp", "rram")):
        r = vdsp.run(small, vdsp.SNNConfig(rule=rule, synapse=syn), 0)
        T.row(f"SNN {rule} {syn} (100 outputs)", r.samples / r.seconds, "samples/s")
    for imp in ((), bnn.IMPERFECTIONS):
        r = bnn.train_weak_reset(task, 0, imp, epochs=1)
        T.row(f"weak-RESET BNN {'+'.join(imp) or 'ideal'}", r.samples / r.seconds, "samples/s")
    r = metaplastic.sequential(task, data.permuted(task, 1), 0, epochs=2)
    T.row("metaplastic BNN (two tasks)", r.samples / r.seconds, "samples/s")
    for b in (False, True):
        r = binary_ep.train(task, binary_ep.EPConfig(epochs=1, binary=b), 0)
        T.row(f"EP {'binary' if b else 'full precision'}", r.samples / r.seconds, "samples/s")
    for nst in (2, 5):
        r = dw_quantised.train(task, nst, 0, epochs=2)
        T.row(f"DW in-situ {nst} states", r.samples / r.seconds, "samples/s")
    r = dw_quantised.train(task, 3, 0, mode="ex-situ", epochs=2)
    T.row("DW ex-situ 3 states (model, then transfer)", r.samples / r.seconds, "samples/s")


if __name__ == "__main__":
    main()
