"""Reading delimited text tables of measured data as instruments write them.

The reader finds the delimiter (tab, semicolon, comma, else whitespace) and the decimal mark
(a comma when number cells hold one and none a point), skips an instrument preamble, finds
the header row (and a row of units under it: ``Frequency,Vdc`` over ``GHz,mV``), parses the
units in the column names and converts the values to SI. A spreadsheet is read from its first
sheet holding a table unless a sheet is named. Line numbers are 1-based file lines as an
editor shows them, and every DataError names the file, the column and that line.

Files are untrusted: nothing is read as a value unless it is one.

- **Files.** Only regular files are read (a folder, FIFO or device such as ``/dev/zero`` is
  refused before reading), at most :data:`MAX_FILE_BYTES` (500 MiB), lines at most
  :data:`MAX_LINE_CHARS` characters. Text is UTF-8 (a BOM is dropped); UTF-16 with a BOM is
  read as such; other bytes are read as cp1252 (else latin-1) with a note in the report. A
  file holding NUL bytes otherwise is binary and refused.
- **Rows.** Every data row has exactly the header's number of cells: a short or long row is a
  DataError naming the line and the cells it has, never padded or cut (with
  ``on_nan="drop"`` the whole row is dropped and listed). A trailing delimiter
  is accepted when every data row has it (the extra cells empty). Rows of empty cells only
  (``,,,``) are skipped with a note in the report; blank lines are skipped silently.
- **Numbers** follow a strict grammar (:func:`parse_number`): optional sign, digits with an
  optional decimal mark (``.`` or, with ``decimal=","``, the comma), an optional exponent.
  No ``_`` grouping, thousands separators, hex, or leading or trailing text. ``inf``,
  ``infinity`` and ``nan`` (any case, signed) are numbers that the NaN policy (``on_nan``)
  then raises on or drops.
- **No value.** An empty cell, a spreadsheet error value (:data:`SPREADSHEET_ERRORS`:
  ``#N/A``, ``#DIV/0!``, ``#VALUE!``, ``#REF!``, ``#NAME?``, ``#NUM!``, ``#NULL!``, ...),
  ``N/A``/``NA``, an instrument's marker (:data:`INSTRUMENT_NO_VALUE`: ``--``,
  ``overflow``, ``OL``, ...) or SCPI's 9.9E37/9.91E37 is a missing value, handled by the NaN
  policy like NaN.
- **Comments.** Under the header, a line whose first cell starts with ``#`` is a comment
  (skipped, with a note) unless that cell is a spreadsheet error value: ``#N/A,1.5`` is a
  data row with a missing value, never a comment.
"""

from __future__ import annotations

import contextvars
import csv
import os
import re
import stat
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from neurospice.errors import DataError

from .units import UNITS, Header, Unit, is_unit_symbol, lookup_unit, parse_header, unit_word

DELIMITERS = ("\t", ";", ",")  # tried in this order; whitespace when none fits
_PROBE = 5                     # rows that must follow a header and look numeric
_SAMPLE = 200                  # lines at each end of the file used to guess the delimiter

MAX_FILE_BYTES = 500 * 2 ** 20  # the largest file read (500 MiB)
MAX_LINE_CHARS = 131_072        # the longest line (characters; csv's own field limit)

#: cells that hold no value: spreadsheet error values and the usual "not available" words
SPREADSHEET_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                                "#NULL!", "#N/A N/A", "#GETTING_DATA", "#SPILL!", "#CALC!",
                                "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
NOT_AVAILABLE = frozenset({"N/A", "NA", "n/a", "na"})
#: what instruments and lab scripts write where a reading has no value (any case): dashes,
#: over-range words (a multimeter's ``OL``, a lock-in's ``OVERFLOW``)
INSTRUMENT_NO_VALUE = frozenset({"-", "--", "---", "----", "overflow", "ovfl", "ovf", "ovld",
                                 "overload", "over", "ol", "+ol", "-ol", "over range",
                                 "overrange", "underflow", "null", "none", "n.a."})
#: SCPI's codes for a reading that has no value: 9.9E37 (overflow) and 9.91E37 (not a
#: number), as Keithley and Keysight instruments write them
SCPI_NO_VALUE = 9.9e37

_NUMBER = {
    ".": re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
    ",": re.compile(r"[+-]?(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?"),
}
_SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
# a character no number of the strict grammar holds: a column without one, that numpy reads
# as floats, is a column of such numbers (numpy also reads "nan", "inf", "1_0", other
# scripts' digits: letters, "_" and those digits are such characters)
_NOT_IN_A_NUMBER = re.compile(r"[^0-9eE+\-.\n]")


#: spreadsheet files read through a library (openpyxl for .xlsx/.xlsm, xlrd for .xls)
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls")

# --- how an option is spelled in error messages: the interface the call came from ----------
_INTERFACE = contextvars.ContextVar("neurospice_data_interface", default="python")
_CLI_FLAGS = {"columns": "--column", "group_by": "--group-by", "on_nan": "--on-nan",
              "units": "--unit", "power_w": "--power"}


@contextmanager
def command_line_spelling():
    """Within this block, error messages name the loaders' options as ``neurospice fit``
    spells them (``--header-row N``, ``--on-nan drop``, ``--column voltage=NAME``) instead
    of the Python keyword arguments (``header_row=``, ``on_nan='drop'``, ``columns={...}``)."""
    token = _INTERFACE.set("cli")
    try:
        yield
    finally:
        _INTERFACE.reset(token)


def spell(option: str, value: str | None = None, key: str | None = None) -> str:
    """An option as the current interface writes it: ``spell("on_nan", "drop")`` is
    ``on_nan='drop'`` from Python and ``--on-nan drop`` under the command line;
    ``spell("columns", "NAME", key="voltage")`` is ``columns={'voltage': 'NAME'}`` or
    ``--column voltage=NAME``; without a value, ``header_row=`` or ``--header-row``."""
    if _INTERFACE.get() == "cli":
        flag = _CLI_FLAGS.get(option, "--" + option.replace("_", "-"))
        if key is not None:
            import shlex

            given = "NAME" if value is None else value
            return f"{flag} {shlex.quote(f'{key}={given}')}"     # as a shell takes it
        return flag if value is None else f"{flag} {value}"
    if key is not None:
        return f"{option}={{{key!r}: {value if value is not None else '...'}}}"
    return f"{option}=" if value is None else f"{option}={value!r}"


