"""``.meas`` results computed from a run's Results, the same way for every simulator.

ngspice in batch mode with a raw file (how neurospice runs it) skips ``.meas`` ("No .measure
possible in batch mode (-b) with -r rawfile set!") and VACASK has no ``.meas`` at all, so a
run computes each :class:`~neurospice.netlists.circuit.Measure` of its Circuit (or each
``.meas`` card of a SPICE deck) from the Result of its analysis, as ngspice's ``.meas``
does: crossings found between consecutive points and placed by linear interpolation, ``TD``
skipping the start, ``LAST`` the last crossing; ``AVG``/``RMS``/``INTEG`` by the trapezoidal
rule over the ``FROM``/``TO`` window (its ends interpolated), ``MIN``/``MAX``/``PP`` over the
points in the window; ``FIND ... AT`` interpolated. In an ac analysis ``v()`` and ``vm()`` are
the magnitude, ``vdb()`` 20 log10 of it, ``vp()`` the phase in radians, ``vr()``/``vi()`` the
real and imaginary parts.

A measurement that cannot be made (the event never happens, the window lies outside the
sweep) is NaN, reported as ``failed`` (plain ngspice prints "failed" too); the values land in
``Results.measurements`` and in the ``measurements`` of the Result they were taken from.
:func:`ngspice_measurements` reads the values plain ``ngspice -b`` prints, for comparison.
"""

from __future__ import annotations

import math
import re

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists.circuit import Measure, MeasureEvent

from .result import Result, Results

__all__ = ["measure", "attach_measurements", "ngspice_measurements"]

_VECTOR = re.compile(r"(v|vm|vdb|vp|vr|vi|i)\(([^,()]+)(?:,([^,()]+))?\)")


def _vector(result: Result, text: str) -> np.ndarray:
    m = _VECTOR.fullmatch(text)
    if m is None:
        raise NetlistError(f"cannot measure {text!r}")
    func, a, b = m.groups()
    try:
        if func == "i":
            x = result.i(a)
        else:
            x = result.v(a, b)
    except KeyError as exc:
        raise NetlistError(f"measurement of {text}: {exc.args[0]}") from None
    if np.iscomplexobj(x) or result.kind in ("ac", "noise"):
        x = np.asarray(x, dtype=complex)
        if func in ("v", "vm", "i"):
            return np.abs(x)
        if func == "vdb":
            return 20 * np.log10(np.abs(x))
        if func == "vp":
            return np.angle(x)
        return x.real if func == "vr" else x.imag
    if func not in ("v", "i"):
        raise NetlistError(f"{func}() is for ac analyses; measure v() or i() in a "
                           f"{result.kind} analysis")
    return np.asarray(x, dtype=float)


def _crossings(axis: np.ndarray, y: np.ndarray, value: float, edge: str,
               delay: float) -> list[float]:
    """The axis points where ``y`` crosses ``value`` in direction ``edge``, after ``delay``."""
    d = y - value
    out = []
    for k in range(1, len(y)):
        if axis[k] < delay:
            continue
        lo, hi = d[k - 1], d[k]
        rising = lo < 0 <= hi
        falling = lo > 0 >= hi
        if (edge == "rise" and rising) or (edge == "fall" and falling) or \
                (edge == "cross" and (rising or falling)):
            frac = 0.0 if hi == lo else -lo / (hi - lo)
            x = axis[k - 1] + frac * (axis[k] - axis[k - 1])
            if x >= delay:
                out.append(float(x))
    return out


def _event(result: Result, ev: MeasureEvent) -> float:
    if ev.at is not None:
        return ev.at
    found = _crossings(result.axis, _vector(result, ev.vector), ev.value, ev.edge, ev.delay)
    if ev.number == "last":
        return found[-1] if found else math.nan
    return found[ev.number - 1] if len(found) >= ev.number else math.nan


def _interp(axis: np.ndarray, y: np.ndarray, at: float) -> float:
    # a point within 1e-9 of the span past an end is that end (VACASK's ac sweep starts
    # at 100.00000000000004 for "100", as _window allows)
    lo, hi = min(axis[0], axis[-1]), max(axis[0], axis[-1])
    slack = 1e-9 * (hi - lo)
    if not (lo - slack <= at <= hi + slack):
        return math.nan
    if axis[0] > axis[-1]:
        axis, y = axis[::-1], y[::-1]
    return float(np.interp(at, axis, y))


