"""Spectrum-analyser traces of an oscillator, read as they come, and the line in each.

A spin-torque oscillator is measured as one power-spectral-density trace per bias current.
:func:`load_traces` reads the layouts an analyser's exports take, :func:`trace_layout` tells
them from an f(I), P(I) table (:func:`~.data.load_oscillator`), :func:`find_line` fits the
line of one trace and :func:`oscillator_curves` turns the traces into f(I), P(I) and
linewidth(I) with a standard error on every point, for the ``stno`` recipe.

Layouts (found by looking at the file, no option needed):

- **stacked**: columns current, frequency, PSD; one trace per run of rows at one current
  (a new trace where the current changes or the frequency axis starts again); a column
  constant over each trace but not over all (a field) labels them (``group``);
- **wide**: a frequency column and one PSD column per current, the current in the column's
  name (``PSD @ 2.5 mA (dBm)``, ``I=2.5mA``, ``P_2.5mA``);
- **single**: a frequency and a PSD column, one file per current, the current in the
  preamble (``# Bias current: 2.5 mA``) or the file name (``stno_2.5mA.csv``). Several such
  files (``'traces/*.csv'``) are one curve. An analyser export without a header row (an
  instrument preamble naming the RBW, then rows of frequency and level: Rohde & Schwarz,
  Keysight) is read as ``Frequency (Hz)``, ``PSD`` (a note; ``names=`` / ``--names`` to
  say otherwise).

The PSD column is found by its unit (``dBm``, ``dBm/Hz``, ``W``, ``mW``, ``nW/Hz``, ...) or its
name (``PSD``, ``Spectrum``, ``Trace``, ``Amplitude``, ``Level``, ``Power``); ``columns=``
(``--column psd=NAME``, ``--column current=NAME``, ``--column freq=NAME``) names it, and
``units=`` (``--unit 'PSD=dBm/Hz'``) gives a unit the header does not write. A PSD without a
unit takes the one the preamble names (``y-Unit;dBm;``, ``Y Axis Units,dBm``), else dBm when
its values are negative (an analyser's display), else W (a note says which).

Units: a power per resolution bandwidth (``dBm``, ``W``: what an analyser displays) is divided
by the RBW to a density: ``rbw=`` (``--rbw HZ``), else the RBW the preamble names
(``RBW: 1 MHz``, ``RBW;1000000;Hz``, ``Res BW,1e6``), else the frequency step (a note: the integrated power
then scales with RBW/step; the threshold, frequency and its shift do not). A density
(``dBm/Hz``, ``W/Hz``) is used as is.

The line (:func:`find_line`): a Lorentzian on a linear background (the noise floor),
fitted in dB where every reading is positive (a log-averaged trace's noise is a constant
fraction of the level) and in W otherwise, by :class:`~.fit.Fit`. It gives the centre
frequency, the integrated power (the Lorentzian's area, the background subtracted) and the
FWHM linewidth, each with its standard error. A trace whose line has an integrated power
under :data:`DETECT_SIGMAS` standard errors, a width under one frequency step, or a centre
at the edge of the span holds no line: it is recorded as *below threshold* with its
detection limit (a note names it; never dropped), and enters P(I) as a power of 0 with the
standard error of a line of the detected lines' median width at that noise floor: the
points below the threshold bound it from below.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import ArgumentError, CalibrationError, DataError

from .data import QUANTITIES, READ_OPTIONS, Measurement, OscillatorCurve
from .table import Column, Raw, finite_rows, read_raw, spell
from .units import Unit, lookup_unit

__all__ = ["Trace", "Line", "LineCurve", "load_traces", "find_traces", "trace_layout",
           "find_line",
           "oscillator_curves", "psd_unit", "DETECT_SIGMAS", "LAYOUTS"]

DETECT_SIGMAS = 5.0
"""A line is found when its integrated power is at least this many standard errors."""
LAYOUTS = ("stacked", "wide", "single")
MIN_TRACE_POINTS = 8
PSD_NAMES = ("psd", "power spectral density", "spectral density", "power density",
             "spectrum", "trace", "trace 1", "amplitude", "level", "signal", "magnitude",
             "mag", "noise power", "spectrum power", "s", "sxx", "pxx")
_NUMBER = r"[+-]?(?:\d+(?:[.,p]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_CURRENT = re.compile(rf"({_NUMBER})\s*(pA|nA|uA|µA|μA|mA|A)(?![a-zA-Z])")
_RBW = re.compile(rf"(?i)^[\W_]*(?:rbw|res(?:olution)?[ ._]*b(?:and)?w(?:idth)?)\b[\s:=,;]*"
                  rf"({_NUMBER})[\s;,]*([kmg]?hz)?")
_Y_UNIT = re.compile(r"(?i)^[\W_]*(?:y[- _]?(?:axis[- _]?)?units?|amplitude[- _]?units?)\b"
                     r"[\s:=,;]*([^\s,;]+)")
_PREAMBLE_CURRENT = re.compile(r"(?i)(?:current|bias|\bi[ _]?(?:dc|bias)?\b)")
_AS_WRITTEN = Unit("", "dimensionless")     # read a PSD column's numbers as written
_PSD_UNIT = re.compile(r"^\s*(dBm|[munpf]?W)\s*(?:/\s*(?:\(?\s*(k|M|G)?Hz\s*\)?|RBW))?\s*$")


@dataclass(frozen=True)
class PsdUnit:
    """A PSD unit: a power per resolution bandwidth (``dBm``, ``mW``) or a density
    (``dBm/Hz``, ``W/Hz``); :meth:`to_watts` gives W per RBW or W/Hz."""

    symbol: str
    power: Unit            # the power unit (dBm, W, mW, ...): its to_si gives W
    per_hz: float | None   # Hz of the density's denominator; None: per RBW

    @property
    def dbm(self) -> bool:
        return self.power.dbm

    def to_watts(self, values: np.ndarray) -> np.ndarray:
        w = self.power.to_si(values)
        return w / self.per_hz if self.per_hz else w


def psd_unit(text: str) -> PsdUnit | None:
    """The PSD unit written as ``text`` (``dBm``, ``dBm/Hz``, ``uW``, ``W/MHz``,
    ``dBm/RBW``), or None when it is not one."""
    m = _PSD_UNIT.match(text.replace("µ", "u").replace("μ", "u"))
    if not m:
        return None
    base, prefix = m.group(1), m.group(2)
    per = {"k": 1e3, "M": 1e6, "G": 1e9, None: 1.0}[prefix] if "Hz" in text else None
    unit = lookup_unit(base)
    return PsdUnit(text.strip(), unit, per) if unit else None


@dataclass(kw_only=True)
class Trace(Measurement):
    """One PSD trace at one bias current. ``psd`` in W per RBW (``density`` False) or W/Hz
    (``density`` True); ``rbw_hz``: the resolution bandwidth the preamble names (None if
    not); ``layout``: one of :data:`LAYOUTS`; ``where``: its file and first data line."""

    current_a: float
    freq_hz: np.ndarray
    psd: np.ndarray
    density: bool
    rbw_hz: float | None = None
    layout: str = "stacked"

    @property
    def where(self) -> str:
        return f"{Path(self.source).name} line {int(self.lines[0])}" if len(self.lines) \
            else Path(self.source).name


@dataclass
class Line:
    """What :func:`find_line` found in one trace: ``found`` False where no line stands
    above the noise floor (then ``freq_hz``, ``linewidth_hz`` are NaN, ``power_w`` 0 and
    ``power_se`` the standard error a line of ``limit_width_hz`` would have had there;
    ``limit_w`` = DETECT_SIGMAS times it). ``snr``: integrated power / its standard
    error; ``floor_w_hz``: the background density at the centre; ``why``: the reason no
    line was taken."""

    current_a: float
    where: str
    found: bool
    freq_hz: float = math.nan
    freq_se: float = math.nan
    power_w: float = 0.0
    power_se: float = math.nan
    linewidth_hz: float = math.nan
    linewidth_se: float = math.nan
    floor_w_hz: float = math.nan
    snr: float = 0.0
    limit_w: float = math.nan
    limit_width_hz: float = math.nan
    domain: str = "dB"
    why: str = ""

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in self.__dict__.items()}


@dataclass(kw_only=True)
class LineCurve(OscillatorCurve):
    """f(I), P(I), linewidth(I) read off traces (:func:`oscillator_curves`): the points
    with a line (``found``) carry standard errors; those without one have a NaN frequency
    and linewidth and a power of 0 +- ``power_se`` (below threshold). ``line_fits``: the
    :class:`Line` of each trace; ``notes``: what the report says about them (every trace
    below threshold, the units assumed)."""

    found: np.ndarray
    freq_se: np.ndarray
    power_se: np.ndarray
    linewidth_se: np.ndarray
    line_fits: list = field(default_factory=list)
    notes: list = field(default_factory=list)


# ----------------------------------------------------------------------------- reading
def _label_key(label: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", label.lower()).split())


def _current_in(text: str) -> float | None:
    """A current written in ``text`` (``2.5 mA``, ``I=2p5uA``), in A, or None."""
    hits = _CURRENT.findall(text)
    if len(hits) != 1:
        return None
    number, unit = hits[0]
    unit = lookup_unit(unit)
    value = float(number.replace(",", ".").replace("p", "."))
    return float(unit.to_si(value)) if unit is not None else None


def _current_of_file(raw: Raw) -> tuple[float | None, str]:
    """A trace file's bias current from its preamble, else its name: (A, where)."""
    for text in raw.preamble:
        head = re.split(r"[:=,\t]", text.lstrip("#;! "), maxsplit=1)[0]
        if _PREAMBLE_CURRENT.search(head) and "rbw" not in head.lower():
            value = _current_in(text)
            if value is not None:
                return value, f"the preamble ({text.strip()[:60]!r})"
    value = _current_in(Path(raw.path).stem.replace("_", " "))
    if value is not None:
        return value, f"the file name ({Path(raw.path).name})"
    return None, ""


