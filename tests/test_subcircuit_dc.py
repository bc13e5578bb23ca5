"""The behavioral subcircuit has the Verilog-A card's DC semantics: a programmed state stays
programmed in ``.op`` and in a ``.dc`` sweep (ngspice sets a B-source's ``time`` to the last
sweep value in ``.dc``; the subcircuit reads its analysis from node ``dc_det`` instead)."""

import numpy as np
import pytest

from neurospice.compact_models.devices import get_device
from neurospice.netlists import Circuit
from neurospice.simulators import get_simulator


def _mtj_sweep(simulator, rendering):
    sim = get_simulator(simulator)
    if not sim.is_available():
        pytest.skip(f"{simulator} not installed")
    c = Circuit("AP-programmed MTJ, DC sweep")
    c.vsource("V1", "a", "0", dc=0.0)
    get_device("mtj").add_to(c, "X1", ["a", "0", "0"], rendering=rendering,
                             params={"m0": -1.0})
    c.dc("V1", 0.0, 0.3, 0.05)
    res = sim.run(c, timeout=120).dc
    return np.asarray(res.axis), -np.asarray(res["i(v1)"])


@pytest.mark.parametrize("simulator", ["ngspice", "vacask"])
def test_programmed_state_holds_in_a_dc_sweep(simulator):
    """AP (m0 = -1) swept to 0.3 V: the subcircuit's current is the OSDI card's (AP branch,
    about 40 uA at 0.3 V; the P branch would carry about 100 uA)."""
    v_sub, i_sub = _mtj_sweep(simulator, "subckt")
    v_va, i_va = _mtj_sweep(simulator, "osdi")
    np.testing.assert_allclose(v_sub, v_va)
    np.testing.assert_allclose(i_sub, i_va, rtol=1e-6, atol=1e-12)
    # the AP conductance at small bias: 0.5/rp (1 - 1 + 2/(1 + tmr0)) = 1/(rp (1 + tmr0))
    p = get_device("mtj").params()
    small = v_va == 0.05
    g_ap = 1.0 / (p["rp"] * (1.0 + p["tmr0"] / (1.0 + 0.05**2 / p["vh"] ** 2)))
    np.testing.assert_allclose(i_sub[small] / 0.05, g_ap, rtol=1e-6)
