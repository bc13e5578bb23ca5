"""Mapping each simulator's vector names and plot names onto neurospice's common ones.

Common names: ``v(node)`` and ``i(element)``, lowercase, hierarchy separated by ``.``; axes
``time``, ``frequency``, ``sweep``. The renaming functions are pure and memoised (a run of a
large circuit renames tens of thousands of vectors, mostly the same names as the last run).

- ngspice writes ``v(out)``, ``i(v1)`` in raw files and ``out``, ``v1#branch`` in memory;
  elements inside subcircuits are ``v.x1.v2`` (type letter first), nodes ``x1.mid``. Its
  map is :func:`neurospice.netlists.values.ngspice_name`, below the simulators because a
  deck's ``.save`` cards spell vectors the same way.
- VACASK writes ``out``, ``v1:flow(br)``, hierarchy ``x1:mid``; a dc sweep is an ``op``
  analysis whose first vector is named after the sweep.
- Xyce writes ``TIME``, ``V(OUT)``, ``I(V1)``, hierarchy ``X1:MID``.
- A resistor's saved current is ngspice's ``@r1[i]`` (``@r.x1.r1[i]`` inside x1) and
  VACASK's ``r1.i`` (``x1:r1.i``): ``i(r1)`` (``i(x1.r1)``).
"""

from __future__ import annotations

import re
from functools import lru_cache


from .rawfile import RawColumn, RawPlot
from .result import AXIS_OF_KIND, Result

_PLOT_KINDS = (
    ("operating point", "op"),
    ("dc transfer", "dc"),
    ("dc sweep", "dc"),
    ("ac ", "ac"),
    ("transient", "tran"),
    ("noise", "noise"),
)


def kind_of_plotname(plotname: str) -> str | None:
    low = plotname.lower() + " "
    for key, kind in _PLOT_KINDS:
        if key in low:
            return kind
    return None


@lru_cache(maxsize=1 << 16)
def vacask_name(raw: str, vtype: str = "") -> str:
    """VACASK vector name -> common name."""
    n = raw.strip().lower()
    if n in ("time", "frequency"):
        return n
    if n.startswith("n(") or n in ("onoise", "inoise", "gain"):
        return n.replace(":", ".")
    if n.endswith(".i"):    # a resistor's current saved as p(r1, i) (VACASK writes r1.i)
        return f"i({n[:-2].replace(':', '.')})"
    m = re.fullmatch(r"(.+):flow\((.+)\)", n)
    if m:
        inst, branch = m.group(1).replace(":", "."), m.group(2)
        # "br": a source's branch; "t0,t1": the port branch of the Verilog-A module that
        # renders a behavioral voltage source (netlists.writers.BehavioralWrapper)
        if branch == "br" or re.fullmatch(r"(_*)t0,\1t1", branch):
            return f"i({inst})"
        return f"i({inst}.{branch})"
    return f"v({n.replace(':', '.')})"


@lru_cache(maxsize=1 << 16)
def xyce_name(raw: str, vtype: str = "") -> str:
    """Xyce vector name -> common name."""
    n = raw.strip().lower().replace(":", ".")
    if n in ("time", "frequency"):
        return n
    if n.startswith(("v(", "i(")):
        return n
    if vtype == "voltage":
        return f"v({n})"
    if vtype == "current":
        return f"i({n})"
    return n


