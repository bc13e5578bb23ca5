"""Reproducible randomness for compact models.

- Device-to-device variability: per-instance parameters drawn here, in Python, from a seeded
  generator, and written into the netlist as instance parameters.
- Thermal / cycle-to-cycle noise: a device's noise input is driven by a PWL source made from
  seeded numpy samples, so ngspice, VACASK, Xyce and the numpy rendering see the same noise
  realisation (PWL is linear between samples in every simulator, and ``np.interp`` in numpy).
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from neurospice.errors import NetlistError


def rng(seed) -> np.random.Generator:
    """A numpy Generator from a seed (or the generator itself)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def noise_samples(seed, t_stop: float, dt: float):
    """Standard-normal samples every ``dt`` from 0 to ``t_stop``: (times, values).

    A device reads the noise input's voltage as one N(0,1) sample per slot ``dt``; its noise
    gain is defined per unit sample (so white noise of spectral density S needs a gain of
    sqrt(S / dt))."""
    if not (dt > 0 and t_stop > 0):
        raise NetlistError("noise needs dt > 0 and t_stop > 0")
    n = int(np.ceil(t_stop / dt)) + 1
    times = dt * np.arange(n)
    return times, rng(seed).standard_normal(n)


def noise_pwl(seed, t_stop: float, dt: float):
    """The same samples as a :class:`~neurospice.netlists.Pwl` waveform for a voltage source
    driving a noise input."""
    from neurospice.netlists import Pwl

    return Pwl(*noise_samples(seed, t_stop, dt))


def draw_params(device, n: int, seed, spread,
                base: Mapping[str, float] | None = None) -> list[dict[str, float]]:
    """``n`` per-instance parameter sets: each parameter in ``spread`` drawn around its
    nominal value (``base`` or the default) as ``("normal", rel_sigma)`` or
    ``("lognormal", sigma_of_log)``, redrawn where it falls outside the parameter's bounds
    (a truncated distribution). Same seed, same devices.

    ``spread`` may instead be a :class:`VariabilityCard` (or the path of its JSON file): its
    parameters are then drawn jointly, with the card's means, spreads and correlations (a
    measured ensemble as a Monte-Carlo; ``base`` is not used for them), redrawn where any
    falls outside its bounds."""
    gen = rng(seed)
    if isinstance(spread, (str, os.PathLike)):
        spread = VariabilityCard.read(spread)
    if isinstance(spread, VariabilityCard):
        unknown = [k for k in spread.names if k not in device.parameter]
        if unknown:
            raise NetlistError(f"variability card ({spread.device or 'no device'}): device "
                               f"{device.name} has no parameter(s) {unknown}")
        values = spread.draw(n, gen, {k: device.parameter[k].contains for k in spread.names})
        return [{k: float(values[i, j]) for j, k in enumerate(spread.names)} for i in range(n)]
    nominal = device.params(base)
    out = [dict() for _ in range(n)]
    for name, (kind, sigma) in spread.items():
        if name not in device.parameter:
            raise NetlistError(f"device {device.name} has no parameter {name!r}")
        par, mu = device.parameter[name], nominal[name]
        values = np.empty(n)
        todo = np.arange(n)
        for _ in range(100):
            if kind == "normal":
                draw = mu * (1 + sigma * gen.standard_normal(len(todo)))
            elif kind == "lognormal":
                draw = mu * np.exp(sigma * gen.standard_normal(len(todo)))
            else:
                raise NetlistError(f"spread kind must be 'normal' or 'lognormal', got {kind!r}")
            values[todo] = draw
            ok = np.array([par.contains(v) for v in draw])
            todo = todo[~ok]
            if not len(todo):
                break
        else:
            raise NetlistError(f"cannot draw {name} within {par.interval}: spread too wide")
        for k in range(n):
            out[k][name] = float(values[k])
    return out


# --------------------------------------------------------------------------- variability cards

#: the ``kind`` a variability card's JSON carries
VARIABILITY_KIND = "neurospice-variability-card"


