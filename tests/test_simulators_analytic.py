"""Simulators against closed-form answers: RC step, RLC resonance, diode law.

The same circuit is written by hand for each dialect; every available simulator must agree with
the analytic result.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param

R, C = 1e3, 1e-6
TAU = R * C
L_RLC, C_RLC, R_RLC = 1e-3, 1e-6, 10.0
F0 = 1 / (2 * math.pi * math.sqrt(L_RLC * C_RLC))  # 5032.9 Hz
VT = 1.380649e-23 * 300.15 / 1.602176634e-19  # thermal voltage at 27 degC
IS = 1e-14


SPICE_SIMS = [simulator_param("ngspice"), simulator_param("ngspice-shared")]
ALL_SIMS = SPICE_SIMS + [simulator_param("vacask")]

RC_SPICE = f"""rc step response
V1 in 0 PULSE(0 1 0 1e-9 1e-9 1 2)
R1 in out {R!r}
C1 out 0 {C!r}
.tran 2e-6 4e-3 0 2e-6
.end
"""

RC_VACASK = f"""rc step response
load "resistor.osdi"
load "capacitor.osdi"
model r resistor
model c capacitor
model vsource vsource
v1 (in 0) vsource type="pulse" val0=0 val1=1 rise=1e-9 fall=1e-9 width=1 period=2
r1 (in out) r r={R!r}
c1 (out 0) c c={C!r}
control
  analysis tran1 tran step=2e-6 stop=4e-3 maxstep=2e-6
endc
"""

RLC_SPICE = f"""series rlc
V1 in 0 DC 0 AC 1
R1 in a {R_RLC!r}
L1 a b {L_RLC!r}
C1 b 0 {C_RLC!r}
.ac lin 2001 4000 6000
.end
"""

RLC_VACASK = f"""series rlc
load "resistor.osdi"
load "capacitor.osdi"
load "inductor.osdi"
model r resistor
model c capacitor
model l inductor
model vsource vsource
v1 (in 0) vsource dc=0 mag=1
r1 (in a) r r={R_RLC!r}
l1 (a b) l l={L_RLC!r}
c1 (b 0) c c={C_RLC!r}
control
  analysis ac1 ac from=4000 to=6000 mode="lin" points=2001
endc
"""

DIODE_SPICE = f"""diode dc sweep
V1 a 0 0
D1 a 0 dmod
.model dmod D(IS={IS!r} N=1 RS=0)
.dc V1 0.4 0.7 0.01
.end
"""

# VACASK: mode="lin" points=N gives N intervals, N + 1 points
DIODE_VACASK = f"""diode dc sweep
load "diode.osdi"
model vsource vsource
model dmod diode is={IS!r} n=1
v1 (a 0) vsource dc=0
d1 (a 0) dmod
control
  sweep vsw instance="v1" parameter="dc" from=0.4 to=0.7 mode="lin" points=30
    analysis dc1 op
endc
"""


def _deck(name, spice, vacask):
    return vacask if name == "vacask" else spice


@pytest.mark.parametrize("name", ALL_SIMS)
def test_rc_step_matches_exponential(name):
    res = get_simulator(name).run(_deck(name, RC_SPICE, RC_VACASK))
    tran = res.tran
    assert tran.kind == "tran" and tran.axis_name == "time"
    t, v = tran.axis, tran.v("out")
    assert t[0] == 0 and t[-1] == pytest.approx(4e-3)
    assert len(t) > 1000
    expected = 1 - np.exp(-t / TAU)
    # 1 V swing: atol 1 uV is far below anything visible, rtol 1e-3 per the spec
    np.testing.assert_allclose(v, expected, rtol=1e-3, atol=1e-6)
    # capacitor current = source current (SPICE sign: into the source's + terminal)
    i_src = tran.i("v1")
    late = t > 1e-4
    np.testing.assert_allclose(-i_src[late], np.exp(-t[late] / TAU) / R, rtol=1e-3, atol=1e-9)
    assert tran.units["v(out)"] == "V" and tran.units["i(v1)"] == "A"
    assert tran.units["time"] == "s"
    assert res.simulator == name and "v1" in res.netlist.lower()


@pytest.mark.parametrize("name", ALL_SIMS)
def test_rlc_resonance_peak(name):
    ac = get_simulator(name).run(_deck(name, RLC_SPICE, RLC_VACASK)).ac
    assert ac.axis_name == "frequency" and ac.units["frequency"] == "Hz"
    current = ac.i("v1")
    assert np.iscomplexobj(current) and not np.iscomplexobj(ac.axis)
    f_peak = ac.axis[np.argmax(np.abs(current))]
    assert f_peak == pytest.approx(F0, rel=5e-3)
    # at resonance the loop is purely resistive: |I| = 1 V / R
    assert np.max(np.abs(current)) == pytest.approx(1 / R_RLC, rel=1e-3)


@pytest.mark.parametrize("name", ALL_SIMS)
def test_diode_current_rises_exponentially(name):
    dc = get_simulator(name).run(_deck(name, DIODE_SPICE, DIODE_VACASK)).dc
    assert dc.axis_name == "sweep" and dc.units["sweep"] == "V"
    v = dc.axis
    np.testing.assert_allclose(v, np.linspace(0.4, 0.7, 31), rtol=0, atol=1e-9)
    current = -dc.i("v1")
    assert np.all(np.diff(current) > 0)
    # 60 mV more bias: current up by exp(0.06 / Vt), about 10.2x
    i60 = np.interp(0.60, v, current)
    i66 = np.interp(0.66, v, current)
    assert i66 / i60 == pytest.approx(math.exp(0.06 / VT), rel=2e-3)
    # and the absolute law holds, with a tolerance on the nanoamp scale, not the default 1e-8
    np.testing.assert_allclose(current, IS * np.expm1(v / VT), rtol=2e-3, atol=1e-12)


@pytest.mark.parametrize("name", ALL_SIMS)
def test_op_and_controlled_source_names(name):
    spice = """op with a subcircuit
V1 a 0 DC 1
R1 a b 1000
X1 b 0 half
.subckt half p n
R1 p m 1000
R2 m n 1000
.ends
.op
.end
"""
    vacask = """op with a subcircuit
load "resistor.osdi"
model r resistor
model vsource vsource
subckt half(p n)
  r1 (p m) r r=1000
  r2 (m n) r r=1000
ends
v1 (a 0) vsource dc=1
r1 (a b) r r=1000
x1 (b 0) half
control
  analysis op1 op
endc
"""
    op = get_simulator(name).run(_deck(name, spice, vacask)).op
    assert op.kind == "op" and op.axis is None and op.axis_name is None
    assert op.scalar("v(b)") == pytest.approx(2 / 3, rel=1e-9)
    assert op.v("x1.m")[0] == pytest.approx(1 / 3, rel=1e-9)
    assert op.i("v1")[0] == pytest.approx(-1 / 3000, rel=1e-9)
    assert set(op.names) >= {"v(a)", "v(b)", "v(x1.m)", "i(v1)"}
