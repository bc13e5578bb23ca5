"""Results out to files and back in: one run's ``Result`` as .csv, .h5 or .nc; a sweep's or
Monte-Carlo's labelled N-D ``xarray.Dataset`` as .h5 or .nc.

>>> save_result(results.tran, "run.nc")            # or .h5, .csv
>>> load_result("run.nc")                          # -> Result
>>> save_result(sweep(make_rc, {"r": [1e3, 2e3]}), "sweep.h5")
>>> load_result("sweep.h5")                        # -> xarray.Dataset

The .nc and .h5 files are both netCDF-4, which is HDF5: written through xarray's ``h5netcdf``
engine, readable by netCDF tools, h5py and xarray alike. netCDF has no complex numbers, so a
complex variable ``v(out)`` is stored as two real variables ``re(v(out))`` and ``im(v(out))``
(as in the CSV) and joined again on reading. A Result's file keeps its kind, analysis name,
simulator, units, netlist and log; a CSV keeps the names and units only (its header is
``time [s],v(out) [V],...``, which ``neurospice.calibration.data`` reads without a column
map), so its kind is told from its columns: ``time`` -> tran, ``sweep`` -> dc, ``frequency``
-> ac with complex columns, else noise, no axis -> op.

xarray (and h5netcdf) are imported when a file is written or read, never at import time;
numpy when an array is built (a Result read from a raw file goes to CSV without it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from neurospice.errors import DataError
from neurospice.fileio import atomic_path

from .result import AXIS_OF_KIND, Result

__all__ = ["save_result", "load_result", "result_to_dataset", "dataset_to_result",
           "FORMATS"]

FORMATS = (".csv", ".h5", ".nc")
"""The file suffixes :func:`save_result` writes and :func:`load_result` reads."""

_TYPE_ATTR = "neurospice_type"      # "result" (one run) or "sweep" (a labelled N-D set)
_COMPLEX_ATTR = "complex_part"      # "re" / "im" on the two halves of a complex variable
_OP_DIM = "point"                   # the dimension of an op result's length-1 vectors


def _suffix(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{os.fspath(path)}: unknown result format {suffix or '(none)'!r}; "
                        f"use one of {', '.join(FORMATS)}")
    return suffix


def _xarray():
    try:
        import xarray  # noqa: PLC0415 - heavy, imported when a file is written or read
    except ImportError:
        raise DataError("writing or reading .h5/.nc results needs xarray and h5netcdf "
                        "(pip install xarray h5netcdf)") from None
    return xarray


# ---- Result <-> Dataset -------------------------------------------------------------------
def result_to_dataset(result: Result):
    """One run's Result as an xarray Dataset: its axis (``time``, ``frequency``, ``sweep``; a
    length-1 ``point`` dimension for op) as the dimension and coordinate, every other vector a
    variable with a ``units`` attribute; kind, name, simulator, netlist and log as attributes."""
    import numpy as np  # noqa: PLC0415

    xr = _xarray()
    dim = result.axis_name or _OP_DIM
    data_vars = {n: ((dim,), np.asarray(a), {"units": result.units.get(n, "")})
                 for n, a in result.items() if n != result.axis_name}
    coords = {}
    if result.axis_name:
        coords[dim] = ((dim,), np.asarray(result.axis),
                       {"units": result.units.get(dim, "")})
    return xr.Dataset(data_vars, coords=coords, attrs={
        _TYPE_ATTR: "result", "kind": result.kind, "name": result.name,
        "simulator": result.simulator, "netlist": result.netlist, "log": result.log})


def dataset_to_result(ds) -> Result:
    """The Result a :func:`result_to_dataset` Dataset holds (complex halves joined)."""
    ds = _join_complex(ds)
    kind = str(ds.attrs.get("kind", ""))
    if kind not in AXIS_OF_KIND:
        raise DataError(f"the dataset's kind {kind!r} is not an analysis kind")
    axis = AXIS_OF_KIND[kind]
    vectors, units = {}, {}
    if axis is not None:
        if axis not in ds.coords:
            raise DataError(f"a {kind} result without its axis {axis!r}")
        vectors[axis] = ds[axis].values
        units[axis] = str(ds[axis].attrs.get("units", ""))
    for name, var in ds.data_vars.items():
        vectors[str(name)] = var.values
        units[str(name)] = str(var.attrs.get("units", ""))
    return Result(kind, vectors, name=str(ds.attrs.get("name", "")) or None, units=units,
                  netlist=str(ds.attrs.get("netlist", "")), log=str(ds.attrs.get("log", "")),
                  simulator=str(ds.attrs.get("simulator", "")))


def _split_complex(ds):
    """Each complex variable as two real ones, ``re(name)`` and ``im(name)``."""
    import numpy as np  # noqa: PLC0415
    out = ds.copy()
    for name in list(ds.data_vars):
        var = ds[name]
        if np.iscomplexobj(var.values):
            for part, values in (("re", var.values.real), ("im", var.values.imag)):
                out[f"{part}({name})"] = (var.dims, values,
                                          {**var.attrs, _COMPLEX_ATTR: part})
            out = out.drop_vars(name)
    return out


def _join_complex(ds):
    """Undo :func:`_split_complex`."""
    out = ds
    for name in list(ds.data_vars):
        var = ds[name]
        m = re.fullmatch(r"re\((.+)\)", str(name))
        if var.attrs.get(_COMPLEX_ATTR) != "re" or not m or f"im({m[1]})" not in ds:
            continue
        imag = ds[f"im({m[1]})"]
        attrs = {k: v for k, v in var.attrs.items() if k != _COMPLEX_ATTR}
        out = out.drop_vars([name, f"im({m[1]})"])
        out[m[1]] = (var.dims, var.values + 1j * imag.values, attrs)
    return out


# ---- files --------------------------------------------------------------------------------
def save_result(obj, path, *, overwrite: bool = False) -> Path:
    """Write a Result (.csv, .h5, .nc) or a sweep's Dataset (.h5, .nc) to ``path``, atomically.

    An existing file is replaced only with ``overwrite`` (else OutputExists); a failed write
    raises OutputError naming the path; an unknown suffix, or a Dataset to .csv, DataError."""
    suffix = _suffix(path)
    if isinstance(obj, Result):
        if suffix == ".csv":
            return obj.to_csv(path, overwrite=overwrite)
        ds = result_to_dataset(obj)
    else:
        if suffix == ".csv":
            raise DataError(f"{os.fspath(path)}: a sweep's labelled N-D results go to .h5 or "
                            ".nc, not .csv")
        ds = obj
    ds = _split_complex(ds)
    with atomic_path(path, overwrite=overwrite) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def load_result(path):
    """Read back what :func:`save_result` (or ``neurospice sim --out``/``neurospice sweep``)
    wrote: a .csv or a one-run .h5/.nc as a :class:`Result`, a sweep's or Monte-Carlo's
    .h5/.nc as an ``xarray.Dataset`` (loaded into memory, the file closed). A file that is
    not such a result raises DataError naming it."""
    where = os.fspath(path)
    suffix = _suffix(path)
    if suffix == ".csv":
        return _read_csv(Path(path))
    xr = _xarray()
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
    except (OSError, ValueError) as exc:
        raise DataError(f"{where}: not a readable netCDF-4/HDF5 result ({exc})") from None
    kind = ds.attrs.get(_TYPE_ATTR)
    if kind == "result":
        try:
            return dataset_to_result(ds)
        except (DataError, ValueError) as exc:
            raise DataError(f"{where}: {exc}") from None
    if kind == "sweep":
        return _join_complex(ds)
    raise DataError(f"{where}: not a neurospice result (no {_TYPE_ATTR!r} attribute)")


_HEADER = re.compile(r"^(?P<name>.*?)(?: \[(?P<unit>[^\]]*)\])?$")


def _read_csv(path: Path) -> Result:
    import numpy as np  # noqa: PLC0415

    from neurospice.fileio import read_text  # noqa: PLC0415 - only for CSV

    text = read_text(path, what="result CSV", error=DataError)
    lines = text.splitlines()
    if not lines:
        raise DataError(f"{path}: empty result CSV")
    names, units = [], {}
    for cell in lines[0].split(","):
        m = _HEADER.match(cell.strip())
        names.append(m["name"])
        units[m["name"]] = m["unit"] or ""
    try:
        table = np.loadtxt(lines[1:], delimiter=",", ndmin=2, dtype=float) if lines[1:] \
            else np.zeros((0, len(names)))
    except ValueError as exc:
        raise DataError(f"{path}: not a neurospice result CSV ({exc})") from None
    if table.shape[1] != len(names):
        raise DataError(f"{path}: {table.shape[1]} columns of numbers under {len(names)} "
                        "headers")
    vectors = {}
    for k, name in enumerate(names):
        m = re.fullmatch(r"(re|im)\((.+)\)", name)
        if m and m[1] == "im" and f"re({m[2]})" in names:
            continue
        if m and m[1] == "re" and f"im({m[2]})" in names:
            vectors[m[2]] = table[:, k] + 1j * table[:, names.index(f"im({m[2]})")]
            units[m[2]] = units[name]
        else:
            vectors[name] = table[:, k]
    if len(vectors) != len(set(vectors)):
        raise DataError(f"{path}: repeated column names")
    has_complex = any(np.iscomplexobj(v) for v in vectors.values())
    kind = ("tran" if "time" in vectors else "dc" if "sweep" in vectors
            else ("ac" if has_complex else "noise") if "frequency" in vectors else "op")
    return Result(kind, vectors, units=units)
