"""Attack: every string that becomes netlist text goes through one gate.

A property-based test puts arbitrary Unicode (and targeted line/field breaks) into every field
of every element the Circuit API offers and asserts: either a NetlistError at the call or at
render, or a netlist, for each dialect, whose line structure is exactly the one the writer
intended (the same number of lines as the circuit with plain strings, under
``str.splitlines()`` and under splitting on ``\\n`` alone).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurospice.errors import NetlistError
from neurospice.netlists import NETLIST_DIALECTS, Circuit, Pwl, Subcircuit
from neurospice.netlists.values import LINE_BREAKS, check_text

# every character a supported simulator or str.splitlines() treats as a line or field break
BREAKS = sorted(set(LINE_BREAKS) | {"\x1f", "\x7f", "\x80", "\x9f", "\u200b", "\ufeff",
                                    "\u00a0", "\u3000", "\t"})

SAFE = {
    "title": "fuzz circuit", "param_key": "k0", "param_expr": "2*k0", "value_expr": "k0*2",
    "node": "a", "ctl_node": "b", "r_name": "R1", "c_name": "C1", "l_name": "L1",
    "v_name": "V1", "i_name": "I1", "e_name": "E1", "g_name": "G1", "f_name": "F1",
    "h_name": "H1", "ctl_source": "V1", "b_name": "B1", "b_expr": "v(a)*1e-3 + softplus(v(b))",
    "gain_expr": "k0/1000", "d_name": "D1", "diode_model": "dmod", "diode_ref": "dmod",
    "model_kind": "d", "model_param": "is", "sub_name": "cell", "sub_ref": "cell",
    "sub_port": "p", "sub_param": "w", "sub_inner": "R9", "x_name": "X1", "inst_value": "k0",
    "va_name": "vamod", "va_ref": "vamod", "va_path": "/opt/models/dev.va", "va_module": "dev",
    "va_param": "gain", "n_name": "N1", "va_inst_param": "area", "include_path": "/opt/lib.inc",
    "ic_node": "a", "option_name": "reltol", "method": "gear", "dc_source": "V1",
    "variation": "dec", "noise_out": "a", "noise_ref": "b", "noise_source": "V1",
}
FIELDS = sorted(SAFE)


def build(f: dict, dialect: str) -> Circuit:
    """A circuit holding every kind of element, model, definition and analysis, its strings
    taken from ``f`` (Xyce: no Verilog-A, one analysis)."""
    c = Circuit(f["title"])
    c.param(f["param_key"], 1e3)
    c.param("k1", f["param_expr"])
    c.resistor(f["r_name"], f["node"], "0", f["value_expr"])
    c.capacitor(f["c_name"], f["node"], "0", 1e-9)
    c.inductor(f["l_name"], f["ctl_node"], "m", 1e-6)
    c.vsource(f["v_name"], f["ctl_node"], "0", dc=1.0, ac=1.0,
              waveform=Pwl([0.0, 1e-6, 2e-6], [0.0, 1.0, 0.5]))
    c.isource(f["i_name"], f["node"], "0", dc=1e-6)
    c.vcvs(f["e_name"], "e", "0", f["node"], f["ctl_node"], f["gain_expr"])
    c.vccs(f["g_name"], "g", "0", f["node"], "0", 1e-3)
    c.resistor("R2", "e", "0", 1e3)
    c.resistor("R3", "g", "0", 1e3)
    c.resistor("R4", "m", "0", 1e3)
    c.cccs(f["f_name"], "f", "0", f["ctl_source"], 2.0)
    c.ccvs(f["h_name"], "h", "0", f["ctl_source"], 10.0)
    c.resistor("R5", "f", "0", 1e3)
    c.resistor("R6", "h", "0", 1e3)
    c.bsource(f["b_name"], f["node"], "0", i=f["b_expr"])
    c.model(f["diode_model"], f["model_kind"], **{f["model_param"]: 1e-14})
    c.diode(f["d_name"], f["node"], "0", f["diode_ref"])
    sub = Subcircuit(f["sub_name"], [f["sub_port"]], **{f["sub_param"]: 1.0})
    sub.resistor(f["sub_inner"], f["sub_port"], "0", f"1e3*{f['sub_param']}")
    c.subcircuit(sub)
    c.instance(f["x_name"], f["sub_ref"], [f["node"]], **{f["sub_param"]: f["inst_value"]})
    if dialect != "xyce":
        c.verilog_a_model(f["va_name"], f["va_path"], module=f["va_module"],
                          **{f["va_param"]: 1.0})
        c.va_instance(f["n_name"], f["va_ref"], [f["node"], "0"], **{f["va_inst_param"]: 2.0})
    c.include(f["include_path"])
    c.ic(f["ic_node"], 0.5)
    c.option(f["option_name"], 1e-4)
    c.option("method", f["method"])
    if dialect == "xyce":
        c.tran(1e-7, 1e-5)
        return c
    c.op()
    c.dc(f["dc_source"], 0.0, 1.0, 0.1)
    c.ac(1.0, 1e6, 5, variation=f["variation"])
    c.tran(1e-7, 1e-5)
    c.noise(f["noise_out"], f["noise_source"], 1.0, 1e6, 5, reference=f["noise_ref"])
    return c


def line_count(f: dict, dialect: str) -> int:
    return len(build(f, dialect).to_netlist(dialect).split("\n"))


BASELINE = {d: line_count(SAFE, d) for d in NETLIST_DIALECTS}


def assert_gated(field: str, text: str) -> None:
    """The property: NetlistError, or for every dialect the intended line structure."""
    f = dict(SAFE, **{field: text})
    for dialect in NETLIST_DIALECTS:
        try:
            rendered = build(f, dialect).render(dialect)
        except NetlistError:
            continue
        for body in (rendered.netlist, *rendered.files.values()):
            assert body.splitlines() == body.split("\n")[:-1], (field, text, dialect)
        assert len(rendered.netlist.split("\n")) == BASELINE[dialect], (field, text, dialect)
        assert rendered.netlist.isascii() or field in ("title", "va_path", "include_path"), \
            (field, text, dialect)


def test_safe_circuit_renders_in_every_dialect():
    for dialect in NETLIST_DIALECTS:
        text = build(SAFE, dialect).to_netlist(dialect)
        assert text.splitlines() == text.split("\n")[:-1]
        assert BASELINE[dialect] > 20


ANY_TEXT = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"]), max_size=24)


@st.composite
def hostile(draw):
    """A field and a string for it: arbitrary Unicode, or the field's plain value with a
    break character inserted (or appended: the ``"IS\\n"`` case)."""
    field = draw(st.sampled_from(FIELDS))
    if draw(st.booleans()):
        return field, draw(ANY_TEXT)
    safe = SAFE[field]
    k = draw(st.integers(0, len(safe)))
    brk = draw(st.text(st.sampled_from(BREAKS), min_size=1, max_size=3))
    tail = draw(st.sampled_from(["", ".control", "shell touch marker", ".endc", "R9 a 0 1"]))
    return field, safe[:k] + brk + tail + safe[k:]


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_every_field_is_gated(case):
    assert_gated(*case)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(c):04X}" for c in BREAKS])
def test_each_break_in_each_field_is_refused(field, brk):
    """Exhaustively: each break character, inside and at the end of each field, fails at the
    call with a NetlistError (only a title may hold a printable space)."""
    for text in (SAFE[field] + brk, SAFE[field][:1] + brk + SAFE[field][1:]):
        with pytest.raises(NetlistError):
            build(dict(SAFE, **{field: text}), "ngspice")


def test_the_reported_shell_title_is_refused():
    with pytest.raises(NetlistError, match="title.*U\\+2028"):
        Circuit("demo\u2028.control\u2028shell touch marker\u2028.endc")
    c = Circuit()
    with pytest.raises(NetlistError, match="title"):
        c.title = "ok\x85.control"


def test_trailing_newline_in_a_model_parameter_key_is_refused():
    c = Circuit()
    with pytest.raises(NetlistError, match="parameter name.*U\\+000A"):
        c.model("dmod", "d", **{"IS\n": 1e-14})


def test_printable_unicode_title_keeps_the_lines():
    title = "Schaltung – 测试 ✓ ünïcödé"
    for dialect in NETLIST_DIALECTS:
        text = build(dict(SAFE, title=title), dialect).to_netlist(dialect)
        assert title in text.splitlines()[0]
        assert len(text.split("\n")) == BASELINE[dialect]


def test_a_value_set_by_hand_is_caught_at_render():
    """Attributes changed after the checks still cannot add a line: the rendered line is
    checked once more and the error names it."""
    c = build(SAFE, "ngspice")
    c["R1"].name = "R1\n.control\nshell touch marker\n.endc"
    with pytest.raises(NetlistError, match="line"):
        c.to_netlist("ngspice")
    c = build(SAFE, "vacask")
    c.models["dmod"].params["is\u2028x"] = 1.0
    with pytest.raises(NetlistError, match="line"):
        c.to_netlist("vacask")


def test_a_relative_path_is_gated_after_resolving(tmp_path, monkeypatch):
    """A relative include takes the working folder's name, which passes the gate too."""
    bad = tmp_path / "x\ny"
    bad.mkdir()
    monkeypatch.chdir(bad)
    with pytest.raises(NetlistError, match="include path \\(resolved\\)"):
        Circuit().include("lib.inc")


