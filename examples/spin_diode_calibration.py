"""Calibrate the spin-diode recipe on the measured Ta/CoFeB field sweeps (1-17 GHz).

Reads ../shared/data/spin_diode_tacofeb/5360_2p.csv (kept out of this repository: GPL data),
fits every trace with symmetric + antisymmetric Lorentzians on a background, the resonance
field against frequency with the in-plane Kittel relation and the half width with the
linear damping law, and writes the report, JSON, cards and plots to
examples/spin_diode_calibration/. Run: .venv/bin/python examples/spin_diode_calibration.py
"""

from pathlib import Path

from neurospice.calibration import fit_spin_diode_field, load_spin_diode_sweeps, write_outputs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "spin_diode_tacofeb" / "5360_2p.csv"
OUT = Path(__file__).resolve().parent / "spin_diode_calibration"


def main() -> None:
    sweeps = load_spin_diode_sweeps(DATA)
    cal = fit_spin_diode_field(sweeps, geometry="in-plane", drop_first=1, progress=True)
    for name in ("gamma_hz_per_t", "meff_t", "g_factor", "alpha", "width0_t"):
        d = cal.derived[name]
        print(f"{name:<15} {d['value']:.5g} +- {d['stderr']:.2g} {d['unit']}")
    for w in cal.warnings:
        print(f"warning: {w}")
    for path in write_outputs(cal, OUT):
        print(f"wrote {path.relative_to(OUT.parents[1])}")


if __name__ == "__main__":
    main()
