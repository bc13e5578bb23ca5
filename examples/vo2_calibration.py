"""Calibrate the NbOx/VO2 threshold-switch card on the measured VO2 device (Galloni et al.,
PNAS 2024; the shipped data set ``vo2_threshold_switch``, MIT-licensed, see
data/vo2_threshold_switch/): the dual DC sweep with the nbox-iv recipe, then the measured
pulse experiments simulated in ngspice with the fitted card. Writes report.md, nbox.json, the
cards and PNG plots to --out (default out/examples/vo2_calibration); the reference outputs
committed in examples/vo2_calibration/ are this script's.

    .venv/bin/python examples/vo2_calibration.py [--out OUT_DIR] [--force]

A folder that holds files is refused unless --force (which replaces files of the same names).

Assumption, stated: the DC sweep's stage temperature is not in the file (the stage ran at
64-70 C); 64 C (337.15 K) is taken, the low end, since the sweep's low-bias resistance
(5 kOhm) is seven times the 68.5 C pulse set's (700 Ohm).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from neurospice import datasets
from neurospice.errors import NeurospiceError
from neurospice.fileio import check_folder
from neurospice.calibration import write_outputs
from neurospice.calibration.recipes.nbox import fit_nbox_iv


def main(out: Path, force: bool = False) -> None:
    check_folder(out, overwrite=force)             # before the fit, not after
    sweeps, pulses = datasets.load("vo2_threshold_switch")   # the dual sweep (up, down), pulses
    cal = fit_nbox_iv(sweeps, t_amb=337.15, pulses=pulses, simulators=("ngspice",))
    paths = write_outputs(cal, out, overwrite=force)
    _plots(cal, out)
    d = cal.derived
    print(cal.fits["dual sweep"].summary())
    print(f"V_th  measured {d['v_th_measured']['value']:.3f} V, model "
          f"{d['v_th_model']['value']:.3f} V (fold {d['v_th_fold']['value']:.3f} V)")
    print(f"V_hold measured {d['v_hold_measured']['value']:.3f} V, model "
          f"{d['v_hold_model']['value']:.3f} V (fold {d['v_hold_fold']['value']:.3f} V)")
    for r in cal.extra["pulses"]:
        print(f"{r['name']:>12} ({r['simulator']}{', training' if r['train'] else ''}): "
              f"RMS relative error {r['rms_rel_pulse']:.3f} during the pulse")
    print(f"wrote {len(paths) + 2} files to {out}")


def _plots(cal, out: Path) -> None:
    from neurospice.analysis.plots import curves

    s = cal.curves["sweep"]
    curves([{"series": [(s["v_up"], s["i_up"], "measured, up", "C0o"),
                        (s["v_down"], s["i_down"], "measured, down", "C1o"),
                        (s["v_up"], s["model_i_up"], "card, up", "C0-"),
                        (s["v_down"], s["model_i_down"], "card, down", "C1-")],
             "logy": True, "xlabel": "voltage (V)", "ylabel": "current (A)",
             "title": "VO2 dual DC sweep"}], out / "loop.png")
    rows = cal.curves["pulses"]
    traces = []
    for k, r in enumerate(rows[::2]):
        t = np.asarray(r["time_s"]) * 1e3
        traces += [(t, np.asarray(r["i_measured"]) * 1e3, "", f"C{k}."),
                   (t, np.asarray(r["i_model"]) * 1e3, r["name"], f"C{k}-")]
    curves([{"series": traces, "xlabel": "time (ms)", "ylabel": "current (mA)",
             "title": "pulses: measured (dots), card in ngspice (lines)"},
            {"series": [([r["amplitude_v"] for r in rows], [r["rms_rel_pulse"] for r in rows],
                         "", "o-")],
             "xlabel": "pulse amplitude (V)", "ylabel": "RMS relative current error",
             "title": "error during the pulse"}], out / "pulses.png", ncols=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/examples/vo2_calibration"))
    parser.add_argument("--force", action="store_true", help="write into a folder with files")
    args = parser.parse_args()
    try:
        main(args.out, args.force)
    except NeurospiceError as exc:                   # bad data, an output folder in the way
        raise SystemExit(f"error: {exc}") from None
