"""A recipe added with one register() call is offered by ``neurospice fit --recipe``, fitted
and written up by the report, and verified through verify_card in ngspice -- with no other
file changed. The toy: a linear resistor (its own compact-model Device, defined here) fitted
to a generated I-V file. Also: the loaders choose the layout by looking at the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurospice.calibration import (Calibration, CardCheck, Dataset, Fit, Model, Recipe,
                                    RECIPES, get_recipe, register, verify_card, write_outputs)
from neurospice.calibration.data import load_iv
from neurospice.compact_models.framework import Device, Parameter
from neurospice.errors import CalibrationError
from neurospice.simulators import get_simulator

R_TRUE = 4700.0
RESISTOR = Device(name="toyres", description="linear resistor (test recipe)",
                  terminals=("p", "n"),
                  parameters=(Parameter("r", "ohm", 1e3, 1.0, 1e9, "resistance"),),
                  currents=(("p", "n", "v(p, n)/r"),))


def _model() -> Model:
    return Model.from_device(RESISTOR, lambda v, p: np.asarray(v, float) / p["r"],
                             name="resistor I(V)", x_label="voltage (V)",
                             y_label="current (A)")


def _circuit_of(ds):
    def circuit_of(device, card):
        from neurospice.netlists import Circuit

        v = np.asarray(ds.x, float)
        lo, hi = float(v.min()), float(v.max())
        step = (hi - lo) / 50
        grid = lo + step * np.arange(51)
        c = Circuit("verify toy resistor")
        c.vsource("in", "a", 0, 0.0)
        device.add_to(c, "1", ["a", 0], params=card, rendering="subckt")
        c.dc("vin", lo, hi + step / 2, step)
        return [CardCheck(ds.name, c, grid / card["r"],
                          lambda res: np.interp(grid, res.dc.axis, -np.asarray(res.dc["i(vin)"])),
                          float(np.ptp(ds.y)), "51-point DC sweep")]
    return circuit_of


def _run(data, *, progress=False, free=("r",), verify=True):
    ds = Dataset(data[0].voltage_v, data[0].current_a, name="I(V)")
    res = Fit(_model(), ds, free=list(free), values={"r": 1e3}, weighting="relative",
              global_stage=None, progress=progress).run()
    cal = Calibration("toy-resistor", "toyres", dict(res.values),
                      {n: res.stderr.get(n) for n in res.free}, {"I(V)": res})
    if verify:
        cal.verification = verify_card(RESISTOR, cal.params, _circuit_of(ds), ("ngspice",))
    return cal


TOY = Recipe("toy-resistor", "toyres", "linear resistor: r from one I-V sweep",
             run=_run, load=lambda path: [load_iv(path)], free=("r",), model=_model,
             cli_kwargs=lambda args: {"verify": True}, default=True,
             device_object=RESISTOR)


def _csv(path, seed=3):
    rng = np.random.default_rng(seed)
    v = np.linspace(-1.0, 1.0, 41)
    i = v / R_TRUE * (1 + rng.normal(0, 0.002, v.size))
    path.write_text("V (V),I (A)\n" + "\n".join(f"{a:.10g},{b:.10g}" for a, b in zip(v, i))
                    + "\n")
    return path


@pytest.fixture(scope="module")
def toy():
    return register(TOY)


def test_the_registry_loads_the_built_in_recipes_and_refuses_a_clash(toy):
    assert {"mtj-rv", "spin-diode-field", "stno", "nbox-iv", "rram-pulse-updates",
            "toy-resistor"} <= set(RECIPES)
    assert get_recipe("toy-resistor") is toy
    assert register(toy) is toy                     # the same recipe again: no change
    with pytest.raises(CalibrationError, match="already registered"):
        register(Recipe("toy-resistor", "toyres", "", run=_run, load=load_iv))


def test_cli_offers_and_runs_the_registered_recipe(toy, tmp_path, capsys):
    from neurospice.cli import main

    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    assert "toy-resistor" in capsys.readouterr().out
    out = tmp_path / "out"
    rc = main(["fit", "toyres", str(_csv(tmp_path / "r.csv")), "--recipe", "toy-resistor",
               "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not installed")
    assert rc == 0, captured.err
    assert "verify ngspice I(V): RMS" in captured.out
    names = {p.name for p in out.iterdir()}
    assert {"toyres.json", "report.md", "fit_i_v.png", "toyres.ngspice.lib",
            "toyres.va"} <= names
    doc = json.loads((out / "toyres.json").read_text())
    assert doc["recipe"] == "toy-resistor"
    assert doc["params"]["r"] == pytest.approx(R_TRUE, rel=0.01)
    assert abs(doc["params"]["r"] - R_TRUE) < 3 * doc["stderr"]["r"]
    (row,) = doc["verification"]
    assert row["simulator"] == "ngspice" and row["passed"] and row["rms_rel"] < 1e-4
    report = (out / "report.md").read_text()
    assert "# Calibration: toy-resistor (toyres)" in report and "| r |" in report
    # --free names the recipe model's parameters only
    assert main(["fit", "toyres", str(tmp_path / "r.csv"), "--free", "r,nosuch",
                 "--out", str(out), "--quiet"]) == 2
    assert "nosuch" in capsys.readouterr().err


@pytest.mark.ngspice
def test_verify_card_fails_a_card_that_the_simulator_does_not_reproduce(toy, tmp_path):
    """The check can fail: a numpy prediction of another resistance is 10 % off."""
    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not installed")
    ds = Dataset(np.linspace(-1, 1, 11), np.linspace(-1, 1, 11) / R_TRUE, name="I(V)")
    good = verify_card(RESISTOR, {"r": R_TRUE}, _circuit_of(ds), ("ngspice",))
    assert good[0].passed

    def wrong(device, card):
        (check,) = _circuit_of(ds)(device, card)
        check.expected = check.expected * 1.1
        return [check]

    bad = verify_card(RESISTOR, {"r": R_TRUE}, wrong, ("ngspice",))
    # 10 % of a line through zero over its span: RMS 0.1 / (2 sqrt 3), largest 0.05
    assert bad[0].passed is False
    assert bad[0].rms_rel == pytest.approx(0.1 / (2 * 3 ** 0.5), rel=0.05)
    assert bad[0].max_rel == pytest.approx(0.05, rel=1e-3)
    missing = verify_card(RESISTOR, {"r": R_TRUE}, _circuit_of(ds), ("xyce",))
    if not get_simulator("xyce").is_available():
        assert missing[0].passed is None and missing[0].note == "not available"


def test_write_outputs_of_the_toy_without_a_simulator(toy, tmp_path):
    cal = _run([load_iv(_csv(tmp_path / "r.csv"))], verify=False)
    paths = write_outputs(cal, tmp_path / "o", plots=False)
    assert paths[0].name == "toyres.json" and paths[-1].name == "report.md"
    assert "toyres.ngspice.lib" in {p.name for p in paths}


def test_loaders_choose_the_layout_by_looking_at_the_file(tmp_path):
    iv = get_recipe("mtj-rv").load
    v = np.linspace(-0.5, 0.5, 11)
    stacked = tmp_path / "stacked.csv"
    stacked.write_text("V (V),I (A),sweep\n" + "\n".join(
        f"{a},{a / 1e3 * s},{s}" for s in (1, 2) for a in v) + "\n")
    side = tmp_path / "side.csv"
    side.write_text("V1 (V),I1 (A),V2 (V),I2 (A)\n" + "\n".join(
        f"{a},{a / 1e3},{a},{a / 2e3}" for a in v) + "\n")
    one = tmp_path / "one.csv"
    one.write_text("V (V),I (A)\n" + "\n".join(f"{a},{a / 1e3}" for a in v) + "\n")
    assert [len(s) for s in iv(stacked)] == [11, 11]
    assert [float(s.current_a[-1]) for s in iv(side)] == pytest.approx([5e-4, 2.5e-4])
    assert len(iv(one)) == 1
    # a file that is none of them still raises the loader's own DataError
    bad = tmp_path / "bad.csv"
    bad.write_text("V (V),X (A)\n0,1\n1,2\n2,3\n")
    from neurospice.errors import DataError

    with pytest.raises(DataError):
        iv(bad)
