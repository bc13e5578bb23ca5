"""Parameter sweeps and Monte-Carlos over any circuit factory, as labelled N-D arrays.

A *factory* is a callable taking keyword parameters and returning a Circuit::

    def make_rc(r, c=1e-9):
        ...
        return circuit

    ds = sweep(make_rc, {"r": [1e3, 2e3, 5e3], "c": [1e-9, 2e-9]}, simulator="ngspice")
    ds["v(b)"].sel(r=2e3, c=1e-9)            # one point's waveform
    ds.status                                # "ok", "invalid" or "failed" per point

    mc = monte_carlo(make_rc, {"r": lambda rng: rng.normal(1e3, 50)}, 100, seed=1)

Every point is run (``workers`` at a time, through :meth:`Simulator.run_many`); a point that
fails does not stop the others. The result is an ``xarray.Dataset``:

- dimensions: one per grid parameter, in the order given (a Monte-Carlo has one, ``sample``,
  with each drawn parameter a coordinate along it), then the analysis axis;
- one variable per result vector (``v(b)``, ``i(v1)``; a ``units`` attribute each);
- per point: ``status`` ("ok"; "invalid" when the factory raised; "failed" when the
  simulation did), ``error_type`` and ``error`` (the exception's class and message, with
  the note naming the point; "" where ok).

The analysis axis: when every successful point has the same axis (an .ac or .dc sweep, a
fixed-step transient) it is a coordinate dimension (``frequency``, ``sweep``, ``time``).
When the axes differ (a transient's adaptive time steps) nothing is interpolated: the
dimension is ``step`` and the axis itself is a variable over (grid..., ``step``), each point's
vectors padded with NaN after its last step, so every point keeps its own samples exactly.
An op analysis has no axis dimension. A failed or invalid point's vectors are NaN (the
simulators write no partial output on failure; the error and the log tail are in ``error``).
Attributes: ``simulator``, ``analysis`` (kind), ``axis`` ("shared", "per-point" or "none"),
``n_failed``; a Monte-Carlo also ``seed``.

Datasets are saved and read back with :func:`neurospice.simulators.results_io.save_result`
and :func:`~neurospice.simulators.results_io.load_result` (.nc or .h5). Progress: a bar
(tqdm where installed, else a line on stderr) when stderr is a terminal, quiet otherwise;
each failure is reported on stderr as it happens unless ``on_error`` is given. xarray is
imported when a sweep is assembled, never at import time.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from neurospice.errors import ArgumentError

from .base import DEFAULT_TIMEOUT, circuit_analyses, is_circuit

__all__ = ["sweep", "monte_carlo", "RESERVED"]

RESERVED = ("status", "error_type", "error", "step", "sample")
"""Names a swept or drawn parameter may not take (they name the Dataset's own parts)."""


# ---- public API ---------------------------------------------------------------------------
def sweep(factory: Callable, grid: Mapping[str, Sequence], *, simulator: str = "ngspice",
          analysis: str | None = None, workers: int | None = None,
          timeout: float | None = DEFAULT_TIMEOUT, fail_fast: bool = False, progress=None,
          on_error: Callable | None = None, trusted: bool = False, allow=()):
    """Run ``factory(**point)`` at every point of the grid (the Cartesian product of
    ``grid``'s values, the first parameter varying slowest) on ``simulator``; return an
    ``xarray.Dataset`` with the parameters as coordinates (see the module's summary).

    ``analysis``: the kind (``"tran"``) or name (``"tran1"``) of the analysis to collect;
    needed only when the factory's circuits ask for several. ``fail_fast``: raise the first
    failure (factory or simulation, with a note naming the point) instead of recording it.
    ``progress``: None (a bar on a terminal, quiet otherwise), True, False, or a callable
    ``progress(done, total)``. ``on_error(point, exc)`` is called as each point fails (the
    point as a dict of its parameters). ``timeout`` bounds each run; ``workers``,
    ``trusted`` and ``allow`` are as in :meth:`Simulator.run_many`. An empty or malformed
    grid raises ArgumentError before anything runs."""
    names, values = _check_grid(grid)
    points = [dict(zip(names, combo)) for combo in itertools.product(*values)]
    outcomes = _run_points(factory, points, simulator=simulator, workers=workers,
                                    timeout=timeout, fail_fast=fail_fast, progress=progress,
                                    on_error=on_error, trusted=trusted, allow=allow,
                                    analysis=analysis)
    shape = tuple(len(v) for v in values)
    coords = {n: (n, np.asarray(v)) for n, v in zip(names, values)}
    return _assemble(outcomes, names, shape, coords, analysis, simulator, {})


def monte_carlo(factory: Callable, draws, n: int, *, seed: int = 0,
                simulator: str = "ngspice", analysis: str | None = None,
                workers: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                fail_fast: bool = False, progress=None, on_error: Callable | None = None,
                trusted: bool = False, allow=()):
    """Run ``factory(**params)`` for ``n`` samples of drawn parameters; return an
    ``xarray.Dataset`` over the dimension ``sample`` with each drawn parameter a coordinate
    along it (see the module's summary).

    ``draws``: a mapping of parameter name -> ``f(rng)`` returning that parameter's value,
    or one callable ``f(rng)`` returning a mapping of all of them. Sample ``k`` draws from
    its own ``numpy.random.Generator`` spawned from ``seed``, so a sample's parameters
    depend on ``seed`` and ``k`` only (not on the workers or on other samples). Other
    arguments as in :func:`sweep`."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ArgumentError(f"monte_carlo needs n >= 1 samples, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"monte_carlo needs a seed that is an integer >= 0, got {seed!r}")
    if isinstance(draws, Mapping):
        if not draws or not all(callable(f) for f in draws.values()):
            raise ArgumentError("draws must map each parameter name to a callable f(rng)")
        table = dict(draws)

        def draw(rng):
            return {name: f(rng) for name, f in table.items()}
    elif callable(draws):
        draw = draws
    else:
        raise ArgumentError("draws must be a mapping name -> f(rng) or a callable "
                            f"f(rng) -> mapping, not {type(draws).__name__}")
    points = []
    for k, child in enumerate(np.random.SeedSequence(int(seed)).spawn(int(n))):
        params = draw(np.random.default_rng(child))
        if not isinstance(params, Mapping) or not params:
            raise ArgumentError(f"sample {k}: the draw returned {type(params).__name__}, "
                                "not a mapping of parameter values")
        points.append(dict(params))
    names = list(points[0])
    if any(list(p) != names for p in points):
        raise ArgumentError("every draw must return the same parameter names")
    _check_names(names)
    outcomes = _run_points(factory, points, simulator=simulator, workers=workers,
                                    timeout=timeout, fail_fast=fail_fast, progress=progress,
                                    on_error=on_error, trusted=trusted, allow=allow,
                                    analysis=analysis)
    coords = {"sample": ("sample", np.arange(n))}
    coords.update({p: ("sample", np.asarray([pt[p] for pt in points])) for p in names})
    return _assemble(outcomes, ["sample"], (int(n),), coords, analysis, simulator,
                     {"seed": int(seed)})


# ---- checks -------------------------------------------------------------------------------
def _check_names(names) -> None:
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ArgumentError(f"parameter name {name!r} is not a Python identifier (the "
                                "factory takes it as a keyword)")
        if name in RESERVED:
            raise ArgumentError(f"parameter name {name!r} is reserved; avoid "
                                f"{', '.join(RESERVED)}")


def _check_grid(grid) -> tuple[list[str], list[list]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ArgumentError("the sweep grid must be a non-empty mapping of parameter name -> "
                            "values")
    names = list(grid)
    _check_names(names)
    values = []
    for name in names:
        vals = grid[name]
        if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
            raise ArgumentError(f"grid[{name!r}] must be a sequence of values, not "
                                f"{type(vals).__name__}")
        vals = list(np.asarray(vals).reshape(-1).tolist()) if isinstance(vals, np.ndarray) \
            else list(vals)
        if not vals:
            raise ArgumentError(f"grid[{name!r}] has no values")
        if len(set(map(repr, vals))) != len(vals):
            raise ArgumentError(f"grid[{name!r}] repeats a value: {vals}")
        values.append(vals)
    return names, values


# ---- running ------------------------------------------------------------------------------
class _Progress:
    """A bar (tqdm where installed) or a stderr line; quiet when not wanted."""

    def __init__(self, total: int, progress):
        self.total, self.done, self.failed = total, 0, 0
        self.call = progress if callable(progress) and not isinstance(progress, bool) else None
        show = sys.stderr.isatty() if progress is None else progress is True
        self.bar = None
        self.line = False
        if show and self.call is None:
            try:
                from tqdm import tqdm  # noqa: PLC0415 - optional
                self.bar = tqdm(total=total, desc="sweep", unit="pt", file=sys.stderr)
            except ImportError:
                self.line = True

    def step(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.call is not None:
            self.call(self.done, self.total)
        elif self.bar is not None:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=self.failed)
        elif self.line:
            end = "\n" if self.done == self.total else ""
            print(f"\rsweep: {self.done}/{self.total} points, {self.failed} failed",
                  end=end, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _label(point: Mapping) -> str:
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}"
                     if isinstance(v, (int, float)) else f"{k}={v}" for k, v in point.items())


def _pick(results, analysis):
    """The one Result of ``results`` to collect (by kind or name)."""
    if analysis is None:
        if len(results) != 1:
            raise ArgumentError(f"the circuit asks for {len(results)} analyses; choose one "
                                "with analysis=<kind or name>")
        return results[0]
    for r in results:
        if r.name == analysis:
            return r
    found = results.of_kind(analysis)
    if len(found) != 1:
        raise ArgumentError(f"analysis={analysis!r} names {len(found)} of the analyses "
                            f"{[(r.kind, r.name) for r in results]}; give its name")
    return found[0]


def _run_points(factory, points, *, simulator, workers, timeout, fail_fast, progress,
                on_error, trusted, allow, analysis) -> list:
    """Build and run every point; return the outcome per point: the Result collected or the
    exception that point raised."""
    from . import get_simulator  # noqa: PLC0415 - the package imports this module's users

    if not callable(factory):
        raise ArgumentError(f"the factory must be callable, not {type(factory).__name__}")
    sim = get_simulator(simulator)
    total = len(points)
    outcomes: list = [None] * total
    ran: list[int] = []                 # run_many index -> point index
    bar = _Progress(total, progress)
    failed_now = [False]

    def note(k: int, exc: BaseException, what: str = "at") -> None:
        exc.add_note(f"{what} sweep point {k + 1} of {total} ({_label(points[k])})")

    def report(k: int, exc: BaseException) -> None:
        if on_error is not None:
            on_error(dict(points[k]), exc)
        else:
            first = str(exc).strip().splitlines()
            print(f"neurospice sweep: point {k + 1}/{total} ({_label(points[k])}) failed: "
                  f"{type(exc).__name__}: {first[0] if first else ''}", file=sys.stderr)

    def circuits():
        checked = False
        for k, point in enumerate(points):
            try:
                circuit = factory(**point)
                if not (is_circuit(circuit) or isinstance(circuit, str)):
                    raise ArgumentError(f"the factory returned {type(circuit).__name__}, not "
                                        "a Circuit")
            except Exception as exc:  # noqa: BLE001 - user code: recorded per point
                note(k, exc, "building")
                if fail_fast:
                    raise
                outcomes[k] = exc
                report(k, exc)
                bar.step(False)
                continue
            if not checked and is_circuit(circuit):
                asked = circuit_analyses(circuit)
                if analysis is None and len(asked) != 1:
                    raise ArgumentError(f"the factory's circuit asks for {len(asked)} "
                                        "analyses; choose one with analysis=<kind or name>")
                checked = True
            ran.append(k)
            yield circuit

    def run_failed(j: int, exc: BaseException) -> None:
        note(ran[j], exc)
        failed_now[0] = True
        if not fail_fast:
            report(ran[j], exc)

    def run_done(_done: int, _total) -> None:
        bar.step(not failed_now[0])
        failed_now[0] = False

    try:
        runs = sim.run_many(circuits(), workers=workers, timeout=timeout, progress=run_done,
                            on_error=run_failed, fail_fast=fail_fast, trusted=trusted,
                            allow=allow)
    finally:
        bar.close()
    for j, outcome in enumerate(runs):
        k = ran[j]
        if isinstance(outcome, BaseException):
            outcomes[k] = outcome
            continue
        try:
            outcomes[k] = _pick(outcome, analysis)
        except ArgumentError as exc:
            note(k, exc)
            if fail_fast:
                raise
            outcomes[k] = exc
            report(k, exc)
    return outcomes


# ---- assembling ---------------------------------------------------------------------------
def _status(outcome) -> tuple[str, str, str]:
    if not isinstance(outcome, BaseException):
        return "ok", "", ""
    notes = getattr(outcome, "__notes__", [])
    building = any(n.startswith("building sweep point") for n in notes)
    message = "\n".join([str(outcome), *notes])
    return ("invalid" if building else "failed"), type(outcome).__name__, message


def _assemble(outcomes, dims, shape, coords, analysis, simulator, attrs):
    """The labelled N-D Dataset of per-point outcomes."""
    try:
        import xarray as xr  # noqa: PLC0415 - heavy, imported when a sweep is assembled
    except ImportError:
        raise ArgumentError("sweeps return an xarray Dataset: pip install xarray") from None
    ok = [o for o in outcomes if not isinstance(o, BaseException)]
    kinds = {r.kind for r in ok}
    kind = ok[0].kind if ok else (analysis or "")
    axis_name = ok[0].axis_name if ok else None
    axes = [r.axis for r in ok] if axis_name else []
    shared = bool(axes) and all(a.shape == axes[0].shape and np.array_equal(a, axes[0])
                                for a in axes)
    n_axis = max((len(a) for a in axes), default=0)
    names: list[str] = []
    units: dict[str, str] = {}
    for r in ok:
        for name in r:
            if name != axis_name and name not in names:
                names.append(name)
                units[name] = r.units.get(name, "")
    if axis_name is None:
        tail_dims, tail = (), ()
    elif shared:
        tail_dims, tail = (axis_name,), (n_axis,)
    else:
        tail_dims, tail = ("step",), (n_axis,)
    data_vars = {}
    stack = ([axis_name] if axis_name and not shared else []) + names
    for name in stack:
        complex_ = any(np.iscomplexobj(r[name]) for r in ok if name in r)
        arr = np.full(shape + tail, np.nan, dtype=complex if complex_ else float)
        flat = arr.reshape((-1,) + tail)
        for k, o in enumerate(outcomes):
            if isinstance(o, BaseException) or name not in o:
                continue
            v = np.asarray(o[name]).reshape(-1)
            if tail:
                flat[k, :len(v)] = v
            else:
                flat[k] = v[-1]
        unit = ok[0].units.get(name, "") if name == axis_name else units[name]
        data_vars[name] = (tuple(dims) + tail_dims, arr, {"units": unit})
    status = np.empty(len(outcomes), dtype=object)
    etype = np.empty(len(outcomes), dtype=object)
    error = np.empty(len(outcomes), dtype=object)
    for k, o in enumerate(outcomes):
        status[k], etype[k], error[k] = _status(o)
    data_vars["status"] = (tuple(dims), status.reshape(shape))
    data_vars["error_type"] = (tuple(dims), etype.reshape(shape))
    data_vars["error"] = (tuple(dims), error.reshape(shape))
    coords = dict(coords)
    if axis_name and shared:
        coords[axis_name] = (axis_name, np.asarray(axes[0]),
                             {"units": ok[0].units.get(axis_name, "")})
    n_failed = int(sum(s != "ok" for s in status))
    return xr.Dataset(data_vars, coords=coords, attrs={
        "neurospice_type": "sweep", "simulator": simulator, "analysis": kind,
        "axis": "none" if axis_name is None else ("shared" if shared else "per-point"),
        "n_points": len(outcomes), "n_failed": n_failed,
        "mixed_kinds": int(len(kinds) > 1), **attrs})
