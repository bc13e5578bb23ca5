"""RRAM time domain: relaxation vs log time, read noise (PSD slope, RTN), the crossbar hook.
Synthetic ground truth recovered within 2 standard errors; standard errors within a factor
2 of the scatter over 20 repeats."""

import numpy as np
import pytest

from neurospice.compact_models.rram.relaxation import (Relaxation, fit_relaxation,
                                                       read_noise_psd, telegraph_levels)
from neurospice.errors import NetlistError

TRUTH = Relaxation(np.array([[1e-4, 0.0, -0.02, 0.0004, 0.0009, 0.0003],
                             [5e-4, 0.0, -0.005, 0.0001, 0.0001, 0.00002]]), 1.0)
T = np.logspace(0, 4, 9)


def synthetic(seed, cells=200, read=0.005):
    gen = np.random.default_rng(seed)
    g0 = np.repeat([1e-4, 5e-4], cells // 2)
    g = TRUTH.sample(g0, T, gen) * np.exp(read * gen.standard_normal((cells, T.size)))
    return g0, g


def test_relaxation_recovers_drift_and_spread_vs_log_time():
    fits = [fit_relaxation(T, synthetic(s)[1], g0=synthetic(s)[0], n_states=2)
            for s in range(20)]
    est = np.array([f.table for f in fits])                   # (20, states, 6)
    se = np.array([f.stderr for f in fits])
    for col in (2, 3, 4):                                      # b_mean, var_a, var_b
        for st in range(2):
            v, e = est[:, st, col], se[:, st, col]
            assert np.sum(np.abs(v - TRUTH.table[st, col]) < 2 * e) >= 17   # ~95 % of 20
            assert 0.5 < e.mean() / v.std(ddof=1) < 2.0
    f = fits[0]
    # median drift and spread grow as fitted
    assert f.spread(1e-4, 1e4) > f.spread(1e-4, 1.0)
    assert f.median(1e-4, 1e4) < 1e-4


def test_sample_is_seeded_and_consistent_per_cell():
    a = TRUTH.sample(np.full(5, 1e-4), T, 3)
    assert np.array_equal(a, TRUTH.sample(np.full(5, 1e-4), T, 3))
    assert a.shape == (5, T.size)
    with pytest.raises(NetlistError):
        TRUTH.sample([1e-4], 0.1, 0)                           # before t_ref


def pink(n, alpha, gen):
    f = np.fft.rfftfreq(n)
    amp = np.zeros_like(f)
    amp[1:] = f[1:] ** (-alpha / 2)
    x = np.fft.irfft(amp * (gen.standard_normal(f.size) + 1j * gen.standard_normal(f.size)), n)
    return x / x.std()


def test_psd_slope_recovered_with_honest_error():
    fits = [read_noise_psd(pink(2 ** 15, 1.0, np.random.default_rng(s)), 1e-3)
            for s in range(20)]
    a = np.array([f.alpha for f in fits])
    e = np.array([f.alpha_stderr for f in fits])
    assert abs(a.mean() - 1.0) < 2 * e.mean()
    assert 0.5 < e.mean() / a.std(ddof=1) < 2.0


def telegraph(n, p_up, p_down, amp, noise, gen):
    s = np.zeros(n, bool)
    u = gen.random(n)
    for k in range(1, n):
        s[k] = (u[k] > p_down) if s[k - 1] else (u[k] < p_up)
    return amp * s + noise * gen.standard_normal(n)


def test_rtn_amplitude_and_dwell_times():
    fits = [telegraph_levels(telegraph(40000, 0.002, 0.005, 1.0, 0.15,
                                       np.random.default_rng(s)), 1e-3) for s in range(20)]
    for name, truth in (("tau_low", 1e-3 / 0.002), ("tau_high", 1e-3 / 0.005),
                        ("amplitude", 1.0)):
        v = np.array([getattr(f, name) for f in fits])
        e = np.array([getattr(f, name + "_stderr") for f in fits])
        assert abs(v.mean() - truth) < 2 * e.mean() + 0.02 * truth
        if name != "amplitude":
            assert 0.5 < e.mean() / v.std(ddof=1) < 2.0


def test_crossbar_programmed_then_read_later_drifts():
    from neurospice.circuits.crossbar import program

    w = np.linspace(0.2, 0.8, 12).reshape(3, 4)
    fresh = program(w, "rram", spread={}, seed=1)
    g = fresh.g_programmed
    model = Relaxation(np.array([[g.min() * 0.9, 0.0, -0.03, 0.0, 0.0004, 0.0],
                                 [g.max() * 1.1, 0.0, -0.03, 0.0, 0.0004, 0.0]]), 1.0)
    later = program(w, "rram", spread={}, seed=1, relaxation=model, at_time=1e4)
    ratio = np.log(later.g_programmed / fresh.g_programmed)
    # median drift -0.03 per decade over 4 decades, spread 0.02 * 4
    assert abs(np.median(ratio) - (-0.12)) < 3 * 0.08 / np.sqrt(12) + 0.01
    assert np.array_equal(later.g_programmed, program(w, "rram", spread={}, seed=1,
                                                      relaxation=model,
                                                      at_time=1e4).g_programmed)
