"""The lean per-run path of issue #16 gives the same results as before and keeps its promises
(timings live in bench/bench_simulators.py and bench/bench_calibration.py):

- an in-process run (ngspice-shared) makes no run folder and writes no deck, and its results
  equal batch ngspice's on the same circuit;
- a batch run's folder is emptied and reused by the next run (no folder made and removed
  per run), a kept run keeps its own; results of consecutive runs are equal;
- the log is read in the calling thread: all of a chatty program's output arrives, and a
  child it leaves behind holding the pipe does not hold the run up;
- ``run_series`` alters instance parameters (a Verilog-A card through OSDI) as well as
  sources: each run equals a fresh run of the circuit with those values, and a later series
  of the same circuit starts from the deck's values again;
- ``fileio.read_bytes`` is the one bounded reader under ``read_text`` and ``read_raw``; it
  reads the size the file has (not a buffer of the cap) and on to the cap if there is more;
- a circuit's references are checked once until it changes (``Circuit.validate``): a change
  made after a render (an element, a parameter, a hostile name set by hand) is checked at
  the next render and refused before any simulator sees it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from neurospice.errors import DataError, NetlistError, SimulationFailed
from neurospice.fileio import read_bytes
from neurospice.netlists import Circuit, Pulse
from neurospice.simulators import get_simulator
from neurospice.simulators.process import run_process
from neurospice.simulators.rawfile import read_raw

ngspice = pytest.mark.skipif(not get_simulator("ngspice").is_available(),
                             reason="ngspice not available")
shared = pytest.mark.skipif(not get_simulator("ngspice-shared").is_available(),
                            reason="libngspice not available")


def rc() -> Circuit:
    c = Circuit("rc")
    c.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-9, fall=1e-9, width=1e-3))
    c.resistor("1", "a", "b", 1e3)
    c.capacitor("1", "b", 0, 1e-6)
    c.tran(1e-4, 2e-3)
    c.op()
    return c


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's folder is ``tmp_path`` for the test: every run folder shows up there."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@shared
@ngspice
def test_an_in_process_run_makes_no_folder_and_equals_batch(private_tmp):
    c = rc()
    got = get_simulator("ngspice-shared").run(c)
    assert list(private_tmp.iterdir()) == [] and got.workdir is None
    ref = get_simulator("ngspice").run(c)
    for a, b in zip(got, ref):
        assert a.kind == b.kind and set(a.vectors) == set(b.vectors)
        for name in a.vectors:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-15)
    kept = get_simulator("ngspice-shared").run(c, keep=True)   # a kept run: its deck
    assert (kept.workdir / "deck.cir").is_file()


@ngspice
def test_batch_run_folders_are_emptied_and_reused(private_tmp):
    sim = get_simulator("ngspice")
    first = sim.run(rc())
    folders = list(private_tmp.iterdir())
    assert len(folders) <= 1 and all(not list(f.iterdir()) for f in folders)
    second = sim.run(rc())
    assert list(private_tmp.iterdir()) == folders      # the same folder, empty again
    for a, b in zip(first, second):
        for name in a.vectors:
            assert np.array_equal(a[name], b[name])
    kept = sim.run(rc(), keep=True)
    assert kept.workdir not in folders and (kept.workdir / "out.raw").is_file()


def test_the_log_is_read_whole_and_a_left_child_does_not_hold_the_run(tmp_path):
    code, log = run_process([sys.executable, "-c", "import sys\nfor k in range(20000): "
                             "print(k)\nprint('end', file=sys.stderr)"], cwd=tmp_path,
                            timeout=60, simulator="python")
    lines = log.split()
    assert code == 0 and lines[:3] == ["0", "1", "2"] and lines[-2:] == ["19999", "end"]
    start = time.monotonic()
    code, log = run_process(["sh", "-c", "sleep 30 & echo started"], cwd=tmp_path,
                            timeout=60, simulator="sh")
    assert code == 0 and "started" in log and time.monotonic() - start < 10


def mtj(params: dict) -> Circuit:
    from neurospice.compact_models.devices import get_device
    c = Circuit("mtj")
    c.vsource("in", "a", 0, 0.0)
    get_device("mtj").add_to(c, "1", ["a", 0, 0], params=params, rendering="osdi")
    c.dc("vin", -0.6, 0.61, 0.1)
    return c


BASE = {"rp": 2500.0, "tmr0": 1.2, "vh": 0.35, "m0": 1.0}


@shared
def test_run_series_alters_instance_parameters_as_fresh_runs():
    sim = get_simulator("ngspice-shared")
    c = mtj(BASE)
    other = {"rp": 3000.0, "tmr0": 0.9, "vh": 0.3, "m0": -1.0}
    runs = sim.run_series(c, [{f"n1.{k}": v for k, v in other.items()}, {"n1.rp": 2000.0}])
    for res, values in zip(runs, (other, {**other, "rp": 2000.0})):
        fresh = sim.run(mtj(values)).dc["i(vin)"]
        np.testing.assert_allclose(res.dc["i(vin)"], fresh, rtol=1e-12, atol=1e-18)
    # the same circuit again: it starts from the deck's values, not from the last series
    # (m0 back to +1 from -1: the current of the other state would differ by the TMR)
    again = sim.run_series(c, [{"n1.rp": 2200.0}, {"vin": 0.0}])
    fresh = sim.run(mtj({**BASE, "rp": 2200.0})).dc["i(vin)"]
    np.testing.assert_allclose(again[0].dc["i(vin)"], fresh, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(again[1].dc["i(vin)"], fresh, rtol=1e-12, atol=1e-18)
    base = sim.run(c).dc["i(vin)"]          # a plain run after a series: the deck as written
    np.testing.assert_allclose(base, sim.run(mtj(BASE)).dc["i(vin)"], rtol=1e-12)
    assert not np.allclose(base, fresh)


@shared
@pytest.mark.parametrize("change,match", [({"n1.nope": 1.0}, "not a parameter set"),
                                          ({"x9.rp": 1.0}, "not a parameter set"),
                                          ({"n1": 1.0}, "not an independent source"),
                                          ({"n1.rp": float("nan")}, "finite|number")])
def test_run_series_refuses_what_it_cannot_alter(change, match):
    with pytest.raises(NetlistError, match=match):
        get_simulator("ngspice-shared").run_series(mtj(BASE), [change])


def test_read_bytes_is_bounded_and_typed(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"\x00\xffabc")
    assert read_bytes(f, 5) == b"\x00\xffabc"
    with pytest.raises(DataError, match="5 bytes, more than 4"):
        read_bytes(f, 4)
    with pytest.raises(DataError, match="not a regular file"):
        read_bytes(tmp_path, 100)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(DataError, match="not a regular file"):
            read_bytes(tmp_path / "fifo", 100)     # opened without blocking: no hang
    with pytest.raises(SimulationFailed, match="more than 4 .the cap on raw files"):
        read_raw(f, max_bytes=4)
    with pytest.raises(SimulationFailed, match="cannot open"):
        read_raw(tmp_path / "absent.raw")


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="no /proc")
def test_read_bytes_reads_on_past_the_size_it_was_told():
    """read_bytes reads the size fstat gives, + 1, then on to the cap: a file with more than
    its size (a /proc file says 0 bytes, as a file growing while read would) is read whole
    up to the cap, and refused past it."""
    status = Path("/proc/self/status")
    assert os.stat(status).st_size == 0
    whole = read_bytes(status, 1 << 20)
    assert len(whole) > 100 and whole.startswith(b"Name:")
    with pytest.raises(DataError, match="grew past 100 bytes while read"):
        read_bytes(status, 100)


def counted_checks(monkeypatch) -> list:
    """Record every whole-circuit check (``writers.check``) made from now on."""
    from neurospice.netlists import writers

    calls, real = [], writers.check
    monkeypatch.setattr(writers, "check", lambda c: (calls.append(c), real(c))[1])
    return calls


def test_validation_is_cached_until_the_circuit_changes(monkeypatch):
    c = rc()
    c.param("rl", 1e3)
    calls = counted_checks(monkeypatch)
    first = c.to_netlist("ngspice")
    for dialect in ("ngspice", "vacask", "ngspice"):
        c.render(dialect)
    assert len(calls) == 1               # rendered four times, checked once
    c.resistor("2", "b", 0, "2*rl")      # a change through the API
    assert c.to_netlist("ngspice") != first and len(calls) == 2
    c.params["rl"] = 2e3                 # the containers count their changes too
    c.to_netlist("ngspice")
    c.analyses.append(c.analyses[0])
    c.to_netlist("ngspice")
    assert len(calls) == 4
    rc()                                 # a change anywhere invalidates: never a stale pass
    c.to_netlist("ngspice")
    c.to_netlist("ngspice")
    assert len(calls) == 5


def test_a_change_after_a_render_is_still_validated(tmp_path):
    """Rendered (and so checked) once, then changed: the next render checks again."""
    from neurospice.netlists import Expression, Resistor, Subcircuit

    c = rc()
    c.to_netlist("ngspice")
    c.instance("x1", "nosuch", ["b", "0"])                  # a broken reference
    with pytest.raises(NetlistError, match="unknown subcircuit"):
        c.to_netlist("ngspice")
    del c.elements["x1"]
    c.to_netlist("ngspice")
    sub = Subcircuit("rload", ["p", "n"], r=1e3)
    sub.resistor("1", "p", "n", "r")
    c.subcircuit(sub)
    inst = c.instance("x2", "rload", ["b", "0"], r=2e3)
    c.to_netlist("ngspice")
    inst.params["r"] = Expression("2*nosuch")                 # a parameter set in place
    with pytest.raises(NetlistError, match="unknown parameter"):
        c.to_netlist("ngspice")
    inst.params["r"] = 2e3
    c.to_netlist("ngspice")
    # a hostile name added after the first render: refused at the next one, and by every
    # simulator before it runs anything
    marker = tmp_path / "marker"
    evil = Resistor("R9", ("b", "0"), 1e3)
    evil.name = f"R9\n.control\nshell touch {marker}\n.endc"
    c.elements["r9"] = evil
    with pytest.raises(NetlistError, match="line"):
        c.to_netlist("ngspice")
    for name in ("ngspice", "ngspice-shared"):
        sim = get_simulator(name)
        if sim.is_available():
            with pytest.raises(NetlistError):
                sim.run(c)
    assert not marker.exists()


def test_raw_values_are_decoded_on_first_use_alike():
    """A raw plot's values stay bytes until used: ``column`` (no numpy) gives what ``data``
    gives, for real, complex and ASCII plots; a plot pickles before and after decoding;
    threads decoding one plot at once all get its array; a Result built on the plot writes
    the same CSV either way."""
    import pickle
    import threading

    from neurospice.netlists.values import ngspice_name
    from neurospice.simulators.names import plot_to_result
    from neurospice.simulators.rawfile import parse_raw

    rng = np.random.default_rng(0)
    real, cplx = rng.normal(size=(7, 3)), rng.normal(size=(5, 2, 2))

    def header(name, flags, nvars, npoints, mode):
        names = ["time" if k == 0 else f"v(n{k})" for k in range(nvars)]
        lines = ["Title: t", "Date: d", f"Plotname: {name}", f"Flags: {flags}",
                 f"No. Variables: {nvars}", f"No. Points: {npoints}", "Variables:"]
        lines += [f"\t{k}\t{n}\tvoltage" for k, n in enumerate(names)] + [f"{mode}:"]
        return ("\n".join(lines) + "\n").encode()

    blob = (header("Transient Analysis", "real", 3, 7, "Binary") + real.tobytes()
            + header("AC Analysis", "complex", 2, 5, "Binary") + cplx.tobytes())
    ascii_ = header("Transient Analysis", "real", 3, 7, "Values") + "".join(
        f"{p}\t" + "\n\t".join(repr(float(v)) for v in row) + "\n" for p, row in enumerate(real)
    ).encode()
    for plot in [*parse_raw(blob), *parse_raw(ascii_)]:
        columns = [plot.column(k) for k in range(len(plot.variables))]
        again = pickle.loads(pickle.dumps(plot))            # undecoded: bytes pickled
        got = []
        threads = [threading.Thread(target=lambda: got.append(again.data)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 8 and all(np.array_equal(g, got[0]) for g in got)
        for k, column in enumerate(columns):
            assert column == plot.data[:, k].tolist() == plot.column(k) == got[0][:, k].tolist()
        assert pickle.loads(pickle.dumps(plot)).data.tolist() == plot.data.tolist()
    assert np.array_equal(parse_raw(blob)[0].data, real)
    assert np.array_equal(parse_raw(blob)[1].data, cplx[..., 0] + 1j * cplx[..., 1])
    lazy, eager = (plot_to_result(parse_raw(blob)[1], "ac", ngspice_name) for _ in range(2))
    eager.vectors                                            # decoded before writing
    with tempfile.TemporaryDirectory() as d:
        a, b = lazy.to_csv(Path(d) / "a.csv"), eager.to_csv(Path(d) / "b.csv")
        assert a.read_text() == b.read_text()
        assert a.read_text().splitlines()[0] == "frequency [Hz],re(v(n1)) [V],im(v(n1)) [V]"
