"""Foreign decks (tests/decks/foreign/): small decks in the styles other people write
(``.control`` blocks, ``.end``-less decks, text after ``.end``, Windows line endings, tabs,
non-ASCII comments, ``.param`` functions, nested subcircuits, quoted ``.lib`` sections,
level-1 MOSFETs and BJTs, ``.tran`` with tstart and tmax, nested ``.dc``, ternary B-sources,
XSPICE, switches, ``.func``, ``.options savecurrents``, titles that look like cards, includes
outside the deck's folder, ``*#`` command lines). Each goes through ``neurospice sim`` (in
this process) on ngspice (the deck as written) and on VACASK (read into a Circuit, rendered
anew). Each either runs and matches plain ``ngspice -b`` on the same file (the same vectors;
ngspice itself to 1e-9, VACASK within the corpus tolerances; the same ``.meas`` values), or is
refused with the typed error :data:`REFUSED` names, whose message names the file and the
line. One deck, ``title_include.cir``, plain ngspice reads differently: its title
``.include /etc/passwd`` makes ngspice 46 open that file; neurospice runs the title as a
title (it is never read as a card, nor run), so its reference is plain ngspice on the deck
with ``* `` before the title.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neurospice.cli import main
from neurospice.errors import NetlistError, UntrustedDeck
from neurospice.netlists.reader import parse_number, read_deck, read_deck_file
from neurospice.netlists.writers import sweep_frequencies
from neurospice.simulators import get_simulator, load_result, read_raw
from neurospice.simulators.measure import ngspice_measurements
from neurospice.simulators.ngspice import in_card_order, ngspice_plots_to_results

FOREIGN = Path(__file__).parent / "decks" / "foreign"
DECKS = sorted(FOREIGN.glob("*.cir"))
SIMULATORS = ("ngspice", "vacask")

pytestmark = pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice not installed")

#: deck -> simulator -> (the typed error, the line it names); a deck and simulator not named
#: here runs and matches plain ngspice
REFUSED = {
    "after_end": {"vacask": (NetlistError, 8)},        # a card after .end: ngspice reads it
    "bsim3_level8": {"vacask": (NetlistError, 2)},     # refused rendering: the model's line
    "control_block": {"ngspice": (UntrustedDeck, 6), "vacask": (NetlistError, 5)},
    "dc_nested": {"vacask": (NetlistError, 6)},         # two sweeps in one .dc
    "func_card": {"vacask": (NetlistError, 2)},
    "include_outside": {"ngspice": (UntrustedDeck, 4), "vacask": (UntrustedDeck, 4)},
    "savecurrents": {"vacask": (NetlistError, 2)},      # only ngspice keeps every current
    "semicolon_continuation": {"vacask": (NetlistError, 5)},   # ngspice drops the line
    "shell_comment": {"ngspice": (UntrustedDeck, 4)},   # read, the *# line is a comment
    "switch": {"vacask": (NetlistError, 5)},
    "xspice_gain": {"vacask": (NetlistError, 4)},
}
#: decks whose title plain ngspice 46 reads as a card
TITLE_READ_AS_CARD = {"title_include"}


def test_corpus_covers_the_styles():
    assert len(DECKS) >= 20
    raw = {p.stem: p.read_bytes() for p in DECKS}
    assert b"\r\n" in raw["crlf"] and b"\t" in raw["tabs"]
    assert not raw["nonascii"].isascii()
    assert not re.search(rb"^\.end\s*$", raw["endless"], re.MULTILINE)
    assert set(REFUSED) | TITLE_READ_AS_CARD <= set(raw)


def plain_ngspice(deck: Path, folder: Path):
    """Plain ``ngspice -b`` on ``deck`` run from ``folder``: its results in card order, the
    .meas values a second run without -r printed (ngspice skips .meas when it writes a raw
    file), and its log."""
    raw = folder / "plain.raw"
    run = subprocess.run(["ngspice", "-b", "-r", str(raw), str(deck)], capture_output=True,
                         text=True, cwd=folder, timeout=60)
    log = run.stdout + run.stderr
    if not raw.exists():
        return None, {}, log
    text = deck.read_text(encoding="utf-8")
    results = in_card_order(ngspice_plots_to_results(read_raw(raw), text, "", "ngspice"), text)
    printed = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True,
                             cwd=folder, timeout=60)
    return results, ngspice_measurements(printed.stdout + printed.stderr), log


def sim(deck: Path, simulator: str, folder: Path, capsys):
    """``neurospice sim DECK --simulator S`` in this process: exit status, the results in the
    order it wrote them, its measurements, its error output."""
    code = main(["sim", str(deck), "--simulator", simulator, "--out",
                 str(folder / f"{simulator}.csv")])
    out, err = capsys.readouterr()
    files = re.findall(r"-> (.+)$", out, re.MULTILINE)
    measured = {name: math.nan if value == "failed" else float(value)
                for name, value in re.findall(r"^(\w+) = (\S+)$", out, re.MULTILINE)}
    return code, [load_result(f) for f in files], measured, err


def close(mine, ref, simulator: str, where: str) -> None:
    """Every node voltage, branch current and noise spectrum plain ngspice wrote, and the
    axis, within the tolerance (a noise spectrum point by point: it spans decades)."""
    assert mine.kind == ref.kind, where
    names = [n for n in ref.names if n.startswith(("v(", "i(", "onoise", "inoise")) and n in mine]
    assert names, f"{where}: nothing in common ({ref.names} vs {mine.names})"
    if ref.kind in ("ac", "noise", "dc"):
        names.append(ref.axis_name)
    for n in names:
        want, got = np.asarray(ref[n]), np.asarray(mine[n])
        if ref.kind == "tran":      # different time points: the reference at this run's
            want = np.interp(mine.axis, ref.axis, want)
        else:
            assert got.shape == want.shape, f"{where} {n}"
        scale = np.abs(want) if ref.kind == "noise" else max(float(np.max(np.abs(want))), 1e-9)
        tol = 1e-9 if simulator == "ngspice" else (2e-2 if ref.kind in ("tran", "noise")
                                                   else 1e-3)
        err = float(np.max(np.abs(got - want) / scale))
        assert err <= tol, f"{where}: {n} differs by {err:.3g} of its scale (tol {tol})"


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("deck", DECKS, ids=[p.stem for p in DECKS])
def test_foreign_deck(deck, simulator, tmp_path, capsys):
    if not get_simulator(simulator).is_available():
        pytest.skip(f"{simulator} not installed")
    refused = REFUSED.get(deck.stem, {}).get(simulator)
    code, results, measured, err = sim(deck, simulator, tmp_path, capsys)
    if refused is not None:
        cls, line = refused
        assert code == 2 and not results
        assert f"{deck}, line {line}: " in err, err
        with pytest.raises(cls):       # the type, through the library's own calls
            if simulator == "ngspice":
                get_simulator("ngspice").run(deck.read_text(), allow=[FOREIGN])
            else:       # refused reading, or rendering (a model VACASK lacks)
                get_simulator("vacask").run(read_deck_file(deck))
        return
    assert code == 0, err
    reference = deck
    if deck.stem in TITLE_READ_AS_CARD:
        _, _, log = plain_ngspice(deck, tmp_path)
        assert "/etc/passwd" in log        # plain ngspice opened the file its title names
        reference = tmp_path / deck.name
        reference.write_text("* " + deck.read_text())
    ref, ref_meas, log = plain_ngspice(reference, tmp_path)
    assert ref is not None, log
    assert len(results) == len(ref), f"{deck.name}: {len(results)} results, plain {len(ref)}"
    for mine, want in zip(results, ref):
        close(mine, want, simulator, f"{deck.name} on {simulator}")
    assert set(measured) == set(ref_meas), f"{deck.name}: {measured} vs {ref_meas}"
    for name, want in ref_meas.items():
        tol = 2e-3 if simulator == "ngspice" else 2e-2
        assert measured[name] == pytest.approx(want, rel=tol, abs=1e-12, nan_ok=True), \
            f"{deck.name} on {simulator}: .meas {name}"


@pytest.mark.parametrize("simulator", ["ngspice", "ngspice-shared"])
def test_savecurrents_keeps_every_device_current(simulator):
    """``.options savecurrents`` (tests/decks/foreign/savecurrents.cir: 3 V over 1k in
    series with 2k || 6k): each resistor's current is ``i(r1)`` (also found as ngspice's
    ``@r1[i]``), equal to Ohm's law on the node voltages to 1e-9 and summing at node b; a
    diode's ``@d1[id]`` keeps ngspice's spelling, and a resistor inside an instance is
    ``i(x1.r9)``."""
    sim = get_simulator(simulator)
    if not sim.is_available():
        pytest.skip(f"{simulator} not installed")
    op = sim.run((FOREIGN / "savecurrents.cir").read_text()).op
    assert {"i(r1)", "i(r2)", "i(r3)", "i(v1)"} <= set(op.names)
    va, vb = op["v(a)"][0], op["v(b)"][0]
    assert (va, vb) == (pytest.approx(3.0), pytest.approx(3.0 * 1.5 / 2.5))
    i1, i2, i3 = (op[f"@r{k}[i]"][0] for k in (1, 2, 3))
    assert i1 == pytest.approx((va - vb) / 1e3, rel=1e-9) == op["i(r1)"][0]
    assert (i2, i3) == (pytest.approx(vb / 2e3, rel=1e-9), pytest.approx(vb / 6e3, rel=1e-9))
    assert i1 == pytest.approx(i2 + i3, rel=1e-9) == -op["i(v1)"][0]
    deck = ("diode, resistor and an instance\n.options savecurrents\n.model dd d(is=1e-14)\n"
            "V1 a 0 DC 1\nR1 a b 100\nD1 b 0 dd\n.subckt load p n\nR9 p n 2k\n.ends\n"
            "X1 a 0 load\n.op\n.end\n")
    op = sim.run(deck).op
    assert op.names == ["v(a)", "v(b)", "i(v1)", "i(r1)", "@d1[id]", "i(x1.r9)"]
    assert op["i(r1)"][0] == pytest.approx((1 - op["v(b)"][0]) / 100, rel=1e-9)
    # in series: the diode's current is evaluated at the last Newton iterate, which stops
    # within vntol (1e-6 V) of the solution: equal to 1e-6 V / 100 ohm (measured 8.6e-10 A)
    assert op["@d1[id]"][0] == pytest.approx(op["i(r1)"][0], rel=0, abs=1e-8)
    assert op["@r.x1.r9[i]"][0] == pytest.approx(1 / 2e3, rel=1e-9)
    assert op.units["@d1[id]"] == "A"


@pytest.mark.parametrize("expression, error", [
    ("v(in) > 0 ? 1", "'?' without its ':'"),
    ("(v(in) > 0 ? 1 : 0", "unbalanced brackets"),
    ("(" * 300 + "v(in) > 0 ? 1 : 0" + ")" * 300, "nests deeper than 200"),
])
def test_a_broken_ternary_names_the_line(expression, error):
    with pytest.raises(NetlistError, match=rf"line 3: .*{re.escape(error)}"):
        read_deck(f"t\nV1 in 0 1\nB1 out 0 V={{{expression}}}\nR1 out 0 1\n.op\n")


SWEEPS = ["dec 10 1k 50k", "dec 3 1 7", "dec 3 1 9.99", "dec 5 1 10.5", "dec 1 1 50",
          "dec 7 3k 1.1meg", "dec 10 1k 100k", "oct 4 1k 100k", "oct 2 1k 8k"]


@pytest.mark.parametrize("kind", ["ac", "noise"])
@pytest.mark.parametrize("sweep", SWEEPS)
def test_sweep_frequencies_are_ngspices(sweep, kind, tmp_path):
    """``sweep_frequencies`` gives the frequencies plain ngspice 46 visits, to 1e-12 (32
    sweeps were checked by hand: all equal), and VACASK, given them, visits the same."""
    card = f".ac {sweep}" if kind == "ac" else f".noise v(out) V1 {sweep}"
    deck = f"t\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 1n\n{card}\n.end\n"
    (tmp_path / "d.cir").write_text(deck)
    subprocess.run(["ngspice", "-b", "-r", "d.raw", "d.cir"], capture_output=True, cwd=tmp_path,
                   timeout=60)
    want = read_raw(tmp_path / "d.raw")[0].data[:, 0].real
    variation, points, start, stop = sweep.split()
    got = sweep_frequencies(kind, variation, int(points), parse_number(start),
                            parse_number(stop))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    if get_simulator("vacask").is_available():
        axis = get_simulator("vacask").run(read_deck(deck))[0].axis
        np.testing.assert_allclose(axis, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_a_line_break_no_simulator_shares_names_the_file(simulator, tmp_path, capsys):
    """A form feed inside a line (some simulators would split it there) is refused naming
    the deck's file and line, whichever way the deck goes."""
    deck = tmp_path / "ff.cir"
    deck.write_text("t\nV1 a 0 1\nR1 a 0 1k\x0c\n.op\n.end\n")
    code, results, _, err = sim(deck, simulator, tmp_path, capsys)
    assert code == 2 and not results
    assert f"{deck}, line 3: " in err or f"{deck}: line 3: " in err, err


