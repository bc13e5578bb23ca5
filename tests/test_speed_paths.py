"""The fast paths of issue #16 give the same numbers as the slow ones (timings live in bench/):

- ngspice's KLU and its own sparse solver agree on a crossbar with wire resistance;
  ``solver='auto'`` writes ``.options klu`` only for large circuits (the golden netlists are
  small and unchanged);
- a WeightedSum renders the same function as the parsed expression of its text, in every
  dialect, and checks what it is given;
- build once, run many (``NgspiceSharedSimulator.run_series``): each run equals a fresh run
  of the circuit with those source values; the envelope netlist evaluated that way agrees
  with the numpy envelope to 1e-6 relative;
- ``compile_va`` called again returns the cached file without compiling, and compiles again
  when the source changes.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurospice.errors import NetlistError
from neurospice.netlists import Circuit
from neurospice.netlists.expr import Expression, weighted_sum
from neurospice.netlists.writers import element_count, ngspice_solver
from neurospice.simulators import get_simulator

ngspice = pytest.mark.skipif(not get_simulator("ngspice").is_available(),
                             reason="ngspice not available")
shared = pytest.mark.skipif(not get_simulator("ngspice-shared").is_available(),
                            reason="libngspice not available")


def mesh(n: int) -> Circuit:
    """An n x n resistor mesh driven at one corner: a matrix both solvers must factor."""
    c = Circuit(f"mesh {n}")
    c.vsource("in", "m0_0", "0", 1.0)
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                c.resistor(f"v{i}_{j}", f"m{i}_{j}", f"m{i + 1}_{j}", 1.0 + (i * 7 + j) % 5)
            if j + 1 < n:
                c.resistor(f"h{i}_{j}", f"m{i}_{j}", f"m{i}_{j + 1}", 2.0 + (i + 3 * j) % 7)
            c.resistor(f"g{i}_{j}", f"m{i}_{j}", "0", 1e3)
    c.op()
    return c


def test_solver_option_is_checked_and_written():
    c = mesh(4)
    assert ngspice_solver(c) is None and ".options klu" not in c.to_netlist("ngspice")
    c.option("solver", "klu")
    assert ".options klu" in c.to_netlist("ngspice")
    assert "klu" not in c.to_netlist("vacask").lower()
    c.option("solver", "sparse")
    assert ".options sparse" in c.to_netlist("ngspice")
    with pytest.raises(NetlistError, match="solver must be one of"):
        c.option("solver", "umfpack")
    big = mesh(30)
    assert element_count(big) >= 2000 and ngspice_solver(big) == "klu"
    big.tran(1e-9, 1e-8)
    assert ngspice_solver(big) is None       # a transient of this size stays on sparse


@ngspice
def test_klu_and_sparse_agree_on_a_mesh():
    c = mesh(12)
    out = {}
    for solver in ("sparse", "klu"):
        c.option("solver", solver)
        op = get_simulator("ngspice").run(c).op
        out[solver] = np.array([float(np.ravel(op[n])[0]) for n in op.names])
    np.testing.assert_allclose(out["klu"], out["sparse"], rtol=1e-9, atol=1e-12)
    assert np.ptp(out["klu"]) > 0.1          # the mesh is not trivially flat


def test_weighted_sum_renders_its_parsed_function():
    w = weighted_sum([1.5, -2e-3, 0.25], ["a", "b", "0"])
    parsed = Expression(w.text)
    assert w.nodes == ("a", "b") == parsed.nodes
    env = {"a": np.array([0.3, -1.0]), "b": np.array([2.0, 5.0])}
    np_env = {"np": np, **env}
    for dialect in ("ngspice", "xyce", "verilog-a"):
        assert "v(" in w.render(dialect).lower()
    assert np.allclose(eval(w.render("numpy"), np_env),            # noqa: S307 - our text
                       eval(parsed.render("numpy"), np_env))         # noqa: S307
    assert w.render("verilog-a", node_alias={"a": "p"}).startswith("1.5*V(p)")
    for bad in (([float("nan")], ["a"]), ([1.0], ["a b"]), ([1.0, 2.0], ["a"])):
        with pytest.raises(NetlistError):
            weighted_sum(*bad)


@shared
def test_run_series_equals_fresh_runs():
    c = Circuit("divider with a square")
    c.vsource("in", "a", "0", 1.0)
    c.resistor("1", "a", "b", 1e3)
    c.resistor("2", "b", "0", 3e3)
    c.bsource("sq", "c", "0", v="v(b)*v(b)")
    c.op()
    values = [0.5, 2.0, -4.0]
    series = get_simulator("ngspice-shared").run_series(c, [{"vin": v} for v in values])
    for v, r in zip(values, series):
        c["vin"].dc = v
        fresh = get_simulator("ngspice").run(c).op
        assert float(np.ravel(r.op["v(c)"])[0]) == pytest.approx(
            float(np.ravel(fresh["v(c)"])[0]), rel=1e-12)
        assert float(np.ravel(r.op["v(c)"])[0]) == pytest.approx((0.75 * v) ** 2, rel=1e-9)
    with pytest.raises(NetlistError, match="not an independent source"):
        get_simulator("ngspice-shared").run_series(c, [{"r1": 1.0}])


@shared
def test_envelope_netlist_series_matches_numpy():
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan

    net = RFNetwork.build([16, 8, 3], linear_plan(16, 2e9, 12e9), band=4, seed=0, trim=True)
    x = np.random.default_rng(1).uniform(0.1e-6, 1e-6, (5, 16))
    out = EN.evaluate(net, x, simulator="ngspice-shared", series=True)
    ref = net.forward(x)
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=0)


def test_compile_va_is_cached_until_the_source_changes(tmp_path, monkeypatch):
    from neurospice.simulators import openvaf

    if openvaf.openvaf_executable() is None:
        pytest.skip("openvaf-r not available")
    monkeypatch.setenv("NEUROSPICE_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "r.va"
    src.write_text('`include "disciplines.vams"\nmodule r(p, n); inout p, n; electrical p, n;'
                   '\nparameter real r = 1e3;\nanalog I(p, n) <+ V(p, n) / r;\nendmodule\n')
    first = openvaf.compile_va(src)
    assert openvaf.compile_va(src) == first
    src.write_text(src.read_text().replace("1e3", "2e3"))
    os.utime(src, ns=(1, 1))                 # a new size and time: a new key
    second = openvaf.compile_va(src)
    assert second != first and second.is_file()
