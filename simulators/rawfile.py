"""Reader for SPICE3 raw files (the format ngspice, VACASK and Xyce write).

A raw file holds one or more *plots*. Each plot is a text header::

    Title: ...
    Date: ...
    Plotname: Transient Analysis
    Flags: real            (or complex; optionally padded / unpadded)
    No. Variables: 3
    No. Points: 100
    Variables:
    \t0\ttime\ttime
    \t1\tv(out)\tvoltage
    \t2\ti(v1)\tcurrent
    Binary:                (or Values:)

followed by the data: in ``Binary:`` plots, point after point, every value a little-endian
float64 (two of them, real and imaginary part, in complex plots); in ``Values:`` plots, for each
point a line ``<index> <value of variable 0>`` and one line per further variable, complex values
written ``re,im``. Plots follow each other in one file.

Nothing the file says is trusted: a header that does not parse, counts that disagree, a
file shorter than its header promises (an aborted or truncated write) or longer than
:data:`RAW_MAX_BYTES` raise :class:`RawFileError`, a :class:`SimulationFailed` naming the file
and what is wrong; never a silently shortened result. ``partial=True`` accepts plots that
hold fewer points than announced (marked by :attr:`RawPlot.truncated`) for a caller that
asks for them. The format has no plot count: a file cut exactly between two plots reads as
its first plots, which the simulators' analysis matching then reports as missing output.

Only the bounded file reader (:func:`neurospice.fileio.read_bytes`) and, for the arrays,
numpy are needed; nothing is imported from the simulators. A plot's values are decoded when
first used: :attr:`RawPlot.data` as one numpy array (numpy imported then),
:meth:`RawPlot.column` as Python numbers without numpy, so a small result written as text
(``neurospice sim deck.cir``) starts no faster than it must.
"""

from __future__ import annotations

import os
import re
import sys
from collections import namedtuple

from neurospice.errors import SimulationFailed
from neurospice.fileio import read_bytes

__all__ = ["RawPlot", "RawVariable", "RawColumn", "RawFileError", "read_raw", "parse_raw",
           "RAW_MAX_BYTES"]

RAW_MAX_BYTES = 2 * 1024 ** 3
"""The largest raw file :func:`read_raw` reads (2 GiB); ``max_bytes=`` overrides it."""


class RawFileError(SimulationFailed, ValueError):
    """The bytes are not a complete SPICE3 raw file this reader understands (the message
    says which file and where)."""


class RawVariable(namedtuple("RawVariable", ("index", "name", "type", "params"),
                             defaults=((),))):
    """One column of a plot: its index, name as written, and type (``voltage``, ``time`` ...)."""

    __slots__ = ()


class RawPlot:
    """One plot of a raw file: header fields, variables and its points.

    ``values`` holds the points as read: for a binary plot the bytes of its complete points
    (little-endian float64, point after point), for an ASCII plot one list of numbers per
    point. :attr:`data` decodes them into one (points x variables) numpy array on first use
    (kept as ``decoded``; ``values`` is then None); :meth:`column` gives one variable as
    Python numbers without numpy."""

    def __init__(self, *, title: str, date: str, plotname: str, flags: tuple[str, ...],
                 variables: list[RawVariable], values, n_points: int, declared_points: int,
                 header: dict[str, str] | None = None):
        self.title = title
        self.date = date
        self.plotname = plotname
        self.flags = flags
        self.variables = variables
        self.values = values
        self.n_points = n_points
        self.declared_points = declared_points
        self.header = header if header is not None else {}
        self.decoded = None

    @property
    def is_complex(self) -> bool:
        return "complex" in self.flags

    @property
    def data(self):
        """The points as a (points x variables) numpy array, complex128 for complex plots
        (decoded once, on first use; columns contiguous)."""
        data = self.decoded
        if data is not None:
            return data
        values = self.values
        if values is None:      # another thread decoded them meanwhile
            return self.decoded
        import numpy as np  # noqa: PLC0415 - numpy only where arrays are asked for

        n_vars = len(self.variables)
        if isinstance(values, list):
            dtype = np.complex128 if self.is_complex else np.float64
            data = np.array(values, dtype=dtype).reshape(self.n_points, n_vars)
        else:
            flat = np.frombuffer(values, dtype="<f8")
            if self.is_complex:
                pairs = flat.reshape(self.n_points, n_vars, 2)
                data = pairs[:, :, 0] + 1j * pairs[:, :, 1]
            else:
                data = np.asfortranarray(flat.reshape(self.n_points, n_vars))  # one copy
        self.decoded = data     # first, then the bytes are let go
        self.values = None
        return data

    def column(self, index: int) -> list:
        """Variable ``index``'s values as a list of Python floats (complex for a complex
        plot), decoded without numpy unless :attr:`data` already is."""
        values = self.values
        if values is None or (not isinstance(values, list) and sys.byteorder != "little"):
            return self.data[:, index].tolist()
        if isinstance(values, list):
            return [row[index] for row in values]
        doubles = memoryview(values).cast("d")
        if not self.is_complex:
            return doubles[index::len(self.variables)].tolist()
        step = 2 * len(self.variables)
        return [complex(re, im) for re, im in zip(doubles[2 * index::step].tolist(),
                                                   doubles[2 * index + 1::step].tolist())]

    def __getstate__(self) -> dict:
        """Pickled with its values as bytes (a memoryview does not pickle)."""
        state = dict(self.__dict__)
        if isinstance(state["values"], memoryview):
            state["values"] = state["values"].tobytes()
        return state

    @property
    def truncated(self) -> bool:
        """True when the file held fewer points than its header announced (an aborted run)."""
        return self.n_points < self.declared_points

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def __getitem__(self, name: str):
        """The numpy column of the variable called ``name`` (exact, else any case)."""
        for v in self.variables:
            if v.name == name:
                return self.data[:, v.index]
        lowered = name.lower()
        for v in self.variables:
            if v.name.lower() == lowered:
                return self.data[:, v.index]
        raise KeyError(f"no variable {name!r} in plot {self.plotname!r}; it has {self.names}")

    def __repr__(self) -> str:
        return (f"RawPlot({self.plotname!r}, {len(self.variables)} variables, "
                f"{self.n_points} points{', complex' if self.is_complex else ''})")


