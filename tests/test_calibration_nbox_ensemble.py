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


@pytest.mark.slow
def test_identical_limited_loops_recover_the_card_with_honest_errors(tmp_path, capsys):
    """Three loops of one device (noise only) at 1 mA and 2 mA compliance, two noise draws
    each: ea (shared) and the ensemble means of g_ref, r_th and r_c within 3 standard errors
    of the truth, and the standard errors within a factor 3 of the actual errors (the rms of
    error / standard error over the 4 fits and 4 parameters in 1/3-3, measured 1.40; 8 other
    draws of each, ea, g_ref, r_th, r_c: ratio standard error / rms error 0.72-0.93 at 1 mA,
    1.02-1.48 at 2 mA, with one noise scale per loop 0.52-1.76 and 1.06-2.22). The spread is
    not resolved (the loops are one device): a warning says so. Before the fix, at 1 mA:
    ea 0.13 ± 3e-4 (truth 0.30), r_th 2.48e6 ± 2e-4, r_c 398 ± 0.03 (the starting values
    read the compliance plateau as the insulating branch; the prior, collapsed onto the
    curves, was taken for their standard error); at 2 mA r_th 997 809 ± 0.009 (error 2 200)."""
    from neurospice.calibration.recipes.nbox import VO2_FIXED
    from neurospice.cli import main
    from neurospice.compact_models.devices import get_device

    p = get_device("nbox").params(VO2_FIXED)
    z = []
    for i_cc, n, seed in ((1e-3, 121, 0), (1e-3, 121, 10), (2e-3, 61, 20), (2e-3, 61, 30)):
        paths = [tmp_path / f"loop_{seed + k}.csv" for k in range(3)]
        for k, path in enumerate(paths):
            compliance_loop(p, path, seed=seed + k, i_cc=i_cc, n=n)
        out = tmp_path / f"out_{seed}"
        rc = main(["fit", "nbox", *map(str, paths), "--recipe", "nbox-iv", "--ensemble",
                   "--compliance", str(i_cc), "--out", str(out), "--quiet"])
        assert rc == 0
        text = (out / "ensemble.json").read_text()
        summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))[
            "summary"]
        assert "warning: " in capsys.readouterr().out     # the console says it too
        ea = summary["shared"]["ea"]
        got = [(ea["value"], ea["stderr"], p["ea"])] + [
            (summary["params"][k]["mean"], summary["params"][k]["mean_stderr"], p[k])
            for k in ("g_ref", "r_th", "r_c")]
        for value, err, truth in got:
            assert 0 < err < 0.05 * truth, (i_cc, seed, value, err, truth)
            assert abs(value - truth) < 3 * err, (i_cc, seed, value, err, truth)
            z.append((value - truth) / err)
        assert any("spread is not resolved" in w for w in summary["warnings"])
    rms = float(np.sqrt(np.mean(np.square(z))))
    print("rms of error / standard error", rms, np.round(z, 2))
    assert 1 / 3 < rms < 3, rms


def test_a_failed_start_refinement_is_a_warning(tmp_path):
    """The ensemble's start (the loops' median rough values, refined on the median loop
    alone) says what it could not do: a loop without starting values, and a refinement that
    failed -- here the median loop cut to 3 readings, fewer than its 4 free parameters --
    after which the joint fit starts from the rough medians. The loops as they are: no
    warning, and the refinement moves the start."""
    from dataclasses import replace

    from neurospice.calibration.recipes.nbox import NBOX_IV, load_dual_sweep

    spec = NBOX_IV.ensemble
    _, paths = _loops(tmp_path, n=3)
    data = []
    for path in paths:
        data += load_dual_sweep(path, compliance=2e-3)
    curves = spec.curves(data)
    said: list[str] = []
    refined = spec.start(curves, said)
    assert said == []
    g = [c.meta["start"]["g_ref"] for c in curves]
    k = int(np.argmin(np.abs(np.array(g) - np.median(g))))
    rough = float(np.median([c.meta["start"]["r_th"] for c in curves]))
    assert abs(refined["r_th"] / rough - 1) > 1e-3
    short = replace(curves[k], x=curves[k].x[::30][:3], y=curves[k].y[::30][:3],
                    meta={**curves[k].meta, "noise_group": None})
    bare = replace(curves[0], name="no start", meta={**curves[0].meta, "start": None})
    said = []
    start = spec.start([*curves[:k], short, *curves[k + 1:], bare], said)
    assert start["r_th"] == pytest.approx(rough, rel=1e-12)      # the rough median
    assert len(said) == 2, said
    assert said[0] == ("starting values from 3 of 4 loops: no start shows no insulating "
                       "branch below the switch")
    assert said[1].startswith(f"starting values: the refinement on {curves[k].name} alone "
                              "failed (") and "rough values" in said[1]


