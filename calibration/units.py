"""Units written in measured-data headers, and their conversion to SI.

A header cell carries its unit in one of four forms, tried in this order:

* ``Voltage (mV)`` or ``current [uA]`` — a unit in brackets (``v(out)``, ``i(v1)``, lower
  case, no blank, no known unit inside: a simulator's vector as ``neurospice sim`` writes
  it, no unit, SI);
* ``I/mA`` — a unit after a slash;
* ``f_GHz`` — a unit after the last underscore (a one-letter unit after a one-letter name
  only when the letter is the unit's quantity: ``time_s`` and ``I_A`` have a unit, ``I_C``
  does not);
* a unit word alone (``second``, ``Volt``, :data:`UNIT_WORDS`) — that unit, the column being
  its quantity (``time``, ``voltage``);
* none of these — no unit (the caller decides what that means).

A bracketed unit must be known; the slash and underscore forms count as a unit only when the
text after the separator is a known unit (``device_id`` stays a name).

Every unit has a *dimension* (``voltage``, ``current``, ``time``, ``frequency``, ``power``,
``temperature``, ``resistance``, ``conductance``, ``field``, ``dimensionless``) and converts to
the SI unit of that dimension: V, A, s, Hz, W, K, Ohm, S, and tesla for magnetic fields (the
field is stored as mu0*H, so 1 Oe -> 1e-4 T and 1 A/m -> mu0 T). dBm converts to W; degrees
Celsius convert to K. ``u``, ``µ`` (micro sign) and ``μ`` (Greek mu) all mean micro; ``Ω`` and
``Ohm`` both mean ohm. A unit that is not found as written is looked up case-insensitively when
that is unambiguous (``GHZ`` -> GHz, but ``MS`` could be ms or mS and is refused).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

MU0 = 4e-7 * math.pi  # vacuum permeability (T m / A), CODATA value to 1e-10 relative

SI_UNIT = {
    "voltage": "V", "current": "A", "time": "s", "frequency": "Hz", "power": "W",
    "temperature": "K", "resistance": "Ohm", "conductance": "S", "field": "T",
    "dimensionless": "",
}


@dataclass(frozen=True)
class Unit:
    """A unit as written in a header and how to convert its values to SI."""

    symbol: str
    dimension: str
    scale: float = 1.0
    offset: float = 0.0   # added after scaling (degC -> K)
    dbm: bool = False     # logarithmic power: P[W] = 1 mW * 10**(x/10)

    def to_si(self, values):
        values = np.asarray(values, dtype=float)
        if self.dbm:
            return 1e-3 * 10.0 ** (values / 10.0)
        return values * self.scale + self.offset


_PREFIX = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3, "u": 1e-6, "n": 1e-9,
           "p": 1e-12, "f": 1e-15}


def _table() -> dict[str, Unit]:
    units: dict[str, Unit] = {}

    def add(base: str, dimension: str, prefixes: str, factor: float = 1.0):
        for p in ["", *prefixes]:
            symbol = p + base
            units[symbol] = Unit(symbol, dimension, _PREFIX[p] * factor)

    add("V", "voltage", "kmun")
    add("A", "current", "munpf")
    add("s", "time", "munp")
    add("Hz", "frequency", "mkMG")
    add("W", "power", "mun")
    add("Ohm", "resistance", "mkMG")
    add("S", "conductance", "mun")
    add("T", "field", "m")
    add("Oe", "field", "k", 1e-4)
    add("K", "temperature", "")
    units["dBm"] = Unit("dBm", "power", dbm=True)
    units["C"] = Unit("C", "temperature", 1.0, 273.15)
    units["A/m"] = Unit("A/m", "field", MU0)
    for symbol in ("", "1", "-", "a.u.", "arb. units"):
        units[symbol] = Unit(symbol, "dimensionless")
    return units


UNITS = _table()
_LOWER: dict[str, list[Unit]] = {}
for _u in UNITS.values():
    _LOWER.setdefault(_u.symbol.lower(), []).append(_u)

_SPELLINGS = [("µ", "u"), ("μ", "u"), ("Ω", "Ohm"), ("Ω", "Ohm"), ("ohms", "Ohm"),
              ("ohm", "Ohm"), ("°C", "C"), ("ºC", "C"), ("degC", "C"), ("deg C", "C")]


def _canonical_spelling(text: str) -> str:
    symbol = text.strip()
    for variant, canonical in _SPELLINGS:
        symbol = symbol.replace(variant, canonical)
    return symbol


# units written out as words (oscilloscopes: ``second,Volt`` under the names), without prefixes
# (``mVolt`` stays unknown: milli or mega?)
UNIT_WORDS = {"second": "s", "seconds": "s", "sec": "s", "volt": "V", "volts": "V",
              "ampere": "A", "amperes": "A", "amp": "A", "amps": "A", "hertz": "Hz",
              "watt": "W", "watts": "W", "kelvin": "K", "tesla": "T"}
# the quantity a column named by its unit alone holds (``Volt``: a voltage)
_DIMENSION_LABEL = {"time": "time", "voltage": "voltage", "current": "current",
                    "frequency": "frequency", "power": "power", "temperature": "temperature",
                    "field": "field"}


def unit_word(text: str) -> Unit | None:
    """The unit a word of :data:`UNIT_WORDS` names (any case), else None. Only a whole
    name or a bracketed unit is read as a word: after ``_`` a word is more often part of
    the name (``V_amp``: an amplitude, not amperes)."""
    symbol = UNIT_WORDS.get(text.strip().lower())
    return UNITS[symbol] if symbol else None


def lookup_unit(text: str) -> Unit | None:
    """The unit written as ``text`` (spelling variants allowed), or None when unknown."""
    symbol = _canonical_spelling(text)
    if symbol in UNITS:
        return UNITS[symbol]
    matches = _LOWER.get(symbol.lower(), [])
    if len({(u.dimension, u.scale, u.offset, u.dbm) for u in matches}) == 1:
        u = matches[0]
        # case does not matter, except where it is the prefix: "mHz" is not "MHz"
        if len(u.symbol) > 1 and symbol[0] != u.symbol[0] and symbol[0] in "mMpP":
            return None
        return u
    return None


@dataclass(frozen=True)
class Header:
    """One header cell split into its name and unit.

    ``unit`` is None when the cell names no unit; ``unit_text`` holds a bracketed unit that
    is not known (the column raises a DataError when it is used).
    """

    name: str
    label: str
    unit: Unit | None
    unit_text: str

    @property
    def known(self) -> bool:
        return self.unit is not None or not self.unit_text


_BRACKET = re.compile(r"^(.*?)\s*[(\[]\s*([^()\[\]]*?)\s*[)\]]\s*$")
_NOT_SUFFIX_UNITS = {"", "1", "-", "a.u.", "arb. units"}
# the quantity a one-letter column name stands for (``I_A``: a current in A)
_LETTER_DIMENSIONS = {"i": ("current",), "v": ("voltage",), "f": ("frequency",),
                      "p": ("power",), "t": ("time", "temperature"), "h": ("field",),
                      "b": ("field",), "r": ("resistance",), "g": ("conductance",)}


def parse_header(name: str) -> Header:
    """Split a header cell such as ``SMU-1 Voltage (V)`` into label and unit; a cell that is
    a unit word alone (``second``, ``Volt``: an oscilloscope's names) is that unit's
    quantity (``time``, ``voltage``) in it."""
    name = name.strip()
    unit = unit_word(name)
    if unit is not None:
        return Header(name, _DIMENSION_LABEL[unit.dimension], unit, name)
    m = _BRACKET.match(name)
    if m and m.group(1):
        unit = lookup_unit(m.group(2)) or unit_word(m.group(2))
        if unit is None and re.fullmatch(r"[vi]\([^()\s]+\)", name):
            return Header(name, name, None, "")    # a simulator's vector: v(out), i(v1)
        return Header(name, m.group(1), unit, m.group(2))
    for sep in ("/", "_"):
        label, found, tail = name.rpartition(sep)
        # one-letter units after "_" on a one-letter name only where the letter is that
        # unit's quantity: I_A and V_V have units, I_C (C: a temperature) is a name
        short = sep == "_" and len(tail) == 1 and len(label.strip()) < 2
        if found and label and tail not in _NOT_SUFFIX_UNITS:
            unit = lookup_unit(tail)
            if unit is not None and (not short or unit.dimension in
                                     _LETTER_DIMENSIONS.get(label.strip().lower(), ())):
                return Header(name, label.strip(), unit, tail)
    return Header(name, name, None, "")


def is_unit_symbol(text: str) -> bool:
    """Whether ``text`` is a unit written exactly as its symbol (spelling variants such as
    ``µ`` for ``u`` allowed, case not folded): ``GHz``, ``mV``, ``dBm``, ``Oe``; not ``t``,
    ``ghz`` or an empty cell. For telling a row of units under the column names from names."""
    symbol = _canonical_spelling(text)
    return bool(symbol) and symbol in UNITS and UNITS[symbol].dimension != "dimensionless"
