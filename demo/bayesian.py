"""The memristor Bayesian machine part of ``make demo`` (and of
examples/bayesian_machine.py): digits quantised to 4 levels on 4x4 pooled pixels, the exact
naive-Bayes reference, the level-1 stochastic machine, the SPICE column Monte-Carlo (BER and
read energy vs supply), the resilience studies and the energy per decision."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def showcase(out, *, n_bits: int = 256, vdd=(1.2, 0.9, 0.8, 0.7, 0.6),
             simulator: str = "ngspice") -> list[str]:
    """Demo: the whole machine from data to energy per decision; returns Markdown lines.
    ``n_bits`` bits of the SPICE column Monte-Carlo are read at each supply in ``vdd`` (256 x
    5 supplies: about 20 s on two cores; the acceptance test reads 1000)."""
    from neurospice.analysis.plots import curves
    from neurospice.circuits.bayesian import column as col
    from neurospice.circuits.bayesian import energy, machine as M, naive_bayes as nb

    t0 = time.perf_counter()
    xtr, ytr, xte, yte = nb.load_digits_task()
    model = nb.fit(xtr, ytr, 4, 10)
    exact = float(np.mean(model.predict(xte) == yte))
    mach = M.program(model, 8)
    cycles = [10, 30, 100, 300, 1000, 3000]
    acc = M.accuracy_vs_cycles(mach, xte, yte, cycles, seed=1)
    acc_lfsr = M.accuracy_vs_cycles(mach, xte, yte, cycles, seed=1, rng="lfsr")
    acc_shared = M.accuracy_vs_cycles(mach, xte, yte, cycles, seed=1, rng="shared")
    reads = col.montecarlo(n_bits=n_bits, vdd=vdd, seed=0, simulator=simulator)
    n_cyc = 1000
    supply_acc = []
    for v in reads.vdd:
        hit = M.flip_bits(mach, ber=reads.bit_error_rate(v), seed=2)
        supply_acc.append(float(np.mean(M.decide(M.infer(hit, xte, n_cyc, seed=3)) == yte)))
    sigmas = np.array([0.05, 0.1, 0.2, 0.3, 0.4]) * 1e-9
    var_ber = [M.pair_error_rate(s) for s in sigmas]
    var_acc = [float(np.mean(M.decide(M.infer(M.flip_bits(mach, ber=b, seed=4), xte, n_cyc,
                                                seed=3)) == yte)) for b in var_ber]
    upsets = [0, 10, 30, 100, 300]
    seu_acc = [float(np.mean(M.decide(M.infer(M.flip_bits(mach, upsets=u, seed=5), xte, n_cyc,
                                                seed=3)) == yte)) for u in upsets]
    counts = M.infer(mach, xte[:100], n_cyc, seed=3)
    e = energy.energy_per_decision(n_obs=model.n_obs, n_classes=10, bits=8, cycles=n_cyc,
                                   read_energy_per_bit=reads.energy_per_bit(1.2),
                                   mean_count=float(counts.mean()))
    mcu = energy.microcontroller_energy(model.n_obs, 10)
    fig = curves([
        {"series": [(cycles, acc, "numpy RNG", "o-"), (cycles, acc_lfsr, "LFSR", "s-"),
                    (cycles, acc_shared, "one shared RNG", "^-"),
                    (cycles, [exact] * len(cycles), "exact naive Bayes", "k--")],
         "title": "accuracy vs cycles", "xlabel": "cycles", "ylabel": "accuracy", "logx": True},
        {"series": [(reads.vdd, [max(reads.bit_error_rate(v), 1e-4) for v in reads.vdd],
                     "column BER (floor 1e-4)", "o-")],
         "title": f"SPICE column, {reads.draws.bits.size} bits", "xlabel": "VDD (V)",
         "ylabel": "bit-error rate", "logy": True},
        {"series": [(reads.vdd, supply_acc, "1000 cycles", "o-")],
         "title": "accuracy vs supply", "xlabel": "VDD (V)", "ylabel": "accuracy"},
        {"series": [(1e9 * sigmas, var_acc, "1000 cycles", "o-")],
         "title": "accuracy vs gap spread", "xlabel": "sigma gap (nm)", "ylabel": "accuracy"},
        {"series": [(upsets, seu_acc, "1000 cycles", "o-")],
         "title": "accuracy vs upsets", "xlabel": "flipped bits", "ylabel": "accuracy"},
    ], Path(out) / "bayesian_machine.png")
    rows = [f"| {r['vdd']:.2f} | {r['errors']} / {r['bits']} | {r['ber']:.4f} | "
            f"{1e15 * r['energy_per_bit']:.2f} | {a:.3f} |"
            for r, a in zip(reads.table(), supply_acc)]
    return ["## Memristor Bayesian machine", "",
            f"Digits (4x4 pooled pixels, 4 levels, 10 classes), {len(yte)} test images; "
            f"{mach.memory_bits} stored bits ({2 * mach.memory_bits} memristors); figure "
            f"`{fig.name}`. Exact naive-Bayes accuracy {exact:.3f}; machine after "
            + ", ".join(f"{c} cycles {a:.3f}" for c, a in zip(cycles, acc)) + ".", "",
            f"SPICE column Monte-Carlo ({simulator}, {reads.draws.bits.size} bits, "
            f"{reads.seconds:.0f} s):", "",
            "| VDD (V) | errors | BER | read energy (fJ/bit) | accuracy |",
            "|---|---|---|---|---|", *rows, "",
            "Energy per decision at 1.2 V, 1000 cycles: " + ", ".join(
                f"{k} {1e12 * v:.2f} pJ" for k, v in e.items())
            + f"; microcontroller estimate {1e12 * mcu:.0f} pJ "
              f"({mcu / e['total']:.0f}x). Section time {time.perf_counter() - t0:.0f} s.", ""]
