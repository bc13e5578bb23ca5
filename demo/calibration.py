"""Calibration's part of ``make demo``: a device engineer's two jobs, end to end.

1. An MTJ's I-V file, as an SMU writes it (a settings preamble, units in the column names,
   a sweep index), generated here from a known card plus 0.3 % noise: loaded, fitted
   (``mtj-rv``), the card re-simulated in ngspice and VACASK (``verify``), and the recovered
   values set against the truth in standard errors.
2. The measured Ta/CoFeB spin-diode field sweeps (the shipped data set ``spin_diode_tacofeb``,
   :mod:`neurospice.datasets`; skipped, saying why, where it is not found): every trace fitted, Kittel and damping laws, the trace table's R^2
   against what each trace's white noise allows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurospice.fileio import write_text_atomic

TRUTH = {"rp": 2500.0, "tmr0": 1.2, "vh": 0.35}


def mtj_iv_file(path: Path, *, noise: float = 0.003, seed: int = 11) -> Path:
    """Write an SMU-style CSV of a P and an AP sweep of the MTJ card :data:`TRUTH`."""
    from neurospice.compact_models.devices import get_device

    mtj = get_device("mtj")
    rng = np.random.default_rng(seed)
    v = np.linspace(-0.5, 0.5, 101)
    rows = ["Test Name,MTJ R(V) dual state", "Instrument,SMU-1", "Compliance,1 mA", "",
            "SMU-1 Voltage (V),SMU-1 Current (mA),Sweep"]
    for sweep, m0 in ((1, 1.0), (2, -1.0)):
        i = mtj.numpy.dc_current({"p": v}, {**TRUTH, "m0": m0})["p,n"]
        i = i * (1 + rng.normal(0, noise, v.size))
        rows += [f"{a:.6g},{1e3 * b:.9g},{sweep}" for a, b in zip(v, i)]
    return write_text_atomic(path, "\n".join(rows) + "\n", overwrite=True)  # the demo's folder


def showcase(out) -> list[str]:
    from neurospice.calibration import get_recipe, write_outputs
    from neurospice.calibration import fit_mtj_rv, fit_spin_diode_field

    out = Path(out)
    data = mtj_iv_file(out / "calibration_mtj_iv.csv")
    sweeps = get_recipe("mtj-rv").load(data)
    cal = fit_mtj_rv(sweeps, verify=True, seed=1)
    paths = write_outputs(cal, out / "calibration_mtj", overwrite=True)   # the demo's folder
    rows = [f"| {k} | {v:g} | {cal.params[k]:.5g} | {cal.stderr[k]:.2g} | "
            f"{abs(cal.params[k] - v) / cal.stderr[k]:.2f} |" for k, v in TRUTH.items()]
    checks = [f"{v.simulator}, {v.dataset}: RMS {v.rms_rel:.1e} of the data range"
              for v in cal.verification if v.rms_rel is not None]
    lines = ["## Calibration", "",
             f"MTJ R(V): `{data.name}` (an SMU export with a settings preamble, current in mA, "
             f"a sweep column; 0.3 % noise on a known card), {len(sweeps)} sweeps, recipe "
             f"`mtj-rv`. Report, cards and plots in `{paths[0].parent.name}/`.", "",
             "| parameter | truth | fitted | std. error | off by (std. errors) |",
             "|---|---|---|---|---|", *rows, "",
             "- the card re-simulated against the measured data (it passes when as close to "
             "them as the fit): " + "; ".join(checks), ""]
    from neurospice import datasets
    from neurospice.errors import DataError

    try:
        sweeps = datasets.load("spin_diode_tacofeb")
    except DataError as exc:                  # e.g. installed without the source tree's data/
        return lines + [f"- measured spin-diode sweeps skipped: {exc}", ""]
    sd = fit_spin_diode_field(sweeps, drop_first=1)
    write_outputs(sd, out / "calibration_spin_diode", overwrite=True)
    d = sd.derived
    traces = sd.extra["traces"]
    passed = [t for t in traces if t["r2"] >= 0.9]
    low = [f"{t['trace']} (R^2 {t['r2']:.3f}, its white noise allows {t['r2_limit']:.3f})"
           for t in traces if t["r2"] < 0.9]
    return lines + [
        f"Measured Ta/CoFeB spin-diode field sweeps ({len(traces)} frequencies, "
        f"`{sweeps[0].source.name}`), recipe `spin-diode-field`; outputs in "
        "`calibration_spin_diode/`:", "",
        f"- {len(passed)} of {len(traces)} traces fitted with R^2 >= 0.9"
        + (f"; below: {', '.join(low)}" if low else ""),
        f"- Kittel: gamma/2pi = {d['gamma_hz_per_t']['value'] / 1e9:.2f} +- "
        f"{d['gamma_hz_per_t']['stderr'] / 1e9:.2f} GHz/T (g = {d['g_factor']['value']:.3f}), "
        f"mu0 M_eff = {1e3 * d['meff_t']['value']:.0f} +- {1e3 * d['meff_t']['stderr']:.0f} mT "
        "(perpendicular anisotropy)",
        f"- damping: Gilbert alpha = {d['gilbert_damping']['value']:.4f} +- "
        f"{d['gilbert_damping']['stderr']:.4f}, "
        f"inhomogeneous half width {1e3 * d['width0_t']['value']:.1f} mT", ""]
