"""neurospice: SPICE-level compact models for neuromorphic nano-devices and their circuits.

Subpackages (each imported only when asked for; nothing runs at import time):

- ``neurospice.netlists``: declarative circuits rendered for ngspice, Xyce and VACASK;
- ``neurospice.simulators``: one small interface to ngspice, VACASK and Xyce, returning ``Result``;
- ``neurospice.compact_models``: device models, defined once and rendered four ways;
- ``neurospice.calibration``: lmfit fits of the models to measured data;
- ``neurospice.analysis``: waveform analysis; plotting lives in ``neurospice.analysis.plots``.
- ``neurospice.circuits``: circuit generators (neurons, crossbars, RF networks, the Bayesian
  machine);
- ``neurospice.learning``: device-aware training on the device models;
- ``neurospice.datasets``: the shipped measured data sets; ``neurospice.demo``: the showcase.

The layers and what each may import: docs/architecture.md.
"""

__version__ = "0.1.0"
