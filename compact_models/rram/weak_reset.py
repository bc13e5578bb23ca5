"""The seed's weak-RESET statistics reproduced by the *physical* gap model: each device of the
statistical ensemble (:mod:`.variability`) mapped to physical per-device parameters, and a
Monte-Carlo that drives the physical model with identical weak-RESET pulses.

The problem. The seed's model (docs/physics/rram.md) says that after ``n`` weak-RESET pulses
``ln(R/R0) = w_mean(n) + w_RTN(n) + w_1/f(n)`` with a two-slope drift
``w_mean = m1 n + c1`` before the knee ``n*`` and slope ``m2`` after it. The physical model
(:mod:`neurospice.compact_models.rram`) reads ``ln R = g/g0 + const`` at a low read voltage, so
a slope in ``ln R`` per pulse is a gap step ``g0 m`` per pulse, and a pulse moves the gap by
the time integral of ``vel0 exp(-ea/kT) sinh(gamma a0 V/(tox kT))`` over the pulse.

Choice: **identical pulses for every device** (amplitude :data:`AMPLITUDE`, width
:data:`WIDTH`, the module's weak-RESET pulse), and the device-to-device variability carried by
the *device* parameters. Varying the pulse per device would make ``m1`` and ``m2`` properties
of the test set-up rather than of the device, and would need a second pulse condition for the
knee; a crossbar applies one pulse to many cells, so the variability must live in the cells.
The mapping, per device (:func:`map_devices`):

- ``R0`` and ``c1`` -> the initial gap: ``g(R0)`` is the gap whose read resistance is ``R0``
  (:func:`~neurospice.compact_models.rram.gap_for_resistance`), and ``gi = g(R0) + g0 c1``.
- ``m1`` -> the activation energy ``ea``: the gap step per pulse is proportional to
  ``exp(-ea/kT)``, so ``ea = ea_ref + kT ln(dg_ref / (g0 m1))``, with ``dg_ref`` and ``kT``
  (the pulse's effective temperature, Joule heating included) measured by integrating one pulse
  at two trial values with the same integrator the Monte-Carlo uses (its discretisation error
  is calibrated away). The seed's ``m1`` spans 3.7e-5 ... 7.6e-3 per pulse, a 200x range: a
  0.14 eV spread of the hopping barrier around 0.6 eV -- an ordinary spread for vacancy
  hopping. (``vel0`` would do the same numerically; the barrier is the physical quantity that
  varies from filament to filament, and its effect shrinks at the high temperatures of a full
  SET, as it should.)
- The first slope is *linear* in ``n``: the seed's drift does not decelerate before the knee.
  In the Stanford model the only gap dependence of the weak-RESET rate is the field
  enhancement ``gamma = gamma0 - beta (g/g1)^3`` (Joule heating is ~0.03 K at these currents):
  with the default ``beta`` a device whose ``ln R`` rises by 1 before its knee would slow by
  ~30 % over it (the "slowing drift" seen before this mapping). A linear first slope is a
  calibration of that dependence to zero, so the ensemble card has ``beta = 0``
  (:data:`ENSEMBLE_CARD`; the field enhancement stays ``gamma0``).
- ``n*`` and ``m2`` -> **a knee in the hopping barrier**: the device has an activation energy
  ``ea + dea sigmoid((g - gk)/dk)``. Physically, the filament's tip leaves the vacancy-rich
  region left by forming at the gap ``gk``; growing the gap further needs ions from the depleted
  oxide beyond it, with a higher barrier. The rate falls by ``exp(-dea/kT)`` across the step,
  so ``dea = kT ln(m1/m2)`` (negative for the few devices whose seed slope rises after the
  knee, ``m2 > m1``; ``m2`` is floored at :data:`M2_FLOOR` ``m1``). The step is placed so that
  the trajectory's asymptote after the knee is exactly the seed's second line:
  ``gk = gi + g0 m1 n* - dk D(r)/(1 - r)``, with ``r = m1/m2`` and
  ``D(r) = int [r^sigmoid(u) - step(u)] du`` (:func:`knee_correction`: a smooth step delays
  the slow-down compared with a sharp one). Its width ``dk`` is :data:`KNEE_SHARPNESS` of the
  gap's travel before the knee (a sharp knee), but at least :data:`KNEE_FLOOR` gap steps (so a
  pulse never jumps across it).
- ``gmax``, the HRS bound, lies beyond the gap reached after the train (the rare fast-drifting
  devices of the seed's ensemble reach gaps above the default 1.7 nm).

Noise. The seed's cycle-to-cycle noise is stationary in ``ln R`` -- it does not accumulate
from pulse to pulse -- so it is not a fluctuation of the gap's step (``sc2c``: that would add
up as a random walk) but of the *read* conduction: an electron trapped near the filament
modulates the tunnelling current (one trap: RTN; many traps with spread time constants: 1/f).
The device reads it through its noise input ``xi``: ``I = i0 exp(-g/g0 - sread xi)
sinh(V/v0)``. The ensemble uses ``sread = 1`` and feeds ``xi`` with the seed's RTN Markov chain
plus its fractionally integrated 1/f noise (in units of ``ln R``), one value per pulse, held
through the pulse and the read that follows it (:func:`physical_weak_reset_montecarlo`; in
SPICE, :func:`~.variability.pulse_train_waveforms` makes the same per-pulse PWL). The trap
does not move the gap (only the ~mK change of the Joule heating, which is kept).

Speed: the Monte-Carlo uses :func:`~.variability.simulate_pulse_train` (the device's own
numpy rendering, vectorised over devices) with :data:`STEPS` sub-steps per pulse -- the rate is
constant on the flat top away from the knee, so two flat steps suffice, and the ea calibration
absorbs the residual discretisation error; 100 devices x 2000 pulses take a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from neurospice.compact_models.rram import DEVICE, gap_for_resistance, read_resistance
from neurospice.compact_models.rram import variability as var
from neurospice.errors import NetlistError

#: The weak-RESET pulse applied to every device (V across p-n, flat-top width [s]).
AMPLITUDE = var.WEAK_RESET_AMPLITUDE
WIDTH = var.WEAK_RESET_WIDTH
#: Card overrides of the ensemble: no gap dependence of the field enhancement (linear drift),
#: no rate noise (the seed's noise is read noise), the read noise at unit gain.
ENSEMBLE_CARD = {"beta": 0.0, "sc2c": 0.0, "sread": 1.0}
#: Sub-steps per pulse of the Monte-Carlo's pulse-level integration.
STEPS = {"steps_flat": 2, "steps_edge": 4}
#: Knee width as a fraction of the gap's travel before the knee, and its floor in gap steps.
KNEE_SHARPNESS = 0.002
KNEE_FLOOR = 0.25
#: The smallest second slope, relative to m1 (m2 = 0 would need an infinite barrier step).
M2_FLOOR = 1e-9
#: Margin between the gap reached after the train and the HRS bound gmax [m].
GMAX_MARGIN = 0.3e-9
#: The read voltage of R.
V_READ = 0.1


def knee_correction(r) -> np.ndarray:
    """``D(r)/(1 - r)`` with ``D(r) = int [r^s(u) - step(u)] du`` over the real line,
    ``s`` the logistic sigmoid and ``step`` 1 below 0, ``r`` above: how far (in units of the
    step width ``dk``) a smooth barrier step must sit *before* the sharp knee so that the
    trajectory after it follows the seed's second line. 0 where ``r = 1`` (no knee)."""
    r = np.atleast_1d(np.asarray(r, dtype=float))
    lnr = np.log(r)
    u = np.linspace(-80.0, 80.0, 16001)
    s = 0.5 + 0.5 * np.tanh(0.5 * u)
    out = np.zeros(r.size)
    for k in range(r.size):
        if abs(lnr[k]) < 1e-9:
            continue
        # r^s - step, scaled by max(1, r) so large r stays well conditioned
        scale = max(1.0, r[k])
        integrand = np.exp(lnr[k] * s - math.log(scale)) - np.where(u < 0, 1.0, r[k]) / scale
        out[k] = np.trapezoid(integrand, u) * scale / (1.0 - r[k])
    return out