class VariabilityCard:
    """Device-to-device variability measured on an ensemble (written by
    :func:`neurospice.calibration.ensemble.fit_ensemble`, read by :func:`draw_params`):
    per parameter its mean, standard deviation and distribution (``"normal"``: the value;
    ``"lognormal"``: its natural log -- ``mean``/``std`` are then those of ln value), and the
    correlation matrix of the parameters in that order.

    JSON (``to_dict``/``from_dict``, :meth:`write`/:meth:`read`)::

        {"kind": "neurospice-variability-card", "device": "rram", "n": 39,
         "params": {"i0": {"mean": ..., "std": ..., "distribution": "lognormal"}, ...},
         "correlation": [[1, r], [r, 1]], "source": "..."}
    """

    def __init__(self, device: str, params: Mapping[str, Mapping], correlation=None,
                 n: int = 0, source: str = ""):
        self.device = str(device)
        self.names = list(params)
        if not self.names:
            raise NetlistError("a variability card needs at least one parameter")
        self.mean = np.empty(len(self.names))
        self.std = np.empty(len(self.names))
        self.distribution = []
        for k, name in enumerate(self.names):
            entry = params[name]
            if not isinstance(entry, Mapping):
                raise NetlistError(f"variability card: {name!r} must map mean/std/distribution")
            try:
                self.mean[k], self.std[k] = float(entry["mean"]), float(entry["std"])
            except (KeyError, TypeError, ValueError):
                raise NetlistError(f"variability card: {name!r} needs numbers 'mean' and "
                                   "'std'") from None
            kind = entry.get("distribution", "normal")
            if kind not in ("normal", "lognormal"):
                raise NetlistError(f"variability card: {name!r} distribution must be "
                                   f"'normal' or 'lognormal', got {kind!r}")
            if not (np.isfinite(self.mean[k]) and np.isfinite(self.std[k]) and self.std[k] >= 0):
                raise NetlistError(f"variability card: {name!r} needs a finite mean and a "
                                   "finite std >= 0")
            self.distribution.append(kind)
        m = len(self.names)
        c = np.eye(m) if correlation is None else np.asarray(correlation, dtype=float)
        if c.shape != (m, m) or not np.all(np.isfinite(c)) or not np.allclose(c, c.T, atol=1e-9) \
                or not np.allclose(np.diag(c), 1.0, atol=1e-9) or np.any(np.abs(c) > 1 + 1e-9):
            raise NetlistError(f"variability card: the correlation must be a symmetric {m}x{m} "
                               "matrix of finite values in [-1, 1] with ones on the diagonal")
        if np.linalg.eigvalsh(c).min() < -1e-8:
            raise NetlistError("variability card: the correlation matrix is not positive "
                               "semi-definite")
        self.correlation = c
        self.n = int(n)
        self.source = str(source)

    def __iter__(self):
        """The parameter names (as a ``spread`` mapping's keys)."""
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of the drawn quantities (values, or their logs for lognormal ones)."""
        return self.correlation * np.outer(self.std, self.std)

    def nominal(self) -> dict[str, float]:
        """The median device: the mean (normal) or exp(mean of the log) (lognormal)."""
        return {n: float(np.exp(m) if d == "lognormal" else m)
                for n, m, d in zip(self.names, self.mean, self.distribution)}

    def to_dict(self) -> dict:
        return {"kind": VARIABILITY_KIND, "device": self.device, "n": self.n,
                "params": {n: {"mean": float(m), "std": float(s), "distribution": d}
                           for n, m, s, d in zip(self.names, self.mean, self.std,
                                                 self.distribution)},
                "correlation": self.correlation.tolist(), "source": self.source}

    @classmethod
    def from_dict(cls, data) -> "VariabilityCard":
        """A card from its JSON value; anything else than a card is a NetlistError."""
        if not isinstance(data, Mapping) or data.get("kind") != VARIABILITY_KIND:
            raise NetlistError(f"not a variability card (no \"kind\": \"{VARIABILITY_KIND}\")")
        params = data.get("params")
        if not isinstance(params, Mapping):
            raise NetlistError("variability card: 'params' must be an object")
        n = data.get("n", 0)
        if not isinstance(n, int) or n < 0:
            raise NetlistError("variability card: 'n' must be a count")
        return cls(str(data.get("device", "")), params, data.get("correlation"), n,
                   str(data.get("source", "")))

    def write(self, path, *, overwrite: bool = False):
        """Write the card as JSON (refused over an existing file unless ``overwrite``)."""
        import json

        from neurospice.fileio import write_text_atomic

        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n",
                                 overwrite=overwrite)

    @classmethod
    def read(cls, path) -> "VariabilityCard":
        """The card in the JSON file ``path`` (size-capped read; DataError on non-JSON,
        NetlistError on JSON that is not a card, naming the file)."""
        from neurospice.fileio import read_json

        try:
            return cls.from_dict(read_json(path, what="variability card"))
        except NetlistError as exc:
            raise NetlistError(f"{path}: {exc}") from None

    def draw(self, n: int, seed, bounds: Mapping | None = None) -> np.ndarray:
        """``n`` correlated draws, shape (n, parameters), redrawn (whole rows) where
        ``bounds[name](value)`` is False (a truncated distribution)."""
        gen = rng(seed)
        m = len(self.names)
        cov = self.covariance
        # a square root of a PSD matrix that tolerates zero spreads
        w, v = np.linalg.eigh(cov)
        root = v * np.sqrt(np.clip(w, 0.0, None))
        log = np.array([d == "lognormal" for d in self.distribution])
        out = np.empty((n, m))
        todo = np.arange(n)
        for _ in range(100):
            z = self.mean + gen.standard_normal((len(todo), m)) @ root.T
            z[:, log] = np.exp(z[:, log])
            out[todo] = z
            ok = np.ones(len(todo), dtype=bool)
            for k, name in enumerate(self.names):
                check = (bounds or {}).get(name)
                if check is not None:
                    ok &= np.array([bool(check(x)) for x in z[:, k]])
            todo = todo[~ok]
            if not len(todo):
                return out
        raise NetlistError("cannot draw the variability card's parameters within their "
                           "bounds: spread too wide")
