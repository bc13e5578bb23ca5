"""Calibration recipes: which parameters to free on which data, per device family.

One module per family -- :mod:`.mtj` (``mtj-rv``), :mod:`.spin_diode`
(``spin-diode-spectrum``, ``spin-diode-field``), :mod:`.stno` (``stno``), :mod:`.nbox`
(``nbox-iv``), :mod:`.rram` (``rram-pulse-updates``) -- each describing its recipes as
:class:`Recipe` s; :mod:`.base` holds the outcome types (:class:`Calibration`,
:class:`Verification`), the registry (:data:`RECIPES`, :func:`register`,
:func:`get_recipe`) and :func:`verify_card`. Each recipe takes loaded data
(:mod:`neurospice.calibration.data`), builds the fits, runs them and returns a
:class:`Calibration`; :mod:`neurospice.calibration.report` writes it out.

The family modules are imported on first use of one of their names (or of the registry).
"""

from __future__ import annotations

import importlib

from .base import (RECIPES, Calibration, CardCheck, Option, Recipe, Verification,
                   default_recipe, get_recipe, register, verify_card)

# public name -> family module, imported when the name is first used
FAMILY_NAMES = {
    "mtj": ("mtj_model", "fit_mtj_rv", "verify_mtj"),
    "spin_diode": ("spin_diode_spectrum_model", "field_lorentzian_model", "kittel_model",
                   "damping_model", "fit_spin_diode_spectrum", "fit_spin_diode_trace",
                   "fit_spin_diode_field", "kittel_frequency", "kittel_field"),
    "stno": ("stno_model", "fit_stno"),
    "nbox": ("fit_nbox_iv", "nbox_iv_model"),
    "rram": ("calibrate_pulse_updates", "fit_pulse_updates"),
}
_MODULE_OF = {name: module for module, names in FAMILY_NAMES.items() for name in names}

__all__ = ["RECIPES", "Calibration", "CardCheck", "Option", "Recipe", "Verification",
           "default_recipe", "get_recipe", "register", "verify_card", *_MODULE_OF]


def __getattr__(name):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
