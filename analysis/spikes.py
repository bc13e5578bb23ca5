"""Spike-train analysis: detection, rates, ISI statistics, latency, bursts, energy, patterns.

Everything is vectorised numpy over the samples (a 10^7-sample waveform takes well under a
second to detect); loops run only over the detected spikes where a rule is sequential (the
refractory period). Times in s, rates in Hz, energies in J.

Detection is a Schmitt trigger: a spike starts where the signal rises through ``threshold``
after having been below ``threshold - hysteresis``; its time is the linearly interpolated
upward crossing of ``threshold``; it ends where the signal falls back below
``threshold - hysteresis``. Spikes closer than ``refractory`` to the previous accepted spike
are dropped.

Default detection (no ``threshold`` given) works on membrane voltages and device currents
alike: a spike of a relaxation neuron is a *fast fall*, the discharge of the membrane (its
voltage drops from V_th to V_h in nanoseconds, against microseconds of charging) and the end
of the device's current pulse. The Schmitt trigger then runs on the fall rate ``-dx/dt`` with
its threshold at :data:`FALL_THRESHOLD` and its hysteresis at :data:`FALL_HYSTERESIS` of the
largest fall rate (relative to the spike amplitude, not to the waveform's range): slow
start-up ramps, sub-threshold plateaus and leaky decays are orders of magnitude slower and
never count, whatever the baseline the spikes ride on. Each spike's time is the start of its
fast fall (the peak of the membrane voltage; a few ns after the current's peak). A signal
without fast falls (:data:`FALL_CONTRAST`) has no spikes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from neurospice.errors import ArgumentError

FALL_THRESHOLD = 0.2
"""Default detection: the fall-rate threshold, a fraction of the largest fall rate."""
FALL_HYSTERESIS = 0.1
"""Default detection: the fall-rate hysteresis, a fraction of the largest fall rate."""
FALL_CONTRAST = 8.0
"""Default detection: a signal has spikes only where its largest fall rate is at least this
many times its slow rate of change (the time-weighted 90th percentile of ``|dx/dt|``); a
sub-threshold response (charging and leaking at comparable rates) has none."""

LABELS = ("tonic", "stochastic", "lif", "latency", "integration", "phasic_burst", "quiescent")


@dataclass
class Spikes:
    """Detected spikes: ``times`` (interpolated threshold crossings), and for each spike the
    sample indices where it starts (``start``: last sample below the lower threshold before
    it), peaks (``peak``) and ends (``stop``: first sample back below the lower threshold).
    ``on``: what ``threshold`` and ``hysteresis`` apply to, ``"signal"`` (units of the signal)
    or ``"fall rate"`` (the default detection: units of the signal per second; then ``start``
    is the sample where the fast fall begins, ``peak`` the signal's maximum over the spike and
    ``stop`` the sample where the fall ends)."""

    times: np.ndarray
    start: np.ndarray
    peak: np.ndarray
    stop: np.ndarray
    threshold: float
    hysteresis: float
    on: str = "signal"

    def __len__(self) -> int:
        return len(self.times)


def detect_spikes(t, x, *, threshold: float | None = None, hysteresis: float | None = None,
                  refractory: float = 0.0) -> Spikes:
    """Detect spikes in ``x(t)`` (see the module docstring). Without ``threshold``: on the
    fall rate, with thresholds relative to the largest fall (works on a membrane voltage and
    on a device current; ``hysteresis`` must then be None too). With ``threshold``: on the
    signal; ``hysteresis`` defaults to a quarter of the signal's range. A signal with no
    excursion (max - min below 1e-30) has no spikes."""
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    if t.shape != x.shape or t.ndim != 1:
        raise ValueError(f"t and x must be 1-D arrays of one length, got {t.shape}, {x.shape}")
    empty = np.array([], dtype=int)
    if len(x) < 2:
        return Spikes(np.array([]), empty, empty, empty, float("nan"), float("nan"))
    if threshold is None:
        if hysteresis is not None:
            raise ValueError("hysteresis without threshold: the default detection sets both")
        return _detect_falls(t, x, refractory)
    lo_x, hi_x = float(np.min(x)), float(np.max(x))
    span = hi_x - lo_x
    if threshold is None:
        threshold = lo_x + 0.5 * span
    if hysteresis is None:
        hysteresis = 0.25 * span
    if hysteresis < 0:
        raise ValueError(f"hysteresis must be >= 0, got {hysteresis}")
    if span < 1e-30:
        return Spikes(np.array([]), empty, empty, empty, threshold, hysteresis)
    low = threshold - hysteresis
    # Schmitt state: +1 after the last sample at/above threshold, -1 after one below `low`
    event = np.where(x >= threshold, 1, np.where(x < low, -1, 0)).astype(np.int8)
    idx = np.where(event != 0, np.arange(len(x)), 0)
    np.maximum.accumulate(idx, out=idx)
    state = event[idx]
    state[(idx == 0) & (event[0] == 0)] = -1        # undecided start counts as low
    if state[0] == 1:                                # a spike in progress at t[0] is not counted
        state[: np.argmax(state != 1) if np.any(state != 1) else len(state)] = 0
    rise = np.flatnonzero((state[1:] == 1) & (state[:-1] == -1)) + 1
    fall = np.flatnonzero((state[1:] == -1) & (state[:-1] == 1)) + 1
    if not len(rise):
        return Spikes(np.array([]), empty, empty, empty, threshold, hysteresis)
    # times: interpolate the crossing of `threshold` between samples rise-1 and rise
    a, b = x[rise - 1], x[rise]
    frac = np.clip((threshold - a) / np.where(b != a, b - a, 1.0), 0.0, 1.0)
    times = t[rise - 1] + frac * (t[rise] - t[rise - 1])
    # stops: the first fall after each rise (or the last sample)
    k = np.searchsorted(fall, rise)
    if len(fall):
        stop = np.where(k < len(fall), fall[np.minimum(k, len(fall) - 1)], len(x) - 1)
    else:
        stop = np.full(len(rise), len(x) - 1)
    # starts: the last sample below `low` before each rise
    below = np.flatnonzero(x < low)
    j = np.searchsorted(below, rise) - 1
    start = np.where(j >= 0, below[np.maximum(j, 0)], 0)
    # peaks: argmax within [rise, stop] via a segmented maximum
    peak = _segment_argmax(x, rise, stop)
    if refractory > 0 and len(times) > 1:
        keep = np.zeros(len(times), dtype=bool)
        last = -np.inf
        for n, tn in enumerate(times):
            if tn - last >= refractory:
                keep[n] = True
                last = tn
        times, start, peak, stop = times[keep], start[keep], peak[keep], stop[keep]
    return Spikes(times, start, peak, stop, float(threshold), float(hysteresis))


def _detect_falls(t, x, refractory: float) -> Spikes:
    """The default detection: a Schmitt trigger on the fall rate -dx/dt (module docstring)."""
    dt = np.diff(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(dt > 0, -np.diff(x) / np.where(dt > 0, dt, 1.0), 0.0)
    rate = np.where(np.isfinite(rate), rate, 0.0)
    top = float(np.max(rate))
    empty = np.array([], dtype=int)
    # a spike is fast: its fall must beat the time-weighted 90th percentile of |dx/dt| (the
    # signal's slow dynamics: charging, leak, start-up) by FALL_CONTRAST
    mag = np.abs(rate)
    order = np.argsort(mag)
    weight = np.cumsum(np.where(dt > 0, dt, 0.0)[order])
    slow = float(mag[order][min(np.searchsorted(weight, 0.9 * weight[-1]), len(mag) - 1)]) \
        if weight[-1] > 0 else 0.0
    if not top > 0 or top < FALL_CONTRAST * slow or float(np.max(x) - np.min(x)) < 1e-30:
        return Spikes(np.array([]), empty, empty, empty, float("nan"), float("nan"), "fall rate")
    # rate[k] is the fall over samples k..k+1, placed at t[k] (where that fall begins)
    sp = detect_spikes(t[:-1], rate, threshold=FALL_THRESHOLD * top,
                       hysteresis=FALL_HYSTERESIS * top, refractory=refractory)
    if not len(sp):
        return Spikes(np.array([]), empty, empty, empty, sp.threshold, sp.hysteresis,
                      "fall rate")
    start = sp.start + 1                             # the sample where the fast fall begins
    stop = np.minimum(sp.stop + 1, len(x) - 1)
    times = t[np.minimum(start, len(t) - 1)]
    prev_stop = np.concatenate([[0], stop[:-1]])
    peak = np.array([a + int(np.argmax(x[a:b + 1])) for a, b in zip(prev_stop, start)],
                    dtype=int)
    return Spikes(times, start, peak, stop, sp.threshold, sp.hysteresis, "fall rate")


def _segment_argmax(x, begin, end) -> np.ndarray:
    """Index of the maximum of x[begin[k]:end[k]+1] for each k (segments do not overlap)."""
    if not len(begin):
        return np.array([], dtype=int)
    out = np.empty(len(begin), dtype=int)
    lengths = end - begin + 1
    if lengths.max() <= 64:                          # short spikes: one gather
        offs = np.arange(lengths.max())
        grid = np.minimum(begin[:, None] + offs[None, :], end[:, None])
        out = grid[np.arange(len(begin)), np.argmax(x[grid], axis=1)]
        return out
    for k, (a, b) in enumerate(zip(begin, end)):
        out[k] = a + int(np.argmax(x[a:b + 1]))
    return out


def spike_times(t, x, **kw) -> np.ndarray:
    """Only the spike times of :func:`detect_spikes`."""
    return detect_spikes(t, x, **kw).times


def firing_rate(times, t_start: float, t_stop: float) -> float:
    """Spikes per second in [t_start, t_stop)."""
    if not t_stop > t_start:
        raise ValueError("firing_rate needs t_stop > t_start")
    times = np.asarray(times, dtype=float)
    return float(np.count_nonzero((times >= t_start) & (times < t_stop)) / (t_stop - t_start))


@dataclass
class IsiStats:
    n: int
    mean: float
    std: float
    cv: float


def isi_stats(times, *, skip_first: int = 0) -> IsiStats:
    """Inter-spike interval statistics (NaN where fewer than two intervals remain);
    ``skip_first`` drops that many leading intervals (the onset transient)."""
    isi = np.diff(np.asarray(times, dtype=float))[skip_first:]
    if len(isi) < 1:
        return IsiStats(0, float("nan"), float("nan"), float("nan"))
    mean = float(np.mean(isi))
    std = float(np.std(isi, ddof=1)) if len(isi) > 1 else float("nan")
    return IsiStats(len(isi), mean, std, std / mean if mean > 0 else float("nan"))


def first_spike_latency(times, onset: float) -> float:
    """Delay from ``onset`` to the first spike at or after it (NaN if none)."""
    times = np.asarray(times, dtype=float)
    after = times[times >= onset]
    return float(after[0] - onset) if len(after) else float("nan")


@dataclass
class Burst:
    start: float
    end: float
    n_spikes: int

    @property
    def duration(self) -> float:
        return self.end - self.start


def detect_bursts(times, max_isi: float, min_spikes: int = 2) -> list[Burst]:
    """Bursts: runs of at least ``min_spikes`` spikes whose consecutive intervals are all at
    most ``max_isi`` (the ISI criterion)."""
    times = np.asarray(times, dtype=float)
    if len(times) < max(min_spikes, 1):
        return []
    breaks = np.flatnonzero(np.diff(times) > max_isi) + 1
    bounds = np.concatenate([[0], breaks, [len(times)]])
    return [Burst(float(times[a]), float(times[b - 1]), int(b - a))
            for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= min_spikes]


def energy_per_spike(t, v, i, spikes: Spikes) -> np.ndarray:
    """Energy (J) dissipated in each spike: the integral of v*i from its start to its stop
    sample (trapezoidal). ``v`` and ``i`` are the device voltage and current."""
    t = np.asarray(t, dtype=float)
    p = np.asarray(v, dtype=float) * np.asarray(i, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(t))])
    return cum[spikes.stop] - cum[spikes.start]


# --------------------------------------------------------------------------- classifier

@dataclass
class Classification:
    label: str
    features: dict = field(default_factory=dict)


def classify(times, stimulus=None, *, t_stop: float | None = None,
             cv_stochastic: float = 0.05, silence_factor: float = 5.0) -> Classification:
    """Label a response as one of :data:`LABELS`, using the stimulus description
    (``kind``, ``segments``, ``t_stop``; see :class:`neurospice.circuits.neurons.Stimulus`).

    Without a stimulus (``None``) the response is read as one to a sustained step from
    t = 0 to ``t_stop`` (the end of the record; required, an ArgumentError otherwise, since
    the silence after a burst cannot be judged without it). Anything else that is not a
    stimulus description is an ArgumentError naming the missing attribute.

    Rules, in order (spikes before the stimulus onset are ignored):

    - no spike: ``quiescent``;
    - a train of pulses (``kind="pulses"``): ``integration`` when the first spike comes only
      after the second or a later pulse has started (earlier pulses were integrated, not
      answered); ``tonic`` when the first pulse already fires;
    - a staircase of levels: ``lif`` when the lowest level(s) are silent and the firing
      levels' rates do not decrease with the level (a rate-vs-input curve with a threshold);
      ``tonic`` when every level fires;
    - a single pulse: ``latency`` (a delayed spike answering the pulse);
    - a sustained step: ``phasic_burst`` when at least two spikes are followed by a silence
      until the end of the stimulus of at least ``silence_factor`` times the burst's
      duration; else ``stochastic`` when the ISI coefficient of variation (without the
      first interval, the onset transient) exceeds ``cv_stochastic``, else ``tonic``;
      a single spike is ``latency``.
    """
    times = np.asarray(times, dtype=float)
    if stimulus is None:
        if t_stop is None or not float(t_stop) > 0:
            raise ArgumentError("classify without a stimulus needs t_stop > 0 (the end of "
                                f"the record), got {t_stop!r}")
        kind, segments, end = "step", ((0.0, float(t_stop), float("nan")),), float(t_stop)
    else:
        missing = [a for a in ("kind", "segments", "t_stop") if not hasattr(stimulus, a)]
        if missing:
            raise ArgumentError(f"classify: stimulus {type(stimulus).__name__} has no "
                                f"{', '.join(missing)} (give a neurons.Stimulus, or None "
                                "with t_stop)")
        kind, segments = stimulus.kind, stimulus.segments
        end = min(segments[-1][1], stimulus.t_stop if t_stop is None else float(t_stop))
    onset = segments[0][0]
    times = times[times >= onset]
    feats: dict = {"n_spikes": int(len(times))}
    if not len(times):
        return Classification("quiescent", feats)
    feats["latency"] = float(times[0] - onset)
    if kind == "pulses":
        starts = np.array([s[0] for s in segments])
        k = int(np.searchsorted(starts, times[0], side="right"))
        feats["first_spike_pulse"] = k
        return Classification("integration" if k >= 2 else "tonic", feats)
    if kind == "staircase":
        rates = [firing_rate(times, a, b) for a, b, _ in segments]
        feats["rates"] = rates
        firing = [r > 0 for r in rates]
        if not firing[0] and any(firing):
            first = firing.index(True)
            tail = rates[first:]
            if all(tail[j + 1] >= tail[j] for j in range(len(tail) - 1)) and all(tail):
                feats["threshold_level"] = segments[first][2]
                return Classification("lif", feats)
        return Classification("tonic", feats)
    if kind == "pulse":
        return Classification("latency", feats)
    # sustained step
    if len(times) == 1:
        return Classification("latency", feats)
    burst = float(times[-1] - times[0])
    silence = float(end - times[-1])
    feats.update(burst_duration=burst, silence=silence)
    if silence >= silence_factor * max(burst, 1e-30):
        return Classification("phasic_burst", feats)
    stats = isi_stats(times, skip_first=1)
    feats.update(isi_mean=stats.mean, isi_cv=stats.cv, rate=len(times) / (end - onset))
    if np.isfinite(stats.cv) and stats.cv > cv_stochastic:
        return Classification("stochastic", feats)
    return Classification("tonic", feats)


def pattern_metrics(t, i, stimulus, *, threshold: float, hysteresis: float | None = None,
                    v=None, refractory: float = 0.0) -> dict:
    """Detection plus every metric at once (for reports): label, spike count, rate, ISI
    mean/std/CV, first-spike latency, bursts and, with ``v``, the mean energy per spike."""
    sp = detect_spikes(t, i, threshold=threshold, hysteresis=hysteresis, refractory=refractory)
    cls = classify(sp.times, stimulus)
    stats = isi_stats(sp.times, skip_first=1)
    out = {"label": cls.label, "n_spikes": len(sp), "times": sp.times,
           "rate_hz": firing_rate(sp.times, stimulus.onset, stimulus.t_stop)
           if stimulus.t_stop > stimulus.onset else float("nan"),
           "isi_mean": stats.mean, "isi_std": stats.std, "isi_cv": stats.cv,
           "latency": first_spike_latency(sp.times, stimulus.onset), **cls.features}
    if v is not None and len(sp):
        out["energy_per_spike_j"] = float(np.mean(energy_per_spike(t, v, i, sp)))
    return out