def plot_to_result(plot: RawPlot, kind: str, rename, *, name: str | None = None,
                   sweep_var: str | None = None, netlist: str = "", log: str = "",
                   simulator: str = "") -> Result:
    """Build a Result from a raw plot, renaming its vectors with ``rename(name, type)``.

    For a dc result the sweep vector (``sweep_var``, else the first one) becomes ``sweep``.
    The vectors are the plot's :class:`~neurospice.simulators.rawfile.RawColumn` s, decoded
    when the Result's arrays are first used (the axis of a complex plot: its real part).
    """
    vectors: dict[str, RawColumn] = {}
    units: dict[str, str] = {}
    axis = AXIS_OF_KIND[kind]
    for var in plot.variables:
        if kind == "dc" and (var.name == sweep_var or (sweep_var is None and var.index == 0)):
            common = "sweep"
            units["sweep"] = _sweep_unit(var.name, var.type)
        else:
            common = rename(var.name, var.type)
        if common in vectors:  # two raw names mapping to one: keep the first
            continue
        vectors[common] = RawColumn(plot, var.index, real=common == axis)
        if var.type == "voltage" and not common.startswith("v("):
            units[common] = "V"
        elif var.type == "current" and not common.startswith("i("):
            units[common] = "A"
    if axis is not None and axis not in vectors and plot.variables:
        first = plot.variables[0]
        vectors = {axis: RawColumn(plot, 0, real=True),
                   **{k: v for k, v in vectors.items() if k != rename(first.name, first.type)}}
    return Result(kind, vectors, name=name, units=units, netlist=netlist, log=log,
                  simulator=simulator)


def _sweep_unit(name: str, vtype: str) -> str:
    n = name.lower()
    if vtype == "voltage" or n.startswith("v"):
        return "V"
    if vtype == "current" or n.startswith("i"):
        return "A"
    if "temp" in n:
        return "degC"
    return ""


def _power_law_integral(f, psd) -> float:
    """Integral of a power spectral density over frequency, each interval taken as a power
    law between its end points (as ngspice integrates noise; exact for 1/f and white)."""
    import numpy as np  # noqa: PLC0415 - noise results only
    total = 0.0
    for f1, f2, n1, n2 in zip(f[:-1], f[1:], psd[:-1], psd[1:]):
        if not (n1 > 0 and n2 > 0 and f1 > 0 and f2 > f1):
            total += 0.5 * (n1 + n2) * (f2 - f1)
            continue
        ratio = f2 / f1
        e = np.log(n2 / n1) / np.log(ratio)
        total += n1 * f1 * (np.log(ratio) if abs(e + 1) < 1e-10
                            else (ratio ** (e + 1) - 1) / (e + 1))
    return float(total)


def normalize_noise(result: Result) -> Result:
    """One noise result for every simulator: ``onoise_spectrum`` and ``inoise_spectrum`` as
    spectral densities (V or A per sqrt(Hz): VACASK's ``onoise`` is a power density and its
    ``gain`` a power gain), and ``meta["integrated"]``: ``onoise_total`` and ``inoise_total``,
    the RMS over the analysed band, integrated here from the spectra the same way for all
    (ngspice's own totals are kept as ``meta["integrated_by_simulator"]``). Returns a new
    Result; ``result`` is left as it was."""
    import numpy as np  # noqa: PLC0415 - noise results only
    vec = dict(result.vectors)
    units = dict(result.units)
    meta = dict(result.meta)
    if "onoise" in vec and "onoise_spectrum" not in vec:
        power = np.abs(vec.pop("onoise"))
        units.pop("onoise", None)
        vec["onoise_spectrum"] = np.sqrt(power)
        gain = np.abs(vec.get("gain", np.zeros_like(power)))
        if np.all(gain > 0):
            vec["inoise_spectrum"] = np.sqrt(power / gain)
    if "integrated" in meta:
        meta["integrated_by_simulator"] = meta.pop("integrated")
    f = np.real(result.axis)
    meta["integrated"] = {
        name.replace("_spectrum", "_total"): float(np.sqrt(_power_law_integral(
            f, np.abs(vec[name]) ** 2)))
        for name in ("onoise_spectrum", "inoise_spectrum") if name in vec}
    spectra = {name: "" for name in ("onoise_spectrum", "inoise_spectrum") if name in vec}
    out = Result(result.kind, vec, name=result.name, units={**units, **spectra},
                 netlist=result.netlist, log=result.log, simulator=result.simulator, meta=meta)
    out.units.update(spectra)   # '' is a unit here (V or A per sqrt(Hz), told by the data)
    return out