def _one_pulse(params, gap, n_devices, amplitude, width, steps):
    res = var.simulate_pulse_train(np.full(1, amplitude), width, n_devices=n_devices,
                                   params=params, gap0=gap, **steps)
    return res.gap[1] - res.gap[0]


def map_devices(devices: Mapping[str, np.ndarray], n_pulses: int = 2000, *,
                amplitude: float = AMPLITUDE, width: float = WIDTH, card=None,
                steps=None) -> dict[str, np.ndarray]:
    """Physical per-device parameters reproducing the seed devices ``devices`` (``m1``,
    ``n_star``, ``c1``, ``m2``, ``r0``: arrays, as :func:`~.variability.draw_seed_devices`
    gives) under identical pulses of ``amplitude`` and ``width``. Returns the parameter dict
    for :func:`~.variability.simulate_pulse_train` (per-device arrays ``gi``, ``ea``,
    ``gk``, ``dk``, ``dea``, ``gmax`` and the scalar card) plus ``g_r0`` (the gap whose read
    resistance is ``R0``; not a device parameter). ``n_pulses`` sizes ``gmax``."""
    steps = dict(STEPS if steps is None else steps)
    base = DEVICE.params({**ENSEMBLE_CARD, **(card or {})})
    m1 = np.asarray(devices["m1"], dtype=float)
    n = m1.size
    m2 = np.maximum(np.asarray(devices["m2"], dtype=float), M2_FLOOR * m1)
    ns = np.asarray(devices["n_star"], dtype=float)
    c1 = np.asarray(devices["c1"], dtype=float)
    r0 = np.asarray(devices["r0"], dtype=float)
    if np.any(m1 <= 0) or np.any(ns <= 0) or np.any(r0 <= 0):
        raise NetlistError("m1, n_star and r0 must be positive")
    g0 = base["g0"]
    g_r0 = gap_for_resistance(r0, V_READ, base)
    gi = g_r0 + g0 * c1
    scalars = {k: v for k, v in base.items()
               if k not in ("gi", "ea", "gk", "dk", "dea", "gmax")}
    trial = {**scalars, "gi": gi, "gmax": np.full(n, max(base["gmax"], float(gi.max()) + 1e-9))}
    # the gap step per pulse at two trial barriers: dg = A exp(-ea/kT_eff)
    ea_a, ea_b = base["ea"], base["ea"] + 0.02
    dg_a = _one_pulse({**trial, "ea": np.full(n, ea_a)}, gi, n, amplitude, width, steps)
    dg_b = _one_pulse({**trial, "ea": np.full(n, ea_b)}, gi, n, amplitude, width, steps)
    if np.any(dg_a <= 0) or np.any(dg_b <= 0):
        raise NetlistError(f"a {amplitude} V pulse does not raise the gap: not a RESET pulse")
    kt = (ea_b - ea_a) / np.log(dg_a / dg_b)
    step1 = g0 * m1
    ea = ea_a + kt * np.log(dg_a / step1)
    ratio = m1 / m2
    dea = kt * np.log(ratio)
    travel = step1 * ns
    dk = np.maximum(KNEE_SHARPNESS * travel, KNEE_FLOOR * step1)
    gk = gi + travel - dk * knee_correction(ratio)
    drift_end = var.drift(np.array([float(n_pulses)]), {"m1": m1, "m2": m2, "n_star": ns,
                                                        "c1": c1})[0]
    gmax = np.maximum(base["gmax"], g_r0 + g0 * np.maximum(drift_end, 0.0) + GMAX_MARGIN)
    out = {**scalars, "gi": gi, "ea": ea, "dea": dea, "gk": gk, "dk": dk, "gmax": gmax}
    # raises, naming the parameter and its bound, where a mapped value leaves the table
    DEVICE.param_arrays({k: out[k] for k in ("ea", "dea", "gk", "dk", "gmax", "gi")},
                        np.size(out["ea"]))
    out["g_r0"] = g_r0
    return out


