"""Attack the raw-file reader with real files cut and damaged: every outcome is the same
numbers or a SimulationFailed (RawFileError), never another exception, never a shorter plot.

The files are written by the real simulators (ngspice binary and ASCII, VACASK); each is cut
at every byte position and damaged by a few hundred seeded mutations (byte flips, deletions,
insertions, duplicated spans).
"""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from neurospice.errors import SimulationFailed
from neurospice.simulators import get_simulator
from neurospice.simulators.rawfile import RawFileError, parse_raw, read_raw

RC = "rc\nV1 in 0 DC 1 AC 1\nR1 in out 1k\nC1 out 0 1u\n.op\n.ac dec 2 1 1e3\n" \
     ".tran 1e-4 5e-4\n.end\n"

VACASK_RC = """rc
load "resistor.osdi"
load "capacitor.osdi"
model r resistor
model c capacitor
model vsource vsource
v1 (in 0) vsource dc=1 mag=1
r1 (in out) r r=1k
c1 (out 0) c c=1u
control
  analysis ac1 ac from=1 to=1e3 mode="dec" points=2
  analysis tr1 tran step=1e-4 stop=5e-4
endc
"""


def _ngspice_raw(tmp_path, ascii_: bool) -> bytes:
    sim = get_simulator("ngspice")
    if not sim.is_available():
        pytest.skip("ngspice not found")
    (tmp_path / "rc.cir").write_text(RC)
    env = dict(os.environ)
    env.pop("SPICE_ASCIIRAWFILE", None)
    if ascii_:
        env["SPICE_ASCIIRAWFILE"] = "1"
    subprocess.run([str(sim.executable), "-b", "-r", "out.raw", "rc.cir"], cwd=tmp_path,
                   env=env, capture_output=True, check=True, timeout=60)
    return (tmp_path / "out.raw").read_bytes()


def _vacask_raw(tmp_path) -> bytes:
    sim = get_simulator("vacask")
    if not sim.is_available():
        pytest.skip("vacask not found")
    sim.run(VACASK_RC, workdir=tmp_path)
    return (tmp_path / "ac1.raw").read_bytes() + b"\n" + (tmp_path / "tr1.raw").read_bytes()


@pytest.fixture(scope="module", params=["ngspice-binary", "ngspice-ascii", "vacask"])
def raw_file(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "vacask":
        return _vacask_raw(tmp)
    return _ngspice_raw(tmp, ascii_=request.param == "ngspice-ascii")


def _same(a, b) -> bool:
    return (a.plotname == b.plotname and a.names == b.names and a.data.shape == b.data.shape
            and np.array_equal(a.data, b.data, equal_nan=True))


def _outcome(blob: bytes):
    """The plots of ``blob``, or None when it is refused with a RawFileError; any other
    exception fails the test. A plot that parses always holds every point it announces."""
    try:
        plots = parse_raw(blob)
    except RawFileError as exc:
        assert isinstance(exc, SimulationFailed) and str(exc)
        return None
    for p in plots:
        assert not p.truncated
        assert p.data.shape == (p.declared_points, len(p.variables))
    return plots


def test_every_cut_reads_a_prefix_of_whole_plots_or_is_refused(raw_file):
    original = parse_raw(raw_file)
    assert len(original) >= 2
    refused = 0
    for end in range(len(raw_file)):
        plots = _outcome(raw_file[:end])
        if plots is None:
            refused += 1
            continue
        # the format has no plot count: a cut between plots reads as the plots before it
        assert len(plots) < len(original) or raw_file[end:].strip(b"\n\r\t \x00") == b""
        for got, want in zip(plots, original):
            assert _same(got, want), f"cut at byte {end} read different numbers"
    assert refused > len(raw_file) * 0.9


MUTATIONS = 400


def test_seeded_mutations_read_consistent_plots_or_are_refused(raw_file):
    original = parse_raw(raw_file)
    rng = np.random.default_rng(20240611)
    outcomes = {"refused": 0, "read": 0}
    for _ in range(MUTATIONS):
        blob = bytearray(raw_file)
        what = rng.integers(4)
        at = int(rng.integers(len(blob)))
        if what == 0:
            blob[at] ^= 1 << int(rng.integers(8))
        elif what == 1:
            del blob[at:at + int(rng.integers(1, 9))]
        elif what == 2:
            blob[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
        else:
            span = bytes(blob[at:at + int(rng.integers(1, 64))])
            blob[at:at] = span
        plots = _outcome(bytes(blob))
        outcomes["refused" if plots is None else "read"] += 1
        if plots is not None and len(plots) == len(original):
            # a damaged value may read as another number, but never as a shorter plot
            for got, want in zip(plots, original):
                assert len(got.variables) == len(want.variables)
    assert outcomes["refused"] > 0


@pytest.mark.parametrize("blob,match", [
    (b"Title: t\nNo. Variables: 0\nNo. Points: 1\nVariables:\nBinary:\n", "at least 1"),
    (b"Title: t\nNo. Variables: x\nNo. Points: 1\n", "not a count"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: -3\n", "not a count"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: 99999999999999999999999\n", "not a count"),
    (b"Title: t\nNo. Variables: 2\nNo. Points: 1\nVariables:\n\t0\tt\ttime\n", "truncated"),
    (b"Title: t\nNo. Variables: 2\nNo. Points: 1\nVariables:\n\t0\tt\ttime\n\t5\tv\tvoltage\n"
     b"Binary:\n" + b"\0" * 16, "expected index 1"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: 1000000000000\nVariables:\n\t0\tt\ttime\n"
     b"Values:\n0\t1.0\n", "1 of the 1000000000000 points"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: 2\nVariables:\n\t0\tt\ttime\nValues:\n"
     b"0\t1.0\n1\t2.5", "no final newline"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: 1\nVariables:\n\t0\tt\ttime\nValues:\n"
     b"0\t1_0\n", "not a number"),
    (b"Title: t\nNo. Variables: 1\nNo. Points: 1\nVariables:\n\t0\tt\ttime\nValues:\n"
     b"7\t1.0\n", "expected the index 0"),
    (b"\xff\xfe\x00garbage\x00" * 50, "unexpected header"),
])
def test_corrupt_headers_and_values_are_refused(blob, match):
    with pytest.raises(SimulationFailed, match=match):
        parse_raw(blob)


def test_read_raw_refuses_non_regular_and_oversized_files(tmp_path):
    with pytest.raises(SimulationFailed, match="not a regular file"):
        read_raw("/dev/zero")
    with pytest.raises(SimulationFailed, match="not a regular file"):
        read_raw(tmp_path)
    big = tmp_path / "big.raw"
    big.write_bytes(b"Title: t\n" + b" " * 5000)
    with pytest.raises(SimulationFailed, match="cap on raw files"):
        read_raw(big, max_bytes=4096)
    with pytest.raises(SimulationFailed, match="cannot open"):
        read_raw(tmp_path / "absent.raw")
