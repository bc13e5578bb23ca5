"""Declarative circuits rendered per dialect (ngspice, Xyce, VACASK; see ``dialects``).

>>> from neurospice.netlists import Circuit, Pulse
>>> c = Circuit("rc")
>>> c.vsource("in", "a", "0", waveform=Pulse(0.0, 1.0, width=1e-3))  # doctest: +ELLIPSIS
VoltageSource(...)

Every name above is imported from its submodule on first use: importing this package (or
its light modules, :mod:`~neurospice.netlists.dialects` and
:mod:`~neurospice.netlists.values`) does not build the Circuit classes or import numpy, so
``neurospice sim`` on a deck file starts without them.
"""

import importlib

# public name -> the submodule that defines it, imported on first use of the name
_WHERE = {
    **dict.fromkeys((
        "CCCS", "CCVS", "VCCS", "VCVS", "Ac", "Analysis", "BehavioralSource", "Bjt",
        "Capacitor", "Circuit", "CurrentSource", "Dc", "Diode", "Element", "Exp", "Inductor",
        "Model", "Mosfet", "MutualInductance", "Noise", "Op", "Pulse", "Pwl", "Resistor",
        "Sine", "Subcircuit", "SubcircuitInstance", "Tran", "VerilogAInstance",
        "VerilogAModel", "VoltageSource"), "circuit"),
    "Expression": "expr",
    "DIALECTS": "dialects",
    "NETLIST_DIALECTS": "dialects",
    "Rendered": "writers",
}

__all__ = list(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is not None:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