@dataclass(frozen=True)
class DroppedRow:
    """A data row left out on request (``on_nan="drop"``): where, and why."""

    line: int
    column: str
    value: str


@dataclass
class Report:
    """What the loader left out or assumed. Nothing is dropped without an entry here."""

    dropped: list[DroppedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def dropped_lines(self) -> list[int]:
        return [d.line for d in self.dropped]


@dataclass(frozen=True)
class Column:
    """A column as written in the file: its position, header text, label and unit."""

    index: int
    name: str
    label: str
    unit: Unit | None
    unit_text: str

    @property
    def unit_symbol(self) -> str:
        return self.unit.symbol if self.unit else self.unit_text


@dataclass
class Raw:
    """A file split into preamble, header and rows of text cells (internal)."""

    path: Path
    delimiter: str | None
    decimal: str
    header_line: int
    columns: list[Column]
    cells: list[list[str]]
    lines: np.ndarray
    block: np.ndarray
    preamble: tuple[str, ...]
    report: Report
    # a column's plain numbers (:func:`_plain_numbers`) by (column, rows): read once for
    # its values and its no-value cells
    plain: dict = field(default_factory=dict, repr=False, compare=False)

    def find(self, name: str) -> Column:
        """The column whose header is ``name`` (as written) or whose label is ``name``."""
        for key in ("name", "label"):
            hits = [c for c in self.columns if getattr(c, key) == name.strip()]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise DataError(f"{len(hits)} columns are called {name!r}",
                                path=str(self.path), column=name, row=self.header_line)
        raise self.missing([name])

    def missing(self, wanted: Iterable[str], hint: str = "") -> DataError:
        present = ", ".join(repr(c.name) for c in self.columns) or "none"
        return DataError(f"missing column(s) {', '.join(map(repr, wanted))}; present: {present}"
                         + hint, path=str(self.path), row=self.header_line)

    def unit_of(self, column: Column) -> Unit | None:
        if column.unit is None and column.unit_text:
            raise DataError(f"unknown unit {column.unit_text!r} in the header (give it with "
                            f"{spell('units', 'UNIT', key=column.name)})",
                            path=str(self.path), column=column.name, row=self.header_line)
        return column.unit

    def text(self, column: Column, rows: slice = slice(None)) -> list[str]:
        return [r[column.index] for r in self.cells[rows]]

    def plain_numbers(self, column: Column, rows: slice = slice(None)) -> np.ndarray | None:
        """:func:`_plain_numbers` of the column's cells in ``rows``, found once (a copy:
        the caller may change it)."""
        key = (column.index, rows.start, rows.stop, rows.step)
        if key not in self.plain:
            self.plain[key] = _plain_numbers(self.text(column, rows), self.decimal)
        found = self.plain[key]
        return None if found is None else found.copy()

    def empty(self, column: Column, rows: slice = slice(None)) -> np.ndarray:
        """What each cell of a column that holds no value says (:func:`missing_value`: an
        empty cell, ``#N/A``, ...), ``""`` where the cell has a value."""
        if self.plain_numbers(column, rows) is not None:         # a value in every cell
            return np.full(len(self.cells[rows]), "", dtype=object)
        return np.array([missing_value(cell) or "" for cell in self.text(column, rows)],
                        dtype=object)

    def values(self, column: Column, rows: slice = slice(None), unit: Unit | None = None):
        """SI floats of a column; cells without a value (empty, ``#N/A``, ...) are NaN.
        Raises on a cell that is not a number, or a number SI cannot hold."""
        unit = unit or self.unit_of(column)
        out = self.plain_numbers(column, rows)
        if out is None:          # a cell without a value, or one that is not a number
            cells = self.text(column, rows)
            out = np.empty(len(cells), dtype=float)
            for k, (cell, line) in enumerate(zip(cells, self.lines[rows])):
                if missing_value(cell):
                    out[k] = np.nan
                    continue
                number = parse_number(cell, self.decimal)
                if number is None:
                    hint = ""
                    if self.decimal == "." and parse_number(cell, ",") is not None:
                        hint = f" (a decimal comma? pass {spell('decimal', ',')})"
                    raise DataError(f"not a number: {cell[:80]!r}{hint}", path=str(self.path),
                                    column=column.name, row=int(line))
                out[k] = number
        if not unit:
            return out
        with np.errstate(over="ignore", invalid="ignore"):
            si = unit.to_si(out)
        bad = np.flatnonzero(np.isfinite(out) & ~np.isfinite(si))
        if len(bad):
            raise DataError(f"{float(out[bad[0]])!r} {unit.symbol} is out of the range of a "
                            "float in SI units", path=str(self.path), column=column.name,
                            row=int(self.lines[rows][bad[0]]))
        # inf and NaN stay what they are for the NaN policy (-inf dBm is no 0 W reading)
        return np.where(np.isfinite(out), si, out)


def _plain_numbers(cells: list[str], decimal: str) -> np.ndarray | None:
    """The cells' values when every cell is a finite number in the strict grammar and none
    is an instrument's no-value code (9.9e37): one search of the column's text and numpy's
    conversion (a million cells in about 0.3 s, where the cell-by-cell checks took 15 s);
    None otherwise (the caller then looks at each cell)."""
    if not cells:
        return None
    text = "\n".join(cells)
    if decimal != ".":
        if "." in text:             # the decimal-comma grammar has no points
            return None
        text = text.replace(decimal, ".")
    if _NOT_IN_A_NUMBER.search(text):
        return None
    try:
        out = np.array(text.split("\n"), dtype=float)
    except ValueError:
        return None                 # an empty cell, "1e", "+-1", ...
    size = np.abs(out)
    if np.any((size >= SCPI_NO_VALUE) & (size <= 9.92e37)) or not np.all(np.isfinite(out)):
        return None                 # no-value codes, and numbers too large for a float
    return out


def parse_number(cell: str, decimal: str = ".") -> float | None:
    """The value of a cell written in the strict number grammar (see the module docstring),
    or None when the cell is not such a number. ``inf``/``nan`` spellings give inf/NaN; a
    number too large for a float gives inf (the NaN policy then refuses it)."""
    if _NUMBER[decimal].fullmatch(cell):
        return float(cell.replace(decimal, ".") if decimal != "." else cell)
    if _SPECIAL.fullmatch(cell):
        return float(cell)
    return None


def missing_value(cell: str) -> str | None:
    """What a cell that holds no value says (``"empty cell"``, ``"'#N/A' (no value)"``), or
    None for a cell with a value (a number or text)."""
    if not cell:
        return "empty cell"
    if cell.upper() in SPREADSHEET_ERRORS or cell in NOT_AVAILABLE \
            or cell.lower() in INSTRUMENT_NO_VALUE:
        return f"{cell!r} (no value)"
    if cell[:1] in "+-.0123456789" and ("e" in cell or "E" in cell):
        number = parse_number(cell, ".")
        if number is not None and SCPI_NO_VALUE <= abs(number) <= 9.92e37:
            return f"{cell!r} (an instrument's overflow or no-value code, 9.9e37/9.91e37)"
    return None


def _is_comment(row: list[str]) -> bool:
    """A line under the header whose first cell starts with '#', unless that cell is a
    spreadsheet error value (``#N/A``): such a line is data."""
    return bool(row) and row[0].startswith("#") and missing_value(row[0]) is None


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return [c.strip('"') for c in line.split()]
    if '"' not in line and "\r" not in line:      # what the csv module would do, faster
        cells = line.split(delimiter)
        return [c.strip() for c in cells] if " " in line or "\t" in line else cells
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error as exc:     # cannot happen on lines under MAX_LINE_CHARS; never escapes
        raise DataError(f"cannot split the line: {exc}") from None


def read_text(path, notes: list[str] | None = None) -> list[str]:
    """The lines of a text data file, checked as the module docstring says (regular file,
    size, encoding, no NUL bytes, line length); ``notes`` receives the assumptions made (an
    encoding other than UTF-8). Raises DataError naming the file."""
    path = Path(path)
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"cannot open the file: {exc.strerror or exc}", path=where) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise DataError(f"not a regular file ({kind}): refused", path=where)
        if info.st_size > MAX_FILE_BYTES:
            raise DataError(f"the file has {info.st_size} bytes; at most {MAX_FILE_BYTES} are "
                            "read", path=where)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", path=where) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"the file has more than {MAX_FILE_BYTES} bytes", path=where)
    text = _decode(data, where, notes if notes is not None else [])
    # universal newlines: \r\n, \r and \n each end a line, as in an editor
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for n, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            raise DataError(f"the line has {len(line)} characters; at most {MAX_LINE_CHARS}",
                            path=where, row=n)
    return lines


