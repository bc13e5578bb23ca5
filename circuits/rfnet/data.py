"""Data for RF networks: spectra data sets (HDF5 or CSV) and synthetic RF-encoded 2-D tasks.

A :class:`Dataset` holds input powers in W (samples x tones), integer labels, a train/test
split and, where known, the tones' frequencies (Hz).

Files:

- **HDF5** (the drone set's layout): arrays ``X_train``, ``X_test`` (samples x bins) and
  ``Y_train``, ``Y_test`` (labels); optional ``freq_hz``. h5py is imported only here, when
  an HDF5 file is read.
- **CSV**: one sample per row; a ``label`` column, an optional ``split`` column
  (``train``/``test``; without it a seeded stratified split), every other column a bin. Bin
  headers that parse as numbers are taken as the bins' frequencies in Hz. The file is read
  by the measured-data reader (:func:`neurospice.calibration.table.read_raw`): regular files
  only, size and line caps, every row exactly the header's width, numbers in the strict
  grammar; a bad cell is a DataError naming file, column and line.

Both readers refuse files that are not regular files; labels are integers in
0 .. ``MAX_CLASSES`` - 1.

``unit_w`` converts the file's values to watts (default 1e-6: 1.0 stands for 1 uW, the drone
set's normalisation).

Synthetic tasks (:func:`synthetic`): points (x, y) in [0, 1]^2 encoded as the powers of two
RF tones, P = p_max (x, y). None is linearly separable: ``xor`` (four Gaussian clusters at the
corners, opposite corners share a class), ``band`` (inside vs outside a diagonal stripe),
``circles`` (a disc inside a ring), ``moons`` (two interleaved half-circles).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurospice.errors import DataError

TASKS = ("xor", "band", "circles", "moons")
MAX_CLASSES = 65_536


@dataclass
class Dataset:
    x_train: np.ndarray      # W
    y_train: np.ndarray
    x_test: np.ndarray       # W
    y_test: np.ndarray
    freq_hz: np.ndarray | None = None
    name: str = "data"
    points_train: np.ndarray | None = None   # synthetic tasks: the 2-D points
    points_test: np.ndarray | None = None
    p_max_w: float | None = None

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _check(name, x, y):
    try:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{name}: powers and labels must be numbers") from None
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{name}: expected samples x bins and one label per sample, got "
                        f"{x.shape} and {y.shape}")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name}: NaN or infinite powers")
    if np.any(x < 0):
        raise DataError(f"{name}: negative powers")
    if not np.all(np.isfinite(y)) or not np.all(np.equal(np.mod(y, 1), 0)) or np.any(y < 0) \
            or np.any(y >= MAX_CLASSES):
        raise DataError(f"{name}: labels must be integers in 0 .. {MAX_CLASSES - 1}")
    return x, y.astype(int)


def load_spectra(path, *, unit_w: float = 1e-6, test_fraction: float = 0.3,
                 seed: int = 0) -> Dataset:
    """Read a spectra data set (HDF5 or CSV, see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"no data file at {path}")
    if not path.is_file():
        raise DataError("not a regular file: refused", path=str(path))
    if path.suffix.lower() in (".h5", ".hdf5", ".hdf"):
        return _load_hdf5(path, unit_w)
    if path.suffix.lower() in (".csv", ".txt"):
        return _load_csv(path, unit_w, test_fraction, seed)
    raise DataError(f"{path.name}: unknown data format (expected .h5/.hdf5 or .csv)")


def _load_hdf5(path: Path, unit_w: float) -> Dataset:
    try:
        import h5py
    except ImportError:
        raise DataError("reading HDF5 data sets needs h5py: pip install h5py") from None
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"not a readable HDF5 file: {exc}", path=str(path)) from None
    with f:
        missing = [k for k in ("X_train", "X_test", "Y_train", "Y_test") if k not in f]
        if missing:
            raise DataError(f"{path.name}: missing arrays {missing} (has {sorted(f.keys())})")
        arrays = {}
        for key in ("X_train", "X_test", "Y_train", "Y_test", "freq_hz"):
            if key not in f:
                continue
            if not isinstance(f[key], h5py.Dataset) or f[key].dtype.kind not in "biuf":
                raise DataError(f"{key} is not a numeric array", path=str(path))
            try:
                arrays[key] = np.asarray(f[key][()], dtype=float)
            except (OSError, ValueError, TypeError) as exc:
                raise DataError(f"{key} cannot be read: {exc}", path=str(path)) from None
        xtr, ytr = _check(f"{path.name} train", arrays["X_train"], arrays["Y_train"])
        xte, yte = _check(f"{path.name} test", arrays["X_test"], arrays["Y_test"])
        freq = arrays.get("freq_hz")
    if xtr.shape[1] != xte.shape[1]:
        raise DataError(f"{path.name}: train and test have different numbers of bins")
    return Dataset(xtr * unit_w, ytr, xte * unit_w, yte, freq, name=path.stem)


