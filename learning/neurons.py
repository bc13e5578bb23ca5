"""Vectorised leaky integrate-and-fire layers for the spiking networks (Euler steps of ``dt``,
arrays of shape (batch, neurons)).

- :class:`InputLIF`: the presynaptic neurons of VDSP. Each integrates a current set by its
  pixel, ``dV/dt = -V/tau + I``, ``I = bias + gain x``, fires at ``V >= 1`` and is reset to
  ``-1``; so ``V < 0`` means it fired recently and ``V > 0`` that it is charging. The bias sets
  the resting potential of a dark pixel (``bias tau``), a pixel brighter than
  ``(1/tau - bias)/gain`` fires periodically.
- :class:`OutputLIF`: the postsynaptic layer: leaky integration of the synaptic current,
  adaptive thresholds (each spike raises the neuron's threshold by ``theta_plus``, which decays
  with ``tau_theta``; frozen for inference) and hard winner-take-all (only the neuron furthest
  above threshold fires in a step, then every membrane of its sample is reset: lateral
  inhibition).

The NbOx neurons of :mod:`neurospice.circuits.neurons` are relaxation oscillators with the
same integrate/fire/reset behaviour; these layers are their rate-level abstraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class InputLIF:
    tau: float = 10.0
    bias: float = 0.05
    gain: float = 0.3
    v_reset: float = -1.0
    v_th: float = 1.0

    def start(self, x, rng) -> np.ndarray:
        """Initial membranes (uniform in [v_reset, v_th): the inputs start out of phase)."""
        return rng.uniform(self.v_reset, self.v_th, np.shape(x))

    def step(self, v, x, dt: float = 1.0):
        """One Euler step: returns (new membranes, spikes as booleans)."""
        v = v + dt * (-v / self.tau + self.bias + self.gain * x)
        spikes = v >= self.v_th
        return np.where(spikes, self.v_reset, v), spikes


@dataclass
class OutputLIF:
    n: int
    tau: float = 20.0
    theta0: float = 5.0
    theta_plus: float = 0.5
    tau_theta: float = 2000.0

    def __post_init__(self):
        self.theta = np.zeros(self.n)

    def step(self, v, current, dt: float = 1.0, adapt: bool = True):
        """One Euler step with winner-take-all: returns (new membranes, winner index per
        sample or -1)."""
        v = v + dt * (-v / self.tau) + current
        over = v - (self.theta0 + self.theta)
        win = np.argmax(over, axis=1)
        fired = over[np.arange(v.shape[0]), win] > 0
        winner = np.where(fired, win, -1)
        if adapt:
            self.theta *= np.exp(-dt / self.tau_theta)
            if np.any(fired):
                np.add.at(self.theta, win[fired], self.theta_plus)
        v = np.where(fired[:, None], 0.0, v)
        return v, winner
