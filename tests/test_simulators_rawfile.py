"""The SPICE3 raw-file reader: hand-made files of every flavour, and files the simulators write.
"""

from __future__ import annotations

import os
import struct
import subprocess

import numpy as np
import pytest

from neurospice.errors import SimulationFailed
from neurospice.simulators import get_simulator
from neurospice.simulators.rawfile import RawFileError, parse_raw, read_raw


def _header(plotname, flags, names, npoints, mode="Binary"):
    lines = ["Title: test", "Date: today", f"Plotname: {plotname}", f"Flags: {flags}",
             f"No. Variables: {len(names)}", f"No. Points: {npoints}      ", "Variables:"]
    lines += [f"\t{i}\t{n}\t{t}" for i, (n, t) in enumerate(names)]
    return ("\n".join(lines) + f"\n{mode}:\n").encode()


def test_binary_real_and_complex_plots_in_one_file():
    t = np.array([0.0, 1e-3, 2e-3])
    v = np.array([0.1, 0.2, 0.3])
    real = _header("Transient Analysis", "real", [("time", "time"), ("v(out)", "voltage")], 3)
    real += np.column_stack([t, v]).astype("<f8").tobytes()
    f = np.array([1.0, 10.0])
    h = np.array([1 + 2j, 3 - 4j])
    cplx = _header("AC Analysis", "complex", [("frequency", "frequency"), ("v(out)", "voltage")],
                   2)
    cplx += np.column_stack([f + 0j, h]).astype("<c16").tobytes()
    plots = parse_raw(real + cplx)
    assert [p.plotname for p in plots] == ["Transient Analysis", "AC Analysis"]
    np.testing.assert_array_equal(plots[0]["time"], t)
    np.testing.assert_array_equal(plots[0]["V(OUT)"], v)  # case-insensitive fallback
    assert not plots[0].is_complex and plots[1].is_complex
    np.testing.assert_array_equal(plots[1]["v(out)"], h)
    assert plots[1].variables[0].type == "frequency"
    with pytest.raises(KeyError, match="v\\(in\\)"):
        plots[0]["v(in)"]


@pytest.mark.parametrize("flags", ["real padded", "real unpadded", "real"])
def test_ascii_real(flags):
    body = b"0\t0.000000e+00\n\t1.5\n1\t1e-3\n\t-2.5e-1\n"
    blob = _header("DC transfer characteristic", flags, [("v-sweep", "voltage"),
                                                         ("i(v1)", "current")], 2, "Values")
    plot = parse_raw(blob + body)[0]
    np.testing.assert_array_equal(plot.data, [[0.0, 1.5], [1e-3, -0.25]])
    assert not plot.truncated


def test_ascii_complex_then_another_plot():
    first = _header("AC Analysis", "complex", [("frequency", "frequency"),
                                               ("v(a)", "voltage")], 2, "Values")
    first += b"0\t1.0,0.0\n\t0.5,-0.5\n1\t2.0,0.0\n\t0.25,0.125\n\n"
    second = _header("Operating Point", "real", [("v(a)", "voltage")], 1, "Values")
    second += b"0\t3.0\n"
    ac, op = parse_raw(first + second)
    np.testing.assert_array_equal(ac["v(a)"], [0.5 - 0.5j, 0.25 + 0.125j])
    assert op["v(a)"][0] == 3.0


def test_truncated_binary_is_an_error_unless_partial_is_asked_for():
    blob = _header("Transient Analysis", "real", [("time", "time"), ("v(x)", "voltage")], 5)
    blob += struct.pack("<6d", 0, 1, 1, 2, 2, 3) + b"\x00\x01"
    with pytest.raises(SimulationFailed, match="3 of the 5 points"):
        parse_raw(blob)
    plot = parse_raw(blob, partial=True)[0]
    assert plot.n_points == 3 and plot.declared_points == 5 and plot.truncated
    np.testing.assert_array_equal(plot["v(x)"], [1, 2, 3])


@pytest.mark.parametrize("blob,match", [
    (b"", "empty"),
    (b"Title: x\nNo. Variables: 1\nNo. Points: 1\n", "Binary"),
    (b"garbage line\n", "unexpected header"),
])
def test_bad_files_raise(blob, match):
    with pytest.raises(RawFileError, match=match):
        parse_raw(blob)


RC = "rc\nV1 in 0 DC 1 AC 1\nR1 in out 1k\nC1 out 0 1u\n.op\n.ac dec 5 1 1e4\n" \
     ".tran 1e-5 1e-3\n.end\n"


@pytest.mark.ngspice
@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice not found")
def test_ngspice_binary_and_ascii_files_agree(tmp_path):
    exe = str(get_simulator("ngspice").executable)
    (tmp_path / "rc.cir").write_text(RC)
    env = dict(os.environ)
    env.pop("SPICE_ASCIIRAWFILE", None)
    subprocess.run([exe, "-b", "-r", "bin.raw", "rc.cir"], cwd=tmp_path, env=env,
                   capture_output=True, check=True, timeout=60)
    env["SPICE_ASCIIRAWFILE"] = "1"
    subprocess.run([exe, "-b", "-r", "asc.raw", "rc.cir"], cwd=tmp_path, env=env,
                   capture_output=True, check=True, timeout=60)
    assert b"Values:" in (tmp_path / "asc.raw").read_bytes()
    binary, ascii_ = read_raw(tmp_path / "bin.raw"), read_raw(tmp_path / "asc.raw")
    assert [p.plotname for p in binary] == ["AC Analysis", "Operating Point",
                                            "Transient Analysis"]
    for b, a in zip(binary, ascii_):
        assert b.names == a.names and b.n_points == a.n_points
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-300)
    ac = binary[0]
    assert ac.is_complex and ac.names == ["frequency", "v(in)", "v(out)", "i(v1)"]
    h = ac["v(out)"]
    f = ac["frequency"].real
    np.testing.assert_allclose(h, 1 / (1 + 2j * np.pi * f * 1e-3), rtol=1e-9)
    assert binary[1]["v(out)"][0] == pytest.approx(1.0)


@pytest.mark.vacask
@pytest.mark.skipif(not get_simulator("vacask").is_available(), reason="vacask not found")
def test_vacask_raw_files(tmp_path):
    deck = """rc
load "resistor.osdi"
load "capacitor.osdi"
model r resistor
model c capacitor
model vsource vsource
v1 (in 0) vsource dc=1 mag=1
r1 (in out) r r=1k
c1 (out 0) c c=1u
control
  analysis op1 op
  analysis ac1 ac from=1 to=1e4 mode="dec" points=5
endc
"""
    res = get_simulator("vacask").run(deck, workdir=tmp_path)
    assert res.workdir == tmp_path
    op = read_raw(tmp_path / "op1.raw")[0]
    assert op.names == ["in", "out", "v1:flow(br)"] and op["out"][0] == pytest.approx(1.0)
    ac = read_raw(tmp_path / "ac1.raw")[0]
    assert ac.is_complex and ac.n_points == 21
    f = ac["frequency"].real
    np.testing.assert_allclose(ac["out"], 1 / (1 + 2j * np.pi * f * 1e-3), rtol=1e-9)
    np.testing.assert_array_equal(res.ac.v("out"), ac["out"])