def read_spreadsheet(path, sheet: str | int | None = None,
                     notes: list[str] | None = None) -> list[str]:
    """The rows of one sheet of a spreadsheet as tab-separated text lines, for the text
    reader: numbers written in full precision (``repr``), text cells with tabs and line
    breaks turned into blanks, empty cells empty, a formula as its cached value, an error
    value (``#N/A``) as written. ``sheet``: a name or a 1-based position; the first sheet
    when None (a note says which, when there are several). .xlsx/.xlsm need openpyxl, .xls
    xlrd; a missing package, an unreadable workbook or an unknown sheet is a DataError."""
    path = Path(path)
    where = str(path)
    notes = notes if notes is not None else []
    try:
        info = os.stat(path)
    except OSError as exc:
        raise DataError(f"cannot open the file: {exc.strerror or exc}", path=where) from None
    if not stat.S_ISREG(info.st_mode):
        raise DataError("not a regular file: refused", path=where)
    if info.st_size > MAX_FILE_BYTES:
        raise DataError(f"the file has {info.st_size} bytes; at most {MAX_FILE_BYTES} are "
                        "read", path=where)
    xls = path.suffix.lower() == ".xls"
    package = "xlrd" if xls else "openpyxl"
    try:
        module = __import__(package)
    except ImportError:
        raise DataError(f"reading {path.suffix} files needs the Python package {package} "
                        f"(pip install {package}); or save the sheet as CSV",
                        path=where) from None
    try:
        if xls:
            book = module.open_workbook(str(path), on_demand=True)
            names = list(book.sheet_names())
        else:
            book = module.load_workbook(path, read_only=True, data_only=True)
            names = list(book.sheetnames)
    except Exception as exc:  # a damaged or disguised file: the library's own error types
        raise DataError(f"cannot read the workbook ({type(exc).__name__})", path=where) \
            from None
    try:
        if sheet is None:
            chosen = names[0] if names else None
            if len(names) > 1:
                notes.append(f"sheet {chosen!r} read (the first of {len(names)}: "
                             f"{', '.join(map(repr, names))}; choose with {spell('sheet')})")
        elif isinstance(sheet, int) or str(sheet).isdigit():
            k = int(sheet)
            chosen = names[k - 1] if 1 <= k <= len(names) else None
        else:
            chosen = sheet if sheet in names else None
        if chosen is None:
            raise DataError(f"no sheet {sheet!r}; sheets: {', '.join(map(repr, names)) or 'none'}"
                            f" ({spell('sheet')} takes a name or a 1-based position)",
                            path=where)
        if xls:
            ws = book.sheet_by_name(chosen)
            rows = (ws.row_values(r) for r in range(ws.nrows))
        else:
            rows = book[chosen].iter_rows(values_only=True)
        lines, total = [], 0
        for row in rows:
            line = "\t".join(_sheet_cell(c) for c in row).rstrip("\t")
            total += len(line) + 1
            if total > MAX_FILE_BYTES:
                raise DataError(f"the sheet holds more than {MAX_FILE_BYTES} characters",
                                path=where)
            if len(line) > MAX_LINE_CHARS:
                raise DataError(f"row {len(lines) + 1} has {len(line)} characters; at most "
                                f"{MAX_LINE_CHARS}", path=where, row=len(lines) + 1)
            lines.append(line)
    finally:
        closer = getattr(book, "release_resources", None) or getattr(book, "close", None)
        if closer is not None:
            closer()
    return lines


