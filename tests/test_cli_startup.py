"""The command line imports only what the chosen command needs (issue 16, start-up).

Each case runs ``neurospice.cli.main`` in a fresh interpreter and lists the heavy libraries
left in ``sys.modules``: counted modules, not timed (bench/bench_cli.py times them).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from neurospice.simulators import get_simulator

HEAVY = ("numpy", "scipy", "lmfit", "xarray", "matplotlib", "pandas", "h5py", "netCDF4",
         "openpyxl", "tqdm", "sympy", "numba")

PROBE = """
import contextlib, io, json, sys
from neurospice.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:          # --help exits through argparse
        code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(%r)))
print(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()}))
"""


def imported(*argv: str, cwd=None) -> dict:
    probe = PROBE % json.dumps(HEAVY)
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True,
                          text=True, timeout=120, cwd=cwd, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_help_imports_no_heavy_library():
    got = imported("--help")
    assert got["code"] == 0 and "sim" in got["out"] and "fit" in got["out"]
    assert got["heavy"] == []


def test_a_command_name_alone_builds_only_that_command():
    """``neurospice fit --help`` lists the recipes' options (the registry is read) without
    importing the fitting or plotting libraries; a misspelt command is refused with the
    list of commands and nothing heavy imported."""
    got = imported("fit", "--help")
    assert got["code"] == 0 and "--recipe" in got["out"]
    assert not set(got["heavy"]) & {"scipy", "lmfit", "matplotlib", "xarray", "pandas"}
    got = imported("bogus")
    assert got["code"] == 2 and "invalid choice: 'bogus'" in got["out"]
    assert got["heavy"] == []


def test_the_full_parser_still_has_every_command():
    """build_parser() without arguments builds every command's options (the documentation
    and the dialect-registry test read them); main builds only the one given."""
    from neurospice.cli import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a.choices, dict))
    assert list(sub.choices) == list(COMMANDS)
    for name, command in sub.choices.items():     # a handler, or sub-commands with theirs
        assert "func" in command._defaults or any(
            isinstance(a.choices, dict) for a in command._actions), name
    lean = build_parser(["sim"])
    sub = next(a for a in lean._actions if isinstance(a.choices, dict))
    assert [a.dest for a in sub.choices["fit"]._actions] == ["help"]
    assert "func" not in sub.choices["fit"]._defaults
    assert lean.parse_args(["sim", "x.cir"]).netlist == "x.cir"


@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice missing")
def test_sim_on_a_tiny_deck_imports_numpy_only(tmp_path):
    (tmp_path / "tiny.cir").write_text("* tiny\nV1 a 0 1\nR1 a 0 1000\n.op\n.end\n")
    got = imported("sim", "tiny.cir", cwd=tmp_path)
    assert got["code"] == 0, got["out"]
    assert "op: " in got["out"] and (tmp_path / "tiny.csv").is_file()
    assert got["heavy"] == ["numpy"]
