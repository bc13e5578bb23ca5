"""Spin-diode resonator: the RF synapse (docs/physics/spin_diode.md).

The free-layer deviation ``x`` is a driven, damped oscillator; the device resistance
``R = r0 + dr*x`` oscillates with it and mixes with the RF current, so that a transient with an
RF source shows the rectified (spin-diode) DC voltage. With ``y = dx/dt / w0`` (w0 = 2 pi f_res):

    dx/dt = w0*y + b*I
    dy/dt = a*I/w0 - 2*alpha*w0*y - w0*x,         I = v(p, n) / (r0 + dr*x)

Small-signal response x = H(w) I, H = (a + b (j w + 2 alpha w0)) / (w0^2 - w^2 + 2 j alpha w0 w);
the DC voltage of an RF current of amplitude I0 is V_dc = (dr/2) I0^2 Re H(w). Written with the
power P = r0 I0^2 / 2 delivered to the junction:

    V_dc = P (dr / r0) Re H(w)

whose antisymmetric part (from a) vanishes at f_res and peaks at f_res (1 -+ alpha), and whose
symmetric part (from b, the torque in quadrature) peaks at f_res. The couplings are set from
the measured sensitivities: ``k_sd`` = peak antisymmetric voltage per watt (so V_dc = +-k_sd P at
f_res (1 +- alpha), positive above resonance, as in the seed network's envelope), ``k_sym`` =
symmetric voltage per watt at resonance. That is: b = 2 alpha w0 k_sym r0/dr,
a = -4 alpha w0^2 k_sd r0/dr - 2 alpha w0 b.

The resonance ``f_res`` (set by a DC bias or field) is the weight. Reversing a junction's
terminals reverses the sign of its rectified voltage: chains alternate polarity that way.
:func:`envelope` is the fast rendering: V_dc(f, P) from the same formula, vectorised.
"""

from __future__ import annotations

import numpy as np

from neurospice.compact_models.framework import Device, Parameter, State

TWO_PI = 2 * np.pi

DEVICE = Device(
    name="spin_diode",
    description="spin-diode resonator (RF synapse): driven damped magnetisation oscillator",
    terminals=("p", "n"),
    parameters=(
        Parameter("f_res", "Hz", 5e9, 1e6, 1e12, "resonance frequency (the synaptic weight)",
                  "docs/physics/spin_diode.md", lower_open=True),
        Parameter("alpha", "", 0.01, 1e-5, 0.5, "damping (half-width at half maximum / f_res)",
                  "docs/physics/spin_diode.md: 0.01"),
        Parameter("k_sd", "V/W", 8800.0, -1e7, 1e7, "antisymmetric rectified voltage per watt "
                  "(peak, at f_res (1 + alpha))", "docs/physics/spin_diode.md: K_SD ~ 8.8 mV/uW"),
        Parameter("k_sym", "V/W", 0.0, -1e7, 1e7, "symmetric rectified voltage per watt at "
                  "f_res", "Tulapurkar 2005: symmetric part from the quadrature torque"),
        Parameter("r0", "ohm", 1e3, 1.0, 1e9, "junction resistance at rest", "docs/physics/stno.md: 1 kohm"),
        Parameter("dr", "ohm", 500.0, 1e-3, 1e9, "resistance change per unit deviation x",
                  "TMR of the junction"),
    ),
    states=(State("x", "", 1.0, 0.0, "free-layer deviation (resistance r0 + dr x)"),
            State("y", "", 1.0, 0.0, "normalised velocity (dx/dt) / (2 pi f_res)")),
    locals=(
        ("w0", f"{TWO_PI!r} * f_res"),
        ("cur", "v(p, n) / (r0 + dr*x)"),
        ("bq", "2*alpha*w0*k_sym*r0/dr"),
        ("aq", "-4*alpha*w0*w0*k_sd*r0/dr - 2*alpha*w0*bq"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"x": "w0*y + bq*cur",
           "y": "aq*cur/w0 - 2*alpha*w0*y - w0*x"},
    references=("Tulapurkar et al., Nature 438, 339 (2005)",
                "docs/physics/spin_diode.md (seed network's envelope)"),
)


def response(freq_hz, params=None) -> np.ndarray:
    """The complex small-signal response H(w) = x / I (1/A) at ``freq_hz``."""
    p = DEVICE.params(params)
    w0 = TWO_PI * p["f_res"]
    w = TWO_PI * np.asarray(freq_hz, dtype=float)
    b = 2 * p["alpha"] * w0 * p["k_sym"] * p["r0"] / p["dr"]
    a = -4 * p["alpha"] * w0**2 * p["k_sd"] * p["r0"] / p["dr"] - 2 * p["alpha"] * w0 * b
    return (a + b * (1j * w + 2 * p["alpha"] * w0)) / (w0**2 - w**2 + 2j * p["alpha"] * w0 * w)


def envelope(freq_hz, power_w, params=None) -> np.ndarray:
    """Rectified DC voltage (V) for RF power ``power_w`` (W, into the junction) at
    ``freq_hz``: V_dc = P (dr/r0) Re H. Arrays broadcast (a batch of inputs x frequencies)."""
    p = DEVICE.params(params)
    return np.asarray(power_w, dtype=float) * p["dr"] / p["r0"] * response(freq_hz, p).real


def envelope_lorentzian(freq_hz, power_w, params=None) -> np.ndarray:
    """The seed network's near-resonance form (docs/physics/spin_diode.md): antisymmetric plus symmetric
    Lorentzian, k_sd P 2 a f0 (f - f0) / ((a f0)^2 + (f - f0)^2) + k_sym P (a f0)^2 / (...).
    Equal to :func:`envelope` to first order in alpha."""
    p = DEVICE.params(params)
    f0, hw = p["f_res"], p["alpha"] * p["f_res"]
    df = np.asarray(freq_hz, dtype=float) - f0
    den = hw**2 + df**2
    return np.asarray(power_w, dtype=float) * (p["k_sd"] * 2 * hw * df + p["k_sym"] * hw**2) / den
