"""Large regular structures built and run cheaply: sample tables (a swept index selecting
each input's value), the envelope netlist's batched evaluation as one ``.dc`` sweep."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.errors import NetlistError
from neurospice.netlists import Circuit
from neurospice.netlists.expr import sample_table
from neurospice.simulators import get_simulator

ngspice = pytest.mark.skipif(not get_simulator("ngspice").is_available(),
                             reason="ngspice not available")


def test_sample_table_renders_its_numbers():
    t = sample_table("idx", [0.5, -2.0, 3e-7])
    assert t.render("ngspice") == "pwl(v(idx),0,0.5,1,-2.0,2,3e-07)"
    assert t.render("xyce") == "table(V(idx),0,0.5,1,-2.0,2,3e-07)"
    assert t.render("verilog-a") == "(V(idx) < 0.5 ? 0.5 : (V(idx) < 1.5 ? -2.0 : 3e-07))"
    assert t.nodes == ("idx",) and t.names == () and t.currents == ()
    assert sample_table("k", [1.0]).render("ngspice") == "pwl(v(k),0,1.0,1,1.0)"
    for bad in ([], [1.0, float("nan")]):
        with pytest.raises(NetlistError):
            sample_table("idx", bad)
    with pytest.raises(NetlistError):
        sample_table("a b", [1.0])
    with pytest.raises(NetlistError, match="numpy"):
        t.render("numpy")


@ngspice
def test_sample_table_selects_each_sample_in_a_sweep():
    values = [0.25, -1.5, 4.0, 0.0]
    c = Circuit("table")
    c.vsource("idx", "idx", "0", 0.0)
    c.bsource("x", "a", "0", v=sample_table("idx", values))
    c.resistor("l", "a", "0", 1e3)
    c.dc("vidx", 0.0, 3.0, 1.0)
    res = get_simulator("ngspice").run(c).dc
    np.testing.assert_allclose(np.ravel(res["v(a)"]), values, rtol=1e-12, atol=1e-15)


@ngspice
def test_envelope_batched_sweep_matches_numpy():
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan

    net = RFNetwork.build([16, 8, 3], linear_plan(16, 2e9, 12e9), band=4, seed=0, trim=True)
    x = np.random.default_rng(3).uniform(0.1e-6, 1e-6, (4, 16))
    ref = net.forward(x)
    out, ops = EN.evaluate(net, x, batched=True, with_op=True)
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=0)
    names = EN.output_names(net)
    assert [[op[n] for n in names] for op in ops] == out.tolist()
    _, trace = net.forward(x, keep=True)            # the hidden layer's currents, per sample
    osc = np.array([[op[n] for n in EN.hidden_names(net, 0)["osc"]] for op in ops])
    np.testing.assert_allclose(np.clip(osc / 1e3, 0, 40e-6), np.clip(trace[0]["i"], 0, 40e-6),
                               rtol=1e-6, atol=1e-12)


@ngspice
def test_envelope_osdi_resonators_equal_the_behavioral_ones():
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan

    net = RFNetwork.build([12, 6, 2], linear_plan(12, 2e9, 12e9), band=3, seed=1, trim=True)
    x = np.random.default_rng(4).uniform(0.1e-6, 1e-6, (2, 12))
    runs = {r: get_simulator("ngspice").run(EN.build(net, x, swept=True, rendering=r)).dc
            for r in ("behavioral", "osdi")}
    names = EN.output_names(net) + EN.hidden_names(net, 0)["pw"]
    for n in names:
        np.testing.assert_allclose(runs["osdi"][n], runs["behavioral"][n], rtol=1e-9, atol=0)
    name, text = EN.resonator_module(7)
    assert name == "ns_resonator7" and text.count("parameter real") == 7
    with pytest.raises(NetlistError, match="rendering"):
        EN.build(net, x, swept=True, rendering="spice")


def test_cached_element_checks_still_refuse_and_name_the_element():
    c = Circuit("checks")
    c.resistor("a", "n1", "0", 1.0)
    c.resistor("b", "n1", "0", 1.0)                  # the cached node name again
    for nodes, params in ((["n1", "bad node"], {}), (["n1", "0"], {"bad key": 1.0}),
                          (["n1", "0"], {"k": float("inf")}), (["n1", "0"], {"k": True})):
        with pytest.raises(NetlistError) as err:
            c.va_instance("x1", "m", nodes, **params)
        assert "x1" in str(err.value)