def test_unidentifiable_and_bound_parameters_are_flagged_not_given_tiny_errors():
    """A shared offset that trades one for one with the per-curve ones (y = (a + b) x), and a
    slope the data push below its bound: their standard errors are NaN (None for a shared
    one) with a warning naming them, not the width of a collapsed prior or a pinned value."""
    from neurospice.calibration.ensemble import fit_ensemble, markdown
    from neurospice.calibration.fit import Model, Param

    gen = np.random.default_rng(3)
    x = np.linspace(0, 1, 30)
    curves = [(x, (1.0 + 0.1 * gen.standard_normal()) * x + 0.01 * gen.standard_normal(30))
              for _ in range(5)]
    both = Model("sum", lambda x, p: (p["a"] + p["b"]) * x,
                 [Param("a", 0.5, -10, 10), Param("b", 0.5, -10, 10)])
    fit = fit_ensemble(both, curves, shared=["b"], per_curve=["a"])
    assert fit.shared_stderr["b"] is None and np.isnan(fit.stderr).all()
    assert any("not identifiable" in w and "a, b" in w for w in fit.warnings)
    assert "## Warnings" in markdown(fit, "sum")
    slope = Model("slope", lambda x, p: p["a"] * x, [Param("a", 0.5, 0, 10)])
    fit = fit_ensemble(slope, [(x, -y) for x, y in curves])
    assert np.isnan(fit.stderr).all()
    assert any("a sits at its bound" in w for w in fit.warnings)


def test_noise_groups_weight_each_group_by_its_own_noise():
    """Curves whose points come in two noise levels (a head read with 2 % noise, a tail with
    0.2 %, as a loop's insulating readings and its compliance plateau): with the groups
    named (meta ``noise_group``) each point is weighted by its curve's and its group's noise,
    the per-curve standard errors match the rms error over 20 noise draws (each curve and
    parameter: 0.5-2; measured 0.89-1.44) and the errors are smaller than with one noise
    level per curve (rms error of tau 0.33-0.52 of that fit's; its standard errors were
    0.59-1.31 of its rms error)."""
    from neurospice.calibration.ensemble import fit_ensemble
    from neurospice.calibration.fit import Dataset, Model, Param

    def decay(x, p):
        return p["a"] * np.exp(-x / p["tau"]) + p["c"]

    model = Model("decay", decay, [Param("a", 1, 0, 10), Param("tau", 1, 0.01, 100),
                                   Param("c", 0, -1, 1)])
    x = np.linspace(0, 5, 40)
    tail = x > 1.5
    truth = np.array([1.0, 1.5]) * (1 + 0.15 * np.random.default_rng(0).standard_normal((6, 2)))

    def draw(seed, groups):
        gen = np.random.default_rng(seed)
        meta = {"noise_group": np.where(tail, "tail", "head")} if groups else {}
        return [Dataset(x, decay(x, {"a": a, "tau": t, "c": 0.05})
                        + np.where(tail, 0.002, 0.02) * gen.standard_normal(x.size),
                        name=f"curve {k}", meta=meta) for k, (a, t) in enumerate(truth)]

    rms = {}
    for groups in (True, False):
        err, se = [], []
        for seed in range(100, 120):
            fit = fit_ensemble(model, draw(seed, groups), shared=["c"],
                               values={"a": 1, "tau": 1})
            err.append(fit.values - truth)
            se.append(fit.stderr)
        rms[groups] = np.sqrt(np.mean(np.square(err), axis=0))
        if groups:
            ratio = np.sqrt(np.mean(np.square(se), axis=0)) / rms[groups]
            assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
            assert any("per group" in n and "tail" in n for n in fit.notes)
    assert np.all(rms[True][:, 1] < 0.8 * rms[False][:, 1]), rms


