"""``neurospice fit nbox ... --recipe nbox-iv --ensemble``: several current-limited loops of
devices with a known device-to-device scatter (generated from the project's own NbOx static
model) fitted in one call (g_ref, r_th, r_c per loop, ea shared, regularised by the
ensemble prior); the recovered spread within a factor 2 of the true one, the means within
3 standard errors, the figures (V_th, V_hold, R_on, R_off) reported, and the variability
card drawn by ``draw_params``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest


def compliance_loop(*args, **kw):
    """The current-limited loop generator of test_calibration_compliance.py (one way of
    making them)."""
    spec = importlib.util.spec_from_file_location(
        "compliance_loops", Path(__file__).with_name("test_calibration_compliance.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compliance_loop(*args, **kw)


SCATTER = {"g_ref": 0.15, "r_th": 0.10, "r_c": 0.10}     # lognormal sigmas of the devices


def _loops(tmp_path, n=6, seed=5):
    from neurospice.calibration.recipes.nbox import VO2_FIXED
    from neurospice.compact_models.devices import get_device

    base = get_device("nbox").params(VO2_FIXED)
    gen = np.random.default_rng(seed)
    truth, paths = [], []
    for k in range(n):
        q = {**base, **{name: base[name] * float(np.exp(s * gen.standard_normal()))
                        for name, s in SCATTER.items()}}
        truth.append(q)
        paths.append(tmp_path / f"device_{k}.csv")
        compliance_loop(q, paths[-1], seed=k, i_cc=2e-3, n=61)
    return truth, paths


@pytest.mark.slow
def test_ensemble_recovers_the_device_scatter(tmp_path):
    from neurospice.cli import main
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.randomness import draw_params

    truth, paths = _loops(tmp_path)
    out = tmp_path / "out"
    rc = main(["fit", "nbox", *map(str, paths), "--recipe", "nbox-iv", "--ensemble",
               "--compliance", "2e-3", "--out", str(out), "--quiet"])
    assert rc == 0
    summary = json.loads((out / "ensemble.json").read_text())["summary"]
    for name in SCATTER:
        true = np.array([q[name] for q in truth])
        got = summary["params"][name]
        ratio = got["std"] / true.std(ddof=1)
        assert 0.5 < ratio < 2.0, (name, ratio)            # measured 0.9-0.92
        assert abs(got["mean"] - true.mean()) < 3 * got["mean_stderr"], name
    assert summary["shared"]["ea"]["value"] == pytest.approx(0.3, abs=0.02)
    figs = summary["figures"]
    assert set(figs["names"]) == {"v_th", "v_hold", "r_on", "r_off"}
    assert 1.5 < figs["mean"]["v_th"] < 2.3 and 0.5 < figs["mean"]["v_hold"] < 0.9
    assert "v_th" in (out / "ensemble.md").read_text()
    drawn = draw_params(get_device("nbox"), 400, 1, out / "variability_card.json")
    g = np.array([d["g_ref"] for d in drawn])
    assert g.mean() == pytest.approx(summary["params"]["g_ref"]["mean"], rel=0.05)
    assert g.std() == pytest.approx(summary["params"]["g_ref"]["std"], rel=0.2)


def test_ensemble_needs_pairs_of_branches():
    from neurospice.calibration.recipes.nbox import loop_datasets
    from neurospice.errors import CalibrationError

    with pytest.raises(CalibrationError, match="pairs"):
        loop_datasets([(np.linspace(0, 1, 5), np.linspace(0, 1e-3, 5))] * 3)
