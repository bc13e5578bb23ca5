"""Per-cell RRAM tables (long and wide) and read-noise traces through the strict table
reader, and the rram-relaxation / rram-read-noise recipes through ``neurospice fit``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from neurospice.calibration.cells import load_cells, load_read_traces
from neurospice.compact_models.rram.relaxation import Relaxation
from neurospice.errors import DataError

TRUTH = Relaxation(np.array([[1e-4, 0.0, -0.02, 0.0004, 0.0009, 0.0003],
                             [5e-4, 0.0, -0.005, 0.0001, 0.0001, 0.00002]]), 1.0)
T = np.logspace(0, 4, 9)


def synthetic(seed=0, cells=200):
    gen = np.random.default_rng(seed)
    g0 = np.repeat([1e-4, 5e-4], cells // 2)
    return g0, TRUTH.sample(g0, T, gen) * np.exp(0.005 * gen.standard_normal((cells, T.size)))


def write_long(path, g0, g, unit="uS", scale=1e6):
    lines = [f"cell,time (s),G ({unit}),state"]
    for i in range(g.shape[0]):
        for j in range(T.size):
            lines.append(f"c{i},{T[j]:.6g},{g[i, j] * scale:.9g},{'LH'[int(g0[i] > 2e-4)]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_wide(path, g):
    lines = ["cell," + ",".join(f"{t:.6g} s" for t in T)]
    lines += [f"c{i}," + ",".join(f"{v:.9g}" for v in row) for i, row in enumerate(g)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_long_and_wide_give_the_same_table(tmp_path):
    g0, g = synthetic(cells=20)
    long = load_cells(write_long(tmp_path / "long.csv", g0, g))[0]
    wide = load_cells(write_wide(tmp_path / "wide.csv", g))[0]
    assert long.layout == "long" and wide.layout == "wide"
    assert long.cells == wide.cells == [f"c{i}" for i in range(20)]
    np.testing.assert_allclose(long.time, T, rtol=1e-6)
    np.testing.assert_allclose(wide.time, T, rtol=1e-6)
    np.testing.assert_allclose(long.conductance, g, rtol=1e-8)
    np.testing.assert_allclose(wide.conductance, g, rtol=1e-8)
    assert long.state[:10] == ["L"] * 10 and wide.state is None


def test_resistance_column_and_time_headers(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,1 ms,t=10 ms,1e-1\nA,10,11,12\nB,20,21,22\n")
    tab = load_cells(p, unit="kOhm")[0]
    np.testing.assert_allclose(tab.time, [1e-3, 1e-2, 0.1])
    np.testing.assert_allclose(tab.conductance[0], 1 / np.array([10e3, 11e3, 12e3]))


@pytest.mark.parametrize("text, where", [
    ("cell,time (s),G (S)\nc1,1,1e-4\nc1,10,1_0e-4\nc1,100,1e-4\n", "row 3"),   # grammar
    ("cell,time (s),G (S)\nc1,1,1e-4\nc1,10\nc1,100,1e-4\n", "row 3"),          # width
    ("cell,time (s),G (S)\nc1,1,1e-4\nc1,10,nan\nc1,100,1e-4\n", "row 3"),      # on_nan
    ("cell,time (s),G (S)\nc1,1,1e-4\nc1,1,1e-4\nc1,100,1e-4\n", "row 3"),      # twice
    ("cell,time (s),G (S)\nc1,1,1e-4\nc1,10,-1e-4\nc1,100,1e-4\n", "row 3"),    # sign
    ("cell,time (V),G (S)\nc1,1,1e-4\nc1,10,1e-4\nc1,100,1e-4\n", "row 1"),     # unit
    ("cell,1 s,10 s,foo\nc1,1e-4,1e-4,1e-4\nc2,1e-4,1e-4,1e-4\n", "row 1"),     # no time
])
def test_bad_tables_raise_data_errors_naming_the_place(tmp_path, text, where):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match="bad.csv") as err:
        load_cells(p)
    assert where in str(err.value)


def test_drop_lists_the_read_and_the_incomplete_cell(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("cell,time (s),G (S)\nc1,1,1e-4\nc1,10,#N/A\nc1,100,1e-4\n"
                 "c2,1,2e-4\nc2,10,2e-4\nc2,100,2e-4\n")
    tab = load_cells(p, on_nan="drop")[0]
    assert tab.cells == ["c2"]
    assert [d.line for d in tab.report.dropped] == [3, 2]
    with pytest.raises(DataError, match="does not apply|do\\(es\\) not apply"):
        load_cells(p, group_by="cell")


def test_read_traces_need_even_sampling(tmp_path):
    p = tmp_path / "n.csv"
    t = np.arange(200) * 1e-3
    p.write_text("time (s),I (uA)\n" + "".join(f"{a:.6g},{b:.6g}\n" for a, b in
                                                zip(t, 1 + 0.01 * np.sin(t))))
    tr = load_read_traces(p)[0]
    assert tr.dt == pytest.approx(1e-3) and tr.values[0] == pytest.approx(1e-6)
    t[100:] += 5e-4
    p.write_text("time (s),I (uA)\n" + "".join(f"{a:.6g},1\n" for a in t))
    with pytest.raises(DataError, match="row 102"):
        load_read_traces(p)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "neurospice", "fit", "rram", *map(str, args),
                           "--quiet"], capture_output=True, text=True, timeout=300)


def test_relaxation_recipe_through_the_command_line(tmp_path):
    g0, g = synthetic(seed=3)
    data = write_long(tmp_path / "cells.csv", g0, g)
    out = tmp_path / "out"
    r = run_cli(data, "--recipe", "rram-relaxation", "--out", out)
    assert r.returncode == 0, r.stderr
    js = json.loads(next(out.glob("*.json")).read_text())
    d = js["derived"]
    for st, row in zip("LH", TRUTH.table):
        b, se = d[f"b_mean_{st}"]["value"], d[f"b_mean_{st}"]["stderr"]
        assert abs(b - row[2]) < 3 * se
    assert (out / "report.md").exists() or list(out.glob("*.md"))
    # without a state column, --states bins the first read
    wide = write_wide(tmp_path / "wide.csv", g)
    r = run_cli(wide, "--recipe", "rram-relaxation", "--states", "2", "--out", tmp_path / "w")
    assert r.returncode == 0, r.stderr
    js = json.loads(next((tmp_path / "w").glob("*.json")).read_text())
    assert js["derived"]["b_mean_0"]["value"] == pytest.approx(d["b_mean_L"]["value"],
                                                               rel=1e-6)


def test_read_noise_recipe_through_the_command_line(tmp_path):
    gen = np.random.default_rng(5)
    n, dt = 2 ** 14, 1e-3
    # 1/f noise by spectral shaping, plus a telegraph signal
    f = np.fft.rfftfreq(n, dt)
    spec = gen.standard_normal(f.size) + 1j * gen.standard_normal(f.size)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    flicker = np.fft.irfft(spec, n)
    flicker *= 1e-3 / flicker.std()
    state = np.cumsum(gen.random(n) < 0.01) % 2
    x = 1.0 + 0.02 * state + flicker
    p = tmp_path / "noise.csv"
    p.write_text("time (s),I (uA)\n" + "".join(f"{k * dt:.6g},{v:.9g}\n"
                                                for k, v in enumerate(x)))
    r = run_cli(p, "--recipe", "rram-read-noise", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    js = json.loads(next((tmp_path / "o").glob("*.json")).read_text())
    row = js["extra"]["traces"][0]
    assert row["rtn"]["amplitude"] == pytest.approx(0.02e-6, rel=0.1)
    assert row["rtn"]["tau_low_s"] == pytest.approx(0.1, rel=0.3)
