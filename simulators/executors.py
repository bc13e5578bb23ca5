"""Where many runs execute: a thread pool here, any ``concurrent.futures.Executor``, or a Dask
``distributed`` cluster (a LocalCluster on this machine's loopback, or a scheduler address).

:func:`stream` is the one loop :meth:`Simulator.run_many`, :func:`~.sweep.sweep` and
:func:`~.sweep.monte_carlo` run their work through: it submits jobs a window at a time and
yields each outcome as it finishes (the function's return value, or the exception it raised).
With no executor the jobs run on a thread pool it owns (each simulation is its own process, so
threads suffice). An executor given is used as it is and never shut down here.

On a Dask cluster the function and its arguments are shipped to the workers (cloudpickle: a
factory may be a lambda or a closure; the workers must have neurospice installed and the
simulator on their PATH). A worker that dies mid-run costs only the runs it held: the
scheduler runs them again elsewhere (a run that kills three workers is given up as
``KilledWorker``). :func:`worker_simulators` asks every worker which simulators it has.

    with cluster(n_workers=2) as client:           # LocalCluster on 127.0.0.1
        mc = monte_carlo(make_rc, draws, 200, seed=1, executor=client, store="mc.nc")
    with cluster(scheduler="tcp://head:8786") as client:
        ...

``distributed`` is imported only when a cluster is made or a Client is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import contextmanager

from neurospice.errors import ArgumentError

__all__ = ["stream", "cluster", "is_dask_client", "worker_simulators", "simulators_here",
           "executor_workers"]

LOOPBACK = "127.0.0.1"
"""The only host a LocalCluster made here binds to."""

_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def is_dask_client(executor) -> bool:
    """Whether ``executor`` is a ``distributed.Client`` (told without importing distributed)."""
    return type(executor).__module__.split(".")[0] == "distributed" \
        and hasattr(executor, "scheduler_info")


def executor_workers(executor) -> int | None:
    """Threads a Dask client's workers have in all (None for another executor)."""
    if not is_dask_client(executor):
        return None
    workers = executor.scheduler_info(n_workers=-1).get("workers", {}) \
        if _takes_n_workers(executor) else executor.scheduler_info().get("workers", {})
    return sum(int(w.get("nthreads", 1)) for w in workers.values()) or None


def _takes_n_workers(client) -> bool:
    import inspect  # noqa: PLC0415 - rarely needed

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


def simulators_here() -> list[str]:
    """The simulators this process can run (what a worker reports at start)."""
    from . import available_simulators  # noqa: PLC0415 - the package imports this module

    return available_simulators()


def worker_simulators(client) -> dict[str, list[str]]:
    """Ask every worker of a Dask client which simulators it has: worker address -> names."""
    return {str(addr): list(names) for addr, names in client.run(simulators_here).items()}


def stream(fn: Callable, jobs: Iterable, *, executor=None, workers: int | None = None,
           window: int | None = None):
    """Run ``fn(*args)`` for each ``(key, args)`` of ``jobs``; yield ``(key, outcome)`` as each
    finishes, ``outcome`` being what ``fn`` returned or the ``Exception`` it raised (a
    KeyboardInterrupt or SystemExit is raised). ``jobs`` is drawn from only as runs finish:
    at most ``window`` are in flight (default: ``workers`` on the own thread pool, twice the
    cluster's threads on Dask, ``2 * workers`` or two per CPU on another executor).

    ``executor``: None (a thread pool of ``workers`` threads, one per CPU by default, shut
    down at the end; with one worker the jobs run in the calling thread, one after the
    other), a ``concurrent.futures.Executor`` or a ``distributed.Client``. Closing
    the generator early (the caller stops, or raises) cancels the runs not yet started and
    waits for the own pool's running ones."""
    if workers is not None and workers < 1:
        raise ArgumentError(f"workers must be >= 1, got {workers}")
    own = None
    if executor is None and (workers or os.cpu_count() or 1) == 1:
        yield from _inline(fn, jobs)    # one at a time: in the calling thread, no pool
        return
    if executor is None:
        n = workers or os.cpu_count() or 1
        own = ThreadPoolExecutor(max_workers=n)
        window = window or n
        pool = own
    else:
        pool = executor
    if is_dask_client(pool):
        from distributed import wait as wait_dask  # noqa: PLC0415 - optional dependency

        window = window or max(2 * (executor_workers(pool) or 1), 2)

        def submit(args):
            return pool.submit(fn, *args, pure=False)

        def first_done(futures):
            return wait_dask(futures, return_when="FIRST_COMPLETED").done
    else:
        if not hasattr(pool, "submit"):
            raise ArgumentError("executor must be a concurrent.futures.Executor or a "
                                f"distributed.Client, not {type(pool).__name__}")
        window = window or 2 * (workers or os.cpu_count() or 1)

        def submit(args):
            return pool.submit(fn, *args)

        def first_done(futures):
            return wait_futures(futures, return_when=FIRST_COMPLETED).done
    source = iter(jobs)
    running: dict = {}                      # future -> (submission order, key)
    order = 0

    def fill() -> None:
        nonlocal order
        while len(running) < window:
            job = next(source, None)
            if job is None:
                return
            key, args = job
            running[submit(tuple(args))] = (order, key)
            order += 1

    try:
        fill()
        while running:
            for f in sorted(first_done(list(running)), key=lambda f: running[f][0]):
                _, key = running.pop(f)
                try:
                    value = f.result()
                except Exception as exc:  # noqa: BLE001 - handed to the caller per job
                    value = exc
                yield key, value
                fill()
    finally:
        for f in running:
            f.cancel()
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)


def _inline(fn, jobs):
    for key, args in jobs:
        try:
            value = fn(*args)
        except Exception as exc:  # noqa: BLE001 - handed to the caller per job
            value = exc
        yield key, value


@contextmanager
def cluster(n_workers: int | None = None, *, scheduler: str | None = None,
            threads_per_worker: int = 1, timeout: float = 60.0):
    """A ``distributed.Client``: connected to ``scheduler`` (``tcp://host:8786``) when given,
    else on a new LocalCluster of ``n_workers`` worker processes (one per CPU by default,
    ``threads_per_worker`` threads each) bound to 127.0.0.1 only (no dashboard; the scheduler's
    HTTP endpoint on a free loopback port). The client (and a cluster made here) is closed on
    leaving the block."""
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise ArgumentError("the Dask backend needs distributed: pip install "
                            "'neurospice[dask]'") from None
    if scheduler is not None:
        if n_workers is not None:
            raise ArgumentError("give a scheduler address or n_workers for a local cluster, "
                                "not both")
        if not isinstance(scheduler, str) or not _ADDRESS.match(scheduler.strip()):
            raise ArgumentError(f"scheduler {scheduler!r}: give an address like "
                                "tcp://host:8786")
        try:
            client = Client(scheduler.strip(), timeout=timeout)
        except OSError as exc:
            raise ArgumentError(f"scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = (os.cpu_count() or 1) if n_workers is None else n_workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    if isinstance(threads_per_worker, bool) or not isinstance(threads_per_worker, int) \
            or threads_per_worker < 1:
        raise ArgumentError(f"threads_per_worker must be an integer >= 1, got "
                            f"{threads_per_worker!r}")
    import logging  # noqa: PLC0415

    local = LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=True,
                         host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
                         silence_logs=logging.ERROR, scheduler_kwargs={"dashboard": False})
    try:
        client = Client(local, timeout=timeout)
        try:
            yield client
        finally:
            client.close()
    finally:
        local.close()
