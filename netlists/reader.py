"""Read a SPICE deck (ngspice / SPICE3 syntax) into a :class:`~neurospice.netlists.circuit.Circuit`.

A deck read here runs on every simulator the Circuit renders for (ngspice, Xyce, VACASK):
``neurospice sim deck.cir --simulator vacask`` reads the deck with :func:`read_deck_file` and
renders VACASK's own syntax. What is read, the common subset of the ngspice manual's decks:

- the title (first line, whatever it says: it is never read as a card; a UTF-8 byte-order
  mark before it is dropped), ``*`` comment lines, ``;`` and `` $ `` end-of-line comments,
  ``+`` continuation lines (blank and comment lines may stand between, but not a line that
  starts with ``;``: ngspice 46 drops the continuation there, so it is a NetlistError), any
  case; a card after ``.end`` is a NetlistError (ngspice 46 reads on past ``.end``, the
  other simulators stop), an included file's ``.end`` ends that file;
- R, C, L, K (coupling two inductors); V and I with a DC value, ``AC mag [phase]``,
  ``PULSE``, ``SIN``, ``PWL``, ``EXP`` (their arguments numbers, or expressions of
  top-level parameters evaluated when the deck is read); E, G
  (linear), F, H; B (``V=``/``I=`` expression); D; M (MOSFET) and Q (bipolar) with their
  ``.model`` (VACASK: MOSFET levels 1-3, Gummel-Poon); X with ``.subckt`` (ports, ``params:``
  defaults) and instance parameters;
- ``.model`` (a diode for every simulator; other types for the SPICE dialects), ``.param``
  with expressions (``{...}`` or ``'...'``; ``^`` is a power, ``log`` the natural log,
  ``c ? a : b`` a conditional),
  ``.include``/``.inc`` and ``.lib FILE SECTION`` resolved relative to the including file,
  ``.lib SECTION`` ... ``.endl`` sections, ``.ic``, ``.nodeset``, ``.options`` (temp, tnom,
  reltol, abstol, vntol, gmin, method, maxord; output-only flags are ignored;
  ``savecurrents`` is a NetlistError: only ngspice keeps every device's current), ``.temp``,
  ``.op``/``.dc``/``.ac``/``.tran``/``.noise``, ``.meas`` (TRIG/TARG, FIND/WHEN, FIND/AT,
  WHEN, AVG/RMS/MIN/MAX/PP/INTEG with FROM/TO), ``.end``;
- ``.save``: ``v(node)`` or a bare node, ``v(x1.node)`` inside instances, the current of a
  voltage source, inductor, E/H source or resistor as ``i(vx)``, ``vx#branch`` or
  ``@r1[i]`` (``x1.vx``, or ngspice's ``v.x1.vx``, inside an instance), or ``all``; they
  become ``Circuit.save`` and so what every simulator keeps. Other targets (the current of
  a capacitor or diode, other device quantities, ``v(a,b)``, ``vdb()``) and nodes or
  elements the deck lacks are NetlistErrors naming the line; ``.print``/``.plot``/``.probe``/``.width`` choose what is printed, not
  what is computed or kept, and are skipped.

Names inside ``v()`` and ``i()`` of an expression are names, whatever they spell (a node
called ``in``, ``if`` or ``not``); a parameter spelled like a word of the expression
language is a NetlistError naming the line. A ``.dc`` sweep has ngspice's number of points
on every simulator (:func:`~neurospice.netlists.writers.dc_points`), and one that would
never end is refused.

Numbers take SPICE's scale suffixes (``1k``, ``10u``, ``1meg``, ``2.5n``, ``1mil``; letters
after the suffix are a unit and ignored, as in SPICE: ``10pF``); they become SI floats, and
the writers never emit unit letters. Anything else (a ``.control`` block, ``.func``,
``.four``, a POLY or VALUE source, a switch, a transmission line, an option with no
translation, an X card naming a subcircuit the deck lacks or one that holds itself, a
``.param`` that depends on itself) is a
NetlistError naming the file, the line and the construct: nothing is dropped silently.

The deck is untrusted: every name and value goes through the text gate of
:mod:`neurospice.netlists.values` (the Circuit's constructors), the deck and each included
file are capped in size (:data:`MAX_DECK_BYTES`, :data:`MAX_DECK_LINES`,
:data:`MAX_INCLUDE_DEPTH`), only regular files are read, and an include outside the deck's
folder and the ``allow`` folders (or naming ``..`` or ``~``) is an UntrustedDeck unless
``trusted``. Reading runs nothing.

Reading what neurospice's ngspice writer printed gives back an equal circuit (the same
netlist in every dialect), Verilog-A models aside (their ``pre_osdi`` lines name compiled
files, not sources).
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import os
import re
import weakref
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from neurospice.errors import NetlistError, UntrustedDeck
from neurospice.fileio import read_text
from neurospice.netlists.circuit import (
    Circuit, Exp, MeasureEvent, Pulse, Pwl, Sine, Subcircuit, SubcircuitInstance)
from neurospice.netlists.expr import FUNCTIONS, MAX_EXPRESSION_DEPTH, Expression
from neurospice.netlists.values import check_text, fmt
from neurospice.netlists.writers import SAVED_CURRENTS

__all__ = ["read_deck", "read_deck_file", "read_measures", "parse_number", "absolute_includes",
           "deck_line", "MAX_DECK_BYTES", "MAX_DECK_LINES", "MAX_INCLUDE_DEPTH"]

MAX_DECK_BYTES = 50 * 1024 ** 2   # characters of a deck or of one included file
MAX_DECK_LINES = 1_000_000        # lines of a deck, includes counted
MAX_INCLUDE_DEPTH = 16            # nesting of .include / .lib
SINGLE_PULSE_PERIOD = 1e30        # a PULSE period at least this long is one pulse

_SCALE = (("meg", 6), ("mil", None), ("t", 12), ("g", 9), ("k", 3), ("m", -3), ("u", -6),
          ("n", -9), ("p", -12), ("f", -15), ("a", -18))
_NUMBER = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)")
# output-only or bookkeeping options: they change no result
_IGNORED_OPTIONS = {"noacct", "acct", "nopage", "nomod", "list", "node", "opts", "post",
                    "ingold", "numdgt", "noinit", "warn", "norefvalue",
                    "keepopinfo", "brief"}
_OPTIONS = {"temp", "tnom", "reltol", "abstol", "vntol", "gmin", "method", "maxord"}
# cards that choose what is printed or plotted, not what is computed or kept
_SKIPPED_CARDS = {".print", ".plot", ".probe", ".width"}
# a .save target: a call v(...) / i(...) (any spelling, checked later), or a word
_SAVE_TOKEN = re.compile(r"\s*([A-Za-z]+\s*\([^()]*\)|[^\s(),]+)\s*,?")
_SAVE_ALL = {"all", "allv"}      # every vector kept (allv: a superset, the currents too)


@dataclass(frozen=True)
class _Line:
    text: str
    path: str | None
    number: int

    def error(self, message: str) -> NetlistError:
        where = f"{self.path}, " if self.path else ""
        return NetlistError(f"{where}line {self.number}: {message}\n  {self.text[:200]}")


# --------------------------------------------------------------------------- numbers

def parse_number(token: str, *, what: str = "number") -> float:
    """A SPICE number as an SI float: ``1k`` -> 1000.0, ``10u``, ``1meg``, ``2.5n``,
    ``1mil`` (25.4e-6), ``10pF`` (letters after the scale suffix are a unit). Anything else
    (``1_0``, ``0x10``, ``1k5``, ``inf``) is a NetlistError."""
    m = _NUMBER.fullmatch(token.strip()) if isinstance(token, str) else None
    if m is None:
        raise NetlistError(f"{what} {str(token)[:80]!r} is not a SPICE number")
    mantissa, letters = m.groups()
    try:
        value = Decimal(mantissa)
    except InvalidOperation:
        raise NetlistError(f"{what} {token[:80]!r} is not a SPICE number") from None
    low = letters.lower()
    for suffix, exponent in _SCALE:
        if low.startswith(suffix):
            value = value * (Decimal("25.4e-6") if exponent is None
                             else Decimal(1).scaleb(exponent))
            break
    try:
        out = float(value)
    except (OverflowError, ValueError):
        raise NetlistError(f"{what} {token[:80]!r} is out of the range of a float") from None
    if out in (float("inf"), float("-inf")):
        raise NetlistError(f"{what} {token[:80]!r} is out of the range of a float")
    return out


def _is_number(token: str) -> bool:
    return bool(_NUMBER.fullmatch(token))


# --------------------------------------------------------------------------- files

def _read_file(path: Path, what: str) -> str:
    """A regular UTF-8 file of at most MAX_DECK_BYTES bytes (:func:`neurospice.fileio.read_text`),
    else NetlistError naming it."""
    return read_text(path, what=what, max_bytes=MAX_DECK_BYTES, error=NetlistError)


def _physical_lines(text: str, path: str | None) -> list[str]:
    if len(text) > MAX_DECK_BYTES:
        raise NetlistError(f"{path or 'the deck'} holds {len(text)} characters, more than the "
                           f"cap of {MAX_DECK_BYTES}")
    # a byte-order mark (Windows editors write one) is no part of the first line
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_DECK_LINES:
        raise NetlistError(f"{path or 'the deck'} has {len(lines)} lines, more than the cap "
                           f"of {MAX_DECK_LINES}")
    out = []
    for no, line in enumerate(lines, 1):
        line = line.replace("\t", " ")
        try:
            check_text(line, what="deck line")
        except NetlistError as exc:     # named as _Line.error names a line: file, line
            raise (NetlistError(f"{path}, line {no}: {exc}") if path else
                   NetlistError(str(exc), line=no)) from None
        out.append(line)
    return out


def _strip_comment(line: str) -> str:
    """The line without its end-of-line comment (``;`` anywhere, ``$`` after a blank),
    quotes and braces respected."""
    depth, quote = 0, False
    for k, c in enumerate(line):
        if c == "'":
            quote = not quote
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif not quote and depth <= 0 and (c == ";" or (c == "$" and (k == 0 or
                                                                     line[k - 1] == " "))):
            return line[:k]
    return line


def _logical(lines: list[str], path: str | None, start: int = 0) -> list[_Line]:
    """The logical lines of ``lines[start:]``: comments dropped, '+' continuations joined
    (in one join per line: a card continued over many lines costs their length, not its
    square)."""
    heads: list[tuple[int, list[str]]] = []
    semicolon = None        # the line of a ';' comment since the last card
    for no in range(start, len(lines)):
        stripped = lines[no].strip()
        if not stripped or stripped.startswith("*"):
            continue
        if stripped.startswith(";"):
            semicolon = no + 1
            continue
        if stripped.startswith("+"):
            where = f"{path + ', ' if path else ''}line {no + 1}: "
            if not heads:
                raise NetlistError(f"{where}a '+' continuation with no line before it")
            if semicolon is not None:
                raise NetlistError(f"{where}a '+' continuation after the ';' comment line "
                                   f"{semicolon}: ngspice 46 joins it to the comment and "
                                   "drops it; start that comment with '*' to continue the "
                                   "card")
            heads[-1][1].append(_strip_comment(stripped[1:]).strip())
            continue
        semicolon = None
        body = _strip_comment(stripped).strip()
        if body:
            heads.append((no + 1, [body]))
    return [_Line(" ".join(p for p in parts if p), path, number) for number, parts in heads]


class _Files:
    """Included files, resolved and checked by the trust rules."""

    def __init__(self, allowed: list[Path], trusted: bool):
        self.allowed = allowed
        self.trusted = trusted
        self.lines = 0

    def resolve(self, raw: str, base: Path, line: _Line, construct: str) -> Path:
        p = raw.strip()
        if len(p) >= 2 and p[0] == p[-1] and p[0] in "\"'":
            p = p[1:-1]
        if not p:
            raise line.error(f"{construct} names no file")
        target = Path(p).expanduser() if self.trusted else Path(p)
        if not self.trusted:
            why = None
            if p.startswith("~"):
                why = f"path {p!r} in a home folder"
            elif ".." in re.split(r"[\\/]", p):
                why = f"path {p!r} climbs out with '..'"
            if why is None:
                resolved = (target if target.is_absolute() else base / target).resolve()
                if not any(resolved == a or a in resolved.parents for a in self.allowed):
                    why = (f"path {p!r} is outside the allowed folders "
                           f"{[str(a) for a in self.allowed]}; pass allow=[folder] "
                           "(neurospice sim --allow) to read it")
            if why is not None:
                raise UntrustedDeck(f"{construct} refused in an untrusted deck ({why}); read "
                                    "it with trusted=True (neurospice sim --trust) only if you "
                                    "trust the deck's author", construct=construct,
                                    line=line.number, line_text=line.text[:200],
                                    path=line.path)
        return (target if target.is_absolute() else base / target).resolve()

    def read(self, path: Path, line: _Line) -> list[str]:
        if not path.is_file():
            raise line.error(f"included file {path} "
                             f"{'is not a regular file' if path.exists() else 'not found'}")
        lines = _physical_lines(_read_file(path, "included file"), str(path))
        self.lines += len(lines)
        if self.lines > MAX_DECK_LINES:
            raise line.error(f"the deck and its includes pass {MAX_DECK_LINES} lines")
        return lines


def _expand(lines: list[_Line], base: Path, files: _Files, depth: int) -> list[_Line]:
    """``lines`` with .include and .lib FILE SECTION replaced by the files' lines, and
    ``.lib SECTION`` ... ``.endl`` definitions of this file dropped."""
    out: list[_Line] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        words = line.text.split()
        card = words[0].lower()
        if card in (".include", ".inc", ".incl", ".lib"):    # a quoted path may hold blanks
            words = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', line.text)
        if card in (".include", ".inc", ".incl") or (card == ".lib" and len(words) >= 3):
            if depth >= MAX_INCLUDE_DEPTH:
                raise line.error(f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            if len(words) < 2:
                raise line.error(f"{card} names no file")
            path = files.resolve(words[1], base, line, card)
            body = _logical(files.read(path, line), str(path))
            if card == ".lib":
                body = _section(body, words[2], line)
            out += _expand(body, path.parent, files, depth + 1)
        elif card == ".lib":          # a section defined here: read only where named
            if len(words) != 2:
                raise line.error(".lib needs a file and a section, or a section name")
            while k < len(lines) and lines[k].text.split()[0].lower() != ".endl":
                k += 1
            if k == len(lines):
                raise line.error(f".lib section {words[1]} has no .endl")
            k += 1
        elif card == ".endl":
            raise line.error(".endl with no .lib section open")
        elif card == ".end" and depth > 0:
            continue        # an included file's .end ends the file, not the deck (ngspice)
        else:
            out.append(line)
    return out


def _section(body: list[_Line], name: str, line: _Line) -> list[_Line]:
    want = name.lower()
    for k, item in enumerate(body):
        words = item.text.split()
        if words[0].lower() == ".lib" and len(words) == 2 and words[1].lower() == want:
            end = next((j for j in range(k + 1, len(body))
                        if body[j].text.split()[0].lower() == ".endl"), None)
            if end is None:
                raise item.error(f".lib section {name} has no .endl")
            return body[k + 1:end]
    raise line.error(f"library has no section {name!r}")


def absolute_includes(text: str, base) -> str:
    """``text`` with the relative paths of its ``.include``/``.inc``/``.lib`` cards and of
    ``pre_osdi``/``osdi`` commands written relative to ``base`` (the deck's folder), so that
    the deck runs from any folder as it does from its own (plain ngspice resolves them from
    the deck). Absolute paths, ``~`` and paths with ``..`` are left as they are, for the
    trust rules to judge."""
    base = Path(base).resolve()
    out = []
    for line in text.split("\n"):
        m = re.match(r"(\s*(?:\.include|\.incl|\.inc|\.lib|pre_osdi|osdi)\s+)(\"[^\"]*\"|'[^']*'|\S+)"
                     r"(.*)$", line, re.IGNORECASE)
        if m:
            head, token, rest = m.groups()
            quoted = token[0] in "\"'" and len(token) >= 2
            raw = token[1:-1] if quoted else token
            is_lib_section = head.strip().lower() == ".lib" and not rest.strip()
            if (raw and not Path(raw).is_absolute() and not raw.startswith("~")
                    and ".." not in re.split(r"[\\/]", raw) and not is_lib_section):
                raw = str(base / raw)
                token = f'"{raw}"' if (quoted or " " in raw) and \
                    not head.strip().lower().endswith("osdi") else raw
                line = head + token + rest
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"\s*(\{[^{}]*\}|'[^']*'|[(),=]|[^\s(),={}']+)")


def _tokens(text: str, line: _Line) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if not text[pos:].strip():
                break
            raise line.error(f"cannot read {text[pos:pos + 40]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|((?:[0-9]+\.?[0-9]*|\.[0-9]+)"
                         r"(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)|(\^)|(\s+)|(.)")
_FUNCTION_ALIASES = {"log": "ln"}


class _Scope:
    """The parameter names visible in a (sub)circuit, by lower-case spelling."""

    def __init__(self, parent: "_Scope | None" = None):
        self.names: dict[str, str] = dict(parent.names) if parent else {}

    def declare(self, name: str) -> None:
        self.names.setdefault(name.lower(), name)


def _expression_text(text: str, scope: _Scope, line: _Line) -> str:
    """SPICE expression text -> the expression language of ``neurospice.netlists.expr``:
    scaled numbers as plain decimals, ``^`` as ``**``, function names lower-cased,
    parameters spelled as declared."""
    t = text.strip()
    if len(t) >= 2 and ((t[0] == "{" and t[-1] == "}") or (t[0] == t[-1] == "'")):
        t = t[1:-1]
    out = []
    names_of = None       # inside v(...) or i(...): node and source names, whatever they are
    for m in _EXPR_TOKEN.finditer(t):
        ident, number, letters, caret, space, other = m.groups()
        if names_of is not None and space is None:
            if other == ")":
                names_of = None
            elif other not in ("(", ","):
                out.append(m.group(0))
                continue
        if ident is not None:
            low = ident.lower()
            rest = t[m.end():].lstrip()
            if rest.startswith("(") and low in ("v", "i"):
                out.append(low)
                names_of = low
            elif rest.startswith("(") and (low in FUNCTIONS or low in _FUNCTION_ALIASES):
                out.append(_FUNCTION_ALIASES.get(low, low))
            elif low == "time":
                out.append("time")
            elif keyword.iskeyword(low) or keyword.iskeyword(ident):
                raise line.error(f"{ident!r} in expression {text.strip()[:80]!r} is a word of "
                                 "the expression language (a Python keyword): rename the "
                                 "parameter")
            else:
                out.append(scope.names.get(low, ident))
        elif number is not None:
            out.append(fmt(parse_number(number + letters, what="number in expression"))
                       if letters else number)
        elif caret is not None:
            out.append("**")
        elif space is not None:
            out.append(" ")
        else:
            out.append(other)
    joined = "".join(out)
    return _conditionals(joined, line) if "?" in joined else joined


def _conditionals(text: str, line: _Line, depth: int = 0) -> str:
    """SPICE's ``c ? a : b`` (right-associative, below every other operator, also inside
    brackets and between a call's commas) as the expression language's
    ``(a) if (c) else (b)``; a ``?`` without its ``:``, unbalanced brackets or nesting deeper
    than the expression language's cap is a NetlistError naming the line."""
    if depth > MAX_EXPRESSION_DEPTH:
        raise line.error(f"expression {text[:80]!r} nests deeper than "
                         f"{MAX_EXPRESSION_DEPTH} levels")
    out, k = [], 0
    while k < len(text):        # first the brackets' contents, argument by argument
        c = text[k]
        if c not in "([":
            out.append(c)
            k += 1
            continue
        level, args, start = 0, [], k + 1
        for j in range(k, len(text)):
            if text[j] in "([":
                level += 1
            elif text[j] in ")]":
                level -= 1
                if level == 0:
                    break
            elif text[j] == "," and level == 1:
                args.append(text[start:j])
                start = j + 1
        else:
            raise line.error(f"unbalanced brackets in expression {text[:80]!r}")
        args.append(text[start:j])
        out.append(c + ",".join(_conditionals(a, line, depth + 1) if "?" in a else a
                                for a in args) + text[j])
        k = j + 1
    flat = "".join(out)
    level = 0
    for k, c in enumerate(flat):  # then this level's first ?: the rest is its else branch
        if c in "([":
            level += 1
        elif c in ")]":
            level -= 1
        elif c == "?" and level == 0:
            nested = 0
            for j in range(k + 1, len(flat)):
                if flat[j] in "([":
                    level += 1
                elif flat[j] in ")]":
                    level -= 1
                elif level == 0 and flat[j] == "?":
                    nested += 1
                elif level == 0 and flat[j] == ":":
                    if nested == 0:
                        then, other = flat[k + 1:j], flat[j + 1:]
                        return (f"({_conditionals(then, line, depth + 1)}) if "
                                f"({flat[:k].strip()}) else "
                                f"({_conditionals(other, line, depth + 1)})")
                    nested -= 1
            break
    if "?" in flat:
        raise line.error(f"'?' without its ':' in expression {text[:80]!r}")
    return flat


def _value(token: str, scope: _Scope, line: _Line, what: str):
    """A number (scale suffixes read) or an Expression of parameters."""
    if _is_number(token):
        try:
            return parse_number(token, what=what)
        except NetlistError as exc:
            raise line.error(str(exc)) from None
    text = _expression_text(token, scope, line)      # its errors name the line
    try:
        return Expression(text)
    except NetlistError as exc:
        raise line.error(f"{what}: {exc}") from None


def _number(token: str, line: _Line, what: str) -> float:
    try:
        return parse_number(token, what=what)
    except NetlistError as exc:
        raise line.error(str(exc)) from None


def _assignments(text: str, line: _Line) -> list[tuple[str, str]]:
    """``a=1 b = {x*2} c='y+1'`` -> [(a, 1), (b, {x*2}), (c, 'y+1')]: values run to the next
    ``name=``, so unbraced expressions with blanks are whole."""
    marks = [m for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", text)
             if not _inside(text, m.start())]
    if not marks or text[:marks[0].start()].strip():
        raise line.error("expected name=value pairs")
    out = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        value = text[m.end():end].strip()
        value = value[:-1].rstrip() if value.endswith(",") else value   # a, b=1, c=2
        if not value:
            raise line.error(f"{m.group(1)}= has no value")
        out.append((m.group(1), value))
    return out


def _save_tokens(text: str, line: _Line) -> list[str]:
    out, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        m = _SAVE_TOKEN.match(text, pos)
        if m is None:
            raise line.error(f"cannot read .save target {text[pos:pos + 40].strip()!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def _inside(text: str, pos: int) -> bool:
    """Whether ``pos`` lies inside braces, quotes or parentheses."""
    depth, quote = 0, False
    for c in text[:pos]:
        if c == "'":
            quote = not quote
        elif c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
    return quote or depth > 0


# --------------------------------------------------------------------------- the reader

class _Reader:
    def __init__(self, title: str, lines: list[_Line]):
        self.lines = lines
        self.circuit = Circuit(title)
        self.tran = None        # (step, stop) of the first .tran: SPICE source defaults
        self.save_cards: list[_Line] = []     # judged once every element is read
        self.uses: list[tuple[str | None, str, _Line]] = []   # (in subckt, of subckt, X card)
        self.param_lines: dict[str, _Line] = {}      # top-level parameter -> its .param card
        self.origins: dict[str, _Line] = {}   # element, model, subcircuit -> its card
        self.top = _Scope()
        self.top_params: dict[str, tuple[str, _Line]] = {}   # top-level .param: value, card

    def error(self, line: _Line, message: str) -> NetlistError:
        return line.error(message)

    def run(self) -> Circuit:
        top = self.top = _Scope()
        inside = False
        for line in self.lines:        # parameters may be used before they are declared
            card = line.text.split()[0].lower()
            inside = card == ".subckt" or (inside and card != ".ends")
            if card == ".param":
                for name, value in _assignments(line.text.split(None, 1)[1] if
                                                len(line.text.split()) > 1 else "", line):
                    top.declare(name)
                    if not inside:
                        self.top_params[name.lower()] = (value, line)   # the last wins
        for line in self.lines:        # the first .tran: the sources' default times
            if line.text.split()[0].lower() == ".tran":
                toks = [t for t in _tokens(line.text, line)[1:] if t != "uic"]
                if len(toks) >= 2:
                    self.tran = (self.constant(toks[0], line, "tran step", self.circuit),
                                 self.constant(toks[1], line, "tran stop", self.circuit))
                break
        box, scope, opened, ended = self.circuit, top, None, None
        for line in self.lines:
            words = line.text.split()
            card = words[0].lower()
            try:
                if ended is not None:
                    raise line.error(f"a card after .end (line {ended.number}): ngspice 46 "
                                     "reads on past .end, other simulators stop there; move "
                                     "the card above .end or delete it")
                if card == ".end":
                    ended = line
                    continue
                if card == ".subckt":
                    if opened is not None:
                        raise line.error("nested .subckt definitions are not supported")
                    box, scope = self.subckt(line, top)
                    opened = line
                    self.origins.setdefault(box.name.lower(), line)
                elif card == ".ends":
                    if opened is None:
                        raise line.error(".ends with no .subckt open")
                    self.circuit.subcircuit(box)
                    box, scope, opened = self.circuit, top, None
                elif card.startswith("."):
                    self.control(line, card, box, scope, opened is not None)
                else:
                    self.element(line, box, scope)
            except UntrustedDeck:
                raise
            except NetlistError as exc:
                if str(exc).startswith((f"{line.path}, line" if line.path else "line ")):
                    raise
                raise line.error(str(exc)) from None
        if opened is not None:
            raise opened.error(f".subckt {box.name} has no .ends")
        self.check_instances()
        self.saves()
        _ORIGINS[self.circuit] = self.origins
        return self.circuit

    def check_instances(self) -> None:
        """Every X card names a subcircuit the deck defines, no subcircuit holds itself
        (through any chain of instances) and no top-level parameter depends on itself:
        else a NetlistError naming the X card's or the .param card's line."""
        inside: dict[str, list[tuple[str, _Line]]] = {}
        for box, sub, line in self.uses:
            if sub not in self.circuit.subcircuits:
                raise line.error(f"subcircuit {sub!r} is not defined in the deck")
            if box is not None:
                inside.setdefault(box, []).append((sub, line))
        _refuse_cycle(inside, "subcircuit {!r} holds itself ({})")
        params = self.circuit.params
        uses = {name: [(n, self.param_lines[name]) for n in getattr(value, "names", ())
                       if n in params]
                for name, value in params.items()}
        _refuse_cycle(uses, "parameter {!r} depends on itself ({})")

    # ---- dot cards ------------------------------------------------------------------------
    def subckt(self, line: _Line, top: _Scope):
        text = line.text.split(None, 1)[1] if len(line.text.split()) > 1 else ""
        m = re.search(r"\bparams\s*:", text, re.IGNORECASE)
        head, params = (text[:m.start()], text[m.end():]) if m else (text, "")
        if not m:
            first = re.search(r"[A-Za-z_][A-Za-z0-9_]*\s*=", text)
            if first:
                head, params = text[:first.start()], text[first.start():]
        words = head.split()
        if not words:
            raise line.error(".subckt needs a name")
        scope = _Scope(top)
        pairs = _assignments(params, line) if params.strip() else []
        for name, _ in pairs:
            scope.declare(name)
        sub = Subcircuit(words[0], words[1:])
        for name, value in pairs:
            sub.param(name, _value(value, scope, line, f"parameter {name}"))
        return sub, scope

    def control(self, line, card, box, scope, in_subckt) -> None:
        c = self.circuit
        rest = line.text.split(None, 1)[1] if len(line.text.split()) > 1 else ""
        if card == ".param":
            for name, value in _assignments(rest, line):
                scope.declare(name)
                box.param(name, _value(value, scope, line, f"parameter {name}"))
                if box is c:
                    self.param_lines[name] = line
        elif card == ".model":
            self.model(line, rest, scope)
        elif card in _SKIPPED_CARDS:
            return
        elif card == ".save" and not in_subckt:
            self.save_cards.append(line)
        elif card == ".title":
            c.title = rest.strip()
        elif card == ".global":
            if any(n.lower() not in ("0", "gnd") for n in rest.split()):
                raise line.error(".global nodes other than ground cannot be translated")
        elif in_subckt:
            raise line.error(f"{card} inside a .subckt cannot be translated")
        elif card in (".ic", ".nodeset"):
            for node, value in self.node_values(rest, line):
                (c.ic if card == ".ic" else c.nodeset)(node, value)
        elif card in (".options", ".option", ".opt"):
            self.options(rest, line)
        elif card == ".temp":
            c.option("temp", _number(rest.split()[0], line, "temperature") if rest.split()
                     else _number("", line, "temperature"))
        elif card in (".op", ".dc", ".ac", ".tran", ".noise"):
            self.analysis(card[1:], _tokens(rest, line), line)
        elif card in (".meas", ".measure"):
            self.measure(rest, line)
        elif card == ".control":
            raise line.error("a .control block cannot be translated for another simulator "
                             "(its commands are ngspice's interpreter): run the deck on "
                             "ngspice, or move its analyses to dot cards")
        else:
            raise line.error(f"{card} cannot be translated (not in the SPICE subset the "
                             "reader knows)")

    # ---- .save ----------------------------------------------------------------------------
    def saves(self) -> None:
        """The ``.save`` cards as ``Circuit.save`` vectors: ``v(node)``, a bare node,
        ``v(x1.node)`` (a node inside instance x1), ``i(vx)``, ``vx#branch`` and ``@vx[i]``
        (the current of a voltage source, inductor, E/H source or resistor, ``x1.vx`` inside
        an instance; ngspice's ``v.x1.vx`` spelling too). ``all`` (or ``allv``) keeps every
        vector. Anything else, and a node or element the circuit lacks, is a NetlistError
        naming the card's line."""
        keep_all, wanted = False, []
        for line in self.save_cards:
            text = line.text.split(None, 1)[1] if len(line.text.split()) > 1 else ""
            tokens = _save_tokens(text, line)
            if not tokens:
                raise line.error(".save names no vector")
            for token in tokens:
                vec = self.save_target(token, line)
                if vec is None:
                    keep_all = True
                else:
                    wanted.append((vec, line))
        if keep_all:       # the targets are checked all the same: none is dropped unread
            return
        for vec, line in wanted:
            try:
                self.circuit.save(vec)
            except NetlistError as exc:
                raise line.error(str(exc)) from None

    def save_target(self, token: str, line: _Line) -> str | None:
        low = re.sub(r"\s+", "", token).lower()
        if low in _SAVE_ALL:
            return None
        m = (re.fullmatch(r"@([a-z0-9_.]+)\[([a-z0-9_]+)\]", low)
             or re.fullmatch(r"([a-z0-9_.]+)(#)branch", low))
        if m:
            if m.group(2) not in ("i", "#"):
                raise line.error(f".save {token}: the device quantity {m.group(2)!r} cannot be "
                                 "translated (a branch current @vx[i], v() and i() can)")
            return self.saved_current(m.group(1), token, line)
        m = re.fullmatch(r"([a-z]+)\((.*)\)", low)
        if m is None:
            if not re.fullmatch(r"[a-z0-9_][a-z0-9_.]*", low):
                raise line.error(f".save {token!r} is not a vector (v(node), i(vsource), "
                                 "a node name or all)")
            return self.saved_node(low, token, line)
        func, arg = m.groups()
        if func == "v" and re.fullmatch(r"[a-z0-9_.]+", arg):
            return self.saved_node(arg, token, line)
        if func == "i" and re.fullmatch(r"[a-z0-9_.]+", arg):
            return self.saved_current(arg, token, line)
        raise line.error(f".save {token}: only v(node) and i(source) can be saved on every "
                         "simulator (for v(a,b) save v(a) and v(b); ac forms such as vdb() "
                         "are computed from the saved v())")

    def walk(self, path: str, token: str, line: _Line):
        """The (sub)circuit holding the last part of dotted ``path``: each part before it
        names a subcircuit instance of the one above."""
        box: Circuit | Subcircuit = self.circuit
        parts = path.split(".")
        for inst in parts[:-1]:
            e = box.elements.get(inst)
            if not isinstance(e, SubcircuitInstance):
                raise line.error(f".save {token}: {inst!r} is not a subcircuit instance"
                                 f"{' of ' + box.name if box is not self.circuit else ''}")
            box = self.circuit.subcircuits.get(e.subckt.lower())
            if box is None:
                raise line.error(f".save {token}: instance {inst!r} names unknown subcircuit "
                                 f"{e.subckt!r}")
        return box, parts[-1]

    def saved_node(self, path: str, token: str, line: _Line) -> str:
        box, node = self.walk(path, token, line)
        if node in ("0", "gnd"):
            raise line.error(f".save {token}: ground is no vector")
        ports = box.ports if isinstance(box, Subcircuit) else ()
        if node not in box.nodes and node not in ports:
            raise line.error(f".save {token}: no node {node!r} in "
                             f"{'the circuit' if box is self.circuit else 'subcircuit ' + box.name}")
        return f"v({path})"

    def saved_current(self, name: str, token: str, line: _Line) -> str:
        from neurospice.netlists.values import ngspice_name
        path = ngspice_name(f"i({name})")[2:-1]     # ngspice's v.x1.vx is x1.vx
        box, leaf = self.walk(path, token, line)
        e = box.elements.get(leaf)
        if e is None:
            raise line.error(f".save {token}: no element {leaf!r} in "
                             f"{'the circuit' if box is self.circuit else 'subcircuit ' + box.name}")
        if not isinstance(e, SAVED_CURRENTS):
            raise line.error(f".save {token}: the current of {e.name} ({type(e).__name__}) "
                             "cannot be saved on every simulator (voltage sources, "
                             "inductors, E/H sources and resistors can: put a 0 V source in "
                             "series and save its current)")
        return f"i({path})"

    def model(self, line, rest, scope) -> None:
        m = re.match(r"\s*(\S+)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$", rest)
        if not m:
            raise line.error(".model needs a name and a type")
        name, kind, params = m.groups()
        params = params.strip()
        if params.startswith("(") and params.endswith(")"):
            params = params[1:-1]
        values = {}
        for key, value in (_assignments(params, line) if params.strip() else []):
            values[key] = _value(value, scope, line, f"model parameter {key}")
        self.circuit.model(name, kind, **values)
        self.origins.setdefault(name.lower(), line)

    @staticmethod
    def node_values(text: str, line: _Line):
        pairs = re.findall(r"v\(\s*([^()\s,]+)\s*\)\s*=\s*(\S+)", text, re.IGNORECASE)
        if not pairs or re.sub(r"v\(\s*[^()\s,]+\s*\)\s*=\s*\S+", "", text,
                               flags=re.IGNORECASE).strip():
            raise line.error("expected v(node)=value pairs")
        return [(node, _number(value, line, f"value of v({node})")) for node, value in pairs]

    def options(self, text: str, line: _Line) -> None:
        for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*(\S+))?", text):
            key, value = m.group(1).lower(), m.group(2)
            if key in _IGNORED_OPTIONS:
                continue
            if key == "savecurrents":
                raise line.error("option savecurrents cannot be translated: it keeps the "
                                 "current of every device (capacitors', diodes', "
                                 "transistors' too), which only ngspice can; run the deck on "
                                 "ngspice as written (neurospice sim DECK), or .save the "
                                 "currents you need (i(vx), @r1[i])")
            if key not in _OPTIONS or value is None:
                raise line.error(f"option {key} cannot be translated (known: "
                                 f"{', '.join(sorted(_OPTIONS))}; output-only flags are "
                                 "ignored)")
            if key == "method":
                self.circuit.option("method", value.lower())
            elif key == "maxord":
                self.circuit.option("maxord", _number(value, line, "maxord"))
            else:
                self.circuit.option(key, _number(value, line, f"option {key}"))

    def analysis(self, kind: str, toks: list[str], line: _Line) -> None:
        c = self.circuit
        num = lambda k, what: self.constant(toks[k], line, what, c)  # noqa: E731
        if kind == "op":
            if toks:
                raise line.error(".op takes no arguments")
            c.op()
        elif kind == "dc":
            if len(toks) != 4:
                raise line.error(".dc with other than one source sweep (src start stop step) "
                                 "cannot be translated")
            c.dc(toks[0], num(1, "dc start"), num(2, "dc stop"), num(3, "dc step"))
        elif kind == "ac":
            if len(toks) != 4 or toks[0].lower() not in ("dec", "oct", "lin"):
                raise line.error(".ac needs dec|oct|lin points fstart fstop")
            c.ac(num(2, "ac start"), num(3, "ac stop"), self.count(toks[1], line),
                 toks[0].lower())
        elif kind == "tran":
            uic = bool(toks) and toks[-1].lower() == "uic"
            toks = toks[:-1] if uic else toks
            if not 2 <= len(toks) <= 4:
                raise line.error(".tran needs tstep tstop [tstart [tmax]] [uic]")
            c.tran(num(0, "tran step"), num(1, "tran stop"),
                   start=num(2, "tran start") if len(toks) > 2 else 0.0,
                   max_step=num(3, "tran max step") if len(toks) > 3 else None, uic=uic)
        elif kind == "noise":
            text = " ".join(toks)
            m = re.match(r"v\s*\(\s*([^,()\s]+)\s*(?:,\s*([^,()\s]+)\s*)?\)\s+(\S+)\s+"
                         r"(dec|oct|lin)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(\S+))?$", text,
                         re.IGNORECASE)
            if not m:
                raise line.error(".noise needs v(out[,ref]) source dec|oct|lin points fstart "
                                 "fstop")
            out, ref, src, var, pts, f1, f2, _ = m.groups()
            c.noise(out, src, self.constant(f1, line, "noise start", c),
                    self.constant(f2, line, "noise stop", c),
                    self.count(pts, line), var.lower(), reference=ref or "0")

    @staticmethod
    def count(token: str, line: _Line) -> int:
        value = _number(token, line, "points")
        if value != int(value) or value < 1:
            raise line.error(f"points must be a positive integer, got {token!r}")
        return int(value)

    # ---- .meas ----------------------------------------------------------------------------
    def measure(self, text: str, line: _Line) -> None:
        low = re.sub(r"\s*=\s*", "=", text.strip())
        words = low.split()
        if len(words) < 3:
            raise line.error(".meas needs an analysis, a name and a function")
        analysis, name, func = words[0].lower(), words[1], words[2].lower()
        rest = words[3:]
        if func == "trig":
            try:
                k = [w.lower() for w in rest].index("targ")
            except ValueError:
                raise line.error(".meas TRIG without TARG") from None
            self.circuit.measure(name, analysis, "trig_targ", trig=self.event(rest[:k], line),
                                 targ=self.event(rest[k + 1:], line))
        elif func == "find":
            if not rest:
                raise line.error(".meas FIND needs a vector")
            vector, tail = rest[0], rest[1:]
            if tail and tail[0].lower().startswith("at="):
                if len(tail) != 1:
                    raise line.error(f".meas FIND ... AT= takes nothing after: {tail[1:]}")
                self.circuit.measure(name, analysis, "find_at", vector=vector,
                                     at=_number(tail[0][3:], line, "AT"))
            elif tail and tail[0].lower() == "when":
                self.circuit.measure(name, analysis, "find_when", vector=vector,
                                     when=self.when(tail[1:], line))
            else:
                raise line.error(".meas FIND needs WHEN or AT=")
        elif func == "when":
            self.circuit.measure(name, analysis, "when", when=self.when(rest, line))
        elif func in ("avg", "rms", "min", "max", "pp", "integ", "integral"):
            if not rest:
                raise line.error(f".meas {func} needs a vector")
            window = self.keywords(rest[1:], ("from", "to"), line)
            self.circuit.measure(name, analysis, "integ" if func == "integral" else func,
                                 vector=rest[0], start=window.get("from"),
                                 stop=window.get("to"))
        else:
            raise line.error(f".meas {func.upper()} cannot be translated (known: TRIG/TARG, "
                             "FIND/WHEN, FIND/AT, WHEN, AVG, RMS, MIN, MAX, PP, INTEG)")

    @staticmethod
    def keywords(words: list[str], known, line: _Line) -> dict:
        out = {}
        for w in words:
            key, sep, value = w.partition("=")
            key = key.lower()
            if not sep or key not in known:
                raise line.error(f".meas: {w!r} cannot be translated here (known: "
                                 f"{', '.join(k.upper() + '=' for k in known)})")
            if key in ("rise", "fall", "cross"):
                out[key] = value.lower() if value.lower() == "last" else \
                    _Reader.count(value, line)
            else:
                out[key] = _number(value, line, key.upper())
        return out

    def event(self, words: list[str], line: _Line) -> MeasureEvent:
        if len(words) == 1 and words[0].lower().startswith("at="):
            return MeasureEvent(at=_number(words[0][3:], line, "AT"))
        if not words:
            raise line.error(".meas TRIG/TARG needs a vector")
        kw = self.keywords(words[1:], ("val", "td", "rise", "fall", "cross"), line)
        return self.make_event(words[0], kw, line)

    def when(self, words: list[str], line: _Line) -> MeasureEvent:
        if not words or "=" not in words[0]:
            raise line.error(".meas WHEN needs vector=value")
        vector, _, value = words[0].partition("=")
        kw = self.keywords(words[1:], ("td", "rise", "fall", "cross"), line)
        kw["val"] = _number(value, line, "WHEN value")
        return self.make_event(vector, kw, line)

    @staticmethod
    def make_event(vector: str, kw: dict, line: _Line) -> MeasureEvent:
        if "val" not in kw:
            raise line.error(".meas TRIG/TARG needs VAL=")
        edges = [k for k in ("rise", "fall", "cross") if k in kw]
        if len(edges) > 1:
            raise line.error("give one of RISE=, FALL=, CROSS=")
        edge = edges[0] if edges else "cross"
        return MeasureEvent(vector, kw["val"], edge, kw.get(edge, 1), kw.get("td", 0.0))

    # ---- elements -------------------------------------------------------------------------
    def element(self, line: _Line, box, scope: _Scope) -> None:
        toks = _tokens(line.text, line)
        name = toks[0]
        kind = name[0].lower()
        handler = {"r": self.passive, "c": self.passive, "l": self.passive,
                   "v": self.source, "i": self.source, "e": self.controlled,
                   "g": self.controlled, "f": self.controlled, "h": self.controlled,
                   "b": self.bsource, "d": self.diode, "x": self.instance,
                   "k": self.mutual, "m": self.transistor, "q": self.transistor}.get(kind)
        if handler is None:
            raise line.error(f"element {name} ({kind.upper()}: "
                             f"{_ELEMENT_KINDS.get(kind, 'unknown')}) cannot be translated")
        handler(line, toks, box, scope)
        self.origins.setdefault(name.lower(), line)

    def passive(self, line, toks, box, scope) -> None:
        args = toks[1:]
        if len(args) == 5 and args[3] == "=" and args[2].lower() in ("r", "c", "l", "value"):
            args = args[:2] + [args[4]]
        if len(args) != 3:
            raise line.error(f"{toks[0]} needs two nodes and a value (model cards, tc=, ic= "
                             "and other options cannot be translated)")
        value = _value(args[2], scope, line, "value")
        add = {"r": box.resistor, "c": box.capacitor, "l": box.inductor}[toks[0][0].lower()]
        add(toks[0], args[0], args[1], value)

    def source(self, line, toks, box, scope) -> None:
        if len(toks) < 3:
            raise line.error(f"{toks[0]} needs two nodes")
        rest = toks[3:]
        dc = ac = None
        phase = 0.0
        waveform = None
        k = 0
        while k < len(rest):
            word = rest[k].lower()
            if word == "dc":
                if k + 1 >= len(rest):
                    raise line.error("dc needs a value")
                dc = _value(rest[k + 1], scope, line, "dc value")
                k += 2
            elif word == "ac":
                nums = self.numbers(rest, k + 1, 2)
                if not nums:
                    ac, k = 1.0, k + 1
                else:
                    ac = _number(nums[0], line, "ac magnitude")
                    if len(nums) > 1:
                        phase = _number(nums[1], line, "ac phase")
                    k += 1 + len(nums)
            elif word in ("pulse", "sin", "pwl", "exp", "sffm", "am"):
                if waveform is not None:
                    raise line.error("a source takes one waveform")
                args, k = self.arguments(rest, k + 1, line)
                waveform = self.waveform(word, args, line, box)
            elif _is_number(rest[k]) or rest[k].startswith(("{", "'")):
                if dc is not None or k != 0:
                    raise line.error(f"unexpected value {rest[k]!r}")
                dc = _value(rest[k], scope, line, "dc value")
                k += 1
            else:
                raise line.error(f"{rest[k]!r} cannot be translated in a source")
        add = box.vsource if toks[0][0].lower() == "v" else box.isource
        add(toks[0], toks[1], toks[2], dc, ac=ac, ac_phase_deg=phase, waveform=waveform)

    @staticmethod
    def numbers(toks: list[str], k: int, most: int) -> list[str]:
        out = []
        while k < len(toks) and len(out) < most and _is_number(toks[k]):
            out.append(toks[k])
            k += 1
        return out

    @staticmethod
    def arguments(toks: list[str], k: int, line: _Line) -> tuple[list[str], int]:
        if k < len(toks) and toks[k] == "(":
            end = next((j for j in range(k, len(toks)) if toks[j] == ")"), None)
            if end is None:
                raise line.error("unclosed '('")
            return [t for t in toks[k + 1:end] if t != ","], end + 1
        args = []
        while k < len(toks) and _is_number(toks[k]):
            args.append(toks[k])
            k += 1
        return args, k

    def waveform(self, kind: str, args: list[str], line: _Line, box):
        vals = [self.constant(a, line, f"{kind} argument {j + 1}", box)
                for j, a in enumerate(args)]
        step, stop = self.tran if self.tran else (None, None)

        def need(what):
            if self.tran is None:
                raise line.error(f"{kind.upper()} leaves {what} to the .tran card, and the "
                                 "deck has none: give it")
        if kind == "pulse":
            if not 2 <= len(vals) <= 7:
                raise line.error("PULSE takes v1 v2 [td tr tf pw per]")
            vals += [None] * (7 - len(vals))
            v1, v2, td, tr, tf, pw, per = vals
            if not tr or not tf:
                need("the rise and fall times")
            if not pw or not per:
                need("the width and period")
            tr, tf = tr or step, tf or step
            pw = pw or stop
            period = per if per else None
            if period is not None and period >= SINGLE_PULSE_PERIOD:
                period = None
            return Pulse(v1, v2, td or 0.0, tr, tf, pw, period)
        if kind == "sin":
            if not 2 <= len(vals) <= 6:
                raise line.error("SIN takes vo va [freq td theta phase]")
            if len(vals) < 3 or not vals[2]:
                need("the frequency (1/tstop)")
                freq = 1.0 / stop
            else:
                freq = vals[2]
            vals += [0.0] * (6 - len(vals))
            return Sine(vals[0], vals[1], freq, vals[3], vals[4], vals[5])
        if kind == "pwl":
            if len(vals) % 2 or len(vals) < 4:
                raise line.error("PWL takes pairs of time and value, two at least")
            return Pwl(vals[0::2], vals[1::2])
        if kind == "exp":
            if not 2 <= len(vals) <= 6:
                raise line.error("EXP takes v1 v2 [td1 tau1 td2 tau2]")
            vals += [None] * (6 - len(vals))
            v1, v2, td1, tau1, td2, tau2 = vals
            if not tau1 or not td2 or not tau2:
                need("the time constants or the second delay (the time step)")
            td1 = td1 or 0.0
            return Exp(v1, v2, td1, tau1 or step, td2 or td1 + step, tau2 or step)
        raise line.error(f"{kind.upper()} sources cannot be translated (PULSE, SIN, PWL, "
                         "EXP, DC and AC can)")

    def constant(self, token: str, line: _Line, what: str, box) -> float:
        """A number, or an expression of top-level parameters evaluated now (a waveform's
        arguments and an analysis's are numbers in every dialect: ``SIN(0 {amp} {freq})``,
        ``.tran {tstep} {tstop}``). In a subcircuit, whose parameters differ per instance,
        only a number."""
        if _is_number(token) or box is not self.circuit:
            return _number(token, line, what)
        expr = _value(token, self.top, line, what)
        return expr if isinstance(expr, float) else self.evaluate(
            ast.parse(expr.text, mode="eval").body, line, what, ())

    def evaluate(self, node, line: _Line, what: str, within: tuple[str, ...]) -> float:
        """The value of a parsed expression of top-level parameters (the expression
        language's grammar, already checked); a parameter no top-level .param defines, one
        that depends on itself, v(), i(), time, or arithmetic that fails is a NetlistError
        naming the line."""
        def fail(why):
            return line.error(f"{what}: {why}")
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            name = node.id.lower()
            if name in within:
                raise fail(f"parameter {node.id} depends on itself "
                           f"({' -> '.join((*within, name))})")
            found = self.top_params.get(name)
            if found is None:
                raise fail(f"{node.id} is not a top-level .param (a waveform's arguments are "
                           "evaluated when the deck is read)")
            token, card = found
            if _is_number(token):
                return _number(token, card, f"parameter {node.id}")
            expr = _value(token, self.top, card, f"parameter {node.id}")
            return expr if isinstance(expr, float) else self.evaluate(
                ast.parse(expr.text, mode="eval").body, line, what, (*within, name))
        try:
            if isinstance(node, ast.UnaryOp):
                value = self.evaluate(node.operand, line, what, within)
                return -value if isinstance(node.op, ast.USub) else value
            if isinstance(node, ast.BinOp):
                a = self.evaluate(node.left, line, what, within)
                b = self.evaluate(node.right, line, what, within)
                out = _ARITHMETIC[type(node.op)](a, b)
            elif isinstance(node, ast.IfExp):
                test = node.test
                a = self.evaluate(test.left, line, what, within)
                b = self.evaluate(test.comparators[0], line, what, within)
                branch = node.body if _COMPARE[type(test.ops[0])](a, b) else node.orelse
                return self.evaluate(branch, line, what, within)
            elif isinstance(node, ast.Call) and node.func.id in _MATH:
                out = _MATH[node.func.id](*(self.evaluate(a, line, what, within)
                                           for a in node.args))
            else:
                raise fail(f"{ast.unparse(node)[:80]!r} cannot be evaluated when the deck is "
                           "read (only numbers, top-level parameters, arithmetic and the "
                           "math functions can)")
        except (ArithmeticError, ValueError) as exc:
            raise fail(f"{ast.unparse(node)[:80]!r} cannot be evaluated: {exc}") from None
        if not math.isfinite(out):
            raise fail(f"{ast.unparse(node)[:80]!r} is not finite")
        return float(out)

    def mutual(self, line, toks, box, scope) -> None:
        if len(toks) != 4:
            raise line.error(f"{toks[0]} needs two inductors and a coupling")
        # the writers name the inductors as declared, wherever in the deck that is
        box.mutual(toks[0], toks[1], toks[2], _value(toks[3], scope, line, "coupling"))

    def controlled(self, line, toks, box, scope) -> None:
        kind = toks[0][0].lower()
        if any(t.lower() in ("poly", "value", "vol", "cur", "table", "laplace") for t in toks):
            raise line.error(f"{toks[0]}: POLY/VALUE/TABLE forms cannot be translated; write a "
                             "B source")
        if kind in "eg":
            if len(toks) != 6:
                raise line.error(f"{toks[0]} needs p n cp cn gain")
            add = box.vcvs if kind == "e" else box.vccs
            add(toks[0], toks[1], toks[2], toks[3], toks[4], _value(toks[5], scope, line, "gain"))
        else:
            if len(toks) != 5:
                raise line.error(f"{toks[0]} needs p n vsource gain")
            add = box.cccs if kind == "f" else box.ccvs
            add(toks[0], toks[1], toks[2], toks[3], _value(toks[4], scope, line, "gain"))

    def bsource(self, line, toks, box, scope) -> None:
        m = re.match(r"\s*(\S+)\s+(\S+)\s+(\S+)\s+([vi])\s*=\s*(.+)$", line.text,
                     re.IGNORECASE)
        if not m:
            raise line.error(f"{toks[0]} needs p n V=expression or I=expression")
        name, p, n, kind, text = m.groups()
        expr = Expression(_expression_text(text, scope, line))
        box.bsource(name, p, n, **{kind.lower(): expr})

    def diode(self, line, toks, box, scope) -> None:
        if len(toks) != 4:
            raise line.error(f"{toks[0]} needs anode cathode model (area, off and ic= cannot "
                             "be translated)")
        box.diode(toks[0], toks[1], toks[2], toks[3])

    def transistor(self, line, toks, box, scope) -> None:
        """M d g s b model [k=v ...]; Q c b e [s] model [area] [k=v ...]."""
        first = re.search(r"[A-Za-z_][A-Za-z0-9_]*\s*=", line.text)
        head, params = (line.text[:first.start()], line.text[first.start():]) if first \
            else (line.text, "")
        words = head.split()
        if not words:
            raise line.error(f"{toks[0]} needs nodes and a model")
        name, kind = words[0], words[0][0].lower()
        values = {}
        if kind == "q" and len(words) in (6, 7) and _is_number(words[-1]):
            values["area"] = _value(words.pop(), scope, line, "area")
        if any(w.lower() == "off" for w in words[1:]):
            raise line.error(f"{name}: OFF cannot be translated (give .nodeset or .ic)")
        for key, value in (_assignments(params, line) if params.strip() else []):
            if key.lower() == "ic":
                raise line.error(f"{name}: ic= cannot be translated (give .ic)")
            values[key.lower()] = _value(value, scope, line, f"parameter {key}")
        if kind == "m":
            if len(words) != 6:
                raise line.error(f"{name} needs drain gate source bulk and a model")
            box.mosfet(name, *words[1:5], words[5], **values)
        else:
            if len(words) not in (5, 6):
                raise line.error(f"{name} needs collector base emitter [substrate] and a model")
            box.bjt(name, *words[1:4], words[-1],
                    substrate=words[4] if len(words) == 6 else None, **values)

    def instance(self, line, toks, box, scope) -> None:
        m = re.search(r"\bparams\s*:", line.text, re.IGNORECASE)
        text = line.text[:m.start()] + line.text[m.end():] if m else line.text
        first = re.search(r"[A-Za-z_][A-Za-z0-9_]*\s*=", text)
        head, params = (text[:first.start()], text[first.start():]) if first else (text, "")
        words = head.split()
        if len(words) < 3:
            raise line.error(f"{toks[0]} needs nodes and a subcircuit name")
        values = {}
        for key, value in (_assignments(params, line) if params.strip() else []):
            values[key] = _value(value, scope, line, f"parameter {key}")
        sub = self.circuit.subcircuits.get(words[-1].lower())
        self.uses.append((box.name.lower() if isinstance(box, Subcircuit) else None,
                          words[-1].lower(), line))
        if sub is not None:    # instance parameters spelled as the definition spells them
            names = {k.lower(): k for k in sub.params}
            values = {names.get(k.lower(), k): v for k, v in values.items()}
        box.instance(words[0], sub.name if sub is not None else words[-1], words[1:-1],
                     **values)


# what evaluate() computes: the expression language's operators and SPICE's functions
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.Pow: math.pow}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge}
_MATH = {"exp": math.exp, "ln": math.log, "log10": math.log10, "sqrt": math.sqrt,
         "abs": abs, "sin": math.sin, "cos": math.cos, "tan": math.tan, "sinh": math.sinh,
         "cosh": math.cosh, "tanh": math.tanh, "atan": math.atan, "min": min, "max": max,
         "pow": math.pow}


