"""What every recipe shares: the outcome types, the :class:`Recipe` description, the registry
and the one verification of a fitted card in the simulators.

A recipe is one module of this package that builds a :class:`Recipe` (name, device, model,
fit function, loader, command-line options, what the report plots and tabulates) and lists
it in its ``REGISTERED`` tuple. The command line (:mod:`neurospice.calibration.cli`), the
report (:mod:`neurospice.calibration.report`) and :meth:`Calibration.to_dict` ask the
recipe; none of them knows a recipe by name. A recipe from elsewhere (a user's, a test's) is
offered everywhere after one :func:`register` call. The built-in recipes are imported when
the registry is first read, not when :mod:`neurospice.calibration` is imported.
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from neurospice.errors import CalibrationError, DataError

__all__ = ["Verification", "Calibration", "Option", "EnsembleRecipe", "Recipe", "Registry",
           "RECIPES",
           "register", "get_recipe", "default_recipe", "CardCheck", "verify_card",
           "as_list", "collect_warnings", "low_bias_resistance", "linear_start",
           "engine_kwargs", "count_arg"]


@dataclass
class Verification:
    """The fitted card re-simulated: RMS and largest difference from the fit's numpy curve
    (or from the measured data, where the check compares with them: its note says),
    relative to the data range of the curve."""

    simulator: str
    dataset: str
    rms_rel: float | None
    max_rel: float | None
    passed: bool | None
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Calibration:
    """A recipe's outcome. ``params`` is the whole card (every device parameter; empty for a
    recipe whose model is not a device card). ``extra`` holds recipe-specific tables for the
    report (JSON-ready); ``curves`` arrays for plots (not written to the JSON)."""

    recipe: str
    device: str | None
    params: dict[str, float]
    stderr: dict[str, float | None]
    fits: dict                                   # name -> FitResult
    derived: dict[str, dict] = field(default_factory=dict)   # name -> value, stderr, unit, ...
    verification: list[Verification] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)

    def shown_fits(self) -> dict:
        """The fits the recipe writes up (JSON, report, command line): its
        :attr:`Recipe.shows_fit` decides; every fit for a recipe not registered."""
        recipe = RECIPES.get(self.recipe)
        show = recipe.shows_fit if recipe is not None else (lambda name: True)
        return {k: f for k, f in self.fits.items() if show(k)}

    def to_dict(self) -> dict:
        return {"device": self.device, "recipe": self.recipe,
                "params": {k: float(v) for k, v in self.params.items()},
                "stderr": {k: v for k, v in self.stderr.items()},
                "derived": self.derived,
                "verification": [v.to_dict() for v in self.verification],
                "warnings": list(self.warnings), "notes": list(self.notes),
                "fits": {k: f.to_dict() for k, f in self.shown_fits().items()},
                **({"extra": self.extra} if self.extra else {})}


@dataclass(frozen=True)
class Option:
    """A command-line option a recipe adds to ``neurospice fit``: its flags and the keyword
    arguments of ``argparse``'s ``add_argument`` (type, default, choices, help, ...). Two
    recipes may share an option by giving the same flags."""

    flags: tuple[str, ...]
    kwargs: Mapping = field(default_factory=dict)

    @property
    def dest(self) -> str:
        """The attribute the parsed option lands in."""
        if "dest" in self.kwargs:
            return self.kwargs["dest"]
        return self.flags[0].lstrip("-").replace("-", "_")


def _all_fits(name: str) -> bool:
    return True


@dataclass(frozen=True)
class EnsembleRecipe:
    """How ``neurospice fit DEVICE FILES... --ensemble`` fits every loaded curve in one
    :func:`~neurospice.calibration.ensemble.fit_ensemble` call.

    - ``model()`` -> :class:`~neurospice.calibration.fit.Model` of one curve;
    - ``curves(data)`` -> list of :class:`~neurospice.calibration.fit.Dataset` (named, with
      the model's ``meta``) from what ``load`` returned for every file; CalibrationError
      where the curves cannot be one ensemble;
    - ``shared``/``per_curve``: the parameters with one value for all curves / one per curve;
    - ``start(datasets, warnings)`` -> starting values, appending to ``warnings`` what the
      start could not do (they join the ensemble fit's warnings); ``bounds(datasets)`` ->
      name -> (lower, upper);
      ``weighting``: ``"absolute"`` or ``"relative"``;
    - ``figures(values)`` -> {name: per-curve array} (V_th, R_on, ... from the parameters);
    - ``card(values)`` -> {device parameter: array}: the transform onto the device's
      parameters of the variability card (``lognormal``: those drawn as lognormal).
    """

    model: Callable
    curves: Callable
    shared: tuple[str, ...] = ()
    per_curve: tuple[str, ...] | None = None
    start: Callable | None = None
    bounds: Callable | None = None
    weighting: str = "absolute"
    figures: Callable | None = None
    card: Callable | None = None
    lognormal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """One calibration recipe, as the command line and the report see it.

    - ``run(data, **kw)`` -> :class:`Calibration`: the fit; ``data`` the list ``load``
      returned for every file;
    - ``load(path)`` -> list: reads one file, choosing its layout by looking at it;
    - ``model()`` -> :class:`~neurospice.calibration.fit.Model`: the parameters ``--free``
      may name (None: the recipe has no ``--free`` choice); ``free``: the default ones;
    - ``options``: the :class:`Option` s it adds to ``neurospice fit``, and ``cli_kwargs(args)``
      -> the keyword arguments of ``run`` from the parsed command line;
    - ``default``: the recipe ``neurospice fit DEVICE`` uses without ``--recipe``;
    - ``shows_fit(name)``: whether a fit is written up (JSON, report, summary);
    - ``plots(cal, folder)`` -> list of PNG paths (None: data and fit of every shown fit);
      ``sections(cal)`` -> extra Markdown lines for the report (tables);
    - ``verify(cal, simulators)`` -> list of :class:`Verification` (None: nothing to verify);
    - ``ensemble``: the :class:`EnsembleRecipe` of ``--ensemble`` (None: not offered);
    - ``device_object``: the compact-model Device when it is not one of
      :func:`neurospice.compact_models.devices.get_device`'s (cards are written from it);
      ``device_for(cal)``: the Device of one calibration, for a recipe whose device is
      learned (its equations, not only its parameters, come from the fit).
    """

    name: str
    device: str
    description: str
    run: Callable
    load: Callable
    free: tuple[str, ...] = ()
    model: Callable | None = None
    options: tuple[Option, ...] = ()
    cli_kwargs: Callable | None = None
    default: bool = False
    shows_fit: Callable[[str], bool] = _all_fits
    plots: Callable | None = None
    sections: Callable | None = None
    verify: Callable | None = None
    device_object: object = None
    device_for: Callable | None = None
    ensemble: EnsembleRecipe | None = None

    def get_device(self, cal=None):
        """The compact-model Device the cards are written for (of ``cal`` when the recipe
        has ``device_for``)."""
        if self.device_for is not None and cal is not None:
            return self.device_for(cal)
        if self.device_object is not None:
            return self.device_object
        from neurospice.compact_models.devices import get_device

        return get_device(self.device)


class Registry(Mapping):
    """Recipes by name. The built-in ones (the modules named in ``builtin``, each with a
    ``REGISTERED`` tuple of :class:`Recipe` s) are imported on first use."""

    def __init__(self, builtin: Sequence[str]):
        self._builtin = tuple(builtin)
        self._recipes: dict[str, Recipe] = {}
        self._loaded = False

    def _load(self):
        if self._loaded:
            return
        self._loaded = True
        for name in self._builtin:
            module = importlib.import_module(f"{__package__}.{name}")
            for recipe in module.REGISTERED:
                self.register(recipe)

    def register(self, recipe: Recipe) -> Recipe:
        """Add ``recipe``; a different recipe under a name already taken is an error."""
        if not isinstance(recipe, Recipe):
            raise CalibrationError(f"register() takes a Recipe, got {type(recipe).__name__}")
        self._load()
        old = self._recipes.get(recipe.name)
        if old is not None and old is not recipe:
            raise CalibrationError(f"a recipe named {recipe.name!r} is already registered")
        if recipe.default:
            other = [r.name for r in self._recipes.values()
                     if r.device == recipe.device and r.default and r is not recipe]
            if other:
                raise CalibrationError(f"{recipe.device} already has a default recipe "
                                       f"({other[0]}); register {recipe.name} with "
                                       "default=False")
        self._recipes[recipe.name] = recipe
        return recipe

    def __getitem__(self, name: str) -> Recipe:
        self._load()
        return self._recipes[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(self._recipes)

    def __len__(self) -> int:
        self._load()
        return len(self._recipes)


RECIPES = Registry(("mtj", "spin_diode", "stno", "nbox", "rram", "neural_ode"))


def register(recipe: Recipe) -> Recipe:
    """Offer ``recipe`` to the command line and the report (see :class:`Registry`)."""
    return RECIPES.register(recipe)


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (CalibrationError naming the known ones otherwise)."""
    try:
        return RECIPES[name]
    except KeyError:
        raise CalibrationError(f"unknown recipe {name!r} (known: {', '.join(RECIPES)})") \
            from None


def default_recipe(device: str) -> Recipe:
    """The recipe for ``device`` without ``--recipe``: its default, else its only one."""
    mine = [r for r in RECIPES.values() if r.device == device]
    chosen = [r for r in mine if r.default] or (mine if len(mine) == 1 else [])
    if not chosen:
        raise CalibrationError(
            f"no default recipe for {device}" + (f": choose one of {', '.join(r.name for r in mine)}"
                                                 if mine else " (no recipe fits it)"))
    return chosen[0]


# --------------------------------------------------------------------------- verification
@dataclass
class CardCheck:
    """One comparison :func:`verify_card` makes: ``circuit`` (a
    :class:`~neurospice.netlists.Circuit` holding the card) is run, ``simulated(result)``
    reads the quantity from the simulator's result on the grid of ``expected`` (the fit's
    numpy prediction there, or the measured data); differences are relative to ``span`` (the
    data range). ``limit``: the RMS (relative to ``span``) this check passes under, in place
    of :func:`verify_card`'s ``tolerance`` (a check against measured data passes when the
    card is as close to the data as the fit was)."""

    dataset: str
    circuit: object
    expected: np.ndarray
    simulated: Callable
    span: float
    note: str = ""
    limit: float | None = None


def verify_card(device, card: Mapping[str, float], circuit_of: Callable,
                simulators: Iterable[str] = ("ngspice",), *,
                tolerance: float = 0.01) -> list[Verification]:
    """Re-simulate a fitted card in each simulator and compare it with the fit's numpy
    prediction. ``device``: the compact-model Device (or its name); ``circuit_of(device,
    card)`` -> the :class:`CardCheck` s (one per data set). One :class:`Verification` row
    per check and simulator: RMS and largest difference relative to the check's span,
    passed when the RMS is under ``tolerance`` (or the check's own ``limit``); a simulator that is not installed gives a
    row saying so (passed None)."""
    from neurospice.simulators import get_simulator

    if isinstance(device, str):
        from neurospice.compact_models.devices import get_device

        device = get_device(device)
    from concurrent.futures import ThreadPoolExecutor

    checks = list(circuit_of(device, dict(card)))
    runs = []                        # (simulator name, check, simulator or None)
    for sim_name in simulators:
        sim = get_simulator(sim_name)
        available = sim.is_available()
        runs += [(sim_name, check, sim if available else None) for check in checks]

    def row(sim_name, check, sim) -> Verification:
        if sim is None:
            return Verification(sim_name, check.dataset, None, None, None, "not available")
        got = np.asarray(check.simulated(sim.run(check.circuit)), float)
        d = got - np.asarray(check.expected, float)
        if not check.span > 0 or not np.all(np.isfinite(d)):
            raise CalibrationError(f"verify {check.dataset} in {sim_name}: no finite "
                                   "comparison (span or simulated values)")
        rms = float(np.sqrt(np.mean(d ** 2)) / check.span)
        limit = tolerance if check.limit is None else check.limit
        return Verification(sim_name, check.dataset, rms,
                            float(np.max(np.abs(d)) / check.span), rms < limit, check.note)

    # The simulators run side by side (each is a process of its own); rows in order.
    with ThreadPoolExecutor(max(1, min(len(runs), os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda r: row(*r), runs))


# --------------------------------------------------------------------------- helpers
def as_list(data) -> list:
    """``data`` as a list: a list or tuple as is, anything else as a one-item list."""
    return list(data) if isinstance(data, (list, tuple)) else [data]


def collect_warnings(fits: Mapping) -> list[str]:
    """Every fit's warnings, each prefixed with the fit's name."""
    return [f"{name}: {w}" for name, f in fits.items() for w in f.warnings]


def low_bias_resistance(v, i, fraction: int = 10) -> float:
    """Median v/i of the 1/``fraction`` of the points nearest zero bias (three at least)."""
    v, i = np.asarray(v, float), np.asarray(i, float)
    k = np.argsort(np.abs(v))[:max(3, len(v) // fraction)]
    ok = np.abs(i[k]) > 0
    if not np.any(ok):
        raise DataError("no current at low bias: cannot tell the resistance")
    return float(np.median(v[k][ok] / i[k][ok]))


def linear_start(x, y) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line: starting values."""
    a, c = np.polyfit(x, y, 1)
    return float(a), float(c)


def engine_kwargs(args) -> dict:
    """The fit engine's options from the command line (``--seed``, ``--global``), with
    automatic confidence intervals: for recipes that run :class:`~..fit.Fit` directly."""
    return {"seed": args.seed,
            "global_stage": None if args.global_stage == "none" else args.global_stage,
            "conf_int": "auto"}


def count_arg(text: str) -> int:
    """An argparse type: a count (0, 1, 2, ...)."""
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0 or not math.isfinite(n):
        raise argparse.ArgumentTypeError(f"expected a count (0, 1, 2, ...), got {text!r}")
    return n