def _load_csv(path: Path, unit_w: float, test_fraction: float, seed: int) -> Dataset:
    from neurospice.calibration.table import parse_number, read_raw

    raw = read_raw(path, delimiter=",", header_row=1)
    head = [c.name.strip().lower() for c in raw.columns]
    if "label" not in head:
        raise DataError("no 'label' column in the header", path=str(path), row=1)
    if len(raw.cells) < 2:
        raise DataError("needs a header and at least two samples", path=str(path))
    li = head.index("label")
    si = head.index("split") if "split" in head else None
    bins = [k for k in range(len(head)) if k not in (li, si)]

    def numbers(k: int) -> np.ndarray:
        out = np.empty(len(raw.cells))
        for r, (row, line) in enumerate(zip(raw.cells, raw.lines)):
            value = parse_number(row[k])
            if value is None:
                raise DataError(f"not a number: {row[k][:80]!r}", path=str(path),
                                column=raw.columns[k].name, row=int(line))
            out[r] = value
        return out

    x = np.column_stack([numbers(k) for k in bins]) if bins else np.empty((len(raw.cells), 0))
    y = numbers(li)
    x, y = _check(path.name, x, y)
    freq = [parse_number(raw.columns[k].name) for k in bins]
    freq = None if any(f is None for f in freq) else np.array(freq)
    if si is not None:
        split = np.array([row[si].strip().lower() for row in raw.cells])
        bad = set(split) - {"train", "test"}
        if bad:
            raise DataError(f"{path.name}: split values must be train/test, got "
                            f"{sorted(b[:20] for b in bad)[:5]}")
        tr = split == "train"
    else:
        tr = _stratified(y, test_fraction, seed)
    if tr.all() or not tr.any():
        raise DataError(f"{path.name}: the split leaves no train or no test samples")
    return Dataset(x[tr] * unit_w, y[tr], x[~tr] * unit_w, y[~tr], freq, name=path.stem)


def _stratified(y, test_fraction, seed):
    rng = np.random.default_rng(seed)
    train = np.ones(len(y), dtype=bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        train[idx[:int(round(test_fraction * len(idx)))]] = False
    return train


def _points(task: str, n: int, rng, noise: float):
    if task == "xor":
        corner = rng.integers(0, 2, (n, 2))
        pts = 0.2 + 0.6 * corner + rng.normal(0, noise, (n, 2))
        lab = corner[:, 0] ^ corner[:, 1]
    elif task == "band":
        pts = rng.uniform(0, 1, (n, 2))
        lab = (np.abs(pts[:, 0] - pts[:, 1]) < 0.25).astype(int)
        pts = pts + rng.normal(0, noise, (n, 2))
    elif task == "circles":
        lab = rng.integers(0, 2, n)
        r = np.where(lab == 1, 0.15, 0.4) + rng.normal(0, noise, n)
        th = rng.uniform(0, 2 * np.pi, n)
        pts = 0.5 + np.c_[r * np.cos(th), r * np.sin(th)]
    elif task == "moons":
        lab = rng.integers(0, 2, n)
        th = rng.uniform(0, np.pi, n)
        x = np.where(lab == 0, np.cos(th), 1 - np.cos(th))
        yy = np.where(lab == 0, np.sin(th), 0.5 - np.sin(th))
        pts = np.c_[(x + 1) / 3, (yy + 0.5) / 1.5] + rng.normal(0, noise, (n, 2))
    else:
        raise DataError(f"unknown synthetic task {task!r}; known: {', '.join(TASKS)}")
    return np.clip(pts, 0.0, 1.0), lab.astype(int)


def synthetic(task: str = "xor", *, n_train: int = 400, n_test: int = 400, seed: int = 0,
              noise: float = 0.07, p_max_w: float = 1e-6,
              freq_hz=(4.0e9, 6.0e9)) -> Dataset:
    """A synthetic 2-D task encoded as two RF tones' powers P = p_max (x, y) (W)."""
    if n_train < 2 or n_test < 1:
        raise DataError("need at least 2 training and 1 test points")
    rng = np.random.default_rng(seed)
    ptr, ytr = _points(task, n_train, rng, noise)
    pte, yte = _points(task, n_test, rng, noise)
    return Dataset(ptr * p_max_w, ytr, pte * p_max_w, yte, np.asarray(freq_hz, dtype=float),
                   name=f"{task} (synthetic)", points_train=ptr, points_test=pte,
                   p_max_w=p_max_w)


def linearly_separable_accuracy(ds: Dataset) -> float:
    """Best test accuracy of a linear classifier (least squares on one-hot targets, then the
    decision threshold tuned on the training set): a check that a task is not linearly
    separable."""
    x = np.c_[ds.x_train / ds.x_train.max(), np.ones(len(ds.x_train))]
    xt = np.c_[ds.x_test / ds.x_train.max(), np.ones(len(ds.x_test))]
    k = ds.n_classes
    t = np.eye(k)[ds.y_train]
    w, *_ = np.linalg.lstsq(x, t, rcond=None)
    if k == 2:
        s, st = x @ (w[:, 1] - w[:, 0]), xt @ (w[:, 1] - w[:, 0])
        cuts = np.unique(s)
        best = max(cuts, key=lambda c: max(np.mean((s > c) == ds.y_train),
                                           np.mean((s <= c) == ds.y_train)))
        flip = np.mean((s > best) == ds.y_train) < np.mean((s <= best) == ds.y_train)
        pred = (st <= best) if flip else (st > best)
        return float(np.mean(pred.astype(int) == ds.y_test))
    return float(np.mean(np.argmax(xt @ w, axis=1) == ds.y_test))
