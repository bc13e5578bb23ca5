"""Data sets for the learning systems: scikit-learn's bundled 8x8 digits (the default task,
no download), MNIST from the standard idx or npz files when a user has them, and the task
constructions of continual learning (class splits, pixel permutations).

Images are returned as float arrays in [0, 1], shape (samples, pixels); labels as int arrays.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurospice.errors import ArgumentError, DataError


@dataclass
class Task:
    """A classification task: training and test images in [0, 1] (samples, pixels), integer
    labels, and the number of classes."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = 10
    name: str = "task"

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Task":
        """The first ``n_train`` training and ``n_test`` test samples (already shuffled)."""
        return Task(self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test],
                    self.y_test[:n_test], self.n_classes, self.name)


def validation(task: Task, fraction: float = 0.2) -> Task:
    """``task``'s training set split into a training head and a validation tail (the last
    ``fraction``, in the test slots): hyper-parameters are settled on it, never on the test
    set."""
    if not 0.0 < fraction < 1.0:
        raise ArgumentError(f"fraction must lie in (0, 1), got {fraction!r}")
    k = len(task.y_train) - max(1, int(round(fraction * len(task.y_train))))
    return Task(task.x_train[:k], task.y_train[:k], task.x_train[k:], task.y_train[k:],
                task.n_classes, f"{task.name}-validation")


def split(x, y, test_fraction: float, seed, name: str) -> Task:
    """A seeded shuffle of (x, y) into a :class:`Task` with ``test_fraction`` held out."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y).astype(int)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ArgumentError(f"{name}: need images (samples, pixels) and one label per image, "
                            f"got {x.shape} and {y.shape}")
    if not 0.0 < test_fraction < 1.0:
        raise ArgumentError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = max(1, int(round(test_fraction * len(y))))
    te, tr = order[:n_test], order[n_test:]
    return Task(x[tr], y[tr], x[te], y[te], int(y.max()) + 1, name)


def load_digits(test_fraction: float = 0.3, seed=0) -> Task:
    """scikit-learn's bundled 8x8 digits (1797 images, 64 pixels, 10 classes), scaled to
    [0, 1] and split with a seeded shuffle. Needs the ``learn`` extra (scikit-learn)."""
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError as exc:
        raise ArgumentError("the digits data set needs scikit-learn: install the 'learn' "
                            "extra (pip install 'neurospice[learn]')") from exc
    data = sk_digits()
    return split(data.data / 16.0, data.target, test_fraction, seed, "digits")


def read_idx(path) -> np.ndarray:
    """An array from an idx file (the MNIST format; ``.gz`` accepted): magic 0x0000 then the
    type code (0x08 unsigned byte) and the number of dimensions, then big-endian 32-bit
    sizes. DataError naming the file on anything else."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated idx header")
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    size = int(np.prod(shape)) if shape else 0
    if len(raw) - header != size:
        raise DataError(f"{path}: idx header promises {size} bytes of data, file has "
                        f"{len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(folder=None, *, npz=None, n_train: int | None = None,
               n_test: int | None = None) -> Task:
    """MNIST (or any MNIST-shaped set) from the four standard idx files in ``folder``
    (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``, ``t10k-...``), or from
    an ``npz`` with ``x_train``, ``y_train``, ``x_test``, ``y_test`` (Keras' mnist.npz layout).
    Images are flattened and scaled to [0, 1] (by 255 for bytes)."""
    if (folder is None) == (npz is None):
        raise ArgumentError("give either an idx folder or an npz file")
    if npz is not None:
        try:
            with np.load(npz) as f:
                parts = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{npz}: need arrays x_train, y_train, x_test, y_test ({exc})") \
                from exc
    else:
        folder = Path(folder)

        def find(stem):
            for name in (stem, stem + ".gz"):
                if (folder / name).is_file():
                    return read_idx(folder / name)
            raise DataError(f"{folder}: no {stem}[.gz]")

        parts = [find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte"),
                 find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")]
    xtr, ytr, xte, yte = parts
    where = str(npz or folder)
    for x, y, part in ((xtr, ytr, "train"), (xte, yte, "test")):
        if len(x) != len(y):
            raise DataError(f"{where}: {part} has {len(x)} images and {len(y)} labels")
    scale = 255.0 if xtr.dtype == np.uint8 else max(float(np.max(xtr)), 1.0)
    flat = lambda x: np.asarray(x, dtype=float).reshape(len(x), -1) / scale  # noqa: E731
    y_all = np.concatenate([ytr, yte]).astype(int)
    return Task(flat(xtr)[:n_train], np.asarray(ytr, int)[:n_train], flat(xte)[:n_test],
                np.asarray(yte, int)[:n_test], int(y_all.max()) + 1, "mnist")


def class_split(task: Task, classes) -> Task:
    """The samples of ``task`` whose label is in ``classes`` (labels kept)."""
    keep = np.isin(task.y_train, classes)
    keep_t = np.isin(task.y_test, classes)
    return Task(task.x_train[keep], task.y_train[keep], task.x_test[keep_t],
                task.y_test[keep_t], task.n_classes, f"{task.name}{list(classes)}")


def permuted(task: Task, seed) -> Task:
    """``task`` with its pixels permuted by a seeded permutation (a new task of the same
    difficulty, the continual-learning benchmark)."""
    perm = np.random.default_rng(seed).permutation(task.n_inputs)
    return Task(task.x_train[:, perm], task.y_train, task.x_test[:, perm], task.y_test,
                task.n_classes, f"{task.name}-permuted")
