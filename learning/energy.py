"""Energy accounting from the device models: the energy of one programming pulse (integrated
by the devices' own numpy pulse simulators) and of a read, and a ledger that adds them up per
update and per inference.

- RRAM SET/RESET steps and weak-RESET pulses: :func:`rram_pulse_energy` integrates ``V I`` over
  the pulse with :func:`~neurospice.compact_models.rram.variability.simulate_pulse_train`
  (Joule heating, the sinh I-V and the gap's motion included), at each device's gap.
- Domain-wall steps: :func:`dw_step_energy` runs one site-to-site current pulse through
  :func:`~neurospice.compact_models.dwmtj.simulate_pulses` (RK4 on the device's numpy
  rendering) and checks that the wall moved by one site.
- Reads: :func:`read_energy`, ``sum V^2 G t_read`` over the cells a read biases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from neurospice.errors import ArgumentError

#: Read pulse of every array: amplitude [V] on an active input and duration [s].
V_READ = 0.1
T_READ = 10e-9
#: Programming current of a domain-wall step [A] (J = 1e12 A/m^2 on the default track).
DW_CURRENT = 75e-6


def rram_pulse_energy(amplitude: float, width: float, gaps, params=None, *,
                      steps_flat: int = 20, steps_edge: int = 4) -> np.ndarray:
    """Energy [J] one trapezoidal pulse of ``amplitude`` [V] and ``width`` [s] dissipates in
    RRAM devices starting at ``gaps`` [m] (any shape; ``params``: scalars or arrays of the
    same size), from the pulse-level simulator of the gap model."""
    from neurospice.compact_models.rram.variability import simulate_pulse_train

    g = np.asarray(gaps, dtype=float)
    res = simulate_pulse_train(np.full(1, amplitude), width, n_devices=g.size, params=params,
                               gap0=g.reshape(-1), steps_flat=steps_flat,
                               steps_edge=steps_edge)
    return res.energy[0].reshape(g.shape)


@lru_cache(maxsize=16)
def dw_step(nst: int, current: float = DW_CURRENT) -> tuple[float, float, float]:
    """One site-to-site step of the default DW device with ``nst`` sites at ``current`` [A]:
    (pulse width [s], energy [J], distance moved in pitches) from the device's numpy
    rendering (:func:`~neurospice.compact_models.dwmtj.simulate_pulses`)."""
    from neurospice.compact_models import dwmtj

    params = {"nst": float(nst), "q0": float(dwmtj.sites({"nst": float(nst)})[0])}
    width = dwmtj.step_pulse_width(current, params)
    period = width + 1e-9
    q, energy = dwmtj.simulate_pulses([current], width, period, params=params, dt=5e-12)
    pitch = dwmtj.DEVICE.params(params)["ltrack"] / nst
    return width, float(energy[0, 0]), float((q[1, 0] - q[0, 0]) / pitch)


def dw_step_energy(nst: int, current: float = DW_CURRENT) -> float:
    """Energy [J] of one site-to-site DW programming pulse (see :func:`dw_step`); an
    ArgumentError where the pulse does not move the wall by one site (within 10 %)."""
    width, energy, moved = dw_step(int(nst), float(current))
    if abs(moved - 1.0) > 0.1:
        raise ArgumentError(f"a {current:g} A, {width:g} s pulse moved the wall by {moved:.3f} "
                            f"sites with nst={nst}, not one")
    return energy


def read_energy(conductances, inputs, v_read: float = V_READ, t_read: float = T_READ) -> float:
    """Energy [J] of one read: ``sum_i sum_j (x_i v_read)^2 G_ij t_read`` for inputs ``x`` in
    [0, 1] (rows) on a conductance matrix (rows, columns) [S]."""
    x = np.asarray(inputs, dtype=float)
    return float(((x * v_read) ** 2) @ np.asarray(conductances, dtype=float).sum(axis=1)
                 * t_read)


@dataclass
class EnergyLedger:
    """Programming and read energy [J] of a training run and its inferences."""

    programming: float = 0.0
    pulses: int = 0
    updates: int = 0
    reads: float = 0.0
    inferences: int = 0
    notes: dict = field(default_factory=dict)

    def add_pulses(self, energy, count: int = 1) -> None:
        self.programming += float(np.sum(energy))
        self.pulses += int(count)

    def add_reads(self, energy: float, inferences: int) -> None:
        self.reads += float(energy)
        self.inferences += int(inferences)

    @property
    def per_update(self) -> float:
        """Programming energy per update event [J] (0 without updates)."""
        return self.programming / self.updates if self.updates else 0.0

    @property
    def per_inference(self) -> float:
        """Read energy per inference [J] (0 without inferences)."""
        return self.reads / self.inferences if self.inferences else 0.0

    def summary(self) -> dict:
        return {"programming_J": self.programming, "pulses": self.pulses,
                "updates": self.updates, "per_update_J": self.per_update,
                "read_per_inference_J": self.per_inference, **self.notes}
