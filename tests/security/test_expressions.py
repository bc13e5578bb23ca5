"""Attack: expression bombs, deep nesting, odd numbers and analysis sizes are typed errors,
found fast, never a RecursionError, an OverflowError or a netlist of megabytes."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neurospice.errors import NetlistError
from neurospice.netlists import Circuit, Expression, Pulse, Pwl, Sine
from neurospice.netlists.circuit import MAX_SWEEP_POINTS, MAX_TRAN_POINTS
from neurospice.netlists.expr import MAX_EXPRESSION_DEPTH, MAX_RENDERED_LENGTH

DIALECTS = ("ngspice", "xyce", "verilog-a", "numpy")


def nested(fn: str, depth: int, inner: str = "v(a)") -> str:
    for _ in range(depth):
        inner = f"{fn}({inner})"
    return inner


@pytest.mark.parametrize("dialect", DIALECTS)
def test_nested_softplus_is_refused_fast(dialect):
    """Depth 20 once rendered to 43 MB; now the rendering stops at the cap."""
    expr = Expression(nested("softplus", 20))  # parses: the tree is small
    t0 = time.perf_counter()
    with pytest.raises(NetlistError, match="renders to more than"):
        expr.render(dialect)
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_moderate_nesting_still_renders(dialect):
    text = Expression(nested("softplus", 6)).render(dialect)
    assert 0 < len(text) <= MAX_RENDERED_LENGTH
    assert len(Expression(nested("sigmoid", 60)).render(dialect)) <= MAX_RENDERED_LENGTH


def test_a_bomb_in_a_circuit_is_refused_at_render():
    c = Circuit("bomb")
    c.vsource("V1", "a", "0", dc=1.0)
    c.bsource("B1", "a", "0", i=nested("softplus", 20))
    c.op()
    for dialect in ("ngspice", "xyce", "vacask"):
        with pytest.raises(NetlistError):
            c.to_netlist(dialect)


@pytest.mark.parametrize("text", [
    "-" * 100_000 + "1",                       # unary chain
    "+".join(["v(a)"] * 50_000),               # left-deep sum
    "(" * 1000 + "1" + ")" * 1000,             # parentheses
    nested("exp", MAX_EXPRESSION_DEPTH + 5),   # calls
    "1" * 200_000,                             # longer than the text cap
])
def test_deep_or_huge_expressions_are_netlist_errors(text):
    with pytest.raises(NetlistError):
        Expression(text)


@pytest.mark.parametrize("text", ["1_0", "0x10", "0o7", "0b1", "1e999", "1" * 400 + ".0e400",
                                  "10" + "0" * 400, "1j", "True", "'a'", "ｒ", "a\u00a0+b"])
def test_numbers_follow_a_strict_grammar(text):
    with pytest.raises(NetlistError):
        Expression(text)


def test_plain_decimals_are_read():
    assert Expression("1.5e-3 * .5 + 3. - 2E+2").render("ngspice") == \
        "(((0.0015 * 0.5) + 3.0) - 200.0)"


def rc() -> Circuit:
    c = Circuit("rc")
    c.vsource("V1", "in", "0", dc=1.0, ac=1.0)
    c.resistor("R1", "in", "out", 1e3)
    c.capacitor("C1", "out", "0", 1e-9)
    return c


@pytest.mark.parametrize("points", [2 ** 31, 10 ** 400, MAX_SWEEP_POINTS + 1, 0, -1, True,
                                    10.0, 10.5, float("nan"), float("inf"), "10", None])
def test_ac_points_are_bounded_integers(points):
    with pytest.raises(NetlistError, match="points"):
        rc().ac(1.0, 1e6, points=points)


def test_ac_total_points_are_bounded():
    with pytest.raises(NetlistError, match="points"):
        rc().ac(1e-300, 1e300, points=10_000)           # 6e6 points over 600 decades
    with pytest.raises(NetlistError):
        rc().ac(1e-308, 1e308, points=10)                # the ratio overflows
    a = rc().ac(1.0, 1e6, points=np.int64(10))           # a numpy integer is an integer
    assert a.points == 10 and type(a.points) is int
    with pytest.raises(NetlistError, match="points"):
        rc().noise("out", "V1", 1.0, 1e6, points=2 ** 31)


def test_dc_and_tran_sizes_are_bounded():
    with pytest.raises(NetlistError, match="at most"):
        rc().dc("V1", 0.0, 1.0, 1e-9)
    with pytest.raises(NetlistError):
        rc().dc("V1", -1e308, 1e308, 1.0)                # stop - start overflows
    with pytest.raises(NetlistError, match="at most"):
        rc().tran(1e-15, 1.0)
    assert rc().tran(1.0 / MAX_TRAN_POINTS, 1.0).stop == 1.0
    with pytest.raises(NetlistError, match="independent source"):
        rc().dc("nosuch", 0.0, 1.0, 0.1)                 # not a KeyError
    with pytest.raises(NetlistError):
        rc().dc(None, 0.0, 1.0, 0.1)
    with pytest.raises(NetlistError, match="independent source"):
        rc().noise("out", "R1", 1.0, 1e6)
    # a step under the value's resolution never moves it: ngspice would sweep until killed
    with pytest.raises(NetlistError, match="does not move the value") as err:
        rc().dc("V1", 1.0, 1.0, 1e-30)
    assert err.value.element == "V1"
    assert rc().dc("V1", 0.0, 0.3, 0.1).stop == 0.3      # 4 points as ngspice steps them


def test_a_node_a_simulator_crashes_on_is_refused():
    """ngspice 46 ends with a segmentation fault on a deck where an element meets a node
    called ``temper`` (its word for the temperature): refused when the node is named."""
    with pytest.raises(NetlistError, match="temper.*crashes"):
        rc().resistor("R9", "TEMPER", "0", 1.0)


BAD_NUMBERS = [float("nan"), float("inf"), -float("inf"), 10 ** 400, "1u", True]


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_bad_numbers_anywhere_are_netlist_errors(bad):
    attempts = [
        lambda c: c.resistor("R9", "a", "0", bad),
        lambda c: c.vsource("V9", "a", "0", dc=bad),
        lambda c: c.vsource("V9", "a", "0", ac=bad),
        lambda c: c.vsource("V9", "a", "0", waveform=Pulse(0.0, bad)),
        lambda c: c.vsource("V9", "a", "0", waveform=Sine(0.0, 1.0, bad)),
        lambda c: c.vsource("V9", "a", "0", waveform=Pwl([0.0, 1.0], [0.0, bad])),
        lambda c: c.ic("out", bad),
        lambda c: c.option("reltol", bad),
        lambda c: c.option("threads", bad),
        lambda c: c.param("k", bad),
        lambda c: c.tran(bad, 1.0),
        lambda c: c.ac(bad, 1e3),
        lambda c: c.dc("V1", 0.0, bad, 0.1),
        lambda c: c.model("d1", "d", IS=bad),
    ]
    for attempt in attempts:
        with pytest.raises(NetlistError):
            attempt(rc())


def test_pwl_is_checked_point_by_point_and_written_as_floats():
    with pytest.raises(NetlistError, match=r"values\[1\]"):
        Pwl([0.0, 1.0], [0.0, "1"]).validate("V1")
    with pytest.raises(NetlistError):
        Pwl("01", [0.0, 1.0]).validate("V1")
    c = rc()
    c.vsource("V2", "b", "0", waveform=Pwl(np.array([0, 1]), [np.float32(0.5), 2]))
    assert "pwl(\n+ 0.0 0.5 1.0 2.0\n+ )" in c.to_netlist("ngspice")
