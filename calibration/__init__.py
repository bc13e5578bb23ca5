"""Calibration of compact models on measured data.

:mod:`neurospice.calibration.data` loads measured files (I-V sweeps, transients, RF spectra,
oscillator curves) into SI numpy arrays with typed errors; see its docstring for the
canonical names and options.

Fitting: :mod:`.fit` (the engine: :class:`Model`, :class:`Dataset`, :class:`Fit`,
:class:`FitResult`), :mod:`.recipes` (a package, one module per device family, each
describing its :class:`Recipe` s; :func:`register` adds one, :func:`verify_card` re-simulates
any fitted card), :mod:`.table` and :mod:`.units` (reading tables with units),
:mod:`.report` (JSON, model cards, Markdown, PNG plots), :mod:`.cli` (``neurospice fit``).
Every name above is imported from its submodule on first use; lmfit, scipy and matplotlib
only when a fit runs or a plot is drawn.
"""

import importlib

# public name -> the submodule that defines it, imported on first use of the name (importing
# this package imports nothing else: ``neurospice fit --help`` and the other commands stay
# light)
_WHERE = {
    **dict.fromkeys(("IVSweep", "Measurement", "OscillatorCurve", "PulseRamp", "Spectrum",
                     "Transient", "load_iv", "load_oscillator", "load_pulse_updates",
                     "load_spectrum", "load_spin_diode_sweeps", "load_table",
                     "load_transient"), "data"),
    **dict.fromkeys(("Dataset", "Fit", "FitResult", "Model", "Param"), "fit"),
    **dict.fromkeys(("RECIPES", "Calibration", "CardCheck", "Option", "Recipe",
                     "Verification", "default_recipe", "get_recipe", "register",
                     "verify_card"), "recipes"),
    "write_outputs": "report",
    **dict.fromkeys(("Report", "Table"), "table"),
}

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
    module = "recipes" if name in RECIPE_FUNCTIONS else _WHERE.get(name)
    if module is not None:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
