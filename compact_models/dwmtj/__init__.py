"""Domain-wall MTJ synapse: DW position state, depinning, saturating velocity, pinning sites
for 2, 3 or 5 (any ``nst``) nominal states, a stochastic final position, read-out G(q).

Two-terminal abstraction (the "spintronic memristor": the programming current flows along
the free-layer track, current density ``J = I/(wt*tfl)``, and the MTJ stack over the track is
read in the same path; a three-terminal SOT device only separates the read and write paths).
It fits crossbars of two-terminal devices. The read current is far below depinning, so reads
do not disturb the state.

State: the DW position ``q`` in [0, ltrack] (docs/physics/dwmtj.md, [L]),

    dq/dt = F * W,   F = v(J) - vpin sin(2 pi (q - pitch/2 - sigma xi) / pitch),
    v(J)  = vsat [tanh(mob jp/vsat) - tanh(mob jn/vsat)],
    jp    = jsm softplus((J - jdep)/jsm),  jn = jsm softplus((-J - jdep)/jsm),

- motion only above the depinning current density ``jdep`` (smooth threshold of width
  ``jsm``), with mobility ``mob`` and a velocity saturating at ``vsat`` (SOT with DMI);
- a periodic pinning potential (notches) with ``nst`` sites at the centres of ``nst`` equal
  segments, ``pitch = ltrack/nst``: between pulses the wall relaxes to the nearest site (rate
  ``2 pi vpin/pitch``); during a pulse with ``v > vpin`` it moves at the mean speed
  ``sqrt(v^2 - vpin^2)``, so a pulse of :func:`step_pulse_width` advances it by one site;
- the stochastic final position: the noise input ``xi`` (an N(0,1) sample per programming
  pulse, held from the start of one pulse to the start of the next -- see
  :func:`pulse_waveforms`) offsets the landing point by ``sigma xi`` (edge roughness: each
  landing sees a different local pinning point), so the position around each site has the
  standard deviation ``sigma``;
- smooth bounds: ``W = tanh((ltrack - q)/dwin) s + tanh(q/dwin) (1 - s)``, ``s = sigmoid(F/vsm)``
  (zero at the bound the drive points at, restoring beyond it: no clamping).

Read-out: ``G = gap + (gp - gap) q/ltrack`` (docs/physics/dwmtj.md), ``I = G V``. Positive current
(p -> n) moves the wall towards ``q = ltrack`` (parallel, high conductance): potentiation.

Defaults are nanoscale (a 200 nm x 50 nm track, 1.5 nm free layer, R_P = 500 Ohm, TMR 150 %):
a one-site step takes ~0.3 ns at J = 1e12 A/m^2 (I = 75 uA) and ~1 fJ
(:func:`programming_energy`). Thermal creep below depinning is not modelled.
"""

from __future__ import annotations

import math

import numpy as np

from neurospice.compact_models.framework import Device, Parameter, State

_LIT = "docs/physics/dwmtj.md; SOT+DMI DW motion (Emori 2013, Ryu 2013)"


def state_range(params) -> tuple[float, float]:
    """DW positions [m] of the lowest and the highest read conductance: the first and the
    last pinning site (:func:`sites`)."""
    s = sites(params)
    return float(s[0]), float(s[-1])


