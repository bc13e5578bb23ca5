"""ngspice specifics: .control sections, PySpice circuits, noise, the in-process library's
clean state between runs, batch vs in-process agreement, kept working directories."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.simulators import get_simulator

BATCH = get_simulator("ngspice")
SHARED = get_simulator("ngspice-shared")
pytestmark = [pytest.mark.ngspice, pytest.mark.skipif(
    not (BATCH.is_available() and SHARED.is_available()),
    reason="ngspice or libngspice not found: run `make setup`")]

RC = """rc
V1 in 0 DC 1 AC 1 PULSE(0 1 0 1e-9 1e-9 1 2)
R1 in out 1000
C1 out 0 1e-6
.tran 1e-5 1e-3
.ac dec 10 1 1e5
.op
{extra}
.end
"""


def test_batch_and_shared_agree_and_keep_card_order():
    a = BATCH.run(RC.format(extra=""))
    b = SHARED.run(RC.format(extra=""))
    assert [r.kind for r in a] == [r.kind for r in b] == ["tran", "ac", "op"]
    for ra, rb in zip(a, b):
        assert sorted(ra.names) == sorted(rb.names)
        for n in ra.names:
            np.testing.assert_array_equal(ra[n], rb[n])


def test_control_section_without_run_is_kept():
    deck = RC.format(extra=".control\nset noaskquit\necho neurospice-marker\n.endc")
    for sim in (BATCH, SHARED):
        res = sim.run(deck, trusted=True)   # untrusted, a .control block is refused
        assert [r.kind for r in res] == ["tran", "ac", "op"]
        if sim is BATCH:
            assert "neurospice-marker" in res.log


def test_control_section_with_run_still_gives_results():
    res = BATCH.run(RC.format(extra=".control\nrun\n.endc"), trusted=True)
    assert res.tran.v("out")[-1] == pytest.approx(1 - np.exp(-1), rel=1e-3)


def test_shared_runs_start_fresh():
    SHARED.run(RC.format(extra=""))
    second = SHARED.run("other\nV9 n9 0 2\nR9 n9 0 1000\n.op\n.end\n")
    assert len(second) == 1 and second.op.names == ["v(n9)", "i(v9)"]
    assert second.op.scalar("i(v9)") == pytest.approx(-2e-3)


def test_noise_analysis():
    deck = "noise\nV1 in 0 DC 0 AC 1\nR1 in out 1000\nR2 out 0 1000\n" \
           ".noise v(out) V1 dec 5 1 1e3\n.end\n"
    for sim in (BATCH, SHARED):
        noise = sim.run(deck).noise
        assert noise.axis_name == "frequency"
        # two 1 kohm resistors in parallel seen from out: 4kTR with R = 500 ohm
        k, temp = 1.380649e-23, 300.15
        np.testing.assert_allclose(noise["onoise_spectrum"], np.sqrt(4 * k * temp * 500),
                                   rtol=1e-3)
        assert "onoise_total" in noise.meta["integrated"]


def test_pyspice_circuit():
    netlist = pytest.importorskip("PySpice.Spice.Netlist")
    circuit = netlist.Circuit("divider")
    circuit.V(1, "a", circuit.gnd, 2)
    circuit.R(1, "a", "b", 1e3)
    circuit.R(2, "b", circuit.gnd, 1e3)
    circuit.raw_spice = ".op"
    for sim in (BATCH, SHARED):
        assert sim.run(circuit).op.scalar("v(b)") == pytest.approx(1.0)


def test_keep_leaves_the_files(tmp_path):
    res = BATCH.run(RC.format(extra=""), keep=True)
    try:
        assert (res.workdir / "deck.cir").is_file() and (res.workdir / "out.raw").is_file()
    finally:
        import shutil

        shutil.rmtree(res.workdir)
    res = BATCH.run(RC.format(extra=""))
    assert res.workdir is None
    res.tran.to_csv(tmp_path / "tran.csv")
    table = np.loadtxt(tmp_path / "tran.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], res.tran.axis)
