"""Calibration of compact models on measured data.

:mod:`neurospice.calibration.data` loads measured files (I-V sweeps, transients, RF spectra,
oscillator curves) into SI numpy arrays with typed errors; see its docstring for the
canonical names and options.

Fitting: :mod:`.fit` (the engine: :class:`Model`, :class:`Dataset`, :class:`Fit`,
:class:`FitResult`), :mod:`.recipes` (a package, one module per device family, each
describing its :class:`Recipe` s; :func:`register` adds one, :func:`verify_card` re-simulates
any fitted card), :mod:`.table` and :mod:`.units` (reading tables with units),
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
from .fit import Dataset, Fit, FitResult, Model, Param
from .recipes import (RECIPES, Calibration, CardCheck, Option, Recipe, Verification,
                      default_recipe, get_recipe, register, verify_card)
from .report import write_outputs
from .table import Report, Table

# the recipes' fit functions, imported from their family module on first use
RECIPE_FUNCTIONS = ("fit_mtj_rv", "fit_spin_diode_field", "fit_spin_diode_spectrum",
                    "fit_spin_diode_trace", "fit_stno", "verify_mtj", "fit_nbox_iv",
                    "calibrate_pulse_updates")

__all__ = [
    "IVSweep", "Measurement", "OscillatorCurve", "PulseRamp", "Report", "Spectrum", "Table",
    "Transient", "load_iv", "load_oscillator", "load_pulse_updates", "load_spectrum",
    "load_spin_diode_sweeps", "load_table", "load_transient",
    "Dataset", "Fit", "FitResult", "Model", "Param", "RECIPES", "Calibration", "CardCheck",
    "Option", "Recipe", "Verification", "default_recipe", "get_recipe", "register",
    "verify_card", "write_outputs", *RECIPE_FUNCTIONS,
]


def __getattr__(name):
    if name in RECIPE_FUNCTIONS:
        from . import recipes

        return getattr(recipes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
