"""Ground-truth recordings from the project's own physics, to learn neural ODEs from.

:func:`stno_recording`: the spin-torque nano-oscillator (:mod:`..stno`, its numpy rendering,
the full 5 GHz precession integrated) driven by a random sequence of current levels; the
recorded output is the precession amplitude ``sqrt(p) = |a + j b|`` (read out as 1 V per unit
amplitude, as an envelope detector would give it), with white measurement noise.
:func:`stno_amplitude`: the same noiseless amplitude under any current sequence.
:func:`random_levels` makes the STNO's input sequences, :func:`random_pulses` the pulse
trains of the NbOx neuron's case (:mod:`neurospice.circuits.neural_ode_nbox`, which records
the neuron: circuits sit above the devices) and :func:`pulse_onsets` finds their onsets.
Everything is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Recording", "random_levels", "stno_recording", "stno_amplitude", "STNO_LEVELS",
           "random_pulses", "NBOX_PULSES", "pulse_onsets"]

STNO_LEVELS = (12e-6, 30e-6)        # A: drive currents, all above the 10 uA threshold


@dataclass
class Recording:
    """A sampled transient: ``time`` (s, uniform), ``inputs`` (n, m) SI, the measured
    ``output`` (n,) (with noise) and the noiseless ``truth``."""

    time: np.ndarray
    inputs: np.ndarray
    output: np.ndarray
    truth: np.ndarray


def random_levels(n: int, low: float, high: float, *, hold=(30, 80), seed: int = 0,
                  first: float | None = None) -> np.ndarray:
    """``n`` samples of random levels uniform in [low, high], each held for a random number of
    samples in ``hold`` (the change takes one sample: piecewise linear through the samples)."""
    rng = np.random.default_rng(seed)
    out = np.empty(n)
    k = 0
    level = rng.uniform(low, high) if first is None else first
    while k < n:
        m = int(rng.integers(hold[0], hold[1] + 1))
        out[k:k + m] = level
        k += m
        level = rng.uniform(low, high)
    return out


def stno_recording(n: int = 4000, dt: float = 1e-10, *, seed: int = 0, noise: float = 3e-3,
                   levels=STNO_LEVELS, hold=(30, 80), params=None) -> Recording:
    """The STNO under a random current sequence, ``n`` samples every ``dt``: output the
    precession amplitude sqrt(p) plus N(0, ``noise``) noise. The oscillator starts in its
    stationary state at the first current. The current is imposed: the terminal voltage is
    I (r0 + dr a) at every evaluation of the device's equations."""
    cur = random_levels(n, *levels, hold=hold, seed=seed)
    t, amp = np.arange(n) * dt, stno_amplitude(cur, dt, params=params)
    rng = np.random.default_rng(seed + 10_000)
    return Recording(t, cur[:, None], amp + rng.normal(0.0, noise, n), amp)


def stno_amplitude(current, dt: float, *, params=None, a0: float | None = None) -> np.ndarray:
    """The STNO's noiseless precession amplitude ``sqrt(p)`` at the samples of ``current``
    (A, one per ``dt``, piecewise linear between samples): the full precession integrated
    (DOP853, steps of at most a quarter period). The oscillator starts at the amplitude
    ``a0`` (default the stationary one at the first current). The current is imposed: the
    terminal voltage is I (r0 + dr a) at every evaluation of the device's equations."""
    from scipy.integrate import solve_ivp

    from neurospice.compact_models.stno import DEVICE, stationary_power
    from neurospice.errors import ArgumentError

    cur = np.asarray(current, float).ravel()
    if len(cur) < 2 or not np.all(np.isfinite(cur)) or not dt > 0:
        raise ArgumentError("stno_amplitude: give two finite current samples at least and dt > 0")
    p = DEVICE.params(params)
    t = np.arange(len(cur)) * dt
    eq = DEVICE.numpy.scalar_equations

    def rhs(time, y):
        i = float(np.interp(time, t, cur))
        v = i * (p["r0"] + p["dr"] * y[0])
        _, (da, db) = eq(time, {"p": v, "n": 0.0, "xi": 0.0}, {"a": y[0], "b": y[1]}, p)
        return [da, db]

    if a0 is None:
        a0 = float(np.sqrt(stationary_power(cur[0], p)))
    period = 1.0 / p["f0"]
    sol = solve_ivp(rhs, (0.0, t[-1]), [a0, 0.0], t_eval=t, rtol=1e-7, atol=1e-9,
                    max_step=period / 4, method="DOP853")
    if not sol.success:
        raise RuntimeError(f"STNO transient failed: {sol.message}")
    return np.hypot(sol.y[0], sol.y[1])


#: NbOx pulse trains: amplitude (V), width and gap (s) ranges of :func:`random_pulses`.
NBOX_PULSES = {"amplitude": (1.9, 2.8), "width": (1.5e-6, 3e-6), "gap": (0.6e-6, 1.5e-6)}


def random_pulses(n: int, dt: float, *, amplitude=NBOX_PULSES["amplitude"],
                  width=NBOX_PULSES["width"], gap=NBOX_PULSES["gap"], edge: int = 2,
                  seed: int = 0, first_gap: float = 0.3e-6) -> np.ndarray:
    """``n`` samples (every ``dt``) of a train of trapezoidal pulses from 0: amplitudes
    uniform in ``amplitude``, widths and the gaps between pulses uniform in ``width`` and
    ``gap`` (s), rising and falling over ``edge`` samples; every corner on a sample, so that
    the samples, piecewise linear, are the waveform exactly. The train starts after
    ``first_gap``."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    k = int(round(first_gap / dt))
    while k < n:
        a = rng.uniform(*amplitude)
        w = int(round(rng.uniform(*width) / dt))
        ramp = np.arange(1, edge + 1) / edge
        seg = np.concatenate([a * ramp, np.full(w, a), a * ramp[::-1][1:], [0.0]])
        out[k:k + len(seg)] = seg[:max(0, n - k)]
        k += len(seg) + int(round(rng.uniform(*gap) / dt))
    return out


def pulse_onsets(time_s, v_in) -> np.ndarray:
    """The times where the pulses of a train from 0 (:func:`random_pulses`) start: the last
    sample at 0 before each rise."""
    v = np.asarray(v_in, float).ravel()
    k = np.flatnonzero((v[:-1] == 0) & (v[1:] > 0))
    return np.asarray(time_s, float)[k]
