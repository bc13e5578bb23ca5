"""``neurospice fit mtj FILES... --ensemble``: the P and AP sweeps of several devices in one
call (issue 13): per-device rp, tmr0, vh with their statistics, R_P, R_AP and TMR as figures,
and a variability card that draw_params reads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.randomness import VariabilityCard, draw_params

V = np.r_[np.linspace(-0.6, -0.02, 30), np.linspace(0.02, 0.6, 30)]


def write_devices(folder, n: int, seed: int = 0, noise: float = 0.003) -> dict:
    """One file per device: its P sweep then its AP sweep, stacked with a sweep column."""
    dev = get_device("mtj")
    gen = np.random.default_rng(seed)
    drawn = {"rp": 2500 * np.exp(0.05 * gen.standard_normal(n)),
             "tmr0": 1.2 + 0.06 * gen.standard_normal(n),
             "vh": 0.35 + 0.01 * gen.standard_normal(n)}
    for k in range(n):
        card = {**dev.defaults(), **{name: float(v[k]) for name, v in drawn.items()}}
        lines = ["sweep,voltage_V,current_A"]
        for s, m0 in ((1, 1.0), (2, -1.0)):
            i = dev.numpy.dc_current({"p": V}, {**card, "m0": m0})["p,n"]
            i = i * (1 + noise * gen.standard_normal(V.size))
            lines += [f"{s},{v:.9g},{c:.9g}" for v, c in zip(V, i)]
        (folder / f"dev{k + 1}.csv").write_text("\n".join(lines) + "\n")
    return drawn


def test_mtj_ensemble_through_the_cli(tmp_path, capsys):
    from neurospice.cli import main

    drawn = write_devices(tmp_path, 8)
    out = tmp_path / "ens"
    files = [str(tmp_path / f"dev{k + 1}.csv") for k in range(8)]
    assert main(["fit", "mtj", *files, "--ensemble", "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "ensemble.json").read_text())
    assert res["recipe"] == "mtj-rv" and len(res["per_curve"]) == 8
    assert [r["curve"] for r in res["per_curve"]][:2] == ["device 1 (dev1.csv)",
                                                          "device 2 (dev2.csv)"]
    for k, v in res["summary"]["params"].items():
        # the ensemble mean against the drawn devices' mean within 2 standard errors (the
        # fit's own errors are 30x smaller than the device spread), the spread within 50 %
        assert abs(v["mean"] - drawn[k].mean()) < 2 * v["mean_stderr"], (k, v)
        assert v["std"] == pytest.approx(drawn[k].std(ddof=1), rel=0.5), (k, v)
    assert set(res["summary"]["figures"]["names"]) == {"r_p", "r_ap", "tmr_percent"}
    card = VariabilityCard.read(out / "variability_card.json")
    assert card.device == "mtj" and card.names == ["rp", "tmr0", "vh"]
    sets = draw_params(get_device("mtj"), 2000, 3, str(out / "variability_card.json"))
    rp = np.array([d["rp"] for d in sets])
    assert np.all(rp > 0)
    assert np.log(rp).std() == pytest.approx(np.log(drawn["rp"]).std(ddof=1), rel=0.5)


def test_mtj_ensemble_needs_a_p_and_an_ap_sweep_per_device(tmp_path, capsys):
    from neurospice.cli import main

    write_devices(tmp_path, 3)
    text = (tmp_path / "dev3.csv").read_text().splitlines()
    (tmp_path / "dev3.csv").write_text("\n".join(t for t in text if not t.startswith("2,"))
                                       + "\n")                      # its AP sweep dropped
    files = [str(tmp_path / f"dev{k + 1}.csv") for k in range(3)]
    assert main(["fit", "mtj", *files, "--ensemble", "--out", str(tmp_path / "o")]) == 2
    assert "3 P and 2 AP sweeps" in capsys.readouterr().err
