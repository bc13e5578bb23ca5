"""Results out and back in: a Result to .csv/.h5/.nc and back equal, a sweep's and a
Monte-Carlo's Dataset to .nc/.h5 and back identical, ``neurospice sim --out``/``sweep``,
the project's own loader on its own CSV, and ``Result`` as a read-only mapping."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neurospice.errors import DataError
from neurospice.netlists import Circuit, Pulse
from neurospice.simulators import Result, get_simulator, load_result
from neurospice.simulators.results_io import save_result
from neurospice.simulators.sweep import monte_carlo, sweep

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

FACTORY = '''
from neurospice.netlists import Circuit, Pulse

def rc(r, c=1e-9):
    k = Circuit("rc")
    k.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
    k.resistor("1", "a", "b", r)
    k.capacitor("1", "b", 0, c)
    k.tran(1e-7, 2e-5)
    return k
'''
namespace: dict = {}
exec(FACTORY, namespace)  # noqa: S102 - the same factory the CLI test imports from a file
rc = namespace["rc"]


def lowpass(r):
    k = Circuit("lp")
    k.vsource("in", "a", 0, dc=0.0, ac=1.0)
    k.resistor("1", "a", "b", r)
    k.capacitor("1", "b", 0, 1e-9)
    k.ac(1e3, 1e7, 5)
    return k


def _same(a: Result, b: Result, exact_meta: bool = True):
    assert list(a.keys()) == list(b.keys()) and a.kind == b.kind
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert a.units[name] == b.units[name]
    if exact_meta:
        assert (a.name, a.simulator, a.netlist, a.log) == (b.name, b.simulator, b.netlist,
                                                           b.log)


@pytest.mark.parametrize("suffix", [".csv", ".h5", ".nc"])
@pytest.mark.parametrize("make", [lambda: rc(1e3), lambda: lowpass(1e3)], ids=["tran", "ac"])
def test_a_result_round_trips(tmp_path, suffix, make):
    res = get_simulator("ngspice").run(make())[0]
    path = save_result(res, tmp_path / f"run{suffix}")
    back = load_result(path)
    _same(res, back, exact_meta=suffix != ".csv")
    with pytest.raises(Exception, match="exists"):
        save_result(res, path)


@pytest.mark.parametrize("suffix", [".nc", ".h5"])
def test_sweeps_and_monte_carlos_round_trip(tmp_path, suffix):
    ds = sweep(rc, {"r": [1e3, -1.0, 2e3], "c": [1e-9, 2e-9]}, on_error=lambda p, e: None)
    assert (ds.status == "invalid").sum() == 2
    back = load_result(save_result(ds, tmp_path / f"s{suffix}"))
    xr.testing.assert_identical(ds, back)
    mc = monte_carlo(rc, {"r": lambda rng: rng.uniform(1e3, 2e3)}, 3, seed=3)
    back = load_result(save_result(mc, tmp_path / f"mc{suffix}"))
    xr.testing.assert_identical(mc, back)
    ac = sweep(lowpass, {"r": [1e3, 1e4]})
    back = load_result(save_result(ac, tmp_path / f"ac{suffix}"))
    xr.testing.assert_identical(ac, back)
    assert np.iscomplexobj(back["v(b)"].values)


def test_foreign_or_broken_files_are_data_errors(tmp_path):
    (tmp_path / "x.nc").write_bytes(b"not netcdf")
    with pytest.raises(DataError, match="x.nc"):
        load_result(tmp_path / "x.nc")
    with pytest.raises(DataError, match="format"):
        load_result(tmp_path / "x.txt")
    (tmp_path / "x.csv").write_text("time [s],v(a) [V]\n0,zz\n")
    with pytest.raises(DataError, match="x.csv"):
        load_result(tmp_path / "x.csv")
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(tmp_path / "plain.h5", engine="h5netcdf")
    with pytest.raises(DataError, match="not a neurospice result"):
        load_result(tmp_path / "plain.h5")


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "neurospice", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_cli_sim_out_and_sweep(tmp_path):
    (tmp_path / "rc.cir").write_text("rc\nV1 a 0 PULSE(0 1 0 1e-7 1e-7 1 2)\nR1 a b 1000\n"
                                     "C1 b 0 1e-9\n.tran 1e-7 5e-6\n.end\n")
    for suffix in (".csv", ".h5", ".nc"):
        done = _cli("sim", "rc.cir", "--out", f"rc{suffix}", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    a, b, c = (load_result(tmp_path / f"rc{s}") for s in (".csv", ".h5", ".nc"))
    _same(a, b, exact_meta=False)
    _same(b, c, exact_meta=False)
    assert b.simulator == c.simulator == "ngspice" and "V1 a 0" in b.netlist
    (tmp_path / "fac.py").write_text(FACTORY)
    done = _cli("sweep", "fac.py:rc", "--param", "r=1e3,-1,2e3", "--param", "c=1e-9",
                "--out", "s.nc", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 1                       # a point failed: recorded, others kept
    assert "point 2/3 (r=-1, c=1e-09) failed: NetlistError" in done.stderr
    assert "3 points, 1 failed" in done.stdout
    ds = load_result(tmp_path / "s.nc")
    assert ds.status.values.ravel().tolist() == ["ok", "invalid", "ok"]
    assert np.nanmax(ds["v(b)"].sel(r=1e3).values) > 0.99
    done = _cli("sweep", "fac.py:rc", "--param", "r=1e3", "--out", "s.nc", cwd=tmp_path)
    assert done.returncode == 2 and "exists" in done.stderr


def test_the_loader_reads_a_sim_csv_without_a_column_map(tmp_path):
    from neurospice.calibration.data import load_transient

    c = Circuit("r")
    c.vsource("1", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
    c.resistor("1", "a", 0, 1e3)
    c.tran(1e-7, 2e-6)
    res = get_simulator("ngspice").run(c).tran
    tr = load_transient(res.to_csv(tmp_path / "r.csv"))
    np.testing.assert_array_equal(tr.time_s, res.axis)
    np.testing.assert_array_equal(tr.voltage_v, res["v(a)"])
    np.testing.assert_array_equal(tr.current_a, res["i(v1)"])


def test_result_is_a_read_only_mapping():
    res = get_simulator("ngspice").run(rc(1e3)).tran
    assert list(res) == list(res.keys()) == res.names
    assert len(res) == len(res.names) and res.n_points == len(res.axis)
    assert dict(res.items()).keys() == set(res.names)
    assert all(v is res[k] for k, v in zip(res.keys(), res.values()))
    assert "v(b)" in res and "b" in res and "v(zz)" not in res and res.get("v(zz)") is None
    with pytest.raises(TypeError):
        res["v(b)"] = np.zeros(3)
    assert res == res and res != get_simulator("ngspice").run(rc(1e3)).tran
