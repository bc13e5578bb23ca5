"""Stimulus waveforms shared by the device modules (as PWL arrays a source can take)."""

from __future__ import annotations

import numpy as np

from neurospice.errors import NetlistError


def pulse_train(amplitudes, width: float, period: float, *, edge: float, delay: float):
    """(times, values, t_end) of trapezoidal pulses, one per amplitude: ``edge`` rise and fall,
    ``width`` flat top, one every ``period`` after ``delay``; 0 between pulses. The train ends
    at ``t_end = delay + n * period``."""
    amps = np.asarray(amplitudes, dtype=float)
    if period < width + 2 * edge:
        raise NetlistError("period must exceed the pulse (width + 2 edges)")
    t0 = delay + period * np.arange(len(amps))
    t = np.column_stack([t0, t0 + edge, t0 + edge + width, t0 + 2 * edge + width]).ravel()
    v = np.column_stack([np.zeros_like(amps), amps, amps, np.zeros_like(amps)]).ravel()
    t_end = delay + len(amps) * period
    return np.concatenate([[0.0], t, [t_end]]), np.concatenate([[0.0], v, [0.0]]), t_end
