"""Pure-Python tests of the Circuit model: validation, values and rendering rules."""

import re

import numpy as np
import pytest

from neurospice.errors import NetlistError
from neurospice.netlists import Circuit, Expression, Pulse, Pwl, Sine, Subcircuit


def rc():
    c = Circuit("rc")
    c.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, width=1e-3))
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-6)
    c.tran(1e-6, 2e-3)
    return c


def test_prefix_added_and_names_case_insensitive_unique():
    c = rc()
    assert c["r1"].name == "R1"
    assert c["vin"].name == "Vin"
    with pytest.raises(NetlistError, match="'r1'.*already exists"):
        c.resistor("r1", "a", 0, 1.0)


@pytest.mark.parametrize("name", ["a b", "r1\n.end", "r.1", "r{1}", 'r"1', "", 7.5])
def test_bad_element_names_raise_naming_the_element(name):
    c = Circuit()
    with pytest.raises(NetlistError):
        c.resistor(name, "a", 0, 1.0)


@pytest.mark.parametrize("node", ["a b", "n\n.control", "x.y", "n{1}", "endc", "", None])
def test_bad_node_names_raise(node):
    c = Circuit()
    with pytest.raises(NetlistError, match="R1"):
        c.resistor("1", node, 0, 1.0)


@pytest.mark.parametrize("value", ["1k", "2A", float("nan"), float("inf"), None, True, -1.0, 0.0])
def test_bad_values_raise(value):
    c = Circuit()
    with pytest.raises(NetlistError, match="R1"):
        c.resistor("1", "a", 0, value)


def test_values_written_in_full_precision_without_unit_letters():
    c = Circuit()
    c.resistor("1", "a", 0, 1.2345678901234567e3)
    c.capacitor("1", "a", 0, 1e-15)
    c.vsource("1", "a", 0, 2e-3)
    for dialect in ("ngspice", "xyce", "vacask"):
        text = c.to_netlist(dialect)
        assert "1234.5678901234567" in text
        assert "1e-15" in text
        assert "0.002" in text
        # no SPICE scale suffix after a number anywhere in element lines
        body = [ln for ln in text.splitlines() if ln[:1] in "RCVrcv"]
        assert not re.search(r"\d(f|p|n|u|m|k|meg|g|t)\b", " ".join(body), re.I)


def test_expression_injection_is_refused():
    c = Circuit()
    for text in ["v(a)\n.control", "v(a) }", "__import__('os')", "v(a); rm", "x.y", "{a}"]:
        with pytest.raises(NetlistError):
            c.bsource("b" + str(abs(hash(text)) % 1000), "a", 0, i=text)
    from neurospice.netlists.expr import Expression

    for bad in (["a"], None, 5):                     # not a string: refused, not a TypeError
        with pytest.raises(NetlistError, match="must be a string"):
            Expression(bad)
    with pytest.raises(NetlistError, match="empty expression"):
        Expression("  ")


def test_expression_renders_per_dialect():
    e = Expression("k*v(a, b)**2 + exp(-time/tau) + ln(v(c))")
    assert e.nodes == ("a", "b", "c") or set(e.nodes) == {"a", "b", "c"}
    assert e.names == ("k", "tau")
    assert e.render("ngspice") == "(((k * pow(v(a, b), 2.0)) + exp(((-time) / tau))) + ln(v(c)))"
    assert "TIME" in e.render("xyce") and "log(V(c))" in e.render("xyce")
    va = e.render("verilog-a", node_alias={"a": "t0"})
    assert "$abstime" in va and "V(t0, b)" in va and "ln(V(c))" in va


def test_unknown_parameter_in_expression_names_element():
    c = rc()
    c.resistor("2", "b", 0, "2*rload")
    with pytest.raises(NetlistError, match="R2.*rload"):
        c.to_netlist("ngspice")


