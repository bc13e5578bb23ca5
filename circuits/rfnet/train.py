"""Training an RF network on its envelope model: Adam over the resonators' frequency shifts
(in linewidths) and the chains' bias voltages (V), numpy only, analytic gradients.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from neurospice.circuits.rfnet.network import RFNetwork


@dataclass
class History:
    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: float = 0.0


class Adam:
    """Adam on a list of arrays (updated in place)."""

    def __init__(self, params, lrs, beta1=0.9, beta2=0.999, eps=1e-12):
        self.params, self.lrs = params, lrs
        self.b1, self.b2, self.eps, self.t = beta1, beta2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        for p, g, m, v, lr in zip(self.params, grads, self.m, self.v, self.lrs):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def progress(text: str, frac: float, stream=None) -> None:
    """A one-line progress bar on stderr."""
    stream = stream or sys.stderr
    n = int(30 * min(max(frac, 0.0), 1.0))
    stream.write(f"\r{text} [{'#' * n}{'.' * (30 - n)}] {100 * frac:5.1f} %")
    if frac >= 1.0:
        stream.write("\n")
    stream.flush()


def train(net: RFNetwork, x, y, *, epochs: int = 100, batch: int = 64, lr_shift: float = 0.02,
          lr_bias_v: float = 2e-5, seed: int = 0, x_test=None, y_test=None,
          show_progress: bool = False, lr_decay: float = 1.0, eval_every: int = 1) -> History:
    """Train ``net`` in place on powers ``x`` (W) and labels ``y``. Learning rates: Adam's step
    for the shifts (linewidths) and the biases (V); ``lr_decay`` multiplies both each epoch.
    Accuracies are recorded every ``eval_every`` epochs and after the last (each costs a
    forward pass over the data; a step's cost hardly depends on the batch size, so large
    batches and sparse evaluation make training of big networks fast)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=int)
    rng = np.random.default_rng(seed)
    params, lrs = [], []
    for lay in net.layers:
        params += [lay.shift_lw, lay.bias_v]
        lrs += [lr_shift, lr_bias_v]
    opt = Adam(params, lrs)
    hist = History()
    t0 = time.perf_counter()
    for ep in range(epochs):
        order = rng.permutation(len(x))
        losses = []
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            loss, grads = net.loss_and_grads(x[idx], y[idx])
            opt.step([g for pair in grads for g in pair])
            losses.append(loss)
        opt.lrs = [lr * lr_decay for lr in opt.lrs]
        hist.loss.append(float(np.mean(losses)))
        if (ep + 1) % max(1, int(eval_every)) and ep + 1 < epochs:
            continue
        hist.train_acc.append(net.accuracy(x, y))
        if x_test is not None:
            hist.test_acc.append(net.accuracy(x_test, y_test))
        if show_progress:
            extra = f" test {100 * hist.test_acc[-1]:.1f} %" if hist.test_acc else ""
            progress(f"train epoch {ep + 1}/{epochs} loss {hist.loss[-1]:.3f}{extra}",
                     (ep + 1) / epochs)
    hist.seconds = time.perf_counter() - t0
    return hist


def fit(build, x, y, *, restarts: int = 1, target: float = 1.0, x_test=None, y_test=None,
        show_progress: bool = False, **kw):
    """Train ``build(seed)`` networks from ``restarts`` seeds (a tiny network can stall in a
    poor local minimum) and keep the one with the best training accuracy, stopping early
    once it reaches ``target``. Returns (network, history, seeds tried)."""
    best = None
    for seed in range(restarts):
        net = build(seed)
        hist = train(net, x, y, seed=seed, x_test=x_test, y_test=y_test,
                     show_progress=show_progress, **kw)
        if best is None or hist.train_acc[-1] > best[1].train_acc[-1]:
            best = (net, hist)
        if hist.train_acc[-1] >= target:
            return best[0], best[1], seed + 1
    return best[0], best[1], restarts
