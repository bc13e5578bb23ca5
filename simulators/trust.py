"""The trust model for decks: what an untrusted deck may not do, checked before a simulator
sees it.

Netlist text given to ``Simulator.run`` (or read by ``neurospice sim``) is **untrusted by
default**: it may come from the internet. Before the simulator reads an untrusted deck it is
scanned with the simulator's own line rules, and every construct that can touch the system is
refused with :class:`~neurospice.errors.UntrustedDeck`, which names the file, the line and
the construct:

- ngspice (and Xyce, whose decks follow the same SPICE rules): any ``.control`` ... ``.endc``
  block (its commands include ``shell``, ``source``, ``load``, ``write``/``wrdata``, output
  redirection ``>``, ``cd``, ``codemodel``, ``osdi``/``pre_osdi``, ``set sourcepath``,
  ``set unixcom``, ``edit``, ``gnuplot``...), ``*#`` comment lines (ngspice runs them as
  commands), a ``*ng_script`` line (turns the whole file into a script) and ``.exec``;
  ``.include``/``.inc``/``.lib`` and ``file=``-style parameters whose path lies outside the
  allowed folders, starts with ``~`` or contains ``..``. Xyce has no shell escape in its
  netlist language that we know of; only the path rules matter there.
- VACASK: ``postprocess(...)`` (runs a program), ``embed`` (writes a file, also to absolute
  and ``../`` paths), ``include`` and ``load`` (a compiled model is a shared library) outside
  the allowed folders. VACASK is also started with ``-sp -se`` (skip postprocessing, skip
  embedded files) for an untrusted deck.

Files an untrusted deck includes are scanned the same way, recursively. The allowed folders
are the run folder, the neurospice cache and the folders the caller names (``allow=``;
``neurospice sim`` adds the deck's own folder). ``trusted=True`` (``neurospice sim --trust``)
skips the scan: use it only for decks whose author you trust.

Every deck, trusted or not, and every rendered Circuit passes :func:`check_line_breaks`:
``\\r\\n`` becomes ``\\n``; any other character some simulator or Python's
``str.splitlines`` takes as a line break (lone ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``,
``\\x85``, U+2028, U+2029) and NUL are refused, so that what the writer meant as one line
stays one line. A rendered Circuit is trusted as code, but its text is still checked for
what the writer never emits (a ``.control`` block holding anything but ``set num_threads``
and ``pre_osdi``, ``*#`` lines, VACASK ``postprocess``/``embed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from neurospice.errors import NetlistError, UntrustedDeck

__all__ = ["LINE_BREAKS", "check_line_breaks", "check_deck", "inert_title", "NGSPICE_COMMANDS",
           "MAX_INCLUDED_BYTES", "MAX_INCLUDE_DEPTH"]

#: Characters other than ``\n`` that a simulator or ``str.splitlines`` treats as a line
#: break (``\r`` is accepted only as part of ``\r\n``), plus NUL (ends a C string).
LINE_BREAKS = {"\r": "carriage return", "\x0b": "vertical tab", "\x0c": "form feed",
               "\x1c": "file separator", "\x1d": "group separator",
               "\x1e": "record separator", "\x85": "next line (U+0085)",
               "\u2028": "line separator (U+2028)", "\u2029": "paragraph separator (U+2029)",
               "\x00": "NUL"}
_BREAK = re.compile("[" + "".join(re.escape(c) for c in LINE_BREAKS) + "]")

#: ngspice control-language commands that reach outside the simulation, with why.
NGSPICE_COMMANDS = {
    "shell": "runs a system command", "!": "runs a system command",
    "source": "reads and runs another file", "load": "reads a raw file",
    "write": "writes a file", "wrdata": "writes a file", "wrs2p": "writes a file",
    "wrnodev": "writes a file", "hardcopy": "writes a file", "gnuplot": "runs gnuplot",
    "edit": "runs an editor", "cd": "changes the working folder",
    "codemodel": "loads a shared library", "osdi": "loads a shared library",
    "pre_osdi": "loads a shared library", "pre_codemodel": "loads a shared library",
    "set": "sets interpreter variables (sourcepath, unixcom...)",
    "setcs": "sets interpreter variables", "rusage": "reports on the process",
    "aspice": "starts another simulator process", "rspice": "runs a remote simulation",
    "snsave": "writes a file", "snload": "reads a file", "listing": "may write a file",
    "bug": "sends mail", "help": "may start a browser", "rehash": "searches PATH",
    "exec": "runs a command", "quit": "ends the process", "exit": "ends the process",
}

MAX_INCLUDED_BYTES = 50_000_000   # an included file larger than this is not scanned: refused
MAX_INCLUDE_DEPTH = 16

_TRUST_HINT = ("; run it with trusted=True (neurospice sim --trust) only if you trust the "
               "deck's author")


def check_line_breaks(text: str, *, path: str | None = None) -> str:
    """``text`` with ``\\r\\n`` turned into ``\\n``; NetlistError naming the line and the
    character for any other line-break character or NUL (see :data:`LINE_BREAKS`)."""
    text = text.replace("\r\n", "\n")
    m = _BREAK.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        where = f"{path}: " if path else ""
        raise NetlistError(f"{where}{LINE_BREAKS[m.group()]} ({m.group()!r}) inside a line: "
                           "simulators would split or cut the line there; only '\\n' may end "
                           "a line", line=line)
    return text


def check_deck(text: str, dialect: str, *, allowed: Iterable[Path] = (),
               bases: Iterable[Path] = (), circuit: bool = False,
               path: str | None = None) -> str:
    """Refuse (UntrustedDeck) what a deck in ``dialect`` may not do (see the module
    docstring); return the text to give the simulator: for a SPICE dialect, unless
    ``circuit``, the deck with an inert title (:func:`inert_title`). The first line is the
    title, whatever it says (``.control``, ``.include /etc/passwd``, ``R1 1 0 1k``): it is
    not scanned as a card, so it is not refused as one, and it is never run as one either.
    ``allowed``: folders whose files it may read; ``bases``: the folders a relative path is
    resolved from (all of them are checked). ``circuit``: the text was rendered from a
    Circuit (trusted code): only what the writer never emits is refused and paths are not
    checked. ``text`` must have passed :func:`check_line_breaks`."""
    scan = _Scan([Path(a).resolve() for a in allowed], [Path(b) for b in bases], circuit)
    if dialect == "vacask":
        scan.vacask(text, path, scan.bases, 0)
        return text
    scan.spice(text, path, scan.bases, 0)
    return text if circuit else inert_title(text)


# a first line ngspice reads as its title and nothing else: it starts with a letter or a
# digit, or it is a comment star followed by a blank (or nothing)
_PLAIN_TITLE = re.compile(r"(?:[A-Za-z0-9]|\*(?:[ \t]|$))")


def inert_title(text: str) -> str:
    """SPICE deck ``text`` with its first line, the title, written so that no simulator can
    read it as anything else: a comment star and a blank before it, unless it starts with a
    letter, a digit, or a star and a blank (a UTF-8 byte-order mark before it is dropped
    then). A deck's first line is its title whatever it says, but ngspice 46 also reads a
    first line ``.include FILE`` or ``.lib FILE SECTION`` (and opens the file); behind the
    star it is a comment. The line count stays, so line numbers in errors stay true."""
    title, newline, rest = text.partition("\n")
    title = title.removeprefix("\ufeff")
    return text if _PLAIN_TITLE.match(title) else f"* {title}{newline}{rest}"


class _Scan:
    def __init__(self, allowed: list[Path], bases: list[Path], circuit: bool):
        self.allowed = allowed
        self.bases = bases
        self.circuit = circuit
        self.seen: set[Path] = set()

    # ---- shared ---------------------------------------------------------------------------
    def refuse(self, construct: str, why: str, line: int, text: str, path: str | None):
        hint = "; a Circuit's writer never emits it" if self.circuit else _TRUST_HINT
        raise UntrustedDeck(f"{construct} refused in an untrusted deck ({why}){hint}",
                            construct=construct, line=line, line_text=text.strip()[:200],
                            path=path)

    def check_path(self, raw: str, construct: str, line: int, text: str, path: str | None,
                   bases: list[Path]) -> list[Path]:
        """The files ``raw`` may name (one per base); refuse one outside the allowed
        folders."""
        if self.circuit:
            return []
        p = raw.strip()
        if not p:
            return []
        if p.startswith("~"):
            self.refuse(construct, f"path {p!r} in a home folder", line, text, path)
        if ".." in re.split(r"[\\/]", p):
            self.refuse(construct, f"path {p!r} climbs out with '..'", line, text, path)
        rel = Path(p)
        candidates = [rel] if rel.is_absolute() else [b / rel for b in bases]
        for c in candidates:
            try:
                resolved = c.resolve()
            except (OSError, RuntimeError):
                self.refuse(construct, f"path {p!r} cannot be resolved", line, text, path)
            if not any(resolved == a or a in resolved.parents for a in self.allowed):
                shown = f"{p!r}" if str(resolved) == p else f"{p!r} ({resolved})"
                self.refuse(construct, f"path {shown} is outside the allowed "
                            f"folders {[str(a) for a in self.allowed]}; pass allow=[folder] "
                            "(neurospice sim --allow) to read it", line, text, path)
        return candidates

    def include(self, candidates: list[Path], depth: int, dialect: str, construct: str,
                line: int, text: str, path: str | None) -> None:
        """Scan the files an allowed include names, with the same rules."""
        for c in candidates:
            try:
                if not c.is_file():
                    continue
                resolved = c.resolve()
                if resolved in self.seen:
                    continue
                self.seen.add(resolved)
                if depth >= MAX_INCLUDE_DEPTH:
                    self.refuse(construct, f"includes nested deeper than {MAX_INCLUDE_DEPTH}",
                                line, text, path)
                if resolved.stat().st_size > MAX_INCLUDED_BYTES:
                    self.refuse(construct, f"included file {resolved} is larger than "
                                f"{MAX_INCLUDED_BYTES} bytes", line, text, path)
                body = resolved.read_bytes().decode("utf-8", "replace")
            except OSError as exc:
                self.refuse(construct, f"included file {c} cannot be read: {exc.strerror}",
                            line, text, path)
            body = check_line_breaks(body, path=str(resolved))
            bases = [resolved.parent, *self.bases]
            if dialect == "vacask":
                self.vacask(body, str(resolved), bases, depth + 1)
                if resolved.suffix.lower() in (".sp", ".cir", ".spice", ".ckt", ".net"):
                    self.spice(body, str(resolved), bases, depth + 1)
            else:
                self.spice(body, str(resolved), bases, depth + 1)

    # ---- SPICE (ngspice, Xyce) ------------------------------------------------------------
    _WRITER_CONTROL = re.compile(r"^(set\s+num_threads\s*=\s*\d+|pre_osdi\s+\S.*\.osdi)$",
                                 re.IGNORECASE)
    _FILE_PARAM = re.compile(r"\b(\w*file)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s)]+)",
                             re.IGNORECASE)
    _QUOTED = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|\S+)")

    def spice(self, text: str, path: str | None, bases: list[Path], depth: int) -> None:
        lines = text.split("\n")
        control_start = None
        # a deck's first line is its title (inert_title keeps it one); an included file has none
        for no, line in enumerate(lines, start=1):
            if no == 1 and depth == 0:
                continue
            if self.circuit and control_start is None and line[:1].isalpha():
                continue            # a rendered element card: nothing below refuses one
            stripped = line.strip()
            low = stripped.lower()
            if low.startswith("*"):
                if low.startswith("*#"):
                    self.refuse("*#", "ngspice runs a '*#' comment line as a command", no,
                                line, path)
                if low.startswith("*ng_script"):
                    self.refuse("*ng_script", "turns the file into an ngspice script", no,
                                line, path)
                continue
            word = low.split(None, 1)[0] if low else ""
            if control_start is not None:
                if word.startswith(".endc"):
                    control_start = None
                    continue
                if self.circuit and self._WRITER_CONTROL.match(stripped):
                    continue
                if not stripped:
                    continue
                command = re.match(r"[!]|[a-z_]+", word)
                name = command.group() if command else word
                if name in NGSPICE_COMMANDS:
                    self.refuse(name, f"ngspice command in a .control block: "
                                f"{NGSPICE_COMMANDS[name]}", no, line, path)
                if ">" in stripped or "`" in stripped:
                    self.refuse(".control", "output redirection or command substitution in "
                                "a .control block", no, line, path)
                self.refuse(".control", f"block opened at line {control_start}: ngspice "
                            "runs its commands, which can run programs and write files", no,
                            line, path)
                continue
            if word.startswith(".control"):
                control_start = no
                continue
            if word.startswith(".exec"):
                self.refuse(".exec", "a block of commands to run", no, line, path)
            if self.circuit:        # a Circuit's paths are not checked (see check_path)
                continue
            logical = self._logical(lines, no - 1)
            directive = re.match(r"\.(?:inc|lib)[a-z]*", low)
            if directive:
                m = self._QUOTED.match(logical[directive.end():])
                if m:
                    self.spice_path(m.group(1), directive.group(), no, line, path, bases,
                                    depth)
            for m in self._FILE_PARAM.finditer(logical):
                self.spice_path(m.group(2), f"{m.group(1)}=", no, line, path, bases, None)

    def spice_path(self, token: str, construct: str, no: int, line: str, path: str | None,
                   bases: list[Path], depth: int | None) -> None:
        raw = token.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        variants = {raw, re.split(r"[;$]", raw, 1)[0]}
        for v in variants:
            found = self.check_path(v, construct, no, line, path, bases)
            if depth is not None:
                self.include(found, depth, "spice", construct, no, line, path)

    @staticmethod
    def _logical(lines: list[str], i: int) -> str:
        """Line ``i`` with its '+' continuation lines joined (comment lines skipped)."""
        parts = [lines[i].strip()]
        for j in range(i + 1, len(lines)):      # by index: a slice would copy the rest
            s = lines[j].strip()
            if s.startswith("+"):
                parts.append(s[1:])
            elif s.startswith("*") or not s:
                continue
            else:
                break
        return " ".join(parts)

    # ---- VACASK ---------------------------------------------------------------------------
    def vacask(self, text: str, path: str | None, bases: list[Path], depth: int) -> None:
        if self.circuit:
            folded = text.casefold()
            if not any(word in folded for word in _VACASK_CIRCUIT_WORDS):
                return  # a Circuit's deck is refused only for these identifiers: none, no lexing
        for no, statement, first in _vacask_statements(text):
            words = [(kind, value) for kind, value in statement]
            idents = [v.lower() for k, v in words if k == "id"]
            if "postprocess" in idents:
                self.refuse("postprocess", "VACASK runs a program after the analyses", no,
                            first, path)
            if "embed" in idents:
                self.refuse("embed", "VACASK writes the embedded text to a file, also to "
                            "absolute and '../' paths", no, first, path)
            if not words or words[0][0] != "id":
                continue
            keyword = words[0][1].lower()
            if keyword in ("include", "load"):
                strings = [v for k, v in words[1:] if k == "str"]
                for s in strings[:1]:
                    found = self.check_path(s, keyword, no, first, path, bases)
                    if keyword == "include":
                        self.include(found, depth, "vacask", keyword, no, first, path)
                    elif not self.circuit and not s.lower().endswith((".osdi", ".va")):
                        self.refuse("load", f"{s!r} is not a .osdi or .va model file", no,
                                    first, path)


# (tested as substrings of the case-folded text: an IGNORECASE alternation tried at every
# character cost 0.04 ms of a 1.5 kB deck)
_VACASK_CIRCUIT_WORDS = ("postprocess", "embed")
_OCTAL = re.compile(r"[0-7]{1,3}")
_LONG_STRING = re.compile(r"<<<([A-Za-z0-9_]+)[\r\t ]*\n")
_IDENTIFIER = re.compile(r"[A-Za-z_$][0-9A-Za-z_$]*")
_BLANKS = re.compile(r"[ \t\r]+")
_OTHERS = re.compile(r"[^\s\"/\\<A-Za-z_$()\[\]]+")


def _vacask_statements(text: str):
    """VACASK's statements: (first line number, [(kind, value)...], first line's text), kind
    "id" (an identifier), "str" (a string literal, escapes decoded) or "op". Follows VACASK's
    lexer: the first line is the title; ``//`` and ``/* */`` comments; ``"..."`` strings
    with backslash escapes; ``<<<TAG`` ... ``>>>TAG`` long strings; a newline inside
    parentheses or brackets or after a backslash does not end a statement."""
    lines = text.split("\n")
    i = text.find("\n")
    if i < 0:
        return
    n = len(text)
    line = 2
    tokens: list[tuple[str, str]] = []
    start_line = None
    depth = 0

    def flush():
        nonlocal tokens, start_line
        if tokens:
            yield start_line, tokens, lines[start_line - 1] if start_line <= len(lines) else ""
        tokens, start_line = [], None

    i += 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            if depth <= 0:
                depth = 0
                yield from flush()
            continue
        if c in " \t\r":
            i = _BLANKS.match(text, i).end()
            continue
        if start_line is None:
            start_line = line
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            end = n if j < 0 else j + 2
            line += text.count("\n", i, end)
            i = end
            continue
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            line += 1
            i += 2
            continue
        if c == '"':
            buf, i = [], i + 1
            while i < n and text[i] != '"':
                ch = text[i]
                if ch == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    octal = _OCTAL.match(text, i + 1, i + 4)
                    if octal:
                        buf.append(chr(int(octal.group(), 8) & 0xFF))
                        i += 1 + len(octal.group())
                        continue
                    if nxt == "\n":
                        line += 1
                    else:
                        buf.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b",
                                    "f": "\f"}.get(nxt, nxt))
                    i += 2
                    continue
                if ch == "\n":      # VACASK refuses it; end the string here
                    break
                buf.append(ch)
                i += 1
            tokens.append(("str", "".join(buf)))
            i += 1 if i < n and text[i] == '"' else 0
            continue
        m = _LONG_STRING.match(text, i) if c == "<" else None
        if m:
            marker = ">>>" + m.group(1)
            j = text.find(marker, m.end())
            end = n if j < 0 else j + len(marker)
            tokens.append(("str", text[m.end():j if j >= 0 else n]))
            line += text.count("\n", i, end)
            i = end
            continue
        m = _IDENTIFIER.match(text, i)
        if m:
            tokens.append(("id", m.group()))
            i = m.end()
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        else:
            m = _OTHERS.match(text, i)
            if m:               # a run of digits and operators: one token, as the lexer's
                tokens.append(("op", m.group()))
                i = m.end()
                continue
        tokens.append(("op", c))
        i += 1
    yield from flush()
