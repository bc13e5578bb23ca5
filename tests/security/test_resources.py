"""Bounded resources: every phase of every back end stops at its timeout (+5 s at most),
decks and logs are capped, odd files are refused, failing in-process runs do not pile up
memory, and a killed run leaves no run folder behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from neurospice.errors import ArgumentError, NetlistError, SimulationFailed, SimulationTimeout
from neurospice.simulators import get_simulator
from neurospice.simulators.base import read_deck_file
from neurospice.simulators.process import run_process
from neurospice.simulators.testing import simulator_param

SPICE = [simulator_param("ngspice"), simulator_param("ngspice-shared")]
OK = "ok\nV1 a 0 1\nR1 a 0 1k\n.op\n.end\n"
LOOP = "loop\nV1 a 0 1\nR1 a 0 1\n.op\n.control\nlet i = 0\nwhile i < 1\nlet j = 1\nend\n" \
       ".endc\n.end\n"


@pytest.mark.parametrize("name", SPICE)
def test_a_control_loop_stops_at_the_timeout(name):
    start = time.monotonic()
    with pytest.raises(SimulationTimeout) as info:
        get_simulator(name).run(LOOP, timeout=1, trusted=True)
    assert time.monotonic() - start < 1 + 5
    assert "timeout=1.0" in str(info.value)
    if name == "ngspice-shared":
        assert "while running its .control commands" in str(info.value)
    assert get_simulator(name).run(OK).op.scalar("v(a)") == pytest.approx(1.0)


def test_a_large_in_process_deck_stops_at_the_timeout(tmp_path):
    """Loading and solving a 200 000-element chain outlasts the timeout: the run stops within
    timeout + 5 s (timed on run_deck, the simulator's part) and says which phase it was in."""
    n = 200_000
    lines = "\n".join(f"R{i} n{i} n{i + 1} 1" for i in range(n))
    text = f"big\nV1 n0 0 1\n{lines}\nRend n{n} 0 1\n.op\n.end\n"
    sim = get_simulator("ngspice-shared")
    deck = sim.prepare(text, tmp_path)
    start = time.monotonic()
    with pytest.raises(SimulationTimeout,
                       match="while (loading the deck|running the analysis)"):
        sim.run_deck(deck, tmp_path, 0.5)
    assert time.monotonic() - start < 0.5 + 5
    assert sim.run(OK).op.scalar("v(a)") == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["ngspice", "ngspice-shared", "vacask"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1, 0, "10", True])
def test_a_bad_timeout_is_an_argument_error(name, bad):
    with pytest.raises(ArgumentError, match="timeout"):
        get_simulator(name).run(OK, timeout=bad)


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "0", "x", "1e999"])
def test_cli_refuses_a_bad_timeout(bad, tmp_path):
    (tmp_path / "d.cir").write_text(OK)
    out = subprocess.run([sys.executable, "-m", "neurospice.cli", "sim", "d.cir",
                          "--timeout", bad], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 2:  # neurospice.cli may have no __main__ guard: call main()
        out = subprocess.run([sys.executable, "-c", "import sys; from neurospice.cli import "
                              "main; sys.exit(main())", "sim", "d.cir", "--timeout", bad],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--timeout" in out.stderr and "Traceback" not in out.stderr


def test_deck_caps():
    sim = get_simulator("ngspice")
    with pytest.raises(NetlistError, match="lines, more than the cap"):
        sim.run("t\n" + "* c\n" * 1_000_001 + ".op\n.end\n")
    sim = type(sim)()
    sim.max_deck_bytes = 1000
    with pytest.raises(NetlistError, match="characters, more than the cap"):
        sim.run("t\n* " + "x" * 2000 + "\n.op\n.end\n")


def test_reading_a_deck_refuses_odd_files(tmp_path):
    for path in ("/dev/zero", tmp_path):
        with pytest.raises(NetlistError, match="not a regular file"):
            read_deck_file(path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NetlistError, match="not a regular file"):
        read_deck_file(fifo)
    big = tmp_path / "big.cir"
    big.write_text("x" * 2000)
    with pytest.raises(NetlistError, match="2000 bytes, more than 1000"):
        read_deck_file(big, max_bytes=1000)
    latin = tmp_path / "latin.cir"
    latin.write_bytes(b"t\nR1 a 0 1 \xe9\n")
    with pytest.raises(NetlistError, match="not UTF-8") as info:
        read_deck_file(latin)
    assert info.value.line == 2
    with pytest.raises(NetlistError, match="cannot read"):
        read_deck_file(tmp_path / "absent.cir")


def test_the_log_kept_is_capped(tmp_path):
    code, log = run_process([sys.executable, "-c", "print('x' * 99 + '\\n', end='') or "
                             "[print('y' * 99) for _ in range(100_000)]"], cwd=tmp_path,
                            timeout=60, simulator="python", log_max_bytes=1_000_000)
    assert code == 0 and len(log) < 1_000_200
    assert log.startswith("[... the first ") and log.rstrip().endswith("y" * 99)


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1))


