"""Command-line start-up: ``neurospice --help`` and ``neurospice sim`` on a tiny deck against
the bare simulator (``ngspice -b``) and the bare interpreter.

Each command runs as a user would run it (the installed ``neurospice`` script, a fresh
process), round-robin with the others so that the machine's drifts hit them alike. Python
writes its byte-code caches on the first (untimed) run even where the environment asks it
not to (PYTHONDONTWRITEBYTECODE), as an installed package has them; the printout says so.

Printed: each command's wall time, ``neurospice sim`` minus ``ngspice -b`` (the start-up the
CLI adds over the simulator; issue 16 asks for at most 0.15 s), ``neurospice --help`` minus
the bare interpreter, and their ratios; then the same in CPU time (user + system of the
process and the children it waited for, ngspice under ``neurospice sim`` included): on a
shared machine the wall clock also counts the time the other users hold the cores, the CPU
time does not. Nothing is asserted.

    .venv/bin/python bench/bench_cli.py [--repeats N]
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _timing as T

TINY = "* tiny\nV1 a 0 1\nR1 a b 1000\nR2 b 0 1000\n.op\n.end\n"


def neurospice_command() -> list[str]:
    """The installed ``neurospice`` script beside this interpreter, else ``-m neurospice``."""
    script = Path(sys.executable).with_name("neurospice")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "neurospice"]


def children_cpu() -> float:
    """User + system seconds of the children this process has waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def runner(argv: list[str], cwd: Path, env: dict, cpu: list[float]):
    """A callable that runs ``argv`` once and appends its CPU seconds to ``cpu``."""
    def go():
        before = children_cpu()
        subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        cpu.append(children_cpu() - before)
    return go


def main() -> None:
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 10
    ngspice = shutil.which("ngspice")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = neurospice_command()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "tiny.cir").write_text(TINY)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "neurospice --help": [*cli, "--help"],
        }
        if ngspice:
            cases["ngspice -b tiny.cir"] = [ngspice, "-b", "tiny.cir"]
            cases["neurospice sim tiny.cir"] = [*cli, "sim", "tiny.cir", "--force"]
        cpu = {k: [] for k in cases}
        t = T.measure_interleaved({k: runner(v, folder, env, cpu[k]) for k, v in cases.items()},
                                  repeats=repeats, warmup=1)
    cpu_t = {k: T.Timing(v[1:]) for k, v in cpu.items()}   # the warm-up run left out
    T.header("command-line start-up (fresh processes, byte-code cached)")
    T.note(f"neurospice: {' '.join(Path(c).name for c in cli)}; {repeats} runs each, "
           "round-robin")
    for name, timing in t.items():
        T.row(name, timing)
    T.row("neurospice --help - python -c pass",
          t["neurospice --help"].median - t["python -c pass"].median, "s")
    T.ratio("neurospice --help / python -c pass", t["neurospice --help"], t["python -c pass"])
    if not ngspice:
        T.note("ngspice not found: no sim comparison")
        return
    T.row("neurospice sim - ngspice -b (start-up added)",
          t["neurospice sim tiny.cir"].median - t["ngspice -b tiny.cir"].median, "s")
    T.row("neurospice sim - python -c 'import numpy'",
          t["neurospice sim tiny.cir"].median - t["python -c 'import numpy'"].median, "s")
    T.ratio("neurospice sim / ngspice -b, tiny deck", t["neurospice sim tiny.cir"],
            t["ngspice -b tiny.cir"])
    T.header("the same in CPU time (user + system, children included)")
    for name, timing in cpu_t.items():
        T.row(name, timing)
    T.row("neurospice --help - python -c pass (CPU)",
          cpu_t["neurospice --help"].median - cpu_t["python -c pass"].median, "s")
    T.row("neurospice sim - ngspice -b (CPU)",
          cpu_t["neurospice sim tiny.cir"].median - cpu_t["ngspice -b tiny.cir"].median, "s")


if __name__ == "__main__":
    main()
