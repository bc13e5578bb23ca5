"""``neurospice.progress``: quiet when stderr is not a terminal (or when disabled), a tqdm bar
on stderr when forced on or on a terminal; sweeps show it the same way."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from neurospice.progress import Quiet, progress, wanted


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_off_a_terminal(monkeypatch):
    monkeypatch.delenv("NEUROSPICE_PROGRESS", raising=False)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert not wanted()
    items = [1, 2, 3]
    assert progress(items, desc="x") is items          # unchanged, nothing wrapped
    bar = progress(total=3, desc="x")
    assert isinstance(bar, Quiet)
    bar.update(1)
    bar.close()
    assert list(progress(iter(range(4)), total=4)) == [0, 1, 2, 3]
    assert err.getvalue() == ""


@pytest.mark.parametrize("how", ["forced", "terminal", "environment"])
def test_a_bar_on_stderr_when_forced_or_on_a_terminal(monkeypatch, how):
    err = Tty() if how == "terminal" else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.delenv("NEUROSPICE_PROGRESS", raising=False)
    if how == "environment":
        monkeypatch.setenv("NEUROSPICE_PROGRESS", "1")
    assert list(progress(range(5), total=5, desc="fitting",
                         enabled=True if how == "forced" else None)) == list(range(5))
    text = err.getvalue()
    assert "fitting" in text and "5/5" in text


def test_disabled_wins_over_a_terminal_and_the_environment(monkeypatch):
    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setenv("NEUROSPICE_PROGRESS", "1")
    assert list(progress(range(3), enabled=False)) == [0, 1, 2]
    monkeypatch.setenv("NEUROSPICE_PROGRESS", "0")
    assert not wanted()
    assert list(progress(range(3))) == [0, 1, 2]
    assert err.getvalue() == ""


def test_a_sweep_shows_its_bar_only_when_asked(monkeypatch):
    pytest.importorskip("xarray")
    from neurospice.netlists import Circuit
    from neurospice.simulators import get_simulator
    from neurospice.simulators.sweep import sweep

    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not found")

    def divider(r):
        k = Circuit("divider")
        k.vsource("in", "a", 0, 1.0)
        k.resistor("1", "a", "b", r)
        k.resistor("2", "b", 0, 1e3)
        k.op()
        return k

    monkeypatch.delenv("NEUROSPICE_PROGRESS", raising=False)
    for forced, shown in ((None, False), (True, True)):
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        ds = sweep(divider, {"r": [1e3, 3e3]}, workers=1, progress=forced)
        assert list(ds["v(b)"].values) == pytest.approx([0.5, 0.25], rel=1e-9)
        assert ("sweep" in err.getvalue() and "2/2" in err.getvalue()) == shown


def test_a_fit_counts_its_evaluations_on_a_bar_when_asked(monkeypatch):
    from neurospice.calibration import Dataset, Fit, Model, Param

    def line(x, p):
        return p["a"] * x + p["b"]

    model = Model("line", line, [Param("a", 1.0, -10.0, 10.0), Param("b", 0.0, -10.0, 10.0)])
    x = np.linspace(0.0, 1.0, 20)
    data = Dataset(x, 2.0 * x - 0.5 + np.random.default_rng(0).normal(0, 0.01, x.size))
    for asked, shown in ((False, False), (True, True)):
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        fit = Fit(model, data, global_stage=None, progress=asked).run()
        assert fit.values["a"] == pytest.approx(2.0, abs=0.05)
        assert ("fit line" in err.getvalue() and "eval" in err.getvalue()) == shown


def test_training_shows_epochs_on_a_bar_when_asked(monkeypatch):
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
    from neurospice.circuits.rfnet.train import train

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (32, 4))
    y = (x[:, 0] > x[:, 1]).astype(int)
    for asked in (False, True):
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        net = RFNetwork.build([4, 2], linear_plan(4, 4e9, 6e9), seed=0)
        hist = train(net, x, y, epochs=3, batch=16, show_progress=asked)
        assert len(hist.loss) == 3
        assert ("train" in err.getvalue() and "3/3" in err.getvalue()
                and "loss=" in err.getvalue()) == asked


def test_netlist_evaluation_counts_its_samples_on_a_bar(monkeypatch):
    """The envelope netlist's per-sample operating points: a bar of the samples done on a
    terminal (or when forced), nothing in a log; the outputs are the same either way."""
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
    from neurospice.simulators import get_simulator

    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not found")
    net = RFNetwork.build([4, 2], linear_plan(4, 4e9, 6e9), seed=0)
    x = np.random.default_rng(0).uniform(0.0, 1e-6, (3, 4))
    ref = net.forward(x)
    monkeypatch.delenv("NEUROSPICE_PROGRESS", raising=False)
    for asked, stream, shown in ((None, io.StringIO, False), (None, Tty, True),
                                 (True, io.StringIO, True), (False, Tty, False)):
        err = stream()
        monkeypatch.setattr(sys, "stderr", err)
        out = EN.evaluate(net, x, workers=1, show_progress=asked)
        assert out == pytest.approx(ref, rel=1e-6)
        assert ("netlist OPs" in err.getvalue() and "3/3" in err.getvalue()) == shown, asked


def test_fit_command_shows_its_bar_on_a_terminal_only(monkeypatch, tmp_path):
    """``neurospice fit`` without --quiet: no bar into a file or pipe (it printed one there),
    a bar on a terminal."""
    from neurospice.cli import main

    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.spin_diode import envelope

    card = {**get_device("spin_diode").defaults(), "f_res": 5e9, "alpha": 0.02}
    f = np.linspace(4.4e9, 5.6e9, 41)
    v = envelope(f, 1e-6, card) + np.random.default_rng(1).normal(0, 1e-4, f.size)
    data = tmp_path / "line.csv"
    data.write_text("freq_hz,vdc_v,power_w\n" + "".join(f"{a:.9e},{b:.9e},1e-6\n"
                                                       for a, b in zip(f, v)))
    monkeypatch.delenv("NEUROSPICE_PROGRESS", raising=False)
    for k, (err, shown) in enumerate(((io.StringIO(), False), (Tty(), True))):
        monkeypatch.setattr(sys, "stderr", err)
        assert main(["fit", "spin_diode", str(data), "--recipe", "spin-diode-spectrum",
                     "--no-verify", "--out", str(tmp_path / f"out{k}")]) == 0, err.getvalue()
        assert ("eval" in err.getvalue()) is shown, err.getvalue()
