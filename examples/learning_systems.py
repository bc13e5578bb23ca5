"""The acceptance run of issue #19: every learning system on the digits, 3 seeds, each against
its own ideal-weight baseline; prints each number and writes results.json to --out.

    .venv/bin/python examples/learning_systems.py [--out FOLDER] [--seeds 0 1 2] [--quick]
                                                  [--overwrite]

The full run takes 5-8 minutes per seed; its numbers are the acceptance numbers. ``--quick`` is
a smoke run (well under a minute per seed): every system once, on the first 300 training and
200 test digits, with 20 output neurons for the SNN and fewer epochs (and hidden units, where
there are any) for the others (:data:`QUICK`), written to results_quick.json. Its accuracies
are far below the full run's and say nothing about the acceptance criteria; it shows that
every system runs end to end.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")        # small matrices: threads only contend
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from neurospice.fileio import write_text_atomic  # noqa: E402
from neurospice.learning import binary_ep, bnn, data, dw_quantised, metaplastic, vdsp  # noqa: E402
from neurospice.learning import spice_check  # noqa: E402

#: The smoke run's reductions: training/test samples and each system's size arguments (the
#: full run uses the library defaults, and 5 epochs for the weak-RESET BNN).
QUICK = {"n_train": 300, "n_test": 200, "vdsp": {"n_out": 20},
         "bnn": {"epochs": 3, "hidden": 32}, "metaplastic": {"epochs": 5, "hidden": 32},
         "binary_ep": {"epochs": 5, "hidden": 32}, "dw": {"epochs": 5}}
FULL = {"n_train": None, "n_test": None, "vdsp": {}, "bnn": {"epochs": 5},
        "metaplastic": {}, "binary_ep": {}, "dw": {}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out/examples/learning_systems")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run on a reduced configuration (not the acceptance numbers)")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    c = QUICK if args.quick else FULL
    res = {}
    for seed in args.seeds:
        task = data.load_digits(seed=seed).subset(c["n_train"], c["n_test"])
        r = {}
        runs = {k: vdsp.run(task, vdsp.SNNConfig(rule=rule, synapse=syn, **c["vdsp"]), seed)
                for k, rule, syn in (("ideal", "vdsp", "ideal"), ("stdp", "stdp", "ideal"),
                                     ("rram", "vdsp", "rram"))}
        r["vdsp"] = {k: {"accuracy": v.accuracy, "updates": v.updates, "pulses": v.pulses,
                         "energy_J": v.energy_J, "samples_per_s": v.samples / v.seconds}
                     for k, v in runs.items()}
        r["vdsp"]["update_ratio"] = runs["ideal"].updates / runs["stdp"].updates
        ideal, alone, ranking = bnn.rank_imperfections(task, seed, **c["bnn"])
        r["bnn"] = {"ideal": ideal, "alone": alone, "ranking": ranking}
        t2 = data.permuted(task, 100 + seed)
        r["metaplastic"] = {
            str(m): vars(metaplastic.sequential(task, t2, seed, m=m, **c["metaplastic"]))
            for m in (0.0, 50.0)}
        r["binary_ep"] = {
            k: binary_ep.train(task, binary_ep.EPConfig(binary=b, **c["binary_ep"]), seed).accuracy
            for k, b in (("full", False), ("binary", True))}
        r["dw"] = {}
        for nst in (2, 3, 5):
            for mode in ("in-situ", "ex-situ"):
                d = dw_quantised.train(task, nst, seed, mode=mode, **c["dw"])
                r["dw"][f"{nst}-{mode}"] = {
                    "accuracy": d.accuracy, "pulses": d.pulses,
                    "programming_pJ_per_inference": d.programming_per_inference_J * 1e12,
                    "read_pJ_per_inference": d.read_per_inference_J * 1e12}
        res[seed] = r
        v, b, m = r["vdsp"], r["bnn"], r["metaplastic"]
        print(f"seed {seed}: VDSP ideal {v['ideal']['accuracy']:.3f}, RRAM "
              f"{v['rram']['accuracy']:.3f}, STDP {v['stdp']['accuracy']:.3f}; updates "
              f"VDSP/STDP {v['update_ratio']:.2f}")
        print(f"  weak-RESET BNN ideal {b['ideal']:.3f}; alone {b['alone']}; ranking "
              f"{b['ranking']}")
        print(f"  metaplastic: task 1 after task 2 m=0 {m['0.0']['task1_after']:.3f}, m=50 "
              f"{m['50.0']['task1_after']:.3f} (task 2 {m['50.0']['task2']:.3f})")
        print(f"  binary EP {r['binary_ep']['binary']:.3f} vs full precision "
              f"{r['binary_ep']['full']:.3f}")
        for k, d in r["dw"].items():
            print(f"  DW {k}: accuracy {d['accuracy']:.3f}, read {d['read_pJ_per_inference']:.2f}"
                  f" pJ + programming {d['programming_pJ_per_inference']:.2e} pJ per inference")
    a = spice_check.dw_slice(dw_quantised.train(
        data.load_digits(seed=0).subset(c["n_train"], c["n_test"]), 5, 0, epochs=1).array)
    print(f"SPICE slice (DW 8x4, {a.simulator}): max relative error {a.max_relative_error:.2e}")
    out = Path(args.out)
    path = out / ("results_quick.json" if args.quick else "results.json")
    write_text_atomic(path, json.dumps(res, indent=1, default=float), overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
