"""Quantised domain-wall synapses (Misba et al., arXiv 2111.07284): a one-layer classifier
``softmax(alpha x W)`` whose weights are DW-MTJ devices with ``nst`` (2, 3, 5) stochastic
states (:class:`~.synapses.DWArray`: levels ``(2k + 1)/nst - 1``, landing noise ``sigma xi``,
the card's device-to-device spread of G_P and G_AP).

- In-situ: a high-precision accumulator per synapse collects ``-lr g``; when it exceeds the
  noise-tolerance margin ``margin`` times the level spacing, one step pulse moves the wall a
  site (towards the accumulated sign) and the spacing is taken off the accumulator; at an end
  site no pulse is sent. The network always computes with the devices' read weights.
- Ex-situ (the paper's precursor network): the same algorithm -- accumulator, margin,
  quantised forward pass -- run in software on the characterised device model (a
  :class:`~.synapses.DWArray` of nominal devices with the landing noise, no device-to-device
  spread), then its level indices are programmed from site 0 by step pulses into the real
  devices (with their own spread and landing noise). Only the transfer pulses are spent on
  the devices. (Rounding a floating-point network's weights to the levels instead, with the
  thresholds set by the largest weight, puts most weights of a 3-state array on the middle
  level and loses half the accuracy: the levels must be part of the training.)

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
    t0 = time.perf_counter()
    if mode == "in-situ":
        accumulate(arr, task, rng, epochs, batch, lr, margin, alpha)
    else:
        model = DWArray(shape, nst, rng, d2d=False, noisy=noisy)
        accumulate(model, task, rng, epochs, batch, lr, margin, alpha)
        arr.program_levels(model.level.reshape(shape))
    seconds = time.perf_counter() - t0
    return _result(task, arr, mode, alpha, seconds, len(task.y_train) * epochs)


def accumulate(arr: DWArray, task, rng, epochs: int, batch: int, lr: float, margin: float,
               alpha: float) -> None:
    """The in-situ algorithm on ``arr`` (see the module docstring): random initial levels
    (their pulses not counted), then ``epochs`` passes of minibatch gradients into the
    accumulator, a step pulse wherever it passes the margin."""
    shape = arr.shape
    nst = arr.nst
    spacing = 2.0 / nst
    x, y = task.x_train, task.y_train
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


def float_baseline(task, seed, *, epochs: int = 10, batch: int = 20, lr: float = 0.05,
                   alpha: float = 4.0) -> float:
    """The ideal-weight baseline: the same classifier with floating-point weights (plain
    minibatch SGD, same gradients and schedule); its test accuracy."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(-0.01, 0.01, (task.n_inputs, task.n_classes))
    x, y = task.x_train, task.y_train
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for s in range(0, len(y), batch):
            b = order[s:s + batch]
            w -= lr * softmax_grad(x[b], y[b], w, alpha)
    return float(np.mean(np.argmax(task.x_test @ w, axis=1) == task.y_test))