class RawColumn:
    """One variable of a :class:`RawPlot`, decoded when used: ``numpy.asarray(column)``
    takes it from the plot's array (decoding the plot once), :meth:`tolist` reads it as
    Python numbers without numpy. With ``real``, the real part only (the axis of a complex
    plot). A Result built from a raw file holds these until its arrays are asked for."""

    __slots__ = ("plot", "index", "real")

    def __init__(self, plot: RawPlot, index: int, real: bool = False):
        self.plot = plot
        self.index = index
        self.real = real

    @property
    def is_complex(self) -> bool:
        return self.plot.is_complex and not self.real

    def __len__(self) -> int:
        return self.plot.n_points

    def tolist(self) -> list:
        values = self.plot.column(self.index)
        return [z.real for z in values] if self.real and self.plot.is_complex else values

    def array(self):
        """The numpy column (a view of the plot's array; the real part, copied, for
        ``real`` in a complex plot)."""
        column = self.plot.data[:, self.index]
        return column.real.copy() if self.real and column.dtype.kind == "c" else column

    def __array__(self, dtype=None, copy=None):
        column = self.array()
        return column if dtype is None else column.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"RawColumn({self.plot.variables[self.index].name!r} of {self.plot!r})"


_HEADER_RE = re.compile(rb"^([A-Za-z][A-Za-z. ]*):[ \t]*(.*)$")


def read_raw(path: str | os.PathLike, *, max_bytes: int = RAW_MAX_BYTES,
             partial: bool = False) -> list[RawPlot]:
    """Read every plot of the raw file at ``path``: a regular file of at most ``max_bytes``
    (checked before reading). Raises :class:`RawFileError` (a SimulationFailed) for a file
    that cannot be read, is too large or is not a complete raw file; ``partial`` as in
    :func:`parse_raw`."""
    where = os.fspath(path)
    blob = read_bytes(path, max_bytes, what="raw file", error=RawFileError,
                      cap_name="the cap on raw files, max_bytes=")
    try:
        return parse_raw(blob, partial=partial)
    except RawFileError as exc:
        raise RawFileError(f"{where}: {exc}") from None


def parse_raw(blob: bytes, *, partial: bool = False) -> list[RawPlot]:
    """Parse the bytes of a raw file into its plots (binary or ASCII, real or complex).

    A plot with fewer points than its header announces raises :class:`RawFileError` unless
    ``partial`` is true; then it is returned with :attr:`RawPlot.truncated` set."""
    plots: list[RawPlot] = []
    pos = 0
    size = len(blob)
    while True:
        # skip blank lines between plots
        while pos < size and blob[pos:pos + 1] in (b"\n", b"\r", b" ", b"\t", b"\x00"):
            pos += 1
        if pos >= size:
            break
        plot, pos = _parse_plot(blob, pos)
        if plot.truncated and not partial:
            raise RawFileError(f"plot {len(plots) + 1} ({plot.plotname!r}) holds "
                               f"{plot.n_points} of the {plot.declared_points} points its "
                               "header announces: the file is truncated")
        plots.append(plot)
    if not plots:
        raise RawFileError("empty raw file (no plot)")
    return plots


def _readline(blob: bytes, pos: int) -> tuple[bytes, int]:
    end = blob.find(b"\n", pos)
    if end < 0:
        return blob[pos:].rstrip(b"\r"), len(blob)
    return blob[pos:end].rstrip(b"\r"), end + 1


