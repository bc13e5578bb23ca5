"""Calibration benchmark: a typical fit with the numpy inner loop vs with ngspice in the loop.

The fit is the MTJ R(V) recipe's (``mtj-rv``) on synthetic data: a parallel and an
antiparallel I-V sweep of 100 points each (200 points), 0.5 % current noise, three free
parameters (rp, tmr0, vh; the MTJ card has no fourth that a static R(V) determines: the state
m0 is degenerate with tmr0 and vh), relative residuals. Both variants use the same ``Fit``:
the same data, start, bounds, weighting, seed and optimisers; only the model function
differs:

- numpy: the device's numpy rendering (``mtj_model()``, what the recipe uses);
- ngspice: the circuit (the Verilog-A card through OSDI, one instance per data set's state)
  is built and loaded once in the in-process ngspice (``ngspice-shared``); each evaluation
  sets the card's values with ``alter`` (``run_series``) and runs one DC sweep that gives
  both data sets' curves, then interpolates onto the data's voltages. For comparison, one
  evaluation is also timed the naive way (a new circuit rendered, loaded and swept per data
  set and evaluation).

Timed: one model evaluation; the local stage alone (Levenberg-Marquardt from the same start);
the whole fit (differential evolution, then Levenberg-Marquardt), five times with numpy. With
ngspice in the loop the whole fit is timed once, or with ``--quick`` only estimated as the
numpy fit's time + (its model evaluations / data sets) x (one ngspice evaluation); the
printout says which.

Also timed: a million-sample oscilloscope file read by the transient loader, against
``numpy.loadtxt``.

Run alone with ``.venv/bin/python bench/bench_calibration.py [--quick]`` (or through
``make bench``). Prints times and ratios measured in this one run; nothing is asserted.
"""

from __future__ import annotations

import sys

import numpy as np

import _timing as T

from neurospice.calibration.fit import Dataset, Fit, Model
from neurospice.calibration.recipes.mtj import mtj_model
from neurospice.compact_models.devices import get_device
from neurospice.netlists import Circuit
from neurospice.simulators import get_simulator

TRUTH = {"rp": 2500.0, "tmr0": 1.2, "vh": 0.35}
FREE = ("rp", "tmr0", "vh")
V = np.linspace(-0.6, 0.6, 100)       # even count: no point at 0 V (relative residuals)


def datasets(seed: int = 0, noise: float = 0.005) -> list[Dataset]:
    dev = get_device("mtj")
    rng = np.random.default_rng(seed)
    out = []
    for m0, name in ((1.0, "P"), (-1.0, "AP")):
        i = dev.numpy.dc_current({"p": V}, {**TRUTH, "m0": m0})["p,n"]
        out.append(Dataset(V, i * (1 + rng.normal(0, noise, V.size)), name=f"{name} sweep",
                           fixed={"m0": m0}))
    return out


def ngspice_model_rebuilt(counter: list[int]) -> Model:
    """The MTJ I(V) model with each evaluation a new circuit and a DC sweep in in-process
    ngspice (rendered, loaded and swept per data set and evaluation): the naive loop."""
    dev = get_device("mtj")
    sim = get_simulator("ngspice-shared")

    def func(v, p):
        counter[0] += 1
        v = np.asarray(v, float)
        lo, hi = float(v.min()), float(v.max())
        step = (hi - lo) / (v.size - 1)
        c = Circuit("mtj fit")
        c.vsource("in", "a", 0, 0.0)
        dev.add_to(c, "1", ["a", 0, 0], params={n: p[n] for n in dev.parameter},
                   rendering="osdi")
        c.dc("vin", lo, hi + step / 2, step)
        res = sim.run(c).dc
        return np.interp(v, res.axis, -np.asarray(res["i(vin)"]))

    return Model.from_device(dev, func, name="mtj I(V) (ngspice DC sweep)",
                             x_label="voltage (V)", y_label="current (A)")


