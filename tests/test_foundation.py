"""The foundation end to end: one circuit on two simulators, the CLI, the demo, imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neurospice.cli import main
from neurospice.demo import leaky_integrator
from neurospice.simulators import get_simulator

needs_both = pytest.mark.skipif(
    not (get_simulator("ngspice").is_available() and get_simulator("vacask").is_available()),
    reason="needs ngspice and VACASK (make setup)")


@needs_both
def test_one_circuit_same_transient_on_ngspice_and_vacask():
    """The demo circuit (PWL current spikes, RC, behavioral sigmoid) rendered for each
    simulator: the waveforms agree within 1e-3 of their swing."""
    c = leaky_integrator()
    ng = get_simulator("ngspice").run(c).tran
    va = get_simulator("vacask").run(c).tran
    grid = np.linspace(0, c.analyses[0].stop, 3001)
    for name in ("v(mem)", "v(out)"):
        a, b = np.interp(grid, ng.axis, ng[name]), np.interp(grid, va.axis, va[name])
        swing = np.ptp(a)
        assert swing > 0.1
        assert np.max(np.abs(a - b)) < 1e-3 * swing, name


def test_no_subpackage_imports_matplotlib_or_finds_simulators():
    code = ("import sys\n"
            "import neurospice, neurospice.netlists, neurospice.simulators, neurospice.analysis,"
            " neurospice.calibration, neurospice.compact_models, neurospice.cli,"
            " neurospice.circuits, neurospice.circuits.rfnet, neurospice.demo\n"
            "import neurospice.analysis.rf, neurospice.compact_models.devices\n"
            "assert 'matplotlib' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cli_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "ngspice" in out and "vacask" in out and "xyce" in out and "openvaf-r" in out


RC = """* rc
V1 a 0 dc 0.0 pulse(0.0 1.0 0.0 1e-09 1e-09 1.0)
R1 a b 1000.0
C1 b 0 1e-06
.tran 1e-05 0.002
.end
"""


@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice missing")
def test_cli_sim_writes_csv(tmp_path, capsys):
    deck = tmp_path / "rc.cir"
    deck.write_text(RC)
    assert main(["sim", str(deck), "--out", str(tmp_path / "rc.csv")]) == 0
    lines = (tmp_path / "rc.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["time [s]", "v(a) [V]", "v(b) [V]"]
    data = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    t, vb = data[:, 0], data[:, 2]
    k = np.searchsorted(t, 1e-3)
    assert vb[k] == pytest.approx(1 - np.exp(-t[k] / 1e-3), rel=1e-3)


@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice missing")
def test_cli_sim_error_is_one_line_and_writes_nothing(tmp_path, capsys):
    deck = tmp_path / "bad.cir"
    deck.write_text(RC.replace("R1 a b 1000.0", "R1 a b 1000.0 bogus=((("))
    assert main(["sim", str(deck)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurospice sim: error:") and "Traceback" not in err
    assert not (tmp_path / "bad.csv").exists()
    assert main(["sim", str(tmp_path / "missing.cir")]) == 2


@needs_both
def test_demo_writes_summary_and_figure(tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "ngspice" in summary and "vacask" in summary
    assert (tmp_path / "foundation_waveforms.png").stat().st_size > 10_000
    # calibration: the SMU file's card recovered within 2 standard errors, proven in both
    import re

    for name in ("rp", "tmr0", "vh"):
        off = re.search(rf"^\| {name} \| .* \| ([0-9.]+) \|$", summary, re.M)
        assert off and float(off.group(1)) < 2.0, name
    assert summary.count("of the data range") >= 4
    assert (tmp_path / "calibration_mtj" / "mtj.ngspice.lib").exists()
