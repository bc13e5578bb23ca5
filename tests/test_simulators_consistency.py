"""One circuit, one answer, the same names: cases where ngspice and VACASK used to differ
(found in review) — a single pulse, several analyses of one kind, a downward DC sweep,
Verilog-A internal nodes inside subcircuits, behavioral-source currents, upper-case SPICE
model parameters — and the netlist checks that keep the rest out."""

from __future__ import annotations

import glob

import numpy as np
import pytest

from neurospice.errors import NetlistError, SimulationFailed
from neurospice.netlists import Circuit, Pulse, Pwl, Subcircuit
from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param

ALL = [simulator_param("ngspice"), simulator_param("ngspice-shared"),
       simulator_param("vacask")]

MIDPOINT_VA = """`include "disciplines.vams"
module halves(p, n);
  inout p, n;
  electrical p, n, mid;
  (* type="instance" *) parameter real r = 1e3;
  analog begin
    I(p, mid) <+ V(p, mid) / (r / 2);
    I(mid, n) <+ V(mid, n) / (r / 2);
  end
endmodule
"""


@pytest.mark.parametrize("name", ALL)
def test_a_pulse_without_period_is_one_pulse(name):
    c = Circuit("one pulse")
    c.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, delay=1e-6, rise=1e-7, fall=1e-7,
                                           width=2e-6))
    c.resistor("1", "a", 0, 1e3)
    c.tran(1e-7, 8e-6)
    r = get_simulator(name).run(c).tran
    got = [float(np.interp(t, r.axis, r["v(a)"])) for t in (0.5e-6, 2e-6, 4e-6, 6.5e-6)]
    assert got == pytest.approx([0.0, 1.0, 0.0, 0.0], abs=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_analyses_of_one_kind_come_back_in_card_order(name):
    c = Circuit("order")
    c.vsource("s", "a", 0, 1.0, ac=1.0)
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-9)
    c.resistor("2", "b", 0, 1e3)
    c.tran(1e-8, 1e-6)
    c.tran(1e-7, 5e-6)
    c.dc("Vs", 1.0, 0.0, -0.5)          # downward
    c.dc("Vs", 0.0, 2.0, 1.0)
    c.ac(1e3, 1e6, 5)
    c.ac(1e3, 1e9, 5)
    res = get_simulator(name).run(c)
    assert res["tran1"].axis[-1] == pytest.approx(1e-6)
    assert res["tran2"].axis[-1] == pytest.approx(5e-6)
    assert list(res["dc1"].axis) == pytest.approx([1.0, 0.5, 0.0])
    assert list(res["dc1"]["i(vs)"]) == pytest.approx([-0.5e-3, -0.25e-3, 0.0], abs=1e-12)
    assert res["dc2"].axis[-1] == pytest.approx(2.0)
    assert res["ac1"].axis[-1] == pytest.approx(1e6)
    assert res["ac2"].axis[-1] == pytest.approx(1e9)


@pytest.mark.parametrize("name", ALL)
def test_same_names_for_internal_nodes_and_behavioral_currents(name, tmp_path):
    va = tmp_path / "halves.va"
    va.write_text(MIDPOINT_VA)
    c = Circuit("names")
    c.verilog_a_model("mh", str(va), r=2e3)
    sub = Subcircuit("cell", ["p"])
    sub.va_instance("1", "mh", ["p", "0"])
    c.subcircuit(sub)
    c.vsource("s", "a", 0, 1.0)
    c.va_instance("1", "mh", ["a", "0"], r=1e3)
    c.instance("1", "cell", ["a"])
    c.bsource("v", "o", 0, v="2*v(a)")
    c.resistor("o", "o", 0, 1e3)
    c.model("dm", "d", IS=1e-14, N=1.0)         # SPICE parameters in upper case
    c.resistor("d", "a", "k", 1e3)
    c.diode("1", "k", 0, "dm")
    c.op()
    op = get_simulator(name).run(c).op
    assert {"v(n1.mid)", "v(x1.n1.mid)", "i(bv)", "i(vs)"} <= set(op.names)
    assert op["v(n1.mid)"][0] == pytest.approx(0.5)
    assert op["v(x1.n1.mid)"][0] == pytest.approx(0.5)
    assert op["i(bv)"][0] == pytest.approx(-2e-3)
    # the diode with IS = 1e-14: about 0.5 mA through 1 kohm at 1 V in
    assert 0.2e-3 < (1.0 - op["v(k)"][0]) / 1e3 < 0.5e-3