@pytest.mark.slow
def test_per_loop_errors_match_the_scatter_over_20_noise_draws(tmp_path):
    """Three current-limited loops of devices up to 6 % apart (2 mA compliance, 31 source steps
    each way), drawn again with fresh noise 20 times and fitted as ``--ensemble`` fits them
    (the recipe's loops, start values, bounds and noise groups, through the Python API):
    each loop's g_ref, r_th and r_c standard error, and ea's, within a factor 2 of the rms
    error over the draws, and at least 16 of the 20 values within 2 standard errors. The noise groups (insulating readings, readings at compliance,
    conducting branch) are what makes it: with one noise scale per loop g_ref's standard
    error was 0.55-0.72 of its rms error here (r_th 0.96-1.40, r_c 1.30-1.87, ea 1.44; on
    loops 2-5 % apart 0.47-0.54). Measured with the groups: g_ref 0.82-1.07, r_th
    1.20-1.39, r_c 1.13-1.34, ea 1.30; 17-20 of 20 within 2 standard errors (four loops
    3 % apart, 41 steps: g_ref 0.74-1.07, r_th 1.14-1.57, r_c 1.08-1.56, ea 1.60). About
    70 s."""
    from neurospice.calibration.ensemble import fit_ensemble
    from neurospice.calibration.recipes.nbox import NBOX_IV, VO2_FIXED, load_dual_sweep
    from neurospice.compact_models.devices import get_device

    base = get_device("nbox").params(VO2_FIXED)
    scale = {"g_ref": [0.97, 1.02, 1.0], "r_th": [1.03, 0.98, 1.0], "r_c": [1.0, 1.03, 0.97]}
    truth = [{**base, **{k: base[k] * v[j] for k, v in scale.items()}} for j in range(3)]
    spec = NBOX_IV.ensemble
    err, se, ea = [], [], []
    for draw in range(20):
        data = []
        for j, q in enumerate(truth):
            path = tmp_path / f"loop_{j}.csv"
            compliance_loop(q, path, seed=100 * draw + j, i_cc=2e-3, n=31)
            data += load_dual_sweep(path, compliance=2e-3)
        curves = spec.curves(data)
        fit = fit_ensemble(spec.model(), curves, shared=spec.shared,
                           per_curve=list(spec.per_curve), values=spec.start(curves, []),
                           bounds=spec.bounds(curves), weighting=spec.weighting)
        err.append(fit.values - [[q[k] for k in fit.names] for q in truth])
        se.append(fit.stderr)
        ea.append((fit.shared["ea"] - base["ea"], fit.shared_stderr["ea"]))
    ratio = np.sqrt(np.mean(np.square(se), axis=0) / np.mean(np.square(err), axis=0))
    within = np.sum(np.abs(err) < 2 * np.array(se), axis=0)
    ea = np.array(ea)
    ratio_ea = np.sqrt(np.mean(ea[:, 1] ** 2) / np.mean(ea[:, 0] ** 2))
    print("se / rms error per loop (rows) and g_ref, r_th, r_c:", np.round(ratio, 2),
          "ea", round(float(ratio_ea), 2), "within 2 se", within,
          int(np.sum(np.abs(ea[:, 0]) < 2 * ea[:, 1])))
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    assert within.min() >= 16 and np.sum(np.abs(ea[:, 0]) < 2 * ea[:, 1]) >= 16, within
    assert 0.5 < ratio_ea < 2.0, ratio_ea
