"""RF-coupled MTJ networks: description, envelope model, training, data, netlists (fast part).

Tolerances: the envelope netlist evaluates the same formula as numpy, so it must agree to
solver rounding (rtol 1e-6 of the largest output, atol 1e-9 V); the RF transient of a single
chain must match the envelope within 5 % of the chain voltage (the issue's bound; 200 points a
period leave about 1 %), atol 20 uV (the read-out ripple).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurospice.errors import DataError, NetlistError
from neurospice.circuits.rfnet import envelope_netlist as EN
from neurospice.circuits.rfnet import rf_netlist as RF
from neurospice.circuits.rfnet.data import (linearly_separable_accuracy, load_spectra,
                                           synthetic)
from neurospice.circuits.rfnet.devices import device_parameters
from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
from neurospice.circuits.rfnet.train import fit
from neurospice.simulators import get_simulator

needs = {name: pytest.mark.skipif(not get_simulator(name).is_available(),
                                  reason=f"{name} not available: {get_simulator(name).hint}")
         for name in ("ngspice", "vacask")}


def small_network(seed=0, spread=0.01, band=None):
    """A 6-4-3 network whose hidden chains have different voltage gains (0.5 .. 3)."""
    net = RFNetwork.build([6, 4, 3], linear_plan(6, 4e9, 6e9), spread=spread, seed=seed,
                          band=band, init_shift=1.0, init_bias_v=3e-3)
    net.layers[0].v_gain[:] = [0.5, 1.0, 2.0, 3.0]
    return net


@pytest.fixture(scope="module")
def xor_net():
    """The hardware-sized network: 2 tones -> 2 chains of 2 resonators -> 2 oscillators ->
    1 output chain of 2 resonators (8 MTJs), trained on the synthetic XOR task."""
    ds = synthetic("xor", seed=0)
    net, hist, _ = fit(lambda s: RFNetwork.build([2, 2, 1], ds.freq_hz,
                                                 osc_freq_hz=[[4e9, 6e9]], seed=s,
                                                 init_shift=1.0, name="xor"),
                       ds.x_train, ds.y_train, restarts=10, target=0.99, epochs=100, batch=32,
                       lr_shift=0.05, lr_bias_v=2e-4)
    return net, ds


def test_json_round_trip_and_validation(tmp_path):
    net = small_network(band=1)
    back = RFNetwork.load(net.save(tmp_path / "n.json"))
    x = np.random.default_rng(1).uniform(0, 1e-6, (4, 6))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    d = net.to_dict()
    d["layers"][1]["input_freq_hz"] = [1e9] * 4
    with pytest.raises(NetlistError, match="oscillator frequencies"):
        RFNetwork.from_dict(d)
    with pytest.raises(NetlistError, match="format"):
        RFNetwork.from_dict({"layers": []})
    with pytest.raises(NetlistError, match="unknown network constant"):
        RFNetwork.build([2, 1], [4e9, 5e9], constants={"gm": 1.0})
    with pytest.raises(NetlistError, match="not JSON"):
        RFNetwork.from_json("{")
    assert json.loads(net.to_json())["layers"][0]["band"] == 1
    assert json.loads(net.to_json())["layers"][0]["v_gain"] == [0.5, 1.0, 2.0, 3.0]
    d = net.to_dict()
    del d["layers"][0]["v_gain"]                 # a file from before the gains: gains of 1
    np.testing.assert_array_equal(RFNetwork.from_dict(d).layers[0].v_gain, np.ones(4))
    for bad, match in ((0.1, r"v_gain must lie in \[v_gain_min, v_gain_max\] = \[0.25, 16"),
                       ([1.0] * 3, "expected a list|3 entries where 4")):
        d = net.to_dict()
        d["layers"][0]["v_gain"] = bad if isinstance(bad, list) else [bad] * 4
        with pytest.raises(NetlistError, match=match):
            RFNetwork.from_dict(d)
    d = net.to_dict()
    d["layers"][1]["v_gain"] = [1.0] * 3
    with pytest.raises(NetlistError, match="last layer has no neurons"):
        RFNetwork.from_dict(d)


@pytest.mark.parametrize("band", [None, 1])
def test_gradients_match_finite_differences(band):
    """Analytic gradients vs central differences: 1e-5 relative of the largest component."""
    net = small_network(band=band)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1e-6, (5, 6)), rng.integers(0, 3, 5)
    _, grads = net.loss_and_grads(x, y)
    for li, lay in enumerate(net.layers):
        for which, name, h in ((0, "shift_lw", 1e-6), (1, "bias_v", 1e-9), (2, "v_gain", 1e-7)):
            arr = getattr(lay, name)
            if arr is None:                       # the output layer has no V-I stages
                assert grads[li][which] is None
                continue
            num = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                arr[idx] += h
                lp, _ = net.loss_and_grads(x, y)
                arr[idx] -= 2 * h
                lm, _ = net.loss_and_grads(x, y)
                arr[idx] += h
                num[idx] = (lp - lm) / (2 * h)
            assert np.max(np.abs(num - grads[li][which])) < 1e-5 * np.max(np.abs(num))


def test_envelope_follows_the_seed_formula():
    """One resonator, one tone: +-K_SD P at f_res (1 -+ alpha)... the chain sum is linear."""
    net = RFNetwork.build([1, 1], [5e9], init_shift=0.0, init_bias_v=0.0)
    net.layers[0].shift_lw[:] = -1.0          # f_res = f (1 - alpha): tone above resonance
    v = net.forward([[1e-6]])[0, 0]
    fr = 5e9 * (1 - 0.01)
    expected = 8800 * 1e-6 * 2 * 0.01 * fr * (5e9 - fr) / ((0.01 * fr) ** 2 + (5e9 - fr) ** 2)
    assert v == pytest.approx(expected, rel=1e-12)
    assert v == pytest.approx(8.8e-3, rel=0.02)


def test_non_idealities_are_a_fixed_seeded_realisation():
    a, b, c = small_network(seed=3), small_network(seed=3), small_network(seed=4)
    np.testing.assert_array_equal(a.res_freq(0), b.res_freq(0))
    assert not np.allclose(a.res_freq(0), c.res_freq(0))
    rel = a.res_freq(0) / (a.layers[0].res_freq0_hz * (1 + a.layers[0].shift_lw * 0.01)) - 1
    assert 0.003 < np.std(rel) < 0.03
    assert np.allclose(small_network(spread=0.0).osc_gain(0), 1.25)


@pytest.mark.parametrize("task", ["xor", "band", "circles", "moons"])
def test_synthetic_tasks_are_not_linearly_separable(task):
    ds = synthetic(task, seed=1)
    assert ds.x_train.shape == (400, 2) and ds.x_train.max() <= 1e-6
    assert linearly_separable_accuracy(ds) < 0.9


def test_csv_loader(tmp_path):
    p = tmp_path / "s.csv"
    rows = ["label,split,2e9,3e9"] + [f"{k % 2},{'test' if k < 4 else 'train'},{k / 10},0.5"
                                      for k in range(12)]
    p.write_text("\n".join(rows) + "\n")
    ds = load_spectra(p)
    assert ds.x_train.shape == (8, 2) and ds.x_test.shape == (4, 2)
    np.testing.assert_allclose(ds.freq_hz, [2e9, 3e9])
    assert ds.x_test[1, 0] == pytest.approx(0.1e-6)
    p.write_text("label,a\n0,1\n1,nan\n")
    with pytest.raises(DataError, match="NaN"):
        load_spectra(p)
    with pytest.raises(DataError, match="no data file"):
        load_spectra(tmp_path / "absent.h5")


def test_small_network_reaches_97_7_percent(xor_net):
    """The hardware experiment: <= 9 MTJs, a non-linearly separable task, >= 97.7 %."""
    net, ds = xor_net
    assert net.device_count["total"] <= 9
    assert linearly_separable_accuracy(ds) < 0.8
    assert net.accuracy(ds.x_test, ds.y_test) >= 0.977


def test_device_parameters(xor_net):
    net, _ = xor_net
    d = json.loads(json.dumps(device_parameters(net)))
    res = d["layers"][0]["chains"][1]["resonators"]
    assert [r["polarity"] for r in res] == [1, -1]
    assert res[1]["f_res"] == pytest.approx(net.res_freq(0)[1, 1])
    assert d["layers"][0]["oscillators"][0]["f0"] == pytest.approx(4e9)


@pytest.mark.parametrize("sim", [pytest.param("ngspice", marks=needs["ngspice"]),
                                 pytest.param("vacask", marks=needs["vacask"])])
@pytest.mark.parametrize("band", [None, 1])
def test_envelope_netlist_matches_numpy(sim, band):
    net = small_network(band=band)
    x = np.random.default_rng(2).uniform(0, 1e-6, (3, 6))
    ref = net.forward(x)
    out = EN.evaluate(net, x, simulator=sim, batched=True)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6 * np.max(np.abs(ref)) + 1e-9)


@needs["ngspice"]
def test_envelope_netlist_op_and_power(xor_net):
    net, ds = xor_net
    out, ops = EN.evaluate(net, ds.x_test[:2], with_op=True)
    np.testing.assert_allclose(out, net.forward(ds.x_test[:2]), rtol=1e-6, atol=1e-9)
    pw = RF.power_report(net, ops[0])
    _, trace = net.forward(ds.x_test[:1], keep=True)
    cur = np.clip(trace[0]["i"][0], 0, 40e-6)
    assert pw["oscillator_bias"] == pytest.approx(np.sum(cur**2 * 1e3), rel=1e-6)
    assert pw["total"] == pytest.approx(sum(v for k, v in pw.items() if k != "total"))


@needs["ngspice"]
def test_single_chain_two_tones_rf_transient_matches_envelope():
    """A chain of two resonators (alternating polarity) driven by two tones at once, read out
    through the low-pass stage: within 5 % of the envelope model's chain voltage."""
    net = RFNetwork.build([2, 1], [4e9, 6e9], init_shift=0.0, init_bias_v=0.0, name="chain")
    net.layers[0].shift_lw[:] = [[0.8, -0.6]]
    x = np.array([0.7e-6, 0.4e-6])
    env = net.forward(x[None])[0, 0]
    rf = RF.infer(net, x, timeout=300)[0]
    assert abs(env) > 5e-3
    assert rf == pytest.approx(env, rel=0.05, abs=2e-5)


