"""PySpice in both directions, run on ngspice: a PySpice circuit converted element by element
(``from_pyspice``) runs like its own ngspice text (and on VACASK), and a neurospice device
added to a PySpice circuit (``add_to_pyspice``, subcircuit or OSDI card) gives the current
neurospice's own Circuit gives."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySpice")

from PySpice.Spice.Netlist import Circuit as PyCircuit  # noqa: E402
from PySpice.Spice.Netlist import SubCircuit  # noqa: E402

from neurospice.compact_models.devices import get_device  # noqa: E402
from neurospice.errors import NetlistError  # noqa: E402
from neurospice.netlists import Circuit  # noqa: E402
from neurospice.netlists.pyspice import add_to_pyspice, from_pyspice  # noqa: E402
from neurospice.simulators import compile_va, get_simulator  # noqa: E402
from neurospice.simulators.openvaf import openvaf_executable  # noqa: E402

NGSPICE = get_simulator("ngspice")
pytestmark = pytest.mark.skipif(not NGSPICE.is_available(), reason="ngspice not installed")


class Divider(SubCircuit):
    NODES = ("top", "mid")

    def __init__(self, name, r=1e3):
        SubCircuit.__init__(self, name, *self.NODES, r=r)
        self.R(1, "top", "mid", "r")
        self.R(2, "mid", 0, "r")


def pyspice_circuit():
    c = PyCircuit("pyspice deck")
    c.PulseVoltageSource("in", "a", c.gnd, initial_value=0, pulsed_value=1.0, delay_time=0.1e-6,
                         rise_time=10e-9, fall_time=10e-9, pulse_width=1e-6, period=2e-6)
    c.R(1, "a", "b", 1e3)
    c.C(1, "b", c.gnd, 200e-12)
    c.model("dmod", "D", IS=1e-14, N=1.5)
    c.D(1, "b", "c", model="dmod")
    c.R(2, "c", c.gnd, 10e3)
    c.VCVS(1, "e", c.gnd, "b", c.gnd, 2.0)
    c.B("x", "f", c.gnd, v="v(b)*v(b)")
    c.R(3, "f", c.gnd, 1e3)
    c.subcircuit(Divider("div"))
    c.X(1, "div", "e", "g", r=2e3)
    return c


def test_from_pyspice_maps_elements_and_runs_like_its_own_text():
    ps = pyspice_circuit()
    c = from_pyspice(ps)
    kinds = sorted(type(e).__name__ for e in c.elements)
    assert len(kinds) == 9 and "dmod" in c.models and "div" in c.subcircuits
    c.tran(5e-9, 3e-6)
    mine = NGSPICE.run(c).tran
    text = str(ps) + "\n.tran 5e-9 3e-6\n.end\n"
    theirs = NGSPICE.run(text, trusted=True).tran
    for node in ("b", "c", "f", "g"):
        np.testing.assert_allclose(np.interp(theirs.axis, mine.axis, mine[f"v({node})"]),
                                   theirs[f"v({node})"], atol=2e-3 * np.ptp(theirs[f"v({node})"]))
    vac = get_simulator("vacask")
    if vac.is_available():
        other = vac.run(c).tran
        np.testing.assert_allclose(np.interp(mine.axis, other.axis, other["v(g)"]),
                                   mine["v(g)"], atol=5e-3 * np.ptp(mine["v(g)"]))


def test_from_pyspice_names_what_does_not_map():
    ps = PyCircuit("raw")
    ps.R(1, "a", ps.gnd, 1e3)
    ps.raw_spice = "K1 L1 L2 0.9"
    with pytest.raises(NetlistError, match="raw SPICE"):
        from_pyspice(ps)
    with pytest.raises(NetlistError, match="PySpice circuit"):
        from_pyspice(Circuit("not pyspice"))


def _reference(params, rendering):
    c = Circuit("mtj")
    c.vsource("V1", "a", "0", dc=0.1)
    c.resistor("R1", "a", "b", 1e3)
    get_device("mtj").add_to(c, "X1", ["b", "0", "0"], rendering=rendering, params=params)
    c.op()
    return NGSPICE.run(c).op["i(v1)"][0]


@pytest.mark.parametrize("rendering", ["subckt", "osdi"])
def test_add_to_pyspice_places_a_device_with_its_card(rendering):
    if rendering == "osdi" and not openvaf_executable():
        pytest.skip("openvaf-r not installed")
    mtj = get_device("mtj")
    params = {"m0": -1.0}
    ps = PyCircuit("mtj in pyspice")
    ps.V(1, "a", ps.gnd, 0.1)
    ps.R(1, "a", "b", 1e3)
    osdi = compile_va(mtj.committed_file("va")) if rendering == "osdi" else None
    add_to_pyspice(ps, mtj, "1", ["b", "0", "0"], params, osdi=osdi)
    add_to_pyspice(ps, mtj, "2", ["b", "0", "0"], {"m0": 1.0}, osdi=osdi)   # card added once
    text = str(ps)
    assert text.count(".subckt ns_mtj") + text.count("pre_osdi") == 1
    got = NGSPICE.run(text + "\n.op\n.end\n", trusted=True).op["i(v1)"][0]
    # two devices in parallel, AP and P: the sum of the two single-device currents is not the
    # answer (the 1 kohm is shared), so compare with the same circuit built by neurospice
    c = Circuit("mtj")
    c.vsource("V1", "a", "0", dc=0.1)
    c.resistor("R1", "a", "b", 1e3)
    mtj.add_to(c, "X1", ["b", "0", "0"], rendering=rendering, params=params)
    mtj.add_to(c, "X2", ["b", "0", "0"], rendering=rendering, params={"m0": 1.0})
    c.op()
    ref = NGSPICE.run(c).op["i(v1)"][0]
    assert got == pytest.approx(ref, rel=1e-9)
    assert abs(got) > abs(_reference(params, rendering)) * 1.2   # both devices conduct
    with pytest.raises(NetlistError, match="outside"):
        add_to_pyspice(ps, mtj, "3", ["b", "0", "0"], {"m0": 5.0})
