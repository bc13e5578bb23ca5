"""Equilibrium propagation with binary weights (Laydevant et al., arXiv 2103.08953) on a
layered energy-based network ``x -> h -> o`` (Hopfield-like, symmetric weights, hard-sigmoid
activations ``rho = clip(., 0, 1)``), full precision or binary.

Free phase: ``T1`` fixed-point iterations ``h = rho(x W1 + rho(o) W2^T + b1)``,
``o = rho(h W2 + b2)`` from zero. Nudged phase: ``T2`` more with ``beta (t - o)`` added to the
output's drive (``t`` one-hot). The update is the EP estimate of the gradient,
``dW1 = x^T (h^beta - h^0)/beta``, ``dW2 = (h^beta^T o^beta - h^0^T o^0)/beta``, and likewise for
the biases, batch-averaged. ``symmetric`` (the default): the second state is a nudged phase
with ``-beta`` instead of the free one and the difference is divided by ``2 beta`` (Laborieux
et al.'s symmetric estimate: no first-order bias, so full-precision EP trains the same on
every seed). ``decay``: the learning rates follow a cosine from ``lr`` to 0 over the epochs.

Binary weights: the update goes to hidden (latent) weights ``W_h`` and the network runs with
``a_j / sqrt(fan_in) sign(W_h)``, one gain ``a_j`` per neuron (starting at ``alpha``) learned
with rate ``lr_scale`` from the same EP estimate (``dE/da_j = sum_i G_ij sign(W_h,ij) /
sqrt(fan_in)``; a per-neuron scaling factor, the analog gain of the neuron's read-out);
``binary_activations`` also binarises ``h`` to ``h >= 0.5`` (the paper's second step).
The prediction is the free phase's most active output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError


@dataclass
class EPConfig:
    """The network (``hidden`` units), the EP phases (``beta``, ``t1`` free and ``t2`` nudged
    iterations) and the training (``epochs``, ``batch``, ``lr`` per layer, ``lr_scale`` of the
    binary gains). The defaults were settled on a validation split of the digits' training
    set (:func:`~.data.validation`, seeds 0-2), the same for full precision and binary: with
    15 epochs and the one-sided estimate, full precision varied by 12 points between seeds and
    binary weights trailed it by up to 5."""

    hidden: int = 100
    epochs: int = 50
    batch: int = 20
    beta: float = 0.5
    t1: int = 20
    t2: int = 8
    lr: tuple = (0.15, 0.075)
    binary: bool = False
    binary_activations: bool = False
    alpha: float = 1.0
    lr_scale: float = 0.01
    symmetric: bool = True
    decay: bool = True

    def __post_init__(self):
        if self.beta <= 0 or self.t1 < 1 or self.t2 < 1 or self.hidden < 1:
            raise ArgumentError("beta must be > 0; t1, t2 and hidden >= 1")


@dataclass
class EPResult:
    config: EPConfig
    accuracy: float
    seconds: float
    samples: int
    weights: tuple


def rho(s):
    return np.clip(s, 0.0, 1.0)


class EPNetwork:
    def __init__(self, n_in: int, n_out: int, config: EPConfig, seed):
        self.cfg = config
        self.rng = np.random.default_rng(seed)
        self.w1 = self.rng.uniform(-1, 1, (n_in, config.hidden)) / np.sqrt(n_in)
        self.w2 = self.rng.uniform(-1, 1, (config.hidden, n_out)) / np.sqrt(config.hidden)
        self.b1 = np.zeros(config.hidden)
        self.b2 = np.zeros(n_out)
        self.scale = [np.full(config.hidden, config.alpha), np.full(n_out, config.alpha)]

    def effective(self):
        """The weights the dynamics use: the hidden ones, or ``a_j/sqrt(fan_in) sign(W_h)``."""
        if not self.cfg.binary:
            return self.w1, self.w2
        a1, a = self.scale
        return (a1 / np.sqrt(self.w1.shape[0]) * np.where(self.w1 >= 0, 1.0, -1.0),
                a / np.sqrt(self.w2.shape[0]) * np.where(self.w2 >= 0, 1.0, -1.0))

    def relax(self, x, h, o, steps: int, w, target=None, beta: float = 0.0):
        w1, w2 = w
        for _ in range(steps):
            h = rho(x @ w1 + o @ w2.T + self.b1)
            if self.cfg.binary_activations:
                h = (h >= 0.5).astype(float)
            drive = h @ w2 + self.b2
            if target is not None:
                drive = drive + beta * (target - o)
            o = rho(drive)
        return h, o

    def free(self, x):
        w = self.effective()
        z = np.zeros((len(x), self.cfg.hidden)), np.zeros((len(x), self.b2.size))
        return self.relax(x, *z, self.cfg.t1, w)

    def step(self, x, y, gain: float = 1.0) -> None:
        cfg = self.cfg
        w = self.effective()
        h0, o0 = self.free(x)
        t = np.eye(self.b2.size)[y]
        hb, ob = self.relax(x, h0, o0, cfg.t2, w, t, cfg.beta)
        if cfg.symmetric:
            h0, o0 = self.relax(x, h0, o0, cfg.t2, w, t, -cfg.beta)
            n = 2 * len(x) * cfg.beta
        else:
            n = len(x) * cfg.beta
        g1 = x.T @ (hb - h0) / n
        g2 = (hb.T @ ob - h0.T @ o0) / n
        self.w1 += gain * cfg.lr[0] * g1
        self.w2 += gain * cfg.lr[1] * g2
        if cfg.binary and cfg.lr_scale:
            for k, (g, wh) in enumerate(((g1, self.w1), (g2, self.w2))):
                self.scale[k] += gain * cfg.lr_scale * np.sum(g * np.sign(wh), 0) \
                    / np.sqrt(wh.shape[0])
        self.b1 += gain * cfg.lr[0] * (hb - h0).sum(0) / n
        self.b2 += gain * cfg.lr[1] * (ob - o0).sum(0) / n

    def predict(self, x):
        return np.argmax(self.free(x)[1], axis=1)


def train(task, config: EPConfig, seed) -> EPResult:
    """Train on ``task`` with ``config``; the test accuracy."""
    net = EPNetwork(task.n_inputs, task.n_classes, config, seed)
    x, y = task.x_train, task.y_train
    t0 = time.perf_counter()
    for e in range(config.epochs):
        gain = 0.5 * (1 + np.cos(np.pi * e / config.epochs)) if config.decay else 1.0
        order = net.rng.permutation(len(y))
        for s in range(0, len(y), config.batch):
            b = order[s:s + config.batch]
            net.step(x[b], y[b], gain)
    seconds = time.perf_counter() - t0
    acc = float(np.mean(net.predict(task.x_test) == task.y_test))
    return EPResult(config, acc, seconds, len(y) * config.epochs, net.effective())
