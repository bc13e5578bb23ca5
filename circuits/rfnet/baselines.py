"""Conventional baselines for an RF network's task, in numpy: logistic regression (beside a
single-layer network: both are linear in the input powers) and a multilayer perceptron of
the same shape (beside a network with hidden layers: tanh hidden units, softmax output).

Both see the same inputs as the RF network (powers, scaled by the training set's largest
power), train with the same protocol as :func:`.train.fit` (a validation split taken from
the training set, early stopping on the validation loss, restarts chosen by validation
accuracy, L2 regularisation) and are scored on the held-out test set. A result printed
without its baseline says nothing about whether the hardware loses accuracy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Baseline:
    """A trained baseline: its name (``logistic`` or ``mlp 2-4-2``), the accuracies on the
    training, validation and test sets (test: None without one), restarts and total time,
    and the model itself: ``params``, one (weights, biases) pair per layer, acting on the
    inputs divided by ``scale`` (see :meth:`logits`)."""

    name: str
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float | None
    restarts: int
    seconds: float
    params: list
    scale: float

    def logits(self, x, *, hidden: bool = False):
        """The model's logits for inputs ``x`` (as given to :func:`train_baseline`), one
        column per class; with ``hidden``, also every hidden layer's tanh outputs."""
        acts = _forward(self.params, np.asarray(x, dtype=float) / self.scale)
        return (acts[-1], acts[1:-1]) if hidden else acts[-1]

    def line(self) -> str:
        test = "" if self.test_accuracy is None else f", test {100 * self.test_accuracy:.2f} %"
        return (f"baseline {self.name}: train {100 * self.train_accuracy:.2f} %{test} "
                f"({self.restarts} restarts, {self.seconds:.1f} s)")


def split_validation(y, fraction: float, seed: int):
    """A stratified split of indices (train, validation): ``fraction`` of each class held out
    (at least one sample of each class with more than one)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    val = np.zeros(len(y), dtype=bool)
    if fraction > 0:
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            k = int(round(fraction * len(idx)))
            if len(idx) > 1:
                val[idx[:max(1, min(k, len(idx) - 1))]] = True
    return np.flatnonzero(~val), np.flatnonzero(val)


def _forward(params, x):
    h = x
    acts = [h]
    for k, (w, b) in enumerate(params):
        z = h @ w + b
        h = np.tanh(z) if k < len(params) - 1 else z
        acts.append(h)
    return acts


def _loss_grads(params, x, y, l2):
    acts = _forward(params, x)
    z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(-np.mean(np.log(p[np.arange(n), y] + 1e-300)))
    g = p
    g[np.arange(n), y] -= 1.0
    g /= n
    grads = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        w, _ = params[k]
        grads[k] = (acts[k].T @ g + l2 * w, g.sum(axis=0))
        if k:
            g = (g @ w.T) * (1 - acts[k] ** 2)
    return loss + 0.5 * l2 * sum(float(np.sum(w * w)) for w, _ in params), grads


def _accuracy(params, x, y) -> float:
    return float(np.mean(np.argmax(_forward(params, x)[-1], axis=1) == y))


def train_baseline(sizes, x, y, *, x_test=None, y_test=None, validation: float = 0.2,
                   restarts: int = 5, epochs: int = 3000, lr: float = 0.02, l2: float = 1e-4,
                   patience: int = 300, seed: int = 0) -> Baseline:
    """Train the conventional model of layer sizes ``sizes`` (inputs, hidden..., outputs; one
    output means two classes, as the RF network's single chain): ``[n, k]`` is (multinomial)
    logistic regression, more layers an MLP with tanh hidden units. Full-batch Adam, early
    stopping on the validation loss (``patience`` epochs), the restart with the best
    validation accuracy kept (ties: lower validation loss)."""
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=int)
    scale = float(np.max(np.abs(x))) or 1.0
    xs = x / scale
    n_cls = max(2, int(sizes[-1]))
    shape = [int(s) for s in sizes[:-1]] + [n_cls]
    tr, va = split_validation(y, validation, seed)
    if len(va) == 0:
        va = tr
    best = None
    for r in range(restarts):
        rng = np.random.default_rng(seed + 1000 * r + 1)
        params = [(rng.normal(0, 1 / np.sqrt(a), (a, b)), np.zeros(b))
                  for a, b in zip(shape, shape[1:])]
        flat = [arr for pair in params for arr in pair]
        m = [np.zeros_like(a) for a in flat]
        v = [np.zeros_like(a) for a in flat]
        keep, keep_loss, since = [a.copy() for a in flat], np.inf, 0
        for t in range(1, epochs + 1):
            _, grads = _loss_grads(params, xs[tr], y[tr], l2)
            for a, g, mm, vv in zip(flat, [g for pair in grads for g in pair], m, v):
                mm *= 0.9
                mm += 0.1 * g
                vv *= 0.999
                vv += 0.001 * g * g
                a -= lr * (mm / (1 - 0.9 ** t)) / (np.sqrt(vv / (1 - 0.999 ** t)) + 1e-8)
            val_loss, _ = _loss_grads(params, xs[va], y[va], 0.0)
            if val_loss < keep_loss - 1e-6:
                keep, keep_loss, since = [a.copy() for a in flat], val_loss, 0
            else:
                since += 1
                if since >= patience:
                    break
        for a, k in zip(flat, keep):
            a[...] = k
        score = (_accuracy(params, xs[va], y[va]), -keep_loss)
        if best is None or score > best[0]:
            best = (score, [(w.copy(), b.copy()) for w, b in params])
    params = best[1]
    name = "logistic regression" if len(shape) == 2 else \
        f"MLP {'-'.join(str(s) for s in sizes)} (tanh)"
    test = None if x_test is None else _accuracy(params, np.asarray(x_test) / scale,
                                                  np.asarray(y_test, dtype=int))
    return Baseline(name, _accuracy(params, xs[tr], y[tr]), best[0][0], test, restarts,
                    time.perf_counter() - t0, params, scale)
