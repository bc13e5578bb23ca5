"""Xyce back end: runs only where an Xyce executable is on PATH (or $NEUROSPICE_XYCE)."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.errors import SimulationFailed
from neurospice.simulators import get_simulator

XYCE = get_simulator("xyce")
pytestmark = [pytest.mark.xyce, pytest.mark.skipif(
    not XYCE.is_available(),
    reason="Xyce not found: build Xyce from Sandia's sources and put `Xyce` on PATH, "
           "or set NEUROSPICE_XYCE")]

R, C = 1e3, 1e-6


def test_version():
    assert XYCE.version()


def test_rc_step_matches_exponential():
    deck = f"""rc step
V1 in 0 PULSE(0 1 0 1e-9 1e-9 1 2)
R1 in out {R!r}
C1 out 0 {C!r}
.tran 2e-6 4e-3 0 2e-6
.end
"""
    tran = XYCE.run(deck).tran
    t, v = tran.axis, tran.v("out")
    np.testing.assert_allclose(v, 1 - np.exp(-t / (R * C)), rtol=1e-3, atol=1e-6)
    assert "i(v1)" in tran.names


def test_ac_is_complex_and_named_like_the_others():
    deck = f"""rc ac
V1 in 0 DC 0 AC 1
R1 in out {R!r}
C1 out 0 {C!r}
.ac dec 10 1 1e5
.end
"""
    ac = XYCE.run(deck).ac
    f = ac.axis
    np.testing.assert_allclose(ac.v("out"), 1 / (1 + 2j * np.pi * f * R * C), rtol=1e-6)


def test_syntax_error_is_typed():
    with pytest.raises(SimulationFailed):
        XYCE.run("bad\nV1 in 0 1\nR1 in out\n.tran 1u 1m\n.end\n")