def test_points_a_simulator_cannot_do_are_refused_before_running():
    """UnsupportedPoint, before anything runs, naming which and why: an RF transient of a
    network beyond its size cap, the envelope series path on a simulator without it, the RF
    netlist's Verilog-A instances written for Xyce, a preset outside its declared range."""
    from neurospice.circuits.neurons import RANGES
    from neurospice.errors import ArgumentError, UnsupportedPoint

    big = RFNetwork.build([8, 8, 2], linear_plan(8, 4e9, 6e9))
    with pytest.raises(UnsupportedPoint, match="88 junctions.*<= 64"):
        RF.build(big, np.full(8, 1e-7))
    with pytest.raises(UnsupportedPoint, match="ngspice-shared, not 'ngspice'"):
        EN.evaluate(small_network(), np.full((1, 6), 1e-7), series=True)
    chain = RFNetwork.build([2, 1], [4e9, 6e9])
    c = RF.build(chain, [1e-7, 1e-7], rendering="osdi")
    with pytest.raises(UnsupportedPoint, match="cannot run in Xyce") as err:
        c.to_netlist("xyce")
    assert isinstance(err.value, NetlistError)
    with pytest.raises(UnsupportedPoint, match="outside its declared range") as err:
        RANGES["tonic"].build(5.0)
    assert isinstance(err.value, ArgumentError)