def _refuse_cycle(edges: dict[str, list[tuple[str, _Line]]], message: str) -> None:
    """A NetlistError naming the line of the edge that closes a cycle of ``edges`` (name ->
    [(name it uses, the line that says so)]), ``message`` formatted with the name and the
    chain; nothing when there is none (an iterative depth-first walk)."""
    done: set[str] = set()
    for root in edges:
        if root in done:
            continue
        stack, path = [iter(edges.get(root, ()))], [root]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                done.add(path.pop())
                stack.pop()
                continue
            child, line = step
            if child in path:
                chain = " -> ".join(path[path.index(child):] + [child])
                raise line.error(message.format(child, chain))
            if child not in done:
                stack.append(iter(edges.get(child, ())))
                path.append(child)


_ELEMENT_KINDS = {"k": "mutual inductance", "q": "bipolar transistor", "m": "MOSFET",
                  "j": "JFET", "s": "voltage switch", "w": "current switch",
                  "t": "transmission line", "o": "lossy line", "u": "RC line",
                  "z": "MESFET", "a": "XSPICE code model", "n": "OSDI device",
                  "p": "coupled lines", "y": "transmission line"}


def _read(text: str, path: str | None, base: Path, allow, trusted: bool) -> Circuit:
    lines = _physical_lines(text, path)
    if not lines or not lines[0].strip():
        title = "deck"
    else:        # verbatim after the comment star and one blank (a writer's "* TITLE")
        title = re.sub(r"^\s*\*+ ?", "", lines[0].rstrip("\r")) or "deck"
    allowed = [base.resolve(), *(Path(a).resolve() for a in allow)]
    files = _Files(allowed, trusted)
    files.lines = len(lines)
    logical = _expand(_logical(lines, path, start=1), base, files, 0)
    if not logical:
        raise NetlistError(f"{path or 'the deck'} holds no cards after its title line")
    return _Reader(title, logical).run()


