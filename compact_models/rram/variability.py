"""RRAM variability: the seed's statistical weak-RESET model, and a vectorised pulse-level
simulator of the physical gap model for long pulse trains.

Two levels, both seeded (same seed, same numbers):

1. **The seed's statistical model** (docs/physics/rram.md, [V]). After ``n`` weak-RESET pulses
   ``R = R0 exp(w)``, ``w = w_mean(n) + w_RTN(n) + w_1/f(n)``:

   - two-slope drift ``w_mean = m1 n + c1`` for ``n < n*``, else ``m2 n + n* (m1 - m2) + c1``;
   - device-to-device: ``m1``, ``n*``, ``c1``, ``m2``, ``R0`` from the truncated distributions
     of :data:`SEED_DISTRIBUTIONS`, drawn by inverse-CDF sampling from a seeded numpy
     Generator (:func:`draw_seed_devices`);
   - random telegraph noise: a two-state Markov chain per pulse (``P(low->high) = 8e-4``,
     ``P(high->low) = 2e-3``), starting in the low state; each time the trap enters the high
     state its amplitude is drawn from ``U(0, a)``, with ``a ~ U(0, 0.5)`` per device;
   - 1/f noise by fractional integration (``d = 1/2``) of white N(0,1) noise truncated to 15
     taps (coefficients 1, 1/2, 3/8, 0.3125, ...), times 0.025.

   :func:`weak_reset_montecarlo` runs it for any number of devices and pulses (arrays of
   shape (pulses + 1, devices); millions of device-pulses per second), and
   :func:`seed_reference_statistics` gives the exact ensemble mean and standard deviation of
   ``ln(R/R0)`` vs pulse number (numerical integration over the distributions), against which
   the Monte-Carlo is tested.

2. **The physical model, pulse by pulse** (:func:`simulate_pulse_train`): the rram device's own
   gap equation (its generated numpy rendering, so there is one definition) integrated through
   each trapezoidal pulse with an exponential-Euler step (stable on the stiff gap bounds),
   vectorised over devices, with per-device parameters (device-to-device variability) and a
   per-pulse noise sample for the ``xi`` input (cycle-to-cycle). It agrees with the SPICE
   renderings on short trains when SPICE is driven by :func:`pulse_train_waveforms` (the same
   pulses, the same per-pulse noise held through each pulse): tests/test_rram.py compares the
   gap after every pulse of a 12-pulse train.

:mod:`.weak_reset` joins the two: it maps each device of the seed's ensemble to physical
per-device parameters and runs the Monte-Carlo on the physical model (the statistics above
reproduced by the gap equation under identical weak-RESET pulses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from neurospice.compact_models.randomness import rng
from neurospice.errors import NetlistError

#: The seed's device-to-device distributions (docs/physics/rram.md): name -> (kind, args, bounds).
#: ``truncexpon``: (loc, scale); ``trunclognorm``: (s, scale) with ln x ~ N(ln scale, s);
#: ``truncnorm``: (mean, sd). Bounds are closed intervals.
SEED_DISTRIBUTIONS = {
    "m1": ("truncexpon", (3.74e-5, 6.56e-4), (3.74e-5, 7.6e-3)),
    "n_star": ("trunclognorm", (0.803, 542.5), (41.0, 2000.0)),
    "c1": ("truncnorm", (0.0053, 0.0532), (-0.15, 0.15)),
    "m2": ("truncexpon", (0.0, 2.89e-5), (0.0, 1.3e-4)),
    "r0": ("truncnorm", (6988.0, 381.7), (6252.0, 7897.0)),
}
#: RTN transition probabilities per pulse and the bound of the per-device amplitude scale.
P_LOW_HIGH = 8e-4
P_HIGH_LOW = 2e-3
RTN_A_MAX = 0.5
#: 1/f noise: fractional-integration order, number of taps and gain.
FRAC_D = 0.5
FRAC_TAPS = 15
FRAC_GAIN = 0.025
#: A weak-RESET pulse for the physical model with its defaults, from R ~ 7 kOhm: about
#: +1e-3 in ln R per pulse at first (the seed's mean m1 is 6.9e-4 per pulse).
WEAK_RESET_AMPLITUDE = -0.29
WEAK_RESET_WIDTH = 100e-9


# --------------------------------------------------------------------------- distributions

def _ndtr(x):
    from scipy.special import ndtr
    return ndtr(x)


def _ndtri(p):
    from scipy.special import ndtri
    return ndtri(p)


def _cdf(kind, args, x):
    x = np.asarray(x, dtype=float)
    if kind == "truncexpon":
        loc, scale = args
        return np.where(x <= loc, 0.0, -np.expm1(-(x - loc) / scale))
    if kind == "trunclognorm":
        s, scale = args
        return _ndtr((np.log(x) - math.log(scale)) / s)
    if kind == "truncnorm":
        mu, sd = args
        return _ndtr((x - mu) / sd)
    raise NetlistError(f"unknown distribution {kind!r}")


def _ppf(kind, args, u):
    if kind == "truncexpon":
        loc, scale = args
        return loc - scale * np.log1p(-u)
    if kind == "trunclognorm":
        s, scale = args
        return scale * np.exp(s * _ndtri(u))
    mu, sd = args
    return mu + sd * _ndtri(u)


def truncated_sample(kind: str, args, bounds, size, seed) -> np.ndarray:
    """``size`` draws from a truncated distribution by inverse-CDF sampling: a uniform
    between the CDF at the bounds, mapped back (exact; no rejection loop)."""
    lo, hi = bounds
    f_lo, f_hi = _cdf(kind, args, lo), _cdf(kind, args, hi)
    u = f_lo + (f_hi - f_lo) * rng(seed).random(size)
    return np.clip(_ppf(kind, args, u), lo, hi)      # guards the last ulp at the bounds


def truncated_pdf(kind: str, args, bounds, x) -> np.ndarray:
    """The density of the truncated distribution (for reference statistics)."""
    from scipy import stats

    lo, hi = bounds
    if kind == "truncexpon":
        base = stats.expon(loc=args[0], scale=args[1])
    elif kind == "trunclognorm":
        base = stats.lognorm(args[0], scale=args[1])
    else:
        base = stats.norm(args[0], args[1])
    mass = base.cdf(hi) - base.cdf(lo)
    x = np.asarray(x, dtype=float)
    return np.where((x >= lo) & (x <= hi), base.pdf(x) / mass, 0.0)


def draw_seed_devices(n: int, seed) -> dict[str, np.ndarray]:
    """Device-to-device parameters of ``n`` devices: ``m1``, ``n_star``, ``c1``, ``m2``,
    ``r0`` (the seed's truncated distributions) and ``rtn_a`` (U(0, 0.5)). One Generator,
    drawn in a fixed order: the same seed gives the same devices."""
    if n < 1:
        raise NetlistError(f"need at least one device, got n={n}")
    gen = rng(seed)
    out = {name: truncated_sample(kind, args, bounds, n, gen)
           for name, (kind, args, bounds) in SEED_DISTRIBUTIONS.items()}
    out["rtn_a"] = RTN_A_MAX * gen.random(n)
    return out


# --------------------------------------------------------------------------- noise processes

def fractional_coefficients(taps: int = FRAC_TAPS, d: float = FRAC_D) -> np.ndarray:
    """Coefficients of (1 - B)^-d truncated to ``taps``: c0 = 1, c_k = c_{k-1} (k - 1 + d)/k
    (for d = 1/2: 1, 1/2, 3/8, 0.3125, ...)."""
    c = np.ones(taps)
    for k in range(1, taps):
        c[k] = c[k - 1] * (k - 1 + d) / k
    return c


def flicker_noise(n_pulses: int, n_devices: int, seed, *, gain: float = FRAC_GAIN,
                  taps: int = FRAC_TAPS, d: float = FRAC_D) -> np.ndarray:
    """1/f-like noise per pulse, shape (n_pulses, n_devices): white N(0,1) noise fractionally
    integrated over ``taps`` pulses, times ``gain`` (stationary from the first pulse: the
    filter is primed with ``taps - 1`` earlier samples)."""
    c = fractional_coefficients(taps, d)
    e = rng(seed).standard_normal((n_pulses + taps - 1, n_devices))
    out = np.zeros((n_pulses, n_devices))
    for k, ck in enumerate(c):
        out += ck * e[taps - 1 - k: taps - 1 - k + n_pulses]
    return gain * out


def rtn_chain(n_pulses: int, amplitude_scale: np.ndarray, seed, *, p_lh: float = P_LOW_HIGH,
              p_hl: float = P_HIGH_LOW):
    """Random telegraph noise, a two-state Markov chain per pulse for each device.

    Returns ``(state, w)`` of shape (n_pulses, n_devices): ``state`` in {0 (low), 1 (high)}
    (every chain starts low at pulse 0) and ``w`` the RTN contribution to ln R: 0 when low, and
    when high an amplitude drawn from U(0, amplitude_scale) each time the chain enters it."""
    a = np.asarray(amplitude_scale, dtype=float)
    gen = rng(seed)
    u = gen.random((n_pulses, a.size))
    amp_draws = gen.random((n_pulses, a.size)) * a
    state = np.zeros((n_pulses, a.size), dtype=np.int8)
    w = np.zeros((n_pulses, a.size))
    s = np.zeros(a.size, dtype=np.int8)
    amp = np.zeros(a.size)
    for k in range(1, n_pulses):
        up = (s == 0) & (u[k] < p_lh)
        down = (s == 1) & (u[k] < p_hl)
        s = np.where(up, 1, np.where(down, 0, s)).astype(np.int8)
        amp = np.where(up, amp_draws[k], amp)
        state[k] = s
        w[k] = s * amp
    return state, w


def transition_estimates(state: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood transition probabilities of two-state chains (columns = devices)
    and the complete dwell times in each state (for dwell-time statistics)."""
    prev, nxt = state[:-1], state[1:]
    n_low, n_high = np.sum(prev == 0), np.sum(prev == 1)
    lh, hl = np.sum((prev == 0) & (nxt == 1)), np.sum((prev == 1) & (nxt == 0))
    dwell = {0: [], 1: []}
    for col in state.T:
        edges = np.flatnonzero(np.diff(col)) + 1
        for a, b in zip(edges[:-1], edges[1:]):      # complete dwells only
            dwell[int(col[a])].append(b - a)
    return {"p_lh": lh / max(n_low, 1), "p_hl": hl / max(n_high, 1), "n_lh": int(lh),
            "n_hl": int(hl), "dwell_low": np.array(dwell[0]), "dwell_high": np.array(dwell[1])}


# --------------------------------------------------------------------------- the seed's model

def drift(n, devices: Mapping[str, np.ndarray]) -> np.ndarray:
    """Two-slope mean drift w_mean(n) for each device: shape (len(n), n_devices)."""
    n = np.asarray(n, dtype=float)[:, None]
    m1, m2, ns, c1 = (np.asarray(devices[k])[None, :] for k in ("m1", "m2", "n_star", "c1"))
    return np.where(n < ns, m1 * n + c1, m2 * n + ns * (m1 - m2) + c1)


@dataclass
class WeakResetRun:
    """A Monte-Carlo of the seed model: arrays of shape (pulses + 1, devices); row n is the
    state after n weak-RESET pulses. ``w = ln(R/R0) = w_mean + w_rtn + w_flicker``."""

    pulse: np.ndarray
    devices: dict
    w_mean: np.ndarray
    w_rtn: np.ndarray
    w_flicker: np.ndarray
    rtn_state: np.ndarray

    @property
    def w(self) -> np.ndarray:
        return self.w_mean + self.w_rtn + self.w_flicker

    @property
    def resistance(self) -> np.ndarray:
        return self.devices["r0"][None, :] * np.exp(self.w)


def weak_reset_montecarlo(n_devices: int, n_pulses: int, seed) -> WeakResetRun:
    """The seed's statistical model for ``n_devices`` devices and ``n_pulses`` weak-RESET
    pulses, vectorised over devices (one Python loop over pulses for the Markov chain)."""
    if n_pulses < 1:
        raise NetlistError(f"need at least one pulse, got {n_pulses}")
    gen = rng(seed)
    devices = draw_seed_devices(n_devices, gen)
    n = np.arange(n_pulses + 1)
    state, w_rtn = rtn_chain(n_pulses + 1, devices["rtn_a"], gen)
    return WeakResetRun(n, devices, drift(n, devices), w_rtn,
                        flicker_noise(n_pulses + 1, n_devices, gen), state)


def seed_reference_statistics(n) -> tuple[np.ndarray, np.ndarray]:
    """Exact ensemble mean and standard deviation of ``ln(R/R0)`` after ``n`` pulses under
    the seed model (independent parameters; moments by numerical integration over the
    truncated n* distribution; RTN from the chain's transient occupation)."""
    from scipy import integrate

    n = np.atleast_1d(np.asarray(n, dtype=float))

    def moments(name):
        kind, args, bounds = SEED_DISTRIBUTIONS[name]
        x = np.linspace(*bounds, 200001)
        pdf = truncated_pdf(kind, args, bounds, x)
        pdf /= integrate.trapezoid(pdf, x)
        return integrate.trapezoid(x * pdf, x), integrate.trapezoid(x * x * pdf, x)

    (e1, e11), (e2, e22), (ec, ecc) = moments("m1"), moments("m2"), moments("c1")
    kind, args, bounds = SEED_DISTRIBUTIONS["n_star"]
    grid = np.linspace(*bounds, 4001)
    dens = truncated_pdf(kind, args, bounds, grid)
    dens /= integrate.trapezoid(dens, grid)
    mean, var = np.empty(n.size), np.empty(n.size)
    for k, nk in enumerate(n):
        a = np.minimum(nk, grid)                # pulses on the first slope
        b = np.maximum(nk - grid, 0.0)          # pulses on the second
        ea, eb = (integrate.trapezoid(z * dens, grid) for z in (a, b))
        eaa, ebb, eab = (integrate.trapezoid(z * dens, grid) for z in (a * a, b * b, a * b))
        mean[k] = ec + e1 * ea + e2 * eb
        second = (ecc + e11 * eaa + e22 * ebb + 2 * ec * (e1 * ea + e2 * eb)
                  + 2 * e1 * e2 * eab)
        var[k] = second - mean[k] ** 2
    lam = 1.0 - P_LOW_HIGH - P_HIGH_LOW
    p_high = P_LOW_HIGH / (P_LOW_HIGH + P_HIGH_LOW) * (1.0 - lam ** n)
    ea_amp, eaa_amp = RTN_A_MAX / 4, RTN_A_MAX ** 2 / 9      # E[U(0,a)], E[U(0,a)^2]
    mean_rtn = p_high * ea_amp
    var_rtn = p_high * eaa_amp - mean_rtn ** 2
    var_flicker = FRAC_GAIN ** 2 * np.sum(fractional_coefficients() ** 2)
    return mean + mean_rtn, np.sqrt(var + var_rtn + var_flicker)


def flicker_psd(freq) -> np.ndarray:
    """The one-sided PSD (per pulse^-1) of the 1/f component: ``gain^2 |sum c_k e^(-i 2 pi f k)|^2``
    times 2 (one-sided, unit sample rate)."""
    f = np.asarray(freq, dtype=float)
    c = fractional_coefficients()
    h = np.sum(c[:, None] * np.exp(-2j * np.pi * np.arange(c.size)[:, None] * f[None, :]), 0)
    return 2 * FRAC_GAIN ** 2 * np.abs(h) ** 2


def two_slope_fit(n, w):
    """Least-squares two-slope (continuous, one knee) fit of one trajectory: returns
    (m1, m2, n_star, c1, residual rms). The knee is searched on the pulse grid."""
    n = np.asarray(n, dtype=float)
    w = np.asarray(w, dtype=float)
    best = None
    for ns in n[2:-2]:
        a = np.column_stack([np.ones_like(n), np.minimum(n, ns), np.maximum(n - ns, 0.0)])
        coef, res, *_ = np.linalg.lstsq(a, w, rcond=None)
        r = float(res[0]) if res.size else float(np.sum((a @ coef - w) ** 2))
        if best is None or r < best[0]:
            best = (r, coef, ns)
    r, (c1, m1, m2), ns = best
    return float(m1), float(m2), float(ns), float(c1), math.sqrt(r / n.size)


# --------------------------------------------------------------------------- physical, per pulse

@dataclass
class PulseTrainResult:
    """Gap [m] after each pulse (row 0: before the first), shape (pulses + 1, devices); the
    energy [J] each pulse dissipated in each device, shape (pulses, devices)."""

    gap: np.ndarray
    energy: np.ndarray

    def resistance(self, v_read: float = 0.1, params=None) -> np.ndarray:
        from neurospice.compact_models.rram import read_resistance
        return read_resistance(self.gap, v_read, params)


def simulate_pulse_train(amplitudes, width: float, *, n_devices: int = 1, params=None,
                         gap0=None, xi=None, edge: float = 1e-9, steps_flat: int = 100,
                         steps_edge: int = 10) -> PulseTrainResult:
    """Integrate the rram gap equation pulse by pulse for many devices at once.

    ``amplitudes``: one voltage per pulse (V across the device, p - n), or an array
    (pulses, devices). Each pulse is a trapezoid: ``edge`` rise, ``width`` flat, ``edge`` fall
    (the gaps between pulses are at 0 V, where the gap does not move, so their length does not
    matter). ``params``: scalars or per-device arrays (device-to-device variability). ``gap0``:
    the starting gap (default ``gi``). ``xi``: the per-pulse noise samples (pulses, devices),
    held through each pulse (cycle-to-cycle noise, scaled by ``sc2c``). Exponential-Euler steps
    (``steps_edge`` per edge, ``steps_flat`` on the flat top): exact for a linear rate, stable
    on the stiff bounds.
    """
    from neurospice.compact_models.devices import get_device

    dev = get_device("rram")
    amps = np.asarray(amplitudes, dtype=float)
    if amps.ndim == 1:
        amps = np.repeat(amps[:, None], n_devices, axis=1)
    n_pulses, n_devices = amps.shape
    p = dev.param_arrays(params, n_devices)
    g = np.broadcast_to(np.asarray(p["gi"] if gap0 is None else gap0, dtype=float),
                        (n_devices,)).copy()
    xi = np.zeros((n_pulses, n_devices)) if xi is None else np.asarray(xi, dtype=float)
    if xi.shape != (n_pulses, n_devices):
        raise NetlistError(f"xi must have shape {(n_pulses, n_devices)}, got {xi.shape}")
    # sub-step grid of one pulse: (duration, voltage fraction at the step's midpoint)
    fr_edge = (np.arange(steps_edge) + 0.5) / steps_edge
    fracs = np.concatenate([fr_edge, np.ones(steps_flat), fr_edge[::-1]])
    dts = np.concatenate([np.full(steps_edge, edge / steps_edge),
                          np.full(steps_flat, width / steps_flat),
                          np.full(steps_edge, edge / steps_edge)])
    evaluate = dev.numpy.equations
    gaps = np.empty((n_pulses + 1, n_devices))
    energy = np.zeros((n_pulses, n_devices))
    gaps[0] = g
    dg_fd = 1e-4 * p["dwin"]
    dg_max = 0.5 * np.min(p["dwin"])
    # each evaluation takes every device twice, at g and at g + dg_fd (the finite-difference
    # Jacobian): one call over 2 n devices costs little more than one over n
    n = n_devices
    twice = {k: np.concatenate([v, v]) if np.ndim(v) else v for k, v in p.items()}
    zeros = np.zeros(2 * n)

    def step(g, volts, dt):
        """One exponential-Euler step: the linearised decay is exact where the rate is
        self-limiting (J < 0, the stiff bounds); growth (J > 0, the SET runaway) is explicit,
        and the caller subdivides the step when the gap would move more than dwin/2."""
        (cur,), (f,) = evaluate(1.0, volts, {"g": np.concatenate([g, g + dg_fd])}, twice)
        f, f2, cur = f[:n], f[n:], cur[:n]
        z = np.minimum((f2 - f) / dg_fd * dt, 0.0)
        phi = np.where(z > -1e-8, 1.0 + 0.5 * z, np.expm1(z) / np.where(z == 0.0, 1.0, z))
        return f * dt * phi, cur

    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_pulses):
            volts = {"n": zeros, "xi": np.concatenate([xi[k], xi[k]])}
            amp = np.concatenate([amps[k], amps[k]])
            for frac, dt in zip(fracs, dts):
                volts["p"] = amp * frac
                vp = volts["p"][:n]
                dg, cur = step(g, volts, dt)
                worst = float(np.max(np.abs(dg)))
                if worst > dg_max:
                    sub = min(int(np.ceil(worst / dg_max)), 20000)
                    for _ in range(sub):
                        dg, cur = step(g, volts, dt / sub)
                        g = g + dg
                        energy[k] += cur * vp * dt / sub
                else:
                    g = g + dg
                    energy[k] += cur * vp * dt
            gaps[k + 1] = g
    return PulseTrainResult(gaps, energy)


