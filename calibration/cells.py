"""Per-cell tables of RRAM reads (cells x read times) and read-noise traces.

:func:`load_cells` reads conductances of many cells, each read at the same times after
programming, in either layout:

- **long**: one row per read, columns ``cell, time, conductance`` and optionally ``state``
  (the programmed level). A ``resistance`` column may stand for the conductance (G = 1/R).
  Rows may come in any order; every cell must be read at the same set of times, once each.
- **wide**: one row per cell, a ``cell`` column (optional ``state``), and one column per
  read time whose header is that time (``1 s``, ``t=10``, ``t_100 (s)``, ``1e3``; seconds
  when no unit). The values are conductances in ``unit`` (default S) unless the header of
  the ``cell`` column row says otherwise.

Both go through the strict table reader (:mod:`.table`): its number grammar, row-width and
missing-value rules hold, and ``on_nan="drop"`` drops a read (long) or a cell (wide) with a
line in :attr:`CellTable.report`; in the long layout a cell left without all its reads is
then dropped whole, also listed. Every error is a DataError naming the file, the column and
the line. ``columns={"cell": NAME, "time": NAME, "conductance": NAME, "state": NAME}`` maps
columns whose names are not recognised.

:func:`load_read_traces` reads read-noise records: a ``time`` column (uniformly sampled) and
one or more signal columns (currents, conductances), one :class:`ReadTrace` each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurospice.errors import DataError

from .table import DroppedRow, Raw, Report, finite_rows, read_raw, spell
from .units import lookup_unit, parse_header

__all__ = ["CellTable", "ReadTrace", "load_cells", "load_read_traces", "ROLE_NAMES"]

#: lower-case column labels recognised for each role (``columns=`` maps any other)
ROLE_NAMES = {
    "cell": ("cell", "cell_id", "cell id", "device", "device_id", "id"),
    "time": ("time", "t", "read time", "read_time", "time after programming"),
    "conductance": ("conductance", "g", "g_read", "read conductance"),
    "resistance": ("resistance", "r", "r_read", "read resistance"),
    "state": ("state", "level", "programmed state", "target"),
}

_TIME_HEADER = re.compile(r"^(?:t\s*[=_@]?\s*)?([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
                          r"\s*(?:\(?\s*([a-zA-Zµμ]+)\s*\)?)?$")


@dataclass
class CellTable:
    """Conductances (S) of ``cells`` read at ``time`` (s, increasing): ``conductance`` of
    shape (cells, times); ``state`` a label per cell or None; ``report`` what was left out;
    ``lines`` the 1-based file line of each cell's first read."""

    source: Path
    cells: list[str]
    time: np.ndarray
    conductance: np.ndarray
    state: list[str] | None
    lines: np.ndarray
    layout: str
    report: Report = field(default_factory=Report)
    preamble: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.source.name} ({len(self.cells)} cells x {self.time.size} reads)"


@dataclass
class ReadTrace:
    """One read-noise record: ``values`` sampled every ``dt`` seconds, from ``column``."""

    source: Path
    column: str
    unit: str
    dt: float
    values: np.ndarray
    report: Report = field(default_factory=Report)

    @property
    def name(self) -> str:
        return f"{self.source.name}: {self.column}"


def _refuse(other: dict, path) -> None:
    if other:
        given = ", ".join(spell(k) for k in sorted(other))
        raise DataError(f"{given} do(es) not apply to this table", path=str(path))


def _role(raw: Raw, role: str, columns: dict, required: bool):
    if role in columns:
        return raw.find(columns[role])
    hits = [c for c in raw.columns if c.label.strip().lower() in ROLE_NAMES[role]]
    if len(hits) > 1:
        raise DataError(f"{len(hits)} columns could be the {role} "
                        f"({', '.join(repr(c.name) for c in hits)}); choose one with "
                        f"{spell('columns', None, role)}", path=str(raw.path),
                        row=raw.header_line)
    if not hits and required:
        raise DataError(f"no {role} column (looked for {', '.join(ROLE_NAMES[role])}); name "
                        f"it with {spell('columns', None, role)}", path=str(raw.path),
                        row=raw.header_line)
    return hits[0] if hits else None


