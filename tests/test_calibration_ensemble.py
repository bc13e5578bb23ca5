"""Many curves in one fit: ensemble statistics against synthetic truth, the variability card
read by draw_params."""

import numpy as np
import pytest

from neurospice.calibration.ensemble import fit_ensemble, statistics
from neurospice.calibration.fit import Model, Param
from neurospice.compact_models.randomness import VariabilityCard, draw_params
from neurospice.errors import NetlistError, OutputExists

MU, SD = np.array([1.0, 1.5]), np.array([0.1, 0.15])


def decay(x, p):
    return p["a"] * np.exp(-x / p["tau"]) + p["c"]


MODEL = Model("decay", decay, [Param("a", 1, 0, 10), Param("tau", 1, 0.01, 100),
                               Param("c", 0, -1, 1)])


def curves(seed, n=30, noise=0.05):
    gen = np.random.default_rng(seed)
    P = MU + SD * gen.standard_normal((n, 2))
    x = np.linspace(0, 5, 40)
    return [(x, decay(x, {"a": a, "tau": t, "c": 0.05}) + noise * gen.standard_normal(x.size))
            for a, t in P]


def test_cycle_statistics_recovered_over_20_repeats():
    fits = [fit_ensemble(MODEL, curves(s), shared=["c"], values={"a": 1, "tau": 1})
            for s in range(20)]
    assert all(f.vectorised for f in fits)
    mean = np.array([f.mean for f in fits])
    mean_se = np.array([f.mean_stderr for f in fits])
    std = np.array([f.std for f in fits])
    std_se = np.array([f.std_stderr for f in fits])
    c = np.array([f.shared["c"] for f in fits])
    c_se = np.array([f.shared_stderr["c"] for f in fits])
    for est, se, truth in ((mean, mean_se, MU), (std, std_se, SD)):
        hits = np.abs(est - truth) < 2 * se
        assert hits.sum(axis=0).min() >= 16, hits.sum(axis=0)
        ratio = se.mean(axis=0) / est.std(axis=0, ddof=1)
        assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    assert np.sum(np.abs(c - 0.05) < 2 * c_se) >= 16
    # regularised: no wider than the one-by-one scatter
    indep = np.array([f.independent.std(axis=0, ddof=1) for f in fits])
    assert np.all(std.mean(axis=0) <= indep.mean(axis=0) * 1.001)


def test_statistics_and_figures():
    f = fit_ensemble(MODEL, curves(1), shared=["c"], values={"a": 1, "tau": 1},
                     figures=lambda v: {"t_half": v["tau"] * np.log(2)})
    s = f.summary()
    assert s["figures"]["mean"]["t_half"] == pytest.approx(np.log(2) * f.values[:, 1].mean())
    st = statistics({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, 6.0, 8.1]})
    assert st["correlation"][0][1] == pytest.approx(1.0, abs=1e-3)


def test_variability_card_drives_draw_params(tmp_path):
    from neurospice.compact_models.devices import get_device

    dev = get_device("rram")
    f = fit_ensemble(MODEL, curves(2), shared=["c"], values={"a": 1, "tau": 1})
    card = f.variability_card("rram", lambda v: {"i0": 1e-3 * v["a"],
                                                 "g0": 0.25e-9 * v["tau"] / 1.5},
                              lognormal=["i0"])
    path = card.write(tmp_path / "card.json")
    with pytest.raises(OutputExists):
        card.write(path)
    drawn = draw_params(dev, 4000, 7, str(path))
    i0 = np.log([d["i0"] for d in drawn])
    g0 = np.array([d["g0"] for d in drawn])
    back = VariabilityCard.read(path)
    assert i0.std() == pytest.approx(back.std[0], rel=0.08)
    assert np.corrcoef(i0, g0)[0, 1] == pytest.approx(back.correlation[0, 1], abs=0.06)
    assert drawn == draw_params(dev, 4000, 7, back)
    (tmp_path / "bad.json").write_text('{"kind": "neurospice-variability-card", '
                                       '"params": {"i0": {"mean": 1, "std": -1}}}')
    with pytest.raises(NetlistError, match="bad.json"):
        VariabilityCard.read(tmp_path / "bad.json")


