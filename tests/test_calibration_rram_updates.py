"""``rram-pulse-updates``: the spread's mean relative error where every ramp reads the same.

Ramps read at a resolution coarser than their noise read the same at some pulses (here the
first pulses of every ramp, which start from one programmed value): the measured spread
across ramps is zero there, and the relative error of the predicted spread, predicted /
measured - 1, had been infinite (``mean_rel_error`` inf in the calibration's JSON). It is
now the mean over the pulses where the ramps differ, with a note naming the others; NaN,
with a note, where no pulse has a spread.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from neurospice.calibration.data import PulseRamp
from neurospice.calibration.recipes.rram import calibrate_pulse_updates
from neurospice.calibration.report import write_json

PULSES = 40


def _ramps(seed: int, falling: bool, noise: float, step: float | None) -> list:
    """Six ramps of read current (A), 1 uA rising to 2.5 uA (or back), relative noise
    ``noise`` growing from zero at the first pulse, read to ``step`` A."""
    gen = np.random.default_rng(seed)
    n = np.arange(PULSES, dtype=float)
    out = []
    for k in range(6):
        y = 1e-6 * (1.0 + 1.5 * (1 - np.exp(-n / 8.0)))
        y = y[::-1] if falling else y
        y = y * (1 + noise * (n / PULSES) * gen.standard_normal(PULSES))
        if step is not None:
            y = np.round(y / step) * step
        out.append(PulseRamp(pulse=n + 1, current_a=y, source=Path(f"ramps{seed}.csv"),
                             columns={"current_a": f"ramp {k + 1}"}, units={},
                             lines=np.arange(PULSES) + 2))
    return out


def test_pulses_without_spread_are_left_out_and_named(tmp_path):
    """Read to 10 nA, the first pulses (noise growing from zero) read the same on every
    ramp: the error is finite, over the other pulses, and a note says which."""
    ramps = _ramps(1, False, 0.02, 1e-8) + _ramps(2, True, 0.02, 1e-8)
    cal = calibrate_pulse_updates(ramps)
    for direction in ("potentiation", "depression"):
        row = cal.extra["spread"][direction]
        same = int(np.sum(cal.curves["updates"].__getattribute__(direction)
                          .spread_measured == 0))
        assert same >= 1 and row["pulses_without_spread"] == same
        assert math.isfinite(row["mean_rel_error"]) and row["mean_rel_error"] >= 0
        assert any(n.startswith(f"{direction}: every ramp reads the same at {same} of "
                                f"{PULSES} pulses") and "over the other" in n
                   for n in cal.notes), cal.notes
    path = write_json(cal, tmp_path / "cal.json")
    spread = json.loads(path.read_text())["extra"]["spread"]
    assert all(isinstance(spread[d]["mean_rel_error"], float) for d in spread)


def test_no_spread_at_any_pulse_is_nan_with_a_note(tmp_path):
    """Identical ramps (no noise): NaN, said in a note, null in the JSON; the other
    direction, with noise from the first pulse on, has no such note."""
    gen = np.random.default_rng(3)
    same = _ramps(4, False, 0.0, None)
    noisy = _ramps(5, True, 0.0, None)
    for r in noisy:
        r.current_a = r.current_a * (1 + 0.01 * gen.standard_normal(PULSES))
    cal = calibrate_pulse_updates(same + noisy)
    pot, dep = cal.extra["spread"]["potentiation"], cal.extra["spread"]["depression"]
    assert math.isnan(pot["mean_rel_error"]) and pot["pulses_without_spread"] == PULSES
    assert any(n.startswith("potentiation:") and "not defined (NaN)" in n for n in cal.notes)
    assert math.isfinite(dep["mean_rel_error"]) and dep["pulses_without_spread"] == 0
    assert not any(n.startswith("depression: every ramp") for n in cal.notes)
    data = json.loads(write_json(cal, tmp_path / "cal.json").read_text())
    assert data["extra"]["spread"]["potentiation"]["mean_rel_error"] is None