def ngspice_model(counter: list[int], states=(1.0, -1.0)) -> Model:
    """The MTJ I(V) model with ngspice in the loop, built once: one circuit holds an instance
    per data set's state m0 (N1 on the swept source, the others on unit VCVS copies of it),
    loaded once in the in-process ngspice; an evaluation sets the card's values on every
    instance with ``alter`` (``run_series``) and runs one DC sweep over the data's voltages,
    which gives every data set's curve; the curves of the last parameter values are kept, so
    the fit's evaluation of the other data sets at the same values costs no second run."""
    dev = get_device("mtj")
    sim = get_simulator("ngspice-shared")
    names = [n for n in dev.parameter if n != "m0"]
    step = (V.max() - V.min()) / (V.size - 1)
    c = Circuit("mtj fit, built once")
    c.vsource("in", "a1", 0, 0.0)
    for k, m0 in enumerate(states, start=1):
        if k > 1:
            c.vcvs(str(k), f"a{k}", 0, "a1", 0, 1.0)
        dev.add_to(c, str(k), [f"a{k}", 0, 0], params={**dev.defaults(), "m0": m0},
                   rendering="osdi")
    c.dc("vin", float(V.min()), float(V.max()) + step / 2, step)
    last: dict = {}

    def func(v, p):
        key = tuple(float(p[n]) for n in names)
        if last.get("key") != key:
            counter[0] += 1
            change = {f"n{k}.{n}": p[n] for k in range(1, len(states) + 1) for n in names}
            res = sim.run_series(c, [change])[0].dc
            last.update(key=key, axis=res.axis, curves=[-np.asarray(res["i(vin)"])] + [
                -np.asarray(res[f"i(e{k})"]) for k in range(2, len(states) + 1)])
        return np.interp(v, last["axis"], last["curves"][states.index(float(p["m0"]))])

    return Model.from_device(dev, func, name="mtj I(V) (ngspice DC sweep, built once)",
                             x_label="voltage (V)", y_label="current (A)")


def counted_numpy_model(counter: list[int]) -> Model:
    """The recipe's numpy model, counting its evaluations (one per data set and residual)."""
    base = mtj_model()

    def func(v, p):
        counter[0] += 1
        return base.func(v, p)

    return Model.from_device(get_device("mtj"), func, name=base.name, x_label=base.x_label,
                             y_label=base.y_label)


def make_fit(model: Model, data: list[Dataset], global_stage: str | None) -> Fit:
    """The recipe's fit: start from the low-bias resistances, relative residuals."""
    r = [float(np.median(np.abs(d.x[45:55] / d.y[45:55]))) for d in data]
    start = {"rp": r[0], "tmr0": r[1] / r[0] - 1, "vh": 0.4}
    return Fit(model, data, free=FREE, values=start, weighting="relative",
               global_stage=global_stage, seed=1, conf_int="stderr")


def bench_ensemble() -> None:
    """A 10-loop statistics fit (calibration.ensemble), as time and as a ratio to one
    numpy evaluation of all ten loops."""
    from neurospice.calibration.ensemble import fit_ensemble
    from neurospice.calibration.fit import Param

    def decay(x, p):
        return p["a"] * np.exp(-x / p["tau"]) + p["c"]

    model = Model("decay", decay, [Param("a", 1, 0, 10), Param("tau", 1, 0.01, 100),
                                   Param("c", 0, -1, 1)])
    gen = np.random.default_rng(0)
    x = np.linspace(0, 5, 100)
    curves = [(x, decay(x, {"a": 1 + 0.1 * gen.standard_normal(),
                            "tau": 1.5 + 0.15 * gen.standard_normal(), "c": 0.05})
               + 0.02 * gen.standard_normal(x.size)) for _ in range(10)]
    T.header("calibration: 10-loop statistics fit (2 per-loop + 1 shared parameter, "
             "100 points per loop, ensemble prior)")
    xs = np.tile(x, (10, 1))
    pv = {"a": np.ones((10, 1)), "tau": np.ones((10, 1)), "c": 0.0}
    ev = T.measure(lambda: decay(xs, pv), repeats=30)
    fit = T.measure(lambda: fit_ensemble(model, curves, shared=["c"]), repeats=3)
    T.row("one numpy evaluation of all 10 loops", ev)
    T.row("ensemble fit", fit)
    T.ratio("ensemble fit / one numpy evaluation", fit, ev)