def _rbw_of(preamble: Sequence[str]) -> float | None:
    """The resolution bandwidth (Hz) an analyser's preamble names (``RBW: 1 MHz``,
    ``RBW;1000000;Hz``, ``Res BW,1e6``: Hz where no unit is written)."""
    for text in preamble:
        m = _RBW.search(text)
        if m:
            scale = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}[(m.group(2) or "hz").lower()]
            value = float(m.group(1).replace(",", ".").replace("p", ".")) * scale
            return value if value > 0 and math.isfinite(value) else None
    return None


def _preamble_unit(preamble: Sequence[str]) -> PsdUnit | None:
    """The PSD unit an analyser's preamble names (``y-Unit;dBm;``, ``Y Axis Units,dBm``)."""
    for text in preamble:
        m = _Y_UNIT.search(text)
        if m and psd_unit(m.group(1)) is not None:
            return psd_unit(m.group(1))
    return None


def _read(path, units, on_nan, read_options) -> Raw:
    """The file's cells; an analyser export with no header row (a preamble naming the RBW,
    then rows of frequency and level) is read as ``Frequency (Hz)``, ``PSD`` (a note)."""
    try:
        return read_raw(path, units=units, on_nan=on_nan, **read_options)
    except DataError as exc:
        if any(read_options.get(k) is not None for k in ("names", "header_row", "skip_header")):
            raise
        from .table import read_text

        try:
            lines = read_text(path)
        except DataError:
            raise exc from None
        width = _analyser_width(lines)
        if width is None:
            raise exc from None
        names = ["Frequency (Hz)", "PSD"] + [f"column {k}" for k in range(3, width + 1)]
        try:
            raw = read_raw(path, units=units, on_nan=on_nan, names=names, **read_options)
        except DataError:
            raise exc from None
        raw.report.notes.append("an analyser export without a header row: its columns read "
                                f"as {', '.join(names)} (else give them with "
                                f"{spell('names')})")
        return raw


