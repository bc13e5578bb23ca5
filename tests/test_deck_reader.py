"""The SPICE deck reader (neurospice.netlists.reader): numbers, cards, includes under the trust
rules, typed errors naming the line, measurements, and the round trip of what neurospice
writes."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from neurospice.errors import NetlistError, UntrustedDeck
from neurospice.netlists.circuit import (
    Circuit, Exp, MeasureEvent, MutualInductance, Pulse, Pwl, Sine)
from neurospice.netlists.writers import saved_vectors
from neurospice.netlists.reader import (
    absolute_includes, parse_number, read_deck, read_deck_file, read_measures)


@pytest.mark.parametrize("text, value", [
    ("1k", 1e3), ("10u", 10e-6), ("1meg", 1e6), ("1MEG", 1e6), ("2.5n", 2.5e-9),
    ("10pF", 10e-12), ("1mil", 25.4e-6), ("3", 3.0), ("-1.5e-3", -1.5e-3), (".5m", 0.5e-3),
    ("2A", 2e-18), ("1F", 1e-15), ("4.7kohm", 4700.0), ("1g", 1e9), ("5V", 5.0)])
def test_numbers_scale_suffixes(text, value):
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["1_0", "0x10", "1k5", "inf", "nan", "", "k", "1e999"])
def test_bad_numbers_are_netlist_errors(text):
    with pytest.raises(NetlistError):
        parse_number(text)


def test_cards_into_circuit():
    c = read_deck("""demo deck
