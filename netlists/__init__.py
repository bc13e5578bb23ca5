"""Declarative circuits rendered per dialect (ngspice, Xyce, VACASK; see ``dialects``).

>>> from neurospice.netlists import Circuit, Pulse
>>> c = Circuit("rc")
>>> c.vsource("in", "a", "0", waveform=Pulse(0.0, 1.0, width=1e-3))  # doctest: +ELLIPSIS
VoltageSource(...)
"""

from neurospice.netlists.circuit import (  # noqa: F401
    CCCS, CCVS, VCCS, VCVS, Ac, Analysis, BehavioralSource, Bjt, Capacitor, Circuit,
    CurrentSource, Dc, Diode, Element, Exp, Inductor, Model, Mosfet, MutualInductance, Noise, Op,
    Pulse, Pwl, Resistor, Sine, Subcircuit, SubcircuitInstance, Tran, VerilogAInstance,
    VerilogAModel, VoltageSource)
from neurospice.netlists.expr import Expression  # noqa: F401
from neurospice.netlists.dialects import DIALECTS, NETLIST_DIALECTS  # noqa: F401
from neurospice.netlists.writers import Rendered  # noqa: F401
