"""Every neuron preset across its declared operating range (``neurons.RANGES``), on every
simulator and rendering: ngspice with the Verilog-A (OSDI) card, ngspice-shared and VACASK;
ngspice with the behavioral subcircuit against VACASK in a test of its own.

Per preset: 20 points from ``low`` to ``high``, each run with a per-run timeout (a hang is a
failure, not a stuck test). Checks: no point fails on any pair; at every point the spike
counts of all pairs agree within one spike; where the range declares a trend, every pair
follows it (``rate_up``: the count never falls as the input rises; ``latency_down``: once
the neuron fires it keeps firing, and the first spike never comes later by more than one
maximum step, 10 ns). Spikes are found on the device current with the preset's thresholds
and, as the acceptance of the spike defaults asks, with default arguments on the membrane
voltage and the device current (within one spike of that count).

Time: the grid runs the points two at a time (``run_many``); ``tonic``, ``stochastic`` and
``phasic_burst`` stop at 8-10 us (every behaviour of the range shows by then). A few minutes
on two cores in all."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.analysis.spikes import detect_spikes
from neurospice.circuits import neurons as N
from neurospice.simulators import get_simulator

pytestmark = pytest.mark.slow

PAIRS = (("ngspice", "osdi"), ("ngspice-shared", "osdi"), ("vacask", "osdi"))
#: ngspice with the behavioral rendering, checked against VACASK in a test of its own
SUBCKT = ("ngspice", "subckt")
POINTS = 20
TIMEOUT = 60.0
#: shorter transients for the grid (s), where the preset takes ``t_stop``
T_STOP = {"tonic": 10e-6, "stochastic": 8e-6, "phasic_burst": 10e-6}
MAX_STEP = 10e-9


def _grid(preset, simulator, rendering):
    sim = get_simulator(simulator)
    if not sim.is_available():
        pytest.skip(f"{simulator} not installed")
    rng = N.RANGES[preset]
    extra = {"t_stop": T_STOP[preset]} if preset in T_STOP else {}
    built = [rng.build(v, rendering=rendering, **extra) for v in rng.points(POINTS)]
    out = sim.run_many([c for c, _ in built], workers=2, timeout=TIMEOUT,
                       on_error=lambda k, e: None)
    failed = [f"{preset} {rng.parameter}={v:g} on {simulator}/{rendering}: "
              f"{type(r).__name__}: {str(r).splitlines()[0] if str(r) else ''}"
              for v, r in zip(rng.points(POINTS), out) if isinstance(r, Exception)]
    assert not failed, "\n".join(failed)
    return [(r.tran, stim) for r, (_, stim) in zip(out, built)]


@pytest.mark.parametrize("preset", list(N.PRESETS))
def test_preset_runs_across_its_range_on_every_simulator(preset):
    _check_grid(preset, PAIRS)


@pytest.mark.parametrize("preset", list(N.PRESETS))
def test_preset_runs_across_its_range_with_the_subcircuit(preset):
    _check_grid(preset, (PAIRS[-1], SUBCKT))


def _check_grid(preset, pairs):
    rng = N.RANGES[preset]
    counts, firsts = {}, {}
    for simulator, rendering in pairs:
        key = f"{simulator}/{rendering}"
        n, first = [], []
        for tr, stim in _grid(preset, simulator, rendering):
            sp = detect_spikes(tr.axis, tr[N.SPIKE_CURRENT], threshold=stim.spike_threshold,
                               hysteresis=stim.spike_hysteresis)
            n.append(len(sp))
            first.append(sp.times[0] if len(sp) else np.nan)
            # the spike defaults: membrane voltage and device current, no arguments
            for signal in (N.MEMBRANE, N.SPIKE_CURRENT):
                got = len(detect_spikes(tr.axis, tr[signal]))
                assert abs(got - len(sp)) <= 1, (key, signal, got, len(sp))
        counts[key], firsts[key] = np.array(n), np.array(first)
    table = np.array(list(counts.values()))
    spread = table.max(axis=0) - table.min(axis=0)
    assert spread.max() <= 1, f"{preset}: spike counts disagree by > 1:\n" + "\n".join(
        f"  {k}: {v.tolist()}" for k, v in counts.items())
    assert table.max() > 0, f"{preset}: no point of its range fires"
    for key, n in counts.items():
        if rng.trend == "rate_up":
            assert np.all(np.diff(n) >= 0), f"{preset} on {key}: count falls: {n.tolist()}"
        elif rng.trend == "latency_down":
            fires = n > 0
            k = int(np.argmax(fires))
            assert fires[k:].all(), f"{preset} on {key}: stops firing: {n.tolist()}"
            lat = firsts[key][k:]
            assert np.all(np.diff(lat) <= MAX_STEP), (
                f"{preset} on {key}: first spike comes later: {lat.tolist()}")


def test_out_of_range_point_is_a_typed_error():
    from neurospice.errors import ArgumentError

    with pytest.raises(ArgumentError, match="outside its declared range"):
        N.RANGES["tonic"].build(5.0)
    with pytest.raises(ArgumentError, match="at least 2"):
        N.RANGES["tonic"].points(1)