def bench_nbox_ensemble() -> None:
    """The nbox-iv ``--ensemble`` fit of 10 current-limited loops (static-model loops at
    2 mA compliance, 61 source steps per branch, 15 %/10 %/10 % device scatter in g_ref,
    r_th, r_c): g_ref, r_th, r_c per loop, ea shared, ensemble prior; as time and as a
    ratio to one numpy evaluation of the S-curve model on all ten loops."""
    import importlib.util
    import tempfile
    from pathlib import Path

    from neurospice.calibration.ensemble import fit_ensemble
    from neurospice.calibration.recipes.nbox import (
        ENSEMBLE_PER_CURVE, ENSEMBLE_SHARED, NBOX_IV, VO2_FIXED, load_dual_sweep,
        loop_datasets, nbox_scurve_model)

    spec = importlib.util.spec_from_file_location(
        "compliance_loops", Path(__file__).parents[1] / "tests" / "test_calibration_compliance.py")
    loops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loops)
    base = get_device("nbox").params(VO2_FIXED)
    gen = np.random.default_rng(5)
    data = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(10):
            q = {**base, **{n: base[n] * float(np.exp(s * gen.standard_normal()))
                            for n, s in (("g_ref", 0.15), ("r_th", 0.1), ("r_c", 0.1))}}
            path = Path(tmp) / f"loop{k}.csv"
            loops.compliance_loop(q, path, seed=k, i_cc=2e-3, n=61)
            data += load_dual_sweep(path, compliance=2e-3)
    curves = loop_datasets(data)
    spec_e = NBOX_IV.ensemble
    start = spec_e.start(curves, [])
    model = nbox_scurve_model()
    card = {**model.defaults(), **start}
    T.header("calibration: nbox-iv --ensemble, 10 current-limited loops (3 per-loop + 1 "
             "shared parameter, ~220 readings per loop, ensemble prior)")
    ev = T.measure(lambda: [model.func(c.x, card, **c.meta) for c in curves], repeats=5)
    fit = T.measure(lambda: fit_ensemble(model, curves, shared=ENSEMBLE_SHARED,
                                         per_curve=ENSEMBLE_PER_CURVE, values=start,
                                         bounds=spec_e.bounds(curves),
                                         weighting=spec_e.weighting,
                                         figures=spec_e.figures), repeats=1)
    T.row("one numpy evaluation of all 10 loops (S-curve model)", ev)
    T.row("ensemble fit (start values not included)", fit)
    T.ratio("nbox ensemble fit / one numpy evaluation", fit, ev)


def bench_cli_line_fit() -> None:
    """One 61-point, 5-parameter resonance line (a spin-diode spectrum: Lorentzian,
    anti-Lorentzian and offset, 1e-4 V noise) through ``neurospice fit`` as a user runs it
    (a fresh process: start-up, imports, loading, fit, report and plots drawn by a child
    process beside the fit; --no-verify), and
    through the API in this process, each as a time and as a ratio to one numpy evaluation
    of the line (issue 13: under 2 s through the CLI)."""
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    from neurospice.calibration.recipes import get_recipe
    from neurospice.calibration.recipes.spin_diode import spin_diode_spectrum_model
    from neurospice.compact_models.spin_diode import envelope

    card = {**get_device("spin_diode").defaults(), "f_res": 5e9, "alpha": 0.02,
            "k_sd": 8800.0, "k_sym": 3000.0}
    f = np.linspace(4.4e9, 5.6e9, 61)
    v = envelope(f, 1e-6, card) + 3e-5 + np.random.default_rng(0).normal(0, 1e-4, f.size)
    script = Path(sys.executable).with_name("neurospice")
    cli = [str(script)] if script.is_file() else [sys.executable, "-m", "neurospice"]
    env = {k: x for k, x in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    T.header("calibration: one 61-point, 5-parameter line (spin-diode spectrum) through "
             "`neurospice fit` and through the API")
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "line.csv"
        data.write_text("freq_hz,vdc_v,power_w\n" + "".join(
            f"{a:.9e},{b:.9e},1e-6\n" for a, b in zip(f, v)))
        argv = [*cli, "fit", "spin_diode", str(data), "--recipe", "spin-diode-spectrum",
                "--no-verify", "--quiet", "--force", "--out", str(Path(d) / "out")]

        def run_cli():
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)

        def imports(names):       # the libraries the command needs, imported and nothing else
            return lambda: subprocess.run([sys.executable, "-c", f"import {names}"], env=env,
                                          check=True)

        recipe = get_recipe("spin-diode-spectrum")
        loaded = recipe.load(data)
        model = spin_diode_spectrum_model()
        values = {**model.defaults(), **card, "v_offset": 3e-5}
        out = {}
        ev = T.measure(lambda: model.eval(f, values, power_w=1e-6), repeats=200, warmup=5)
        api = T.measure(lambda: out.update(cal=recipe.run(loaded, conf_int="auto")),
                        repeats=5, warmup=1)
        # warm-up: byte-code caches; round-robin with the bare imports of lmfit and pyplot
        both = T.measure_interleaved({"cli": run_cli, "lmfit": imports("lmfit"),
                                      "all": imports("lmfit, matplotlib.figure")},
                                     repeats=3, warmup=1)
        cli_t, lmfit_t, all_t = both["cli"], both["lmfit"], both["all"]
    fit = out["cal"].fits["V(f)"]
    T.note("stages: " + "; ".join(f"{s['stage'].split(':')[0]} ({s['nfev']} evaluations)"
                                  for s in fit.stages) + f"; intervals: {fit.ci_method}")
    T.row("one numpy evaluation of the line", ev)
    T.row("API fit (recipe.run, in this process)", api)
    T.row("CLI fit (fresh process, report and plots)", cli_t)
    T.row("python -c 'import lmfit'", lmfit_t)
    T.row("python -c 'import lmfit, matplotlib.figure'", all_t)
    T.row("CLI fit - API fit (start-up, imports, files)", cli_t.median - api.median, "s")
    T.ratio("CLI line fit / importing lmfit (the plots are drawn beside it)", cli_t, lmfit_t)
    T.ratio("CLI line fit / importing lmfit and matplotlib in one process", cli_t, all_t)
    T.ratio("CLI line fit / one numpy evaluation", cli_t, ev)
    T.ratio("API line fit / one numpy evaluation", api, ev)


