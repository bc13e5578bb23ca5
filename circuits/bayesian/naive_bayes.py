"""Naive Bayes on discrete observations: fitting, the exact posterior, and the data set.

A model holds the class log-priors ``log P(y)`` (C,) and the likelihood tables
``P(o_i = v | y)`` of shape (n_obs, n_values, C). The posterior is
``P(y | o) ∝ P(y) prod_i P(o_i | y)``, computed exactly in the log domain (the reference for
the stochastic machine of :mod:`.machine`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError, DataError


@dataclass
class NaiveBayes:
    """A discrete naive-Bayes model: ``log_prior`` (C,), ``likelihood`` (n_obs, n_values, C)
    with each ``likelihood[i, :, y]`` summing to 1."""

    log_prior: np.ndarray
    likelihood: np.ndarray

    def __post_init__(self):
        self.log_prior = np.asarray(self.log_prior, dtype=float)
        self.likelihood = np.asarray(self.likelihood, dtype=float)
        lk = self.likelihood
        if lk.ndim != 3 or self.log_prior.shape != (lk.shape[2],):
            raise ArgumentError(f"likelihood must be (n_obs, n_values, C) and log_prior (C,); "
                                f"got {lk.shape} and {self.log_prior.shape}")
        if not (np.all(np.isfinite(lk)) and np.all(lk > 0)
                and np.allclose(lk.sum(axis=1), 1.0, atol=1e-9)):
            raise ArgumentError("likelihood tables must be positive and sum to 1 over values")
        if not np.all(np.isfinite(self.log_prior)):
            raise ArgumentError("log_prior must be finite")

    @property
    def n_obs(self) -> int:
        return self.likelihood.shape[0]

    @property
    def n_values(self) -> int:
        return self.likelihood.shape[1]

    @property
    def n_classes(self) -> int:
        return self.likelihood.shape[2]

    def check_observations(self, x) -> np.ndarray:
        """``x`` as an int array (n, n_obs) of values in [0, n_values); DataError otherwise."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_obs:
            raise DataError(f"observations must be (n, {self.n_obs}), got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.integer):
            raise DataError("observations must be integers (quantised values)")
        if x.size and (x.min() < 0 or x.max() >= self.n_values):
            raise DataError(f"observation values must be in [0, {self.n_values})")
        return x.astype(np.intp)

    def log_joint(self, x) -> np.ndarray:
        """``log P(y) + sum_i log P(o_i | y)`` for each row of ``x``: (n, C)."""
        x = self.check_observations(x)
        logl = np.log(self.likelihood)
        return self.log_prior[None, :] + logl[np.arange(self.n_obs)[None, :], x, :].sum(1)

    def posterior(self, x) -> np.ndarray:
        """The exact posterior ``P(y | o)`` (n, C), normalised."""
        lj = self.log_joint(x)
        lj -= lj.max(axis=1, keepdims=True)
        p = np.exp(lj)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x) -> np.ndarray:
        """The exact naive-Bayes decision (argmax of the posterior)."""
        return np.argmax(self.log_joint(x), axis=1)


def fit(x, y, n_values: int, n_classes: int | None = None, alpha: float = 1.0) -> NaiveBayes:
    """Fit from quantised observations ``x`` (n, n_obs) and labels ``y`` (n,) with Laplace
    smoothing ``alpha`` (> 0: no zero likelihood, which a stochastic machine could never
    recover from)."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],) or x.shape[0] == 0:
        raise DataError(f"need x (n, n_obs) and y (n,), got {x.shape} and {y.shape}")
    if not (np.issubdtype(x.dtype, np.integer) and np.issubdtype(y.dtype, np.integer)):
        raise DataError("x and y must be integer arrays")
    if not alpha > 0:
        raise ArgumentError(f"alpha must be > 0, got {alpha!r}")
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    if y.min() < 0 or y.max() >= n_classes or x.min() < 0 or x.max() >= n_values:
        raise DataError("labels or observation values out of range")
    counts = np.zeros((x.shape[1], n_values, n_classes))
    for c in range(n_classes):
        xc = x[y == c]
        for v in range(n_values):
            counts[:, v, c] = np.sum(xc == v, axis=0)
    counts += alpha
    class_n = np.bincount(y, minlength=n_classes) + alpha
    return NaiveBayes(np.log(class_n / class_n.sum()), counts / counts.sum(axis=1, keepdims=True))


def quantise(x, levels: int, max_value: float) -> np.ndarray:
    """Values in [0, max_value] to integers 0 .. levels-1 (equal bins)."""
    x = np.asarray(x, dtype=float)
    if levels < 2 or not max_value > 0:
        raise ArgumentError("need levels >= 2 and max_value > 0")
    return np.clip((x / max_value * levels).astype(int), 0, levels - 1)


def load_digits_task(levels: int = 4, pool: int = 2, test_fraction: float = 0.3, seed=0):
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes; no download), summed over
    ``pool`` x ``pool`` blocks (pool=2: 16 observations, a sensor-sized input) and quantised
    to ``levels`` values: returns (x_train, y_train, x_test, y_test). Needs the ``learn``
    extra (``pip install neurospice[learn]``)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ArgumentError("the digits data set needs scikit-learn: install the 'learn' "
                            "extra (pip install 'neurospice[learn]')") from exc
    if pool not in (1, 2, 4, 8):
        raise ArgumentError(f"pool must divide 8, got {pool!r}")
    data = load_digits()
    n = 8 // pool
    img = data.data.reshape(-1, n, pool, n, pool).sum(axis=(2, 4)).reshape(-1, n * n)
    x = quantise(img, levels, 16.0 * pool * pool + 1e-9)
    y = data.target.astype(int)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]
