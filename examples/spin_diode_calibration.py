"""Calibrate the spin-diode recipe on the measured Ta/CoFeB field sweeps (1-17 GHz).

Reads the shipped data set ``spin_diode_tacofeb`` (GPL-2.0-licensed data, see
data/spin_diode_tacofeb/), fits every trace with symmetric + antisymmetric Lorentzians on a
background, the resonance field against frequency with the in-plane Kittel relation and the
half width with the linear damping law, and writes the report, JSON, cards and plots to
--out (default out/examples/spin_diode_calibration); the reference outputs committed in
examples/spin_diode_calibration/ are this script's.

    .venv/bin/python examples/spin_diode_calibration.py [--out OUT_DIR] [--force]

A folder that holds files is refused unless --force (which replaces files of the same names).
"""

import argparse
from pathlib import Path

from neurospice import datasets
from neurospice.errors import NeurospiceError
from neurospice.fileio import check_folder
from neurospice.calibration import fit_spin_diode_field, write_outputs


def main(out: Path, force: bool = False) -> None:
    check_folder(out, overwrite=force)             # before the fit, not after
    sweeps = datasets.load("spin_diode_tacofeb")
    cal = fit_spin_diode_field(sweeps, geometry="in-plane", drop_first=1, progress=True)
    for name in ("gamma_hz_per_t", "meff_t", "g_factor", "gilbert_damping", "width0_t"):
        d = cal.derived[name]
        print(f"{name:<15} {d['value']:.5g} +- {d['stderr']:.2g} {d['unit']}")
    for w in cal.warnings:
        print(f"warning: {w}")
    for path in write_outputs(cal, out, overwrite=force):
        print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/examples/spin_diode_calibration"))
    parser.add_argument("--force", action="store_true", help="write into a folder with files")
    args = parser.parse_args()
    try:
        main(args.out, args.force)
    except NeurospiceError as exc:                   # bad data, an output folder in the way
        raise SystemExit(f"error: {exc}") from None