def _window(axis, y, start, stop):
    # a window end within 1e-9 of the span past the sweep's end is that end (ngspice reads
    # "40u" as 3.9999999999999996e-05)
    slack = 1e-9 * (axis[-1] - axis[0])
    lo = axis[0] if start is None or axis[0] - slack <= start < axis[0] else start
    hi = axis[-1] if stop is None or axis[-1] < stop <= axis[-1] + slack else stop
    if lo < axis[0] or hi > axis[-1] or hi < lo:
        return None, None
    inside = (axis > lo) & (axis < hi)
    xs = np.concatenate([[lo], axis[inside], [hi]])
    ys = np.concatenate([[_interp(axis, y, lo)], y[inside], [_interp(axis, y, hi)]])
    return xs, ys


def measure(m: Measure, result: Result) -> float:
    """The value of measurement ``m`` on ``result`` (NaN where it cannot be made)."""
    axis = result.axis
    if axis is None or len(axis) < 2:
        raise NetlistError(f"measurement {m.name} needs a swept analysis, not {result.kind}")
    axis = np.asarray(axis.real if np.iscomplexobj(axis) else axis, dtype=float)
    if m.function == "trig_targ":
        return _event(result, m.targ) - _event(result, m.trig)
    if m.function == "when":
        return _event(result, m.when)
    y = _vector(result, m.vector)
    if m.function == "find_at":
        return _interp(axis, y, m.at)
    if m.function == "find_when":
        at = _event(result, m.when)
        return math.nan if math.isnan(at) else _interp(axis, y, at)
    xs, ys = _window(axis, y, m.start, m.stop)
    if xs is None:
        return math.nan
    if m.function in ("min", "max", "pp"):
        pts = ys if m.start is not None or m.stop is not None else y
        lo, hi = float(np.min(pts)), float(np.max(pts))
        return {"min": lo, "max": hi, "pp": hi - lo}[m.function]
    span = xs[-1] - xs[0]
    if m.function == "integ":
        return float(np.trapezoid(ys, xs))
    if span <= 0:
        return math.nan
    if m.function == "avg":
        return float(np.trapezoid(ys, xs) / span)
    return float(math.sqrt(np.trapezoid(ys * ys, xs) / span))   # rms


def attach_measurements(results: Results, measures) -> dict[str, float]:
    """Compute ``measures`` on ``results`` (each from the first Result of its analysis
    kind), store them in ``results.measurements`` and in the Result's ``measurements``;
    return the dict (name -> value, NaN where a measurement failed). A measurement of an
    analysis the run does not have is a NetlistError naming it."""
    values: dict[str, float] = {}
    for m in measures:
        found = results.of_kind(m.analysis)
        if not found:
            raise NetlistError(f"measurement {m.name} reads a {m.analysis} analysis, and the "
                               "deck has none")
        values[m.name] = found[0].measurements[m.name] = measure(m, found[0])
    results.measurements.update(values)
    return values


_PRINTED = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*([-+0-9.eE]+|failed)", re.MULTILINE)
_FAILED = re.compile(r"^\s*\.meas\w*\s+\w+\s+(\w+)\b.*\bfailed!", re.MULTILINE | re.IGNORECASE)


def ngspice_measurements(log: str) -> dict[str, float]:
    """The ``.meas`` values plain ``ngspice -b`` printed in ``log`` (name, lower-cased ->
    value; NaN for a measurement it reports as failed)."""
    out: dict[str, float] = {}
    for block in re.split(r"^\s*Measurements for ", log, flags=re.MULTILINE)[1:]:
        body = re.split(r"^\s*Total analysis time", block, maxsplit=1, flags=re.MULTILINE)[0]
        for m in _FAILED.finditer(body):
            out[m.group(1).lower()] = math.nan
        for m in _PRINTED.finditer(body):
            name = m.group(1).lower()
            out[name] = math.nan if m.group(2) == "failed" else float(m.group(2))
    return out
