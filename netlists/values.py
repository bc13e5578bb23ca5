"""Validation and formatting of the names and values that go into a netlist.

Values are written as full-precision SI floats (``repr`` of a Python float round-trips
exactly), never with unit letters: SPICE reads ``2A`` as two attoamps and ``1M`` as one
milli.

**The text gate.** Every string that becomes netlist text (a title, an element, node, model,
subcircuit, module or parameter name, a parameter key, an expression, a path, an option value)
passes :func:`check_text`, directly or through :func:`check_name`, :func:`check_node` or
:func:`check_path_string`. It refuses every character that is not printable
(``str.isprintable``: Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp and every space but
U+0020), which covers every character a supported simulator, or Python's
``str.splitlines``, treats as a line or field break: ``\\n \\r \\x00 \\t \\x0b \\x0c
\\x1c \\x1d \\x1e \\x85 \\u2028 \\u2029`` and the other C0/C1 controls. Names and nodes are
further held to an ASCII identifier grammar, matched in full (``re.fullmatch``): a trailing
newline never slips through. The writers assemble lines from checked pieces and never split
user text, and the rendered netlist is checked line by line once more (:func:`check_line`).
"""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path

from neurospice.errors import NetlistError

# the characters a supported simulator or str.splitlines() breaks a line or field at (all of
# them are refused by the gate, with every other non-printable character)
LINE_BREAKS = "\n\r\x00\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
MAX_NAME_LENGTH = 1024       # characters of a name or node
MAX_TEXT_LENGTH = 100_000    # characters of a title, path or other string written as text

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a node is an identifier or a plain number (VACASK reads "2a" as a malformed number)
_NODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")

# Words that open or close a block or a control section in one of the dialects: a name equal
# to one of these could be read as a card by a simulator.
RESERVED = frozenset({
    "end", "ends", "endc", "endl", "control", "subckt", "model", "include", "lib", "param",
    "parameters", "options", "option", "analysis", "save", "load", "global", "ground",
    "sweep", "embed", "postprocess", "print", "alter", "func", "ic", "nodeset", "temp",
})
# Node names that would collide with a result's axis or noise vectors
RESERVED_NODES = frozenset({"time", "frequency", "gain", "onoise", "inoise", "onoise_spectrum",
                            "inoise_spectrum", "onoise_total", "inoise_total"})
# Node names a simulator reads as something else and fails on, with what happens
SIMULATOR_WORDS = {"temper": "ngspice 46 reads it as the circuit temperature and crashes "
                             "(segmentation fault) on a deck where an element meets it"}


def _describe(c: str) -> str:
    return f"{c!r} (U+{ord(c):04X})"


def check_text(text: object, *, what: str = "text", element: str | None = None,
               empty: bool = True, max_length: int = MAX_TEXT_LENGTH) -> str:
    """The one text gate: return ``text`` if it is a string of printable characters (see the
    module's docstring), at most ``max_length`` long (and not empty unless ``empty``), else
    raise NetlistError naming ``what`` and ``element`` and the first offending character."""
    if not isinstance(text, str):
        raise NetlistError(f"{what} must be a string, got {type(text).__name__}",
                           element=element)
    if not text and not empty:
        raise NetlistError(f"{what} is empty", element=element)
    if len(text) > max_length:
        raise NetlistError(f"{what} is {len(text)} characters long (at most {max_length})",
                           element=element)
    if not text.isprintable():
        k, c = next((k, c) for k, c in enumerate(text) if not c.isprintable())
        kind = "a line or field break" if c in LINE_BREAKS else "a non-printable character"
        raise NetlistError(f"{what} {text[:80]!r} holds {kind} {_describe(c)} at position {k}",
                           element=element)
    return text


def check_line(line: str, number: int) -> str:
    """The last check on a rendered netlist line (``number``, 1-based): printable text only,
    so that the line structure the writer built is the one every simulator reads."""
    if not line.isprintable():
        c = next(c for c in line if not c.isprintable())
        raise NetlistError(f"rendered line {line[:80]!r} holds {_describe(c)}: a value "
                           "bypassed the checks", line=number)
    return line


