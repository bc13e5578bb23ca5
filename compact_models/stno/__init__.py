"""Spin-torque nano-oscillator: the RF neuron (docs/physics/stno.md).

The universal auto-oscillator model (Slavin-Tiberkevich) for the complex amplitude
c = a + j b = sqrt(p) exp(-j phi), written in Cartesian form so that the states stay bounded
(a phase state would grow without end and lose precision):

    da/dt =  w(p) b + g a + sigma_phi xi(t) (-b)
    db/dt = -w(p) a + g b + sigma_phi xi(t) a
    g = -gamma_g (1 + q p) + (gamma_g / i_th) I (1 - p),   w(p) = 2 pi (f0 + n_shift p)

so dp/dt = -2 [gamma_g (1 + q p) - sigma I (1 - p)] p with sigma = gamma_g / i_th (threshold
I_th = gamma_g / sigma), and dphi/dt = w(p) + phase noise. Above threshold the stationary power
is p = (xi - 1)/(xi + q), xi = I / i_th; below it the oscillation dies out. The resistance
oscillates, R = r0 + dr a, so under a DC current the output voltage is I r0 plus the RF part
I dr sqrt(p) cos(phi). The oscillation starts from a small seed amplitude ``a0`` (an exactly
zero amplitude is a fixed point; physically thermal noise starts it).

Noise input ``xi``: a dimensionless N(0,1) sample per noise slot; ``sigma_phi`` (rad/s per unit
sample) turns it into phase noise (it rotates c without changing p). Tie to ground if unused.
"""

from __future__ import annotations

import numpy as np

from neurospice.compact_models.framework import Device, Parameter, State

TWO_PI = 2 * np.pi

DEVICE = Device(
    name="stno",
    description="spin-torque nano-oscillator (RF neuron): universal auto-oscillator model",
    terminals=("p", "n"),
    noise_inputs=("xi",),
    parameters=(
        Parameter("f0", "Hz", 5e9, 1e6, 1e12, "linear (small-amplitude) frequency",
                  "docs/physics/stno.md", lower_open=True),
        Parameter("n_shift", "Hz", -1e9, -1e12, 1e12, "nonlinear frequency shift N/2pi per unit "
                  "power p", "Slavin & Tiberkevich, IEEE Trans. Magn. 45, 1875 (2009)"),
        Parameter("gamma_g", "1/s", 3e8, 1e3, 1e12, "positive (Gilbert) damping rate",
                  "~ alpha w0", lower_open=True),
        Parameter("i_th", "A", 10e-6, 1e-9, 1.0, "threshold current", "docs/physics/stno.md: 10 uA"),
        Parameter("q", "", 2.0, 0.0, 100.0, "nonlinear damping Q", "docs/physics/stno.md: Q = 2"),
        Parameter("r0", "ohm", 1e3, 1.0, 1e9, "junction resistance", "docs/physics/stno.md: 1 kohm"),
        Parameter("dr", "ohm", 100.0, 0.0, 1e9, "resistance oscillation at p = 1",
                  "TMR x oscillation cone"),
        Parameter("a0", "", 1e-3, 0.0, 1.0, "seed amplitude (initial a)", ""),
        Parameter("sigma_phi", "rad/s", 0.0, 0.0, 1e13, "phase-noise gain per unit noise sample",
                  "0: deterministic"),
    ),
    states=(State("a", "", 1.0, "a0", "real part of the amplitude, sqrt(p) cos(phi)"),
            State("b", "", 1.0, 0.0, "imaginary part, -sqrt(p) sin(phi)")),
    locals=(
        ("cur", "v(p, n) / (r0 + dr*a)"),
        ("pw", "a*a + b*b"),
        ("gain", "-gamma_g*(1 + q*pw) + gamma_g/i_th*cur*(1 - pw)"),
        ("w", f"{TWO_PI!r} * (f0 + n_shift*pw) + sigma_phi*v(xi)"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"a": "w*b + gain*a", "b": "-w*a + gain*b"},
    references=("Slavin & Tiberkevich, IEEE Trans. Magn. 45, 1875 (2009)",
                "docs/physics/stno.md"),
)


def stationary_power(current_a, params=None) -> np.ndarray:
    """Normalised power p(I) = (xi - 1)/(xi + q) above threshold, 0 below (xi = I/i_th)."""
    p = DEVICE.params(params)
    xi = np.asarray(current_a, dtype=float) / p["i_th"]
    return np.where(xi > 1, (xi - 1) / (xi + p["q"]), 0.0)


def stationary_frequency(current_a, params=None) -> np.ndarray:
    """Oscillation frequency (Hz) at the stationary power: f0 + n_shift p(I)."""
    p = DEVICE.params(params)
    return p["f0"] + p["n_shift"] * stationary_power(current_a, p)


def rf_amplitude(current_a, params=None) -> np.ndarray:
    """Amplitude (V) of the RF voltage under DC current I: I dr sqrt(p(I))."""
    p = DEVICE.params(params)
    i = np.asarray(current_a, dtype=float)
    return i * p["dr"] * np.sqrt(stationary_power(i, p))