def _sheet_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    text = str(value)
    return re.sub(r"[\t\r\n\x00]+", " ", text).strip()


def _decode(data: bytes, where: str, notes: list[str]) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"UTF-16 text (it has a BOM) with an invalid byte at {exc.start}",
                            path=where) from None
        notes.append("read as UTF-16 (byte order mark)")
    else:
        if b"\0" in data:
            raise DataError(f"a binary file (a NUL byte at offset {data.index(0)}): refused",
                            path=where)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            bad = exc.start
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            notes.append(f"not UTF-8 (byte {bad}): read as {encoding}")
            break
    if "\0" in text:
        raise DataError("a binary file (a NUL character): refused", path=where)
    return text


def _guess_delimiter(lines: Sequence[str], decimal: str = ".") -> str | None:
    filled = [ln for ln in lines if ln.strip()]
    sample = filled[:_SAMPLE] + filled[_SAMPLE:][-_SAMPLE:]
    for d in DELIMITERS:
        if d == decimal:                            # "1,5 2,5": the comma is the decimal mark
            continue
        counts = Counter(len(_split(ln, d)) for ln in sample if d in ln)
        if counts:
            width, n = counts.most_common(1)[0]
            if width >= 2 and n >= len(sample) / 2:
                return d
    return None


def _is_numeric_row(cells: list[str]) -> bool:
    """Mostly numbers (with either decimal mark: a wrong one is reported at the cell), cells
    without a value (``#N/A``) counted as numbers."""
    filled = [c for c in cells if c]
    numbers = sum(parse_number(c, ".") is not None or parse_number(c, ",") is not None
                  for c in filled)
    numeric = numbers + sum(missing_value(c) is not None for c in filled)
    return numbers > 0 and numeric > len(filled) / 2


def _header_cells(cells: list[str], delimiter: str | None) -> list[str]:
    cells = list(cells)
    if cells and cells[0].startswith("#"):          # numpy.savetxt writes "# name,name"
        cells[0] = cells[0].lstrip("#").strip()
        if not cells[0] and delimiter is None:      # "# V I" split on blanks: "#" alone
            cells = cells[1:]
    if delimiter is None:                           # "V (mV)" split on blanks: join the unit
        merged: list[str] = []
        for c in cells:
            if merged and c[:1] in "([" and c[-1:] in ")]":
                merged[-1] += " " + c
            else:
                merged.append(c)
        cells = merged
    return cells


Rows = list[tuple[int, list[str]]]


def _instrument_layout(rows: Rows, notes: list[str]) -> tuple[Rows, tuple[str, ...]]:
    """Instrument exports whose table is not a header over rows of numbers, rewritten as
    one: (rows, settings the rewrite took out of the rows, for the preamble). Each layout
    recognised adds a note; any other file is returned as it is."""
    for layout in (_keyed_rows, _tektronix_side_by_side, _rigol_start_increment):
        out = layout(rows, notes)
        if out is not None:
            return out
    return rows, ()


def _cell_key(cells: list[str], k: int = 0) -> str:
    return cells[k].strip().casefold() if len(cells) > k else ""


def _tektronix_side_by_side(rows: Rows, notes: list[str]):
    """A Tektronix TDS/DPO export: the settings in the first two columns of the first
    lines (``Record Length``, ``Sample Interval``, ``Vertical Units``, ``Source``), the
    samples in the fourth and fifth columns of every line, and no header for them. Read as
    ``Time (<Horizontal Units>)`` and ``<Source> (<Vertical Units>)`` (s and V when not
    given); the settings go to the preamble."""
    keys = {_cell_key(c) for _, c in rows[:40]}
    if not keys & {"record length", "sample interval"}:
        return None
    data = [(n, c) for n, c in rows if len(c) >= 5 and not c[2].strip()]
    if len(data) < 0.9 * len(rows) or not all(parse_number(c[3], ".") is not None
                                               and parse_number(c[4], ".") is not None
                                               for _, c in data[:40]):
        return None
    settings = {_cell_key(c): c[1].strip() for _, c in rows if len(c) > 1 and c[0].strip()}
    unit_x = settings.get("horizontal units") or "s"
    unit_y = settings.get("vertical units") or "V"
    source = settings.get("source") or "CH"
    header = (rows[0][0], [f"Time ({unit_x})", f"{source} ({unit_y})"])
    notes.append("a Tektronix export (settings in the first columns, samples in the fourth "
                 f"and fifth): read as {header[1][0]!r} and {header[1][1]!r}")
    pre = tuple(f"{c[0].strip()},{c[1].strip()}" for _, c in rows if len(c) > 1
                and c[0].strip())
    return [header, *((n, c[3:5]) for n, c in rows)], pre


def _rigol_start_increment(rows: Rows, notes: list[str]):
    """A Rigol export: ``X,CH1,...,Start,Increment`` over ``Sequence,Volt,...,<start>,
    <increment>`` (units of the channels, then the time of sample 0 and the sampling
    interval), then a sample index and the channels' values on each line. Read as
    ``Time (s)`` = start + index x increment and the channels in their units; start and
    increment go to the preamble."""
    if len(rows) < 3:
        return None
    names, units = rows[0][1], rows[1][1]
    lower = [c.strip().casefold() for c in names]
    if not lower or lower[0] != "x" or "start" not in lower or "increment" not in lower:
        return None
    i0, di = lower.index("start"), lower.index("increment")
    if len(units) <= max(i0, di):
        return None
    start, step = parse_number(units[i0], "."), parse_number(units[di], ".")
    channels = [k for k in range(1, min(i0, di)) if names[k].strip()]
    if start is None or step is None or not (np.isfinite(start) and 0 < step < np.inf) \
            or not channels:
        return None
    header = [f"{names[k].strip()} ({units[k].strip()})" if units[k].strip()
              else names[k].strip() for k in channels]
    out = [(rows[0][0], ["Time (s)", *header])]
    for n, cells in rows[2:]:
        index = parse_number(cells[0], ".") if cells else None
        time = repr(start + index * step) if index is not None else cells[0] if cells else ""
        out.append((n, [time, *(cells[k] if k < len(cells) else "" for k in channels),
                        *(c for c in cells[max(channels) + 1:] if c.strip())]))
    notes.append(f"a Rigol export: the time of each sample from its index, Start {start:g} s "
                 f"and Increment {step:g} s")
    return out, (f"Start,{start!r}", f"Increment,{step!r}")