def check_name(name: object, *, what: str = "name", element: str | None = None) -> str:
    """Return ``name`` if it is a safe identifier (ASCII letters, digits and ``_``, not
    starting with a digit, not a netlist keyword), else raise NetlistError naming it."""
    check_text(name, what=what, element=element, empty=False, max_length=MAX_NAME_LENGTH)
    if not _NAME.fullmatch(name):
        raise NetlistError(
            f"invalid {what} {name!r}: use letters, digits and '_' only, starting with a letter "
            "or '_' (no whitespace, dots, quotes, braces or newlines)", element=element)
    if name.lower() in RESERVED:
        raise NetlistError(f"{what} {name!r} is a netlist keyword", element=element)
    return name


def check_node(node: object, *, element: str | None = None) -> str:
    """Return the node name, lower-cased, if it is safe (an identifier as for
    :func:`check_name`, or a plain number); ``0`` (or gnd) is ground."""
    if isinstance(node, Integral) and not isinstance(node, bool):
        if not 0 <= node < 10 ** 12:
            raise NetlistError("a numeric node must be in 0 .. 10**12 - 1",
                               element=element)
        node = str(int(node))
    check_text(node, what="node name", element=element, empty=False,
               max_length=MAX_NAME_LENGTH)
    if not _NODE.fullmatch(node):  # before lower(): 'K' (Kelvin sign) lowers to ASCII 'k'
        raise NetlistError(
            f"invalid node name {node!r}: letters, digits and '_', starting with a letter or "
            "'_', or a plain number", element=element)
    node = node.lower()  # SPICE is case-insensitive, VACASK is not: one spelling for both
    if node in ("gnd", "ground"):
        return "0"
    if node in RESERVED:
        raise NetlistError(f"node name {node!r} is a netlist keyword", element=element)
    if node in RESERVED_NODES:
        raise NetlistError(f"node name {node!r} is the name of a result vector (axis or "
                           "noise); choose another", element=element)
    if node in SIMULATOR_WORDS:
        raise NetlistError(f"node name {node!r}: {SIMULATOR_WORDS[node]}; choose another",
                           element=element)
    return node


