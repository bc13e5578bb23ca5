"""Attack: foreign and hostile decks through the deck reader (neurospice.netlists.reader).
Whatever the text, reading it ends in a Circuit or a typed error (NetlistError /
UntrustedDeck) naming the line, in bounded time; a title line that looks like a shell
command or a control card runs nothing, on ngspice (the deck as written) or read and
rendered for VACASK; bytes that are not UTF-8 and files that are not regular files are
refused naming the file."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurospice.errors import NetlistError, NeurospiceError, UntrustedDeck
from neurospice.netlists.reader import read_deck, read_deck_file
from neurospice.simulators import get_simulator
from neurospice.simulators.trust import check_deck, check_line_breaks

# pieces of decks: cards, names, numbers with suffixes, comments, hostile characters
PIECES = st.sampled_from([
    "R1", "C1", "L1", "V1", "I1", "B1", "E1", "F1", "H1", "D1", "X1", "M1", "Q1", "K1", "S1",
    "M1=", "Q1 w=1u", "X1 a s p=", "D1 a", "E1 a 0 b", "V1 a 0 dc", "R1 a 0",
    "a", "b", "0", "in", "if", "not", "temper", "x1.n1", "1k", "1meg", "10mil", "2.5n", "1e",
    "{p*2}", "'p+1'", "{", "}", "(", ")", "=", ",", "+", "*", ";", "$", " $ c", "@r1[i]",
    "v(a)", "i(v1)", "v(in)", "V=v(a)*2", "I=", "PULSE(0 1 1n 1n 1n 5n 20n)", "SIN(0 1 1k)",
    "PWL(0 0 1u 1)", "dc", "ac", "params:", "r=1k", ".param p=1k", ".model dm d (is=1e-14)",
    ".subckt s p", ".ends", ".include x.lib", ".lib x.lib tt", ".lib tt", ".endl", ".save",
    ".save all", ".control", ".endc", "shell touch m", "!touch m", "*#", ".op", ".end",
    ".dc V1 0 1 0.1", ".tran 1n 1u", ".ac dec 10 1 1meg", ".ic v(a)=1", ".options reltol=1e-4",
    ".meas tran m avg v(a)", ".four 1k v(a)", ".func f(x) {x}", "\x00", "\r", "\x0c",
    "\u2028", "\ufeff", "\u00e9", "\t", "  ", "\\", "`", '"', "../", "~/",
])


@st.composite
def decks(draw):
    lines = [draw(st.text(min_size=0, max_size=20))]          # the title: anything
    for _ in range(draw(st.integers(0, 12))):
        lines.append(" ".join(draw(st.lists(PIECES, min_size=1, max_size=8))))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n.end\n"]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decks())
def test_any_text_reads_to_a_circuit_or_a_typed_error(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("deck")
    try:
        c = read_deck(text, base=folder)
    except (NetlistError, UntrustedDeck) as exc:
        assert str(exc).strip()
        return
    for dialect in ("ngspice", "xyce", "vacask"):
        try:
            out = c.to_netlist(dialect)
        except NeurospiceError:
            continue
        # nothing the writers emit breaks a line or carries an unchecked shell word
        assert "\r" not in out and "\x00" not in out and "\u2028" not in out
        assert not any(line.strip().lower().startswith((".control", "shell", "!"))
                       for line in out.splitlines()[1:])


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_any_bytes_in_a_file_read_or_are_refused_naming_it(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("deck") / "deck.cir"
    path.write_bytes(b"t\n" + blob)
    try:
        read_deck_file(path)
    except UntrustedDeck:
        pass
    except NetlistError as exc:
        assert "line" in str(exc) or str(path) in str(exc) or "deck" in str(exc)


def test_non_utf8_bytes_name_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.cir"
    path.write_bytes(b"t\nR1 a 0 1k\n* r\xe9sistance\n.op\n")
    with pytest.raises(NetlistError, match=r"line 3: deck .*latin1\.cir is not UTF-8"):
        read_deck_file(path)


def test_an_include_that_is_no_regular_file_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.lib")        # a reader opening it would wait for a writer
    (tmp_path / "sub").mkdir()
    for target, words in (("pipe.lib", "is not a regular file"),
                          ("sub", "is not a regular file"), ("none.lib", "not found")):
        (tmp_path / "d.cir").write_text(f"t\n.include {target}\nR1 a 0 1\n.op\n")
        with pytest.raises(NetlistError, match=rf"d\.cir, line 2: included file .* {words}"):
            read_deck_file(tmp_path / "d.cir")


TITLES = [".control", ".endc", "shell touch {marker}", "!touch {marker}", ".control shell "
          "touch {marker}", "*# shell touch {marker}", ".include /etc/passwd",
          "$(touch {marker})", "`touch {marker}`", "; touch {marker}",
          ".lib /etc/passwd tt", "  .include /etc/passwd", "\ufeff.include /etc/passwd",
          "*ng_script", ".title .include /etc/passwd", "R1 1 0 1k", "+ R9 a 0 1"]


@pytest.mark.parametrize("title", TITLES)
def test_a_title_that_looks_like_a_command_runs_nothing(title, tmp_path):
    """The first line of a SPICE deck is its title, whatever it says: read, it is the
    Circuit's title (written behind a comment star; a leading star of its own is dropped),
    and the rendered circuit runs on ngspice and VACASK. Run as written on ngspice it runs
    too: the trust scan does not read the title as a card, and the deck reaches ngspice
    with ``* `` before a title that does not start with a letter or a digit (ngspice 46
    reads a first line ``.include /etc/passwd`` and opens the file). The deck with a block
    after it is refused by both. The marker never appears."""
    marker = tmp_path / "marker"
    first = title.format(marker=marker)
    deck = f"{first}\nV1 a 0 1\nR1 a 0 1k\n.op\n.end\n"
    c = read_deck(deck, base=tmp_path)
    plain = first.removeprefix("\ufeff")       # a byte-order mark is no part of the title
    assert c.title in (plain, plain.lstrip("*").lstrip())
    assert c.to_netlist("ngspice").startswith(f"* {c.title}\n")
    attack = f"{first}\n.control\nshell touch {marker}\n.endc\nV1 a 0 1\nR1 a 0 1k\n.op\n"
    with pytest.raises(NetlistError, match=r"line 2: a \.control block"):
        read_deck(attack, base=tmp_path)
    for name in ("ngspice", "vacask"):
        sim = get_simulator(name)
        if not sim.is_available():
            continue
        assert sim.run(c).op["v(a)"][0] == pytest.approx(1.0)
        if name == "ngspice":
            result = sim.run(deck)
            assert result.op["v(a)"][0] == pytest.approx(1.0)
            assert "root:x:" not in result.log       # /etc/passwd was not read
            with pytest.raises(UntrustedDeck):
                sim.run(attack)
    assert not marker.exists()


TITLE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80).filter(
    lambda t: "\n" not in t)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TITLE_TEXT)
def test_a_title_of_any_text_stays_a_title(tmp_path_factory, title):
    """Any text on the first line is the title: the trust gate neither refuses it nor hands
    it on as a card (what reaches the simulator starts with a letter, a digit or ``* ``, the
    other lines unchanged), the reader takes the same cards whatever it says, and every
    writer puts it where it is no card (behind ``* `` for SPICE, VACASK's title line), read
    back to the same cards. Text no line can hold (a line break other than \\n, NUL) is a
    NetlistError naming line 1."""
    folder = tmp_path_factory.mktemp("title")
    deck = f"{title}\nV1 a 0 DC 1\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n"
    try:
        text = check_line_breaks(deck)
    except NetlistError as exc:
        assert exc.line == 1
        return
    for dialect in ("ngspice", "xyce"):
        gated = check_deck(text, dialect, allowed=[folder], bases=[folder])
        first, rest = gated.split("\n", 1)
        assert rest == text.split("\n", 1)[1]
        assert first[:1].isascii() and first[:1].isalnum() or first.startswith("* ") or \
            first == "*"
    try:
        c = read_deck(deck, base=folder)
    except NetlistError as exc:      # the text gate refuses what no netlist line may hold
        assert str(exc).startswith("line 1:"), exc
        return
    assert list(c.elements) == ["v1", "r1", "r2"]
    for dialect in ("ngspice", "xyce", "vacask"):
        out = c.to_netlist(dialect)
        assert out.split("\n", 1)[0] == (c.title if dialect == "vacask" else f"* {c.title}")
    again = read_deck(c.to_netlist("ngspice"), base=folder)
    assert list(again.elements) == ["v1", "r1", "r2"] and again.title == c.title
