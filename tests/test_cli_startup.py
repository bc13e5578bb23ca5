"""The command line imports only what the chosen command needs (issue 16, start-up).

Each case runs ``neurospice.cli.main`` in a fresh interpreter and lists the heavy libraries
left in ``sys.modules``: counted modules, not timed (bench/bench_cli.py times them).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
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
own = sorted(m for m in sys.modules if m.startswith("neurospice"))
print(json.dumps({"code": code, "heavy": heavy, "own": own, "out": out.getvalue(),
                  "dataclasses": "dataclasses" in sys.modules}))
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


NGSPICE = pytest.mark.skipif(not get_simulator("ngspice").is_available(),
                             reason="ngspice missing")


@NGSPICE
def test_sim_on_a_tiny_deck_imports_no_heavy_library(tmp_path):
    """A deck file goes to ngspice as text and its vectors to the CSV as numbers: no numpy,
    no Circuit classes, no deck reader, no dataclasses module (its import was a sixth of the
    start-up); the CSV holds the full-precision values."""
    (tmp_path / "tiny.cir").write_text("* tiny\nV1 a 0 1\nR1 a b 1000\nR2 b 0 3000\n.op\n"
                                       ".end\n")
    got = imported("sim", "tiny.cir", cwd=tmp_path)
    assert got["code"] == 0, got["out"]
    assert "op: 3 signals x 1 points" in got["out"]
    assert got["heavy"] == []
    assert not {"neurospice.netlists.circuit", "neurospice.netlists.reader",
                "neurospice.simulators.measure"} & set(got["own"])
    assert not got["dataclasses"]
    head, values = (tmp_path / "tiny.csv").read_text().splitlines()
    assert head == "v(a) [V],v(b) [V],i(v1) [A]"
    assert [float(v) for v in values.split(",")] == pytest.approx([1.0, 0.75, -2.5e-4],
                                                                  rel=1e-12)


@NGSPICE
def test_sim_reads_what_a_deck_needs_only_when_it_has_it(tmp_path):
    """A ``.meas`` card brings the deck reader (and numpy, which measures), an ``.include``
    the reader's absolute_includes; a tran deck's CSV matches the Result's arrays."""
    (tmp_path / "part.inc").write_text("R2 b 0 1000\n")
    (tmp_path / "m.cir").write_text(
        "* measured\nV1 a 0 pulse(0 1 0 1u 1u 1m 2m)\nR1 a b 1000\n.include part.inc\n"
        "C1 b 0 1n\n.tran 1u 20u\n.meas tran vb find v(b) at=10u\n.end\n")
    got = imported("sim", "m.cir", cwd=tmp_path)
    assert got["code"] == 0, got["out"]
    assert {"neurospice.netlists.reader", "neurospice.simulators.measure"} <= set(got["own"])
    assert "numpy" in got["heavy"]
    assert "vb = " in got["out"]
    from neurospice.simulators import load_result

    tran = load_result(tmp_path / "m.csv")
    assert tran.kind == "tran" and tran.n_points > 10
    text = (tmp_path / "m.cir").read_text().replace("part.inc", str(tmp_path / "part.inc"))
    ref = get_simulator("ngspice").run(text, allow=[tmp_path])
    assert list(tran.names) == list(ref.tran.names)
    for name in ref.tran.names:         # %.17g: every float read back as it was
        assert np.array_equal(tran[name], ref.tran[name]), name