def _analyser_width(lines: Sequence[str]) -> int | None:
    """The number of cells of the first row of numbers of a spectrum-analyser export (a
    line naming the RBW above it), or None for another file."""
    seen_rbw = False
    for text in lines[:500]:
        if _RBW.search(text):
            seen_rbw = True
            continue
        cells = [c for c in re.split(r"[;,\t ]+", text.strip()) if c]
        if seen_rbw and len(cells) >= 2 and all(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)"
                                                               r"([eE][+-]?\d+)?", c)
                                                 for c in cells):
            return len(cells)
    return None


def _role(column: Column, psd_units: Mapping[str, PsdUnit]) -> str | None:
    """What a column holds in a trace file: "current", "freq", "psd" or None."""
    key = _label_key(column.label)
    dim = column.unit.dimension if column.unit is not None else None
    if column.name in psd_units or (column.unit is None and psd_unit(column.unit_text)):
        return "psd"
    if dim == "current" or key in QUANTITIES["current"].aliases:
        return "current"
    if dim == "frequency" or key in QUANTITIES["freq"].aliases:
        return "freq"
    if dim == "power" or key in PSD_NAMES or key in QUANTITIES["power"].aliases:
        return "psd"
    return None


@dataclass
class _Plan:
    layout: str | None
    current: Column | None = None
    freq: Column | None = None
    psd: list[Column] = field(default_factory=list)
    currents: list[float] = field(default_factory=list)   # wide: one per PSD column
    file_current: float | None = None
    file_current_from: str = ""
    why: str = ""


def _split_units(units: Mapping[str, str] | None) -> tuple[dict, dict]:
    """``units`` split into the PSD units (which :func:`~.table.read_raw` does not know)
    and the rest."""
    psd, rest = {}, {}
    for name, symbol in (units or {}).items():
        unit = psd_unit(symbol)
        if unit is not None and (unit.per_hz or unit.dbm or symbol.strip() in ("W", "mW")):
            psd[name] = unit
        else:
            rest[name] = symbol
    return psd, rest