def read_deck(text_or_path, *, base=None, allow=(), trusted: bool = False) -> Circuit:
    """The Circuit of a SPICE deck given as text (a ``str``) or as a file (a
    ``pathlib.Path`` or other path-like). Relative includes resolve from the including
    file's folder; for text, from ``base`` (default: the working folder). Includes outside
    that folder and the ``allow`` folders are refused unless ``trusted`` (UntrustedDeck).
    Raises NetlistError naming the file, the line and the construct for anything it cannot
    translate."""
    if isinstance(text_or_path, os.PathLike):
        return read_deck_file(text_or_path, allow=allow, trusted=trusted)
    if not isinstance(text_or_path, str):
        raise NetlistError(f"read_deck takes deck text or a path, not "
                           f"{type(text_or_path).__name__}")
    return _read(text_or_path, None, Path(base) if base is not None else Path.cwd(), allow,
                 trusted)


def read_deck_file(path, *, allow=(), trusted: bool = False) -> Circuit:
    """The Circuit of the SPICE deck in the file ``path`` (see :func:`read_deck`)."""
    path = Path(path)
    return _read(_read_file(path, "deck"), str(path), path.resolve().parent, allow, trusted)


# the cards of each circuit read from a deck (weakly held: a circuit dropped drops them)
_ORIGINS: "weakref.WeakKeyDictionary[Circuit, dict[str, _Line]]" = weakref.WeakKeyDictionary()