def check_value(value: object, *, what: str = "value", element: str | None = None,
                positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite float, else raise NetlistError naming the element (a
    number too large for a float is refused, never an OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise NetlistError(
            f"{what} must be a number in SI units (e.g. 1e-6, not '1u'), got {value!r:.80}",
            element=element)
    try:
        value = float(value)
    except (OverflowError, ValueError, TypeError):
        raise NetlistError(f"{what} is out of the range of a float", element=element) from None
    if not math.isfinite(value):
        raise NetlistError(f"{what} must be finite, got {value!r}", element=element)
    if positive and value <= 0:
        raise NetlistError(f"{what} must be > 0, got {value!r}", element=element)
    if nonnegative and value < 0:
        raise NetlistError(f"{what} must be >= 0, got {value!r}", element=element)
    return value


def check_count(value: object, *, what: str, element: str | None = None, minimum: int = 1,
                maximum: int) -> int:
    """Return ``value`` as an int in ``minimum .. maximum`` if it is an integer (an int or
    numpy integer: no bool, no float), else raise NetlistError naming it."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise NetlistError(f"{what} must be an integer, got {value!r:.80}", element=element)
    if not minimum <= value <= maximum:
        shown = value if -10 ** 30 < value < 10 ** 30 else "a huge number"
        raise NetlistError(f"{what} must be in {minimum} .. {maximum}, got {shown}",
                           element=element)
    return int(value)


def fmt(value: float) -> str:
    """Format a float at full precision with no unit letters (``1e-06``, ``1000.0``)."""
    value = float(value)
    return "0.0" if value == 0 else repr(value)


def check_path_string(text: object, *, what: str = "path", element: str | None = None) -> str:
    """A path written between double quotes (or as one word): text that passes
    :func:`check_text`, not empty, with no quote or backslash (VACASK reads a backslash
    in a string as an escape)."""
    if not isinstance(text, str):
        try:
            text = os.fspath(text)  # a pathlib.Path
        except TypeError:
            raise NetlistError(f"{what} must be a path or a string, got "
                               f"{type(text).__name__}", element=element) from None
    check_text(text, what=what, element=element, empty=False)
    bad = [c for c in text if c in '"\\']
    if bad:
        raise NetlistError(f"{what} {text[:80]!r} holds {_describe(bad[0])}", element=element)
    return text


def check_path(path: object, *, what: str = "path", element: str | None = None):
    """The absolute ``pathlib.Path`` of ``path``, gated as text before and after it is
    resolved (a relative path takes the working folder's name, which must pass too)."""
    check_path_string(path, what=what, element=element)
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise NetlistError(f"{what} {str(path)[:80]!r} cannot be resolved: {exc}",
                           element=element) from None
    check_path_string(str(resolved), what=f"{what} (resolved)", element=element)
    return resolved


# ---- ngspice's spellings of a vector, as the common name (``v(node)``, ``i(element)``) ------
# Here, not in neurospice.simulators, because a deck's .save speaks them too: the reader and
# the ngspice result readers share this one map.

_NG_ELEMENT_IN_SUBCKT = re.compile(r"^([a-z])\.(.+)$")
_NG_NOISE = frozenset({"onoise_spectrum", "inoise_spectrum", "onoise_total", "inoise_total"})
_NG_DEVICE_QUANTITY = re.compile(r"(?:i\()?@([^\[\]()]+)\[([^\[\]()]+)\]\)?")


def _ngspice_element(name: str) -> str:
    # ngspice names an element inside subcircuits "<letter>.<path>.<rest>", e.g. v.x1.v2
    m = _NG_ELEMENT_IN_SUBCKT.match(name)
    if m and "." in m.group(2):
        path, _, leaf = m.group(2).rpartition(".")
        if leaf.startswith(m.group(1)):
            return f"{path}.{leaf}"
    return name


@lru_cache(maxsize=1 << 16)
def ngspice_name(raw: str, vtype: str = "") -> str:
    """ngspice vector name (raw-file or in-memory) -> common name."""
    n = raw.strip().lower()
    if n.endswith("#branch"):
        return f"i({_ngspice_element(n[:-7])})"
    m = _NG_DEVICE_QUANTITY.fullmatch(n)
    if m:       # a resistor's current saved as @r1[i] (@r.x1.r1[i] inside an instance),
        # another device quantity (.options savecurrents: i(@d1[id]), i(@m.x1.m2[ig])) as
        # ngspice's own spelling of it, the element named as in i(): @d1[id], @x1.m2[ig]
        element = _ngspice_element(m.group(1))
        return f"i({element})" if m.group(2) == "i" else f"@{element}[{m.group(2)}]"
    if n.startswith("i(") and n.endswith(")"):
        return f"i({_ngspice_element(n[2:-1])})"
    if n.startswith("v(") and n.endswith(")"):
        # ngspice's raw file calls the integrated noise "v(onoise_total)"
        if n[2:-1] in _NG_NOISE:
            return n[2:-1]
        return f"v({_ngspice_node(n[2:-1])})"
    if n in ("time", "frequency") or n in _NG_NOISE or n.endswith("-sweep") or \
            n.startswith("@"):
        return n
    if vtype == "voltage" or (vtype in ("", "notype") and re.fullmatch(r"[\w.#\-+]+", n)):
        return f"v({_ngspice_node(n)})"
    return n


def _ngspice_node(name: str) -> str:
    # an OSDI instance's internal node is "<instance>#<node>", the instance named as an
    # element (n.x1.n1#mid inside subcircuit x1)
    inst, hash_, node = name.partition("#")
    return f"{_ngspice_element(inst)}.{node}" if hash_ else name
