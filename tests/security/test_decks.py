"""Attack: decks from outside are untrusted. Shell escapes, control blocks, embedded files and
includes outside the allowed folders are refused (UntrustedDeck naming the line and the
construct) before the simulator sees them, on every simulator present; the marker files the
attacks would create never appear. ``trusted=True`` opts out. Every deck, trusted or not, and
every rendered Circuit keeps its line structure: no line break but ``\\n`` reaches a
simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurospice.cli import main
from neurospice.errors import NetlistError, UntrustedDeck
from neurospice.netlists import Circuit
from neurospice.simulators import get_simulator
from neurospice.simulators.trust import LINE_BREAKS, check_deck, check_line_breaks


def _sim(name):
    sim = get_simulator(name)
    return pytest.param(sim, id=name, marks=pytest.mark.skipif(
        not sim.is_available(), reason=f"{name} not found"))


SPICE_SIMS = [_sim("ngspice"), _sim("ngspice-shared")]
VACASK = get_simulator("vacask")
needs_vacask = pytest.mark.skipif(not VACASK.is_available(), reason="vacask not found")

SPICE = "attack\nV1 a 0 1\nR1 a 0 1000\n.op\n{extra}\n.end\n"   # extra starts at line 5
VHEAD = ('attack\nload "resistor.osdi"\nmodel vsource vsource\nmodel r resistor\n'
         "v1 (a 0) vsource dc=1\nr1 (a 0) r r=1000\n")             # line 7 is next
VCONTROL = "control\n  analysis op1 op\nendc\n"


def _spice_attacks(marker: Path):
    return [  # (extra lines, line refused, construct)
        (f".control\nshell touch {marker}\n.endc", 6, "shell"),
        (f".CONTROL\n!touch {marker}\n.endc", 6, "!"),
        (f"  .control\n  echo harmless\n  set sourcepath=(/etc)\n.endc", 6, ".control"),
        (f".controlx\nshell touch {marker}\n.endc", 6, "shell"),
        (f"*# shell touch {marker}", 5, "*#"),
        ("*ng_script", 5, "*ng_script"),
        (".exec\nshell true\n.endc", 5, ".exec"),
        (".include /etc/passwd", 5, ".include"),
        ('.inc "/etc/passwd"', 5, ".inc"),
        ('.include"/etc/passwd"', 5, ".include"),
        (".lib /etc/passwd tt", 5, ".lib"),
        (".include ../../x.lib", 5, ".include"),
        (".include ~/models.lib", 5, ".include"),
        (".include\n+ /etc/passwd", 5, ".include"),
        ("A1 a filesrc\n.model filesrc filesource (file=\"/etc/passwd\")", 6, "file="),
    ]


@pytest.mark.parametrize("sim", SPICE_SIMS)
@pytest.mark.parametrize("case", range(len(_spice_attacks(Path("m")))))
def test_spice_escapes_are_refused_naming_the_line(sim, case, tmp_path):
    marker = tmp_path / "marker"
    extra, line, construct = _spice_attacks(marker)[case]
    deck = SPICE.format(extra=extra)
    with pytest.raises(UntrustedDeck) as info:
        sim.run(deck)
    assert info.value.line == line, str(info.value)
    assert info.value.construct == construct
    assert f"line {line}" in str(info.value) and "trusted=True" in str(info.value)
    assert not marker.exists()


def test_the_attack_is_real_when_trusted(tmp_path):
    """The same shell deck, trusted, does run the command: the refusal is what stops it."""
    sim = get_simulator("ngspice")
    if not sim.is_available():
        pytest.skip("ngspice not found")
    marker = tmp_path / "marker"
    sim.run(SPICE.format(extra=f".control\nshell touch {marker}\n.endc"), trusted=True)
    assert marker.exists()


@pytest.mark.parametrize("sim", SPICE_SIMS)
def test_trusted_benign_control_block_runs(sim):
    res = sim.run(SPICE.format(extra=".control\necho benign\n.endc"), trusted=True)
    assert res.op.scalar("i(v1)") == pytest.approx(-1e-3, rel=1e-9)


@pytest.mark.parametrize("sim", SPICE_SIMS)
def test_included_files_are_scanned_too(sim, tmp_path):
    marker = tmp_path / "marker"
    lib = tmp_path / "models"
    lib.mkdir()
    (lib / "evil.lib").write_text(f"* models\n.control\nshell touch {marker}\n.endc\n")
    (lib / "good.lib").write_text("* models\n.model dd d is=1e-14\n")
    with pytest.raises(UntrustedDeck) as info:
        sim.run(SPICE.format(extra=f".include {lib / 'evil.lib'}"), allow=[lib])
    assert info.value.path == str((lib / "evil.lib").resolve()) and info.value.line == 3
    assert not marker.exists()
    res = sim.run(SPICE.format(extra=f".include {lib / 'good.lib'}"), allow=[lib])
    assert res.op.scalar("i(v1)") == pytest.approx(-1e-3, rel=1e-9)
    with pytest.raises(UntrustedDeck, match="outside the allowed folders"):
        sim.run(SPICE.format(extra=f".include {lib / 'good.lib'}"))   # not allowed


def test_a_symlink_out_of_an_allowed_folder_is_refused(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "link.lib").symlink_to("/etc/passwd")
    with pytest.raises(UntrustedDeck, match="outside the allowed"):
        check_deck(SPICE.format(extra=f".include {lib / 'link.lib'}"), "ngspice",
                   allowed=[lib], bases=[lib])


VACASK_ATTACKS = [  # (deck after the head, line refused, construct)
    ('control\n  analysis op1 op\n  postprocess(PYTHON, "x.py")\nendc\n', 9, "postprocess"),
    ('embed "{marker}" <<<F\nhello\n>>>F\n' + VCONTROL, 7, "embed"),
    ('embed "../escaped" <<<F\nhello\n>>>F\n' + VCONTROL, 7, "embed"),
    ('include "/etc/passwd"\n' + VCONTROL, 7, "include"),
    ('include "\\057etc\\057passwd"\n' + VCONTROL, 7, "include"),   # octal escapes
    ('/* a comment */ include "/etc/hosts" // trailing\n' + VCONTROL, 7, "include"),
    ('load "/usr/lib/evil.osdi"\n' + VCONTROL, 7, "load"),
    ('load "../evil.osdi"\n' + VCONTROL, 7, "load"),
    ('include "~/x.inc"\n' + VCONTROL, 7, "include"),
    ('control\n  analysis op1 op\n  postprocess(\n    PYTHON, "x.py")\nendc\n', 9,
     "postprocess"),
]


@needs_vacask
@pytest.mark.parametrize("case", range(len(VACASK_ATTACKS)))
def test_vacask_escapes_are_refused_naming_the_line(case, tmp_path):
    marker = tmp_path / "marker"
    body, line, construct = VACASK_ATTACKS[case]
    with pytest.raises(UntrustedDeck) as info:
        VACASK.run(VHEAD + body.replace("{marker}", str(marker)))
    assert info.value.line == line and info.value.construct == construct, str(info.value)
    assert not marker.exists()


@needs_vacask
def test_vacask_embed_is_real_when_trusted_and_untrusted_decks_still_run(tmp_path):
    marker = tmp_path / "marker"
    deck = VHEAD + f'embed "{marker}" <<<F\nhello\n>>>F\n' + VCONTROL
    VACASK.run(deck, trusted=True)
    assert marker.read_text().strip() == "hello"
    res = VACASK.run(VHEAD + VCONTROL)          # untrusted: runs with -sp -se
    assert res.op.scalar("i(v1)") == pytest.approx(-1e-3, rel=1e-9)


@needs_vacask
def test_vacask_include_in_an_allowed_folder_runs(tmp_path):
    inc = tmp_path / "parts.inc"
    inc.write_text("model r2 resistor\n")
    deck = VHEAD.replace("model r resistor\n", f'include "{inc}"\nmodel r resistor\n') \
        + VCONTROL
    assert VACASK.run(deck, allow=[tmp_path]).op.scalar("i(v1)") == pytest.approx(-1e-3)
    inc.write_text('model r2 resistor\npostprocess(PYTHON, "x.py")\n')
    with pytest.raises(UntrustedDeck) as info:
        VACASK.run(deck, allow=[tmp_path])
    assert info.value.path == str(inc.resolve()) and info.value.line == 2


def test_xyce_decks_follow_the_spice_path_rules():
    """Xyce has no shell escape in its netlist language that we know of; includes follow
    the same rules as ngspice (checked without Xyce: the scan runs before the simulator)."""
    with pytest.raises(UntrustedDeck) as info:
        check_deck(SPICE.format(extra=".lib '/etc/passwd' tt"), "xyce", allowed=[Path.cwd()],
                   bases=[Path.cwd()])
    assert info.value.line == 5 and info.value.construct == ".lib"
    check_deck(SPICE.format(extra=""), "xyce")


# ---- line structure ---------------------------------------------------------------------
@pytest.mark.parametrize("sim", SPICE_SIMS)
@pytest.mark.parametrize("brk", sorted(LINE_BREAKS), ids=lambda c: f"U+{ord(c):04X}")
def test_circuit_title_with_a_line_break_never_reaches_a_shell(sim, brk, tmp_path):
    """The issue's case: a title holding a control block behind a non-\\n line break."""
    marker = tmp_path / "marker"
    title = f"demo{brk}.control{brk}shell touch {marker}{brk}.endc"
    try:
        c = Circuit(title)
        c.vsource("1", "a", 0, 1.0)
        c.resistor("1", "a", 0, 1e3)
        c.op()
        with pytest.raises(NetlistError):
            sim.run(c)
    except NetlistError:
        pass                                       # refused by the Circuit gate
    assert not marker.exists()


