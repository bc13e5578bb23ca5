"""The crossbar and RRAM weak-RESET part of ``make demo``."""

from __future__ import annotations

import numpy as np

from neurospice.circuits.crossbar import Crossbar, program


def showcase(out) -> list[str]:
    """Demo: a VMM on a programmed 16 x 16 RRAM crossbar (ngspice) without and with
    variability and wire resistance, and a weak-RESET Monte-Carlo of the seed's model."""
    import time
    from pathlib import Path

    from neurospice.analysis.plots import curves
    from neurospice.compact_models.rram import variability as var

    t0 = time.perf_counter()
    n = 16
    gen = np.random.default_rng(2024)
    w = gen.uniform(0, 1, (n, n))
    x = gen.uniform(0, 0.1, n)
    ideal_prog = program(w, "rram", spread={})
    g_lo, g_hi = float(ideal_prog.g_target.min()), float(ideal_prog.g_target.max())
    target = x @ ideal_prog.g_target                    # the ideal W.x, in amperes
    cases = {
        "ideal array": Crossbar("rram", n, n, ideal_prog.cell_params),
        "d2d variability (pulse-programmed)": Crossbar(
            "rram", n, n, program(w, "rram", seed=7, by_pulses=True).cell_params),
        "variability + 1 ohm wires": Crossbar(
            "rram", n, n, program(w, "rram", seed=7, by_pulses=True).cell_params,
            r_row=1.0, r_col=1.0),
    }
    rows, series = [], []
    for label, xb in cases.items():
        i = xb.read(x)
        err = np.sqrt(np.mean((i - target) ** 2)) / np.sqrt(np.mean(target ** 2))
        rows.append(f"| {label} | {100 * err:.2f} % |")
        series.append((1e3 * target, 1e3 * i, label, "o"))
    # 1T1R at defaults: weights mapped onto the cell's effective conductance (access included)
    prog_1t1r = program(w, "rram", cell="1T1R", seed=7)
    xb = Crossbar("rram", n, n, prog_1t1r.cell_params, cell="1T1R")
    budget = xb.error_budget(x, xb.read(x), prog_1t1r)
    mc = var.weak_reset_montecarlo(100, 2000, seed=1)
    k = np.arange(0, 2001, 20)
    mean, sd = var.seed_reference_statistics(k)
    wk = mc.w[k]
    fig = curves([
        {"series": series + [(1e3 * target, 1e3 * target, "", "k-")],
         "title": f"VMM {n}x{n} RRAM crossbar (ngspice)", "xlabel": "ideal W.x (mA)",
         "ylabel": "column current (mA)"},
        {"series": [(k, wk.mean(1), "MC mean (100 devices)", "-"),
                    (k, mean, "seed model mean", "k--"),
                    (k, wk.std(1), "MC spread", "-"), (k, sd, "seed model spread", "k:")],
         "title": "weak-RESET: ln(R/R0) vs pulses", "xlabel": "pulse", "ylabel": "ln(R/R0)"},
    ], Path(out) / "crossbar_vmm.png")
    return ["## Crossbar VMM and RRAM weak-RESET variability", "",
            f"16x16 HfO2 RRAM crossbar, weights in [0, 1] mapped to G in "
            f"[{1e6 * g_lo:.1f} uS, {1e3 * g_hi:.2f} mS], analog inputs 0-0.1 V, operating point "
            f"in ngspice; figure `{fig.name}`. Relative RMS error of the column currents vs the "
            "ideal W.x (includes the sinh I-V nonlinearity):", "",
            "| array | error |", "|---|---|", *rows, "",
            "The same weights on a 1T1R array (default 1 kOhm access device, default spread), "
            "mapped onto the effective cell conductance; the read's error budget against the "
            "numpy W.x of that mapping:", "", budget.table(), "",
            f"Weak-RESET Monte-Carlo (100 devices x 2000 pulses, seed model): mean ln(R/R0) at "
            f"pulse 2000 = {wk.mean(1)[-1]:.3f} (exact {mean[-1]:.3f}), spread "
            f"{wk.std(1)[-1]:.3f} (exact {sd[-1]:.3f}). Section time "
            f"{time.perf_counter() - t0:.1f} s.", ""]
