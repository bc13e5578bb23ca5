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


def compliance_loop(params, path, *, r_s=100.0, i_cc=1e-3, v_src=3.0, n=121, seed=0):
    """A current-limited dual sweep of the nbox static model written to ``path``: a source
    ramp 0 -> v_src -> 0 through ``r_s``; the device sits on its static S-curve (state: the
    index along it, moved only as far as the load line forces), its current clamped at
    ``i_cc`` (the voltage drops when it switches); 0.2 % voltage and 1 % current noise, a
    ~0 V first reading."""
    from neurospice.compact_models.nbox.static import static_curve

    c = static_curve(params, t_max=params["t_amb"] + 1500, n=3000)
    vs = c.v + r_s * c.i
    k_cc = int(np.searchsorted(c.i, i_cc))
    src = np.r_[np.linspace(0, v_src, n), np.linspace(v_src, 0, n)[1:]]
    k, pts = 0, []
    for j, s in enumerate(src):
        if j < n:
            while k < k_cc and vs[k] < s:
                k += 1
        else:
            while k > 0 and vs[k] > s:
                k -= 1
        pts.append((c.v[k], c.i[k], k == k_cc))
    gen = np.random.default_rng(seed)
    v, i, at = (np.array(x) for x in zip(*pts))
    v = v * (1 + 2e-3 * gen.standard_normal(v.size))
    i = np.where(at, i_cc * (1 + 1e-4 * gen.standard_normal(v.size)),
                 i * (1 + 1e-2 * gen.standard_normal(v.size)))
    v[0], i[0] = 1e-5 * gen.standard_normal(), 1e-12 * gen.standard_normal()
    np.savetxt(path, np.c_[v, i], delimiter=",", header="V,I", comments="", fmt="%.8g")


@pytest.mark.parametrize("seed", range(11))
def test_compliance_loop_is_cut_where_the_source_turned(tmp_path, seed):
    """The device voltage drops at the switch (compliance): the cut between the branches is
    in the compliance plateau, so the up sweep holds the whole insulating branch up to V_th
    and then the jump into compliance (a cut where the measured voltage turns put the switch
    into the down branch and failed on the plateau's noise)."""
    from neurospice.calibration.recipes.nbox import VO2_FIXED, load_dual_sweep
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.nbox.static import threshold_hold

    p = get_device("nbox").params(VO2_FIXED)
    compliance_loop(p, tmp_path / "loop.csv", seed=seed)
    up, down = load_dual_sweep(tmp_path / "loop.csv", compliance=1e-3)
    v_th, _ = threshold_hold(p)
    free = ~up.compliance
    assert up.compliance.any() and down.compliance.any()
    assert np.max(up.voltage_v[free]) == pytest.approx(v_th, rel=0.03)
    assert not up.compliance[free.nonzero()[0][-1] + 1:].size or \
        up.compliance[free.nonzero()[0][-1] + 1:].all()
    assert up.voltage_v.size + down.voltage_v.size == 241