@pytest.mark.parametrize("sim", SPICE_SIMS)
@pytest.mark.parametrize("brk", sorted(LINE_BREAKS), ids=lambda c: f"U+{ord(c):04X}")
def test_deck_text_with_a_line_break_other_than_newline_is_refused(sim, brk, tmp_path):
    marker = tmp_path / "marker"
    deck = SPICE.format(extra=f"* note{brk}.control{brk}shell touch {marker}{brk}.endc")
    with pytest.raises(NetlistError) as info:
        sim.run(deck, trusted=True)                # even a trusted deck keeps its lines
    assert info.value.line == 5
    assert not marker.exists()


def test_crlf_is_one_line_break():
    assert check_line_breaks("t\r\nR1 a 0 1\r\n") == "t\nR1 a 0 1\n"
    with pytest.raises(NetlistError, match="carriage return"):
        check_line_breaks("t\rR1 a 0 1\n")


def test_a_rendered_circuit_may_hold_only_what_its_writer_emits():
    ok = "t\nR1 a 0 1\n.control\nset num_threads=2\npre_osdi /cache/va/x.osdi\n.endc\n.end\n"
    check_deck(ok, "ngspice", circuit=True)
    check_deck('t\nload "resistor.osdi"\nload "/cache/va/x.osdi"\n', "vacask", circuit=True)
    for bad in ("t\n.control\nshell ls\n.endc\n", "t\n*# shell ls\n",
                't\ncontrol\n postprocess(PYTHON, "x")\nendc\n',
                't\ncontrol\n  POSTPROCESS(PYTHON, "x")\nendc\n', 't\nembed "f.py" text="x"\n'):
        with pytest.raises(UntrustedDeck, match="writer never emits"):
            check_deck(bad, "vacask" if "control\n " in bad or "embed" in bad else "ngspice",
                       circuit=True)


