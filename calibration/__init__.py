"""Calibration of compact models on measured data.

:mod:`neurospice.calibration.data` loads measured files (I-V sweeps, transients, RF spectra,
oscillator curves) into SI numpy arrays with typed errors; see its docstring for the
canonical names and options.

Fitting: :mod:`.fit` (the engine: :class:`Model`, :class:`Dataset`, :class:`Fit`,
:class:`FitResult`), :mod:`.recipes` (per device family, returning a :class:`Calibration`),
:mod:`.report` (JSON, model cards, Markdown, PNG plots), :mod:`.cli` (``neurospice fit``).
lmfit, scipy and matplotlib are imported only when a fit runs or a plot is drawn.
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
from .fit import Dataset, Fit, FitResult, Model, Param
from .recipes import (
    RECIPES,
    Calibration,
    Verification,
    fit_mtj_rv,
    fit_spin_diode_field,
    fit_spin_diode_spectrum,
    fit_spin_diode_trace,
    fit_stno,
    get_recipe,
    verify_mtj,
)
from .recipe_nbox import fit_nbox_iv
from .report import write_outputs

__all__ = [
    "IVSweep", "Measurement", "OscillatorCurve", "PulseRamp", "Report", "Spectrum", "Table",
    "Transient", "load_iv", "load_oscillator", "load_pulse_updates", "load_spectrum",
    "load_spin_diode_sweeps", "load_table", "load_transient",
    "Dataset", "Fit", "FitResult", "Model", "Param", "RECIPES", "Calibration", "Verification",
    "fit_mtj_rv", "fit_spin_diode_field", "fit_spin_diode_spectrum", "fit_spin_diode_trace",
    "fit_stno", "get_recipe", "verify_mtj", "write_outputs", "fit_nbox_iv",
]
