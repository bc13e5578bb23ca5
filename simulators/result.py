"""Simulation results: one ``Result`` per analysis, gathered in a ``Results`` sequence.

Whichever simulator produced them, the names are the same: node voltages ``v(node)``, branch
currents ``i(element)``, all lowercase, hierarchy separated by ``.`` (``v(x1.mid)``,
``i(x1.v2)``); the axis is ``time`` (tran), ``frequency`` (ac, noise) or ``sweep`` (dc).
A device quantity other than a current of its own (ngspice's ``.options savecurrents``
keeps a diode's ``@d1[id]``, a MOSFET's ``@m1[id]``...) keeps ngspice's spelling, the element
named as in ``i()`` (``@x1.m2[ig]``); looked up by ngspice's spelling, ``@r1[i]`` is
``i(r1)``. AC arrays are complex. A ``Result`` is a read-only mapping of those names to arrays; it is
written to and read back from .csv, .h5 and .nc files by :mod:`neurospice.simulators.results_io`.
A Result read from a raw file decodes its vectors when they are first used as arrays (numpy
is imported then); written straight to CSV, it needs no numpy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from neurospice.fileio import atomic_path
from neurospice.netlists.values import ngspice_name

from .rawfile import RawColumn

__all__ = ["Result", "Results", "KINDS", "AXIS_OF_KIND"]

KINDS = ("op", "dc", "ac", "tran", "noise")
AXIS_OF_KIND = {"op": None, "dc": "sweep", "ac": "frequency", "tran": "time",
                "noise": "frequency"}


# the terminal currents .options savecurrents keeps: @d1[id], @m1[ig], @q1[ic]...
_DEVICE_CURRENT = re.compile(r"@[^\[\]]+\[i[a-z]?\]")


def unit_of(name: str) -> str:
    """The SI unit of a normalised vector name ('' where it cannot be told)."""
    if name.startswith("v("):
        return "V"
    if name.startswith("i(") or (name.startswith("@") and _DEVICE_CURRENT.fullmatch(name)):
        return "A"
    if name == "time":
        return "s"
    if name == "frequency":
        return "Hz"
    return ""


class Result(Mapping):
    """The vectors of one analysis, by name: a read-only mapping of name -> numpy array.

    ``kind`` is one of op, dc, ac, tran, noise; ``name`` the analysis name (``tran1``) where
    known; ``axis`` the independent variable (``None`` for op); ``r["v(out)"]``, ``r.v("out")``
    and ``r.i("v1")`` return numpy arrays (length 1 for op). As a mapping: ``r.keys()``,
    ``r.values()``, ``r.items()``, ``r.get(name)``, ``for name in r``, ``len(r)`` (the
    number of vectors, axis included; :attr:`n_points` is the number of points) and
    ``name in r`` (which also accepts the lookup's spellings: ``"out"`` for ``"v(out)"``,
    any case, ``:`` for ``.``). Two Results are equal only when they are the same object.
    """

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, kind: str, vectors: Mapping, *, name: str | None = None,
                 units: Mapping[str, str] | None = None, netlist: str = "", log: str = "",
                 simulator: str = "", meta: Mapping | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown analysis kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.name = name or kind
        self._vectors = dict(vectors)
        self._decoded = False
        # columns of a raw file stay undecoded until an array is asked for; others: now
        if not all(isinstance(v, RawColumn) for v in self._vectors.values()):
            self._arrays()
        self.axis_name = AXIS_OF_KIND[kind]
        if self.axis_name is not None and self.axis_name not in self._vectors:
            raise ValueError(f"{kind} result without its axis {self.axis_name!r}")
        self.units = {n: unit_of(n) for n in self._vectors}
        if units:
            self.units.update({k: v for k, v in units.items() if k in self._vectors and v})
        self.netlist = netlist
        self.log = log
        self.simulator = simulator
        self.meta = dict(meta or {})
        self.measurements: dict[str, float] = {}  # .meas results taken from this one

    # ---- access -------------------------------------------------------------------------
    def _arrays(self) -> dict:
        """The vectors as numpy arrays (raw-file columns decoded on the first call)."""
        if not self._decoded:
            import numpy as np  # noqa: PLC0415 - the first use of the arrays

            self._vectors = {k: v.array() if type(v) is RawColumn else np.asarray(v)
                             for k, v in self._vectors.items()}
            self._decoded = True
        return self._vectors

    def __getstate__(self) -> dict:
        """Pickled (to another process) with its arrays, not the raw file's columns."""
        self._arrays()
        return self.__dict__

    @property
    def vectors(self) -> Mapping:
        """All vectors by their common name, in the simulator's order (a read-only view)."""
        return MappingProxyType(self._arrays())

    @property
    def names(self) -> list[str]:
        return list(self._vectors)

    @property
    def axis(self):
        """The axis vector (a numpy array), None for op."""
        return None if self.axis_name is None else self._arrays()[self.axis_name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def _lookup(self, name: str) -> str | None:
        key = name.strip().lower().replace(":", ".")
        if key in self._vectors:
            return key
        if key.startswith("@"):     # ngspice's spelling: @r1[i] is i(r1)
            common = ngspice_name(key)
            return common if common in self._vectors else None
        if "(" not in key and f"v({key})" in self._vectors:
            return f"v({key})"
        return None

    def __getitem__(self, name: str):
        key = self._lookup(name)
        if key is None:
            raise KeyError(f"{self.simulator or 'simulator'} {self.kind} result {self.name!r} "
                           f"has no vector {name!r}; it has: {', '.join(self.names)}")
        return self._arrays()[key]

    def v(self, node: str, ref: str | None = None):
        """Voltage of ``node`` (minus that of ``ref`` when given)."""
        value = self[f"v({node.lower()})"]
        if ref is not None and ref not in ("0", "gnd"):
            value = value - self[f"v({ref.lower()})"]
        return value

    def i(self, element: str):
        """Branch current of ``element`` (SPICE sign: into its first terminal)."""
        return self[f"i({element.lower()})"]

    def scalar(self, name: str) -> float | complex:
        """The single value of an op vector (or the last point of any other)."""
        arr = self[name]
        return arr.reshape(-1)[-1].item()

    def __iter__(self):
        return iter(self._vectors)

    def __len__(self) -> int:
        """The number of vectors (the mapping's size); see :attr:`n_points`."""
        return len(self._vectors)

    @property
    def n_points(self) -> int:
        """The number of points of each vector (1 for op, 0 when there are no vectors)."""
        return 0 if not self._vectors else len(next(iter(self._vectors.values())))

    def __repr__(self) -> str:
        return (f"<Result {self.kind} {self.name!r} from {self.simulator or '?'}: "
                f"{self.n_points} points, {len(self._vectors)} vectors>")

    # ---- export -------------------------------------------------------------------------
    def _columns(self):
        """The CSV's headers and columns (lists of numbers; complex vectors as two)."""
        cols, headers = [], []
        for n, arr in self._vectors.items():
            unit = self.units.get(n, "")
            suffix = f" [{unit}]" if unit else ""
            values = arr.tolist() if isinstance(arr, RawColumn) else arr.reshape(-1).tolist()
            if arr.is_complex if isinstance(arr, RawColumn) else arr.dtype.kind == "c":
                cols += [[z.real for z in values], [z.imag for z in values]]
                headers += [f"re({n}){suffix}", f"im({n}){suffix}"]
            else:
                cols.append(values)
                headers.append(f"{n}{suffix}")
        return cols, headers

    def to_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write all vectors to ``path`` (full precision, ``%.17g``, units in the header),
        atomically.

        Complex vectors become two columns, ``re(name)`` and ``im(name)``. An existing file is
        replaced only with ``overwrite`` (else OutputExists); a failed write raises
        OutputError naming the path. Vectors of unequal length raise ValueError.
        """
        cols, headers = self._columns()
        line = ",".join(["%.17g"] * len(cols)) + "\n"
        with atomic_path(path, overwrite=overwrite) as tmp:
            with open(tmp, "w", newline="") as fh:
                fh.write(",".join(headers) + "\n")
                fh.writelines(line % row for row in zip(*cols, strict=True))
        return Path(path)

    def to_dataframe(self):
        """A pandas DataFrame of all vectors, indexed by the axis (pandas imported here)."""
        import pandas as pd  # noqa: PLC0415 - lazy on purpose

        data = {n: a for n, a in self._arrays().items() if n != self.axis_name}
        index = pd.Index(self.axis, name=self.axis_name) if self.axis_name else None
        return pd.DataFrame(data, index=index)


class Results(Sequence):
    """The results of one run: one ``Result`` per analysis, in the order they were asked for.

    ``results.tran`` (and ``.op``, ``.dc``, ``.ac``, ``.noise``) is the single result of that
    kind; ``results["tran1"]`` looks one up by analysis name.
    """

    def __init__(self, results: Sequence[Result], *, netlist: str = "", log: str = "",
                 simulator: str = "", workdir: Path | None = None):
        self._results = list(results)
        self.netlist = netlist
        self.log = log
        self.simulator = simulator
        self.workdir = workdir
        # .meas results of the run, name -> value (NaN: failed); see simulators.measure
        self.measurements: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._results)

    def __getitem__(self, key):
        if isinstance(key, str):
            for r in self._results:
                if r.name == key:
                    return r
            raise KeyError(f"no analysis named {key!r}; have {[r.name for r in self._results]}")
        return self._results[key]

    def of_kind(self, kind: str) -> list[Result]:
        return [r for r in self._results if r.kind == kind]

    def _single(self, kind: str) -> Result:
        found = self.of_kind(kind)
        if not found:
            raise KeyError(f"no {kind} analysis in these results (have: "
                           f"{', '.join(r.kind for r in self._results) or 'none'})")
        if len(found) > 1:
            raise ValueError(f"{len(found)} {kind} analyses ({', '.join(r.name for r in found)});"
                             f" pick one by name, e.g. results[{found[0].name!r}]")
        return found[0]

    op = property(lambda self: self._single("op"), doc="The single op result.")
    dc = property(lambda self: self._single("dc"), doc="The single dc-sweep result.")
    ac = property(lambda self: self._single("ac"), doc="The single ac result.")
    tran = property(lambda self: self._single("tran"), doc="The single transient result.")
    noise = property(lambda self: self._single("noise"), doc="The single noise result.")

    def __repr__(self) -> str:
        inner = ", ".join(f"{r.kind}:{r.name}" for r in self._results)
        return f"<Results from {self.simulator or '?'}: [{inner}]>"
