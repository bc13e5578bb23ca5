"""``Simulator.run_many``: independent runs in parallel, results in input order, a generator
drawn from lazily, failures reported as they happen with every finished run kept (or, with
fail_fast, the first raised with the run named), in-process ngspice serialised.
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


def test_a_failure_is_reported_at_once_and_the_finished_runs_kept():
    bad = "broken\nV1 in 0 1\nR1 in out\n.op\n.end\n"
    decks = [_rc(1e3), bad, _rc(2e3), _rc(3e3)]
    events = []
    out = get_simulator("ngspice").run_many(
        decks, workers=1, on_error=lambda k, exc: events.append(("error", k)),
        progress=lambda done, total: events.append(("done", done)))
    assert events[:3] == [("done", 1), ("error", 1), ("done", 2)]   # reported when it happened
    assert len(out) == 4 and isinstance(out[1], SimulationFailed)
    assert "in run 2 of 4 (ngspice)" in out[1].__notes__ and out[1].netlist_line == 3
    for r, res in zip([1e3, 2e3, 3e3], [out[0], out[2], out[3]]):
        tau = r * 1e-9
        assert np.interp(tau + 1e-7, res.tran.axis, res.tran["v(b)"]) == pytest.approx(
            1 - np.exp(-1), abs=0.02)


def test_without_a_callback_a_failure_is_one_stderr_line(capfd):
    bad = "broken\nV1 in 0 1\nR1 in out\n.op\n.end\n"
    out = get_simulator("ngspice").run_many([bad, _rc(1e3)], workers=1)
    err = capfd.readouterr().err
    assert "run 1 of 2 (ngspice) failed: SimulationFailed" in err
    assert isinstance(out[0], SimulationFailed) and out[1].tran is not None


def test_the_default_timeout_is_the_one_default():
    import inspect

    from neurospice.cli import build_parser
    from neurospice.simulators.base import DEFAULT_TIMEOUT, Simulator

    for method in (Simulator.run, Simulator.run_many):
        assert inspect.signature(method).parameters["timeout"].default == DEFAULT_TIMEOUT
    assert build_parser().parse_args(["sim", "x.cir"]).timeout == DEFAULT_TIMEOUT


def test_fail_fast_raises_the_first_failure_once_with_the_run_named():
    bad = "broken\nV1 in 0 1\nR1 in out\n.op\n.end\n"
    decks = [_rc(1e3), _rc(2e3), bad, _rc(3e3)]
    with pytest.raises(SimulationFailed) as info:
        get_simulator("ngspice").run_many(decks, workers=1, fail_fast=True)
    assert "in run 3 of 4 (ngspice)" in info.value.__notes__
    assert info.value.netlist_line == 3
    with pytest.raises(ValueError, match="workers"):
        get_simulator("ngspice").run_many([_rc(1e3)], workers=0)
    assert get_simulator("ngspice").run_many([]) == []
