"""The fit engine: one model, one or many data sets, global-then-local, honest statistics.

In lmfit's style a :class:`Model` is a pure function ``y = func(x, params, **meta)`` (``params``
a dict of every parameter's value, ``meta`` a data set's fixed settings such as its frequency)
wrapped with a parameter table (value, bounds, unit) and a ``guess(datasets)`` that returns
starting values from the data. :meth:`Model.from_device` takes the table from a compact
model's :class:`~neurospice.compact_models.framework.Parameter` records, so the bounds of the
fit are the bounds of the card.

A :class:`Fit` ties a model to :class:`Dataset` s and says which parameters are free, which
are fitted per data set (``per_dataset``; the others are shared), which are fixed, and which
follow an lmfit expression (``constraints``). :meth:`Fit.run` runs

1. a **global stage**: scipy's differential evolution (or basin hopping) over the free
   parameters within their search bounds (the table's bounds, narrowed to a decade either
   side of the start where the table allows more than that; set ``search`` to choose),
   seeded, so the result is reproducible, with an evaluation budget scaled to the number
   of free parameters (:func:`de_budget`); or ``global_stage="auto"``: the local stage from
   the start first, and the global stage only when that fit is not already good (its
   residual RMS above :data:`SETTLED_RATIO` times the data's white noise in some data set,
   or a parameter at a bound; a line shape started from a good guess needs no global
   search); or ``global_stage="multistart"``: the local stage from the start and from every
   point in ``starts``; or none;
2. a **local stage**: lmfit's Levenberg-Marquardt (``leastsq``) from the best point found, with
   the table's bounds;
3. with ``noise="auto"`` and no ``sigma`` given, each data set's noise level is estimated from
   its residuals (RMS with the degrees of freedom shared out by points) and the local stage is
   repeated with those weights, so curves in different units or with different noise count in
   proportion to their information and the reduced chi-square is about one.

Residual weighting (``weighting``): ``"absolute"`` ``(model - y) / sigma``; ``"relative"``
``(model - y) / |y|`` (points with ``|y|`` under ``floor`` times the largest are weighted as if
at that floor); ``"log"`` ``ln|model| - ln|y|`` (currents spanning decades; ``y`` must not
change sign inside a data set). ``Dataset.weight`` multiplies a data set's residuals.

The :class:`FitResult` holds the values, standard errors (from the covariance of the local
stage, by the rule below), the correlation matrix, confidence intervals (lmfit's
profile-likelihood ``conf_interval`` when ``conf_int="profile"`` or ``"auto"`` allows it, else
value +- k standard errors, marked as such), reduced chi-square, R^2 per data set and overall,
the white noise of each data set estimated from the data alone (:func:`white_noise`) and the
R^2 it allows at best (``r2_limit``: 1 - white noise / variance; a fit well under it misses
structure in the data, a model's or a drift's), and warnings: a parameter at a bound, a
parameter not determined by the data (no covariance, standard error above its value, a
near-singular covariance), |correlation| > 0.99, and residuals correlated from point to
point (lag-1 autocorrelation above 0.3 and above three times its white-noise spread
1/sqrt(n): the standard errors, which assume independent points, are then too small by
about sqrt((1 + rho) / (1 - rho))).

**Standard errors: from the data's sigma, or scaled by the reduced chi-square**
(``sigma``, :data:`SIGMA_POLICIES`; the result's ``stderr_basis`` says which was used and
``stderr_reason`` why). With ``sigma="auto"`` (the default), where *every* data set carries
its own ``sigma`` (the errors measured with the points: a line fit's standard errors, an
error column), the covariance comes from those errors alone, as scipy's
``curve_fit(absolute_sigma=True)`` -- ``"absolute"`` -- unless the chi-square lies above its
:data:`CHI2_QUANTILE` point for the degrees of freedom: then the points scatter more than
their errors allow, and the covariance is scaled by the reduced chi-square (``"scaled"``).
Where some data set has no sigma (its noise estimated from the residuals, or none), the
covariance is always scaled by the reduced chi-square. On a few points the reduced
chi-square is itself a noisy number (3 degrees of freedom: its square root between 0.2
and 1.6 in 95 % of fits), and scaling by it made one draw's errors anything from a fifth
to twice the scatter of the values; the errors the data came with do not scatter so.
``sigma="absolute"`` takes the errors from sigma whatever the chi-square (every data set
must carry one); ``sigma="scaled"`` always scales. A chi-square below its 1 % point is
said in the reason (the sigmas look overstated: the errors from them may be too large). A
data set's ``weight`` divides its sigma by sqrt(weight) in either case. Profile intervals
follow the same basis (absolute: where chi-square has risen by k^2; scaled: lmfit's
F-test).

lmfit and scipy are imported when a fit runs, not when this module is imported.
"""

from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from neurospice.errors import CalibrationError, DataError

__all__ = ["Param", "Model", "Dataset", "Fit", "FitResult", "WEIGHTINGS", "white_noise",
           "import_lmfit", "de_budget", "NOISE_FLOOR", "SETTLED_RATIO", "GLOBAL_STAGES",
           "SIGMA_POLICIES", "CHI2_QUANTILE"]

WEIGHTINGS = ("absolute", "relative", "log")
NOISE_FLOOR = 1e-9
"""The smallest per-data-set noise scale (relative to the data's largest magnitude) the
engine weights by: below it a fit's residuals are convergence residue, not noise."""
SETTLED_RATIO = 1.5
"""``global_stage="auto"`` skips the global stage when the local fit from the start leaves a
residual RMS within this factor of the white noise (:func:`white_noise`) of every data set
(the estimate scatters by about 20 % on 60 points; a wrong basin leaves the signal's own
structure in the residuals, many times the noise)."""
GLOBAL_STAGES = ("auto", "de", "basinhopping", "multistart", None)
SIGMA_POLICIES = ("auto", "absolute", "scaled")
CHI2_QUANTILE = 0.99
"""With ``sigma="auto"`` and every data set's own sigma, the standard errors come from those
sigmas unless the chi-square is above this quantile of its distribution for the degrees of
freedom (see the module docstring)."""
_CI_SIGMAS = (1.0, 2.0)
_CI_LABELS = {1.0: "68.27%", 2.0: "95.45%"}