def log_resistance_ratio(gap, xi, params: Mapping, v_read: float = V_READ) -> np.ndarray:
    """``ln(R/R0)`` read at ``v_read`` for gaps ``gap`` (rows: reads, columns: devices) with
    the trap noise ``xi`` present at each read, for parameters from :func:`map_devices`
    (``R0`` is the read resistance at ``params["g_r0"]``)."""
    p = {k: v for k, v in params.items() if np.ndim(v) == 0}
    return (np.log(read_resistance(gap, v_read, p) / read_resistance(params["g_r0"], v_read, p))
            + params["sread"] * np.asarray(xi, dtype=float))


@dataclass
class PhysicalWeakResetRun:
    """A Monte-Carlo of the physical model under identical weak-RESET pulses, device by device
    the seed's ensemble (``seed_run``: the same devices and the same noise realisation).
    Arrays of shape (pulses + 1, devices), row n after n pulses: ``gap`` [m], ``xi`` the trap
    noise at each read, ``w = ln(R/R0)`` read at :data:`V_READ`; ``params`` the mapped
    per-device parameters; ``energy`` [J] per pulse (pulses, devices)."""

    pulse: np.ndarray
    devices: dict
    params: dict
    gap: np.ndarray
    xi: np.ndarray
    w: np.ndarray
    energy: np.ndarray
    seed_run: var.WeakResetRun

    @property
    def w_drift(self) -> np.ndarray:
        """The noiseless part of ln(R/R0): the gap's drift, (g - g(R0))/g0."""
        return (self.gap - self.params["g_r0"][None, :]) / self.params["g0"]

    @property
    def rtn_state(self) -> np.ndarray:
        return self.seed_run.rtn_state

    @property
    def w_rtn(self) -> np.ndarray:
        return self.seed_run.w_rtn

    @property
    def w_flicker(self) -> np.ndarray:
        return self.seed_run.w_flicker

    @property
    def resistance(self) -> np.ndarray:
        return self.devices["r0"][None, :] * np.exp(self.w)


