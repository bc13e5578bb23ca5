"""Measured data in, SI arrays out: typed loaders for the curves calibration fits.

Four loaders share one engine (:func:`load_table`'s reader, then column mapping, NaN policy,
splitting and checks):

- :func:`load_iv` -> :class:`IVSweep`: ``voltage_v``, ``current_a``; optional ``time_s``,
  ``temperature_k``, ``sweep``, ``cycle``, ``device``. Swept: voltage.
- :func:`load_transient` -> :class:`Transient`: ``time_s`` (strictly increasing) and at
  least one of ``voltage_v``, ``current_a``. Swept: time.
- :func:`load_spectrum` -> :class:`Spectrum`: ``freq_hz`` and at least one of ``vdc_v``,
  ``power_w``; optional ``field_t``. Swept: frequency.
- :func:`load_oscillator` -> :class:`OscillatorCurve`: ``current_a``, ``freq_hz``; optional
  ``power_w``, ``linewidth_hz``, ``field_t``. Swept: current.

All values are SI floats: V, A, s, K, Hz, W, and tesla for fields (mu0*H: 1 Oe = 1e-4 T).
``vdc_v`` is the rectified DC voltage of a spin diode; ``sweep`` and ``cycle`` are integers,
``device`` text. Each result also carries ``group`` (its grouping columns' values),
``source`` (the file), ``columns`` and ``units`` (canonical field -> header and unit as
written), ``lines`` (the 1-based file line of every
point), ``preamble`` (instrument settings above the header) and ``report`` (rows dropped on
request, assumptions made).

Columns are found by name (see ``QUANTITIES``: ``SMU-1 Voltage (V)`` ends with the word
``voltage``, ``I/mA`` is ``i``) and unit dimension, or named explicitly:
``columns={"voltage": "SMU-1 Voltage (V)"}`` (keys: the quantity or its canonical field name).
A column without a unit is read as SI, with a note in the report.

``split`` cuts a file into several curves and makes the loader return a list:

- ``"columns"``: curves side by side (``V1,I1,V2,I2`` or repeated names); the k-th column of
  each quantity forms curve k; empty cells below a shorter curve are padding. With explicit
  columns, give lists: ``columns={"voltage": ["V1", "V2"], "current": ["I1", "I2"]}``.
- ``"sweep_column"``: curves stacked, told apart by the sweep (else cycle) index column.
- ``"reversal"``: curves stacked, cut where the swept x turns back (0 -> 21 -> 0 V gives two
  branches; the turning point ends the first). Steps under half the median step are noise.
- ``"blocks"``: curves stacked, each under its own copy of the header.
- ``"auto"``: what the file shows: for spectra and oscillator curves, a swept axis that
  starts again (frequency 1..10 GHz, then 1..10 GHz again) cuts the file there, and the
  other columns constant over each curve (field, RF amplitude) become its ``group``
  labels; for I-V sweeps and transients, a sweep/cycle column, else repeated headers. A
  spectrum or oscillator file whose axis starts again is a DataError without ``split``
  (one curve fitted through several would be a confident wrong answer).

``group_by`` (a column name or a list of names) makes one curve per value (combination of
values) of those columns, in the order they first appear, each with ``group`` = {column:
value}; the rows of a group need not be adjacent. A grouping column is still read as its
quantity (``--group-by 'P (dBm)'``: each spectrum's power).

A spectrum's frequency, RF power or field that the file gives once instead of as a column
is taken from the preamble (``# RF power: -20 dBm``, ``Frequency,10 GHz``) or the file name
(``sweep_10GHz.csv``), with a note (:class:`Constant`).

``units`` (header name -> unit symbol) gives the unit of a column whose header writes none or
one not known.

Error bars: a column of a quantity's errors (its name with an error word of
``ERROR_WORDS``: ``f err (GHz)``, ``σ_f``, ``I std (A)``; or the error word alone right
after the quantity's column: ``±``) is read with it as a standard error per point, in SI
(its own unit, else the quantity's; a power's errors in dB are relative, turned into W to
first order), as ``<quantity>_err_<unit>`` (``freq_err_hz``, ``current_err_a``; the
quantities of ``ERROR_QUANTITIES``), with a note; ``columns={"freq_err": NAME}`` names one.
``Δf``, ``delta f``, ``df`` are a linewidth, not an error. A missing error is a missing
value (the NaN policy); a negative one, or one of zero (a weight of infinity), is a
DataError naming column and line.

Every DataError names the options as the caller spells them: ``header_row=`` from Python,
``--header-row`` under ``neurospice fit`` (:func:`~.table.command_line_spelling`).

Derived inputs: RF power from an RF current column (``I_rf``) and an impedance (a ``Z``
column or ``impedance=``), power from dBm (by its unit); I-V compliance from a compliance
column (a limit in A, or a 0/1 flag) or ``compliance=`` (A): the points at compliance are
marked in ``IVSweep.compliance``. Each derivation is a note in ``report``.

Bad data raises :class:`~neurospice.errors.DataError` naming file, column and line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import ArgumentError, DataError

from .table import (Column, Raw, Report, finite_rows, load_table, missing_value, parse_number,
                    read_raw, spell)
from .units import SI_UNIT, Unit, lookup_unit, parse_header

__all__ = [
    "IVSweep", "Transient", "Spectrum", "OscillatorCurve", "PulseRamp", "Measurement",
    "QUANTITIES", "ERROR_WORDS", "ERROR_QUANTITIES", "load_table", "load_iv",
    "load_transient", "load_spectrum",
    "load_oscillator", "load_spin_diode_sweeps", "load_pulse_updates", "column_counts",
    "has_frequency_pairs", "layout_split", "READ_OPTIONS",
]

#: the options of :func:`~.table.read_raw` (how a file is read, before its columns are mapped)
READ_OPTIONS = ("delimiter", "header_row", "skip_header", "decimal", "sheet", "units",
                "names")
SPLITS = (None, "auto", "columns", "sweep_column", "reversal", "blocks")
COMPLIANCE_TOLERANCE = 0.01   # a point within 1 % of the current limit is at compliance


@dataclass(frozen=True)
class Quantity:
    """A canonical quantity: its key, field name, dimension and the column names it takes."""

    key: str
    attr: str
    dimension: str          # a unit dimension, or "text"
    aliases: tuple[str, ...]


QUANTITIES = {q.key: q for q in (
    Quantity("voltage", "voltage_v", "voltage",
             ("v", "voltage", "bias", "vbias", "bias voltage", "applied voltage", "v dc",
              "vdc", "v applied", "v set", "v source", "source voltage", "v meas",
              "measured voltage", "v sense", "vsense", "vforce", "v force")),
    Quantity("current", "current_a", "current",
             ("i", "current", "ibias", "bias current", "i dc", "idc", "dc current",
              "i bias", "i applied", "applied current", "i set", "i meas", "measured current",
              "i sense", "isense", "i source", "source current", "dc bias current")),
    Quantity("compliance", "compliance", "current",
             ("compliance", "i compliance", "icc", "i cc", "current compliance",
              "compliance current", "i limit", "ilimit", "current limit", "i comp",
              "in compliance", "at compliance", "compliance flag", "cmpl")),
    Quantity("rf_current", "rf_current_a", "current",
             ("i rf", "irf", "rf current", "i rf rms", "i rf amp", "i rf amplitude",
              "rf current amplitude", "rf current rms", "i ac", "iac")),
    Quantity("impedance", "impedance_ohm", "resistance",
             ("z", "z0", "impedance", "load impedance", "r load", "rload")),
    # an I-V file written as R(V) or G(V): the current follows, I = V / R or G V
    Quantity("resistance", "resistance_ohm", "resistance",
             ("r", "resistance", "r dc", "rdc", "dc resistance", "r mtj", "rmtj", "r j", "rj",
              "junction resistance", "r junction", "r device", "device resistance", "r meas",
              "measured resistance", "r sample", "sample resistance", "r 2p", "r2p",
              "two point resistance", "r 4p", "r4p", "four point resistance")),
    Quantity("conductance", "conductance_s", "conductance",
             ("g", "conductance", "g dc", "gdc", "dc conductance", "g device",
              "device conductance", "g meas", "measured conductance", "g sample")),
    Quantity("time", "time_s", "time", ("t", "time")),
    Quantity("temperature", "temperature_k", "temperature", ("t", "temp", "temperature")),
    Quantity("sweep", "sweep", "dimensionless", ("sweep", "sweep index", "sweep number")),
    Quantity("cycle", "cycle", "dimensionless", ("cycle", "cycle index", "cycle number")),
    Quantity("device", "device", "text", ("device", "device id", "dev", "sample")),
    Quantity("freq", "freq_hz", "frequency",
             ("f", "freq", "frequency", "rf frequency", "f rf", "frf", "freq rf",
              "rf freq", "excitation frequency", "f osc", "osc frequency", "peak frequency",
              "f peak", "f0", "center frequency", "centre frequency")),
    Quantity("vdc", "vdc_v", "voltage", ("vdc", "v dc", "dc voltage", "rectified voltage",
                                        "vrect", "v", "voltage", "lock in x", "lockin x",
                                        "lock in", "lockin", "lia x", "x lock in",
                                        "mixing voltage", "vmix", "v mix", "v rect",
                                        "rectified", "dc signal")),
    Quantity("power", "power_w", "power",
             ("p", "power", "rf power", "prf", "p rf", "p in", "pin", "input power",
              "p out", "pout", "output power", "integrated power", "p osc", "peak power")),
    Quantity("field", "field_t", "field",
             ("h", "b", "field", "magnetic field", "applied field", "h ext", "hext",
              "b ext", "bext", "mu0h", "mu0 h", "h applied", "b applied", "external field")),
    Quantity("linewidth", "linewidth_hz", "frequency",
             ("linewidth", "fwhm", "df", "deltaf", "line width", "lw", "delta f",
              "fwhm linewidth", "linewidth fwhm")),
)}

#: words that make a column the errors of a quantity (``f err``, ``σ_I``, ``I std (A)``,
#: ``± (GHz)`` right after the frequency column), longest first; ``±`` and ``σ`` are read as
#: ``plusminus`` and ``sigma``. ``Δf``, ``delta f``, ``df`` are no errors (a linewidth).
ERROR_WORDS = ("standard deviation", "standard error", "std dev", "std err", "std error",
               "stderr", "stdev", "stddev", "uncertainty", "errors", "error", "err", "std",
               "sd", "sigma", "unc", "plusminus")
#: the quantities a column of errors may go with: each has an ``<quantity>_err`` key in
#: ``QUANTITIES`` (``freq_err`` -> the field ``freq_err_hz``), for ``columns=``
ERROR_QUANTITIES = ("voltage", "current", "freq", "vdc", "power", "linewidth")
QUANTITIES.update({f"{k}_err": Quantity(f"{k}_err", "{0}_err_{2}".format(
    *QUANTITIES[k].attr.rpartition("_")), QUANTITIES[k].dimension, ())
    for k in ERROR_QUANTITIES})


@dataclass(kw_only=True)
class Measurement:
    """Where a curve came from: file, columns and units as written, file line of each point."""

    source: Path
    columns: dict[str, str]
    units: dict[str, str]
    lines: np.ndarray
    preamble: tuple[str, ...] = ()
    report: Report = field(default_factory=Report)
    group: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass(kw_only=True)
class IVSweep(Measurement):
    voltage_v: np.ndarray
    current_a: np.ndarray
    time_s: np.ndarray | None = None
    temperature_k: np.ndarray | None = None
    sweep: np.ndarray | None = None
    cycle: np.ndarray | None = None
    device: np.ndarray | None = None
    compliance: np.ndarray | None = None
    compliance_a: float | None = None
    voltage_err_v: np.ndarray | None = None
    current_err_a: np.ndarray | None = None


@dataclass(kw_only=True)
class Transient(Measurement):
    time_s: np.ndarray
    voltage_v: np.ndarray | None = None
    current_a: np.ndarray | None = None
    voltage_err_v: np.ndarray | None = None
    current_err_a: np.ndarray | None = None


@dataclass(kw_only=True)
class Spectrum(Measurement):
    """Rectified voltage and/or power against frequency; a field sweep at one frequency
    has a constant ``freq_hz`` and the swept ``field_t``."""

    freq_hz: np.ndarray
    vdc_v: np.ndarray | None = None
    power_w: np.ndarray | None = None
    field_t: np.ndarray | None = None
    freq_err_hz: np.ndarray | None = None
    vdc_err_v: np.ndarray | None = None
    power_err_w: np.ndarray | None = None


@dataclass(kw_only=True)
class OscillatorCurve(Measurement):
    current_a: np.ndarray
    freq_hz: np.ndarray
    power_w: np.ndarray | None = None
    linewidth_hz: np.ndarray | None = None
    field_t: np.ndarray | None = None
    current_err_a: np.ndarray | None = None
    freq_err_hz: np.ndarray | None = None
    power_err_w: np.ndarray | None = None
    linewidth_err_hz: np.ndarray | None = None


@dataclass(kw_only=True)
class PulseRamp(Measurement):
    """Read current after each identical programming pulse (``pulse`` counts from 1)."""

    pulse: np.ndarray
    current_a: np.ndarray


@dataclass(frozen=True)
class _Kind:
    cls: type
    quantities: tuple[str, ...]     # in matching order
    required: tuple[str, ...]
    one_of: tuple[str, ...]         # at least one of these
    x: str                          # the swept quantity
    axis: bool = False              # x is an axis a stacked file repeats (auto split)
    derived: tuple[str, ...] = ()   # read to derive others, not fields of the result
    constants: tuple[str, ...] = ()  # may be one value in the preamble or the file name
    partial: tuple[str, ...] = ()   # on_nan="drop": a missing reading leaves the row's others
    # names a quantity takes in this kind of file only: ``CH1`` in an oscilloscope's
    # transient, where in an I-V file a ``Channel`` column is the SMU's number
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (quantity, the one it stands in for): read only where the file lacks the other (an
    # instrument's R column beside I and V, NaN at 0 V, is not the data)
    stand_ins: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Constant(Column):
    """A quantity the file gives once, not as a column: in its preamble (``# power: -20
    dBm``, ``Frequency,10 GHz``) or its name (``sweep_10GHz.csv``); ``value`` in SI."""

    value: float = math.nan


_IV = _Kind(IVSweep, ("compliance", "voltage", "current", "resistance", "conductance", "time",
                      "temperature", "sweep", "cycle", "device"), ("voltage",),
            ("current", "resistance", "conductance"), "voltage",
            derived=("resistance", "conductance"),
            stand_ins=(("resistance", "current"), ("conductance", "current")))
SCOPE_CHANNELS = ("ch", "channel", "ampl", "amplitude")   # CH1, Channel 2, LeCroy's Ampl
_TRANSIENT = _Kind(Transient, ("time", "voltage", "current"), ("time",),
                   ("voltage", "current"), "time",
                   # a scope channel: a voltage unless its unit says a current
                   aliases=(("voltage", SCOPE_CHANNELS), ("current", SCOPE_CHANNELS)))
_SPECTRUM = _Kind(Spectrum, ("freq", "vdc", "rf_current", "impedance", "power", "field"),
                  ("freq",), ("vdc", "power"), "freq", axis=True,
                  derived=("rf_current", "impedance"), constants=("freq", "power", "field"))
_OSCILLATOR = _Kind(OscillatorCurve, ("rf_current", "impedance", "current", "linewidth", "freq",
                                      "power", "field"),
                    ("current", "freq"), (), "current", axis=True,
                    derived=("rf_current", "impedance"),
                    partial=("freq", "power", "linewidth"))


def load_iv(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
            split: str | None = None, min_points: int = 3, on_nan: str = "raise",
            delimiter: str | None = None, header_row: int | None = None,
            skip_header: int | None = None, decimal: str | None = None,
            sheet: str | int | None = None, group_by: str | Sequence[str] | None = None,
            compliance: float | None = None, units: Mapping[str, str] | None = None,
            names: str | Sequence[str] | None = None) -> IVSweep | list[IVSweep]:
    """Load I-V sweeps: one :class:`IVSweep`, or a list when ``split`` or ``group_by`` is
    given.

    The reading options are :func:`load_table`'s; ``min_points`` is the fewest points a
    sweep may have; ``group_by`` and ``split``: see the module docstring. ``compliance``
    (A): the source's current limit, when the file has no compliance column; points whose
    current is within 1 % of it are marked in ``compliance`` (a bool array) with a note.
    """
    return _load(_IV, path, **_options(locals()))


def load_transient(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
                   split: str | None = None, min_points: int = 3, on_nan: str = "raise",
                   delimiter: str | None = None, header_row: int | None = None,
                   skip_header: int | None = None,
                   decimal: str | None = None, sheet: str | int | None = None,
                   group_by: str | Sequence[str] | None = None,
                   units: Mapping[str, str] | None = None,
                   names: str | Sequence[str] | None = None
                   ) -> Transient | list[Transient]:
    """Load transient waveforms (time strictly increasing) like :func:`load_iv`."""
    return _load(_TRANSIENT, path, **_options(locals()))


def load_spectrum(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
                  split: str | None = None, min_points: int = 3, on_nan: str = "raise",
                  delimiter: str | None = None, header_row: int | None = None,
                  skip_header: int | None = None,
                  decimal: str | None = None, sheet: str | int | None = None,
                  group_by: str | Sequence[str] | None = None,
                  impedance: float | None = None, units: Mapping[str, str] | None = None,
                  names: str | Sequence[str] | None = None
                  ) -> Spectrum | list[Spectrum]:
    """Load RF spectra (frequency, rectified voltage and/or power) like :func:`load_iv`.

    A file whose frequency axis starts again (spectra stacked) holds several curves: with
    ``split="auto"`` it is cut there (a note in the report names the lines), with no
    ``split`` it is a DataError. The RF power may come from an RF current column (``I_rf``)
    and an impedance (a ``Z`` column, or ``impedance`` in Ohm): ``P = I^2 Z / 2`` for an
    amplitude, ``I^2 Z`` for a column whose name says ``rms`` (a note says which)."""
    return _load(_SPECTRUM, path, **_options(locals()))


def load_oscillator(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
                    split: str | None = None, min_points: int = 3, on_nan: str = "raise",
                    delimiter: str | None = None, header_row: int | None = None,
                    skip_header: int | None = None,
                    decimal: str | None = None, sheet: str | int | None = None,
                    group_by: str | Sequence[str] | None = None,
                    impedance: float | None = None, units: Mapping[str, str] | None = None,
                    names: str | Sequence[str] | None = None
                    ) -> OscillatorCurve | list[OscillatorCurve]:
    """Load oscillator curves (bias current, frequency, power, linewidth) like
    :func:`load_spectrum` (a repeated current axis, derived power). With ``on_nan="drop"``
    a row without a frequency, power or linewidth reading keeps its other readings (NaN
    where one is missing; a note lists the lines); a row without a current is dropped."""
    return _load(_OSCILLATOR, path, **_options(locals()))


def _options(scope: dict) -> dict:
    return {k: v for k, v in scope.items() if k != "path"}


def _load(kind: _Kind, path, *, columns, split, min_points, on_nan, delimiter, header_row,
          skip_header, decimal, sheet=None, group_by=None, compliance=None, impedance=None,
          units=None, names=None):
    if split not in SPLITS:
        raise ArgumentError(f"{spell('split')} must be one of {SPLITS}, not {split!r}")
    raw = read_raw(path, delimiter=delimiter, header_row=header_row, skip_header=skip_header,
                   decimal=decimal, sheet=sheet, units=units, on_nan=on_nan, names=names)
    by = [] if group_by is None else [raw.find(n) for n in
                                      ([group_by] if isinstance(group_by, str) else group_by)]
    curves = []
    for group in _map_columns(raw, kind, columns or {}, split == "columns",
                              {c.index for c in by}):
        rows = _extent(raw, [c for c in group.values() if not isinstance(c, Constant)]) \
            if split == "columns" else slice(None)
        values = {key: _read(raw, QUANTITIES[key], col, rows) for key, col in group.items()
                  if not key.endswith("_err")}
        for key, col in group.items():
            if key.endswith("_err"):
                values[key] = _read_error(raw, key[:-4], col, group[key[:-4]],
                                          values[key[:-4]], rows)
        labels = {c.name: _label_values(raw, c, rows) for c in by}
        lines, block = raw.lines[rows], raw.block[rows]
        partial = [k for k, c in group.items() if k.removesuffix("_err") in kind.partial
                   and on_nan == "drop" and not isinstance(c, Constant)]
        checks = [(c.name, _numeric(values[k]), raw.empty(c, rows)) for k, c in group.items()
                  if not isinstance(c, Constant) and k not in partial]
        checks += [(c.name, _numeric(labels[c.name]), raw.empty(c, rows)) for c in by]
        keep = finite_rows(raw.path, checks, lines, on_nan, raw.report)
        for k in partial:
            _partial_note(raw, group[k], values[k], lines, keep)
        for k in partial:       # a reading without its error, or the reverse: left out
            if k.endswith("_err"):
                none = ~np.isfinite(values[k]) | ~np.isfinite(values[k[:-4]])
                values[k][none] = values[k[:-4]][none] = np.nan
        _check_errors(raw, group, {k: v[keep] for k, v in values.items()}, lines[keep])
        values = {k: v[keep] for k, v in values.items()}
        labels = {k: v[keep] for k, v in labels.items()}
        lines, block = lines[keep], block[keep]
        for key in ("sweep", "cycle"):
            if key in values:
                values[key] = _integers(raw, group[key], values[key], lines)
        _derive_power(raw, kind, group, values, impedance)
        _derive_current(raw, kind, group, values, lines)
        marked = _compliance(raw, kind, group, values, compliance)
        if by:
            pieces = _groups(raw, labels, lines)
            if split not in (None, "auto", "columns"):
                pieces = [p[q] for p in pieces for q in
                          _pieces(raw, kind, group, {k: v[p] for k, v in values.items()},
                                  block[p], lines[p], split)]
        elif kind.axis and split in (None, "auto"):
            pieces = _axis_pieces(raw, kind, group, values, lines, min_points, split)
        else:
            pieces = _pieces(raw, kind, group, values, block, lines, split)
        for piece in pieces:
            curve = _build(raw, kind, group, values, lines, piece, min_points,
                           len(curves) + 1)
            if by:
                curve.group = {n: _plain(v[piece[0]]) for n, v in labels.items()}
            elif len(pieces) > 1 and kind.axis:
                curve.group = _constant_columns(raw, group, kind.x, piece, keep, rows)
            if marked is not None:
                curve.compliance, curve.compliance_a = marked[0][piece], marked[1]
            curves.append(curve)
    return curves if (split or by or len(curves) > 1) else curves[0]


def _partial_note(raw: Raw, column: Column, values: np.ndarray, lines, keep) -> None:
    """``on_nan="drop"`` on a reading a row may lack (an oscillator's frequency, power or
    linewidth): NaN in that quantity only, the row's other readings kept; a note lists the
    lines."""
    bad = keep & ~np.isfinite(values)
    if bad.any():
        values[bad] = np.nan
        where = ", ".join(str(int(n)) for n in lines[bad][:10]) + \
            (f" and {int(bad.sum()) - 10} more" if bad.sum() > 10 else "")
        raw.report.notes.append(f"column {column.name!r}: {int(bad.sum())} reading(s) without "
                                f"a value (line(s) {where}) left out of that quantity only; "
                                "the other readings of those rows kept")


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _label_values(raw: Raw, column: Column, rows) -> np.ndarray:
    """A grouping column's values: SI numbers when every cell with a value is a number,
    else the text as written."""
    cells = [c for c in raw.text(column, rows) if c]
    if cells and all(parse_number(c, raw.decimal) is not None for c in cells):
        return raw.values(column, rows)
    return np.array(raw.text(column, rows), dtype=str)


def _groups(raw: Raw, labels: dict, lines) -> list[np.ndarray]:
    """Row indices of each combination of the grouping columns' values, in the order the
    combinations first appear (the rows of one group need not be adjacent)."""
    keys = list(zip(*labels.values()))
    order: dict = {}
    for k, key in enumerate(keys):
        order.setdefault(key, []).append(k)
    pieces = [np.array(v) for v in order.values()]
    names = ", ".join(labels)
    raw.report.notes.append(f"grouped by {names}: {len(pieces)} curve(s)")
    return pieces


def _axis_pieces(raw, kind, group, values, lines, min_points, split) -> list[np.ndarray]:
    """One piece, or (``split="auto"``) a piece per repetition of a swept axis that starts
    again (stacked spectra); a repeated axis without ``split`` is a DataError."""
    x = values[kind.x]
    n = len(x)
    cuts = _restarts(x)
    if not cuts or any(len(p) < min_points for p in np.split(np.arange(n), cuts)):
        return [np.arange(n)]
    col = group[kind.x].name
    where = ", ".join(str(int(lines[c])) for c in cuts[:8]) + (" ..." if len(cuts) > 8 else "")
    if split is None:
        raise DataError(f"the {kind.x} axis starts again at line(s) {where}: the file holds "
                        f"{len(cuts) + 1} stacked curves, not one; pass {spell('split', 'auto')}"
                        f" (or {spell('group_by', 'COLUMN')})", path=str(raw.path),
                        column=col, row=int(lines[cuts[0]]))
    raw.report.notes.append(f"column {col!r}: the {kind.x} axis starts again at line(s) "
                            f"{where}: split into {len(cuts) + 1} curves")
    return np.split(np.arange(n), cuts)


def _restarts(x: np.ndarray) -> list[int]:
    """Indices where a monotonic axis starts again: a step against the axis's direction
    larger than half its span (a sawtooth, not the turn of a loop)."""
    if len(x) < 4:
        return []
    d = np.diff(x)
    direction = np.sign(np.median(d))
    span = float(np.ptp(x))
    if direction == 0 or span == 0:
        return []
    back = np.flatnonzero(direction * d < -0.5 * span) + 1
    forward = direction * d[direction * d > 0]
    if not len(back) or len(forward) < 2:
        return []
    return [int(k) for k in back]


def _constant_columns(raw: Raw, group: dict, x: str, piece, keep, rows) -> dict:
    """The numeric columns (the swept axis ``x`` and the errors aside) that hold one value
    over ``piece`` and change over the file (a stacked curve's field, RF amplitude, ...):
    its labels (SI)."""
    out = {}
    skip = {c.index for k, c in group.items() if k == x or k.endswith("_err")}
    for c in raw.columns:
        if c.index in skip:
            continue
        try:
            whole = raw.values(c, rows)[keep]
        except DataError:
            continue
        v = whole[piece]
        if len(v) and np.all(np.isfinite(v)) and np.all(v == v[0]) and np.ptp(whole) > 0:
            out[c.name] = float(v[0])
    return out


def _derive_power(raw, kind, group, values, impedance) -> None:
    """RF power from an RF current and an impedance, where the file has no power column."""
    if "rf_current" not in values:
        return
    col = group["rf_current"]
    if "power" in values:
        raw.report.notes.append(f"column {col.name!r} (RF current) not used: the file has a "
                                "power column")
    else:
        if "impedance" in values:
            z, zdesc = values["impedance"], f"column {group['impedance'].name!r}"
        elif impedance is not None:
            if not (np.isfinite(impedance) and impedance > 0):
                raise ArgumentError(f"{spell('impedance')} must be a positive number of Ohm")
            z, zdesc = float(impedance), f"{impedance:g} Ohm ({spell('impedance')})"
        else:
            raise DataError(f"an RF current but no power: give the impedance with "
                            f"{spell('impedance', 'OHM')} or a Z column", path=str(raw.path),
                            column=col.name, row=raw.header_line)
        rms = "rms" in col.label.lower()
        values["power"] = values["rf_current"] ** 2 * z * (1.0 if rms else 0.5)
        raw.report.notes.append(f"RF power from column {col.name!r} and {zdesc}: P = I^2 Z"
                                f"{'' if rms else ' / 2'} ({'rms' if rms else 'amplitude'} "
                                "current, as the name says)")
    for key in kind.derived:
        values.pop(key, None)
        group.pop(key, None)


def _derive_current(raw, kind, group, values, lines) -> None:
    """An I-V file written as R(V) or G(V): the current I = V / R or G V (a note says so;
    :func:`_map_columns` reads R and G only where the file has no current column). A
    resistance of zero or less, or a negative conductance, is a DataError naming its line
    (R here is V / I: positive for a passive device at either polarity)."""
    given = [k for k in ("resistance", "conductance") if k in values]
    if kind is not _IV or not given:
        return
    key = given[0]
    col, v, x = group[key], values["voltage"], values[key]
    bad = np.flatnonzero(x <= 0 if key == "resistance" else x < 0)
    if len(bad):
        raise DataError(f"a {key} of {x[bad[0]]:g} {SI_UNIT[QUANTITIES[key].dimension]}: the "
                        f"current cannot follow from it (I = "
                        f"{'V / R, R > 0' if key == 'resistance' else 'G V, G >= 0'})",
                        path=str(raw.path), column=col.name, row=int(lines[bad[0]]))
    values["current"] = v / x if key == "resistance" else v * x
    raw.report.notes.append(f"current from column {col.name!r} and the voltage: "
                            f"{'I = V / R' if key == 'resistance' else 'I = G V'}")
    for key in kind.derived:
        values.pop(key, None)
        group.pop(key, None)


def _compliance(raw, kind, group, values, limit):
    """(mask of points at the current compliance, the limit in A) or None."""
    if kind is not _IV:
        return None
    current = np.abs(values["current"])
    if "compliance" in values:
        col = group.pop("compliance")
        v = values.pop("compliance")
        if col.unit is None and np.all(np.isin(v, (0.0, 1.0))):
            mask = v == 1.0
            raw.report.notes.append(f"column {col.name!r}: {int(mask.sum())} point(s) flagged "
                                    "at compliance")
            lim = float(np.max(current[mask])) if mask.any() else None
            return mask, lim
        lim_v = np.abs(v)
        lim = float(np.max(lim_v))
        where = f"column {col.name!r}"
    elif limit is not None:
        if not (np.isfinite(limit) and limit > 0):
            raise ArgumentError(f"{spell('compliance')} must be a positive current in A")
        lim_v, lim, where = np.full(len(current), float(limit)), float(limit), \
            f"{spell('compliance', format(limit, 'g'))}"
    else:
        return None
    mask = current >= (1 - COMPLIANCE_TOLERANCE) * lim_v
    raw.report.notes.append(f"{int(mask.sum())} point(s) within {COMPLIANCE_TOLERANCE:.0%} of "
                            f"the current compliance ({where}, up to {lim:g} A): marked as at "
                            "compliance (the source limited the current; the voltage there is "
                            "the source's, not the device's)")
    return mask, lim


def _error_keys(kind: _Kind) -> tuple[str, ...]:
    """The quantities of ``kind`` that a column of errors may go with."""
    return tuple(k for k in kind.quantities if k in ERROR_QUANTITIES and k not in kind.derived)


def _quantity(key: str, kind: _Kind) -> Quantity:
    keys = (*kind.quantities, *(f"{k}_err" for k in _error_keys(kind)))
    for q in QUANTITIES.values():
        if key in (q.key, q.attr) and q.key in keys:
            return q
    names = ", ".join(repr(k) for k in keys)
    raise ArgumentError(f"{spell('columns', None, key=key)}: unknown quantity {key!r} for "
                        f"{kind.cls.__name__}; use one of {names}")


def _normal(label: str) -> str:
    # "Δf" is a difference (a linewidth), not f: spell the delta out before dropping symbols
    text = label.lower().replace("δ", "delta").replace("∆", "delta")
    # a frequency naming the curve is no part of the quantity's name: V_4GHz is V
    text = re.sub(r"(?<![0-9.])[0-9]+(?:[.p][0-9]+)?\s*_?[gm]hz(?![a-z])", " ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"\s*\d+$", "", text)            # V1, Voltage 2 -> curve index dropped


# a name whose first word is one of these letters is that quantity and no other:
# ``I_bias`` is a current although "bias" alone names a voltage; a letter with any
# subscript (``I_C``, ``V_set``, ``f_osc``) is the first quantity listed
_FIRST_LETTER = {"i": ("current", "compliance", "rf_current"), "v": ("voltage", "vdc"),
                 "f": ("freq",), "p": ("power",), "h": ("field",), "b": ("field",),
                 "z": ("impedance",)}


def _error_base(label: str) -> str | None:
    """The name of the quantity whose errors a column holds, normalised (``f err`` ->
    ``f``, ``σ_I`` -> ``i``, ``Std of V1`` -> ``v``; ``""`` for an error word alone, as
    ``±``), or None for a name that says no error (:data:`ERROR_WORDS`)."""
    text = label.lower().replace("±", " plusminus ").replace("+/-", " plusminus ")
    name = _normal(text.replace("σ", " sigma "))
    for word in ERROR_WORDS:
        if name == word:
            return ""
        if name.startswith(word + " "):
            return _normal(re.sub(r"^of ", "", name[len(word) + 1:]))
        if name.endswith(" " + word):
            return _normal(name[:-len(word) - 1])
    return None


def _matches(column: Column, q: Quantity, extra: Sequence[str] = ()) -> bool:
    """Whether ``column`` may hold ``q``: by its name (``q``'s aliases and ``extra``; a name
    that says errors, :func:`_error_base`, holds no quantity) and its unit's dimension."""
    spice = re.fullmatch(r"([vi])\(.+\)", column.label.strip().lower())
    if not spice and _error_base(column.label) is not None:
        return False
    if spice:   # a simulator's vector, as ``neurospice sim`` writes it: v(node), i(element)
        if q.key != {"v": "voltage", "i": "current"}[spice[1]]:
            return False
    else:
        name = _normal(column.label)
        first = name.split(" ")[0]
        if " " in name and q.key not in _FIRST_LETTER.get(first, (q.key,)):
            return False
        subscripted = " " in name and q.key == _FIRST_LETTER.get(first, ("",))[0]
        if not subscripted and not any(name == a or name.endswith(" " + a)
                                       for a in (*q.aliases, *extra)):
            return False
    if column.unit is None:
        return True            # no unit (SI assumed) or an unknown one (raises when read)
    return column.unit.dimension == q.dimension


def _map_columns(raw: Raw, kind: _Kind, columns: Mapping, several: bool,
                 reserved: set[int] = frozenset()):
    """Columns per quantity, as one dict per curve (``reserved``: the grouping columns'
    indices, kept for their curves' labels and still mapped to quantities); a quantity of
    ``kind.constants`` without a column may be a :class:`Constant` (:func:`_constant`)."""
    found: dict[str, list[Column]] = {}
    for key, names in columns.items():
        q = _quantity(key, kind)
        names = [names] if isinstance(names, str) else list(names)
        if len(names) > 1 and not several:
            raise ArgumentError(f"several columns for {q.key!r} need "
                                f"{spell('split', 'columns')}")
        found[q.key] = [raw.find(n) for n in names]
    taken = {c.index for cols in found.values() for c in cols}
    for key in kind.quantities:
        if key not in found:
            # a grouping column (``reserved``) is one value per curve and may still be its
            # quantity: the field or power of a spectrum, the frequency of a field sweep
            hits = [c for c in raw.columns
                    if c.index not in taken
                    and _matches(c, QUANTITIES[key], dict(kind.aliases).get(key, ()))]
            if key not in kind.required and key not in kind.one_of:
                hits = [c for c in hits if _numbers_or_says_so(raw, c, QUANTITIES[key])]
            if hits:
                found[key] = hits
                taken.update(c.index for c in hits)
    for key, other in kind.stand_ins:
        if other in found and key in found:
            raw.report.notes.append(f"column(s) {', '.join(repr(c.name) for c in found[key])} "
                                    f"({key}) not used: the file has a {other} column")
            del found[key]
    for key in kind.constants:
        if key in found:
            continue
        n = max((len(c) for c in found.values()), default=1)
        if several and n > 1:       # side by side: each curve's value in its columns' names
            per = [_constant(raw, QUANTITIES[key], [cols[i] for cols in found.values()
                                                    if len(cols) == n]) for i in range(n)]
            if all(c is not None for c in per):
                found[key] = per
                continue
        constant = _constant(raw, QUANTITIES[key])
        if constant is not None:
            found[key] = [constant] * n

    missing = [k for k in kind.required if k not in found]
    if kind.one_of and not any(k in found for k in kind.one_of):
        missing.append(" or ".join(kind.one_of))
    if missing:
        first = missing[0].split()[0]
        raise raw.missing(missing, f" (name them with {spell('columns', None, key=first)})")
    _pair_errors(raw, kind, found, taken)
    for key, cols in found.items():
        units = {c.unit_symbol for c in cols}
        listing = ", ".join(f"{c.name!r} in {c.unit_symbol or 'no unit'}" for c in cols)
        if len(units) > 1:
            raise DataError(f"mixed units for {key}: {listing}", path=str(raw.path),
                            column=cols[1].name, row=raw.header_line)
        if len(cols) > 1 and not several:
            raise DataError(f"{len(cols)} columns look like {key} ({listing}); choose one with "
                            f"{spell('columns', None, key=key)} or pass "
                            f"{spell('split', 'columns')}",
                            path=str(raw.path), column=cols[1].name, row=raw.header_line)
    counts = {k: len(c) for k, c in found.items()}
    if len(set(counts.values())) > 1:
        raise DataError(f"side-by-side curves need as many columns of each quantity: {counts}",
                        path=str(raw.path), row=raw.header_line)
    n = next(iter(counts.values()))
    return [{k: cols[i] for k, cols in found.items()} for i in range(n)]


def _pair_errors(raw: Raw, kind: _Kind, found: dict[str, list[Column]], taken: set[int]
                 ) -> None:
    """Add to ``found`` the columns of errors of the quantities found (``freq_err``: the
    columns of the frequency's errors, as many as frequency columns, in file order): by
    name, the quantity's name with an error word (``f err (GHz)``, ``σ_f``), or an error
    word alone right after the quantity's column (``±``); or named in ``columns=``. A name
    that says errors of no quantity read is a note."""
    keys = _error_keys(kind)
    owner = {c.index: k for k, cols in found.items() for c in cols
             if k in keys and not isinstance(c, Constant)}
    paired: dict[str, list[Column]] = {}
    for c in raw.columns:
        base = None if c.index in taken else _error_base(c.label)
        if base is None:
            continue
        if base == "":
            key = owner.get(c.index - 1)
        else:
            probe = Column(c.index, c.name, base, None, "")
            key = next((k for k in kind.quantities if k in found
                        and _matches(probe, QUANTITIES[k])), None)
        if key not in keys or key not in owner.values():
            what = f"the {key}" if key else "no quantity read"
            raw.report.notes.append(f"column {c.name!r}: errors (by its name) of {what}: "
                                    "not used")
            continue
        if f"{key}_err" not in found:
            paired.setdefault(key, []).append(c)
    for key, cols in paired.items():
        found[f"{key}_err"] = cols
    for err in [k for k in found if k.endswith("_err")]:
        key, cols = err[:-4], found[err]
        if key not in found or any(isinstance(c, Constant) for c in found[key]):
            raise DataError(f"errors of {key} ({', '.join(repr(c.name) for c in cols)}) but "
                            f"no {key} column", path=str(raw.path), column=cols[0].name,
                            row=raw.header_line)
        if len(cols) != len(found[key]):
            raise DataError(f"{len(cols)} column(s) of {key} errors "
                            f"({', '.join(repr(c.name) for c in cols)}) for "
                            f"{len(found[key])} {key} column(s); name them with "
                            f"{spell('columns', None, key=err)}", path=str(raw.path),
                            column=cols[0].name, row=raw.header_line)
        for c, of in zip(cols, found[key]):
            raw.report.notes.append(f"column {c.name!r}: the errors of {key} (column "
                                    f"{of.name!r}), a standard error per point")


def _read_error(raw: Raw, key: str, column: Column, of: Column, value: np.ndarray,
                rows: slice) -> np.ndarray:
    """A column of errors of ``key`` in SI: in its own unit, else in that of the quantity's
    column ``of``; a power's errors in dB (or in dBm, or without a unit beside a power in
    dBm) are relative, turned into W to first order: sigma_P = P ln(10)/10 sigma_dB."""
    q = QUANTITIES[key]
    in_db = column.unit is None and column.unit_text.strip().lower() == "db"
    unit = None if in_db else raw.unit_of(column) or raw.unit_of(of)
    if key == "power" and (in_db or (unit is not None and unit.dbm)):
        db = raw.values(column, rows, Unit("dB", "dimensionless"))
        raw.report.notes.append(f"column {column.name!r}: power errors in dB, in W to first "
                                "order: sigma_P = P ln(10)/10 sigma_dB")
        return value * math.log(10.0) / 10.0 * db
    if unit is None:
        raw.report.notes.append(f"column {column.name!r} (errors) has no unit, nor has "
                                f"{of.name!r}: read as {SI_UNIT[q.dimension]}")
        return raw.values(column, rows)
    if unit.dimension != q.dimension:
        raise DataError(f"unit {unit.symbol} is a {unit.dimension} unit but errors of {key} "
                        f"need {q.dimension} ({SI_UNIT[q.dimension]})", path=str(raw.path),
                        column=column.name, row=raw.header_line)
    return raw.values(column, rows, unit)


def _check_errors(raw: Raw, group: dict, values: dict, lines) -> None:
    """A negative error, or one of zero (a weight of infinity), is a DataError naming its
    column and line (a missing one went through the NaN policy with the values)."""
    for key in [k for k in group if k.endswith("_err")]:
        e = values[key]
        bad = np.flatnonzero(np.isfinite(e) & (e <= 0))
        if len(bad):
            k = bad[0]
            what = (f"a negative error ({float(e[k]):g})" if e[k] < 0 else
                    "an error of zero (a weight of infinity in the fit): give each point its "
                    "real error, or leave the column out")
            raise DataError(what, path=str(raw.path), column=group[key].name,
                            row=int(lines[k]))


_VALUE = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_SETTING = re.compile(r"([A-Za-z][^:=\t,;]*?)\s*(?:[:=\t,;]\s*|\s+)(" + _VALUE +
                      r")\s*([^\s\d,;:=][^\s,;]*)?[\s,;\t]*")
_IN_NAME = re.compile(r"(?<![0-9.])([+-]?[0-9]+(?:[.p][0-9]+)?)\s*_?([A-Za-zµ]{2,4})"
                      r"(?![A-Za-z])")


def _constant(raw: Raw, q: Quantity, columns: Sequence[Column] | None = None
              ) -> Constant | None:
    """``q`` given once: a preamble line naming it with a value and a unit (``# RF power:
    -20 dBm``, ``Frequency (GHz),10``), else the file name (``sweep_10GHz.csv``,
    ``f6p5GHz_-20dBm.txt``: a value with a unit of two or more letters of ``q``'s
    dimension); with ``columns`` (one curve of a side-by-side file), their names only
    (``H_4GHz (Oe)``, ``V_4GHz (uV)``). None when nothing says it, or says it twice with
    different values; a note says where the value came from."""
    values: dict[float, str] = {}
    names = [(c.name, f"the column name {c.name!r}") for c in columns or ()]
    if columns is None:
        names = [(raw.path.stem, "the file name")]
    for line in raw.preamble if columns is None else ():
        m = _SETTING.fullmatch(line.strip().lstrip("#").strip())
        if m is None:
            continue
        head = parse_header(m.group(1))
        unit = lookup_unit(m.group(3)) if m.group(3) else head.unit
        if unit is None or (m.group(3) and head.unit_text):
            continue
        col = Constant(-1, line.strip(), head.label, unit, unit.symbol)
        if _matches(col, q):
            values.setdefault(float(unit.to_si(float(m.group(2)))), f"the preamble line "
                                                                    f"{line.strip()!r}")
    for name, where in names if not values else ():
        for m in _IN_NAME.finditer(name):
            unit = lookup_unit(m.group(2))
            if unit is not None and unit.dimension == q.dimension:
                number = float(m.group(1).replace("p", "."))
                values.setdefault(float(unit.to_si(number)), f"{where} ({m.group(0)})")
    if len(values) != 1:
        return None
    (value, where), = values.items()
    raw.report.notes.append(f"{q.key}: {value:g} {SI_UNIT[q.dimension]}, from {where} (the "
                            "file has no such column)")
    return Constant(-1, f"{q.key} from {where}", q.key, None, SI_UNIT[q.dimension], value)


def _numbers_or_says_so(raw: Raw, column: Column, q: Quantity) -> bool:
    """Whether an optional column found by its name holds that quantity: numbers (a text
    quantity, any cells), or a unit in its header. A ``Time`` column of clock readings
    (``2024-05-06 10:00:01``) is left out with a note rather than refused."""
    if q.dimension == "text" or column.unit is not None or column.unit_text:
        return True
    first = next((row[column.index] for row in raw.cells
                  if not missing_value(row[column.index])), None)
    if first is None or parse_number(first, raw.decimal) is not None:
        return True
    raw.report.notes.append(f"column {column.name!r}: {first[:40]!r} is no number: not read "
                            f"as the {q.key}")
    return False


def _extent(raw: Raw, cols) -> slice:
    """Rows down to the last one where any of ``cols`` has a value: below is padding."""
    filled = [i for i, row in enumerate(raw.cells) if any(row[c.index] for c in cols)]
    end = filled[-1] + 1 if filled else 0
    if end < len(raw.cells):
        raw.report.notes.append(f"columns {[c.name for c in cols]}: empty from line "
                                f"{raw.lines[end]} on, read as padding")
    return slice(0, end)


def _read(raw: Raw, q: Quantity, column: Column, rows: slice) -> np.ndarray:
    if isinstance(column, Constant):
        return np.full(len(raw.lines[rows]), column.value)
    if q.dimension == "text":
        return np.array(raw.text(column, rows), dtype=str)
    unit = raw.unit_of(column)
    if unit is None:
        raw.report.notes.append(f"column {column.name!r} has no unit: read as "
                                f"{SI_UNIT[q.dimension] or 'a plain number'}")
    elif unit.dimension != q.dimension:
        raise DataError(f"unit {unit.symbol} is a {unit.dimension} unit but {q.key} needs "
                        f"{q.dimension} ({SI_UNIT[q.dimension] or 'no unit'})",
                        path=str(raw.path), column=column.name, row=raw.header_line)
    return raw.values(column, rows, unit)


def _numeric(values: np.ndarray) -> np.ndarray:
    """Text columns are finite for the NaN policy (their empty cells count as empty)."""
    return np.zeros(len(values)) if values.dtype.kind in "US" else values


def _integers(raw: Raw, column: Column, values: np.ndarray, lines) -> np.ndarray:
    bad = np.flatnonzero((values != np.round(values)) | (np.abs(values) > 2 ** 53))
    if len(bad):
        raise DataError(f"{float(values[bad[0]])!r} is not a whole number (an index up to "
                        "2**53)", path=str(raw.path), column=column.name,
                        row=int(lines[bad[0]]))
    return values.astype(np.int64)


def _pieces(raw, kind, group, values, block, lines, split) -> list[np.ndarray]:
    n = len(lines)
    if split == "auto":     # the layout the file shows: an index column, repeated headers
        split = next((k for k, ok in (("sweep_column", "sweep" in group or "cycle" in group),
                                      ("blocks", n and block.max() > 0)) if ok), None)
    if split in (None, "columns") or n == 0:
        return [np.arange(n)]
    if split == "blocks":
        labels = block
    elif split == "sweep_column":
        key = next((k for k in ("sweep", "cycle") if k in group), None)
        if key is None:
            raise raw.missing([f"sweep or cycle (for {spell('split', 'sweep_column')})"])
        labels = values[key]
        starts = np.r_[0, np.flatnonzero(np.diff(labels)) + 1]
        seen = set()
        for s in starts:
            if labels[s] in seen:
                raise DataError(f"{key} {labels[s]} appears again, after other {key}s",
                                path=str(raw.path), column=group[key].name, row=int(lines[s]))
            seen.add(labels[s])
    else:
        return np.split(np.arange(n), _reversals(values[kind.x]))
    return np.split(np.arange(n), np.flatnonzero(np.diff(labels)) + 1)


def _reversals(x: np.ndarray) -> list[int]:
    """Indices where a new branch starts: after each turning point of ``x``."""
    steps = np.abs(np.diff(x))
    steps = steps[steps > 0]
    if not len(steps):
        return []
    tol = 0.5 * float(np.median(steps))
    cuts, direction, extreme = [], 0, 0
    for k in range(1, len(x)):
        move = x[k] - x[extreme]
        if direction == 0:
            if abs(move) > tol:
                direction, extreme = np.sign(move), k
        elif direction * move > 0:
            extreme = k
        elif -direction * move > tol:
            cuts.append(extreme + 1)
            direction, extreme = -direction, k
    return cuts


def _build(raw, kind, group, values, lines, idx, min_points, number):
    x = group[kind.x]
    if len(idx) < min_points:
        where = int(lines[idx[0]]) if len(idx) else raw.header_line
        raise DataError(f"curve {number} has {len(idx)} points; at least {min_points} needed "
                        f"({spell('min_points')})", path=str(raw.path), column=x.name,
                        row=where)
    if kind is _TRANSIENT:
        t = values["time"][idx]
        bad = np.flatnonzero(np.diff(t) <= 0)
        if len(bad):
            k = bad[0] + 1
            raise DataError(f"time does not increase: {t[k]:g} s after {t[k - 1]:g} s",
                            path=str(raw.path), column=x.name, row=int(lines[idx[k]]))
    attrs = {QUANTITIES[k].attr: v[idx] for k, v in values.items()}
    return kind.cls(source=raw.path, preamble=raw.preamble, report=raw.report,
                    lines=lines[idx],
                    columns={QUANTITIES[k].attr: c.name for k, c in group.items()},
                    units={QUANTITIES[k].attr: c.unit_symbol or (group[k[:-4]].unit_symbol
                                                                 if k.endswith("_err") else "")
                           for k, c in group.items()},
                    **attrs)


# --- the shared data sets whose layout needs its own reader --------------------------------


def _unit(symbol: str, dimension: str) -> Unit:
    unit = lookup_unit(symbol)
    if unit is None or unit.dimension != dimension:
        raise ValueError(f"{symbol!r} is not a {dimension} unit")
    return unit


def load_spin_diode_sweeps(path, *, field_unit: str = "Oe", voltage_unit: str = "V",
                           min_points: int = 3) -> list[Spectrum]:
    """Spin-diode field sweeps at fixed frequencies, one :class:`Spectrum` per frequency.

    Layout (``spin_diode_tacofeb/5360_2p.csv``): tab-separated, columns in pairs that share
    a name ``<label>_<f>_GHz``: the applied field (``field_unit``, Oe) then the rectified DC
    voltage (``voltage_unit``, V). Each spectrum has ``field_t`` (mu0*H, T), ``vdc_v`` and a
    constant ``freq_hz``, in the file's column order.
    """
    raw = read_raw(path)
    h_unit, v_unit = _unit(field_unit, "field"), _unit(voltage_unit, "voltage")
    cols = raw.columns
    if len(cols) % 2 or any(a.name != b.name for a, b in zip(cols[::2], cols[1::2])):
        raise DataError("expected pairs of columns with one name, <label>_<f>_GHz (field, "
                        f"voltage); found {[c.name for c in cols]}", path=str(raw.path),
                        row=raw.header_line)
    out = []
    for a, b in zip(cols[::2], cols[1::2]):
        # "2pf_1.0_GHz", "f_2p5_GHz" (p for the decimal point), "1.5GHz"
        m = re.search(r"(?<![\d.])(\d+(?:[.p]\d*)?|\.\d+)\s*_?GHz", a.name, re.IGNORECASE)
        if m is None:
            raise DataError("no frequency (<f>_GHz) in the name", path=str(raw.path),
                            column=a.name, row=raw.header_line)
        rows = _extent(raw, [a, b])                 # a shorter pair is padded below
        h, v = raw.values(a, rows, h_unit), raw.values(b, rows, v_unit)
        finite_rows(raw.path, [(a.name, h, raw.empty(a, rows)), (b.name, v, raw.empty(b, rows))],
                    raw.lines[rows], "raise", raw.report, can_drop=False)
        if len(h) < min_points:
            raise DataError(f"{len(h)} points; at least {min_points} needed",
                            path=str(raw.path), column=a.name, row=raw.header_line)
        out.append(Spectrum(
            source=raw.path, preamble=raw.preamble, report=raw.report, lines=raw.lines[rows],
            columns={"freq_hz": a.name, "field_t": a.name, "vdc_v": b.name},
            units={"freq_hz": "GHz", "field_t": h_unit.symbol, "vdc_v": v_unit.symbol},
            freq_hz=np.full(len(h), float(m.group(1).replace("p", ".")) * 1e9),
            field_t=h, vdc_v=v))
    return out


#: column names that count pulses, points or steps: an index, not a measured ramp
_INDEX_NAMES = frozenset({"pulse", "pulses", "pulse number", "pulse no", "pulse index",
                          "pulse count", "n", "no", "index", "idx", "step", "point", "points",
                          "sample", "number", "nr", "count", "k", "#", ""})


def load_pulse_updates(path, *, unit: str = "A", min_points: int = 3,
                       **read_options) -> list[PulseRamp]:
    """Read-current ramps side by side, one :class:`PulseRamp` per column; ``read_options``:
    :data:`READ_OPTIONS` (how the file is read: ``decimal=","``, ``delimiter``, ...).

    Layout (``rram_pulse_updates/set.csv``, ``reset.csv``): comma-separated, one column per
    ramp (``rmp1``, ``rmp2``, ...), row k the read current after pulse k; a shorter ramp is
    padded with empty cells at its end. ``unit`` applies to columns whose header has none.
    A column named as an index (``Pulse``, ``#``, ``Step``, ``n``) or with a time unit is
    not a ramp: left out with a note. An empty cell inside a ramp raises DataError.
    """
    unknown = sorted(set(read_options) - set(READ_OPTIONS))
    if unknown:
        raise ArgumentError(f"{', '.join(spell(k) for k in unknown)}: not an option of a "
                            "pulse-update ramp file")
    raw = read_raw(path, **read_options)
    default = _unit(unit, "current")
    out = []
    for col in raw.columns:
        if _normal(col.label) in _INDEX_NAMES or (col.unit is not None
                                                  and col.unit.dimension == "time"):
            raw.report.notes.append(f"column {col.name!r}: a pulse index or time, not a ramp "
                                    "(the pulses are counted from row 1)")
            continue
        header_unit = raw.unit_of(col)
        if header_unit is not None and header_unit.dimension != "current":
            raise DataError(f"unit {header_unit.symbol} is not a current unit",
                            path=str(raw.path), column=col.name, row=raw.header_line)
        rows = _extent(raw, [col])
        current = raw.values(col, rows, header_unit or default)
        finite_rows(raw.path, [(col.name, current, raw.empty(col, rows))], raw.lines[rows],
                    "raise", raw.report, can_drop=False)
        if len(current) < min_points:
            raise DataError(f"{len(current)} points; at least {min_points} needed",
                            path=str(raw.path), column=col.name, row=raw.header_line)
        out.append(PulseRamp(
            source=raw.path, preamble=raw.preamble, report=raw.report, lines=raw.lines[rows],
            columns={"current_a": col.name}, units={"current_a": col.unit_symbol or unit},
            pulse=np.arange(1, len(current) + 1), current_a=current))
    return out


def column_counts(path, quantities: Sequence[str], **read_options) -> dict[str, int]:
    """How many columns of the file's header look like each of ``quantities`` (keys of
    ``QUANTITIES``; each column counted once, for the first quantity it matches, in the
    order given, as the loaders map them). For choosing a file layout by looking at it:
    a ``sweep`` column means stacked sweeps, two ``voltage`` columns side-by-side curves.
    ``read_options``: :func:`~.table.read_raw`'s (``header_row``, ``sheet``, ...)."""
    unknown = [q for q in quantities if q not in QUANTITIES]
    if unknown:
        raise ValueError(f"unknown quantities {unknown}; use keys of QUANTITIES")
    raw = read_raw(path, **read_options)
    taken: set[int] = set()
    counts = {}
    for key in quantities:
        hits = [c for c in raw.columns if c.index not in taken and _matches(c, QUANTITIES[key])]
        taken.update(c.index for c in hits)
        counts[key] = len(hits)
    return counts


def layout_split(path, **options) -> str | None:
    """The ``split`` an I-V file's header shows, for a loader given none: ``"sweep_column"``
    for a sweep or cycle column (stacked sweeps), ``"columns"`` for several voltage columns
    (side by side), else None. ``options``: a loader's; only the reading ones are used."""
    counts = column_counts(path, ("voltage", "current", "time", "temperature", "sweep",
                                  "cycle"),
                           **{k: v for k, v in options.items() if k in READ_OPTIONS})
    if counts["sweep"] or counts["cycle"]:
        return "sweep_column"
    return "columns" if counts["voltage"] > 1 else None


def has_frequency_pairs(path, **read_options) -> bool:
    """Whether the header is :func:`load_spin_diode_sweeps`' layout: columns in pairs that
    share a name holding a frequency in GHz (``read_options`` as :func:`column_counts`)."""
    cols = read_raw(path, **read_options).columns
    return bool(cols) and len(cols) % 2 == 0 and all(
        a.name == b.name and re.search(r"GHz", a.name, re.IGNORECASE)
        for a, b in zip(cols[::2], cols[1::2]))
