"""Compliance-limited threshold-switch sweeps: the start values survive a ~0 V first
reading, and points marked at compliance are left out of the fit (with a note)."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.calibration.recipes.nbox import start_from_sweep


def sweep(first=(0.0, -1e-12)):
    """A switching dual sweep: insulating (activated) up to 2 V, metallic above; the down
    branch releases at 1.2 V. ``first``: the first reading (V, A) of the up sweep."""
    v_up = np.linspace(0.0, 3.0, 61)
    i_up = np.where(v_up < 2.0, v_up / 2e4 * np.exp(v_up), v_up / 300.0)
    v_dn = v_up[::-1]
    i_dn = np.where(v_dn > 1.2, v_dn / 300.0, v_dn / 2e4 * np.exp(v_dn))
    v_up[0], i_up[0] = first
    return v_up, i_up, v_dn, i_dn


@pytest.mark.parametrize("first", [(0.0, -1e-12), (1e-4, 3e-13), (0.0, 0.0), (2e-3, -5e-11)])
def test_start_values_survive_a_zero_volt_first_reading(first):
    start = start_from_sweep(*sweep(first), t_amb=300.0)
    assert all(np.isfinite(v) and v > 0 for v in start.values())
    assert start["g_met"] == pytest.approx(1 / (300 - start["r_c"]), rel=0.05)
    assert start["t_c"] > 300.0
