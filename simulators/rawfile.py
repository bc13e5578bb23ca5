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

Only numpy is needed; nothing is imported from the simulators.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RawPlot", "RawVariable", "RawFileError", "read_raw", "parse_raw"]


class RawFileError(ValueError):
    """The bytes are not a SPICE3 raw file this reader understands (the message says where)."""


@dataclass(frozen=True)
class RawVariable:
    """One column of a plot: its index, name as written, and type (``voltage``, ``time`` ...)."""

    index: int
    name: str
    type: str
    params: tuple[str, ...] = ()


@dataclass
class RawPlot:
    """One plot of a raw file: header fields, variables and a (points x variables) array."""

    title: str
    date: str
    plotname: str
    flags: tuple[str, ...]
    variables: list[RawVariable]
    data: np.ndarray  # shape (points, variables); complex128 for complex plots
    declared_points: int
    header: dict[str, str] = field(default_factory=dict)

    @property
    def is_complex(self) -> bool:
        return "complex" in self.flags

    @property
    def n_points(self) -> int:
        return int(self.data.shape[0])

    @property
    def truncated(self) -> bool:
        """True when the file held fewer points than its header announced (an aborted run)."""
        return self.n_points < self.declared_points

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def __getitem__(self, name: str) -> np.ndarray:
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


_HEADER_RE = re.compile(rb"^([A-Za-z][A-Za-z. ]*):[ \t]*(.*)$")


def read_raw(path: str | os.PathLike) -> list[RawPlot]:
    """Read every plot of the raw file at ``path``."""
    with open(path, "rb") as fh:
        blob = fh.read()
    try:
        return parse_raw(blob)
    except RawFileError as exc:
        raise RawFileError(f"{os.fspath(path)}: {exc}") from None


def parse_raw(blob: bytes) -> list[RawPlot]:
    """Parse the bytes of a raw file into its plots (binary or ASCII, real or complex)."""
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
            for _ in range(n_vars):
                vline, pos = _readline(blob, pos)
                parts = vline.decode("latin-1").split()
                if len(parts) < 3:
                    raise RawFileError(f"bad variable line {vline[:80]!r}")
                variables.append(RawVariable(int(parts[0]), parts[1], parts[2].lower(),
                                             tuple(parts[3:])))
        elif key in ("binary", "values"):
            mode = key
            break
        else:
            header[key] = value
            if key == "no. variables":
                n_vars = int(value)
            elif key == "no. points":
                n_points = int(value)
    if mode is None:
        raise RawFileError("header without 'Binary:' or 'Values:' section")
    if n_vars is None or n_points is None:
        raise RawFileError("header lacks 'No. Variables' or 'No. Points'")
    if len(variables) != n_vars:
        raise RawFileError(f"{n_vars} variables announced, {len(variables)} listed")
    flags = tuple(header.get("flags", "real").lower().split())
    is_complex = "complex" in flags
    if mode == "binary":
        data, pos = _parse_binary(blob, pos, n_vars, n_points, is_complex, flags)
    else:
        data, pos = _parse_ascii(blob, pos, n_vars, n_points, is_complex)
    plot = RawPlot(title=header.get("title", ""), date=header.get("date", ""),
                   plotname=header.get("plotname", ""), flags=flags, variables=variables,
                   data=data, declared_points=n_points, header=header)
    return plot, pos


def _parse_binary(blob, pos, n_vars, n_points, is_complex, flags):
    width = 2 if is_complex else 1
    row_items = n_vars * width
    row_bytes = row_items * 8
    available = (len(blob) - pos) // row_bytes
    count = min(n_points, available)
    flat = np.frombuffer(blob, dtype="<f8", count=count * row_items, offset=pos)
    # a truncated plot is the last thing in the file: what follows is a partial point
    pos = pos + count * row_bytes if count == n_points else len(blob)
    if is_complex:
        pairs = flat.reshape(count, n_vars, 2)
        data = pairs[:, :, 0] + 1j * pairs[:, :, 1]
    else:
        data = np.asfortranarray(flat.reshape(count, n_vars))  # one copy; contiguous columns
    return data, pos


def _parse_ascii(blob, pos, n_vars, n_points, is_complex):
    dtype = np.complex128 if is_complex else np.float64
    data = np.zeros((n_points, n_vars), dtype=dtype)
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
        try:
            row = [_ascii_value(v, is_complex) for v in values[1:n_vars + 1]]
        except ValueError as exc:
            raise RawFileError(f"bad value in point {count}: {exc}") from None
        data[count] = row
        count += 1
    return data[:count], pos


def _ascii_value(text: str, is_complex: bool):
    if "," in text:
        re_part, im_part = text.split(",", 1)
        return complex(float(re_part), float(im_part))
    return complex(float(text), 0.0) if is_complex else float(text)
