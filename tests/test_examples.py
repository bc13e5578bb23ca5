"""Every example runs, writes only into the folder given by --out (never into the source tree),
and the calibration examples reproduce the reference outputs committed beside them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurospice.simulators.testing import simulator_param

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def tree_state() -> str:
    """git's view of the example and data folders (untracked files included)."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--",
                          "examples", "data"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return out.stdout


def run_example(name: str, out: Path, *args: str) -> str:
    """Run ``examples/<name>.py --out OUT`` from an empty working folder; its stdout."""
    before = tree_state()
    work = out.parent / "cwd"
    work.mkdir()
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--out", str(out),
                           *args], cwd=work, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert tree_state() == before, "the example wrote into the source tree"
    assert list(work.iterdir()) == [], "the example wrote outside --out"
    return proc.stdout


#: examples not run whole here, and why (their pieces are tested where named)
NOT_RUN = {"neural_ode_nbox": "its fit of the hybrid switch on the full grid takes about a "
                              "minute (two under load); the recordings, the grey box and the "
                              "hybrid, their neurons' renderings and their spike times on "
                              "held-out trains in numpy, ngspice and VACASK are tested in "
                              "tests/test_neural_ode_nbox.py on a coarser grid"}


def test_every_example_is_tested():
    tested = {"mtj_family", "spin_diode_calibration", "vo2_calibration",
              "neural_ode_stno", "bayesian_machine", "rram_cycles", "learning_systems"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested | set(NOT_RUN)


@pytest.mark.slow
@pytest.mark.parametrize("sim", [simulator_param("ngspice")])
def test_mtj_family(tmp_path, sim):
    out = tmp_path / "out"
    text = run_example("mtj_family", out, "--simulator", sim)
    assert (out / "mtj_family.png").stat().st_size > 10_000
    assert str(out / "mtj_family.png") in text


@pytest.mark.slow
@pytest.mark.parametrize("sim", [simulator_param("ngspice")])
def test_bayesian_machine(tmp_path, sim):
    pytest.importorskip("sklearn", reason="the example needs the learn extra (scikit-learn)")
    out = tmp_path / "out"
    run_example("bayesian_machine", out, "--simulator", sim, "--bits", "200")
    assert (out / "bayesian_machine.png").stat().st_size > 10_000
    assert (out / "summary.md").read_text().strip()


@pytest.mark.slow
def test_rram_cycles(tmp_path):
    """The 39 measured ramps fitted as one ensemble: the statistics and the variability card
    written, R_off above R_on at physical values, and a crossbar Monte-Carlo whose column
    currents grow with the programmed weights and spread a little."""
    out = tmp_path / "out"
    text = run_example("rram_cycles", out)
    assert {p.name for p in out.iterdir()} == {"statistics.json", "variability_card.json"}
    assert "39 ramps in one fit" in text
    stats = json.loads((out / "statistics.json").read_text())
    fig = stats["ensemble"]["figures"]["mean"]
    assert 100.0 < fig["R_on"] < fig["R_off"] < 1e4
    p = stats["ensemble"]["params"]
    assert 0 < p["a"]["mean"] < p["b"]["mean"] < 1e-2
    assert 0 < p["a"]["std"] < 0.1 * p["a"]["mean"]
    mc = stats["monte_carlo"]
    assert mc["arrays"] == 50
    assert np.all(np.diff(mc["column_current_mean_a"]) > 0)
    assert all(0 < s < 0.1 for s in mc["column_current_rel_std"])
    card = json.loads((out / "variability_card.json").read_text())
    assert card["device"] == "rram" and card["n"] == 39
    assert card["params"]["i0"]["distribution"] == "lognormal"
    assert {"i0", "gmax"} <= set(card["params"])


@pytest.mark.slow
@pytest.mark.parametrize("sim", [simulator_param("ngspice")])
def test_learning_systems_quick(tmp_path, sim):
    """The smoke run (--quick, one seed): every system trains and reports; accuracies are
    probabilities, the ideal-weight baselines well above chance (0.1) even on the reduced
    configuration, counts and energies consistent, and the SPICE slice (run in ``sim``, the
    example's simulator) agrees with numpy.
    The acceptance numbers of issue #19 come from the full run, not from here."""
    pytest.importorskip("sklearn", reason="the example needs the learn extra (scikit-learn)")
    out = tmp_path / "out"
    text = run_example("learning_systems", out, "--seeds", "0", "--quick")
    assert {p.name for p in out.iterdir()} == {"results_quick.json"}
    res = json.loads((out / "results_quick.json").read_text())
    assert set(res) == {"0", "summary"}
    r = res["0"]
    assert set(r) == {"vdsp", "bnn", "metaplastic", "binary_ep", "dw"}
    v = r["vdsp"]
    for k in ("ideal", "stdp", "rram"):
        assert 0.0 <= v[k]["accuracy"] <= 1.0 and v[k]["updates"] > 0
        assert v[k]["samples_per_s"] > 0
    assert v["ideal"]["pulses"] == 0 and v["ideal"]["energy_J"] == 0.0
    assert v["rram"]["pulses"] >= v["rram"]["programmed"] and 0 < v["rram"]["energy_J"] < 1e-3
    assert v["update_ratio"] == pytest.approx(v["ideal"]["updates"] / v["stdp"]["updates"])
    b = r["bnn"]
    assert b["ideal"] > 0.3
    assert sorted(b["ranking"]) == sorted(b["alone"])
    assert all(0.0 <= a <= 1.0 for a in b["alone"].values())
    for m in ("0.0", "50.0"):
        assert r["metaplastic"][m]["task1_before"] > 0.3 and r["metaplastic"][m]["task2"] > 0.3
    assert r["binary_ep"]["full"] > 0.3 and 0.0 <= r["binary_ep"]["binary"] <= 1.0
    assert set(r["dw"]) == {"float"} | {f"{n}-{m}" for n in (2, 3, 5)
                                        for m in ("in-situ", "ex-situ")}
    assert r["dw"]["float"] > 0.5
    for d in (v for k, v in r["dw"].items() if k != "float"):
        assert 0.0 <= d["accuracy"] <= 1.0 and d["pulses"] > 0
        assert 0 < d["programming_pJ_per_inference"] < d["read_pJ_per_inference"] < 1e4
    assert r["dw"]["5-ex-situ"]["accuracy"] > 0.3
    s = res["summary"]
    assert s["seeds"] == 1 and s["vdsp_ideal"] == [v["ideal"]["accuracy"], 0.0]
    assert set(s["acceptance"]) >= {"vdsp_rram_within_5_points", "ep_binary_within_2_points"}
    assert "acceptance meta_task1_20_points_higher:" in text
    err = float(text.split("max relative error ")[1].split()[0])
    assert err < 1e-6


def reference(folder: str, name: str) -> dict:
    return json.loads((EXAMPLES / folder / name).read_text())


def assert_same_fit(new: dict, ref: dict, rtol: float, uncalibrated=()):
    """Same parameters (but those the recipe reports as not calibrated) and derived values
    as the committed reference run."""
    assert new["recipe"] == ref["recipe"] and set(new["params"]) == set(ref["params"])
    for k, v in ref["params"].items():
        if k in uncalibrated:
            continue
        np.testing.assert_allclose(new["params"][k], v, rtol=rtol, err_msg=k)
    for k, d in ref["derived"].items():
        if isinstance(d, dict) and isinstance(d.get("value"), float):
            np.testing.assert_allclose(new["derived"][k]["value"], d["value"], rtol=rtol,
                                       err_msg=k)


@pytest.mark.slow
def test_spin_diode_calibration(tmp_path):
    """The measured sweeps refitted: the committed JSON's parameters and Kittel/damping values
    within 1e-6 (a rerun differs in the last digits, about 1e-8)."""
    out = tmp_path / "out"
    text = run_example("spin_diode_calibration", out)
    assert "g_factor" in text
    names = {p.name for p in out.iterdir()}
    assert names == {p.name for p in (EXAMPLES / "spin_diode_calibration").iterdir()}
    new = json.loads((out / "spin_diode.json").read_text())
    assert_same_fit(new, reference("spin_diode_calibration", "spin_diode.json"), 1e-6)
    # a second run into the same folder is refused unless asked for
    proc = subprocess.run([sys.executable, str(EXAMPLES / "spin_diode_calibration.py"),
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0 and "--force" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sim", [simulator_param("ngspice")])
def test_vo2_calibration(tmp_path, sim):
    """The VO2 sweep refitted and the pulses simulated in ngspice: the committed JSON's
    parameters and derived values within 1e-4 (measured: 1e-11). The heat capacities are
    left out: the report says the pulse currents barely depend on them at this ambient, so
    they are not calibrated and their fitted values wander (2.4e-4 vs 4.0e-4 J/K seen)."""
    out = tmp_path / "out"
    text = run_example("vo2_calibration", out)
    assert "V_th  measured" in text
    names = {p.name for p in out.iterdir()}
    assert names == {p.name for p in (EXAMPLES / "vo2_calibration").iterdir()}
    new = json.loads((out / "nbox.json").read_text())
    assert any("not calibrated" in n for n in new["notes"])
    assert_same_fit(new, reference("vo2_calibration", "nbox.json"), 1e-4,
                    uncalibrated=("c_th", "c_env"))
    assert len(new["extra"]["pulses"]) == 11


@pytest.mark.slow
def test_neural_ode_stno(tmp_path):
    """The learned STNO predicts a held-out current sequence within NRMSE 0.1 (issue #18)."""
    out = tmp_path / "out"
    text = run_example("neural_ode_stno", out)
    assert {"neural_ode.json", "neural_ode.va", "report.md", "heldout.png",
            "recording.csv"} <= {p.name for p in out.iterdir()}
    nrmse = float(text.split("NRMSE numpy ")[1].split()[0])
    assert nrmse <= 0.1
