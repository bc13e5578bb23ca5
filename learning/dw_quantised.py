"""Quantised domain-wall synapses (Misba et al., arXiv 2111.07284): a one-layer classifier
``softmax(alpha x W)`` whose weights are DW-MTJ devices with ``nst`` (2, 3, 5) stochastic
states (:class:`~.synapses.DWArray`: levels ``(2k + 1)/nst - 1``, landing noise ``sigma xi``,
the card's device-to-device spread of G_P and G_AP).

- In-situ: a high-precision accumulator per synapse collects ``-lr g``; when it exceeds the
  noise-tolerance margin ``margin`` times the level spacing, one step pulse moves the wall a
  site (towards the accumulated sign) and the spacing is taken off the accumulator; at an end
  site no pulse is sent. The network always computes with the devices' read weights.
- Ex-situ: the same classifier trained in floating point, each weight rounded to the nearest
  level (after scaling by its largest magnitude) and programmed from site 0 by step pulses.

Energy: every step pulse costs :func:`~.energy.dw_step_energy` (the device model's pulse), a
read :func:`~.energy.read_energy` of the inputs on the conductances; the programming energy is
also reported per inference, amortised over the training presentations (the paper's figure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError
from neurospice.learning.energy import read_energy
from neurospice.learning.synapses import DWArray


@dataclass
class DWResult:
    nst: int
    mode: str
    accuracy: float
    pulses: int
    programming_J: float
    programming_per_inference_J: float
    read_per_inference_J: float
    seconds: float
    samples: int
    array: DWArray


def softmax_grad(x, y, w, alpha):
    z = alpha * (x @ w)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return alpha * x.T @ p / len(y)


def _result(task, arr, mode, alpha, seconds, samples):
    g = arr.conductance()
    acc = float(np.mean(np.argmax(task.x_test @ arr.weights(), axis=1) == task.y_test))
    reads = np.mean([read_energy(g, xs) for xs in task.x_test])
    return DWResult(arr.nst, mode, acc, arr.pulses, arr.energy,
                    arr.energy / max(samples, 1), float(reads), seconds, samples, arr)


def train(task, nst: int, seed, *, mode: str = "in-situ", epochs: int = 10, batch: int = 20,
          lr: float = 0.05, margin: float = 1.0, alpha: float = 4.0, d2d: bool = True,
          noisy: bool = True) -> DWResult:
    """Train the DW classifier with ``nst`` states, ``mode`` "in-situ" or "ex-situ"."""
    if mode not in ("in-situ", "ex-situ"):
        raise ArgumentError(f"mode must be 'in-situ' or 'ex-situ', got {mode!r}")
    if margin < 0.5:
        raise ArgumentError("margin must be >= 0.5 of a level spacing")
    rng = np.random.default_rng(seed)
    shape = (task.n_inputs, task.n_classes)
    arr = DWArray(shape, nst, rng, d2d=d2d, noisy=noisy)
    x, y = task.x_train, task.y_train
    spacing = 2.0 / nst
    t0 = time.perf_counter()
    if mode == "in-situ":
        arr.program_levels(rng.integers(0, nst, shape))
        arr.pulses, arr.energy = 0, 0.0          # the initial state is not training energy
        acc = np.zeros(shape)
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for s in range(0, len(y), batch):
                b = order[s:s + batch]
                acc -= lr * softmax_grad(x[b], y[b], arr.weights(), alpha)
                direction = np.where(acc > margin * spacing, 1,
                                     np.where(acc < -margin * spacing, -1, 0))
                before = arr.level.copy().reshape(shape)
                arr.step(direction)
                moved = arr.level.reshape(shape) - before
                acc -= moved * spacing
                acc = np.clip(acc, -margin * spacing, margin * spacing)
    else:
        w = rng.uniform(-0.01, 0.01, shape)
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for s in range(0, len(y), batch):
                b = order[s:s + batch]
                w -= lr * softmax_grad(x[b], y[b], w, alpha)
        scaled = w / np.max(np.abs(w)) * arr.levels[-1]
        levels = np.argmin(np.abs(scaled[..., None] - arr.levels), axis=-1)
        arr.program_levels(levels)
    seconds = time.perf_counter() - t0
    return _result(task, arr, mode, alpha, seconds, len(y) * epochs)
