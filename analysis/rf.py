"""RF waveform analysis: rectified DC, tone frequency and amplitude, power spectra.

All functions take a (possibly non-uniform) simulator time axis and resample where needed.
"""

from __future__ import annotations

import numpy as np


def _window(t, v, t_start, t_stop):
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError("t and v must be 1-D arrays of equal length")
    t_stop = t[-1] if t_stop is None else t_stop
    if not t[0] <= t_start < t_stop <= t[-1]:
        raise ValueError(f"window [{t_start}, {t_stop}] is outside the waveform "
                         f"[{t[0]}, {t[-1]}]")
    return t, v, t_stop


def rectified_dc(t, v, freq_hz: float, *, t_start: float, periods: int | None = None,
                 samples_per_period: int = 400) -> float:
    """The DC part of ``v``: its mean over a whole number of RF periods from ``t_start``
    (all the periods that fit, or ``periods``), resampled uniformly by linear interpolation."""
    t, v, t_stop = _window(t, v, t_start, None)
    period = 1.0 / freq_hz
    n = int(np.floor((t_stop - t_start) / period * (1 + 1e-12)))
    n = n if periods is None else min(n, periods)
    if n < 1:
        raise ValueError("the window holds less than one RF period")
    grid = t_start + period * np.arange(n * samples_per_period) / samples_per_period
    return float(np.mean(np.interp(grid, t, v)))


def tone_frequency(t, v, *, t_start: float, t_stop: float | None = None) -> float:
    """Frequency of the dominant tone from its rising zero crossings (of v minus its mean),
    each located by linear interpolation: exact for a clean tone, no FFT bin limit."""
    t, v, t_stop = _window(t, v, t_start, t_stop)
    sel = (t >= t_start) & (t <= t_stop)
    tt, vv = t[sel], v[sel] - np.mean(v[sel])
    k = np.where((vv[:-1] < 0) & (vv[1:] >= 0))[0]
    if len(k) < 3:
        return 0.0
    crossings = tt[k] - vv[k] * (tt[k + 1] - tt[k]) / (vv[k + 1] - vv[k])
    return float((len(crossings) - 1) / (crossings[-1] - crossings[0]))


def tone_amplitude(t, v, *, t_start: float, t_stop: float | None = None,
                   samples: int = 20000) -> float:
    """Amplitude of the oscillating part: sqrt(2) times its RMS (exact for a sine)."""
    t, v, t_stop = _window(t, v, t_start, t_stop)
    grid = np.linspace(t_start, t_stop, samples)
    vv = np.interp(grid, t, v)
    return float(np.sqrt(2.0) * np.std(vv))


def power_spectrum(t, v, *, t_start: float, t_stop: float | None = None,
                   samples: int = 2**14, load_ohm: float = 50.0):
    """One-sided power spectrum of ``v`` into ``load_ohm`` (W per bin), Hann window, uniform
    resampling. Returns (freq_hz, power_w)."""
    t, v, t_stop = _window(t, v, t_start, t_stop)
    grid = np.linspace(t_start, t_stop, samples, endpoint=False)
    vv = np.interp(grid, t, v)
    vv = vv - vv.mean()
    w = np.hanning(samples)
    spec = np.fft.rfft(vv * w) / np.sum(w)
    amp = 2 * np.abs(spec)          # peak amplitude per bin
    freq = np.fft.rfftfreq(samples, grid[1] - grid[0])
    return freq, amp**2 / (2 * load_ohm)


def dbm(power_w):
    """Power in dBm (display only: SI watts inside)."""
    return 10 * np.log10(np.asarray(power_w, dtype=float) / 1e-3)