* comment
.param r0=1k
V1 in 0 DC 1 AC 1 0 PULSE(0 1 1u 1n 1n 5u 20u)
V2 a 0 SIN(0 1 1meg) ; end comment
V3 b 0 PWL(0 0 1u 1
+ 2u 0)
R1 in out {2*r0}
C1 out 0 10p $ load
E1 e 0 out 0 2
F1 f 0 V2 3
R2 f 0 1
B1 g 0 I=v(out)^2
R3 g 0 1
D1 out 0 dm
.model dm d (is=1e-14 n=1.5)
.ic v(out)=0.5
.nodeset v(e)=1
.options reltol=1e-4 noacct
.tran 1n 10u
.ac dec 10 1 1g
.end
""")
    assert c.title == "demo deck"
    assert c["r1"].value.text == "2*r0" or "r0" in c["r1"].value.text
    assert c["c1"].value == pytest.approx(10e-12)
    assert isinstance(c["v1"].waveform, Pulse) and c["v1"].ac == 1.0
    assert isinstance(c["v2"].waveform, Sine) and c["v2"].waveform.freq_hz == 1e6
    assert isinstance(c["v3"].waveform, Pwl) and c["v3"].waveform.times == (0.0, 1e-6, 2e-6)
    assert c["b1"].kind == "i" and "**" in c["b1"].expression.text
    assert c.models["dm"].params == {"is": 1e-14, "n": 1.5}
    assert c.initial_conditions == {"out": 0.5} and c.nodesets == {"e": 1.0}
    assert c.options == {"reltol": 1e-4}
    assert [a.kind for a in c.analyses] == ["tran", "ac"]


def test_pulse_defaults_from_tran():
    c = read_deck("t\nV1 a 0 PULSE(0 1)\nR1 a 0 1\n.tran 2n 1u\n.end\n")
    w = c["v1"].waveform
    assert (w.rise, w.fall, w.width, w.period) == (2e-9, 2e-9, 1e-6, None)


def test_exp_source_and_defaults_from_tran():
    c = read_deck("t\nV1 a 0 EXP(0 2 1u 0.5u 6u 1.5u)\nI1 0 b exp(0 1m)\nR1 a 0 1\n"
                  "R2 b 0 1\n.tran 2n 1u\n.end\n")
    assert c["v1"].waveform == Exp(0.0, 2.0, 1e-6, 0.5e-6, 6e-6, 1.5e-6)
    assert c["i1"].waveform == Exp(0.0, 1e-3, 0.0, 2e-9, 2e-9, 2e-9)
    assert "type=\"exp\"" in c.to_netlist("vacask") and "td2=5e-06" in c.to_netlist("vacask")
    with pytest.raises(NetlistError, match="line 2.*EXP leaves"):
        read_deck("t\nV1 a 0 EXP(0 1)\nR1 a 0 1\n.op\n.end\n")
    with pytest.raises(NetlistError, match="delay2 must come after delay1"):
        read_deck("t\nV1 a 0 EXP(0 1 2u 1u 1u 1u)\nR1 a 0 1\n.op\n.end\n")


def test_transistors():
    c = read_deck("t\n.model nm nmos level=3 vto=0.7\n.model qp pnp (bf=80)\n"
                  "M1 d g 0 0 nm W=2u l=1u\nQ1 c b e qp 2\nQ2 c b e s qp area=3\n"
                  "Vd d 0 1\nVg g 0 1\nVc c 0 -1\nVb b 0 -0.6\nRe e 0 1k\nRs s 0 1\n.op\n.end\n")
    m, q1, q2 = c["m1"], c["q1"], c["q2"]
    assert (m.nodes, m.model, m.params) == (("d", "g", "0", "0"), "nm", {"w": 2e-6, "l": 1e-6})
    assert (q1.nodes, q1.params) == (("c", "b", "e"), {"area": 2.0})
    assert (q2.nodes, q2.params) == (("c", "b", "e", "s"), {"area": 3.0})
    vacask = c.to_netlist("vacask")
    assert "model nm sp_mos3 type=1" in vacask and "model qp sp_bjt type=-1" in vacask
    assert 'load "spice/mos3.osdi"' in vacask and "level" not in vacask
    assert read_deck(c.to_netlist("ngspice")).to_netlist("vacask") == vacask
    bsim = read_deck("t\n.model nm nmos level=49\nM1 d g 0 0 nm\nVd d 0 1\nVg g 0 1\n.op\n")
    assert "level=49" in bsim.to_netlist("ngspice")
    with pytest.raises(NetlistError, match="'nm'.*level 49 cannot be translated for VACASK"):
        bsim.to_netlist("vacask")
    with pytest.raises(NetlistError, match="unknown nmos/pmos model 'qp'"):
        read_deck("t\n.model qp pnp\nM1 d g 0 0 qp\nVd d 0 1\n.op\n").to_netlist("ngspice")
    with pytest.raises(NetlistError, match="line 2: M1 needs drain gate source bulk"):
        read_deck("t\nM1 d g 0 nm\n.op\n")


def test_mutual_inductance():
    c = read_deck("t\nK1 lp Ls 0.5\nV1 a 0 1\nLp a 0 1u\nLs b 0 4u\nR1 b 0 1\n.op\n.end\n")
    k = c["k1"]
    assert isinstance(k, MutualInductance) and (k.l1, k.l2, k.k) == ("lp", "Ls", 0.5)
    assert "K1 Lp Ls 0.5" in c.to_netlist("ngspice")       # as the inductors are declared
    assert 'K1 () mutual ind1="Lp" ind2="Ls" k=0.5' in c.to_netlist("vacask")
    assert read_deck(c.to_netlist("ngspice")).to_netlist("vacask") == c.to_netlist("vacask")
    for deck, match in (("K1 Lp R1 0.5", "'R1' is not an inductor"),
                        ("K1 Lp Ls 1.5", "outside 0 < |k| <= 1"),
                        ("K1 Lp Lp 0.5", "itself"), ("K1 Lp Ls", "two inductors")):
        with pytest.raises(NetlistError, match=match):
            read_deck(f"t\nV1 a 0 1\nLp a 0 1u\nLs b 0 4u\nR1 b 0 1\n{deck}\n.op\n.end\n"
                      ).to_netlist("ngspice")


@pytest.mark.parametrize("line, construct", [
    ("J1 d g s jmod", "JFET"), ("M1 d g s b nmos off", "OFF"), ("Q1 c b e qn ic=0.6", "ic="),
    ("S1 a 0 c 0 sw", "switch"), (".func f(x) {x}", ".func"),
    ("E1 a 0 POLY(1) b 0 0 1", "POLY"), (".options itl1=100", "itl1"),
    ("V1 a 0 SFFM(0 1 1k 5 100)", "SFFM"), (".control", ".control")])
def test_untranslatable_constructs_name_the_line(line, construct):
    with pytest.raises(NetlistError) as info:
        read_deck(f"title\nR9 a 0 1\n{line}\n.op\n.end\n")
    assert "line 3" in str(info.value) and construct in str(info.value)


def test_include_relative_to_including_file(tmp_path):
    (tmp_path / "lib" / "sub").mkdir(parents=True)
    (tmp_path / "lib" / "sub" / "inner.lib").write_text(".model dm d is=1e-15\n")
    (tmp_path / "lib" / "outer.lib").write_text(".include sub/inner.lib\n"
                                                ".lib fast\n.param r=1\n.endl\n"
                                                ".lib slow\n.param r=2\n.endl\n")
    deck = tmp_path / "deck.cir"
    deck.write_text("t\n.include lib/outer.lib\n.lib lib/outer.lib slow\n"
                    "V1 a 0 1\nR1 a b {r}\nD1 b 0 dm\n.op\n.end\n")
    c = read_deck_file(deck)
    assert "dm" in c.models and c.params["r"] == 2.0
    assert read_deck(deck).params == c.params          # a Path reads the file


def test_include_outside_is_untrusted(tmp_path):
    outside = tmp_path / "outside.lib"
    outside.write_text(".model dm d\n")
    (tmp_path / "deck").mkdir()
    deck = tmp_path / "deck" / "d.cir"
    for ref in (str(outside), "../outside.lib", "~/x.lib"):
        deck.write_text(f"t\n.include {ref}\nR1 a 0 1\n.op\n.end\n")
        with pytest.raises(UntrustedDeck) as info:
            read_deck_file(deck)
        assert info.value.line == 2
    deck.write_text(f"t\n.include {outside}\nR1 a 0 1\n.op\n.end\n")
    assert read_deck_file(deck, allow=[tmp_path]).models
    assert read_deck_file(deck, trusted=True).models


def test_hostile_text_is_refused():
    with pytest.raises(NetlistError):
        read_deck("t\nR1 a 0 1\u2028.control\n.op\n")
    with pytest.raises(NetlistError):
        read_deck("t\nR1 a\x00 0 1\n.op\n")
    with pytest.raises(NetlistError):
        read_deck("t\nR1 a 0 {__import__('os')}\n.op\n")


def test_absolute_includes(tmp_path):
    text = ".include lib/a.lib\n.lib 'lib/c.lib' tt\n.lib tt\n.include /abs/b.lib\n" \
           ".inc ../up.lib\n"
    out = absolute_includes(text, tmp_path).split("\n")
    assert out[0] == f".include {tmp_path.resolve()}/lib/a.lib"
    assert out[1] == f""".lib "{tmp_path.resolve()}/lib/c.lib" tt"""
    assert out[2:5] == [".lib tt", ".include /abs/b.lib", ".inc ../up.lib"]


def test_measures():
    ms = read_measures("t\n.meas tran d TRIG v(a) VAL=0.5 RISE=2 TARG v(b) VAL=0.5 FALL=LAST\n"
                       ".meas ac g MAX vdb(out) FROM=1k TO=1meg\n"
                       ".meas tran x FIND v(a) WHEN v(b)=1 TD=1u CROSS=1\n"
                       ".control\nmeas tran y avg v(a)\n.endc\n.end\n")
    assert [m.name for m in ms] == ["d", "g", "x"]
    assert ms[0].trig == MeasureEvent("v(a)", 0.5, "rise", 2)
    assert ms[0].targ.number == "last" and ms[0].targ.edge == "fall"
    assert (ms[1].start, ms[1].stop) == (1e3, 1e6)
    assert ms[2].when.delay == 1e-6


# ---- round trip: what neurospice writes reads back equal ---------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"end", "ends", "endc", "endl", "ic", "lib", "model", "param", "temp",
                        "time", "save", "load", "include", "global", "ground", "gnd",
                        "sweep", "embed", "print", "alter", "func", "nodeset", "options",
                        "option", "control", "subckt", "analysis", "parameters",
                        "postprocess", "frequency", "gain", "onoise", "inoise"})
finite = st.floats(min_value=1e-15, max_value=1e12, allow_nan=False, allow_infinity=False)
signed = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def circuits(draw):
    c = Circuit(draw(st.from_regex(r"[A-Za-z][A-Za-z0-9 _.-]{0,30}", fullmatch=True)))
    nodes = draw(st.lists(names, min_size=2, max_size=5, unique=True)) + ["0"]
    node = st.sampled_from(nodes)
    if draw(st.booleans()):
        c.param("pa", draw(finite))
    c.vsource("V1", nodes[0], "0", draw(signed), ac=draw(st.none() | finite),
              waveform=draw(st.none() | st.builds(
                  Pulse, signed, signed, st.just(0.0), st.just(1e-9), st.just(1e-9),
                  st.just(1e-6), st.none() | st.just(1e-5)) | st.builds(
                  Sine, signed, signed, finite) | st.builds(
                  Exp, signed, signed, st.just(1e-9), finite, st.just(2e-6), finite)))
    for k in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from("RCLEGFHB"))
        a, b = draw(node), draw(node)
        name = f"{kind}{k}"
        if kind in "RCL":
            value = "2*pa" if "pa" in c.params and draw(st.booleans()) else draw(finite)
            getattr(c, {"R": "resistor", "C": "capacitor", "L": "inductor"}[kind])(
                name, a, b, value)
        elif kind in "EG":
            (c.vcvs if kind == "E" else c.vccs)(name, a, b, draw(node), draw(node),
                                                draw(signed))
        elif kind in "FH":
            (c.cccs if kind == "F" else c.ccvs)(name, a, b, "V1", draw(signed))
        else:
            c.bsource(name, a, b, v=f"v({nodes[0]}) * 2 + exp(-time)")
    if draw(st.booleans()):
        c.model("dm", "d", **{"is": draw(finite), "n": 1.5})
        c.diode("D1", nodes[0], nodes[1], "dm")
    if draw(st.booleans()):
        c.ic(nodes[0], draw(signed))
    if draw(st.booleans()):
        c.nodeset(nodes[1], draw(signed))
    if draw(st.booleans()):
        c.option("reltol", 1e-4)
    if draw(st.booleans()):
        c.save(*draw(st.lists(st.sampled_from([f"v({nodes[0]})", "i(v1)"]), min_size=1)))
    c.op()
    c.tran(1e-9, 1e-6, uic=draw(st.booleans()))
    c.dc("V1", 0.0, 1.0, 0.25)
    c.ac(1.0, 1e6, 5, draw(st.sampled_from(["dec", "oct", "lin"])))
    c.noise(nodes[0], "V1", 10.0, 1e5, 3)
    c.measure("m1", "tran", "avg", vector=f"v({nodes[0]})", start=1e-7, stop=5e-7)
    c.measure("m2", "tran", "trig_targ", trig=MeasureEvent(f"v({nodes[0]})", 0.5, "rise", 1),
              targ=MeasureEvent(at=5e-7))
    c.measure("m3", "dc", "find_when", vector="i(v1)",
              when=MeasureEvent(f"v({nodes[0]})", 0.5, "cross", "last", 1e-9))
    return c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(circuits())
def test_round_trip(c):
    text = c.to_netlist("ngspice")
    back = read_deck(text)
    for dialect in ("ngspice", "vacask"):
        assert back.to_netlist(dialect) == c.to_netlist(dialect)
    assert back.title == c.title
    assert [m for m in back.measures] == c.measures
    assert set(back.saves) == set(saved_vectors(c))


# ---- .save: the deck's saved vectors are kept -----------------------------------------------

SAVE_DECK = """saved vectors
V1 top 0 DC 1
X1 top fin chain
Rload fin 0 10k
L1 fin 0 1m
C1 top 0 1n
.subckt half in out
R1 in mid 1k
R2 mid out 1k
.ends half
.subckt chain in out
Xa in m half
Vsense m mm 0
Xb mm out half
.ends chain
{save}
.op
.end
"""


def test_save_cards_are_kept_and_rendered_per_dialect():
    c = read_deck(SAVE_DECK.format(save=".save v(x1.m) V(X1.XA.MID) fin\n"
                                        "+ @v1[i] i(x1.vsense), v.x1.vsense#branch i(l1)\n"
                                        "+ @rload[i] @r.x1.xa.r1[i] i(x1.xb.r2)"))
    assert c.saves == ["v(x1.m)", "v(x1.xa.mid)", "v(fin)", "i(v1)", "i(x1.vsense)", "i(l1)",
                       "i(rload)", "i(x1.xa.r1)", "i(x1.xb.r2)"]
    assert (".save v(x1.m) v(x1.xa.mid) v(fin) i(v1) i(v.x1.vsense) i(l1) @rload[i] "
            "@r.x1.xa.r1[i] @r.x1.xb.r2[i]\n") in c.to_netlist("ngspice")
    assert ('  save v("X1:m") v("X1:Xa:mid") v(fin) i(V1) i("X1:Vsense") i(L1) p(Rload, i) '
            'p("X1:Xa:R1", i) p("X1:Xb:R2", i)\n') in c.to_netlist("vacask")
    # written back by the ngspice writer and read again: the same list
    assert read_deck(c.to_netlist("ngspice")).saves == c.saves
    # all (or allv) keeps every vector: no list, whatever else the cards name
    assert read_deck(SAVE_DECK.format(save=".save all v(x1.m)")).saves == []
    assert read_deck(SAVE_DECK.format(save=".save allv")).saves == []


@pytest.mark.parametrize("save, words", [
    (".save @c1[i]", "current of C1 (Capacitor) cannot be saved"),
    (".save i(c1)", "current of C1"),
    (".save @r.x1.xa.r9[i]", "no element 'r9' in subcircuit half"),
    (".save @v1[dc]", "device quantity 'dc'"),
    (".save v(top,fin)", "save v(a) and v(b)"),
    (".save vdb(fin)", "only v(node) and i(source)"),
    (".save v(nowhere)", "no node 'nowhere' in the circuit"),
    (".save v(x1.nowhere)", "no node 'nowhere' in subcircuit chain"),
    (".save v(x9.m)", "'x9' is not a subcircuit instance"),
    (".save v(rload.m)", "'rload' is not a subcircuit instance"),
    (".save i(x1.r9)", "no element 'r9' in subcircuit chain"),
    (".save v(0)", "ground"),
    (".save", "names no vector"),
    (".save v(top", "cannot read .save target"),
    (".save all @c1[i]", "current of C1"),      # checked even when all is kept
])
def test_save_targets_that_cannot_be_kept_name_the_line(save, words):
    with pytest.raises(NetlistError) as info:
        read_deck(SAVE_DECK.format(save=save))
    assert str(info.value).startswith("line 16: ") and words in str(info.value)


def test_save_inside_a_subckt_names_the_line():
    with pytest.raises(NetlistError, match=r"line 3: \.save inside a \.subckt"):
        read_deck("t\n.subckt s a\n.save v(a)\nR1 a 0 1\n.ends\nX1 b s\nV1 b 0 1\n.op\n")


# ---- names inside v() and i() are names, whatever they are ---------------------------------

# (temper: refused, see test_a_node_called_temper_is_refused_naming_the_line)
KEYWORD_NODES = ["in", "if", "and", "not", "or", "is", "lambda", "none", "true", "for",
                 "class", "hertz", "exp", "pi", "e", "v", "i"]


@pytest.mark.parametrize("node", KEYWORD_NODES)
def test_keyword_node_names_in_expressions_render_for_every_dialect(node):
    c = read_deck(f"t\nV1 {node} 0 1\nR1 {node} 0 1k\nB1 o 0 V=v({node})*2+v(o,{node})\n"
                  "R2 o 0 1k\n.op\n.end\n")
    expr = c["b1"].expression
    assert expr.nodes == (node, "o")
    assert expr.render("ngspice") == f"((v({node}) * 2.0) + v(o, {node}))"
    assert expr.render("xyce") == f"((V({node}) * 2.0) + V(o, {node}))"
    assert expr.render("verilog-a", node_alias={node: "p0", "o": "p1"}) == \
        "((V(p0) * 2.0) + V(p1, p0))"
    for dialect in ("ngspice", "xyce", "vacask"):
        assert c.to_netlist(dialect)
    assert read_deck(c.to_netlist("ngspice")).to_netlist("vacask") == c.to_netlist("vacask")


def test_keyword_parameter_names_are_refused_once_naming_the_line():
    with pytest.raises(NetlistError) as info:
        read_deck("t\n.param if=1\nR1 a 0 {if}\nV1 a 0 1\n.op\n")
    text = str(info.value)
    assert text.startswith("line 3: 'if' in expression") and text.count("line 3") == 1


# ---- foreign spellings ------------------------------------------------------------------------

def test_byte_order_mark_crlf_and_continuations_after_comments():
    deck = ("\ufefftitle\r\nR1 a 0\r\n* a comment between\r\n\r\n+ 1k ; and one after\r\n"
            "V1 a 0 1\r\n.op\r\n")
    c = read_deck(deck)
    assert c.title == "title" and c["r1"].value == 1e3


def test_a_card_continued_over_many_lines_reads_whole():
    deck = "t\nV1 a 0 PWL(0 0\n" + "".join(f"+ {k}u {k % 2}\n" for k in range(1, 20001)) + \
        "+ )\nR1 a 0 1\n.tran 1u 1m\n"
    w = read_deck(deck)["v1"].waveform
    assert len(w.times) == 20001 and w.times[-1] == pytest.approx(20000e-6)


@pytest.mark.parametrize("deck, words", [
    ("t\n.subckt a p\nX1 p a\n.ends\nX1 n a\nV1 n 0 1\n.op\n", "line 3: subcircuit 'a' holds "
     "itself (a -> a)"),
    ("t\n.subckt a p\nX1 p b\n.ends\n.subckt b p\nR1 p 0 1\nX2 p a\n.ends\nX1 n a\n.op\n",
     "line 7: subcircuit 'a' holds itself (a -> b -> a)"),
    ("t\nX1 n nowhere\nV1 n 0 1\n.op\n", "line 2: subcircuit 'nowhere' is not defined"),
    ("t\n.param a={b}\n.param b={2*a}\nR1 x 0 {a}\nV1 x 0 1\n.op\n",
     "line 3: parameter 'a' depends on itself (a -> b -> a)"),
    ("t\n.param a={a+1}\nR1 x 0 {a}\nV1 x 0 1\n.op\n",
     "line 2: parameter 'a' depends on itself (a -> a)"),
    ("t\nV1 a 0 1\nR1 a 0 1\n.four 1k v(a)\n.tran 1u 1m\n", "line 4: .four cannot be"),
    ("t\nV1 a 0 1\nR1 a 0 1\n.dc V1 1 1 1e-30\n", "line 4: element 'V1': dc sweep from 1.0 to "
     "1.0 by 1e-30: ngspice would sweep more than"),
])
def test_decks_that_cannot_run_name_the_line(deck, words):
    with pytest.raises(NetlistError, match=re.escape(words)):
        read_deck(deck)


def test_output_only_cards_are_skipped():
    c = read_deck("t\nV1 a 0 1\nR1 a 0 1\n.print dc v(a)\n.plot dc v(a)\n.probe\n.width "
                  "out=80\n.dc V1 0 1 0.5\n")
    assert c.saves == [] and [a.kind for a in c.analyses] == ["dc"]


# ---- on the simulators ----------------------------------------------------------------------

def _simulator(name):
    from neurospice.simulators import get_simulator
    sim = get_simulator(name)
    if not sim.is_available():
        pytest.skip(f"{name} not found")
    return sim


@pytest.mark.parametrize("simulator", ["ngspice", "ngspice-shared", "vacask"])
def test_saved_vectors_are_the_results(simulator):
    """A read deck's .save list is what a run keeps, nodes, branch currents and resistor
    currents inside instances included: V1 = 1 V across two halves in series (4 kohm each)
    and 10 kohm || 1 mH (0 ohm at dc), so the chain carries 0.25 mA, the load none."""
    c = read_deck(SAVE_DECK.format(save=".save v(x1.m) v(x1.xa.mid) @v1[i] i(x1.vsense)\n"
                                        "+ @r.x1.xa.r1[i] @rload[i]"))
    op = _simulator(simulator).run(c).op
    assert sorted(op.names) == ["i(rload)", "i(v1)", "i(x1.vsense)", "i(x1.xa.r1)",
                                "v(x1.m)", "v(x1.xa.mid)"]
    assert op["v(x1.m)"][0] == pytest.approx(0.5, rel=1e-9)
    assert op["v(x1.xa.mid)"][0] == pytest.approx(0.75, rel=1e-9)
    assert op["i(x1.vsense)"][0] == pytest.approx(0.25e-3, rel=1e-9)
    assert op["i(x1.xa.r1)"][0] == pytest.approx(0.25e-3, rel=1e-9)
    assert op["i(v1)"][0] == pytest.approx(-0.25e-3, rel=1e-9)
    assert abs(op["i(rload)"][0]) < 1e-12


@pytest.mark.parametrize("simulator", ["ngspice", "vacask"])
def test_keyword_node_names_run(simulator):
    """Nodes named in, if, not, and, lambda and none, read through v() in a B source:
    v(o) = 2 v(in) + v(if) + v(lambda) + v(none) = 2 + 1001/2001 + 1/2001 + 0.5 on each
    simulator (a divider of 1 kohm, 1 kohm, 1 ohm; E1 copies v(and) = v(not); two 1 ohm)."""
    c = read_deck("t\nV1 in 0 1\nR1 in if 1k\nR2 if not 1k\nR3 not 0 1\nR9 not and 1\n"
                  "B1 o 0 V=2*v(in)+v(if)+v(lambda)+v(none)\nR0 o 0 1\nE1 lambda 0 and 0 1\n"
                  "R4 lambda 0 1\nR5 none 0 1\nR6 in none 1\n.op\n.end\n")
    op = _simulator(simulator).run(c).op
    assert op["v(o)"][0] == pytest.approx(2 + 1002 / 2001 + 0.5, rel=1e-9)


def test_a_node_called_temper_is_refused_naming_the_line():
    """ngspice 46 crashes (segmentation fault) on any deck where a resistor meets a node
    called ``temper``, with or without an expression (VACASK runs it): the reader refuses the
    name at the card that first uses it, before any simulator sees the deck."""
    with pytest.raises(NetlistError, match=r"line 2: .*'temper'.*crashes"):
        read_deck("t\nV1 temper 0 1\nR1 temper 0 1k\nB1 o 0 V=v(temper)*2\nR2 o 0 1k\n.op\n")


# dc sweeps whose stop lies a whole number of steps from start in decimal, and so within
# rounding of a point in binary (0 to 0.3 by 0.1), or half a step off
@st.composite
def dc_sweeps(draw):
    scale = 10.0 ** draw(st.integers(-6, 1))
    step = draw(st.integers(1, 9)) * scale * draw(st.sampled_from([1, -1]))
    start = draw(st.integers(-20, 20)) * scale
    stop = start + step * draw(st.integers(0, 40)) + step * draw(st.sampled_from([0, 0, 0.5]))
    return start, stop, step


@settings(max_examples=1000, deadline=None)
@given(dc_sweeps())
def test_dc_points_counts_as_ngspice_steps(sweep):
    from neurospice.netlists.writers import dc_points
    start, stop, step = sweep
    n = dc_points(start, stop, step)
    exact = (stop - start) / step
    assert n - 1 in (math.floor(exact), math.floor(exact) + 1)
    last = start
    for _ in range(n - 1):
        last += step
    assert (last - stop) * math.copysign(1, step) <= 2.3e-13        # within ngspice's slack
    assert (last + step - stop) * math.copysign(1, step) > 2.2e-13   # the next one is not


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dc_sweeps())
@example((0.0, 0.3, 0.1)).via("VACASK alone: 3 points")
@example((0.0, 0.7, 0.1)).via("VACASK alone: 7 points")
@example((1e-13, 0.0, -1e-13)).via("ngspice's absolute slack runs 2 points past stop")
def test_vacask_dc_sweep_has_ngspices_points(sweep):
    """The same .dc card gives the same number of points on ngspice and VACASK (VACASK
    alone counted floor((stop - start) / step) + 1: 0 to 0.3 by 0.1 was 3 points, ngspice's
    4), at the same values within rounding."""
    start, stop, step = sweep
    c = Circuit("sweep")
    c.vsource("1", "a", "0", 0.0)
    c.resistor("1", "a", "0", 1e3)
    c.dc("v1", start, stop, step)
    ng = _simulator("ngspice").run(c).dc
    va = _simulator("vacask").run(c).dc
    assert len(va["sweep"]) == len(ng["sweep"])
    np.testing.assert_allclose(va["sweep"], ng["sweep"], rtol=0,
                               atol=1e-9 * max(abs(start), abs(stop), abs(step)))
    np.testing.assert_allclose(va["v(a)"], ng["v(a)"], rtol=0,
                               atol=1e-9 * max(abs(start), abs(stop), abs(step)))


def test_a_quoted_include_path_may_hold_blanks(tmp_path):
    (tmp_path / "my models.lib").write_text(".param r=3k\n.lib tt\n.param c=2n\n.endl\n")
    deck = tmp_path / "d.cir"
    deck.write_text('t\n.include "my models.lib"\n.lib \'my models.lib\' TT\nR1 a 0 {r}\n'
                    "C1 a 0 {c}\nV1 a 0 1\n.op\n")
    assert read_deck_file(deck).params == {"r": 3e3, "c": 2e-9}


def test_a_saved_current_is_one_a_simulator_keeps():
    """Circuit.save of a resistor's current renders ngspice's @r1[i] and VACASK's
    p(r1, i); of a capacitor's, a NetlistError at render (ngspice dropped ``.save i(c1)``
    without a word, VACASK stopped on "Node 'c1:flow(br)' not found")."""
    c = Circuit("t")
    c.vsource("1", "a", "0", 1.0)
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", "0", 1e-9)
    c.op()
    c.save("i(r1)")
    assert ".save @r1[i]\n" in c.to_netlist("ngspice")
    assert "  save p(R1, i)\n" in c.to_netlist("vacask")
    c.save("i(c1)")
    for dialect in ("ngspice", "vacask"):
        with pytest.raises(NetlistError, match=r"current of C1 \(a Capacitor\) is kept by no"):
            c.to_netlist(dialect)


@pytest.mark.parametrize("simulator", ["ngspice", "vacask"])
def test_model_cards_in_foreign_spellings_run(simulator):
    """Upper-case model names used in lower case, commas between parameters, continuation
    lines inside the parentheses: the same diode (is=1e-14, n=1.5) on each simulator,
    1e-14 * (exp(0.6 / (1.5 * vt)) - 1) at 27 degC (VACASK wrote the instance's own
    spelling 'dm' for a model declared 'DM': "Master 'dm' not found")."""
    c = read_deck("t\n.MODEL DM D(IS=1E-14, N=1.5)\n.model dn d (is=1e-14,\n+ n=1.5\n+ )\n"
                  "D1 a 0 dm\nD2 a 0 DN\nV1 a 0 0.6\n.op\n.end\n")
    vt = 1.380649e-23 * 300.15 / 1.602176634e-19
    want = 2 * 1e-14 * math.expm1(0.6 / (1.5 * vt))
    assert -_simulator(simulator).run(c).op["i(v1)"][0] == pytest.approx(want, rel=1e-4)


_SCALES = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "mil": 25.4e-6,
           "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18}


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10 ** 6), st.integers(-4, 4), st.sampled_from(sorted(_SCALES)),
       st.sampled_from(["", "ohm", "Hz", "s", "V"]), st.booleans())
def test_scaled_numbers_are_written_as_plain_numbers(digits, exponent, scale, unit, upper):
    """A value with a scale suffix and a unit (``4.7kohm``, ``10MEGHz``, ``3mil``) reads as
    its SI value and every dialect writes it as a plain number: no unit letters."""
    mantissa = f"{digits}e{exponent}" if exponent else str(digits)
    suffix = scale.upper() if upper else scale
    token = mantissa + suffix + (unit if scale or not unit[:1].lower() in "tgkmunpfa" else "")
    want = float(mantissa) * _SCALES[scale]
    c = read_deck(f"t\nR1 a 0 {token}\nV1 a 0 1\n.op\n.end\n")
    assert c["r1"].value == pytest.approx(want, rel=1e-15)
    for dialect, pattern in (("ngspice", r"R1 a 0 (\S+)\n"), ("xyce", r"R1 a 0 (\S+)\n"),
                             ("vacask", r"R1 \(a 0\) resistor r=(\S+)\n")):
        written = re.search(pattern, c.to_netlist(dialect)).group(1)
        assert re.fullmatch(r"-?[0-9]+\.?[0-9]*(e[+-]?[0-9]+)?", written), (token, written)
        assert float(written) == c["r1"].value