def test_ngspice_shared_fatal_error_names_the_cause_and_leaves_no_library_copy():
    sim = get_simulator("ngspice-shared")
    if not sim.is_available():
        pytest.skip(sim.hint)
    before = set(glob.glob("/tmp/neurospice-libngspice-*"))
    with pytest.raises(SimulationFailed) as info:
        sim.run("t\n.param x={1/}\nV1 a 0 {x}\nR1 a 0 1k\n.op\n.end\n")
    assert "Expression err" in str(info.value) and info.value.netlist_line == 2
    assert sim.run("t\nV1 a 0 1\nR1 a 0 1k\n.op\n.end\n").op["i(v1)"][0] == pytest.approx(-1e-3)
    assert set(glob.glob("/tmp/neurospice-libngspice-*")) <= before


def test_vacask_deck_with_a_comment_between_sweep_and_analysis():
    sim = get_simulator("vacask")
    if not sim.is_available():
        pytest.skip(sim.hint)
    deck = ('rev\nmodel vsource vsource\nload "resistor.osdi"\nmodel resistor resistor\n'
            "Vin (a 0) vsource dc=0.0\nR1 (a 0) resistor r=1000.0\ncontrol\n"
            '  sweep s1 instance="Vin" parameter="dc" from=0 to=1.0 step=0.5\n'
            "  // the dc analysis\n\n  analysis dc1 op\nendc\n")
    r = sim.run(deck).dc
    assert list(r.axis) == pytest.approx([0.0, 0.5, 1.0])


def test_netlist_checks_keep_out_what_a_simulator_would_misread():
    c = Circuit("checks")
    for node in ("2a", "1e3", "time", "frequency", "gain", "onoise_spectrum"):
        with pytest.raises(NetlistError, match="node name"):
            c.resistor("x", node, 0, 1.0)
    c.resistor("ok", "12", "n_2a", 1.0)                 # numbers and identifiers are fine
    with pytest.raises(NetlistError, match="two points"):
        c.vsource("p", "a", 0, waveform=Pwl([0.0], [0.7]))
    with pytest.raises(NetlistError, match="not a finite"):
        c.param("big", "1e999")


def test_noise_comes_back_with_the_same_names_units_and_totals():
    c = Circuit("noise")
    c.vsource("in", "a", 0, 0.0, ac=1.0)
    c.resistor("1", "a", "b", 1e3)
    c.resistor("2", "b", 0, 1e3)
    c.capacitor("1", "b", 0, 1e-9)
    c.noise("b", "Vin", 1e3, 1e6, 5)
    out = {}
    for name in ("ngspice", "vacask"):
        sim = get_simulator(name)
        if not sim.is_available():
            pytest.skip(sim.hint)
        out[name] = sim.run(c).noise
    ng, va = out["ngspice"], out["vacask"]
    # low frequency: two 1 kohm in parallel, 4kTR with R = 500 ohm, in V/sqrt(Hz)
    k, temp = 1.380649e-23, 300.15
    assert ng["onoise_spectrum"][0] == pytest.approx(np.sqrt(4 * k * temp * 500), rel=2e-3)
    for vec in ("onoise_spectrum", "inoise_spectrum"):
        np.testing.assert_allclose(va[vec], ng[vec], rtol=1e-4)
    for total in ("onoise_total", "inoise_total"):
        assert va.meta["integrated"][total] == pytest.approx(ng.meta["integrated"][total],
                                                             rel=1e-4)
    # the input-referred density is flat here: its total is density * sqrt(bandwidth)
    flat = ng["inoise_spectrum"][0] * np.sqrt(1e6 - 1e3)
    assert ng.meta["integrated"]["inoise_total"] == pytest.approx(flat, rel=1e-3)