def import_lmfit(keep_out: Sequence[str] = ("pandas",)):
    """lmfit, imported on first use with the optional packages ``keep_out`` that are not
    loaded yet kept out of its import; they import normally afterwards. lmfit reads pandas
    only to align pandas Series and serialise DataFrames, and matplotlib only for its own
    ``ModelResult.plot``, none of which this engine asks of it: pandas is about a sixth of
    lmfit's import time, matplotlib 0.16 s. The engine keeps pandas out; ``neurospice fit``
    run as a program, whose process does nothing else, keeps both out (start-up of a fit
    from the command line). Where lmfit is loaded already, it is returned as it is."""
    if "lmfit" in sys.modules:
        return sys.modules["lmfit"]
    blocked = [name for name in keep_out if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None          # `import name` / `from name import` raise ImportError
    try:
        import lmfit
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return lmfit


def white_noise(x, y) -> float:
    """Standard deviation of the white noise on ``y(x)`` estimated from the data alone, with
    no model: each inner point's deviation from the straight line through its two
    neighbours (Gasser, Sroka and Jennen-Steinmetz, Biometrika 73, 625 (1986)), which any
    curve smooth on the scale of the point spacing leaves near zero. Neighbours are taken in
    the order given (a sweep's acquisition order, so the branches of a hysteresis loop stay
    apart); where three neighbours are not monotonic in ``x`` they are weighted equally.
    Needs three points (else nan)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or y.ndim != 1 or y.size < 3:
        return math.nan
    lo, hi = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    monotonic = (lo * hi > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(monotonic, hi / (lo + hi), 0.5)
    b = 1.0 - a
    e = a * y[:-2] + b * y[2:] - y[1:-1]
    return float(math.sqrt(np.sum(e * e / (a * a + b * b + 1.0)) / e.size))


@dataclass(frozen=True)
class Param:
    """One row of a model's parameter table (SI units)."""

    name: str
    value: float
    lower: float = -math.inf
    upper: float = math.inf
    unit: str = ""
    description: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"parameter name {self.name!r} is not an identifier")
        if not self.lower <= self.upper:
            raise ValueError(f"parameter {self.name}: lower bound above upper bound")


def _open_bound(value: float, toward: float) -> float:
    """A closed stand-in for an open bound: a hair inside it."""
    if math.isinf(value):
        return value
    step = 1e-9 * max(abs(value), 1e-300) if value != 0 else 1e-300
    return value + math.copysign(step, toward - value)


class Model:
    """A pure model function with a parameter table and a guess() (see the module docstring).

    ``func(x, params, **meta) -> y``; ``guess(datasets) -> {name: value}`` (optional) gives
    starting values from the data; ``x_label``/``y_label`` name the axes with their SI units
    (for reports and plots).
    """

    def __init__(self, name: str, func: Callable, params: Sequence[Param], *,
                 guess: Callable | None = None, device=None, x_label: str = "x",
                 y_label: str = "y", description: str = ""):
        self.name = name
        self.func = func
        self.params = {p.name: p for p in params}
        if len(self.params) != len(params):
            raise ValueError(f"model {name}: a parameter is named twice")
        self._guess = guess
        self.device = device
        self.x_label = x_label
        self.y_label = y_label
        self.description = description

    @classmethod
    def from_device(cls, device, func: Callable, *, extra: Sequence[Param] = (), **kw):
        """A model whose table is ``device``'s parameter table (open bounds moved a hair
        inside) plus ``extra`` parameters that are not on the card (e.g. a gain)."""
        rows = []
        for p in device.parameters:
            lo = _open_bound(p.lower, p.default) if p.lower_open else p.lower
            hi = _open_bound(p.upper, p.default) if p.upper_open else p.upper
            rows.append(Param(p.name, p.default, lo, hi, p.unit, p.description))
        return cls(kw.pop("name", device.name), func, rows + list(extra), device=device, **kw)

    def defaults(self) -> dict[str, float]:
        return {n: p.value for n, p in self.params.items()}

    def guess(self, datasets: Sequence["Dataset"]) -> dict[str, float]:
        return dict(self._guess(datasets)) if self._guess else {}

    def eval(self, x, values: Mapping[str, float], **meta) -> np.ndarray:
        return np.asarray(self.func(x, {**self.defaults(), **values}, **meta), dtype=float)


@dataclass
class Dataset:
    """One measured curve: ``x`` (array, or whatever the model takes), ``y``, optional
    ``sigma`` (same units as ``y`` for absolute weighting), a ``weight``, model settings
    ``meta`` (passed to the model function) and parameters held at ``fixed`` values for this
    curve only (e.g. an MTJ's state)."""

    x: object
    y: np.ndarray
    sigma: np.ndarray | float | None = None
    weight: float = 1.0
    name: str = ""
    meta: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    x_plot: np.ndarray | None = None     # the abscissa to plot against (default: x)
    penalty: bool = False                # a soft constraint, not a measurement: in the
                                         # residuals, not in R^2 nor the plots

    def __post_init__(self):
        self.y = np.asarray(self.y, dtype=float).ravel()
        where = self.name or "dataset"
        if self.y.size < 2:
            raise DataError(f"{where}: {self.y.size} point(s); a fit needs more")
        if not np.all(np.isfinite(self.y)):
            k = int(np.flatnonzero(~np.isfinite(self.y))[0])
            raise DataError(f"{where}: y is not finite at point {k + 1}")
        if isinstance(self.x, np.ndarray) or np.ndim(self.x):
            x = np.asarray(self.x, dtype=float)
            if x.shape[-1:] != self.y.shape:
                raise DataError(f"{where}: x has {x.shape[-1]} points, y {self.y.size}")
            if not np.all(np.isfinite(x)):
                raise DataError(f"{where}: x is not finite at point "
                                f"{int(np.flatnonzero(~np.isfinite(x))[0]) + 1}")
            self.x = x
        if self.sigma is not None:
            try:
                s = np.broadcast_to(np.asarray(self.sigma, dtype=float), self.y.shape)
            except ValueError:
                raise DataError(f"{where}: sigma has shape {np.shape(self.sigma)}, y "
                                f"{self.y.shape}") from None
            if not np.all((s > 0) & np.isfinite(s)):
                raise DataError(f"{where}: sigma must be positive and finite")
            self.sigma = np.array(s)
        if not (self.weight > 0 and math.isfinite(self.weight)):
            raise DataError(f"{where}: weight must be positive")

    @property
    def abscissa(self) -> np.ndarray:
        return np.asarray(self.x_plot if self.x_plot is not None else self.x, dtype=float)

    def __len__(self) -> int:
        return self.y.size