def bench_loader() -> None:
    """A million-sample oscilloscope export (Tektronix MSO layout, 26 MB) read by
    ``load_transient`` (layouts, units, the strict number grammar, line numbers), against
    ``numpy.loadtxt`` reading the same numbers (no checks), and against the loader with
    Python's garbage collector left running (before ``table.collector_paused``)."""
    import contextlib
    import tempfile
    from pathlib import Path

    from neurospice.calibration import load_transient
    from neurospice.calibration import table

    T.header("loading a 1e6-sample scope export (load_transient vs numpy.loadtxt)")
    n = 1_000_000
    t = np.arange(n) * 1e-9
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scope.csv"
        with open(path, "w") as f:
            f.write("Model,MSO54\nHorizontal Units,s\nVertical Units,V\nTIME,CH1\n")
            np.savetxt(f, np.c_[t, np.sin(1e7 * t)], fmt="%.6e", delimiter=",")
        ours = T.measure(lambda: load_transient(path), repeats=2)
        plain = T.measure(lambda: np.loadtxt(path, delimiter=",", skiprows=4), repeats=2)
        paused = table.collector_paused
        table.collector_paused = contextlib.nullcontext   # the collector left running
        try:
            before = T.measure(lambda: load_transient(path), repeats=1)
        finally:
            table.collector_paused = paused
    T.row("load_transient", ours)
    T.row("numpy.loadtxt", plain)
    T.ratio("load_transient / numpy.loadtxt", ours, plain)
    T.ratio("collector running / paused", before, ours)