def _plan(raw: Raw, columns: Mapping[str, str | Sequence[str]],
          psd_units: Mapping[str, PsdUnit]) -> _Plan:
    given = {k.replace("_hz", "").replace("_a", ""): v for k, v in (columns or {}).items()}
    named_psd = "psd" in given               # named as a PSD: the file holds traces
    if "power" in given and not named_psd:
        given["psd"] = given.pop("power")    # an f(I) table's power, or a trace's
    roles: dict[str, list[Column]] = {}
    for c in raw.columns:
        r = _role(c, psd_units)
        if r is not None:
            roles.setdefault(r, []).append(c)
    for role, names in given.items():
        if role in ("current", "freq", "psd"):
            names = [names] if isinstance(names, str) else list(names)
            roles[role] = [raw.find(n) for n in names]
    plan = _Plan(None)
    freqs = roles.get("freq", [])
    if len(freqs) != 1:
        plan.why = f"{len(freqs)} frequency columns"
        return plan
    plan.freq = freqs[0]
    cur = roles.get("current", [])
    wide = [(c, _current_in(c.label)) for c in raw.columns if c is not plan.freq
            and c not in cur]
    wide = [(c, i) for c, i in wide if i is not None]
    psd = roles.get("psd", [])
    if len(cur) == 1 and len(psd) >= 1:
        plan.current = cur[0]
        if len(psd) > 1:
            named = [c for c in psd if _label_key(c.label) in PSD_NAMES
                     or c.name in psd_units or psd_unit(c.unit_text)]
            psd = named if len(named) == 1 else psd
        if len(psd) != 1:
            plan.why = f"{len(psd)} candidate PSD columns: " + ", ".join(c.name for c in psd)
            return plan
        plan.psd = psd
        unit = psd_units.get(psd[0].name) or psd_unit(psd[0].unit_text)
        explicit = named_psd or bool(unit and unit.per_hz) or \
            _label_key(psd[0].label) in PSD_NAMES
        if explicit or _repeats_per_current(raw, plan.current, plan.freq):
            plan.layout = "stacked"
        else:
            plan.why = "the frequency changes with the current (an f(I) table)"
        return plan
    if not cur and len(wide) >= 2 and not named_psd:
        plan.layout, plan.psd, plan.currents = "wide", [c for c, _ in wide], \
            [i for _, i in wide]
        return plan
    if not cur and psd:
        if len(psd) > 1:
            named = [c for c in psd if _label_key(c.label) in PSD_NAMES]
            psd = named if len(named) == 1 else psd
        if len(psd) != 1:
            plan.why = f"{len(psd)} candidate PSD columns: " + ", ".join(c.name for c in psd)
            return plan
        plan.layout, plan.psd = "single", psd
        plan.file_current, plan.file_current_from = _current_of_file(raw)
        return plan
    plan.why = "no PSD column" if not psd else "no current column"
    return plan


def _repeats_per_current(raw: Raw, current: Column, freq: Column) -> bool:
    """Whether the frequency runs over many values at one current (traces stacked), not one
    value per current (an f(I) table): the median run of rows at one current is at least
    MIN_TRACE_POINTS long."""
    i = np.array([_cell_number(raw, s) for s in raw.text(current)])
    i = i[np.isfinite(i)]
    if i.size < MIN_TRACE_POINTS:
        return False
    cuts = np.flatnonzero(np.diff(i) != 0) + 1
    runs = np.diff(np.r_[0, cuts, i.size])
    return float(np.median(runs)) >= MIN_TRACE_POINTS


def _cell_number(raw: Raw, cell: str) -> float:
    from .table import parse_number

    v = parse_number(cell, raw.decimal)
    return math.nan if v is None else v


def _labels(raw: Raw, others: Sequence[Column], keep: np.ndarray,
            pieces: Sequence[np.ndarray]) -> dict[str, list]:
    """The columns constant over every trace but not over all of them (a field, an RF
    power set per trace): column name -> one value (as written) per trace."""
    out = {}
    for c in others:
        v = np.array([_cell_number(raw, t) for t in raw.text(c)])[keep]
        per = [v[p] for p in pieces]
        if all(np.all(np.isfinite(x)) and np.ptp(x) == 0 for x in per) and \
                len({float(x[0]) for x in per}) > 1:
            out[c.name] = [float(x[0]) for x in per]
    return out


def trace_layout(path, *, columns: Mapping | None = None, **read_options) -> str | None:
    """Which of :data:`LAYOUTS` the file at ``path`` has, or None for a table of f(I),
    P(I) (one reading per current). ``read_options``: :data:`~.data.READ_OPTIONS`."""
    psd_units, rest = _split_units(read_options.pop("units", None))
    raw = _read(path, rest, "raise", {k: v for k, v in read_options.items()
                                      if k in READ_OPTIONS})
    return _plan(raw, columns or {}, psd_units).layout


def _psd_values(raw: Raw, column: Column, psd_units, rows=slice(None)) -> tuple:
    """(linear values, density?, note) of a PSD column."""
    unit = psd_units.get(column.name)
    note = ""
    if unit is None and column.unit is None and column.unit_text:
        unit = psd_unit(column.unit_text)
        if unit is None:
            raise DataError(f"unknown PSD unit {column.unit_text!r} (dBm, dBm/Hz, W, W/Hz, mW, "
                            f"...: give it with {spell('units', 'dBm', key=column.name)})",
                            path=str(raw.path), column=column.name, row=raw.header_line)
    if unit is None and column.unit is not None:
        if column.unit.dimension != "power":
            raise DataError(f"a PSD column in {column.unit.symbol!r}, not a power unit",
                            path=str(raw.path), column=column.name, row=raw.header_line)
        unit = PsdUnit(column.unit.symbol, column.unit, None)
    values = raw.values(column, rows, unit=_AS_WRITTEN)
    if unit is None and (unit := _preamble_unit(raw.preamble)) is not None:
        note = f"column {column.name!r}: no unit; {unit.symbol} as the preamble says"
    if unit is None:
        finite = values[np.isfinite(values)]
        dbm = finite.size > 0 and float(np.median(finite)) < 0
        unit = PsdUnit("dBm" if dbm else "W", lookup_unit("dBm" if dbm else "W"), None)
        note = (f"column {column.name!r}: no unit; read as {unit.symbol} per RBW "
                f"({'negative values: an analyser display' if dbm else 'non-negative values'}"
                f"; else give it with {spell('units', 'dBm/Hz', key=column.name)})")
    with np.errstate(over="ignore"):
        return unit.to_watts(values), unit.per_hz is not None, note


