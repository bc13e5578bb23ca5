"""Metaplastic binarized networks (Laborieux et al., arXiv 2101.07592): every binary weight
``sign(W_h)`` has a hidden weight ``W_h`` trained by gradient steps normalised per layer (``-lr g/rms(g)``; the paper uses
Adam, whose per-weight normalisation flips unconsolidated signs at every step here), and updates that move ``W_h``
towards zero are scaled by ``1 - tanh^2(m W_h)``, so consolidated synapses (large ``|W_h|``)
resist flipping and a network learning tasks in sequence forgets the earlier ones less.
``m = 0`` is the plain BNN (hidden weights clipped to [-1, 1], Courbariaux et al.).

Device mapping (``quantum``): the hidden weight as the pulse-count difference of a weak-RESET
2T2R pair with linear drift (``W_h = quantum (n_BL - n_BLb)``, one pulse per quantum): each
update is rounded stochastically to whole pulses, and the pulses are counted.

The network and its gradients are :mod:`.bnn`'s (sign activations, straight-through
estimator). :func:`sequential` trains on task 1, then task 2, and reports the accuracy on
task 1 before and after task 2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError
from neurospice.learning.bnn import accuracy, centred, gradients, sign


@dataclass
class MetaResult:
    m: float
    task1_before: float
    task1_after: float
    task2: float
    pulses: int
    seconds: float
    samples: int


class MetaplasticBNN:
    """Hidden weights of the two layers, Adam state and the metaplasticity ``m``."""

    def __init__(self, n_in: int, hidden: int, n_out: int, seed, *, m: float = 50.0,
                 lr: float = 0.0005, quantum: float | None = None):
        if m < 0 or lr <= 0 or (quantum is not None and quantum <= 0):
            raise ArgumentError("m must be >= 0, lr and quantum > 0")
        self.rng = np.random.default_rng(seed)
        self.w = [self.rng.uniform(-0.01, 0.01, (n_in, hidden)),
                  self.rng.uniform(-0.01, 0.01, (hidden, n_out))]
        if quantum:
            self.w = [np.round(w / quantum) * quantum for w in self.w]
        self.m, self.lr, self.quantum = float(m), float(lr), quantum
        self.pulses = 0

    def binary(self):
        return [sign(w) for w in self.w]

    def step(self, x, y) -> None:
        b1, b2 = self.binary()
        grads = gradients(x, y, b1, b2)[:2]
        for k, g in enumerate(grads):
            dw = -self.lr * g / (np.sqrt(np.mean(g * g)) + 1e-12)
            w = self.w[k]
            if self.m > 0:
                towards_zero = np.sign(dw) != np.sign(w)
                dw = np.where(towards_zero, dw * (1 - np.tanh(self.m * w) ** 2), dw)
            if self.quantum:
                n = np.floor(dw / self.quantum + self.rng.random(dw.shape))
                self.pulses += int(np.abs(n).sum())
                dw = n * self.quantum
            w = w + dw
            self.w[k] = w if self.m > 0 else np.clip(w, -1.0, 1.0)

    def fit(self, task, epochs: int, batch: int = 32) -> None:
        x, y = centred(task.x_train), task.y_train
        for _ in range(epochs):
            order = self.rng.permutation(len(y))
            for s in range(0, len(y), batch):
                b = order[s:s + batch]
                self.step(x[b], y[b])

    def accuracy(self, task) -> float:
        return accuracy(centred(task.x_test), task.y_test, *self.binary())


def sequential(task1, task2, seed, *, m: float = 50.0, hidden: int = 128, epochs: int = 15,
               quantum: float | None = None, lr: float = 0.0005) -> MetaResult:
    """Learn ``task1`` then ``task2`` (same inputs and classes); the task-1 test accuracy
    before and after task 2, and task 2's."""
    net = MetaplasticBNN(task1.n_inputs, hidden, task1.n_classes, seed, m=m, lr=lr,
                         quantum=quantum)
    t0 = time.perf_counter()
    net.fit(task1, epochs)
    before = net.accuracy(task1)
    net.fit(task2, epochs)
    seconds = time.perf_counter() - t0
    return MetaResult(m, before, net.accuracy(task1), net.accuracy(task2), net.pulses, seconds,
                      (len(task1.y_train) + len(task2.y_train)) * epochs)