def _checked_unit(raw: Raw, col, dimensions: tuple[str, ...], default):
    unit = raw.unit_of(col)
    if unit is None:
        return default
    if unit.dimension not in dimensions:
        raise DataError(f"unit {unit.symbol} is not a {' or '.join(dimensions)} unit",
                        path=str(raw.path), column=col.name, row=raw.header_line)
    return unit


def _read(path, **options) -> Raw:
    """The table reader's split; when it finds no header (cell names and states are text,
    read times in a wide header are numbers, so neither looks like the usual names over
    numbers), the first non-blank line is the header -- unless that fails too, when the
    reader's own error stands."""
    try:
        return read_raw(path, **options)
    except DataError as first:
        if options.get("header_row") is not None or options.get("skip_header") is not None \
                or "no header row found" not in str(first):
            raise
        try:
            return read_raw(path, **{**options, "skip_header": 0})
        except DataError:
            raise first from None


def _time_of_header(name: str):
    """The read time (s) a wide-layout header names, or None when it names no time."""
    h = parse_header(name)
    text = h.label if h.unit is not None else name
    m = _TIME_HEADER.match(text.strip())
    if not m:
        return None
    unit = h.unit
    if m.group(2):
        if unit is not None:
            return None
        unit = lookup_unit(m.group(2))
    if unit is None:
        return float(m.group(1)) if not m.group(2) else None
    if unit.dimension != "time":
        return None
    return float(unit.to_si(float(m.group(1))))


def load_cells(path, *, layout: str = "auto", columns: dict | None = None,
               unit: str = "S", on_nan: str = "raise", delimiter: str | None = None,
               header_row: int | None = None, skip_header: int | None = None,
               decimal: str | None = None, sheet: str | int | None = None,
               units: dict | None = None, names: str | list | None = None,
               min_points: int = 3, **other) -> list[CellTable]:
    """A per-cell table (see the module docstring) as a one-item list of
    :class:`CellTable`. ``layout``: ``"long"``, ``"wide"`` or ``"auto"`` (long when a
    time column is found); ``unit``: the conductance unit of columns without one (``S``,
    ``uS``, ... or a resistance unit ``Ohm``, ``kOhm``: values then inverted);
    ``min_points``: fewest read times. The reader options are those of
    :func:`~.table.load_table`; any other option is a DataError."""
    _refuse(other, path)
    if layout not in ("auto", "long", "wide"):
        raise ValueError(f"layout must be 'auto', 'long' or 'wide', not {layout!r}")
    default = lookup_unit(unit)
    if default is None or default.dimension not in ("conductance", "resistance"):
        raise ValueError(f"{unit!r} is not a conductance or resistance unit")
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(ROLE_NAMES))
    if unknown:
        raise DataError(f"{spell('columns')}: unknown role(s) {unknown} (known: "
                        f"{', '.join(ROLE_NAMES)})", path=str(path))
    raw = _read(path, delimiter=delimiter, header_row=header_row, skip_header=skip_header,
                decimal=decimal, sheet=sheet, units=units, names=names)
    if layout == "auto":
        layout = "long" if ("time" in columns or _role(raw, "time", columns, False)
                            is not None) else "wide"
    table = (_long if layout == "long" else _wide)(raw, columns, default, on_nan)
    if table.time.size < min_points:
        raise DataError(f"{table.time.size} read times; at least {min_points} needed",
                        path=str(raw.path), row=raw.header_line)
    if len(table.cells) == 0:
        raise DataError("no cell is left with all its reads", path=str(raw.path))
    if not table.time[0] > 0:
        raise DataError(f"read time {table.time[0]:g} s: reads are timed after programming "
                        "and must be positive", path=str(raw.path), row=raw.header_line)
    return [table]


def _to_siemens(si, unit):
    """SI values of a conductance or resistance column as conductances (S)."""
    if unit.dimension == "resistance":
        with np.errstate(divide="ignore"):
            return np.where(si != 0, 1.0 / si, np.inf)
    return si


def _positive(raw: Raw, column: str, g, keep) -> None:
    bad = np.flatnonzero(keep & ~(g > 0))
    if len(bad):
        raise DataError(f"conductance {float(g[bad[0]]):g} S is not positive",
                        path=str(raw.path), column=column, row=int(raw.lines[bad[0]]))