def load_traces(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
                on_nan: str = "raise", min_points: int = MIN_TRACE_POINTS,
                units: Mapping[str, str] | None = None, **read_options) -> list[Trace]:
    """The PSD traces of one file (any of :data:`LAYOUTS`), one :class:`Trace` each.
    ``columns``: ``current``, ``freq``, ``psd`` (a list: the wide layout's columns);
    ``units``: header name -> unit (PSD units such as ``dBm/Hz`` included);
    ``on_nan="drop"``: a trace's readings without a value are left out (each listed);
    ``min_points``: the fewest a trace may have; ``read_options``:
    :data:`~.data.READ_OPTIONS`. A DataError names what is missing and the option that
    gives it; on a file that holds no traces, why (see :func:`find_traces`)."""
    return _traces(path, True, columns, on_nan, min_points, units, read_options)


def find_traces(path, *, columns: Mapping[str, str | Sequence[str]] | None = None,
                on_nan: str = "raise", min_points: int = MIN_TRACE_POINTS,
                units: Mapping[str, str] | None = None, **read_options) -> list[Trace] | None:
    """:func:`load_traces`, or None for a file that holds no traces (an f(I), P(I) table:
    :func:`trace_layout` is None), in one reading of the file."""
    return _traces(path, False, columns, on_nan, min_points, units, read_options)


def _traces(path, strict, columns, on_nan, min_points, units, read_options):
    unknown = sorted(set(read_options) - set(READ_OPTIONS))
    if unknown:
        raise ArgumentError(f"{', '.join(spell(k) for k in unknown)}: not an option of a "
                            "spectrum-trace file")
    psd_units, rest = _split_units(units)
    raw = _read(path, rest, on_nan, read_options)
    plan = _plan(raw, columns or {}, psd_units)
    if plan.layout is None:
        if not strict:
            return None
        raise DataError(f"not a spectrum-trace file ({plan.why}); name the columns with "
                        f"{spell('columns', 'NAME', key='psd')} and "
                        f"{spell('columns', 'NAME', key='current')}", path=str(raw.path),
                        row=raw.header_line)
    rbw = _rbw_of(raw.preamble)
    freq = raw.values(plan.freq)
    traces: list[Trace] = []
    notes: list[str] = []

    def add(current, f, psd, lines, density, column):
        blank = np.full(f.size, "", dtype=object)
        keep = finite_rows(raw.path, [(plan.freq.name, f, blank), (column.name, psd, blank)],
                           lines, on_nan, raw.report)
        f, psd, lines = f[keep], psd[keep], lines[keep]
        if f.size < min_points:
            raise DataError(f"a trace of {f.size} points at {current:.4g} A; at least "
                            f"{min_points} needed ({spell('min_points')})", path=str(raw.path),
                            column=column.name, row=int(lines[0]) if lines.size else None)
        order = np.argsort(f, kind="stable")
        traces.append(Trace(source=raw.path, preamble=raw.preamble, report=raw.report,
                            lines=lines[order], columns={"freq_hz": plan.freq.name,
                                                         "psd": column.name},
                            units={"freq_hz": plan.freq.unit_symbol},
                            current_a=float(current), freq_hz=f[order], psd=psd[order],
                            density=density, rbw_hz=rbw, layout=plan.layout))

    if plan.layout == "stacked":
        col = plan.psd[0]
        cur = raw.values(plan.current)
        psd, density, note = _psd_values(raw, col, psd_units)
        notes += [note] if note else []
        keep = np.ones(cur.size, bool)
        if not np.all(np.isfinite(cur)):
            keep = finite_rows(raw.path, [(plan.current.name, cur, raw.empty(plan.current))],
                               raw.lines, on_nan, raw.report)
        cur, f_all, psd, lines = cur[keep], freq[keep], psd[keep], raw.lines[keep]
        step = np.diff(f_all)
        direction = np.sign(np.nanmedian(step)) if step.size else 1.0
        cuts = np.flatnonzero((np.diff(cur) != 0) | (np.sign(step) == -direction)) + 1
        pieces = [p for p in np.split(np.arange(cur.size), cuts) if p.size]
        labels = _labels(raw, [c for c in raw.columns
                               if c not in (plan.current, plan.freq, col)], keep, pieces)
        for k, piece in enumerate(pieces):
            add(cur[piece[0]], f_all[piece], psd[piece], lines[piece], density, col)
            traces[-1].group = {name: values[k] for name, values in labels.items()}
        notes.append(f"{len(traces)} spectrum traces stacked (a new one where the current "
                     f"in {plan.current.name!r} changes or the frequency starts again)"
                     + (f"; labelled by {', '.join(map(repr, labels))} (constant over each "
                        "trace)" if labels else ""))
    elif plan.layout == "wide":
        for col, current in zip(plan.psd, plan.currents):
            psd, density, note = _psd_values(raw, col, psd_units)
            notes += [note] if note else []
            add(current, freq.copy(), psd, raw.lines, density, col)
        notes.append(f"{len(traces)} spectrum traces side by side, the currents from the "
                     "column names")
    else:
        if plan.file_current is None:
            raise DataError("a spectrum trace without its bias current: write it in the "
                            "file name (trace_2.5mA.csv) or the preamble ('# Bias current: "
                            f"2.5 mA'), or give a current column with "
                            f"{spell('columns', 'NAME', key='current')}", path=str(raw.path))
        col = plan.psd[0]
        psd, density, note = _psd_values(raw, col, psd_units)
        notes += [note] if note else []
        add(plan.file_current, freq, psd, raw.lines, density, col)
        notes.append(f"one spectrum trace, its current {plan.file_current:.5g} A from "
                     f"{plan.file_current_from}")
    if rbw is not None:
        notes.append(f"resolution bandwidth {rbw:.4g} Hz from the preamble")
    raw.report.notes.extend(notes)
    return traces