def deck_line(circuit: Circuit, name: str) -> str | None:
    """Where the deck that :func:`read_deck` read into ``circuit`` defines the element, model
    or subcircuit ``name`` (any case), as ``"FILE, line N"`` (``"line N"`` for text), to name
    it in an error a later step raises about it (a model VACASK lacks, found when the
    circuit is rendered); None for a name the deck does not define or a circuit built in
    Python."""
    line = _ORIGINS.get(circuit, {}).get(str(name).lower())
    if line is None:
        return None
    return f"{line.path}, line {line.number}" if line.path else f"line {line.number}"


def read_measures(text: str) -> list:
    """The ``.meas`` cards of SPICE deck ``text`` (outside ``.control`` blocks) as
    :class:`~neurospice.netlists.circuit.Measure` objects, the rest of the deck unread
    (files it includes are not opened). NetlistError naming the line for a card that cannot
    be translated."""
    lines = _physical_lines(text, None)
    reader = _Reader("measures", [])
    inside = False
    for line in _logical(lines, None, start=1):
        card = line.text.split()[0].lower()
        if card == ".control":
            inside = True
        elif card == ".endc":
            inside = False
        elif card in (".meas", ".measure") and not inside:   # also after .end: ngspice reads on
            rest = line.text.split(None, 1)[1] if len(line.text.split()) > 1 else ""
            try:
                reader.measure(rest, line)
            except NetlistError as exc:
                if str(exc).startswith("line "):
                    raise
                raise line.error(str(exc)) from None
    return reader.circuit.measures