_SCOPE_UNITS = re.compile(r"\s*(horizontal|vertical)\s+units?\s*[,;:=\t]\s*([^,;\t]+?)"
                          r"\s*[,;\t]*", re.I)


def _scope_units(columns: list[Column], preamble: tuple[str, ...], notes: list[str]):
    """An oscilloscope's ``Horizontal Units,s`` and ``Vertical Units,A`` settings: the units
    of the first column (the time) and of the others, where the header gives none."""
    from dataclasses import replace

    found = {}
    for line in preamble:
        m = _SCOPE_UNITS.fullmatch(line)
        unit = m and (lookup_unit(m[2]) or unit_word(m[2]))
        if unit:
            found.setdefault(m[1].lower(), (m[2], unit))
    out = list(columns)
    for c in columns:
        which = "horizontal" if c.index == 0 else "vertical"
        if which in found and c.unit is None and not c.unit_text:
            text, unit = found[which]
            out[c.index] = replace(c, unit=unit, unit_text=text)
            notes.append(f"column {c.name!r}: unit {text!r} from the {which} units setting")
    return out


def _keyed_rows(rows: Rows, notes: list[str]):
    """A Keysight EasyEXPERT / B1500 export: the test's settings on lines of their own, then
    ``DataName, Vd, Id`` and ``DataValue, 0.1, 1e-6`` rows. The key cell is taken off those
    rows (the names become the header, the values the data); other lines after the first
    ``DataName`` (the settings of an appended test) are left out, each named in a note.
    Any other file is returned as it is."""
    first = next((i for i, (_, c) in enumerate(rows)
                  if c and c[0][:1] in "Dd" and _cell_key(c) == "dataname"), None)
    if first is None or not any(_cell_key(c) == "datavalue" for _, c in rows[first + 1:]):
        return None
    kept, other = rows[:first], []
    for n, cells in rows[first:]:
        if _cell_key(cells) in ("dataname", "datavalue"):
            kept.append((n, cells[1:]))
        else:
            other.append(n)
    notes.append(f"line {rows[first][0]}: a DataName/DataValue export (Keysight EasyEXPERT, "
                 "B1500): the DataName row read as the header, the DataValue rows as the data"
                 + (f"; other lines after it left out: {', '.join(map(str, other[:10]))}"
                    + (", ..." if len(other) > 10 else "") if other else ""))
    return kept, ()


def _is_header(rows: list[tuple[int, list[str]]], k: int) -> bool:
    """Names, then a numeric row, and mostly numeric rows up to a repeat of the names."""
    cells = rows[k][1]
    filled = [c for c in cells if c]
    if not filled or any(parse_number(c, ".") is not None for c in filled):
        return False
    following = []
    for _, row in rows[k + 1:k + 1 + _PROBE]:
        if row == cells:
            break
        if _is_comment(row):                        # a comment under the header
            continue
        following.append(_is_numeric_row(row))
    return bool(following) and following[0] and sum(following) > len(following) / 2


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector held off while a file becomes millions of small
    lists and strings (none of them in a cycle): the collector's passes over the growing
    heap took two thirds of the time of splitting a million-row file. Restored after,
    whatever happens."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_raw(path, *, delimiter: str | None = None, header_row: int | None = None,
             skip_header: int | None = None, decimal: str | None = None,
             sheet: str | int | None = None, units: Mapping[str, str] | None = None,
             on_nan: str = "raise", names: str | Sequence[str] | None = None) -> Raw:
    """Split a file into preamble, header and data cells (see :func:`load_table`).
    ``on_nan="drop"`` also drops (and reports) a row with missing or extra cells; ``names``
    (a list, or one string of comma-separated names) heads a file that has no header: the
    first row of numbers (after ``skip_header`` lines) is the first data row."""
    with collector_paused():
        return _read_raw(path, delimiter=delimiter, header_row=header_row,
                         skip_header=skip_header, decimal=decimal, sheet=sheet, units=units,
                         on_nan=on_nan, names=names)