# ----------------------------------------------------------------------------- the line
def line_model(domain: str = "dB"):
    """A Lorentzian of area ``power`` (integrated power), centre ``fc`` and FWHM ``fwhm``
    on a linear background ``b0 + b1 x``, against a normalised frequency x; in dB
    (10 log10 of the density) for ``domain="dB"``, else linear."""
    from .fit import Model, Param

    def func(x, p):
        x = np.asarray(x, float)
        hw = 0.5 * p["fwhm"]
        y = p["b0"] + p["b1"] * x + (p["power"] / math.pi) * hw / ((x - p["fc"]) ** 2 + hw * hw)
        if domain == "dB":
            return 10.0 * np.log10(np.maximum(y, 1e-300))
        return y

    rows = [Param("fc", 0.0, unit="1", description="line centre (normalised frequency)"),
            Param("fwhm", 0.01, 0.0, math.inf, "1", "full width at half maximum"),
            Param("power", 0.0, unit="1", description="integrated power (area)"),
            Param("b0", 1.0, unit="1", description="background at x = 0"),
            Param("b1", 0.0, unit="1", description="background slope")]
    return Model(f"Lorentzian on a background ({domain})", func, rows,
                 x_label="normalised frequency", y_label="PSD")


def _robust_sigma(v: np.ndarray) -> float:
    """The white noise of ``v`` from its point-to-point differences (median absolute
    deviation, robust to a line standing in the trace)."""
    d = np.diff(v)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0)) if d.size \
        else math.nan


@dataclass
class _Normal:
    """A trace as density, on a normalised frequency x = (f - mid) / span and in units of
    its median (``scale`` W/Hz); ``data`` what is fitted (dB or linear), ``noise`` its white
    noise, ``base`` the median level (1 in these units)."""

    f: np.ndarray
    x: np.ndarray
    y: np.ndarray
    data: np.ndarray
    domain: str
    mid: float
    span: float
    step: float
    scale: float
    noise: float
    notes: list


def _normalise(trace: Trace, rbw: float | None) -> _Normal:
    notes: list[str] = []
    f = np.asarray(trace.freq_hz, float)
    y = np.asarray(trace.psd, float)
    steps = np.diff(f)
    if f.size < MIN_TRACE_POINTS or not np.all(steps > 0):
        raise DataError(f"the trace at {trace.current_a:.4g} A needs at least "
                        f"{MIN_TRACE_POINTS} points at distinct frequencies",
                        path=str(trace.source), row=int(trace.lines[0]) if len(trace.lines)
                        else None)
    step = float(np.median(steps))
    if not trace.density:
        bw = rbw if rbw is not None else trace.rbw_hz
        if bw is None:
            bw = step
            notes.append("no resolution bandwidth given: the power per bin divided by the "
                         f"frequency step ({step:.4g} Hz; pass {spell('rbw')} for the "
                         "integrated power in W)")
        y = y / bw
    mid, span = float(0.5 * (f[0] + f[-1])), float(f[-1] - f[0])
    domain = "dB" if np.all(y > 0) else "W"
    if domain == "W":
        notes.append("readings <= 0 (a background already subtracted?): the line fitted in W, "
                     "not in dB")
    # dB: in units of the median (the floor ~ 1); W: of the largest reading (no overflow)
    scale = (float(np.median(y)) if domain == "dB" else float(np.max(np.abs(y)))) or 1.0
    yn = y / scale
    data = 10.0 * np.log10(yn) if domain == "dB" else yn
    return _Normal(f, (f - mid) / span, yn, data, domain, mid, span, step / span, scale,
                   _robust_sigma(data), notes)


