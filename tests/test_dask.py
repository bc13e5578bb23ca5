"""Monte-Carlo and sweeps on a Dask ``distributed`` LocalCluster (loopback only, 2 worker
processes): the same numbers as the thread pool, bit for bit; a worker killed mid-run costs
only its draws, which are run again; a campaign interrupted after k points resumes from its
file and ends equal to an uninterrupted one; executors and the store are checked."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from neurospice.errors import ArgumentError
from neurospice.simulators.executors import cluster, worker_simulators
from neurospice.simulators.results_io import load_result
from neurospice.simulators.sweep import monte_carlo, sweep
from neurospice.simulators.testing import simulator_param

pytest.importorskip("distributed")
pytest.importorskip("xarray")
pytestmark = list(simulator_param("ngspice").marks)

N = 200
SEED = 7
DRAWS = {"r": lambda rng: rng.normal(1e3, 100.0), "c": lambda rng: rng.uniform(0.5e-9, 2e-9)}


def make_factory(kill_flag: str | None = None, kill_at: float | None = None):
    """An RC divider's operating point with a ramp: one .dc sweep per draw (a few ms). With
    ``kill_flag``, the first draw whose r equals ``kill_at`` kills the worker process it runs
    in (once: the flag file marks it done), as a machine lost mid-campaign."""

    def factory(r, c):
        from neurospice.netlists import Circuit

        if kill_flag is not None and r == kill_at and not os.path.exists(kill_flag):
            Path(kill_flag).write_text(str(os.getpid()))
            os._exit(1)
        k = Circuit("rc divider")
        k.vsource("in", "a", 0, 1.0)
        k.resistor("1", "a", "b", r)
        k.resistor("2", "b", 0, 1e3 * c / 1e-9)
        k.dc("vin", 0.0, 1.0, 0.25)
        return k

    return factory


@pytest.fixture(scope="module")
def client():
    with cluster(n_workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def reference():
    """The 200 draws on this process's thread pool."""
    return monte_carlo(make_factory(), DRAWS, N, seed=SEED, workers=2, progress=False)


def same(a, b) -> None:
    """Equal bit for bit: every variable and coordinate (attributes aside)."""
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.variables:
        x, y = a[name].values, b[name].values
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x.view(np.uint64), y.view(np.uint64), err_msg=name)
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


def test_cluster_is_on_loopback_and_workers_report_their_simulators(client):
    have = worker_simulators(client)
    assert len(have) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in have)
    assert all("ngspice" in names for names in have.values())
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    psutil = pytest.importorskip("psutil")     # every socket the cluster listens on
    workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
    processes = [psutil.Process(), *workers, *(w.parent() for w in workers)]
    listening = [c.laddr for p in processes for c in p.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert len(listening) >= 5 and {a.ip for a in listening} == {"127.0.0.1"}


@pytest.mark.slow
def test_monte_carlo_on_two_workers_equals_the_thread_pool_bit_for_bit(client, reference):
    got = monte_carlo(make_factory(), DRAWS, N, seed=SEED, executor=client, progress=False)
    assert (reference.status.values == "ok").all() and got.attrs["n_failed"] == 0
    same(got, reference)
    assert "tcp://127.0.0.1:" in got.attrs["workers"]
    # and the thread pool given as an executor is the same loop
    with ThreadPoolExecutor(2) as pool:
        same(monte_carlo(make_factory(), DRAWS, 20, seed=SEED, executor=pool,
                         progress=False), reference.isel(sample=slice(0, 20)))


@pytest.mark.slow
def test_a_killed_worker_costs_only_its_draws(client, reference, tmp_path):
    """60 draws in tasks of 3: the worker running draw 31 dies there; its tasks run again."""
    n = 60
    reference = reference.isel(sample=slice(0, n))
    flag = tmp_path / "killed"
    victim = float(reference.r.values[31])
    got = monte_carlo(make_factory(str(flag), victim), DRAWS, n, seed=SEED, executor=client,
                      progress=False, chunk=3)
    assert flag.exists()              # a worker did die, holding that draw
    assert int(flag.read_text()) not in client.run(os.getpid).values()
    assert got.attrs["n_failed"] == 0
    same(got, reference)
    client.wait_for_workers(2, timeout=60)    # the nanny restarted it


def test_run_many_ships_circuits_to_the_workers(client):
    from neurospice.simulators import get_simulator

    sim = get_simulator("ngspice")
    circuits = [make_factory()(r, 1e-9) for r in (1e3, 2e3, 4e3)]
    here = sim.run_many(circuits, workers=1)
    there = sim.run_many(circuits, executor=client)
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a.dc["v(b)"], b.dc["v(b)"])
    assert there[1].dc["v(b)"][-1] == pytest.approx(1.0 / 3.0, rel=1e-9)


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("where", ["threads", "dask"])
def test_an_interrupted_campaign_resumes_from_its_file(client, reference, tmp_path, where):
    store = tmp_path / "mc.nc"
    executor = client if where == "dask" else None
    n, k = 40, 13                      # the first 40 draws are the reference's first 40
    reference = reference.isel(sample=slice(0, n))

    def stop_after(done, _total):
        if done == k:
            raise Interrupted

    with pytest.raises(Interrupted):
        monte_carlo(make_factory(), DRAWS, n, seed=SEED, executor=executor, store=store,
                    progress=stop_after, workers=2, chunk=2)
    part = load_result(store)
    held = int((part.status.values == "ok").sum())
    assert held >= k and part.attrs["n_pending"] == n - held > 0
    ran = []
    done = monte_carlo(make_factory(), DRAWS, n, seed=SEED, executor=executor, store=store,
                       progress=lambda d, t: ran.append(d), workers=2)
    assert len(ran) == n - held        # the points in the file were not run again
    same(done, reference)
    same(load_result(store), reference)
    # a file of another campaign is not resumed into
    with pytest.raises(ArgumentError, match="another campaign"):
        monte_carlo(make_factory(), DRAWS, n, seed=SEED + 1, store=store, progress=False)