def main() -> None:
    bench_loader()
    bench_cli_line_fit()
    bench_ensemble()
    bench_nbox_ensemble()
    full_ngspice = "--quick" not in sys.argv
    sim = get_simulator("ngspice-shared")
    if not sim.is_available():
        print("ngspice-shared (libngspice) not available: nothing to compare")
        return
    data = datasets()
    count, np_count, rb_count = [0], [0], [0]
    npm, ngm = counted_numpy_model(np_count), ngspice_model(count)
    rebuilt = ngspice_model_rebuilt(rb_count)
    p = {**npm.defaults(), **TRUTH, "m0": -1.0}
    ngm.eval(V, p)                           # load the library, compile/load the OSDI file
    rebuilt.eval(V, p)

    T.header("calibration: MTJ R(V) fit, 2 sweeps x 100 points, 3 free parameters, "
             "relative residuals")
    T.note("numpy: the device's numpy rendering; ngspice: the circuit built and loaded once "
           "in in-process ngspice (OSDI card, an instance per data set), each evaluation "
           "alters the card's values and runs one DC sweep for both data sets; rebuilt: a new "
           "circuit and sweep per data set and evaluation; same data, start, bounds and "
           "optimisers")
    step = [0]

    def moved():                 # new values each call: no evaluation is served from a cache
        step[0] += 1
        return {**p, "rp": p["rp"] * (1 + 1e-6 * step[0])}

    ev = T.measure_interleaved({"numpy": lambda: npm.eval(V, moved()),
                                "ngspice": lambda: ngm.eval(V, moved()),
                                "rebuilt": lambda: rebuilt.eval(V, moved())},
                               repeats=30, warmup=2)
    T.row("one evaluation (100-point I-V), numpy", ev["numpy"])
    T.row("one evaluation, ngspice built once (alter)", ev["ngspice"])
    T.row("one evaluation, ngspice rebuilt per run", ev["rebuilt"])
    for m0 in (1.0, -1.0):
        ref, got = npm.eval(V, {**p, "m0": m0}), ngm.eval(V, {**p, "m0": m0})
        T.row(f"m0={m0:+g}: max |ngspice - numpy| / range", float(np.max(np.abs(got - ref))
                                                                  / np.ptp(ref)))
    T.ratio("ngspice / numpy, one evaluation", ev["ngspice"], ev["numpy"])
    T.ratio("rebuilt / built once, one evaluation", ev["rebuilt"], ev["ngspice"])

    T.header("local stage only (Levenberg-Marquardt from the recipe's start)")
    out = {}

    def local(model, key, counter):
        def go():
            counter[0] = 0
            out[key] = make_fit(model, data, None).run()
            out[key + " evals"] = counter[0]
        return go

    loc = T.measure_interleaved({"numpy": local(npm, "np", np_count),
                                 "ngspice": local(ngm, "ng", count)},
                                repeats=3)
    T.row("numpy loop", loc["numpy"])
    T.row("ngspice loop", loc["ngspice"])
    T.row("model evaluations (numpy / ngspice)", f"{out['np evals']} / {out['ng evals']}")
    for n in FREE:
        a, b = out["np"].values[n], out["ng"].values[n]
        T.row(f"{n}: numpy {a:.6g}, ngspice {b:.6g}", abs(b - a) / out["np"].stderr[n],
              "std. errors apart")
    T.ratio("ngspice / numpy loop, local stage", loc["ngspice"], loc["numpy"])

    T.header("whole fit (differential evolution, then Levenberg-Marquardt)")
    def full_numpy():
        np_count[0] = 0
        out["full"] = make_fit(npm, data, "de").run()
        out["full evals"] = np_count[0]

    full_np = T.measure(full_numpy, repeats=5)
    evals = out["full evals"]
    T.row("numpy loop", full_np)
    T.row("model evaluations (one per data set)", evals)
    T.row("numpy-loop fit finishes in", full_np.median, "s")

    def basin_numpy():
        np_count[0] = 0
        out["bh"] = make_fit(npm, data, "basinhopping").run()
        out["bh evals"] = np_count[0]

    bh = T.measure(basin_numpy, repeats=3)
    T.row("numpy loop, basin hopping instead of differential evolution", bh)
    T.row("model evaluations (basin hopping)", out["bh evals"])
    for n in FREE:
        T.row(f"{n}: basin hopping vs differential evolution", abs(
            out["bh"].values[n] - out["full"].values[n]) / out["full"].stderr[n],
            "std. errors apart")
    T.ratio("basin hopping / differential evolution, whole fit", bh, full_np)
    if full_ngspice:
        count[0] = 0
        full_ng = T.measure(lambda: out.update(full_ng=make_fit(ngm, data, "de").run()),
                            repeats=1)
        T.row("ngspice loop (timed once)", full_ng)
        T.row("ngspice sweeps", count[0])
        for n in FREE:
            T.row(f"{n}: numpy {out['full'].values[n]:.6g}, ngspice "
                  f"{out['full_ng'].values[n]:.6g}", abs(out["full_ng"].values[n] -
                                                         out["full"].values[n]) /
                  out["full"].stderr[n], "std. errors apart")
        T.ratio("ngspice / numpy loop, whole fit", full_ng, full_np)
    else:
        est = full_np.median + evals / len(data) * ev["ngspice"].median
        T.row("ngspice loop (estimated)", est, "s")
        T.note(f"estimated: the numpy fit's time (the optimiser's own cost) + {evals} / "
               f"{len(data)} sweeps (one per parameter values, both data sets) x one ngspice "
               "evaluation; without --quick it is timed")
        T.ratio("ngspice / numpy loop, whole fit (estimated)", est, full_np.median)


if __name__ == "__main__":
    main()