def pulse_train_waveforms(amplitudes, width: float, period: float, *, edge: float = 1e-9,
                          xi=None, delay: float = 10e-9):
    """PWL (times, values) for a SPICE source applying the same trapezoidal pulses as
    :func:`simulate_pulse_train`, one every ``period`` after ``delay``; with ``xi`` (one sample
    per pulse) also the noise-input PWL, stepping to each pulse's sample halfway between pulses
    (so it is constant through the pulse). Returns (times, volts) or (times, volts, xi_times,
    xi_values); the train ends half a period after its last pulse."""
    from neurospice.compact_models.waveforms import pulse_train

    amps = np.asarray(amplitudes, dtype=float)
    if period < width + 2 * edge + 2e-12:
        raise NetlistError("period must exceed the pulse (width + 2 edges)")
    t, v, t_end = pulse_train(amps, width, period, edge=edge, delay=delay)
    if xi is None:
        return t, v
    xi = np.asarray(xi, dtype=float)
    tx, vx = [0.0], [xi[0]]
    gap = period - width - 2 * edge
    for k in range(1, len(amps)):
        ts = delay + k * period - gap / 2
        tx += [ts - gap / 4, ts + gap / 4]
        vx += [xi[k - 1], xi[k]]
    tx.append(t_end)
    vx.append(xi[-1])
    return t, v, np.array(tx), np.array(vx)