def _long(raw: Raw, columns: dict, default, on_nan: str) -> CellTable:
    c_cell = _role(raw, "cell", columns, True)
    c_time = _role(raw, "time", columns, True)
    c_g = _role(raw, "conductance", columns, False)
    if c_g is None:
        c_g = _role(raw, "resistance", columns, False)
        if c_g is None:
            raise DataError("no conductance (or resistance) column (looked for "
                            f"{', '.join(ROLE_NAMES['conductance'])}); name it with "
                            f"{spell('columns', None, 'conductance')}", path=str(raw.path),
                            row=raw.header_line)
        default = lookup_unit("Ohm")
    c_state = _role(raw, "state", columns, False)
    t_unit = _checked_unit(raw, c_time, ("time",), lookup_unit("s"))
    g_unit = _checked_unit(raw, c_g, ("conductance", "resistance"), default)
    t = raw.values(c_time, unit=t_unit)
    g = _to_siemens(raw.values(c_g, unit=g_unit), g_unit)
    ids = raw.text(c_cell)
    named = [(c_time.name, t, raw.empty(c_time)), (c_g.name, g, raw.empty(c_g)),
             (c_cell.name, np.zeros(len(ids)), raw.empty(c_cell))]
    keep = finite_rows(raw.path, named, raw.lines, on_nan, raw.report)
    _positive(raw, c_g.name, g, keep)
    states = raw.text(c_state) if c_state is not None else None
    times = np.unique(t[keep])
    order: list[str] = []
    reads: dict[str, dict[float, tuple[float, int]]] = {}
    state_of: dict[str, str] = {}
    for k in np.flatnonzero(keep):
        cell, line = ids[k], int(raw.lines[k])
        if cell not in reads:
            order.append(cell)
            reads[cell] = {}
        if t[k] in reads[cell]:
            raise DataError(f"cell {cell!r} is read twice at {t[k]:g} s (also line "
                            f"{reads[cell][t[k]][1]})", path=str(raw.path), column=c_time.name,
                            row=line)
        reads[cell][t[k]] = (g[k], line)
        if states is not None:
            s = states[k]
            if state_of.setdefault(cell, s) != s:
                raise DataError(f"cell {cell!r} has state {s!r} here and "
                                f"{state_of[cell]!r} before", path=str(raw.path),
                                column=c_state.name, row=line)
    cells, rows, first = [], [], []
    for cell in order:
        got = reads[cell]
        if len(got) != times.size:
            missing = [f"{x:g} s" for x in times if x not in got]
            line = min(v[1] for v in got.values())
            if on_nan == "drop" and raw.report.dropped:
                raw.report.dropped.append(DroppedRow(line, c_cell.name,
                                                     f"cell {cell!r} left without its reads "
                                                     f"at {', '.join(missing[:5])}"))
                continue
            raise DataError(f"cell {cell!r} has no read at {', '.join(missing[:5])} (every "
                            "cell must be read at the same times)", path=str(raw.path),
                            column=c_time.name, row=line)
        cells.append(cell)
        rows.append([got[x][0] for x in times])
        first.append(min(v[1] for v in got.values()))
    return CellTable(raw.path, cells, times, np.array(rows).reshape(len(cells), times.size),
                     [state_of[c] for c in cells] if states is not None else None,
                     np.array(first, int), "long", raw.report, raw.preamble)


