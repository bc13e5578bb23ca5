"""Golden files: the rendered netlists of reference circuits, per dialect.

A change in the writers shows up here as a diff. Regenerate on purpose only:
``make golden`` (sets NEUROSPICE_REGEN_GOLDEN=1), then review ``git diff tests/golden``.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from neurospice.netlists import DIALECTS, Circuit, Pulse, Pwl, Sine, Subcircuit

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("NEUROSPICE_REGEN_GOLDEN") == "1"


def everything():
    """One circuit that uses every kind of element and option (one analysis, for Xyce)."""
    c = Circuit("golden: every element")
    c.param("rload", 2e3)
    c.param("gain2", "2*rload/1e3")
    c.model("dmod", "d", n=1.05, rs=10.0)
    s = c.subcircuit(Subcircuit("div", ["top", "mid"], ratio=0.25))
    s.resistor("a", "top", "mid", "1e3*(1-ratio)")
    s.resistor("b", "mid", 0, "1e3*ratio")
    c.vsource("p", "a", 0, ac=1.0, waveform=Pulse(0.0, 1.0, 1e-6, 1e-8, 2e-8, 5e-6, 1e-5))
    c.vsource("s", "s", 0, waveform=Sine(0.1, 0.5, 1e5, damping=10.0))
    c.isource("w", 0, "w", waveform=Pwl([0.0, 1e-6, 2e-6, 1e-5], [0.0, 1e-3, 1e-3, 0.0]))
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-9)
    c.inductor("1", "b", "c", 1e-6)
    c.resistor("load", "c", 0, "rload")
    c.resistor("s", "s", 0, 50.0)
    c.resistor("w", "w", 0, 1e3)
    c.vcvs("1", "e", 0, "b", 0, "gain2")
    c.resistor("e", "e", 0, 1e3)
    c.vccs("1", 0, "g", "b", 0, 1e-3)
    c.resistor("g", "g", 0, 1e3)
    c.vsource("sense", "c", "c2", 0.0)
    c.resistor("c2", "c2", 0, 1.0)
    c.cccs("1", 0, "f", "vsense", 2.0)
    c.resistor("f", "f", 0, 1e3)
    c.ccvs("1", "h", 0, "vsense", 1e3)
    c.resistor("h", "h", 0, 1e3)
    c.bsource("q", "q", 0, i="1e-3*tanh(v(a, b)/0.1) + v(s)**2/rload")
    c.resistor("q", "q", 0, 1e3)
    c.bsource("u", "u", 0, v="0.5*exp(-time/1e-6)")
    c.resistor("u", "u", 0, 1e3)
    c.diode("1", "a", "dn", "dmod")
    c.resistor("dn", "dn", 0, 1e4)
    c.instance("1", "div", ["a", "m"], ratio=0.5)
    c.ic("b", 0.0)
    c.option("temp", 30.0)
    c.option("reltol", 1e-4)
    c.option("method", "gear")
    c.tran(1e-8, 2e-5, max_step=1e-8)
    return c


def analyses():
    """A small RC with every analysis (ngspice and VACASK only: Xyce runs one per netlist)."""
    c = Circuit("golden: analyses")
    c.vsource("in", "a", 0, 0.5, ac=1.0)
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-6)
    c.op()
    c.dc("vin", 0.0, 1.0, 0.25)
    c.ac(1.0, 1e6, points=5)
    c.tran(1e-5, 1e-3, start=1e-4, uic=True)
    c.noise("b", "vin", 1.0, 1e3, points=3)
    return c


CASES = [("everything", everything, d) for d in ("ngspice", "xyce", "vacask")] + \
        [("analyses", analyses, d) for d in ("ngspice", "vacask")]


@pytest.mark.parametrize("name,build,dialect", CASES, ids=[f"{n}-{d}" for n, _, d in CASES])
def test_golden(name, build, dialect):
    path = GOLDEN / f"{name}.{dialect}{DIALECTS[dialect].suffix}"
    text = build().to_netlist(dialect)
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}: run `make golden`"
    assert text == path.read_text(), f"{path.name} drifted: review, then `make golden`"