def physical_weak_reset_montecarlo(n_devices: int, n_pulses: int, seed, *,
                                   amplitude: float = AMPLITUDE, width: float = WIDTH,
                                   steps=None) -> PhysicalWeakResetRun:
    """``n_devices`` devices of the seed's ensemble (drawn, with their RTN and 1/f noise, as
    :func:`~.variability.weak_reset_montecarlo` draws them for the same ``seed``), mapped to the
    physical model (:func:`map_devices`) and driven by ``n_pulses`` identical weak-RESET pulses
    through the pulse-level simulator, the trap noise on the noise input."""
    steps = dict(STEPS if steps is None else steps)
    seed_run = var.weak_reset_montecarlo(n_devices, n_pulses, seed)
    params = map_devices(seed_run.devices, n_pulses, amplitude=amplitude, width=width,
                         steps=steps)
    noise = seed_run.w_rtn + seed_run.w_flicker          # ln R units; sread = 1
    sim = {k: v for k, v in params.items() if k != "g_r0"}
    res = var.simulate_pulse_train(np.full(n_pulses, amplitude), width, n_devices=n_devices,
                                   params=sim, xi=noise[1:] / params["sread"], **steps)
    xi = noise / params["sread"]
    w = log_resistance_ratio(res.gap, xi, params)
    return PhysicalWeakResetRun(seed_run.pulse, seed_run.devices, params, res.gap, xi, w,
                                res.energy, seed_run)
