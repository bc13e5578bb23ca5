"""Binarized networks on weak-RESET RRAM 2T2R pairs (Majumdar et al., arXiv 2107.06064) and
the ranking of the device's imperfections by the accuracy they cost.

Network: ``n_in -> hidden -> classes``, binary weights ``sign(R_BL - R_BLb)`` of
:class:`~.synapses.WeakResetPairs`, sign activations in the hidden layer (straight-through
estimator: the gradient passes where ``|a| <= 1``), pre-activations scaled by
``1/sqrt(fan_in)``, softmax cross-entropy on the output. Inputs are centred, ``2x - 1``.

Training accumulates gradient-driven weak-RESET pulses on one device of each pair: the
hidden quantity ``ln R_BL - ln R_BLb`` should move by ``-lr g/rms(g)`` (``g`` the layer's
gradient); that is rounded stochastically to whole pulses of the *nominal* device's first
slope (``m1`` of :func:`~.synapses.mean_seed_device`), at most ``max_pulses`` per step, applied
on BL (to raise the weight) or BLb (to lower it). Each real device responds with its own
drift: its own ``m1`` and ``R0`` (device-to-device), its knee (progressive-RESET
nonlinearity), and reads carry its RTN and 1/f noise.

:func:`rank_imperfections` trains the ideal network (the ensemble's mean device, linear drift,
no noise) and one network per imperfection alone, on the same data and seed, and ranks the
imperfections by accuracy loss.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError
from neurospice.learning.synapses import IMPERFECTIONS, WeakResetPairs


def sign(x) -> np.ndarray:
    """+1 where x >= 0, else -1."""
    return np.where(np.asarray(x) >= 0, 1.0, -1.0)


def forward(x, w1, w2, scale: float = 4.0):
    """The binary network's forward pass with weights ``w1`` (n_in, hidden), ``w2``
    (hidden, classes) of +-1: returns (pre-activations, hidden signs, logits)."""
    a1 = x @ w1 / np.sqrt(w1.shape[0])
    h = sign(a1)
    return a1, h, scale * (h @ w2) / np.sqrt(w2.shape[0])


def gradients(x, y, w1, w2, scale: float = 4.0):
    """Cross-entropy gradients (with the straight-through estimator) w.r.t. the binary
    weights: returns (g1, g2, loss)."""
    a1, h, logits = forward(x, w1, w2, scale)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(-np.mean(np.log(p[np.arange(n), y] + 1e-12)))
    d = p.copy()
    d[np.arange(n), y] -= 1.0
    d /= n
    k2 = scale / np.sqrt(w2.shape[0])
    g2 = h.T @ d * k2
    dh = (d @ w2.T) * k2 * (np.abs(a1) <= 1.0)
    g1 = x.T @ dh / np.sqrt(w1.shape[0])
    return g1, g2, loss


def accuracy(x, y, w1, w2) -> float:
    return float(np.mean(np.argmax(forward(x, w1, w2)[2], axis=1) == y))


def centred(x) -> np.ndarray:
    return 2.0 * np.asarray(x, dtype=float) - 1.0


@dataclass
class BNNResult:
    imperfections: tuple
    accuracy: float
    pulses: int
    energy_J: float
    seconds: float
    samples: int
    layers: tuple


def train_weak_reset(task, seed, imperfections=IMPERFECTIONS, *, hidden: int = 128,
                     epochs: int = 10, batch: int = 32, lr: float = 0.3,
                     max_pulses: int = 4, init_pulses: int = 4) -> BNNResult:
    """Train the 2T2R weak-RESET BNN on ``task`` with the given imperfections (see the
    module docstring); returns its test accuracy, the pulses applied and their energy
    (:func:`weak_reset_pulse_energy` at each pulsed device's resistance)."""
    from neurospice.learning.energy import rram_pulse_energy
    from neurospice.compact_models.rram import gap_for_resistance
    from neurospice.compact_models.rram import variability as var

    if hidden < 1 or epochs < 1 or batch < 1 or lr <= 0:
        raise ArgumentError("hidden, epochs and batch must be >= 1 and lr > 0")
    rng = np.random.default_rng(seed)
    layers = (WeakResetPairs((task.n_inputs, hidden), rng, imperfections),
              WeakResetPairs((hidden, task.n_classes), rng, imperfections))
    for arr in layers:          # random initial signs: a few pulses on one side of each pair
        arr.pulse(rng.integers(1, init_pulses + 1, arr.shape) * sign(rng.standard_normal(arr.shape)))
    m1 = layers[0].m1_nominal
    x, y = centred(task.x_train), task.y_train
    energy_of = lambda r: rram_pulse_energy(var.WEAK_RESET_AMPLITUDE, var.WEAK_RESET_WIDTH,  # noqa: E731
                                            gap_for_resistance(r, 0.1), steps_flat=2)
    r_grid = np.linspace(5000.0, 40000.0, 16)
    e_grid = energy_of(r_grid)
    energy = 0.0
    pulses0 = sum(a.pulses for a in layers)
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            b = order[start:start + batch]
            w1, w2 = layers[0].weights(), layers[1].weights()
            grads = gradients(x[b], y[b], w1, w2)[:2]
            for arr, g in zip(layers, grads):
                want = -lr * g / (np.sqrt(np.mean(g * g)) + 1e-12) * m1
                n = np.floor(np.abs(want) / m1 + rng.random(g.shape))
                n = np.minimum(n, max_pulses) * np.sign(want)
                r_bl, r_blb = arr.resistances()
                energy += float(np.sum(np.interp(np.where(n > 0, r_bl, r_blb), r_grid, e_grid)
                                       * np.abs(n)))
                arr.pulse(n.astype(int))
    seconds = time.perf_counter() - t0
    acc = accuracy(centred(task.x_test), task.y_test, layers[0].weights(), layers[1].weights())
    return BNNResult(tuple(sorted(imperfections)), acc,
                     sum(a.pulses for a in layers) - pulses0, energy, seconds,
                     len(y) * epochs, layers)


def rank_imperfections(task, seed, **kw) -> tuple[float, dict, list]:
    """Ideal accuracy, ``{imperfection: accuracy alone}`` and the imperfections ranked by
    accuracy loss (most damaging first), all on the same data and seed."""
    ideal = train_weak_reset(task, seed, (), **kw).accuracy
    alone = {imp: train_weak_reset(task, seed, (imp,), **kw).accuracy for imp in IMPERFECTIONS}
    ranking = sorted(IMPERFECTIONS, key=lambda k: alone[k])
    return ideal, alone, ranking