@pytest.mark.slow
def test_failing_in_process_runs_do_not_grow_memory():
    sim = get_simulator("ngspice-shared")
    fatal = "fatal\n.subckt s a b\nR1 a b 1\nV1 a 0 1\n.op\n.end\n"   # no .ends: ngspice exits
    for _ in range(5):      # warm up (helper started, imports done)
        with pytest.raises(SimulationFailed):
            sim.run(fatal)
    before = _rss_kb()
    for _ in range(250):
        with pytest.raises(SimulationFailed, match="subckt"):
            sim.run(fatal)
    assert _rss_kb() - before < 20_000
    assert sim.run(OK).op.scalar("v(a)") == pytest.approx(1.0)


SCRIPT = textwrap.dedent("""
    import sys
    from neurospice.simulators import get_simulator
    deck = ("slow\\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\\nR1 in out 1k\\nC1 out 0 1u\\n"
            ".tran 1m 100 0 1n\\n.end\\n")
    print("running", flush=True)
    get_simulator(sys.argv[1]).run(deck, timeout=120)
""")


@pytest.mark.parametrize("name", SPICE)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_run_leaves_no_run_folder(name, sig, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, name], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def started():
        if name == "ngspice-shared":   # an in-process run makes no folder: its helper runs
            return subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        return list(tmp_path.glob("neurospice-*"))

    try:
        assert proc.stdout.readline().strip() == "running"
        deadline = time.monotonic() + 30
        while not started() and time.monotonic() < deadline:
            time.sleep(0.05)
        running = started()
        assert running, "the run never started"
        time.sleep(0.5)
        proc.send_signal(sig)
        proc.wait(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert not list(tmp_path.glob("neurospice-*")), "a run folder was left behind"
    if name == "ngspice-shared":       # the helper died with its parent
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{pid}").exists() for pid in running) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(Path(f"/proc/{pid}").exists() for pid in running)
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert not left.stdout.strip()


def test_the_helper_outlives_the_thread_that_started_it_and_dies_with_the_process():
    """An in-process run from a pool thread that has ended: the helper it started still
    serves the next run (a death signal tied to the starting thread would have killed it);
    a SIGKILL of the process takes the helper (and its process group) down with it."""
    script = textwrap.dedent("""
        import os, sys, threading
        from neurospice.simulators import get_simulator
        sim = get_simulator("ngspice-shared")
        deck = "ok\\nV1 a 0 1\\nR1 a 0 1k\\n.op\\n.end\\n"
        t = threading.Thread(target=sim.run, args=(deck,))
        t.start(); t.join()
        res = sim.run(deck)              # the same helper, its starting thread gone
        print(float(res.op["i(v1)"][0]), flush=True)
        print("ready", flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert float(proc.stdout.readline()) == pytest.approx(-1e-3, rel=1e-9)
        assert proc.stdout.readline().strip() == "ready"
        helpers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                 text=True).stdout.split()
        assert len(helpers) == 1, helpers
        proc.kill()
        proc.wait(timeout=15)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{helpers[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        status = Path(f"/proc/{helpers[0]}/status")
        assert not status.exists() or "zombie" in status.read_text()
    finally:
        proc.kill()
        proc.wait()