def _read_raw(path, *, delimiter, header_row, skip_header, decimal, sheet, units, on_nan,
              names) -> Raw:
    path = Path(path)
    if decimal not in (None, ".", ","):
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")
    if header_row is not None and skip_header is not None:
        raise ValueError(f"give {spell('header_row')} or {spell('skip_header')}, not both")
    if path.suffix.lower() in SPREADSHEET_SUFFIXES and sheet is None:
        return _first_sheet_with_table(path, delimiter=delimiter, header_row=header_row,
                                       skip_header=skip_header, units=units, on_nan=on_nan,
                                       names=names)
    notes: list[str] = []
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        lines = read_spreadsheet(path, sheet, notes)
        delimiter, decimal = "\t", "."
    elif sheet is not None:
        raise DataError(f"{spell('sheet')} applies to spreadsheet files "
                        f"({', '.join(SPREADSHEET_SUFFIXES)}) only", path=str(path))
    else:
        lines = read_text(path, notes)
    if delimiter is None:
        delimiter = _guess_delimiter(lines, decimal or ".")
        if delimiter == "," and decimal is None and _blanks_and_decimal_commas(lines):
            delimiter, decimal = None, ","
            notes.append("cells separated by blanks, numbers with a decimal comma: read as "
                         f"such (else pass {spell('delimiter')} and {spell('decimal')})")
    elif delimiter.strip() == "":
        delimiter = None                            # " " or "" means whitespace
    if decimal is None:
        decimal = _guess_decimal(lines, delimiter, notes)
    if delimiter == decimal:
        raise ValueError(f"the delimiter and the decimal mark are both {decimal!r}")
    split = [(n, _split(ln, delimiter)) for n, ln in enumerate(lines, 1) if ln.strip()]
    rows = [(n, c) for n, c in split if any(c)]    # ",,,," is a blank line (with a note)
    if not rows:
        raise DataError("no data: the file is empty or blank", path=str(path))
    rows, settings = _instrument_layout(rows, notes)

    given = None if names is None else \
        [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
    if given is not None:
        # a file without a header: the names given head the first row of numbers
        if header_row is not None:
            raise ValueError(f"give {spell('names')} or {spell('header_row')}, not both")
        after = skip_header or 0
        k = next((i for i, (n, c) in enumerate(rows) if n > after and _is_numeric_row(c)),
                 None)
        if k is None:
            raise DataError("no row of numbers for the names given", path=str(path))
        rows = [*rows[:k], (rows[k][0], given), *rows[k:]]
    elif header_row is not None or skip_header is not None:
        first = header_row if header_row is not None else skip_header + 1
        k = next((i for i, (n, _) in enumerate(rows) if n >= first), None)
        if k is None or (header_row is not None and rows[k][0] != header_row):
            raise DataError(f"line {first} is blank or past the end: no header there",
                            path=str(path), row=first)
    else:
        k = next((i for i in range(len(rows)) if _is_header(rows, i)), None)
        if k is None:
            numeric = all(_is_numeric_row(c) for _, c in rows[-_PROBE:])
            raise DataError("no header row found (a row of names followed by rows of numbers);"
                            + (f" the file has no names: give them with {spell('names')} "
                               "'V (V),I (A)'" if numeric else "") +
                            f" or pass {spell('header_row')} or {spell('skip_header')}",
                            path=str(path))
    k, unit_line = _units_below_names(rows, k, delimiter, explicit=header_row is not None
                                      or skip_header is not None or given is not None)
    header_line = rows[k][0]
    names = given if given is not None else _header_cells(rows[k][1], delimiter)
    while names and not names[-1]:
        names.pop()                                 # trailing delimiters
    if delimiter is None and given is None:
        names = _blank_separated_names(names, lines[header_line - 1],
                                       rows[k + 1 + (unit_line is not None):], path,
                                       header_line)
    if unit_line is not None:
        names = _with_units(names, _header_cells(rows[k + 1][1], delimiter), path, unit_line)
        notes.append(f"line {unit_line}: the units of the header's columns")
        k += 1                                      # the data start under the units
    headers = [parse_header(n) for n in names]
    columns = [Column(i, h.name, h.label, h.unit, h.unit_text) for i, h in enumerate(headers)]
    columns = _given_units(columns, units, path, header_line)
    preamble = settings + tuple(lines[n - 1] for n, _ in rows[:k - (unit_line is not None)])
    columns = _scope_units(columns, preamble, notes)

    report = Report(notes=notes)
    empty_rows = [n for n, c in split if n > header_line and not any(c)]
    if empty_rows:
        shown = ", ".join(map(str, empty_rows[:10])) + (", ..." if len(empty_rows) > 10 else "")
        report.notes.append(f"{len(empty_rows)} line(s) of empty cells only skipped: {shown}")
    width = len(names)
    cells, line_numbers, blocks, block = [], [], [], 0
    first_width: tuple[int, int] | None = None      # (cells, line) of the first data row
    plain = _plain_rows(rows[k + 1:], width, decimal)
    if plain is not None:
        cells, line_numbers = plain
        blocks = [0] * len(cells)
    for n, row in rows[k + 1:] if plain is None else ():
        if _is_comment(row):
            report.notes.append(f"line {n}: comment skipped")
            continue
        if _is_repeated_header(row, headers, delimiter, path, n):
            block += 1
            report.notes.append(f"line {n}: header repeated, block {block} starts")
            continue
        if len(row) < width or any(row[width:]):
            if on_nan == "drop":
                report.dropped.append(DroppedRow(n, "(whole row)",
                                                 f"{len(row)} cells where the header has "
                                                 f"{width}"))
                continue
            raise DataError(_width_message(row, names) + f" (pass {spell('on_nan', 'drop')} "
                            "to drop such rows)", path=str(path), row=n)
        if first_width is None:
            first_width = (len(row), n)
        elif len(row) != first_width[0]:
            raise DataError(f"{len(row)} cells where line {first_width[1]} has "
                            f"{first_width[0]} (the header has {width} columns): a trailing "
                            "delimiter must be on every row or on none", path=str(path), row=n)
        cells.append(row[:width])
        line_numbers.append(n)
        blocks.append(block)
    if not cells:
        raise DataError("no data rows after the header", path=str(path), row=header_line)
    return Raw(path, delimiter, decimal, header_line, columns, cells,
               np.array(line_numbers), np.array(blocks), preamble, report)


def _first_sheet_with_table(path: Path, **options) -> Raw:
    """The first sheet of a workbook that holds a table (a header over numbers): a title or
    settings sheet in front of the data is passed over, with a note naming the sheet read."""
    explicit = any(options.get(k) is not None for k in ("header_row", "skip_header", "names"))
    k = 1
    while True:
        try:
            raw = read_raw(path, sheet=k, **options)
        except DataError as exc:
            text = str(exc)
            if k > 1 and f"no sheet {k!r}" in text:
                raise DataError(f"no sheet holds a table (a row of names followed by rows of "
                                f"numbers); pass {spell('sheet')}, {spell('header_row')} or "
                                f"{spell('skip_header')}", path=str(path)) from None
            if explicit or not ("no header row found" in text or "no data" in text):
                raise
            k += 1
            continue
        if k > 1:
            raw.report.notes.append(f"sheet {k} read: the first sheet holding a table (choose "
                                    f"another with {spell('sheet')})")
        return raw


def _guess_decimal(lines: Sequence[str], delimiter: str | None, notes: list[str]) -> str:
    """``","`` when the file writes its numbers with a decimal comma: the delimiter is not
    a comma and number cells hold a comma (``5,025``) while none holds a point; else ``"."``."""
    if delimiter == ",":
        return "."
    filled = [ln for ln in lines if ln.strip()]
    comma = point = 0
    for ln in filled[:_SAMPLE] + filled[_SAMPLE:][-_SAMPLE:]:
        for cell in _split(ln, delimiter):
            if "," in cell and _NUMBER[","].fullmatch(cell):
                comma += 1
            elif "." in cell and _NUMBER["."].fullmatch(cell):
                point += 1
    if comma and not point:
        notes.append(f"numbers written with a decimal comma ({comma} cells such as 1,5): read "
                     f"as such (else pass {spell('decimal', '.')})")
        return ","
    return "."


_DECIMAL_COMMA_CELL = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")


_LETTER_BUT_EXPONENT = re.compile(r"[A-DF-Za-df-z]")


def _blanks_and_decimal_commas(lines: Sequence[str]) -> bool:
    """Whether the lines holding commas (and no letters but an exponent's) are rows of
    blank-separated numbers written with a decimal comma (``5,025  1,5e-3``): two or more
    cells each, every one of them such a number or a whole number, one at least with a
    comma (``1, 2`` or ``1.5,2`` are comma-separated)."""
    from itertools import islice

    def numbers_and_commas(ln: str) -> bool:    # lines with letters (preamble, header) aside
        return "," in ln and not _LETTER_BUT_EXPONENT.search(ln)

    head = list(islice(filter(numbers_and_commas, lines), _SAMPLE))
    if not head:
        return False
    tail = list(islice(filter(numbers_and_commas, reversed(lines)), _SAMPLE))
    for ln in head + tail:              # the first and the last lines so written
        cells = ln.split()
        commas = sum(bool(_DECIMAL_COMMA_CELL.fullmatch(c)) for c in cells)
        whole = sum(bool(re.fullmatch(r"[+-]?[0-9]+", c)) for c in cells)
        if len(cells) < 2 or not commas or commas + whole < len(cells):
            return False
    return True


def _is_units_row(cells: list[str]) -> bool:
    filled = [c.strip().strip("()[]") for c in cells if c.strip()]
    return bool(filled) and all(is_unit_symbol(c) for c in filled)


def _units_below_names(rows, k: int, delimiter, explicit: bool) -> tuple[int, int | None]:
    """(index of the header row, line of a units row under it or None). Instruments write
    the units on a line of their own under the names (``Frequency,Vdc`` then ``GHz,mV``):
    found as a row of unit symbols only (written exactly: ``GHz``, ``mV``, ``(dBm)``) under a
    row of as many names, not all of them units."""
    if explicit:
        if k + 1 < len(rows) and len(rows[k + 1][1]) == len(rows[k][1]) \
                and _is_units_row(rows[k + 1][1]) and not _is_units_row(rows[k][1]):
            return k, rows[k + 1][0]
        return k, None
    if k == 0 or not _is_units_row(rows[k][1]):
        return k, None
    names = rows[k - 1][1]
    if len(names) != len(rows[k][1]) or _is_units_row(names) or \
            any(parse_number(c, ".") is not None or parse_number(c, ",") is not None
                for c in names) or not all(names):
        return k, None
    return k - 1, rows[k][0]


def _with_units(names: list[str], units: list[str], path, line: int) -> list[str]:
    out = []
    for name, unit in zip(names, units + [""] * (len(names) - len(units))):
        unit = unit.strip().strip("()[]").strip()
        own = parse_header(name)
        if unit and own.unit_text and own.unit_text != unit:
            raise DataError(f"the column's name says {own.unit_text!r}, the units row "
                            f"{unit!r}", path=str(path), column=name, row=line)
        out.append(f"{name} ({unit})" if unit and not own.unit_text else name)
    return out


def _given_units(columns: list[Column], units: Mapping[str, str] | None, path,
                 line: int) -> list[Column]:
    """The columns with the units the caller gave (``units={"V_dc (mVolt)": "mV"}``,
    ``--unit 'V_dc (mVolt)=mV'``) in place of those the header writes (or lacks)."""
    if not units:
        return columns
    from dataclasses import replace

    out = list(columns)
    for name, symbol in units.items():
        hits = [c for key in ("name", "label") for c in out if getattr(c, key) == name.strip()]
        if not hits:
            present = ", ".join(repr(c.name) for c in columns)
            raise DataError(f"{spell('units', symbol, key=name)}: no such column; present: "
                            f"{present}", path=str(path), row=line)
        unit = lookup_unit(symbol)
        if unit is None:
            from neurospice.errors import ArgumentError

            raise ArgumentError(f"{spell('units', symbol, key=name)}: unknown unit {symbol!r}"
                                f" (known: {', '.join(sorted(u for u in UNITS if u))})")
        c = hits[0]
        out[c.index] = replace(c, unit=unit, unit_text=symbol)
    return out


def _width_message(row: list[str], names: list[str]) -> str:
    """A row with fewer or more cells than the header: what it has, column by column."""
    present = ", ".join(f"{name!r}={cell[:40]!r}" for name, cell in zip(names, row))
    extra = ", ".join(repr(c[:40]) for c in row[len(names):] if c)
    what = "a missing cell" if len(row) < len(names) else "an extra cell"
    return (f"{len(row)} cells but the header has {len(names)} columns ({what}; the row is "
            f"refused rather than read into the wrong columns); cells present: "
            f"{present or 'none'}" + (f"; past the last column: {extra}" if extra else ""))


def _blank_separated_names(names, line, rows, path, header_line) -> list[str]:
    """Names with spaces in a blank-separated file ("Elapsed Time (s)  Voltage (V)"): when
    the header splits into more names than the first data row has cells, columns separated
    by two or more blanks (or tabs) are tried; a count that still differs is an error,
    never a silent shift of the columns."""
    first = next((row for _, row in rows if not _is_comment(row)), None)
    if first is None or len(names) <= len(first):
        return names
    wide = _header_cells([c for c in re.split(r"\s{2,}|\t", line.strip()) if c], "\t")
    if len(wide) == len(first):
        return wide
    raise DataError(f"the header splits into {len(names)} names but the rows have "
                    f"{len(first)} cells: names with spaces need a delimiter (comma, tab, "
                    "semicolon) or two blanks between columns", path=str(path), row=header_line)


def _plain_rows(rows: Rows, width: int, decimal: str) -> tuple[list, list] | None:
    """(cells, line numbers) when every row is a row of data as it stands: as many cells as
    the header, the first a number (so no comment, no repeated header); None otherwise
    (the caller then looks at each row)."""
    if not rows or any(len(cells) != width for _, cells in rows) \
            or _plain_numbers([cells[0] for _, cells in rows], decimal) is None:
        return None
    return [cells for _, cells in rows], [n for n, _ in rows]


def _is_repeated_header(row: list[str], headers: list[Header], delimiter, path, line) -> bool:
    if row and _NUMBER["."].fullmatch(row[0]):
        return False                # a row of data: no name is a number (_is_header)
    again = [parse_header(c) for c in _header_cells(row, delimiter)]
    if len(again) < len(headers) or [h.label for h in again[:len(headers)]] != \
            [h.label for h in headers]:
        return False
    for old, new in zip(headers, again):
        if (old.unit, old.unit_text) != (new.unit, new.unit_text):
            raise DataError(f"mixed units: the header repeats with unit {new.unit_text!r} where "
                            f"it had {old.unit_text!r}", path=str(path), column=old.name,
                            row=line)
    return True


def finite_rows(path: Path, named: Sequence[tuple[str, np.ndarray, np.ndarray]],
                lines: np.ndarray, on_nan: str, report: Report, *,
                can_drop: bool = True) -> np.ndarray:
    """Mask of rows whose values are all finite; raise or record the others (``on_nan``).

    ``named`` holds (column name, values, what each cell without a value says) for each
    column to check (the third item as :meth:`Raw.empty` gives it: ``""`` where the cell has
    a value); ``can_drop``: whether the caller offers ``on_nan='drop'`` (the error says so).
    """
    if on_nan not in ("raise", "drop"):
        raise ValueError(f"on_nan must be 'raise' or 'drop', not {on_nan!r}")
    keep = np.ones(len(lines), dtype=bool)
    bad_cells = [(k, j) for j, (_, v, empty) in enumerate(named)
                 for k in np.flatnonzero((np.asarray(empty) != "") | ~np.isfinite(v))]
    for k, j in sorted(bad_cells):
        if not keep[k]:
            continue
        name, value, empty = named[j][0], named[j][1][k], named[j][2][k]
        what = empty or f"{value} value"
        if on_nan == "raise":
            hint = f" (pass {spell('on_nan', 'drop')} to drop such rows)" if can_drop else ""
            raise DataError(f"{what}{hint}", path=str(path), column=name, row=int(lines[k]))
        keep[k] = False
        report.dropped.append(DroppedRow(int(lines[k]), name, what))
    return keep


@dataclass
class Table:
    """A measured-data table: SI values by column, with where each row came from.

    ``data[:, j]`` holds column ``columns[j]`` in SI units (see :mod:`.units`); ``lines`` the
    1-based file line of each row; ``block`` counts headers repeated mid-file (0 before the
    first repeat); ``preamble`` the non-blank lines above the header (instrument settings).
    """

    path: Path
    columns: tuple[Column, ...]
    data: np.ndarray
    lines: np.ndarray
    block: np.ndarray
    header_line: int
    delimiter: str | None
    preamble: tuple[str, ...]
    report: Report

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, key: str | int) -> np.ndarray:
        if isinstance(key, int):
            return self.data[:, key]
        hits = [j for j, c in enumerate(self.columns) if key in (c.name, c.label)]
        if len(hits) != 1:
            raise KeyError(f"{key!r} names {len(hits)} columns; columns: {self.names}")
        return self.data[:, hits[0]]


