"""Command-line start-up: ``neurospice --help`` and ``neurospice sim`` on a tiny deck against
the bare simulator (``ngspice -b``) and the bare interpreter.

Each command runs as a user would run it (the installed ``neurospice`` script, a fresh
process), round-robin with the others so that the machine's drifts hit them alike. Python
writes its byte-code caches on the first (untimed) run even where the environment asks it
not to (PYTHONDONTWRITEBYTECODE), as an installed package has them; the printout says so.

Printed: each command's wall time, ``neurospice sim`` minus ``ngspice -b`` (the start-up the
CLI adds over the simulator; issue 16 asks for at most 0.15 s), ``neurospice --help`` minus
the bare interpreter, and their ratios. Nothing is asserted.

    .venv/bin/python bench/bench_cli.py [--repeats N]
"""

from __future__ import annotations

import os
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


def runner(argv: list[str], cwd: Path, env: dict):
    def go():
        subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
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
        t = T.measure_interleaved({k: runner(v, folder, env) for k, v in cases.items()},
                                  repeats=repeats, warmup=1)
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


if __name__ == "__main__":
    main()