# ---- the command line -------------------------------------------------------------------
def test_cli_sim_refuses_an_untrusted_deck_and_runs_it_with_trust(tmp_path, capsys):
    if not get_simulator("ngspice").is_available():
        pytest.skip("ngspice not found")
    marker = tmp_path / "marker"
    deck = tmp_path / "deck.cir"
    deck.write_text(SPICE.format(extra=f".control\necho hi\n* {marker}\n.endc"))
    assert main(["sim", str(deck), "--out", str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 6" in err and "--trust" in err
    assert main(["sim", str(deck), "--trust", "--out", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "b.csv").exists()
    # the deck's own folder is allowed; other folders only with --allow
    other = tmp_path.parent / f"{tmp_path.name}-other"
    other.mkdir()
    (other / "m.lib").write_text("* nothing\n")
    (tmp_path / "m.lib").write_text("* nothing\n")
    deck.write_text(SPICE.format(extra=f".include {tmp_path / 'm.lib'}"))
    assert main(["sim", str(deck), "--out", str(tmp_path / "c.csv")]) == 0
    deck.write_text(SPICE.format(extra=f".include {other / 'm.lib'}"))
    assert main(["sim", str(deck), "--out", str(tmp_path / "d.csv")]) == 2
    assert main(["sim", str(deck), "--allow", str(other), "--out",
                 str(tmp_path / "e.csv")]) == 0
    assert not marker.exists()


def test_cli_sim_help_states_the_trust_model(capsys):
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    out = capsys.readouterr().out
    assert "untrusted" in out and "--trust" in out and "--allow" in out