def test_unknown_subcircuit_and_port_count():
    c = rc()
    c.instance("1", "nosuch", ["a", "b"])
    with pytest.raises(NetlistError, match="X1.*nosuch"):
        c.to_netlist("vacask")
    c = rc()
    s = c.subcircuit(Subcircuit("div", ["i", "o"], ratio=0.5))
    s.resistor("a", "i", "o", "1e3*ratio")
    c.instance("1", "div", ["a"])
    with pytest.raises(NetlistError, match="X1.*2 ports"):
        c.to_netlist("ngspice")


def test_controlled_source_needs_voltage_source():
    c = rc()
    c.cccs("1", "b", 0, "r1", 2.0)
    with pytest.raises(NetlistError, match="F1"):
        c.to_netlist("ngspice")


def test_pwl_validation_and_continuation_lines():
    with pytest.raises(NetlistError, match="V1"):
        Circuit().vsource("1", "a", 0, waveform=Pwl([0, 1e-3, 1e-3], [0, 1, 2]))
    c = Circuit()
    t = np.linspace(0, 1e-3, 50)
    c.vsource("1", "a", 0, waveform=Pwl(t, np.sin(t * 1e4)))
    text = c.to_netlist("ngspice")
    assert all(len(line) < 200 for line in text.splitlines())
    assert repr(float(t[17])) in text


def test_source_dc_defaults_to_waveform_start():
    c = Circuit()
    c.vsource("1", "a", 0, waveform=Pulse(0.3, 1.0))
    c.vsource("2", "b", 0, waveform=Sine(0.5, 1.0, 1e3))
    assert c["v1"].dc == 0.3 and c["v2"].dc == 0.5


def test_xyce_refuses_several_analyses_and_osdi():
    c = rc()
    c.op()
    with pytest.raises(NetlistError, match="one analysis"):
        c.to_netlist("xyce")


def test_vacask_refuses_sine_phase_and_current_in_bsource():
    c = Circuit()
    c.vsource("1", "a", 0, waveform=Sine(0.0, 1.0, 1e3, phase_deg=30.0))
    with pytest.raises(NetlistError, match="V1.*phase"):
        c.to_netlist("vacask")
    c = Circuit()
    c.vsource("1", "a", 0, 1.0)
    c.resistor("1", "a", 0, 1.0)
    c.bsource("1", "b", 0, i="2*i(v1)")
    assert "i(v1)" in c.to_netlist("ngspice")
    with pytest.raises(NetlistError, match="i\\(v1\\)"):
        c.to_netlist("vacask")


def test_analysis_validation():
    c = rc()
    with pytest.raises(NetlistError):
        c.ac(1e3, 1.0)
    with pytest.raises(NetlistError):
        c.ac(1.0, 1e3, points=0)
    with pytest.raises(NetlistError):
        c.tran(1e-6, -1.0)
    with pytest.raises(NetlistError, match="R1"):
        c.dc("r1", 0, 1, 0.1)
    assert [a.name for a in c.analyses] == ["tran1"]


def test_option_names_checked():
    c = rc()
    with pytest.raises(NetlistError, match="unknown option"):
        c.option("bogus", 1.0)
    c.option("method", "gear")
    assert 'tran_method="gear2"' in c.to_netlist("vacask")
    assert "method=gear" in c.to_netlist("ngspice")


def test_write_is_atomic(tmp_path):
    c = rc()
    out = tmp_path / "rc.cir"
    c.write(out)
    assert out.read_text() == c.to_netlist("ngspice")
    c.resistor("bad", "x", 0, "nosuch")
    with pytest.raises(NetlistError):
        c.write(out)
    assert out.read_text() == rc().to_netlist("ngspice")  # old file untouched
    assert [p.name for p in tmp_path.iterdir()] == ["rc.cir"]


def test_threads_option_sets_ngspice_osdi_threads(tmp_path):
    va = tmp_path / "r.va"
    va.write_text('`include "disciplines.vams"\nmodule r(p, n);\n  inout p, n;\n  electrical p, n;\n'
                  "  analog I(p, n) <+ V(p, n) / 1e3;\nendmodule\n")
    c = rc()
    c.verilog_a_model("rm", va)
    c.va_instance("1", "rm", ["b", 0])
    assert "set num_threads=1" in c.to_netlist("ngspice")     # the default: one thread
    c.option("threads", 4)
    assert "set num_threads=4" in c.to_netlist("ngspice")
    assert "num_threads" not in c.to_netlist("vacask")
    with pytest.raises(NetlistError, match="threads"):
        c.option("threads", 0)


