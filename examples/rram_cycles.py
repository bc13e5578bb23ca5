"""Measured RRAM update ramps -> ensemble statistics -> variability card -> crossbar Monte-Carlo.

    .venv/bin/python examples/rram_cycles.py [--out OUT_DIR] [--overwrite]

The 39 potentiation ramps of the shipped ``rram_pulse_updates`` set are fitted in one call
(:func:`neurospice.calibration.ensemble.fit_ensemble`: per ramp the start and end read
currents ``a``, ``b``, the nonlinearity ``nu`` shared), regularised by the ensemble; the
statistics (mean, spread, correlation; R_off and R_on at the 0.1 V read as figures) and a
variability card for the rram device (``i0`` lognormal from the ON-current scale, ``gmax``
from the ON/OFF window) are written to --out (default out/examples/rram_cycles). The card
then drives a Monte-Carlo of a 4x4 crossbar through ``draw_params`` (50 arrays, the column
currents' spread).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main(argv=None):
    from neurospice import datasets
    from neurospice.calibration.ensemble import fit_ensemble
    from neurospice.calibration.fit import Dataset
    from neurospice.calibration.recipes.rram import ramp_model
    from neurospice.circuits.crossbar import program
    from neurospice.compact_models.devices import get_device
    from neurospice.fileio import check_folder, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/examples/rram_cycles")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    out = check_folder(args.out, overwrite=args.overwrite, flag="--overwrite")

    ramps = datasets.load("rram_pulse_updates").set
    curves = [Dataset(np.arange(len(r.current_a), dtype=float), np.asarray(r.current_a),
                      name=f"ramp {k + 1}", meta={"n_total": len(r.current_a)})
              for k, r in enumerate(ramps)]
    v_read = 0.1
    fit = fit_ensemble(ramp_model(), curves, shared=["nu"], weighting="relative",
                       values={"a": 1.6e-4, "b": 2.4e-4, "nu": 1.0},
                       figures=lambda v: {"R_off": v_read / v["a"], "R_on": v_read / v["b"]})
    summary = fit.summary()
    dev = get_device("rram")
    i0, g0, gmin = (dev.parameter[k].default for k in ("i0", "g0", "gmin"))
    b_median = float(np.median(fit.values[:, 1]))
    card = fit.variability_card(
        "rram", lambda v: {"i0": i0 * v["b"] / b_median,
                           "gmax": gmin + g0 * np.log(v["b"] / v["a"])},
        lognormal=["i0"], source="rram_pulse_updates/set.csv, examples/rram_cycles.py")
    card_path = card.write(out / "variability_card.json", overwrite=args.overwrite)

    w = np.linspace(0, 1, 16).reshape(4, 4)
    v_in = np.full(4, v_read)
    columns = np.array([v_in @ program(w, "rram", spread=card, seed=k).g_programmed
                        for k in range(50)])
    mc = {"arrays": 50, "column_current_mean_a": columns.mean(axis=0).tolist(),
          "column_current_rel_std": (columns.std(axis=0, ddof=1) / columns.mean(axis=0)).tolist()}
    write_text_atomic(out / "statistics.json",
                      json.dumps({"ensemble": summary, "per_curve": fit.per_curve(),
                                  "monte_carlo": mc}, indent=1) + "\n",
                      overwrite=args.overwrite)
    p = summary["params"]
    fg = summary["figures"]
    print(f"{fit.n} ramps in one fit ({fit.evaluations} evaluations); nu shared = "
          f"{fit.shared['nu']:.3g} +- {fit.shared_stderr['nu']:.2g}")
    for k in ("a", "b"):
        print(f"  {k}: mean {p[k]['mean']:.4g} A +- {p[k]['mean_stderr']:.2g}, spread "
              f"{p[k]['std']:.3g} (one by one: {p[k]['std_independent']:.3g})")
    print(f"  R_off {fg['mean']['R_off']:.4g} +- {fg['std']['R_off']:.3g} ohm, R_on "
          f"{fg['mean']['R_on']:.4g} +- {fg['std']['R_on']:.3g} ohm, correlation "
          f"{fg['correlation'][0][1]:.2f}")
    print(f"variability card: {card_path}")
    print("crossbar Monte-Carlo (50 arrays): column current relative spread "
          + ", ".join(f"{x:.3%}" for x in mc["column_current_rel_std"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
