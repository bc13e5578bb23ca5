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


# ---- a crossbar's read: saved vectors, batched cells -----------------------------------

vacask = pytest.mark.skipif(not get_simulator("vacask").is_available(),
                            reason="VACASK not available")


def _saved_read(sim, sense):
    from neurospice.circuits.crossbar import Crossbar, program

    n = 4
    w = np.random.default_rng(3).uniform(0, 1, (n, n))
    xb = Crossbar("rram", n, n, program(w, "rram", spread={}).cell_params, sense=sense,
                  r_row=0.5 if sense == "tia" else 0.0)
    v = np.array([0.1, -0.05, 0.08, 0.02])
    saved = get_simulator(sim).run(xb.circuit(v, outputs_only=True)).op
    full = get_simulator(sim).run(xb.circuit(v)).op
    assert sorted(saved) == sorted(xb.output_vectors)       # nothing else in the results
    assert len(full) > 4 * len(saved)
    np.testing.assert_array_equal(xb.column_currents(saved), xb.column_currents(full))
    np.testing.assert_array_equal(xb.read(v, simulator=sim), xb.column_currents(full))


@ngspice
@pytest.mark.parametrize("sense", ["ideal", "tia"])
def test_crossbar_read_saves_only_the_column_read_out_ngspice(sense):
    _saved_read("ngspice", sense)


@vacask
@pytest.mark.parametrize("sense", ["ideal", "tia"])
def test_crossbar_read_saves_only_the_column_read_out_vacask(sense):
    _saved_read("vacask", sense)


def test_save_renders_per_dialect_and_refuses_what_it_cannot_keep():
    c = Circuit("kept vectors")
    c.vsource("In", "a", "0", 1.0)
    c.resistor("r", "a", "b", 1e3)
    c.vsource("Sense", "b", "0", 0.0)
    c.op()
    plain = {d: c.to_netlist(d) for d in ("ngspice", "vacask", "xyce")}
    c.save("I(VSense)", "v(a)", "v(a)")
    assert c.saves == ["i(vsense)", "v(a)"]
    c.measure("m", "dc", "max", vector="vdb(b)")
    ng = c.to_netlist("ngspice")
    assert ".save i(vsense) v(a) v(b)\n.op\n" in ng
    assert '  save i(VSense) v(a) v(b)\n  analysis op1 op\n' in c.to_netlist("vacask")
    assert "save" not in c.to_netlist("xyce").lower()         # Xyce keeps every vector
    # without save() nothing changes: the default keeps every vector
    assert all("save" not in text.lower() for text in plain.values())
    for bad in ("vm(a)", "v(a,b)", "i(x", "a", "v(a)\n.control"):
        with pytest.raises(NetlistError):
            c.save(bad)
    c.save("v(nowhere)")
    with pytest.raises(NetlistError, match="nowhere"):
        c.to_netlist("ngspice")


@ngspice
def test_saved_run_keeps_the_named_vectors_and_a_measurements():
    c = Circuit("divider")
    c.vsource("in", "a", "0", 1.0)
    c.resistor("r1", "a", "b", 1e3)
    c.resistor("r2", "b", "0", 3e3)
    c.dc("vin", 0.0, 1.0, 0.5)
    c.measure("top", "dc", "max", vector="v(b)")
    c.save("i(vin)")
    res = get_simulator("ngspice").run(c)
    assert sorted(k for k in res.dc if k != "sweep") == ["i(vin)", "v(b)"]
    np.testing.assert_allclose(res.dc["v(b)"], [0.0, 0.375, 0.75], rtol=1e-12)
    assert res.measurements["top"] == pytest.approx(0.75, rel=1e-9)


def test_batched_instances_equal_one_by_one_and_refuse_as_it_does():
    from neurospice.compact_models.devices import as_device

    dev = as_device("rram")
    names = [f"x{k}" for k in range(6)]
    nodes = [[f"w{k}", "s0", "0"] for k in range(6)]
    params = [{"gi": 1e-9 + 1e-10 * k} for k in range(6)]
    one, many = Circuit("t"), Circuit("t")
    for name, ns, p in zip(names, nodes, params):
        dev.add_to(one, name, ns, params=p)
    dev.add_many_to(many, names, nodes, params=params)
    assert one.to_netlist() == many.to_netlist()
    # an int value and an upper-case node go the checked way, with the same result
    odd = Circuit("t")
    odd.verilog_a_model(dev.module, dev.committed_file("va"), module=dev.module)
    odd.va_instances(dev.module, ["x0"], [["W0", "s0", 0]], [{"gi": 0}])
    assert odd["nx0"].nodes == ("w0", "s0", "0") and odd["nx0"].params == {"gi": 0.0}
    assert type(odd["nx0"].params["gi"]) is float
    cases = [
        (["x0", "x 1"], [nodes[0]] * 2, [{}] * 2, "x 1"),             # name grammar
        (["x0", "x1\nv9"], [nodes[0]] * 2, [{}] * 2, "x1"),          # a break in a name
        (["x0", "X0"], [nodes[0]] * 2, [{}] * 2, "already exists"),     # case-insensitive
        (["x0"], [["w0", "a.b", "0"]], [{}], "a.b"),                    # node grammar
        (["x0"], [["w0", "s0", "0"]], [{"gi": -1.0}], "gi"),            # bounds
        (["x0"], [["w0", "s0", "0"]], [{"gi": float("nan")}], "gi"),
        (["x0"], [["w0", "s0", "0"]], [{"nope": 1.0}], "nope"),
        (["x0"], [["w0", "s0"]], [{}], "ports"),
    ]
    for bad_names, bad_nodes, bad_params, word in cases:
        with pytest.raises(NetlistError, match=word):
            dev.add_many_to(Circuit("t"), bad_names, bad_nodes, params=bad_params)
    c = Circuit("t")
    c.verilog_a_model(dev.module, dev.committed_file("va"), module=dev.module)
    with pytest.raises(NetlistError, match="x1"):     # the batch path names the element
        c.va_instances(dev.module, ["x0", "x1"], [nodes[0], nodes[1]],
                       [{"gi": 1e-9}, {"gi\n": 1e-9}])
    with pytest.raises(NetlistError, match="one of each"):
        c.va_instances(dev.module, ["y0"], [], [{}])


def test_state_range_is_declared_on_the_device():
    from neurospice.circuits.crossbar import state_range
    from neurospice.compact_models.devices import as_device
    from neurospice.compact_models.dwmtj import sites

    rram = as_device("rram")
    assert state_range("rram") == (rram.parameter["gmax"].default,
                                   rram.parameter["gmin"].default)
    assert state_range("rram", {"gmin": 2e-10}) == (rram.parameter["gmax"].default, 2e-10)
    s = sites({"nst": 3})
    assert state_range("dwmtj", {"nst": 3}) == (s[0], s[-1])
    assert state_range("mtj") == (-1.0, 1.0)
    with pytest.raises(NetlistError, match="state range"):
        state_range("nbox")