def test_cli_train_takes_the_fit_options(tmp_path, capsys):
    """``rfnet train`` spells fit's input noise and loss scale; a short run writes its files
    and prints the baseline beside the result."""
    from neurospice.cli import main

    assert main(["rfnet", "train", "synthetic:xor", "--layers", "2,1", "--epochs", "3",
                 "--input-noise", "0", "--logit-scale", "1000", "--out",
                 str(tmp_path / "n")]) == 0
    out = capsys.readouterr().out
    assert "trained [2, 1]" in out and "logistic" in out.lower(), out
    assert {p.name for p in (tmp_path / "n").iterdir()} >= {"network.json", "training.json"}


def test_cli_train_starts_from_its_baseline(tmp_path):
    """``rfnet train`` trains the conventional model first and starts the network from it
    (fit's ``start``): a single layer takes logistic regression's weights, so after one epoch
    on moons (not linearly separable) it is within a point of logistic regression on the
    test set (84.5 % both), where a random start after one epoch reached 63 %."""
    import json

    from neurospice.cli import main

    assert main(["rfnet", "train", "synthetic:moons", "--layers", "2,1", "--epochs", "1",
                 "--restarts", "1", "--out", str(tmp_path / "n")]) == 0
    got = json.loads((tmp_path / "n" / "training.json").read_text())
    assert got["baseline"]["test_accuracy"] > 0.75, got["baseline"]
    assert abs(got["test_accuracy"] - got["baseline"]["test_accuracy"]) <= 0.01, got