@pytest.mark.parametrize("path", ['/a"b.inc', "/a\\b.inc", "", "/a\x00b", b"/x.inc", 5])
def test_bad_paths_are_refused(path):
    with pytest.raises(NetlistError):
        Circuit().include(path)


def test_names_and_nodes_use_full_matches():
    c = Circuit()
    for bad in ("a\n", "a\r", "a ", "a.b", "\u212a", "é", "a\u200b", "x" * 2000):
        with pytest.raises(NetlistError):
            c.resistor("R1", bad, "0", 1.0)
        with pytest.raises(NetlistError):
            c.resistor(bad, "a", "0", 1.0)
    with pytest.raises(NetlistError):
        c.resistor("R1", "1a", "0", 1.0)  # neither an identifier nor a number
    with pytest.raises(NetlistError):
        c.resistor("R1", 10 ** 5000, "0", 1.0)   # never a ValueError from int -> str
    with pytest.raises(NetlistError):
        c.resistor(10 ** 5000, "a", "0", 1.0)
    assert c.resistor("R1", 7, "0", 1.0).nodes == ("7", "0")


def test_check_text_names_the_character():
    assert check_text("Ω ok", what="title") == "Ω ok"
    with pytest.raises(NetlistError, match="U\\+001E.*position 1"):
        check_text("a\x1eb", what="title")
    with pytest.raises(NetlistError, match="must be a string"):
        check_text(None, what="title")