def _area_se(n: _Normal, width_hz: float) -> float:
    """Standard error (W) of the integrated power of a line ``width_hz`` wide at the
    middle of the trace, its shape known, on the trace's noise: the detection limit's
    scale."""
    hw = 0.5 * width_hz / n.span
    shape = (1 / math.pi) * hw / (n.x ** 2 + hw * hw)
    level = float(np.median(n.y))
    sigma = (math.log(10) / 10 * n.noise * level) if n.domain == "dB" else n.noise
    if not (math.isfinite(sigma) and sigma > 0):
        return math.nan
    return sigma / math.sqrt(float(np.sum(shape ** 2))) * n.scale * n.span


def _start(n: _Normal) -> tuple[dict, float]:
    """Start values and a matched-filter significance: the excess over the median level
    correlated with Lorentzians 2 to 128 frequency steps wide; the best (position, width)
    and its amplitude, in standard errors of the white noise."""
    keep = np.ones(n.x.size, bool)
    for _ in range(3):          # the floor: a line through the data, a line's points left out
        coef = np.polyfit(n.x[keep], n.data[keep], 1)
        trend = np.polyval(coef, n.x)
        keep = n.data - trend < 2.5 * n.noise
        if keep.sum() < 3:
            keep[:] = True
            break
    if n.domain == "dB":       # the readings are in units of their median: base ~ 1
        floor = np.maximum(10.0 ** (trend / 10.0), 1e-300)
        base = float(np.clip(10.0 ** (coef[1] / 10.0), 1e-6, 1e6))
        slope = base * math.log(10) / 10 * float(coef[0])
        excess, level = n.y / floor - 1.0, base
    else:
        floor, base, slope = trend, float(coef[1]), float(coef[0])
        excess, level = n.y - floor, 1.0
    excess = np.nan_to_num(excess, nan=0.0, posinf=0.0, neginf=0.0)
    sigma = (math.log(10) / 10 * n.noise) if n.domain == "dB" else n.noise
    best = (-math.inf, 0, 2.0, 0.0)
    width = 2.0
    while width <= max(2.0, n.x.size / 2):
        reach = min(int(3 * width), (n.x.size - 1) // 2)
        j = np.arange(-reach, reach + 1)
        kernel = 1.0 / (1.0 + (2.0 * j / width) ** 2)
        norm = float(kernel @ kernel)
        corr = np.convolve(excess, kernel[::-1], mode="same")
        k = int(np.argmax(corr))
        snr = corr[k] / (sigma * math.sqrt(norm)) if sigma > 0 else math.inf
        if snr > best[0]:
            best = (snr, k, width, corr[k] / norm)
        width *= 2
    snr, k, width, amp = best
    w0 = width * n.step
    area = max(amp * level * math.pi * w0 / 2, 1e-12)
    return {"fc": float(n.x[k]), "fwhm": w0, "power": area, "b0": base, "b1": slope}, \
        float(snr)


def find_line(trace: Trace, *, rbw: float | None = None,
              detect_sigmas: float = DETECT_SIGMAS) -> tuple[Line, list[str]]:
    """The line of one trace (see the module docstring): (:class:`Line`, notes). ``rbw``
    (Hz) turns a power per RBW into a density (default: the trace's preamble RBW, else its
    frequency step). A trace without a line gets the detection limit of a line ten
    frequency steps wide (:func:`oscillator_curves` sets it for the width of the nearest
    line found)."""
    from .fit import Dataset, Fit

    if rbw is not None and not (rbw > 0 and math.isfinite(rbw)):
        raise ArgumentError(f"{spell('rbw')} must be a positive frequency in Hz, not {rbw!r}")
    n = _normalise(trace, rbw)
    line = Line(trace.current_a, trace.where, False, domain=n.domain,
                floor_w_hz=float(np.median(n.y)) * n.scale)
    start, significance = _start(n)
    res = None
    if not significance >= 0.6 * detect_sigmas:
        line.why = (f"no excess over the noise floor (matched filter: {significance:.2g} "
                    "standard errors)")
    elif math.isfinite(n.noise) and n.noise > 0:
        bounds = {"fc": (float(n.x[0]), float(n.x[-1])), "fwhm": (0.25 * n.step, 1.0),
                  "power": (0.0, max(100 * start["power"], 10 * start["b0"])),
                  "b0": (1e-9, 1e9) if n.domain == "dB" else (-math.inf, math.inf)}
        fit = lambda stage: Fit(  # noqa: E731
            line_model(n.domain), Dataset(n.x, n.data, sigma=n.noise, name="trace"),
            free=["fc", "fwhm", "power", "b0", "b1"], values=start, bounds=bounds,
            global_stage=stage, starts=[{"fwhm": 3 * start["fwhm"]},
                                        {"fwhm": max(start["fwhm"] / 3, n.step)}],
            conf_int="stderr").run()
        try:
            res = fit(None)
            if _verdict(res, n, detect_sigmas)[1] and significance >= detect_sigmas:
                res = fit("multistart")     # a clear excess, no line: wider, narrower starts
        except CalibrationError as exc:
            line.why = f"the line fit failed ({exc})"
            res = None
    if res is not None:
        line.snr, line.why = _verdict(res, n, detect_sigmas)
        if not line.why:
            v, se = res.values, res.stderr
            line.found = True
            line.freq_hz, line.freq_se = n.mid + v["fc"] * n.span, se["fc"] * n.span
            line.linewidth_hz, line.linewidth_se = v["fwhm"] * n.span, se["fwhm"] * n.span
            line.power_w = v["power"] * n.scale * n.span
            line.power_se = se["power"] * n.scale * n.span
            line.floor_w_hz = (v["b0"] + v["b1"] * v["fc"]) * n.scale
    elif not line.why:
        line.why = "a trace without noise or excess"
    if not line.found:
        _set_limit(line, n, 10 * n.step * n.span, detect_sigmas)
    return line, n.notes


def _set_limit(line: Line, n: _Normal, width_hz: float, detect_sigmas: float = DETECT_SIGMAS):
    """A trace without a line: power 0 +- the standard error of a line ``width_hz`` wide
    there; detection limit ``detect_sigmas`` times that."""
    line.power_w, line.power_se = 0.0, _area_se(n, width_hz)
    line.limit_w, line.limit_width_hz = detect_sigmas * line.power_se, width_hz


def _verdict(res, n: _Normal, detect_sigmas: float) -> tuple[float, str]:
    """(integrated power in standard errors, why it is no line or "")."""
    v, se = res.values, res.stderr
    if not all(se.get(k) is not None and math.isfinite(se[k]) and se[k] > 0
               for k in ("fc", "fwhm", "power")):
        return 0.0, "the line fit gives no standard errors"
    snr = float(v["power"] / se["power"])
    if snr < detect_sigmas:
        return snr, f"integrated power {snr:.2g} standard errors (< {detect_sigmas:g})"
    if v["fwhm"] < n.step:
        return snr, f"narrower than one frequency step ({v['fwhm'] * n.span:.3g} Hz)"
    if min(v["fc"] - n.x[0], n.x[-1] - v["fc"]) < 1.5 * n.step:
        return snr, "its centre at the edge of the span"
    return snr, ""


def oscillator_curves(traces: Sequence[Trace], *, rbw: float | None = None
                      ) -> list[LineCurve]:
    """The traces' lines as f(I), P(I), linewidth(I) with standard errors: one
    :class:`LineCurve` per group of traces (same ``group`` labels; the traces of every file
    given together are one curve), sorted by current, its notes for the report. A trace
    without a line is a point below threshold (a note each, with its detection limit for a
    line as wide as the line found nearest in current). A CalibrationError when no trace
    holds a line."""
    groups: dict[tuple, list[Trace]] = {}
    for t in traces:
        groups.setdefault(tuple(sorted(t.group.items())), []).append(t)
    curves = []
    for key, members in groups.items():
        members = sorted(members, key=lambda t: t.current_a)
        lines, said, notes = [], set(), []
        for t in members:
            line, n = find_line(t, rbw=rbw)
            for text in n:
                if text not in said:
                    said.add(text)
                    notes.append(f"{t.where}: {text}")
            lines.append(line)
        found = [ln for ln in lines if ln.found]
        if not found:
            raise CalibrationError(
                f"no line above the noise floor in any of {len(members)} trace(s) "
                f"({members[0].where}, ...): the oscillator does not run, or the PSD column "
                f"is not the spectrum (name it with {spell('columns', 'NAME', key='psd')})")
        for t, ln in zip(members, lines):
            if ln.found:
                continue
            near = min(found, key=lambda m: abs(m.current_a - t.current_a))
            _set_limit(ln, _normalise(t, rbw), near.linewidth_hz)
            notes.append(f"{t.where}: I = {t.current_a:.5g} A: below threshold, no line "
                         f"({ln.why}); detection limit {ln.limit_w:.3g} "
                         f"W for a line {ln.limit_width_hz:.3g} Hz wide (the nearest line's); "
                         f"in P(I) as 0 +- {ln.power_se:.3g} W, not in f(I)")
        arr = lambda name: np.array([getattr(ln, name) for ln in lines], float)  # noqa: E731
        first = members[0]
        curves.append(LineCurve(
            source=first.source, preamble=first.preamble, report=first.report,
            lines=np.array([int(t.lines[0]) for t in members]),
            columns={"current_a": "(trace)", **first.columns},
            units=dict(first.units), group=dict(key),
            current_a=arr("current_a"), freq_hz=arr("freq_hz"), power_w=arr("power_w"),
            linewidth_hz=arr("linewidth_hz"), found=np.array([ln.found for ln in lines]),
            freq_se=arr("freq_se"), power_se=arr("power_se"), linewidth_se=arr("linewidth_se"),
            line_fits=lines, notes=notes))
        notes.append(f"{len(found)} of {len(lines)} trace(s) hold a line (Lorentzian on the "
                     f"noise floor, fitted in {lines[0].domain}): f, P, FWHM with standard "
                     "errors")
    return curves