def _parse_plot(blob: bytes, pos: int) -> tuple[RawPlot, int]:
    header: dict[str, str] = {}
    variables: list[RawVariable] = []
    n_vars = n_points = None
    mode = None
    while pos < len(blob):
        line, pos = _readline(blob, pos)
        if not line.strip():
            continue
        m = _HEADER_RE.match(line)
        if m is None:
            raise RawFileError(f"unexpected header line {line[:80]!r}")
        key = m.group(1).decode("latin-1").strip().lower()
        value = m.group(2).decode("latin-1").strip()
        if key == "variables":
            if n_vars is None:
                raise RawFileError("'Variables:' before 'No. Variables:'")
            if variables:
                raise RawFileError("two 'Variables:' sections in one plot")
            for i in range(n_vars):
                if pos >= len(blob):
                    raise RawFileError(f"{n_vars} variables announced, the file ends after "
                                       f"{i}: truncated")
                vline, pos = _readline(blob, pos)
                parts = vline.decode("latin-1").split()
                if len(parts) < 3 or parts[0] != str(i):
                    raise RawFileError(f"bad variable line {vline[:80]!r} (expected index "
                                       f"{i}, a name and a type)")
                variables.append(RawVariable(i, parts[1], parts[2].lower(), tuple(parts[3:])))
        elif key in ("binary", "values"):
            mode = key
            break
        else:
            header[key] = value
            if key == "no. variables":
                n_vars = _count(value, key, 1)
            elif key == "no. points":
                n_points = _count(value, key, 0)
    if mode is None:
        raise RawFileError("header without 'Binary:' or 'Values:' section")
    if n_vars is None or n_points is None:
        raise RawFileError("header lacks 'No. Variables' or 'No. Points'")
    if len(variables) != n_vars:
        raise RawFileError(f"{n_vars} variables announced, {len(variables)} listed")
    flags = tuple(header.get("flags", "real").lower().split())
    is_complex = "complex" in flags
    if mode == "binary":
        values, count, pos = _parse_binary(blob, pos, n_vars, n_points, is_complex)
    else:
        values, count, pos = _parse_ascii(blob, pos, n_vars, n_points, is_complex)
    plot = RawPlot(title=header.get("title", ""), date=header.get("date", ""),
                   plotname=header.get("plotname", ""), flags=flags, variables=variables,
                   values=values, n_points=count, declared_points=n_points, header=header)
    return plot, pos


def _count(value: str, key: str, least: int) -> int:
    """A header count: decimal digits only, at least ``least``."""
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise RawFileError(f"'{key}: {value[:40]}' is not a count")
    n = int(value)
    if n < least:
        raise RawFileError(f"'{key}: {value}': at least {least} expected")
    return n


def _parse_binary(blob, pos, n_vars, n_points, is_complex):
    """The bytes of the plot's complete points (decoded later), their count, the end."""
    row_bytes = n_vars * (2 if is_complex else 1) * 8
    available = (len(blob) - pos) // row_bytes
    count = min(n_points, available)
    values = memoryview(blob)[pos:pos + count * row_bytes]
    # a truncated plot is the last thing in the file: what follows is a partial point
    pos = pos + count * row_bytes if count == n_points else len(blob)
    return values, count, pos


def _parse_ascii(blob, pos, n_vars, n_points, is_complex):
    """The plot's points as lists of numbers, their count, the end."""
    rows: list[list] = []
    count = 0
    while count < n_points and pos < len(blob):
        values: list[str] = []
        start = pos
        while len(values) < n_vars + 1 and pos < len(blob):
            line, pos = _readline(blob, pos)
            text = line.decode("latin-1").strip()
            if not text:
                continue
            if not values and _HEADER_RE.match(line.strip()) and ":" in text:
                # next plot begins early: the file held fewer points than announced
                pos = start
                break
            values.extend(text.split())
        if len(values) < n_vars + 1:
            pos = start if len(values) else pos
            break
        if pos == len(blob) and not blob.endswith(b"\n"):
            raise RawFileError(f"the file ends inside point {count} (no final newline): "
                               "truncated")
        if len(values) > n_vars + 1 or values[0] != str(count):
            raise RawFileError(f"point {count}: expected the index {count} and {n_vars} "
                               f"values, found {values[:4]}...")
        try:
            rows.append([_ascii_value(v, is_complex) for v in values[1:]])
        except (ValueError, OverflowError) as exc:
            raise RawFileError(f"bad value in point {count}: {exc}") from None
        count += 1
    return rows, count, pos


_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:nan|inf)",
                     re.IGNORECASE)


def _number(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a number")
    return float(text)


def _ascii_value(text: str, is_complex: bool):
    if "," in text:
        re_part, im_part = text.split(",", 1)
        if not is_complex:
            raise ValueError(f"complex value {text[:40]!r} in a real plot")
        return complex(_number(re_part), _number(im_part))
    return complex(_number(text), 0.0) if is_complex else _number(text)