def test_osdi_paths_are_gated():
    c = build(SAFE, "ngspice")
    va = Path(SAFE["va_path"])
    with pytest.raises(NetlistError, match="OSDI"):
        c.render("ngspice", osdi={va: "/tmp/a b/dev.osdi"})
    with pytest.raises(NetlistError, match="OSDI"):
        c.render("vacask", osdi={va: '/tmp/a"b/dev.osdi'})
    with pytest.raises(NetlistError, match="OSDI"):
        c.render("ngspice", osdi={va: "/tmp/dev\n.osdi"})
    assert "pre_osdi /tmp/dev.osdi" in c.render("ngspice", osdi={va: "/tmp/dev.osdi"}).netlist
    assert os.sep == "/"


def _hand_edits():
    """(what, edit) pairs: each sets an attribute of an element or model already added, after
    the circuit passed its check once, to a reference the circuit lacks."""
    from neurospice.netlists.expr import Expression
    return [
        ("unknown parameter", lambda c: setattr(c["R1"], "value", Expression("nosuch*2"))),
        ("unknown model", lambda c: setattr(c["D1"], "model", "nomodel")),
        ("controlling source", lambda c: setattr(c["F1"], "vsource", "Vnone")),
        ("subcircuit", lambda c: setattr(c["X1"], "subckt", "nosub")),
        ("port", lambda c: setattr(c["X1"], "nodes", ("a",))),
        ("model kind", lambda c: setattr(c.models["dm"], "kind", "npn")),
    ]


@pytest.mark.parametrize("what, edit", _hand_edits(), ids=[w for w, _ in _hand_edits()])
def test_a_hand_edit_after_a_rendering_is_checked_again(what, edit):
    """The check of references is cached between renderings (the netlist epoch); an
    attribute set by hand on an element or model already added counts as a change, so the
    next rendering checks again and names the element (it rendered before the cache
    covered element attributes)."""
    c = Circuit("edited")
    c.param("rv", 1000)
    c.vsource("1", "a", 0, 1.0)
    c.resistor("1", "a", "b", "rv")
    c.model("dm", "d")
    c.diode("1", "b", 0, "dm")
    c.cccs("1", "b", 0, "V1", 2.0)
    sub = Subcircuit("pair", ["p", "n"])
    sub.resistor("9", "p", "n", 1e3)
    c.subcircuit(sub)
    c.instance("X1", "pair", ["a", "0"])
    c.op()
    for dialect in NETLIST_DIALECTS:
        c.to_netlist(dialect)
    edit(c)
    with pytest.raises(NetlistError):
        c.to_netlist("ngspice")