def _wide(raw: Raw, columns: dict, default, on_nan: str) -> CellTable:
    c_cell = _role(raw, "cell", columns, False)
    c_state = _role(raw, "state", columns, False)
    if "time" in columns or "conductance" in columns or "resistance" in columns:
        raise DataError(f"{spell('columns')}: a wide table (one column per read time) takes "
                        "only cell= and state=", path=str(raw.path), row=raw.header_line)
    timed, other = [], []
    for col in raw.columns:
        if col in (c_cell, c_state):
            continue
        t = _time_of_header(col.name)
        (timed.append((t, col)) if t is not None else other.append(col))
    if other:
        raise DataError(f"column(s) {', '.join(repr(c.name) for c in other)} name no read "
                        "time: a wide table has a cell column, an optional state column and "
                        "one column per read time (headers such as '1 s', 't=10', '1e3'); a "
                        "long table has cell, time and conductance columns",
                        path=str(raw.path), row=raw.header_line)
    if len(timed) < 1:
        raise DataError("no read-time columns", path=str(raw.path), row=raw.header_line)
    timed.sort(key=lambda tc: tc[0])
    times = np.array([t for t, _ in timed])
    dup = np.flatnonzero(np.diff(times) == 0)
    if len(dup):
        raise DataError(f"two columns name the read time {times[dup[0]]:g} s",
                        path=str(raw.path), column=timed[dup[0] + 1][1].name,
                        row=raw.header_line)
    g = np.column_stack([_to_siemens(raw.values(col, unit=default), default)
                         for _, col in timed])
    named = [(col.name, g[:, j], raw.empty(col)) for j, (_, col) in enumerate(timed)]
    keep = finite_rows(raw.path, named, raw.lines, on_nan, raw.report)
    for j, (_, col) in enumerate(timed):
        _positive(raw, col.name, g[:, j], keep)
    ids = raw.text(c_cell) if c_cell is not None else [f"row {n}" for n in raw.lines]
    if c_cell is not None:
        for k, cell in enumerate(ids):
            if not cell:
                raise DataError("empty cell name", path=str(raw.path), column=c_cell.name,
                                row=int(raw.lines[k]))
    seen: dict[str, int] = {}
    for k in np.flatnonzero(keep):
        if ids[k] in seen:
            raise DataError(f"cell {ids[k]!r} has two rows (also line {seen[ids[k]]})",
                            path=str(raw.path), column=c_cell.name, row=int(raw.lines[k]))
        seen[ids[k]] = int(raw.lines[k])
    states = raw.text(c_state) if c_state is not None else None
    return CellTable(raw.path, [ids[k] for k in np.flatnonzero(keep)], times, g[keep],
                     [states[k] for k in np.flatnonzero(keep)] if states is not None else None,
                     raw.lines[keep], "wide", raw.report, raw.preamble)


def load_read_traces(path, *, columns: dict | None = None, on_nan: str = "raise",
                     delimiter: str | None = None, header_row: int | None = None,
                     skip_header: int | None = None, decimal: str | None = None,
                     sheet: str | int | None = None, units: dict | None = None,
                     names: str | list | None = None, min_points: int = 64,
                     **other) -> list[ReadTrace]:
    """Read-noise records: a time column (``columns={"time": NAME}`` when not recognised),
    sampled uniformly (steps within 1 % of their median), and every other column a trace
    (or ``columns={"signal": NAME or [NAMES]}``), one :class:`ReadTrace` each."""
    _refuse(other, path)
    columns = dict(columns or {})
    unknown = sorted(set(columns) - {"time", "signal"})
    if unknown:
        raise DataError(f"{spell('columns')}: unknown role(s) {unknown} (known: time, "
                        "signal)", path=str(path))
    raw = _read(path, delimiter=delimiter, header_row=header_row, skip_header=skip_header,
                decimal=decimal, sheet=sheet, units=units, names=names)
    c_time = _role(raw, "time", columns, True)
    t = raw.values(c_time, unit=_checked_unit(raw, c_time, ("time",), lookup_unit("s")))
    wanted = columns.get("signal")
    if wanted is None:
        signals = [c for c in raw.columns if c is not c_time]
    else:
        signals = [raw.find(n) for n in ([wanted] if isinstance(wanted, str) else wanted)]
    if not signals:
        raise DataError("no signal column beside the time", path=str(raw.path),
                        row=raw.header_line)
    values = [raw.values(c) for c in signals]
    named = [(c_time.name, t, raw.empty(c_time))] + [
        (c.name, v, raw.empty(c)) for c, v in zip(signals, values)]
    keep = finite_rows(raw.path, named, raw.lines, on_nan, raw.report)
    t = t[keep]
    if t.size < min_points:
        raise DataError(f"{t.size} samples; at least {min_points} needed",
                        path=str(raw.path), column=c_time.name, row=raw.header_line)
    step = np.diff(t)
    dt = float(np.median(step))
    off = np.flatnonzero(~(np.abs(step - dt) <= 0.01 * abs(dt))) if dt > 0 else [0]
    if not dt > 0 or len(off):
        k = int(off[0]) + 1 if len(off) else 1
        raise DataError(f"the time steps are not uniform (step {step[k - 1]:g} s where the "
                        f"median is {dt:g} s); a noise record must be sampled evenly (rows "
                        "dropped for missing values break it too)", path=str(raw.path),
                        column=c_time.name, row=int(raw.lines[keep][k]))
    return [ReadTrace(raw.path, c.name, c.unit_symbol, dt, v[keep], raw.report)
            for c, v in zip(signals, values)]