def test_vacask_wrapper_ports_never_clash_with_parameters():
    c = Circuit()
    c.param("t0", 2.0)
    c.vsource("1", "a", 0, 1.0)
    c.resistor("1", "b", 0, 1.0)
    c.bsource("x", "b", 0, i="t0*v(a)")
    rendered = c.render("vacask")
    [(name, text)] = rendered.files.items()
    assert f'load "{name}"' in rendered.netlist
    assert "parameter real t0" in text and "inout _t0" in text


def test_rendering_writes_no_file_and_changes_no_element(tmp_path, monkeypatch):
    """to_netlist is pure: the VACASK wrapper of a behavioral source comes back as text, the
    check leaves a controlling source's name as given; only write() writes, beside the
    netlist."""
    monkeypatch.setenv("NEUROSPICE_CACHE", str(tmp_path / "cache"))
    c = Circuit()
    c.vsource("Sense", "a", 0, 1.0)
    c.resistor("1", "a", 0, 1e3)
    f = c.cccs("1", 0, "b", "vsense", 2.0)
    c.resistor("2", "b", 0, 1e3)
    c.bsource("x", "c", 0, v="2*v(b)")
    c.resistor("3", "c", 0, 1e3)
    c.op()
    for dialect in ("ngspice", "xyce", "vacask"):
        text = c.to_netlist(dialect)
        assert "VSense" in text           # written as declared (VACASK is case-sensitive)
    assert f.vsource == "vsense"
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*"))
    rendered = c.render("vacask")
    assert rendered.files and all(n.endswith(".va") for n in rendered.files)
    assert c.render("ngspice").files == {}
    out = c.write(tmp_path / "deck.sim", "vacask")
    assert out.read_text() == rendered.netlist
    for name, text in rendered.files.items():
        assert (tmp_path / name).read_text() == text


def test_the_dialect_lists_agree():
    """One registry: the Circuit's dialects, the device export's, the command line's choices,
    the simulators' dialects and the pytest markers all derive from it or match it."""
    import tomllib
    from pathlib import Path

    from neurospice.cli import build_parser
    from neurospice.compact_models import export
    from neurospice.netlists import DIALECTS, NETLIST_DIALECTS, writers
    from neurospice.simulators import SIMULATORS, get_simulator

    assert set(NETLIST_DIALECTS) == {n for n, d in DIALECTS.items() if d.writer is not None}
    assert tuple(export.DIALECTS) == tuple(DIALECTS)
    for d in NETLIST_DIALECTS:
        assert issubclass(DIALECTS[d].writer, (writers.SpiceWriter, writers.VacaskWriter))
    with pytest.raises(NetlistError, match="choose from " + ", ".join(NETLIST_DIALECTS)):
        Circuit().to_netlist("verilog-a")      # a device export, not a netlist dialect
    read_by = {s for d in DIALECTS.values() for s in d.simulators}
    assert read_by == set(SIMULATORS)
    for name in SIMULATORS:
        assert name in DIALECTS[get_simulator(name).dialect].simulators

    def options(parser, path=()):
        """(subcommand path, option dest) -> choices, through every subparser."""
        found = {}
        for action in parser._actions:
            if isinstance(action.choices, dict):       # a subparsers action
                for cmd, sub in action.choices.items():
                    found.update(options(sub, path + (cmd,)))
            elif action.choices is not None:
                found[path + (action.dest,)] = tuple(action.choices)
        return found

    cli = options(build_parser())
    assert cli[("sim", "simulator")] == tuple(SIMULATORS)
    assert cli[("models", "dialect")] == tuple(DIALECTS)
    assert cli[("rfnet", "export", "dialect")] == NETLIST_DIALECTS
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    markers = {m.split(":")[0] for m in pyproject["tool"]["pytest"]["ini_options"]["markers"]}
    assert {s.split("-")[0] for s in SIMULATORS} <= markers