def load_table(path, *, columns: Sequence[str] | None = None, delimiter: str | None = None,
               header_row: int | None = None, skip_header: int | None = None,
               decimal: str | None = None, on_nan: str = "raise",
               sheet: str | int | None = None, units: Mapping[str, str] | None = None,
               names: str | Sequence[str] | None = None) -> Table:
    """Load a delimited text file of numbers with a header row into SI values.

    - ``delimiter``: tab, ``;``, ``,`` or ``" "`` (whitespace); found from the data when None.
    - ``header_row``: the header's 1-based line; ``skip_header=N``: the header is the first
      non-blank line after N lines. Neither: the first row of names followed by numeric rows,
      so an instrument preamble (key,value settings) is skipped and kept in ``preamble``.
    - ``decimal``: ``","`` for files written with a decimal comma, ``"."`` for a decimal
      point; found when None (a comma when number cells hold one and none a point, in a file
      not delimited by commas; a note says so).
    - ``columns``: the header names (or labels without unit) to load; all when None.
    - ``on_nan``: ``"raise"`` (default) on an empty, NaN or inf cell, a cell without a value
      (``--``, ``overflow``, SCPI's 9.9E37) or a row with missing or extra cells, or
      ``"drop"`` the row and list it in ``report.dropped``.
    - ``units``: header name -> unit symbol, for a column whose header writes no unit or
      one not known (``{"V_dc (mVolt)": "mV"}``).
    - ``names``: the columns' names (with units) of a file that has no header row
      (``["V (V)", "I (A)"]`` or ``"V (V),I (A)"``).
    - ``sheet``: for a spreadsheet (.xlsx/.xlsm through openpyxl, .xls through xlrd), the
      sheet's name or 1-based position (default the first); its cells are read like a
      tab-separated file (:func:`read_spreadsheet`).

    Units in the names (``V (mV)``, ``current [uA]``, ``I/mA``, ``f_GHz``) convert to SI; a
    column without a unit is kept as written. Raises DataError naming file, column and line.
    """
    raw = read_raw(path, delimiter=delimiter, header_row=header_row, skip_header=skip_header,
                   decimal=decimal, sheet=sheet, units=units, on_nan=on_nan, names=names)
    chosen = raw.columns if columns is None else [raw.find(n) for n in columns]
    named = [(c.name, raw.values(c), raw.empty(c)) for c in chosen]
    keep = finite_rows(raw.path, named, raw.lines, on_nan, raw.report)
    data = np.column_stack([v[keep] for _, v, _ in named]) if named else \
        np.empty((int(keep.sum()), 0))
    return Table(raw.path, tuple(chosen), data, raw.lines[keep], raw.block[keep],
                 raw.header_line, raw.delimiter, raw.preamble, raw.report)
