"""Calibration of compact models on measured data.

:mod:`neurospice.calibration.data` loads measured files (I-V sweeps, transients, RF spectra,
oscillator curves) into SI numpy arrays with typed errors; see its docstring for the
canonical names and options.
"""

from .data import (
    IVSweep,
    Measurement,
    OscillatorCurve,
    PulseRamp,
    Spectrum,
    Transient,
    load_iv,
    load_oscillator,
    load_pulse_updates,
    load_spectrum,
    load_spin_diode_sweeps,
    load_table,
    load_transient,
)
from ._table import Report, Table

__all__ = [
    "IVSweep", "Measurement", "OscillatorCurve", "PulseRamp", "Report", "Spectrum", "Table",
    "Transient", "load_iv", "load_oscillator", "load_pulse_updates", "load_spectrum",
    "load_spin_diode_sweeps", "load_table", "load_transient",
]
