"""Parameter sweeps and Monte-Carlos over any circuit factory, as labelled N-D arrays.

A *factory* is a callable taking keyword parameters and returning a Circuit::

    def make_rc(r, c=1e-9):
        ...
        return circuit

    ds = sweep(make_rc, {"r": [1e3, 2e3, 5e3], "c": [1e-9, 2e-9]}, simulator="ngspice")
    ds["v(b)"].sel(r=2e3, c=1e-9)            # one point's waveform
    ds.status                                # "ok", "invalid" or "failed" per point

    mc = monte_carlo(make_rc, {"r": lambda rng: rng.normal(1e3, 50)}, 100, seed=1)

Every point is run (``workers`` at a time on a thread pool here, or through ``executor=``: a
``concurrent.futures.Executor`` or a Dask ``distributed.Client``, see
:mod:`neurospice.simulators.executors`); a point that fails does not stop the others. With
``store=`` the campaign is written to its file as results arrive and resumed from it. The
result is an ``xarray.Dataset``:

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
and :func:`~neurospice.simulators.results_io.load_result` (.nc or .h5). Progress: a tqdm bar
(:func:`neurospice.progress.progress`) when stderr is a terminal, quiet otherwise; each
failure is reported on stderr as it happens unless ``on_error`` is given. A campaign file
(``store=``) holds the same Dataset, with status "pending" (attribute ``n_pending``) for the
points not yet run. xarray is imported when a sweep is assembled, never at import time.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from neurospice.errors import ArgumentError, SimulationFailed, SimulatorNotFound

from .base import DEFAULT_TIMEOUT, circuit_analyses, is_circuit

__all__ = ["sweep", "monte_carlo", "RESERVED"]

RESERVED = ("status", "error_type", "error", "step", "sample")
"""Names a swept or drawn parameter may not take (they name the Dataset's own parts)."""


# ---- public API ---------------------------------------------------------------------------
def sweep(factory: Callable, grid: Mapping[str, Sequence], *, simulator: str = "ngspice",
          analysis: str | None = None, workers: int | None = None,
          timeout: float | None = DEFAULT_TIMEOUT, fail_fast: bool = False, progress=None,
          on_error: Callable | None = None, trusted: bool = False, allow=(), executor=None,
          store=None, chunk: int | None = None):
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
    grid raises ArgumentError before anything runs.

    ``executor``: where the points run instead of a thread pool here: a
    ``concurrent.futures.Executor`` or a ``distributed.Client`` (see
    :mod:`neurospice.simulators.executors`; the factory and each point's parameters are
    shipped to the workers, which build and run the circuit; the workers' simulators are
    recorded in the attribute ``workers``). ``store``: a .nc/.h5 file the campaign is
    written to as results arrive (atomically, at most once a second, and when it ends or is
    interrupted); when the file exists and holds this campaign, the points it holds are not
    run again (resume), and a file of another campaign raises ArgumentError. ``chunk``:
    points per task on an executor (default: about eight tasks per worker thread, at most
    16 points each, so a task's overhead is shared; on the own thread pool, one)."""
    names, values = _check_grid(grid)
    points = [dict(zip(names, combo)) for combo in itertools.product(*values)]
    shape = tuple(len(v) for v in values)
    coords = {n: (n, np.asarray(v)) for n, v in zip(names, values)}
    return _campaign(factory, points, names, shape, coords, {}, simulator=simulator,
                     analysis=analysis, workers=workers, timeout=timeout, fail_fast=fail_fast,
                     progress=progress, on_error=on_error, trusted=trusted, allow=allow,
                     executor=executor, store=store, chunk=chunk)


def monte_carlo(factory: Callable, draws, n: int, *, seed: int = 0,
                simulator: str = "ngspice", analysis: str | None = None,
                workers: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                fail_fast: bool = False, progress=None, on_error: Callable | None = None,
                trusted: bool = False, allow=(), executor=None, store=None,
                chunk: int | None = None):
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
    coords = {"sample": ("sample", np.arange(n))}
    coords.update({p: ("sample", np.asarray([pt[p] for pt in points])) for p in names})
    return _campaign(factory, points, ["sample"], (int(n),), coords, {"seed": int(seed)},
                     simulator=simulator, analysis=analysis, workers=workers, timeout=timeout,
                     fail_fast=fail_fast, progress=progress, on_error=on_error,
                     trusted=trusted, allow=allow, executor=executor, store=store,
                     chunk=chunk)


def _campaign(factory, points, dims, shape, coords, attrs, *, executor, store, chunk, **run):
    """Run a sweep's or Monte-Carlo's points (through ``executor``, into ``store``) and
    assemble the Dataset."""
    from .executors import is_dask_client, worker_simulators  # noqa: PLC0415

    attrs = dict(attrs)
    if is_dask_client(executor):
        import json  # noqa: PLC0415

        have = worker_simulators(executor)
        simulator = run["simulator"]
        if not any(simulator in names for names in have.values()):
            raise SimulatorNotFound(simulator, f"none of the cluster's {len(have)} workers "
                                    f"has it (they have: {have})")
        attrs["workers"] = json.dumps(have, sort_keys=True)
    build = _Campaign(dims, shape, coords, run["analysis"], run["simulator"], attrs)
    if store is not None:
        from .results_io import FORMATS  # noqa: PLC0415

        if str(store).lower().endswith(".csv") or not str(store).lower().endswith(FORMATS):
            raise ArgumentError(f"store {store}: a campaign is written to .nc or .h5")
        store = _Store(store, build)
    outcomes = _run_points(factory, points, executor=executor, store=store, chunk=chunk, **run)
    return build(outcomes) if store is None else store.dataset   # what the file holds


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
class _Bar:
    """Progress: a callable ``progress(done, total)``, or a bar (quiet off a terminal)."""

    def __init__(self, total: int, progress, done: int = 0):
        from neurospice.progress import progress as progress_bar  # noqa: PLC0415

        self.total, self.done, self.failed = total, done, 0
        self.call = progress if callable(progress) and not isinstance(progress, bool) else None
        enabled = False if self.call is not None else progress
        self.bar = progress_bar(None, total=total, desc="sweep", unit="pt", enabled=enabled)
        self.bar.update(done)

    def step(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.call is not None:
            self.call(self.done, self.total)
        self.bar.update(1)
        if self.failed:
            self.bar.set_postfix(failed=self.failed)

    def close(self) -> None:
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


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling (to travel back from a worker process), else a
    SimulationFailed carrying its class name, message and notes."""
    import pickle  # noqa: PLC0415

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure
        out = SimulationFailed(f"{type(exc).__name__}: {exc}")
        for note in getattr(exc, "__notes__", []):
            out.add_note(note)
        return out


def run_point(factory, point, simulator, timeout, trusted, allow, analysis, portable=False):
    """Build ``factory(**point)`` and run it on ``simulator`` (found by name where this runs:
    a thread here, a worker process, another machine); return ``(status, outcome)``: ("ok",
    the Result collected), ("invalid", the factory's exception), ("failed", the simulation's
    or the analysis choice's exception) or ("ambiguous", an ArgumentError: the circuit asks
    for several analyses and none was chosen). Exceptions are returned, never raised, so a
    cluster does not retry a point that fails on its own."""
    from . import get_simulator  # noqa: PLC0415 - the package imports this module's users

    def back(status, exc):
        return status, (_portable(exc) if portable else exc)

    try:
        circuit = factory(**point)
        if not (is_circuit(circuit) or isinstance(circuit, str)):
            raise ArgumentError(f"the factory returned {type(circuit).__name__}, not a Circuit")
    except Exception as exc:  # noqa: BLE001 - user code: recorded per point
        return back("invalid", exc)
    if is_circuit(circuit) and analysis is None:
        asked = circuit_analyses(circuit)
        if len(asked) != 1:
            return back("ambiguous", ArgumentError(
                f"the factory's circuit asks for {len(asked)} analyses; choose one with "
                "analysis=<kind or name>"))
    try:
        results = get_simulator(simulator).run(circuit, timeout=timeout, trusted=trusted,
                                               allow=allow)
        return "ok", _pick(results, analysis)
    except Exception as exc:  # noqa: BLE001 - recorded per point
        return back("failed", exc)


def run_points(factory, points, *args) -> list:
    """:func:`run_point` for each of ``points`` in turn (one task of a chunked campaign)."""
    return [run_point(factory, point, *args) for point in points]


def _run_points(factory, points, *, simulator, workers, timeout, fail_fast, progress,
                on_error, trusted, allow, analysis, executor=None, store=None,
                chunk=None) -> list:
    """Build and run every point (those ``store`` already holds excepted); return the outcome
    per point: the Result collected or the exception that point raised."""
    from . import get_simulator  # noqa: PLC0415 - the package imports this module's users
    from .executors import executor_workers, stream  # noqa: PLC0415

    if not callable(factory):
        raise ArgumentError(f"the factory must be callable, not {type(factory).__name__}")
    total = len(points)
    outcomes: list = store.outcomes if store is not None else [None] * total
    if executor is None:
        sim = get_simulator(simulator)
        sim.require()
        workers = 1 if sim.in_process else (workers or None)
    portable = executor is not None
    todo = [k for k in range(total) if outcomes[k] is None]
    bar = _Bar(total, progress, done=total - len(todo))

    def note(k: int, exc: BaseException, what: str = "at") -> None:
        exc.add_note(f"{what} sweep point {k + 1} of {total} ({_label(points[k])})")

    def report(k: int, exc: BaseException) -> None:
        if on_error is not None:
            on_error(dict(points[k]), exc)
        else:
            first = str(exc).strip().splitlines()
            print(f"neurospice sweep: point {k + 1}/{total} ({_label(points[k])}) failed: "
                  f"{type(exc).__name__}: {first[0] if first else ''}", file=sys.stderr)

    stop: list = []

    if chunk is None:
        threads = executor_workers(executor) or workers or os.cpu_count() or 1
        chunk = 1 if executor is None else max(1, min(16, len(todo) // (8 * threads)))
    elif isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ArgumentError(f"chunk must be an integer >= 1, got {chunk!r}")

    def jobs():
        for i in range(0, len(todo), chunk):
            if stop:
                return
            keys = todo[i:i + chunk]
            yield keys, (factory, [points[k] for k in keys], simulator, timeout, trusted,
                         allow, analysis, portable)

    def answers():
        for keys, answer in stream(run_points, jobs(), executor=executor, workers=workers):
            for j, k in enumerate(keys):
                if isinstance(answer, Exception):  # the executor's own (KilledWorker)
                    yield k, ("failed", answer if len(keys) == 1 else SimulationFailed(
                        f"{type(answer).__name__}: {answer}"))
                else:
                    yield k, answer[j]

    try:
        for k, (status, outcome) in answers():
            if status == "ambiguous":
                stop.append(k)
                raise outcome
            if status != "ok":
                note(k, outcome, "building" if status == "invalid" else "at")
                if fail_fast:
                    stop.append(k)
                    raise outcome
                report(k, outcome)
            outcomes[k] = outcome
            bar.step(status == "ok")
            if store is not None:
                store.arrived(outcomes)
    finally:
        bar.close()
        if store is not None:
            store.flush(outcomes)
    return outcomes


class _Failure(Exception):
    """A point's failure as read back from a campaign file (status, class name, message)."""

    def __init__(self, status: str, error_type: str, message: str):
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


class _Store:
    """A campaign's file: every finished point written (atomically) as results arrive, at
    most every ``interval`` seconds (or ten times as long as a write takes, so writing costs
    at most about a tenth of the campaign) and when the campaign ends or is interrupted; the
    points a file already holds are read back and not run again."""

    def __init__(self, path, build, interval: float = 1.0):
        self.path, self.build, self.interval = path, build, interval
        self.last = 0.0
        self.cost = 0.0
        self.dataset = None
        self.outcomes: list = [None] * build.total
        self.resumed = os.path.exists(path)
        if self.resumed:
            self.outcomes = build.read(path)

    def arrived(self, outcomes) -> None:
        import time  # noqa: PLC0415

        if time.monotonic() - self.last >= max(self.interval, 10 * self.cost):
            self.flush(outcomes)

    def flush(self, outcomes) -> None:
        import time  # noqa: PLC0415

        from .results_io import save_result  # noqa: PLC0415

        started = time.monotonic()
        self.dataset = self.build(outcomes)
        save_result(self.dataset, self.path, overwrite=True)
        self.last = time.monotonic()
        self.cost = self.last - started


class _Campaign:
    """What a campaign's Dataset is made from (dims, shape, coords, attrs), and how a file
    of it is read back into per-point outcomes."""

    def __init__(self, dims, shape, coords, analysis, simulator, attrs):
        self.dims, self.shape, self.coords = dims, shape, coords
        self.analysis, self.simulator, self.attrs = analysis, simulator, attrs
        self.total = int(np.prod(shape))

    def __call__(self, outcomes):
        return _assemble(outcomes, self.dims, self.shape, self.coords, self.analysis,
                         self.simulator, self.attrs)

    def read(self, path) -> list:
        """The outcomes a campaign file holds (None where a point is pending); DataError
        or ArgumentError when it is not a file of this campaign."""
        from .result import Result  # noqa: PLC0415
        from .results_io import load_result  # noqa: PLC0415

        ds = load_result(path)
        where = str(path)
        if getattr(ds, "attrs", {}).get("neurospice_type") != "sweep":
            raise ArgumentError(f"{where}: not a sweep or Monte-Carlo file; cannot resume it")
        mine = {"simulator": self.simulator, **{k: v for k, v in self.attrs.items()
                                                 if k != "workers"}}
        for key, value in mine.items():
            if str(ds.attrs.get(key)) != str(value):
                raise ArgumentError(f"{where}: holds another campaign ({key} "
                                    f"{ds.attrs.get(key)!r}, this one {value!r}); give "
                                    "another file or remove it")
        for name, (dims, values, *_) in self.coords.items():
            dims = (dims,) if isinstance(dims, str) else tuple(dims)
            if name not in ds.coords or tuple(ds[name].dims) != dims \
                    or not np.array_equal(ds[name].values, np.asarray(values)):
                raise ArgumentError(f"{where}: holds another campaign (its {name!r} values "
                                    "differ from this one's); give another file or remove it")
        if tuple(ds["status"].shape) != tuple(self.shape):
            raise ArgumentError(f"{where}: holds another campaign (shape "
                                f"{ds['status'].shape}, this one {self.shape})")
        status = ds["status"].values.reshape(-1)
        etype = ds["error_type"].values.reshape(-1)
        error = ds["error"].values.reshape(-1)
        kind = str(ds.attrs.get("analysis", ""))
        axis_mode = str(ds.attrs.get("axis", "none"))
        ndim = len(self.shape)
        skip = {"status", "error_type", "error"}
        axis_name = None if axis_mode == "none" else \
            next((n for n in ("time", "frequency", "sweep") if n in ds.variables), None)
        names = [str(n) for n in ds.data_vars if n not in skip and n != axis_name]
        flat = {n: ds[n].values.reshape((self.total,) + ds[n].shape[ndim:]) for n in names}
        axis_flat = None
        if axis_mode == "per-point":
            axis_flat = ds[axis_name].values.reshape((self.total, -1))
        outcomes: list = [None] * self.total
        for k in range(self.total):
            s = str(status[k])
            if s == "pending":
                continue
            if s != "ok":
                outcomes[k] = _Failure(s, str(etype[k]), str(error[k]))
                continue
            vectors, units = {}, {}
            if axis_mode == "shared":
                vectors[axis_name] = ds[axis_name].values
                units[axis_name] = str(ds[axis_name].attrs.get("units", ""))
                n = len(vectors[axis_name])
            elif axis_mode == "per-point":
                axis = axis_flat[k]
                n = int(np.isfinite(axis).sum())
                vectors[axis_name] = axis[:n]
                units[axis_name] = str(ds[axis_name].attrs.get("units", ""))
            for name in names:
                row = flat[name][k]
                vectors[name] = np.atleast_1d(row if axis_mode != "per-point" else row[:n])
                units[name] = str(ds[name].attrs.get("units", ""))
            outcomes[k] = Result(kind, vectors, units=units, simulator=self.simulator)
        return outcomes


# ---- assembling ---------------------------------------------------------------------------
def _status(outcome) -> tuple[str, str, str]:
    if outcome is None:
        return "pending", "", ""
    if isinstance(outcome, _Failure):
        return outcome.status, outcome.error_type, outcome.message
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
    ok = [o for o in outcomes if o is not None and not isinstance(o, BaseException)]
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
            if o is None or isinstance(o, BaseException) or name not in o:
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
    n_failed = int(sum(s in ("failed", "invalid") for s in status))
    n_pending = int(sum(s == "pending" for s in status))
    return xr.Dataset(data_vars, coords=coords, attrs={
        "neurospice_type": "sweep", "simulator": simulator, "analysis": kind,
        "axis": "none" if axis_name is None else ("shared" if shared else "per-point"),
        "n_points": len(outcomes), "n_failed": n_failed, "n_pending": n_pending,
        "mixed_kinds": int(len(kinds) > 1), **attrs})
