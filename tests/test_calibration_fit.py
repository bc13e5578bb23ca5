"""The fit engine: recovery within the reported uncertainty, weighting, shared/per-data-set
parameters, constraints, warnings, reproducibility, failures; the fit command line."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from neurospice.calibration import Dataset, Fit, Model, Param
from neurospice.calibration.fit import white_noise
from neurospice.errors import CalibrationError, DataError, NeurospiceError


def _exp(x, p):
    return p["a"] * np.exp(-x / p["tau"]) + p["c"]


EXP = Model("exp", _exp, [Param("a", 1.0, 0.0, 100.0), Param("tau", 1.0, 1e-3, 1e3, "s"),
                          Param("c", 0.0, -10.0, 10.0)])
X = np.linspace(0.0, 5.0, 120)


def _data(rng, truth=(3.0, 0.7, 0.2), noise=0.02):
    a, tau, c = truth
    return Dataset(X, _exp(X, {"a": a, "tau": tau, "c": c}) + rng.normal(0, noise, X.size))


def test_import_is_light():
    code = ("import sys, neurospice.calibration, neurospice.calibration.cli; "
            "print(sorted(m for m in ('lmfit', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_lmfit_imported_without_what_it_only_might_use():
    """import_lmfit keeps pandas (and, for the fit command, matplotlib) out of lmfit's
    import when they are not loaded yet, and out of the way of no later import."""
    code = ("import sys; from neurospice.calibration.fit import import_lmfit; "
            "lm = import_lmfit(keep_out=('pandas', 'matplotlib')); "
            "print(sorted({'pandas', 'matplotlib'} & set(sys.modules))); "
            "import matplotlib.figure, pandas; print(lm is import_lmfit())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "True"]


def test_global_then_local_recovers_within_two_stderr_and_is_reproducible():
    ds = _data(np.random.default_rng(1))
    kw = {"values": {"a": 50.0, "tau": 20.0}, "seed": 3, "global_options": {"popsize": 8}}
    r1 = Fit(EXP, ds, **kw).run()
    r2 = Fit(EXP, ds, **kw).run()
    assert r1.values == r2.values
    for name, truth in (("a", 3.0), ("tau", 0.7), ("c", 0.2)):
        assert abs(r1.values[name] - truth) < 2 * r1.stderr[name] + 1e-12, name
    assert [s["stage"].split()[0] for s in r1.stages] == ["global", "local", "local,"]
    assert r1.redchi == pytest.approx(1.0, rel=0.3)
    assert r1.r2 > 0.99 and r1.success
    assert set(r1.ci) == {"a", "tau", "c"} and r1.ci_method == "stderr"


def test_basin_hopping_global_stage_is_seeded_and_recovers():
    ds = _data(np.random.default_rng(1))
    kw = {"values": {"a": 50.0, "tau": 20.0}, "seed": 5, "global_stage": "basinhopping",
          "global_options": {"niter": 15},
          "search": {"a": (0.1, 100.0), "tau": (0.01, 100.0), "c": (-5.0, 5.0)}}
    r1 = Fit(EXP, ds, **kw).run()
    r2 = Fit(EXP, ds, **kw).run()
    assert r1.values == r2.values
    glob, local = r1.stages[0], r1.stages[1]
    assert glob["stage"] == "global (basin hopping)"
    # from a start 17x/29x off, the global stage alone reaches the least-squares minimum
    assert glob["chisqr"] < 1.01 * local["chisqr"]
    for name, truth in (("a", 3.0), ("tau", 0.7), ("c", 0.2)):
        assert abs(r1.values[name] - truth) < 2 * r1.stderr[name], name
    with pytest.raises(ValueError, match="basinhopping"):
        Fit(EXP, ds, global_stage="annealing")


def test_stderr_matches_scatter_over_repeats():
    rng = np.random.default_rng(7)
    first = Fit(EXP, _data(rng), global_stage=None, values={"a": 3, "tau": 0.7}).run()
    est = np.array([[r.values[n] for n in ("a", "tau", "c")] for r in (
        Fit(EXP, _data(rng), global_stage=None, values={"a": 3, "tau": 0.7}).run()
        for _ in range(20))])
    for k, n in enumerate(("a", "tau", "c")):
        ratio = first.stderr[n] / est[:, k].std(ddof=1)
        assert 0.5 < ratio < 2.0, (n, ratio)


def test_white_noise_from_the_data_alone_and_the_r2_limit():
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(0, 5, 2000))            # unequal spacing
    smooth = 3 * np.exp(-x / 0.7) + np.sin(2 * x)
    y = smooth + rng.normal(0, 0.05, x.size)
    assert white_noise(x, y) == pytest.approx(0.05, rel=0.05)
    assert white_noise(x, smooth) < 0.05 * 0.05      # a smooth curve has (almost) none
    # a hysteresis loop: up and back down, neighbours in acquisition order
    up = np.linspace(0, 1, 500)
    xl = np.r_[up, up[::-1]]
    yl = np.r_[up ** 2, up[::-1] ** 3] + rng.normal(0, 0.01, xl.size)
    assert white_noise(xl, yl) == pytest.approx(0.01, rel=0.1)
    assert math.isnan(white_noise([0.0, 1.0], [1.0, 2.0]))
    # the R^2 a perfect model reaches is the limit: a fit that misses a wiggle stays under
    xs = np.linspace(0.0, 5.0, 1000)
    ys = _exp(xs, {"a": 3.0, "tau": 0.7, "c": 0.2})
    ds = Dataset(xs, ys + np.random.default_rng(3).normal(0, 0.2, xs.size))
    good = Fit(EXP, ds, global_stage=None, values={"a": 3, "tau": 0.7}).run()
    limit = 1 - 0.2 ** 2 / np.var(ds.y)
    assert good.r2_limit[0] == pytest.approx(limit, abs=0.01)
    assert abs(good.r2 - good.r2_limit[0]) < 0.01
    wiggle = Dataset(xs, ds.y + 0.3 * np.sin(6 * xs))
    bad = Fit(EXP, wiggle, global_stage=None, values={"a": 3, "tau": 0.7}).run()
    assert bad.r2 < bad.r2_limit[0] - 0.05
    assert bad.to_dict()["statistics"]["r2_limit"] == [pytest.approx(bad.r2_limit[0])]
    # the missed wiggle leaves correlated residuals: a warning that the errors are too small
    assert abs(good.residual_autocorr[0]) < 0.1
    assert not any("correlated from point to point" in w for w in good.warnings)
    assert bad.residual_autocorr[0] > 0.3
    assert any("correlated from point to point" in w for w in bad.warnings)


def test_shared_and_per_dataset_parameters_with_different_noise():
    rng = np.random.default_rng(2)
    d0 = _data(rng, (3.0, 0.7, 0.2), 0.01)
    d1 = _data(rng, (1.0, 0.7, 0.2), 0.2)
    d0.name, d1.name = "low noise", "high noise"
    r = Fit(EXP, [d0, d1], per_dataset=["a"], global_stage=None, conf_int="profile").run()
    assert set(r.free) == {"a_d0", "a_d1", "tau", "c"}
    assert r.per_dataset[0]["a"] == pytest.approx(3.0, abs=3 * r.stderr["a_d0"])
    assert r.per_dataset[1]["a"] == pytest.approx(1.0, abs=3 * r.stderr["a_d1"])
    # the estimated noise levels weight each curve by its information
    assert r.noise[0] == pytest.approx(0.01, rel=0.3) and r.noise[1] == pytest.approx(0.2, rel=0.3)
    assert r.ci_method.startswith("profile")
    lo, hi = r.ci["tau"]["95.45%"]
    assert lo < r.values["tau"] < hi
    assert r.values_for(1)["a"] == r.per_dataset[1]["a"]
    json.dumps(r.to_dict())


def test_constraint_expression_and_fixed_parameters():
    ds = _data(np.random.default_rng(3), (3.0, 0.7, 0.0))
    r = Fit(EXP, ds, constraints={"c": "0.0 * a"}, global_stage=None).run()
    assert r.values["c"] == 0.0 and "c" not in r.free
    r = Fit(EXP, ds, fixed=["c"], values={"c": 0.0}, global_stage=None).run()
    assert r.free == ["a", "tau"]
    with pytest.raises(CalibrationError, match="constraint"):
        Fit(EXP, ds, constraints={"c": "nosuch * 2"}).run()


@pytest.mark.parametrize("weighting", ["relative", "log"])
def test_relative_and_log_weighting_for_currents_over_decades(weighting):
    rng = np.random.default_rng(4)
    v = np.linspace(0.05, 1.0, 80)

    def diode(x, p):
        return p["i0"] * (np.exp(x / p["vt"]) - 1)

    model = Model("diode", diode, [Param("i0", 1e-12, 1e-18, 1e-3, "A"),
                                   Param("vt", 0.05, 1e-3, 1.0, "V")])
    y = diode(v, {"i0": 1e-12, "vt": 0.06}) * (1 + rng.normal(0, 0.02, v.size))
    r = Fit(model, Dataset(v, y), weighting=weighting, values={"i0": 1e-11, "vt": 0.05},
            search={"i0": (1e-15, 1e-9), "vt": (0.02, 0.2)}).run()
    assert r.values["vt"] == pytest.approx(0.06, abs=2.5 * r.stderr["vt"])
    assert math.log(r.values["i0"] / 1e-12) == pytest.approx(
        0, abs=2.5 * r.stderr["i0"] / r.values["i0"])


def test_warnings_bound_correlation_and_unidentifiable():
    rng = np.random.default_rng(5)

    def twin(x, p):                      # only a*b is determined
        return p["a"] * p["b"] * x + p["c"]

    model = Model("twin", twin, [Param("a", 1.0, 0.1, 10.0), Param("b", 1.0, 0.1, 10.0),
                                 Param("c", 0.0, 0.0, 5.0)])
    x = np.linspace(0, 1, 50)
    r = Fit(model, Dataset(x, 2 * x - 0.5 + rng.normal(0, 0.01, 50)),
            global_stage=None).run()
    text = " ".join(r.warnings)
    assert "c sits at its lower bound" in text
    assert "identifiable" in text or "correlated" in text


def test_progress_callback_and_line(capsys):
    calls = []
    Fit(EXP, _data(np.random.default_rng(6)), global_stage=None,
        progress=lambda stage, n, best: calls.append((stage, n, best))).run()
    assert calls and calls[-1][0] == "local" and calls[-1][1] == len(calls)
    Fit(EXP, _data(np.random.default_rng(6)), global_stage=None).run()
    assert capsys.readouterr().err == ""          # quiet by default


def test_bad_data_and_bad_setup():
    with pytest.raises(DataError, match="not finite"):
        Dataset(X, np.r_[np.nan, np.ones(X.size - 1)])
    with pytest.raises(DataError, match="x has"):
        Dataset(X[:-1], np.ones(X.size))
    with pytest.raises(DataError, match="sigma"):
        Dataset(X, np.ones(X.size), sigma=0.0)
    with pytest.raises(DataError, match="log weighting"):
        Fit(EXP, Dataset(X, np.linspace(-1, 1, X.size)), weighting="log")
    with pytest.raises(CalibrationError, match="no parameter"):
        Fit(EXP, _data(np.random.default_rng(0)), free=["nosuch"])
    with pytest.raises(CalibrationError, match="nothing to fit"):
        Fit(EXP, _data(np.random.default_rng(0)), free=["a"], fixed=["a"])


def test_a_model_that_fails_is_a_calibration_error():
    def broken(x, p):
        raise ValueError("math domain error")

    model = Model("broken", broken, [Param("a", 1.0, 0.0, 2.0)])
    with pytest.raises(CalibrationError, match="broken failed"):
        Fit(model, Dataset(X, np.ones(X.size)), global_stage=None).run()


# --------------------------------------------------------------------------- command line

def _cli(argv) -> int:
    """What core/cli.main does with the fit subcommand: one message, non-zero exit."""
    from neurospice.calibration.cli import add_parser

    parser = argparse.ArgumentParser(prog="neurospice")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NeurospiceError as exc:
        print(f"neurospice fit: error: {exc}", file=sys.stderr)
        return 2


def _mtj_csv(path, noise=0.003, nan=False):
    from neurospice.compact_models.devices import get_device

    mtj = get_device("mtj")
    rng = np.random.default_rng(11)
    v = np.linspace(-0.5, 0.5, 60)
    rows = ["V (V),I (A),sweep"]
    truth = {"rp": 2500.0, "tmr0": 1.2, "vh": 0.35}
    for sweep, m0 in ((1, 1.0), (2, -1.0)):
        i = mtj.numpy.dc_current({"p": v}, {**truth, "m0": m0})["p,n"]
        i = i * (1 + rng.normal(0, noise, v.size))
        rows += [f"{a:.12g},{b:.12g},{sweep}" for a, b in zip(v, i)]
    if nan:
        rows[5] = "0.1,nan,1"
    path.write_text("\n".join(rows) + "\n")
    return truth


@pytest.mark.ngspice
def test_cli_fit_writes_report_cards_and_plots(tmp_path, capsys):
    truth = _mtj_csv(tmp_path / "mtj.csv")
    out = tmp_path / "out"
    rc = _cli(["fit", "mtj", str(tmp_path / "mtj.csv"), "--out", str(out), "--quiet",
               "--global", "none"])
    assert rc == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {"mtj.json", "mtj.ngspice.lib", "mtj.xyce.lib", "mtj.vacask.inc", "mtj.va",
            "report.md", "fit_r_v.png", "loop_rv.png"} <= names
    from neurospice.compact_models.export import read_card

    card = read_card(out / "mtj.json")
    for k, v in truth.items():
        assert card[k] == pytest.approx(v, rel=0.02)
    report = (out / "report.md").read_text()
    assert "Verification" in report and "ngspice" in report
    assert "rp=" in (out / "mtj.ngspice.lib").read_text().replace(" rp =", " rp=")


def test_cli_bad_data_and_failed_fit_exit_nonzero(tmp_path, capsys):
    _mtj_csv(tmp_path / "bad.csv", nan=True)
    assert _cli(["fit", "mtj", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "bad.csv" in err and "row 6" in err
    assert not (tmp_path / "o").exists()

    _mtj_csv(tmp_path / "good.csv")
    assert _cli(["fit", "mtj", str(tmp_path / "good.csv"), "--free", "rp,nosuch",
                 "--quiet"]) == 2
    assert "nosuch" in capsys.readouterr().err

    assert _cli(["fit", "mtj", str(tmp_path / "missing.csv"), "--quiet"]) == 2
    assert "no such data file" in capsys.readouterr().err

    assert _cli(["fit", "mtj", str(tmp_path / "good.csv"), "--recipe", "stno",
                 "--quiet"]) == 2
    assert "fits stno" in capsys.readouterr().err

    assert _cli(["fit", "mtj", str(tmp_path / "good.csv"), "--drop-first", "1",
                 "--quiet"]) == 2
    assert "spin-diode-field recipe only" in capsys.readouterr().err

    (tmp_path / "flat.csv").write_text("V (V),I (A)\n" + "\n".join(
        f"{v},0.0" for v in np.linspace(-0.1, 0.1, 11)) + "\n")
    assert _cli(["fit", "mtj", str(tmp_path / "flat.csv"), "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err


# --- cases found in review: no silent substitutes, no false alarms -------------------------
LINE = Model("line", lambda x, p: p["a"] * x + p["b"],
             [Param("a", 1.0, -10.0, 10.0), Param("b", 0.0, -1.0, 2.0)])


def test_setups_that_would_fit_something_else_are_refused():
    x = np.linspace(0, 1, 20)
    d0, d1 = Dataset(x, 2 * x + 4, name="d0"), Dataset(x, 3 * x + 6, name="d1")
    with pytest.raises(CalibrationError, match="fitted per data set"):
        Fit(LINE, [d0, d1], per_dataset=["a"], constraints={"b": "2*a"})
    with pytest.raises(CalibrationError, match="held at 5, outside its range"):
        Fit(LINE, d0, fixed=["b"], values={"b": 5.0}, global_stage=None).run()
    with pytest.raises(CalibrationError, match="search range of a"):
        Fit(LINE, d0, search={"a": (20.0, 30.0)}).run()
    with pytest.raises(DataError, match="sigma has shape"):
        Dataset(x, x, sigma=np.ones(5))


def test_a_small_value_far_from_its_bound_in_errors_is_not_at_the_bound():
    t = np.linspace(0, 1e-8, 200)
    decay = Model("decay", lambda x, p: np.exp(-x / p["tau"]), [Param("tau", 1e-9, 0.0, 1.0)])
    y = np.exp(-t / 2e-9) + np.random.default_rng(2).normal(0, 0.01, t.size)
    r = Fit(decay, Dataset(t, y), global_stage=None).run()
    assert r.values["tau"] == pytest.approx(2e-9, rel=0.02)
    assert not any("bound" in w for w in r.warnings)
    # a value that really sits at its bound is still reported
    stuck = Fit(decay, Dataset(t, np.exp(-t / 2e-9)), bounds={"tau": (3e-9, 1.0)},
                values={"tau": 5e-9}, global_stage=None).run()
    assert any("tau sits at its lower bound" in w for w in stuck.warnings)


def _lorentz(x, p):
    return p["a"] / (1 + ((x - p["x0"]) / p["w"]) ** 2) + p["c"]


LORENTZ = Model("lorentz", _lorentz, [Param("a", 1.0, 0.0, 10.0), Param("x0", 0.0, -10.0, 10.0),
                                      Param("w", 0.5, 0.01, 5.0), Param("c", 0.0, -1.0, 1.0)])


def test_auto_global_stage_is_skipped_from_a_good_start_and_run_from_a_bad_one():
    """global_stage='auto': from a start near the line, least squares alone reaches the noise
    (no global stage, tens of evaluations); from a start on the wrong side of the axis it is
    stuck in a flat region, so differential evolution runs and finds the line. Both recover
    the truth within 2 standard errors."""
    rng = np.random.default_rng(4)
    x = np.linspace(-10.0, 10.0, 61)
    truth = {"a": 2.0, "x0": 3.0, "w": 0.8, "c": 0.1}
    ds = Dataset(x, _lorentz(x, truth) + rng.normal(0, 0.02, x.size))
    good = Fit(LORENTZ, ds, values={"a": 1.5, "x0": 2.7, "w": 1.0}, global_stage="auto").run()
    assert good.stages[0]["stage"].startswith("global skipped") and good.nfev < 100
    bad = Fit(LORENTZ, ds, values={"a": 1.0, "x0": -8.0, "w": 0.05},
              global_stage="auto").run()
    assert bad.stages[0]["stage"].startswith("local from the start: ")
    assert bad.stages[1]["stage"] == "global (differential evolution)"
    for r in (good, bad):
        for name, value in truth.items():
            assert abs(r.values[name] - value) < 2 * r.stderr[name], (name, r.stages)


def test_auto_intervals_profile_only_where_chi_square_is_not_quadratic():
    """conf_int='auto': with low noise chi-square is quadratic out to 2 standard errors
    (checked at 2 n points) and the intervals are value +- k standard errors; with 25x the
    noise tau's profile is skewed and lmfit's profile intervals are computed (asymmetric)."""
    rng = np.random.default_rng(1)
    got = {}
    for noise in (0.02, 0.5):
        ds = Dataset(X, _exp(X, {"a": 3.0, "tau": 0.7, "c": 0.2}) + rng.normal(0, noise, X.size))
        got[noise] = Fit(EXP, ds, values={"a": 3, "tau": 0.7}, global_stage=None,
                         conf_int="auto").run()
    quiet, noisy = got[0.02], got[0.5]
    assert quiet.ci_method.startswith("stderr (chi-square checked quadratic")
    lo, hi = quiet.ci["tau"]["68.27%"]
    assert hi - quiet.values["tau"] == pytest.approx(quiet.values["tau"] - lo, rel=1e-9)
    assert noisy.ci_method.startswith("profile")
    lo, hi = noisy.ci["tau"]["68.27%"]
    assert abs((hi - noisy.values["tau"]) / (noisy.values["tau"] - lo) - 1) > 0.05
