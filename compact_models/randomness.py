"""Reproducible randomness for compact models.

- Device-to-device variability: per-instance parameters drawn here, in Python, from a seeded
  generator, and written into the netlist as instance parameters.
- Thermal / cycle-to-cycle noise: a device's noise input is driven by a PWL source made from
  seeded numpy samples, so ngspice, VACASK, Xyce and the numpy rendering see the same noise
  realisation (PWL is linear between samples in every simulator, and ``np.interp`` in numpy).
"""

from __future__ import annotations

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


def draw_params(device, n: int, seed, spread: Mapping[str, tuple[str, float]],
                base: Mapping[str, float] | None = None) -> list[dict[str, float]]:
    """``n`` per-instance parameter sets: each parameter in ``spread`` drawn around its
    nominal value (``base`` or the default) as ``("normal", rel_sigma)`` or
    ``("lognormal", sigma_of_log)``, redrawn where it falls outside the parameter's bounds
    (a truncated distribution). Same seed, same devices."""
    gen = rng(seed)
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