def test_a_sweep_resumes_a_per_point_axis_and_failures(tmp_path):
    """A transient's adaptive steps (axis per point) and a failed point survive the file."""
    from neurospice.netlists import Circuit, Pulse

    def rc(r):
        k = Circuit("rc")
        k.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
        k.resistor("1", "a", "b", r)
        k.capacitor("1", "b", 0, 1e-9)
        k.tran(1e-7, 1e-5)
        return k

    grid = {"r": [1e3, -1.0, 3e3, 7e3]}
    whole = sweep(rc, grid, workers=1, progress=False, on_error=lambda p, e: None)
    assert whole.attrs["axis"] == "per-point" and whole.attrs["n_failed"] == 1
    store = tmp_path / "sweep.h5"

    def stop(done, _total):
        if done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        sweep(rc, grid, workers=1, store=store, progress=stop, on_error=lambda p, e: None)
    again = sweep(rc, grid, workers=1, store=store, progress=False,
                  on_error=lambda p, e: None)
    same(again, whole)


def test_executors_and_stores_are_checked(tmp_path):
    with pytest.raises(ArgumentError, match="executor"):
        sweep(make_factory(), {"r": [1e3], "c": [1e-9]}, executor=object(), progress=False)
    with pytest.raises(ArgumentError, match=".nc or .h5"):
        sweep(make_factory(), {"r": [1e3], "c": [1e-9]}, store=tmp_path / "x.csv")
    with pytest.raises(ArgumentError, match="tcp://host:8786"):
        with cluster(scheduler="http://0.0.0.0"):
            pass
    with pytest.raises(ArgumentError, match="n_workers"):
        with cluster(n_workers=0):
            pass
    with cluster(n_workers=1) as one:           # the number asked for, on loopback
        have = worker_simulators(one)
        assert len(have) == 1 and all(a.startswith("tcp://127.0.0.1:") for a in have)


FACTORY = '''
from neurospice.netlists import Circuit


def divider(r, c=1e-9):
    k = Circuit("divider")
    k.vsource("in", "a", 0, 1.0)
    k.resistor("1", "a", "b", r)
    k.resistor("2", "b", 0, 1e3 * c / 1e-9)
    k.op()
    return k
'''


def test_the_sweep_verb_on_a_scheduler_and_resumed(client, tmp_path, monkeypatch, capsys):
    from neurospice.cli import main

    def cli(*args):
        code = main(["sweep", "fac.py:divider", "--param", "r=1e3,3e3,-1", "--out", "s.nc",
                     *args])
        return code, capsys.readouterr()

    monkeypatch.chdir(tmp_path)
    (tmp_path / "fac.py").write_text(FACTORY)
    code, out = cli("--scheduler", client.scheduler.address)
    assert code == 1 and "3 points, 1 failed" in out.out, out.err
    ds = load_result(tmp_path / "s.nc")
    assert ds.status.values.tolist() == ["ok", "ok", "invalid"]
    assert ds["v(b)"].values[:2] == pytest.approx([0.5, 0.25], rel=1e-9)
    assert "tcp://127.0.0.1:" in ds.attrs["workers"]
    code, out = cli("--resume")        # every point is in the file: nothing runs again
    assert code == 1 and "failed:" not in out.err, out.err
    same(load_result(tmp_path / "s.nc"), ds)
    assert cli()[0] == 2               # neither --resume nor --force: the file is kept
    assert cli("--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2")[0] == 2