def test_correlation_recovered_within_two_standard_errors():
    """A correlated ensemble (rho 0.5): the fitted correlation within 2 of its reported
    standard errors in at least 16 of 20 repeats, and no bias beyond the repeats' scatter
    (a fit that left the estimates' own posterior covariance out reported ~0.9)."""
    rho = 0.5
    cov = np.array([[1, rho], [rho, 1]]) * np.outer(SD, SD)
    x = np.linspace(0, 5, 40)
    r, se = [], []
    for seed in range(20):
        gen = np.random.default_rng(seed)
        P = gen.multivariate_normal(MU, cov, 30)
        data = [(x, decay(x, {"a": a, "tau": t, "c": 0.05}) + 0.05 * gen.standard_normal(40))
                for a, t in P]
        f = fit_ensemble(MODEL, data, shared=["c"], values={"a": 1, "tau": 1})
        r.append(f.correlation[0, 1])
        se.append(f.correlation_stderr[0, 1])
        assert f.summary()["correlation"]["stderr"][0][1] == pytest.approx(se[-1])
    r, se = np.array(r), np.array(se)
    assert np.sum(np.abs(r - rho) < 2 * se) >= 16, r
    assert abs(r.mean() - rho) < 2 * r.std(ddof=1) / np.sqrt(r.size), r.mean()


# --------------------------------------------------------------------------- --ensemble

RAMP_TRUTH = {"a": (1.6e-4, 6e-6), "b": (2.4e-4, 1.2e-5), "nu": (2.0, 0.3)}


def write_ramps(path, seed, n_ramps, pulses=80, noise=2e-3, falling=False):
    """Potentiation ramps (one column each) drawn around RAMP_TRUTH with relative read
    noise; returns the drawn per-ramp parameters."""
    from neurospice.calibration.recipes.rram import _ramp

    gen = np.random.default_rng(seed)
    drawn = {k: m + s * gen.standard_normal(n_ramps) for k, (m, s) in RAMP_TRUTH.items()}
    x = np.arange(pulses, dtype=float)
    cols = []
    for k in range(n_ramps):
        p = {name: v[k] for name, v in drawn.items()}
        y = _ramp(x, p, pulses) * (1 + noise * gen.standard_normal(pulses))
        cols.append(y[::-1] if falling else y)
    lines = [",".join(f"rmp{k + 1}" for k in range(n_ramps))]
    lines += [",".join(f"{c[i]:.9g}" for c in cols) for i in range(pulses)]
    path.write_text("\n".join(lines) + "\n")
    return drawn


def test_ensemble_through_the_cli_writes_a_card_draw_params_reads(tmp_path, capsys):
    import json

    from neurospice.cli import main
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.rram import gap_for_resistance

    d1 = write_ramps(tmp_path / "set1.csv", 1, 12)
    d2 = write_ramps(tmp_path / "set2.csv", 2, 12)
    out = tmp_path / "ens"
    args = ["fit", "rram", str(tmp_path / "set1.csv"), str(tmp_path / "set2.csv"),
            "--ensemble", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["ensemble.json", "ensemble.md",
                                                     "variability_card.json"]
    res = json.loads((out / "ensemble.json").read_text())
    assert len(res["per_curve"]) == 24
    drawn = {k: np.concatenate([d1[k], d2[k]]) for k in RAMP_TRUTH}
    for k, v in res["summary"]["params"].items():
        # the ensemble mean against the drawn devices' mean, within 2 standard errors
        assert abs(v["mean"] - drawn[k].mean()) < 2 * v["mean_stderr"], (k, v)
        assert v["std"] == pytest.approx(drawn[k].std(ddof=1), rel=0.5), (k, v)
    figs = res["summary"]["figures"]
    assert set(figs["names"]) == {"r_on", "r_off", "on_off"}
    report = (out / "ensemble.md").read_text()
    assert "## Per curve" in report and "set2.csv rmp12" in report
    assert "## Variability card" in report and "gmin" in report

    card = VariabilityCard.read(out / "variability_card.json")
    assert card.device == "rram" and card.names == ["gmin", "gmax"]
    drawn_sets = draw_params(get_device("rram"), 3000, 5, str(out / "variability_card.json"))
    gmin = np.array([d["gmin"] for d in drawn_sets])
    gmax = np.array([d["gmax"] for d in drawn_sets])
    true_gmin = gap_for_resistance(0.1 / drawn["b"], 0.1)
    true_gmax = gap_for_resistance(0.1 / drawn["a"], 0.1)
    se_gmin = true_gmin.std(ddof=1) / np.sqrt(24)
    assert abs(gmin.mean() - true_gmin.mean()) < 3 * se_gmin
    assert gmax.std() == pytest.approx(true_gmax.std(ddof=1), rel=0.5)
    assert np.all(gmax > gmin)

    # the outputs are not written over without --force; with it they are
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def test_ensemble_refuses_mixed_directions_and_recipes_without_one(tmp_path, capsys):
    from neurospice.cli import main

    write_ramps(tmp_path / "set.csv", 3, 4)
    write_ramps(tmp_path / "reset.csv", 4, 4, falling=True)
    assert main(["fit", "rram", str(tmp_path / "set.csv"), str(tmp_path / "reset.csv"),
                 "--ensemble", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "one direction" in capsys.readouterr().err
    assert main(["fit", "rram", "--recipe", "rram-relaxation", str(tmp_path / "set.csv"),
                 "--ensemble", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no --ensemble fit" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