DEVICE = Device(
    name="dwmtj",
    description="domain-wall MTJ synapse: DW position with depinning, saturating velocity, "
                "pinning sites (nst states), stochastic landing, G(q) read-out",
    terminals=("p", "n"),
    noise_inputs=("xi",),
    parameters=(
        Parameter("ltrack", "m", 200e-9, 1e-9, 1e-3, "track (free layer) length", "nanoscale"),
        Parameter("wt", "m", 50e-9, 1e-9, 1e-3, "track width", "nanoscale"),
        Parameter("tfl", "m", 1.5e-9, 1e-10, 1e-6, "free-layer thickness", "CoFeB, ~1 nm"),
        Parameter("gp", "S", 2e-3, 0.0, 10.0, "parallel conductance (q = ltrack)",
                  "R_P = 500 Ohm, RA ~ 5 Ohm um^2 on 0.01 um^2", lower_open=True),
        Parameter("gap", "S", 8e-4, 0.0, 10.0, "antiparallel conductance (q = 0)",
                  "TMR 150 %", lower_open=True),
        Parameter("jdep", "A/m^2", 2e11, 0.0, 1e14, "depinning current density",
                  "1e11-1e12 A/m^2 typical"),
        Parameter("jsm", "A/m^2", 2e10, 1e6, 1e14, "smoothing of the depinning threshold",
                  "this model", lower_open=True),
        Parameter("mob", "m^3/(A s)", 2e-10, 0.0, 1e-6, "DW mobility dv/dJ above depinning",
                  "~100 m/s at 1e12 A/m^2 (SOT+DMI)"),
        Parameter("vsat", "m/s", 300.0, 1e-3, 1e5, "saturation velocity", _LIT),
        Parameter("vpin", "m/s", 20.0, 0.0, 1e4, "pinning strength (restoring velocity)",
                  "this model: sets the relaxation rate 2 pi vpin / pitch"),
        Parameter("nst", "", 5.0, 1.0, 1024.0, "number of pinning sites (nominal states)",
                  "docs/physics/dwmtj.md: 2, 3 or 5"),
        Parameter("sigma", "m", 2e-9, 0.0, 1e-6, "std of the final position around a site",
                  "edge roughness; calibrate"),
        Parameter("q0", "m", 20e-9, 0.0, 1e-3, "initial (programmed) DW position",
                  "site 0 of 5 by default"),
        Parameter("dwin", "m", 1e-9, 1e-13, 1e-6, "width of the smooth position bounds",
                  "this model", lower_open=True),
        Parameter("vsm", "m/s", 0.01, 1e-9, 1e3, "width of the drive-direction selector",
                  "this model", lower_open=True),
    ),
    states=(State("q", "m", 1e-7, "q0", "domain-wall position (node volts x 100 nm)"),),
    locals=(
        ("vd", "v(p, n)"),
        ("gq", "gap + (gp - gap)*q/ltrack"),
        ("cur", "gq*vd"),
        ("jj", "cur/(wt*tfl)"),
        ("jp", "jsm*softplus((jj - jdep)/jsm)"),
        ("jn", "jsm*softplus((-jj - jdep)/jsm)"),
        ("vdw", "vsat*(tanh(mob*jp/vsat) - tanh(mob*jn/vsat))"),
        ("pitch", "ltrack/nst"),
        ("drive", "vdw - vpin*sin(6.283185307179586*(q - 0.5*pitch - sigma*v(xi))/pitch)"),
        ("sel", "sigmoid(drive/vsm)"),
        ("win", "tanh((ltrack - q)/dwin)*sel + tanh(q/dwin)*(1 - sel)"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"q": "drive*win"},
    references=(
        "docs/physics/dwmtj.md (DW synapse: 2/3/5 states, stochastic position, G(q))",
        "X. Wang et al., IEEE Electron Device Lett. 30, 294 (2009) (spintronic memristor)",
    ),
    state_parameter="q0",
    state_range=state_range,
    default_spread={"gp": ("normal", 0.03), "gap": ("normal", 0.03)},
)


def _p(params):
    return DEVICE.params(params)


def sites(params=None) -> np.ndarray:
    """The nominal DW positions [m]: the centres of ``nst`` equal segments of the track."""
    p = _p(params)
    n = int(round(p["nst"]))
    return (np.arange(n) + 0.5) * p["ltrack"] / n


def conductance(q, params=None):
    """Read-out conductance G = gap + (gp - gap) q/ltrack [S]."""
    p = _p(params)
    return p["gap"] + (p["gp"] - p["gap"]) * np.asarray(q, dtype=float) / p["ltrack"]


def wall_velocity(current, params=None):
    """Free DW velocity v(J) [m/s] (without pinning) for a current [A]."""
    p = _p(params)
    j = np.asarray(current, dtype=float) / (p["wt"] * p["tfl"])
    sp = lambda x: np.logaddexp(0.0, x)  # noqa: E731
    jp, jn = p["jsm"] * sp((j - p["jdep"]) / p["jsm"]), p["jsm"] * sp((-j - p["jdep"]) / p["jsm"])
    return p["vsat"] * (np.tanh(p["mob"] * jp / p["vsat"]) - np.tanh(p["mob"] * jn / p["vsat"]))


def step_pulse_width(current: float, params=None, steps: int = 1) -> float:
    """Width [s] of a constant-current pulse moving the wall by ``steps`` sites: the pinned
    wall's mean speed is sqrt(v^2 - vpin^2) (Adler); ValueError below depinning."""
    p = _p(params)
    v = abs(float(wall_velocity(current, p)))
    if v <= p["vpin"]:
        raise ValueError(f"current {current:g} A does not depin the wall "
                         f"(v = {v:g} m/s <= vpin = {p['vpin']:g} m/s)")
    return steps * p["ltrack"] / p["nst"] / math.sqrt(v * v - p["vpin"] ** 2)


def programming_energy(t, v, i, windows=None):
    """Energy [J] delivered to the device, the integral of v*i dt (trapezoid), over the whole
    record or over each (t_start, t_end) window (one per programming pulse)."""
    t, power = np.asarray(t, dtype=float), np.asarray(v, dtype=float) * np.asarray(i, dtype=float)
    if windows is None:
        return float(np.trapezoid(power, t))
    out = []
    for a, b in windows:
        grid = np.unique(np.concatenate([[a, b], t[(t > a) & (t < b)]]))
        out.append(float(np.trapezoid(np.interp(grid, t, power), grid)))
    return np.array(out)


def pulse_waveforms(currents, width: float, period: float, *, edge: float = 20e-12,
                    xi=None, delay: float = 0.5e-9):
    """PWL (times, values) of a current source applying rectangular pulses (``edge`` rise and
    fall, ``width`` flat; one every ``period`` after ``delay``), and, with ``xi`` (one N(0,1)
    sample per pulse), the noise-input PWL: it ramps to pulse k's sample during pulse k's
    rising edge and holds it until the next pulse (0 before the first), so the wall lands at
    ``site + sigma xi_k``. Returns (t, i) or (t, i, t_xi, xi)."""
    from neurospice.compact_models.waveforms import pulse_train

    t, i, t_end = pulse_train(currents, width, period, edge=edge, delay=delay)
    if xi is None:
        return t, i
    tx, vx = [0.0], [0.0]
    prev = 0.0
    for k, x in enumerate(np.asarray(xi, dtype=float)):
        t0 = delay + k * period
        tx += [t0, t0 + edge]
        vx += [prev, x]
        prev = x
    tx.append(t_end)
    vx.append(prev)
    return t, i, np.array(tx), np.array(vx)


def simulate_pulses(currents, width: float, period: float, *, n_repeats: int = 1,
                    params=None, xi=None, dt: float = 10e-12, edge: float = 20e-12,
                    delay: float = 0.5e-9):
    """Current-driven pulse sequence, vectorised over ``n_repeats`` independent repeats (RK4
    with fixed step ``dt`` on the device's own numpy rendering, the current source's voltage
    being I/G(q)). ``xi``: (pulses, repeats) noise samples, held as in
    :func:`pulse_waveforms`. Returns (q after each pulse, shape (pulses + 1, repeats);
    energy per pulse [J], shape (pulses, repeats))."""
    p = _p(params)
    currents = np.asarray(currents, dtype=float)
    n_pulses = len(currents)
    xi = np.zeros((n_pulses, n_repeats)) if xi is None else np.asarray(xi, dtype=float)
    if xi.shape != (n_pulses, n_repeats):
        raise ValueError(f"xi must have shape {(n_pulses, n_repeats)}, got {xi.shape}")
    evaluate = DEVICE.numpy.equations
    q = np.full(n_repeats, p["q0"])
    zeros = np.zeros(n_repeats)
    out = np.empty((n_pulses + 1, n_repeats))
    energy = np.zeros((n_pulses, n_repeats))
    out[0] = q
    t_i, i_i = pulse_waveforms(currents, width, period, edge=edge, delay=delay)

    def rate(t, q, k):
        frac = min(max((t - (delay + k * period)) / edge, 0.0), 1.0)
        noise = (xi[k - 1] if k else zeros) * (1 - frac) + xi[k] * frac
        cur = np.interp(t, t_i, i_i)
        volts = {"p": cur / conductance(q, p), "n": zeros, "xi": noise}
        return evaluate(1.0, volts, {"q": q}, p)[1][0], cur * volts["p"]

    for k in range(n_pulses):
        t0 = delay + k * period
        n_steps = int(math.ceil(period / dt))
        h = period / n_steps
        for s in range(n_steps):
            t = t0 + s * h
            k1, pw1 = rate(t, q, k)
            k2, _ = rate(t + h / 2, q + h / 2 * k1, k)
            k3, _ = rate(t + h / 2, q + h / 2 * k2, k)
            k4, pw4 = rate(t + h, q + h * k3, k)
            q = q + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            energy[k] += 0.5 * h * (pw1 + pw4)
        out[k + 1] = q
    return out, energy