@dataclass
class FitResult:
    """What a :class:`Fit` found. Values in SI; ``stderr`` None where not estimated."""

    model: Model
    datasets: list[Dataset]
    values: dict[str, float]            # shared values (every model parameter)
    per_dataset: list[dict[str, float]]  # per-data-set parameter values
    free: list[str]                      # fitted names (per-data-set ones as name_d<k>)
    stderr: dict[str, float | None]
    correlation: np.ndarray
    ci: dict[str, dict[str, tuple[float, float]]]
    ci_method: str
    chisqr: float
    redchi: float
    ndata: int
    nfree: int
    nfev: int
    r2: float
    r2_per_dataset: list[float]
    noise: list[float]                   # the per-data-set residual scale used
    weighting: str
    seed: int | None
    stages: list[dict]
    warnings: list[str]
    success: bool
    message: str
    constraints: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    white_noise: list[float] = field(default_factory=list)  # per data set, see white_noise
    residual_autocorr: list[float] = field(default_factory=list)  # lag 1, per data set
    stderr_basis: str = "scaled"         # "absolute": from the data's sigma; "scaled": by
    stderr_reason: str = ""              # the reduced chi-square (see the module docstring)

    @property
    def r2_limit(self) -> list[float]:
        """Per data set, the R^2 a model that leaves only the white noise would reach."""
        out = []
        for ds, noise in zip(self.datasets, self.white_noise):
            var = float(np.var(ds.y))
            out.append(1 - noise ** 2 / var if var > 0 else math.nan)
        return out

    def values_for(self, k: int) -> dict[str, float]:
        """Every parameter as data set ``k`` sees it."""
        return {**self.values, **self.per_dataset[k], **self.datasets[k].fixed}

    def curve(self, k: int, x=None) -> np.ndarray:
        ds = self.datasets[k]
        return self.model.eval(ds.x if x is None else x, self.values_for(k), **ds.meta)

    def residuals(self, k: int) -> np.ndarray:
        """Data minus fit, in the data's units."""
        return self.datasets[k].y - self.curve(k)

    def correlation_factor(self, k: int = 0) -> float:
        """How much too small the standard errors are when data set ``k``'s residuals are
        correlated from point to point: sqrt((1 + rho) / (1 - rho)) for a lag-1
        autocorrelation rho > 0 (an AR(1) process's effective number of points), else 1."""
        return _ar1_factor(self.residual_autocorr[k] if k < len(self.residual_autocorr)
                           else math.nan)

    def value(self, name: str) -> float:
        if name in self.values:
            return self.values[name]
        base, _, k = name.rpartition("_d")
        return self.per_dataset[int(k)][base]

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "model": self.model.name,
            "device": self.model.device.name if self.model.device is not None else None,
            "params": {k: float(v) for k, v in self.values.items()},
            "free": list(self.free),
            "stderr": {k: num(v) for k, v in self.stderr.items()},
            "per_dataset": [{"name": d.name, **{k: float(v) for k, v in p.items()}}
                            for d, p in zip(self.datasets, self.per_dataset)],
            "constraints": dict(self.constraints),
            "correlation": {"names": list(self.free),
                            "matrix": [[num(v) for v in row] for row in self.correlation]},
            "confidence_intervals": {"method": self.ci_method, **{
                k: {lvl: [num(a), num(b)] for lvl, (a, b) in v.items()}
                for k, v in self.ci.items()}},
            "statistics": {"chisqr": num(self.chisqr), "redchi": num(self.redchi),
                           "r2": num(self.r2), "r2_per_dataset": [num(r) for r in
                                                                  self.r2_per_dataset],
                           "r2_limit": [num(r) for r in self.r2_limit],
                           "white_noise": [num(r) for r in self.white_noise],
                           "residual_autocorr": [num(r) for r in self.residual_autocorr],
                           "ndata": self.ndata, "nfree": self.nfree, "nfev": self.nfev,
                           "weighting": self.weighting, "noise_scale": [num(s) for s in
                                                                        self.noise],
                           "seed": self.seed, "elapsed_s": round(self.elapsed_s, 3),
                           "stderr_basis": self.stderr_basis,
                           "stderr_reason": self.stderr_reason},
            "stages": self.stages,
            "warnings": list(self.warnings),
            "success": self.success,
            "message": self.message,
        }

    def summary(self) -> str:
        """A short text table of the free parameters."""
        lines = [f"{self.model.name}: {self.ndata} points, {self.nfree} free, "
                 f"reduced chi-square {self.redchi:.3g}, R^2 {self.r2:.5f}"]
        for name in self.free:
            err = self.stderr.get(name)
            unit = self.model.params[name if name in self.model.params
                                     else name.rpartition("_d")[0]].unit
            e = f"+- {err:.3g}" if err is not None else "+- (not estimated)"
            lines.append(f"  {name:<12} {self.value(name):.6g} {e} {unit}")
        lines.append(f"  standard errors {self.stderr_reason}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _outcome(res) -> str:
    """The local stage's outcome in the report's words (the fitting library's own text
    stays out of reports)."""
    if res.success:
        return f"converged after {res.nfev} evaluations"
    return (f"did not converge: stopped after {res.nfev} evaluations (the evaluation budget "
            "or a step that no longer lowers the residuals); see the warnings")


def de_budget(nfree: int) -> dict:
    """Differential evolution's population and generations for ``nfree`` free parameters:
    a population of max(20, 8 n) and at most 600 n + 2400 evaluations in all (the local
    stage polishes what the global one finds, so the global stage only has to land in the
    right basin). 5 parameters: 40 members, 5400 evaluations at most."""
    n = max(int(nfree), 1)
    pop = max(20, 8 * n)
    popsize = max(1, math.ceil(pop / n))
    return {"popsize": popsize, "maxiter": max(10, (600 * n + 2400) // (popsize * n))}


def _white_noise_of(ds: Dataset) -> float:
    """:func:`white_noise` of a data set (nan where the abscissa is not one number per
    point)."""
    try:
        x = ds.abscissa
    except (TypeError, ValueError):
        return math.nan
    return white_noise(x, ds.y)


def _ar1_factor(rho: float) -> float:
    """sqrt((1 + rho) / (1 - rho)) for rho > 0, else 1 (see FitResult.correlation_factor)."""
    return math.sqrt((1 + rho) / max(1 - rho, 1e-6)) if rho > 0 else 1.0


def _lag1(r: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals in data order (0 for white noise)."""
    r = r - r.mean()
    den = float(r @ r)
    return float(r[1:] @ r[:-1]) / den if den > 0 else math.nan


class _Progress:
    """Calls ``callback(stage, nfev, best)``; ``True`` means a bar on stderr counting the
    evaluations, with the stage and the best chi-square (:func:`neurospice.progress.progress`)."""

    def __init__(self, progress, label: str):
        from neurospice.progress import progress as progress_bar  # noqa: PLC0415

        self.callback = progress if callable(progress) else None
        self.bar = progress_bar(None, desc=label, unit="eval", enabled=progress is True)
        self.label = label
        self.last = 0.0
        self.best = math.inf
        self.nfev = 0
        self.stage = ""

    def __call__(self, chisqr: float):
        self.nfev += 1
        self.best = min(self.best, chisqr)
        if self.callback:
            self.callback(self.stage, self.nfev, self.best)
        self.bar.update(1)
        if time.monotonic() - self.last > 0.5:
            self.last = time.monotonic()
            self.bar.set_postfix(stage=self.stage, best=f"{self.best:.4g}")

    def done(self):
        self.bar.close()


class Fit:
    """A fit of ``model`` to ``datasets`` (see the module docstring).

    - ``free``: names to fit (default: every model parameter not fixed); ``fixed``: names
      held at their value; ``values``: starting/held values (override the guess and table);
    - ``per_dataset``: free names fitted separately for each data set (``name_d<k>``);
    - ``constraints``: ``{name: lmfit expression}`` over the other parameters' names;
    - ``bounds``: ``{name: (lower, upper)}`` narrowing the table; ``search``: the same for
      the global stage only;
    - ``weighting``, ``noise`` (``"auto"`` or None), ``floor`` (relative weighting);
    - ``global_stage``: ``"de"`` (differential evolution), ``"auto"`` (differential
      evolution only when the local fit from the start is not good: see the module's
      docstring), ``"basinhopping"``, ``"multistart"``, None; ``starts``: extra starting points (dicts) for
      ``"multistart"``; ``seed``; ``global_options``: passed to scipy's
      ``differential_evolution`` or ``basinhopping``;
    - ``sigma``: where the standard errors come from: ``"auto"`` (the data sets' own sigma
      when every one carries it, unless chi-square is above its :data:`CHI2_QUANTILE`
      point; else scaled by the reduced chi-square), ``"absolute"`` (from sigma always),
      ``"scaled"`` (by the reduced chi-square always); see the module docstring;
    - ``conf_int``: ``"stderr"`` (value +- k stderr), ``"profile"`` (lmfit conf_interval, with
      the stderr fallback when it fails), ``"auto"`` (profile for up to 6 free parameters,
      unless chi-square is quadratic out to 2 standard errors along every parameter's
      profile direction, checked at 2 n points: the profile would then give value +- k
      standard errors);
    - ``progress``: False (quiet), True (a line on stderr) or ``callback(stage, nfev, best)``.
    """

    def __init__(self, model: Model, datasets: Dataset | Sequence[Dataset], *,
                 free: Iterable[str] | None = None, fixed: Iterable[str] = (),
                 values: Mapping[str, float] | None = None, per_dataset: Iterable[str] = (),
                 constraints: Mapping[str, str] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None,
                 search: Mapping[str, tuple[float, float]] | None = None,
                 weighting: str = "absolute", noise: str | None = "auto", floor: float = 1e-3,
                 global_stage: str | None = "de", starts: Sequence[Mapping] = (),
                 seed: int | None = 0, global_options: Mapping | None = None,
                 max_nfev: int | None = None, conf_int: str = "stderr",
                 sigma: str = "auto", progress: bool | Callable = False):
        self.model = model
        self.datasets = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        if not self.datasets:
            raise DataError("no data to fit")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")
        if global_stage not in GLOBAL_STAGES:
            raise ValueError("global_stage must be 'auto', 'de', 'basinhopping', 'multistart' "
                             "or None")
        if conf_int not in ("stderr", "profile", "auto"):
            raise ValueError("conf_int must be 'stderr', 'profile' or 'auto'")
        if not isinstance(sigma, str) or sigma not in SIGMA_POLICIES:
            raise ValueError(f"sigma must be one of {SIGMA_POLICIES} (the points' own errors "
                             f"go in Dataset.sigma), not {sigma!r}")
        if sigma == "absolute":
            bare = [ds.name or f"data set {k + 1}" for k, ds in enumerate(self.datasets)
                    if ds.sigma is None]
            if bare:
                raise CalibrationError(f"sigma='absolute' takes the errors from every data "
                                       f"set's sigma; {', '.join(bare)} carries none")
        self.sigma = sigma
        self.constraints = dict(constraints or {})
        names = set(model.params)
        for what, given in (("free", free or ()), ("fixed", fixed), ("per_dataset", per_dataset),
                            ("values", values or {}), ("constraints", self.constraints),
                            ("bounds", bounds or {}), ("search", search or {})):
            unknown = sorted(set(given) - names)
            if unknown:
                raise CalibrationError(f"model {model.name} has no parameter(s) {unknown} "
                                       f"(in {what}; known: {', '.join(model.params)})")
        fixed = set(fixed) | set(self.constraints)
        self.free = [n for n in (free if free is not None else model.params) if n not in fixed]
        if not self.free:
            raise CalibrationError("nothing to fit: no free parameter")
        self.per_dataset = [n for n in per_dataset if n in self.free]
        for name, expr in self.constraints.items():
            used = sorted(n for n in self.per_dataset
                          if re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", expr))
            if used:
                raise CalibrationError(f"constraint {name} = {expr!r} uses {used}, fitted per "
                                       "data set: a constraint can only use shared parameters")
        self.bounds = dict(bounds or {})
        self.search = dict(search or {})
        self.weighting, self.noise_mode, self.floor = weighting, noise, floor
        self.global_stage, self.starts, self.seed = global_stage, list(starts), seed
        self.global_options = dict(global_options or {})
        self.max_nfev, self.conf_int, self.progress = max_nfev, conf_int, progress
        self.start = {**model.defaults(), **model.guess(self.datasets), **(values or {})}
        self._check_data()

    # ------------------------------------------------------------------ set-up
    def _check_data(self):
        for ds in self.datasets:
            if self.weighting == "log":
                s = np.sign(ds.y)
                if np.any(s == 0) or np.any(s != s[0]):
                    raise DataError(f"{ds.name or 'dataset'}: log weighting needs y of one sign "
                                    "and never zero (choose relative or absolute weighting)")

    def _limits(self, name: str) -> tuple[float, float]:
        p = self.model.params[name]
        lo, hi = p.lower, p.upper
        if name in self.bounds:
            blo, bhi = self.bounds[name]
            lo, hi = max(lo, blo), min(hi, bhi)
        if lo > hi:
            raise CalibrationError(f"bounds of {name} are empty: [{lo:g}, {hi:g}]")
        return lo, hi

    def _search_limits(self, name: str, start: float) -> tuple[float, float]:
        lo, hi = self._limits(name)
        if name in self.search:
            slo, shi = self.search[name]
            a, b = max(lo, slo), min(hi, shi)
            if not a < b:
                raise CalibrationError(f"search range of {name} [{slo:g}, {shi:g}] leaves "
                                       f"nothing inside its bounds [{lo:g}, {hi:g}]")
            return a, b
        if start > 0 and lo >= 0:
            a, b = max(lo, start / 10), min(hi, start * 10)
        else:
            span = 10 * abs(start) if start != 0 else 1.0
            a, b = max(lo, start - span), min(hi, start + span)
        if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
            raise CalibrationError(f"no finite search range for {name} in the global stage: "
                                   "give search={...} or a start value")
        return a, b

    def _parameters(self, start: Mapping[str, float]):
        lmfit = import_lmfit()

        params = lmfit.Parameters()
        n = len(self.datasets)
        for name, p in self.model.params.items():
            value = float(start.get(name, p.value))
            lo, hi = self._limits(name) if name in self.free else (p.lower, p.upper)
            if name not in self.free and name not in self.constraints and \
                    not lo <= value <= hi:
                raise CalibrationError(f"{name} is held at {value:g}, outside its range "
                                       f"[{lo:g}, {hi:g}]")
            value = min(max(value, lo), hi)
            if name in self.per_dataset:
                for k in range(n):
                    v = float(start.get(f"{name}_d{k}", value))
                    params.add(f"{name}_d{k}", value=min(max(v, lo), hi), min=lo, max=hi,
                               vary=True)
                params.add(name, value=value, vary=False, min=p.lower, max=p.upper)
            elif name in self.constraints:
                params.add(name, value=value, min=p.lower, max=p.upper)
            else:
                params.add(name, value=value, vary=name in self.free, min=lo, max=hi)
        for name, expr in self.constraints.items():
            try:
                params[name].set(expr=expr)
                params.update_constraints()
            except Exception as exc:          # lmfit raises NameError/SyntaxError
                raise CalibrationError(f"constraint {name} = {expr!r}: {exc}") from None
        return params

    # ------------------------------------------------------------------ residual
    def _split(self, valuesdict: Mapping[str, float]):
        shared = {n: valuesdict[n] for n in self.model.params}
        per = [{n: valuesdict[f"{n}_d{k}"] for n in self.per_dataset}
               for k in range(len(self.datasets))]
        return shared, per

    def _raw(self, ds: Dataset, ymod: np.ndarray) -> np.ndarray:
        if self.weighting == "absolute":
            r = ymod - ds.y
            return r / ds.sigma if ds.sigma is not None else r
        if self.weighting == "relative":
            ref = np.maximum(np.abs(ds.y), self.floor * np.max(np.abs(ds.y)))
            r = (ymod - ds.y) / ref
            return r / ds.sigma if ds.sigma is not None else r
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(np.abs(ymod) / np.abs(ds.y))
        r = np.where(np.sign(ymod) == np.sign(ds.y), r, 50.0)   # wrong sign: far off
        return r / ds.sigma if ds.sigma is not None else r

    def _residual_parts(self, valuesdict) -> list[np.ndarray]:
        shared, per = self._split(valuesdict)
        parts = []
        for k, ds in enumerate(self.datasets):
            try:
                ymod = self.model.eval(ds.x, {**shared, **per[k], **ds.fixed}, **ds.meta)
            except (ValueError, ArithmeticError) as exc:
                raise CalibrationError(f"model {self.model.name} failed at "
                                       f"{_fmt_values(valuesdict, self.free)}: {exc}") from None
            if ymod.shape != ds.y.shape:
                raise CalibrationError(f"model {self.model.name} returned {ymod.shape} values "
                                       f"for {ds.name or 'a dataset'} of {ds.y.shape}")
            parts.append(self._raw(ds, ymod))
        return parts

    def _residual(self, params, scales, progress: _Progress):
        return self._residual_values(params.valuesdict(), scales, progress)

    def _residual_values(self, values, scales, progress: _Progress):
        parts = self._residual_parts(values)
        r = np.concatenate([p * (math.sqrt(ds.weight) / s)
                            for p, ds, s in zip(parts, self.datasets, scales)])
        r = np.where(np.isfinite(r), r, 1e10)
        progress(float(r @ r))
        return r

    def _initial_scales(self) -> list[float]:
        if self.noise_mode != "auto" or self.weighting != "absolute":
            return [1.0] * len(self.datasets)
        out = []
        for ds in self.datasets:
            if ds.sigma is not None:
                out.append(1.0)
            else:
                span = float(np.ptp(ds.y))
                out.append(span if span > 0 else max(float(np.max(np.abs(ds.y))), 1.0))
        return out

    # ------------------------------------------------------------------ stages
    def _box(self, params, scales, progress):
        """The global stage's problem: the free names, their search limits and the cost
        (sum of squared residuals) of a vector of their values."""
        names = [n for n, p in params.items() if p.vary and p.expr is None]
        limits = []
        for n in names:
            base = n.rpartition("_d")[0] if n not in self.model.params else n
            limits.append(self._search_limits(base, params[n].value))
        work = params.copy()
        base = params.valuesdict()

        def cost(vec):
            if self.constraints:
                for n, v in zip(names, vec):
                    work[n].value = float(v)
                work.update_constraints()
                values = work.valuesdict()
            else:
                values = {**base, **dict(zip(names, np.asarray(vec).tolist()))}
            r = self._residual_values(values, scales, progress)
            return float(r @ r)

        return names, limits, cost

    def _global(self, params, scales, progress):
        """Differential evolution, or basin hopping (L-BFGS-B steps in the search box scaled
        to the unit cube), from the start; returns the best parameters and the stage record."""
        names, limits, cost = self._box(params, scales, progress)
        lo, hi = np.array(limits, dtype=float).T
        x0 = np.clip([params[n].value for n in names], lo, hi)
        with np.errstate(all="ignore"):
            if self.global_stage in ("de", "auto"):
                from scipy.optimize import differential_evolution

                opts = {**de_budget(len(names)), "tol": 1e-4, "polish": False,
                        "init": "sobol", **self.global_options}
                out = differential_evolution(cost, limits, seed=self.seed, x0=x0, **opts)
                x, label = out.x, "global (differential evolution)"
            else:
                from scipy.optimize import basinhopping

                opts = {"niter": 40, "stepsize": 0.2, **self.global_options}
                unit = [(0.0, 1.0)] * len(names)
                out = basinhopping(lambda u: cost(lo + np.clip(u, 0, 1) * (hi - lo)),
                                   (x0 - lo) / (hi - lo), rng=np.random.default_rng(self.seed),
                                   minimizer_kwargs={"method": "L-BFGS-B", "bounds": unit},
                                   **opts)
                x, label = lo + np.clip(out.x, 0, 1) * (hi - lo), "global (basin hopping)"
        best = params.copy()
        for n, v in zip(names, x):
            best[n].value = float(v)
        return best, {"stage": label, "nfev": int(out.nfev), "chisqr": float(out.fun),
                      "search_bounds": {n: [float(a), float(b)]
                                        for n, (a, b) in zip(names, limits)}}

    def _local(self, params, scales, progress):
        lmfit = import_lmfit()

        mini = lmfit.Minimizer(self._residual, params, fcn_args=(scales, progress),
                               scale_covar=False, nan_policy="raise")
        with np.errstate(all="ignore"):
            res = mini.minimize(method="leastsq", max_nfev=self.max_nfev)
        return mini, res

    def run(self) -> FitResult:
        """Run the stages and return a :class:`FitResult`; CalibrationError if the fit fails."""
        t0 = time.monotonic()
        progress = _Progress(self.progress, f"fit {self.model.name}")
        scales = self._initial_scales()
        params = self._parameters(self.start)
        stages = []
        try:
            best = None
            if self.global_stage == "auto":
                progress.stage = "local"
                first = self._local(params, scales, progress)
                why_not = self._unsettled(first[1])
                if why_not is None:
                    best = first
                    stages.append({"stage": "global skipped: the local fit from the start "
                                   "reaches the data's white noise, every parameter inside "
                                   "its bounds", "nfev": 0})
                else:
                    stages.append({"stage": f"local from the start: {why_not}",
                                   "nfev": int(first[1].nfev),
                                   "chisqr": float(first[1].chisqr)})
            progress.stage = "global"
            if best is None and self.global_stage in ("de", "auto", "basinhopping"):
                params, info = self._global(params, scales, progress)
                stages.append(info)
            progress.stage = "local"
            candidates = [params]
            if self.global_stage == "multistart":
                candidates += [self._parameters({**self.start, **s}) for s in self.starts]
            for cand in candidates if best is None else ():
                mini, res = self._local(cand, scales, progress)
                if best is None or res.chisqr < best[1].chisqr:
                    best = (mini, res)
            mini, res = best
            stages.append({"stage": "local (Levenberg-Marquardt)", "nfev": int(res.nfev),
                           "chisqr": float(res.chisqr), "starts": len(candidates)})
            if self.noise_mode == "auto" and any(ds.sigma is None for ds in self.datasets):
                new_scales = self._noise_scales(res)
                mini2, res2 = self._local(res.params, new_scales, progress)
                if res2.covar is None and res.covar is not None:
                    # a near-noise-free fit: weighted by residuals at the convergence level
                    # the Jacobian's finite differences drown in rounding; the unweighted
                    # stage's covariance, scaled by its reduced chi-square, is the honest one
                    stages.append({"stage": "local, weighted by estimated noise: no "
                                   "covariance at the residuals' level (near noise-free "
                                   "data); the unweighted stage's errors kept",
                                   "nfev": int(res2.nfev), "chisqr": float(res2.chisqr)})
                else:
                    mini, res, scales = mini2, res2, new_scales
                    stages.append({"stage": "local, weighted by estimated noise",
                                   "nfev": int(res.nfev), "chisqr": float(res.chisqr)})
        except CalibrationError:
            raise
        except Exception as exc:      # lmfit/scipy errors surface as a failed fit
            raise CalibrationError(f"fit of {self.model.name} failed: "
                                   f"{type(exc).__name__}: {exc}") from None
        finally:
            progress.done()
        if not np.isfinite(res.chisqr):
            raise CalibrationError(f"fit of {self.model.name} failed: chi-square not finite")
        return self._result(mini, res, scales, stages, time.monotonic() - t0)

    def _unsettled(self, res) -> str | None:
        """Why the local fit ``res`` from the start still needs the global stage (a free
        parameter at a bound, a data set's residual RMS above SETTLED_RATIO times its white
        noise, a failed fit), or None when it does not."""
        if not res.success or not np.isfinite(res.chisqr):
            return "it did not converge"
        for n, p in res.params.items():
            if not p.vary or p.expr is not None:
                continue
            span = p.max - p.min if math.isfinite(p.max - p.min) else abs(p.value)
            tol = 1e-6 * max(span, abs(p.value), 1e-300)
            if any(math.isfinite(b) and abs(p.value - b) <= tol for b in (p.min, p.max)):
                return f"{n} at a bound"
        shared, per = self._split(res.params.valuesdict())
        for k, ds in enumerate(self.datasets):
            if ds.penalty:
                continue
            noise = _white_noise_of(ds)
            if not math.isfinite(noise):
                return f"{ds.name or 'a data set'}: no white-noise estimate"
            ymod = self.model.eval(ds.x, {**shared, **per[k], **ds.fixed}, **ds.meta)
            rms = float(np.sqrt(np.mean((ymod - ds.y) ** 2)))
            floor = NOISE_FLOOR * float(np.max(np.abs(ds.y)))
            if not rms <= SETTLED_RATIO * max(noise, floor):
                return (f"{ds.name or 'a data set'}: residual RMS {rms:.3g}, "
                        f"{rms / max(noise, floor, 1e-300):.3g}x the white noise")
        return None

    def _noise_scales(self, res) -> list[float]:
        parts = self._residual_parts(res.params.valuesdict())
        ndata = sum(len(p) for p in parts)
        share = res.nvarys / max(ndata, 1)
        out = []
        for p, ds in zip(parts, self.datasets):
            if ds.sigma is not None:
                out.append(1.0)
                continue
            dof = max(len(p) * (1 - share), 1.0)
            rms = math.sqrt(float(p @ p) / dof)
            # a near-noise-free fit: residuals at the local stage's convergence level, not
            # the data's noise; weighting by them would make the Jacobian's finite
            # differences the noise (a "singular" covariance). Floor the scale at
            # NOISE_FLOOR of the data's magnitude: the standard errors still come from the
            # actual residuals (the covariance is scaled by the reduced chi-square).
            y = np.abs(ds.y[np.isfinite(ds.y)]) if self.weighting == "absolute" else \
                np.ones(1)
            size = float(np.max(y)) if y.size else 1.0
            out.append(max(rms, NOISE_FLOOR * size, 1e-300))
        return out

    # ------------------------------------------------------------------ statistics
    def _own_covariance(self, res, scales) -> None:
        """Where lmfit gives no covariance although the fit converged (near noise-free data:
        Levenberg-Marquardt's last Jacobian is built from steps at the residuals' rounding
        level), the covariance from a central-difference Jacobian in the parameters' own
        units, with steps of 1e-6 of each value (or of its range), unscaled like lmfit's
        (:meth:`_error_basis` scales both): tiny residuals give tiny but finite, honest
        errors. Left None when that Jacobian is rank-deficient too (then the parameters are
        truly not identifiable)."""
        names = [n for n, p in res.params.items() if p.vary and p.expr is None]
        if not names or self.constraints or res.nfree <= 0:
            return
        base = res.params.valuesdict()
        quiet = _Progress(False, "")
        cols = []
        for n in names:
            p = res.params[n]
            span = p.max - p.min if math.isfinite(p.max - p.min) else 0.0
            h = 1e-6 * max(abs(p.value), 1e-6 * span, 1e-300)
            up = self._residual_values({**base, n: p.value + h}, scales, quiet)
            dn = self._residual_values({**base, n: p.value - h}, scales, quiet)
            cols.append((up - dn) / (2 * h))
        jac = np.array(cols).T
        if not np.all(np.isfinite(jac)):
            return
        d = np.sqrt(np.sum(jac * jac, axis=0))
        if np.any(d == 0):
            return
        jn = jac / d
        sv = np.linalg.svd(jn, compute_uv=False)
        if sv.min() < 1e-10 * sv.max():
            return
        cov = np.linalg.inv(jn.T @ jn) / np.outer(d, d)
        res.covar = cov
        for k, n in enumerate(names):
            res.params[n].stderr = float(math.sqrt(max(cov[k, k], 0.0)))

    def _error_basis(self, res) -> tuple[float, str, str]:
        """(the factor on the unscaled covariance, ``"absolute"`` or ``"scaled"``, why): the
        rule of the module docstring. ``res`` holds the weighted fit's chi-square."""
        redchi, dof = float(res.redchi), int(res.nfree)
        bare = [ds.name or f"data set {k + 1}" for k, ds in enumerate(self.datasets)
                if ds.sigma is None]
        scaled = f"scaled by the reduced chi-square {redchi:.3g}"
        if self.sigma == "scaled":
            return redchi, "scaled", f"{scaled} (sigma='scaled')"
        if bare:
            few = ", ".join(bare[:3]) + (f" and {len(bare) - 3} more" if len(bare) > 3 else "")
            return redchi, "scaled", f"{scaled} (data without sigma: {few})"
        if dof <= 0:
            return 1.0, "absolute", ("from the data's sigma: no degrees of freedom left to "
                                     "test them")
        from scipy.stats import chi2

        hi, lo = (float(chi2.ppf(q, dof)) / dof for q in (CHI2_QUANTILE, 1 - CHI2_QUANTILE))
        pct = f"{100 * CHI2_QUANTILE:g} %"
        on = f"{redchi:.3g} on {dof} degrees of freedom"
        if self.sigma == "auto" and not redchi <= hi:
            return redchi, "scaled", (f"{scaled}: above its {pct} point {hi:.3g} for {dof} "
                                      "degrees of freedom, the points scatter more than "
                                      "their sigma allows")
        why = (f"from the data's sigma (reduced chi-square {on}; its {pct} point {hi:.3g})"
               if redchi <= hi else
               f"from the data's sigma (sigma='absolute'; reduced chi-square {on}, above "
               f"its {pct} point {hi:.3g}: the points scatter more than their sigma allows)")
        if redchi < lo:
            why += (f"; below its {100 * (1 - CHI2_QUANTILE):g} % point {lo:.3g}: the points "
                    "scatter less than their sigma says (sigmas overstated, or points the "
                    "model meets exactly), and the errors may be too large")
        return 1.0, "absolute", why

    def _result(self, mini, res, scales, stages, elapsed) -> FitResult:
        if res.covar is None and res.success:
            self._own_covariance(res, scales)
        factor, basis, reason = self._error_basis(res)
        if res.covar is not None:
            res.covar = res.covar * factor
        for p in res.params.values():
            if p.stderr is not None and np.isfinite(p.stderr):
                p.stderr = float(p.stderr) * math.sqrt(factor)
        vals = res.params.valuesdict()
        shared, per = self._split(vals)
        free = [n for n, p in res.params.items() if p.vary]
        stderr = {n: (float(res.params[n].stderr) if res.params[n].stderr is not None
                      and np.isfinite(res.params[n].stderr) else None) for n in free}
        for n in self.constraints:       # derived values: lmfit propagates the errors
            s = res.params[n].stderr
            stderr[n] = float(s) if s is not None and np.isfinite(s) else None
        nf = len(free)
        corr = np.full((nf, nf), np.nan)
        if res.covar is not None and res.covar.shape == (nf, nf):
            d = np.sqrt(np.abs(np.diag(res.covar)))
            with np.errstate(all="ignore"):
                corr = res.covar / np.outer(d, d)
        r2s, noises, autocorr, ss_res, ss_tot = [], [], [], 0.0, 0.0
        for k, ds in enumerate(self.datasets):
            if ds.penalty:
                r2s.append(float("nan"))
                noises.append(float("nan"))
                autocorr.append(float("nan"))
                continue
            noises.append(_white_noise_of(ds))
            ymod = self.model.eval(ds.x, {**shared, **per[k], **ds.fixed}, **ds.meta)
            autocorr.append(_lag1(ds.y - ymod) if len(ds) >= 20 else math.nan)
            a = float(np.sum((ds.y - ymod) ** 2))
            b = float(np.sum((ds.y - ds.y.mean()) ** 2))
            r2s.append(1 - a / b if b > 0 else (1.0 if a == 0 else -math.inf))
            ss_res += a / scales[k] ** 2 * ds.weight
            ss_tot += b / scales[k] ** 2 * ds.weight
        r2 = 1 - ss_res / ss_tot if ss_tot > 0 else float("nan")
        warnings = self._warnings(res, free, stderr, corr)
        for ds, rho in zip(self.datasets, autocorr):
            if rho > max(0.3, 3 / math.sqrt(len(ds))):
                warnings.append(
                    f"{ds.name or 'data'}: residuals correlated from point to point (lag-1 "
                    f"autocorrelation {rho:.2f}): the model misses structure or the noise is "
                    "not white; the standard errors assume independent points and may be "
                    f"too small by about {_ar1_factor(rho):.1f}x")
        ci, method = self._confidence(mini, res, free, stderr, warnings, scales, factor,
                                       basis)
        values = {n: float(v) for n, v in shared.items()}
        return FitResult(
            model=self.model, datasets=self.datasets, values=values, per_dataset=per,
            free=free, stderr=stderr, correlation=corr, ci=ci, ci_method=method,
            chisqr=float(res.chisqr), redchi=float(res.redchi), ndata=int(res.ndata),
            nfree=int(res.nvarys), nfev=sum(s["nfev"] for s in stages), r2=float(r2),
            r2_per_dataset=r2s, noise=[float(s) for s in scales], weighting=self.weighting,
            seed=self.seed, stages=stages, warnings=warnings, success=bool(res.success),
            message=_outcome(res), constraints=dict(self.constraints), elapsed_s=elapsed,
            white_noise=noises, residual_autocorr=autocorr, stderr_basis=basis,
            stderr_reason=reason)

    def _warnings(self, res, free, stderr, corr) -> list[str]:
        out = []
        for n in free:
            p = res.params[n]
            span = (p.max - p.min) if math.isfinite(p.max - p.min) else max(abs(p.value), 1e-300)
            tol = 1e-6 * max(span, abs(p.value), 1e-300)
            err = stderr[n]
            for side, bound in (("lower", p.min), ("upper", p.max)):
                gap = abs(p.value - bound)
                # at the bound: within 1e-6 of the range and, where the error is known,
                # within a tenth of it (a small value far from its bound in errors is not)
                if math.isfinite(bound) and gap <= tol and (err is None or gap < 0.1 * err):
                    out.append(f"{n} sits at its {side} bound ({bound:g}): the data pull it "
                               "outside the allowed range; widen the bound or fix it")
            if err is None:
                continue
            if p.value != 0 and err > abs(p.value):
                out.append(f"{n} is not determined by these data: standard error {err:.3g} "
                           f"exceeds |value| {abs(p.value):.3g}")
        if res.covar is None or any(stderr[n] is None for n in free):
            out.append("the covariance could not be estimated (singular Jacobian): some free "
                       "parameters are not identifiable from these data; fix or constrain them")
        elif np.all(np.isfinite(corr)):
            w = np.linalg.eigvalsh(corr)
            if w.min() < 1e-8 * max(w.max(), 1e-300):
                out.append("the covariance is near-singular: a combination of the free "
                           "parameters is not identifiable from these data")
            for i in range(len(free)):
                for j in range(i + 1, len(free)):
                    if abs(corr[i, j]) > 0.99:
                        out.append(f"{free[i]} and {free[j]} are correlated "
                                   f"(r = {corr[i, j]:+.4f}): the data determine a "
                                   "combination of them, not each one")
        return out

    def _quadratic(self, res, scales, factor: float) -> bool:
        """Whether chi-square is quadratic out to 2 standard errors along every free
        parameter's profile direction (the covariance's column: the other parameters
        following it as the linearised fit says): there it rises by 4 times ``factor``
        (the covariance's scale: the reduced chi-square, or 1 for errors from sigma), and
        the profile intervals would be value +- k standard errors. Checked within 10 %, at
        2 n points, each inside the bounds."""
        names = list(res.var_names)
        cov = res.covar
        if cov is None or cov.shape != (len(names), len(names)) or not factor > 0:
            return False
        progress = _Progress(False, "")
        centre = np.array([res.params[n].value for n in names])
        work = res.params.copy()
        for i in range(len(names)):
            if not cov[i, i] > 0:
                return False
            step = 2.0 * cov[:, i] / math.sqrt(cov[i, i])
            for sign in (1.0, -1.0):
                point = centre + sign * step
                for n, v in zip(names, point):
                    if not work[n].min <= v <= work[n].max:
                        return False
                    work[n].value = float(v)
                work.update_constraints()
                with np.errstate(all="ignore"):
                    r = self._residual_values(work.valuesdict(), scales, progress)
                rise = (float(r @ r) - res.chisqr) / (4.0 * factor)
                if not 0.9 <= rise <= 1.1:
                    return False
        return True

    def _confidence(self, mini, res, free, stderr, warnings, scales, factor: float,
                    basis: str):
        def from_stderr():
            out = {}
            for n in free:
                v, s = res.params[n].value, stderr[n]
                if s is not None:
                    out[n] = {_CI_LABELS[k]: (v - k * s, v + k * s) for k in _CI_SIGMAS}
            return out

        use_profile = self.conf_int == "profile" or (self.conf_int == "auto" and len(free) <= 6)
        if not use_profile or res.covar is None:
            return from_stderr(), "stderr"
        if self.conf_int == "auto" and self._quadratic(res, scales, factor):
            return from_stderr(), "stderr (chi-square checked quadratic to 2 standard errors)"
        lmfit = import_lmfit()

        import warnings as _w

        try:
            with np.errstate(all="ignore"), _w.catch_warnings():
                _w.simplefilter("ignore")
                raw = lmfit.conf_interval(mini, res, sigmas=list(_CI_SIGMAS), maxiter=200,
                                          prob_func=_chi2_rise if basis == "absolute" else None)
        except Exception as exc:          # profile fails near bounds or when flat
            warnings.append(f"profile confidence intervals failed ({type(exc).__name__}: "
                            f"{exc}); intervals are value +- k standard errors")
            return from_stderr(), "stderr (profile failed)"
        out = {}
        for n, rows in raw.items():      # [(p2, lo2), (p1, lo1), (0, best), (p1, hi1), ...]
            m = len(rows) // 2
            lows, highs = rows[:m][::-1], rows[m + 1:]
            out[n] = {_CI_LABELS[sig]: (float(lo[1]), float(hi[1]))
                      for sig, lo, hi in zip(_CI_SIGMAS, lows, highs)}
        return out, "profile (lmfit conf_interval)"


def _chi2_rise(best, new) -> float:
    """The profile's probability where the errors come from the data's sigma: chi-square's
    absolute rise over the best fit, chi-square distributed with as many degrees of freedom
    as parameters held (lmfit's default, an F-test, measures the rise in reduced
    chi-squares: the scaled basis)."""
    from scipy.stats import chi2

    return float(chi2.cdf(new.chisqr - best.chisqr, best.nvarys - new.nvarys))


def _fmt_values(values: Mapping[str, float], names: Sequence[str]) -> str:
    return ", ".join(f"{n}={values[n]:.4g}" for n in names if n in values)