@pytest.mark.parametrize("cards, error", [
    (".param a=2\nV1 x 0 SIN(0 {a*b} 1k)", "b is not a top-level .param"),
    (".param a={b}\n.param b={a}\nV1 x 0 SIN(0 {a} 1k)", "depends on itself"),
    (".param a=0\nV1 x 0 SIN(0 {1/a} 1k)", "cannot be evaluated"),
    ("V1 x 0 SIN(0 {v(y)} 1k)", "cannot be evaluated when the deck is read"),
    (".subckt s p params: a=1\nV1 p 0 SIN(0 {a} 1k)\n.ends\nX1 x s", "not a SPICE number"),
])
def test_a_waveform_argument_that_cannot_be_evaluated_names_the_line(cards, error):
    deck = f"t\n{cards}\nR1 x 0 1k\nR2 y 0 1k\n.tran 1u 1m\n.end\n"
    line = next(k for k, text in enumerate(deck.split("\n"), 1) if "SIN" in text)
    with pytest.raises(NetlistError, match=rf"line {line}: .*{re.escape(error)}"):
        read_deck(deck)


def test_waveform_arguments_take_the_last_top_level_value():
    c = read_deck("t\n.param a=1\n.param a={2*b} b=1.5\nV1 x 0 SIN(0 {a} {b*1k})\n"
                  "R1 x 0 1k\n.tran 1u 1m\n.end\n")
    wave = c["V1"].waveform
    assert (wave.amplitude, wave.freq_hz) == (3.0, 1500.0)
