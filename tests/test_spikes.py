"""Spike analysis on synthetic waveforms with known answers (pure numpy, no simulator).

Tolerances: spike times are interpolated threshold crossings of piecewise-linear test spikes,
so they are exact up to float rounding (atol 1e-12 s on microsecond times, rtol 1e-9);
energies are trapezoidal integrals of piecewise-linear power, exact for rectangles
(rtol 1e-9, atol 1e-18 J)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neurospice.analysis.spikes import (classify, detect_bursts, detect_spikes,
                                        energy_per_spike, firing_rate, first_spike_latency,
                                        isi_stats)
from neurospice.circuits.neurons import Stimulus


def _train(times, t_stop=1e-4, dt=1e-9, width=20e-9, height=1.0, base=0.0):
    """Triangular spikes (rising through 0.5 exactly at the given times + width/2)."""
    t = np.arange(0.0, t_stop, dt)
    x = np.full_like(t, base)
    for s in times:
        x += height * np.clip(1 - np.abs(t - s) / width, 0, None)
    return t, x


def test_detect_times_are_interpolated_crossings():
    true = np.array([10e-6, 23.3e-6, 40.01e-6])
    t, x = _train(true)
    sp = detect_spikes(t, x, threshold=0.5, hysteresis=0.25)
    # a triangle of half-width 20 ns crosses 0.5 at s - 10 ns
    np.testing.assert_allclose(sp.times, true - 10e-9, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t[sp.peak], true, rtol=0, atol=1.01e-9)


def test_hysteresis_rejects_chatter_and_refractory_merges():
    t = np.linspace(0, 1e-5, 10001)
    x = np.zeros_like(t)
    # one spike that rings around the threshold: 0 -> 1 -> 0.45 -> 0.9 -> 0
    x[1000:1010] = 1.0
    x[1010:1020] = 0.45
    x[1020:1030] = 0.9
    assert len(detect_spikes(t, x, threshold=0.5, hysteresis=0.0)) == 2
    assert len(detect_spikes(t, x, threshold=0.5, hysteresis=0.2)) == 1
    x[1030:1035] = 0.0
    x[1035:1040] = 1.0     # a real second crossing 5 ns later
    assert len(detect_spikes(t, x, threshold=0.5, hysteresis=0.2)) == 2
    assert len(detect_spikes(t, x, threshold=0.5, hysteresis=0.2, refractory=1e-7)) == 1


def test_flat_and_baseline_signals_have_no_spikes():
    t = np.linspace(0, 1, 100)
    assert len(detect_spikes(t, np.ones(100))) == 0
    assert len(detect_spikes(t, np.zeros(100), threshold=0.5)) == 0
    x = np.ones(100)      # above threshold from the start: not a spike onset
    assert len(detect_spikes(t, x, threshold=0.5, hysteresis=0.1)) == 0
    with pytest.raises(ValueError, match="1-D"):
        detect_spikes(t, np.ones(99))


def test_rate_isi_latency():
    times = np.array([1.0, 2.0, 3.0, 4.5, 6.0])
    assert firing_rate(times, 0.0, 10.0) == pytest.approx(0.5, rel=1e-12)
    assert firing_rate(times, 2.0, 4.0) == pytest.approx(1.0, rel=1e-12)  # [2, 4)
    s = isi_stats(times)
    isi = np.array([1.0, 1.0, 1.5, 1.5])
    assert s.n == 4 and s.mean == pytest.approx(1.25, rel=1e-12)
    assert s.std == pytest.approx(np.std(isi, ddof=1), rel=1e-12)
    assert s.cv == pytest.approx(np.std(isi, ddof=1) / 1.25, rel=1e-12)
    assert isi_stats(times, skip_first=2).cv == pytest.approx(0.0, abs=1e-12)
    assert first_spike_latency(times, 2.5) == pytest.approx(0.5, rel=1e-12)
    assert np.isnan(first_spike_latency(times, 7.0))
    assert np.isnan(isi_stats([1.0]).mean)


def test_bursts_by_isi_criterion():
    times = np.concatenate([1.0 + 0.01 * np.arange(5), 3.0 + 0.02 * np.arange(3), [6.0]])
    bursts = detect_bursts(times, max_isi=0.05)
    assert [b.n_spikes for b in bursts] == [5, 3]
    assert bursts[0].duration == pytest.approx(0.04, rel=1e-9)
    assert bursts[1].start == pytest.approx(3.0) and bursts[1].end == pytest.approx(3.04)
    assert detect_bursts(times, max_isi=0.05, min_spikes=4)[0].n_spikes == 5
    assert detect_bursts([], max_isi=1.0) == []


def test_energy_per_spike_of_rectangular_pulses():
    t = np.linspace(0, 10e-6, 100001)          # 0.1 ns steps
    v = np.full_like(t, 2.0)
    i = np.where(((t > 2e-6) & (t < 2.5e-6)) | ((t > 6e-6) & (t < 6.2e-6)), 1e-3, 0.0)
    sp = detect_spikes(t, i, threshold=0.5e-3, hysteresis=0.25e-3)
    e = energy_per_spike(t, v, i, sp)
    # 2 V * 1 mA * width, plus half a sample at each edge (trapezoid of a step)
    np.testing.assert_allclose(e, [2e-3 * 0.5e-6, 2e-3 * 0.2e-6], rtol=1e-3, atol=1e-18)


def _stim(kind, segments, t_stop):
    return Stimulus(kind, tuple(segments), "voltage", t_stop)


def test_classifier_rules():
    step = _stim("step", [(1.0, 100.0, 2.0)], 100.0)
    regular = 1.0 + np.arange(50) * 2.0
    assert classify([], step).label == "quiescent"
    assert classify(regular, step).label == "tonic"
    rng = np.random.default_rng(0)
    jitter = np.cumsum(2.0 + 0.5 * rng.standard_normal(45))
    assert classify(jitter, step).label == "stochastic"
    burst = 2.0 + 0.2 * np.arange(6)           # 1 s of burst, 97 s of silence
    c = classify(burst, step)
    assert c.label == "phasic_burst" and c.features["silence"] >= 5 * c.features["burst_duration"]
    assert classify([5.0], step).label == "latency"
    pulse = _stim("pulse", [(1.0, 3.0, 1.0)], 5.0)
    assert classify([2.2], pulse).label == "latency"
    pulses = _stim("pulses", [(1.0, 1.2, 1.0), (2.0, 2.2, 1.0), (3.0, 3.2, 1.0)], 5.0)
    c = classify([3.1], pulses)
    assert c.label == "integration" and c.features["first_spike_pulse"] == 3
    assert classify([1.1, 2.1], pulses).label == "tonic"
    stairs = _stim("staircase", [(0, 10, 1.0), (10, 20, 2.0), (20, 30, 3.0)], 30.0)
    c = classify([12.0, 17.0, 21.0, 24.0, 27.0], stairs)
    assert c.label == "lif" and c.features["threshold_level"] == 2.0
    assert classify([1.0, 12.0, 21.0], stairs).label == "tonic"


def test_detection_throughput_1e7_samples():
    """Vectorised: 10^7 samples with 10^4 spikes detect in seconds (not asserted tightly:
    only that it finishes and is right; bench/bench_neurons.py prints the throughput)."""
    n = 10_000_000
    t = np.arange(n) * 1e-9
    phase = (np.arange(n) % 1000) / 1000.0
    x = np.where(phase < 0.02, 1.0, 0.0)
    t0 = time.perf_counter()
    sp = detect_spikes(t, x, threshold=0.5, hysteresis=0.25)
    elapsed = time.perf_counter() - t0
    assert len(sp) == 9999                     # the first spike starts at t[0]: not counted
    assert elapsed < 30.0


def _sawtooth(n_spikes=30, period=1e-6, onset=1e-6, v_th=1.0, v_h=0.6, fall=2e-9, dt=1e-9):
    """A relaxation membrane: an RC start-up ramp from 0 V to V_th, then ``n_spikes`` cycles of
    a slow charge V_h -> V_th and a fast (``fall``) discharge; the spike is the fall."""
    t = np.arange(0.0, onset + (n_spikes + 0.5) * period, dt)
    x = np.zeros_like(t)
    ramp = (t >= onset) & (t < onset + period)
    x[ramp] = v_th * (t[ramp] - onset) / period
    for k in range(n_spikes):
        a = onset + (k + 1) * period
        seg = (t >= a) & (t < a + period)
        tau = t[seg] - a
        x[seg] = np.where(tau < fall, v_th - (v_th - v_h) * tau / fall,
                          v_h + (v_th - v_h) * (tau - fall) / (period - fall))
    return t, x


def test_default_detection_on_a_membrane_voltage_finds_every_spike():
    """The issue's case: 30 spikes on a membrane voltage with a start-up ramp from 0 V (the old
    midpoint default found 1); and the same spikes riding on a baseline that steps down."""
    t, x = _sawtooth()
    sp = detect_spikes(t, x)
    assert len(sp) == 30 and sp.on == "fall rate"
    np.testing.assert_allclose(sp.times, 1e-6 + np.arange(1, 31) * 1e-6, rtol=0, atol=2e-9)
    x2 = np.where(t > 16e-6, x - 0.3, x)          # a baseline shift half way: still 30
    assert len(detect_spikes(t, x2)) == 30
    with pytest.raises(ValueError, match="hysteresis without threshold"):
        detect_spikes(t, x, hysteresis=0.1)


def test_default_detection_on_current_pulses():
    t, x = _train([10e-6, 23.3e-6, 40.01e-6], width=20e-9, height=2e-3, base=5e-6)
    sp = detect_spikes(t, x)
    assert len(sp) == 3
    np.testing.assert_allclose(t[sp.peak], [10e-6, 23.3e-6, 40.01e-6], rtol=0, atol=1.01e-9)


def test_classify_without_a_stimulus():
    regular = 1.0 + np.arange(50) * 2.0
    assert classify(regular, None, t_stop=100.0).label == "tonic"
    assert classify(2.0 + 0.2 * np.arange(6), t_stop=100.0).label == "phasic_burst"
    assert classify([], None, t_stop=1.0).label == "quiescent"
    from neurospice.errors import ArgumentError
    with pytest.raises(ArgumentError, match="t_stop"):
        classify(regular, None)
    with pytest.raises(ArgumentError, match="has no kind"):
        classify(regular, object())
