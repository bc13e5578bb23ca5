"""Validation and formatting of the names and values that go into a netlist.

Values are written as full-precision SI floats (``repr`` of a Python float round-trips
exactly), never with unit letters: SPICE reads ``2A`` as two attoamps and ``1M`` as one
milli. Names are checked against a strict pattern so that no string can break a line or
inject a card.
"""

from __future__ import annotations

import math
import re
from numbers import Real

from neurospice.errors import NetlistError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# a node is an identifier or a plain number (VACASK reads "2a" as a malformed number)
_NODE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)$")

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


def check_name(name: object, *, what: str = "name", element: str | None = None) -> str:
    """Return ``name`` if it is a safe identifier, else raise NetlistError naming it."""
    if not isinstance(name, str):
        raise NetlistError(f"{what} must be a string, got {type(name).__name__}", element=element)
    if not _NAME.match(name):
        raise NetlistError(
            f"invalid {what} {name!r}: use letters, digits and '_' only, starting with a letter "
            "or '_' (no whitespace, dots, quotes, braces or newlines)", element=element)
    if name.lower() in RESERVED:
        raise NetlistError(f"{what} {name!r} is a netlist keyword", element=element)
    return name


def check_node(node: object, *, element: str | None = None) -> str:
    """Return the node name, lower-cased, if it is safe; ``0`` (or gnd) is ground."""
    if isinstance(node, int) and not isinstance(node, bool) and node >= 0:
        node = str(node)
    if not isinstance(node, str):
        raise NetlistError(f"node must be a string, got {type(node).__name__}", element=element)
    node = node.lower()  # SPICE is case-insensitive, VACASK is not: one spelling for both
    if node in ("gnd", "ground"):
        return "0"
    if not _NODE.match(node):
        raise NetlistError(
            f"invalid node name {node!r}: letters, digits and '_', starting with a letter or "
            "'_', or a plain number", element=element)
    if node in RESERVED:
        raise NetlistError(f"node name {node!r} is a netlist keyword", element=element)
    if node in RESERVED_NODES:
        raise NetlistError(f"node name {node!r} is the name of a result vector (axis or "
                           "noise); choose another", element=element)
    return node


def check_value(value: object, *, what: str = "value", element: str | None = None,
                positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite float, else raise NetlistError naming the element."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise NetlistError(
            f"{what} must be a number in SI units (e.g. 1e-6, not '1u'), got {value!r}",
            element=element)
    value = float(value)
    if not math.isfinite(value):
        raise NetlistError(f"{what} must be finite, got {value!r}", element=element)
    if positive and value <= 0:
        raise NetlistError(f"{what} must be > 0, got {value!r}", element=element)
    if nonnegative and value < 0:
        raise NetlistError(f"{what} must be >= 0, got {value!r}", element=element)
    return value


def fmt(value: float) -> str:
    """Format a float at full precision with no unit letters (``1e-06``, ``1000.0``)."""
    value = float(value)
    return "0.0" if value == 0 else repr(value)


def check_path_string(text: object, *, what: str = "path", element: str | None = None) -> str:
    """A string value written between double quotes: no quotes, newlines or control chars."""
    text = str(text) if not isinstance(text, str) else text
    if not text:
        raise NetlistError(f"{what} is empty", element=element)
    bad = [c for c in text if c in '"\n\r\0' or ord(c) < 32]
    if bad:
        raise NetlistError(f"{what} {text!r} holds a quote, newline or control character",
                           element=element)
    return text
