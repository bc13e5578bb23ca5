"""``Simulator.run_many``: independent runs in parallel, results in input order, a generator
drawn from lazily, the first failure raised with the run named, in-process ngspice serialised.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.errors import SimulationFailed
from neurospice.netlists import Circuit, Pulse
from neurospice.simulators import get_simulator
from neurospice.simulators.testing import simulator_param

SIMS = [simulator_param("ngspice"), simulator_param("ngspice-shared"),
        simulator_param("vacask")]


def _rc(r: float) -> Circuit:
    c = Circuit(f"rc {r:g}")
    c.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
    c.resistor("1", "a", "b", r)
    c.capacitor("1", "b", 0, 1e-9)
    c.tran(1e-7, 2e-5)
    return c


R = [1e3, 2e3, 3e3, 5e3, 8e3]


@pytest.mark.parametrize("name", SIMS)
def test_results_in_input_order_and_equal_to_single_runs(name):
    sim = get_simulator(name)
    seen = []
    many = sim.run_many([_rc(r) for r in R], workers=2,
                        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, len(R)) for k in range(1, len(R) + 1)]
    for r, res in zip(R, many):
        one = sim.run(_rc(r)).tran
        got = res.tran
        np.testing.assert_array_equal(got.axis, one.axis)
        np.testing.assert_array_equal(got["v(b)"], one["v(b)"])
        # and it is that circuit's answer: v(b) at t = RC is 1 - 1/e of the step
        tau = r * 1e-9
        assert np.interp(tau + 1e-7, got.axis, got["v(b)"]) == pytest.approx(
            1 - np.exp(-1), abs=0.02)


def test_a_generator_is_drawn_from_as_workers_free_up():
    drawn = []

    def circuits():
        for r in R:
            drawn.append(r)
            yield _rc(r)

    ahead = []
    out = get_simulator("ngspice").run_many(
        circuits(), workers=2, progress=lambda done, total: ahead.append(len(drawn) - done))
    assert len(out) == len(R)
    assert max(ahead) <= 2          # never more than the workers' runs built ahead
    assert ahead[-1] == 0


def test_first_failure_is_raised_once_with_the_run_named():
    bad = "broken\nV1 in 0 1\nR1 in out\n.op\n.end\n"
    decks = [_rc(1e3), _rc(2e3), bad, _rc(3e3)]
    with pytest.raises(SimulationFailed) as info:
        get_simulator("ngspice").run_many(decks, workers=1)
    assert "in run 3 of 4 (ngspice)" in info.value.__notes__
    assert info.value.netlist_line == 3
    with pytest.raises(ValueError, match="workers"):
        get_simulator("ngspice").run_many([_rc(1e3)], workers=0)
    assert get_simulator("ngspice").run_many([]) == []
