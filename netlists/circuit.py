"""A declarative circuit: elements, subcircuits, models, parameters and analyses.

Build a :class:`Circuit` in Python, then render it for a simulator with
``circuit.to_netlist("ngspice" | "xyce" | "vacask")`` (the dialects of
:mod:`neurospice.netlists.dialects`). Everything is validated when it is
added, so a bad name or value fails where it was written, naming the element.

All values are SI floats (ohm, farad, henry, volt, ampere, second, hertz) or expressions of
circuit parameters (``"2*rload"``); they are written at full precision, never with unit letters.
Every string passes the text gate of :mod:`neurospice.netlists.values` (``check_text``) when
it is added; a non-finite or out-of-range number, a non-integer count or an analysis of more
points than :data:`MAX_SWEEP_POINTS` / :data:`MAX_TRAN_POINTS` is a NetlistError.

The whole-circuit check of references (:meth:`Circuit.validate`, before each rendering) is
made again only after a change: the netlist objects count their changes in one epoch (an
attribute set on a circuit or subcircuit definition; an entry added, replaced or removed in
their dicts and lists and in the parameter dicts of elements and models, which are
:class:`TrackedDict` and :class:`TrackedList`), and a circuit remembers the epoch it last
passed at. An attribute set by hand on an element or model already added counts as well
(:class:`_Counted`); what bypasses the attributes (an element's ``__dict__`` written
directly) does not, and the rendered lines themselves are checked every time, so such a
change still cannot add a line.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists.expr import Expression
from neurospice.netlists.values import (
    MAX_NAME_LENGTH, RESERVED, check_count, check_name, check_node, check_path, check_text,
    check_value)

Value = Union[float, Expression]

MAX_SWEEP_POINTS = 10 ** 6   # points of a dc, ac or noise analysis
MAX_TRAN_POINTS = 10 ** 7    # (stop - start) / step of a transient
MAX_PWL_POINTS = 10 ** 6     # points of one PWL waveform
MAX_VERILOG_A_BYTES = 10 ** 7  # size of a Verilog-A file read to find its module name


# --------------------------------------------------------------------------- changes

_epoch = [0]
_draw = itertools.count(1).__next__


def netlist_epoch() -> int:
    """The count of changes made so far to netlist objects in this process (any circuit,
    subcircuit, element or model): the same before and after a stretch in which none
    changed."""
    return _epoch[0]


def _changed() -> None:
    # lock-free: each change stores a number never drawn before, after its mutation, so a
    # check that read the epoch before a change never finds it equal again (a late store of
    # an older number only makes a check run once more)
    _epoch[0] = _draw()


def _counting(base: type, name: str):
    """``base.name`` that counts a change in the netlist epoch once it has run (after the
    mutation: a check that read the epoch before it sees the count move)."""
    method = getattr(base, name)

    def changes(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            _changed()
    changes.__name__ = name
    changes.__doc__ = method.__doc__
    return changes


class TrackedDict(dict):
    """A dict that counts its changes in the netlist epoch (:func:`netlist_epoch`): the
    elements, parameters, models... of a circuit and the parameters of its elements."""

    __slots__ = ()

    def __reduce__(self):
        return (type(self), (dict(self),))


class TrackedList(list):
    """A list that counts its changes in the netlist epoch (:func:`netlist_epoch`): a
    circuit's analyses, measures, saved vectors and includes."""

    __slots__ = ()

    def __reduce__(self):
        return (type(self), (list(self),))


for _name in ("__setitem__", "__delitem__", "__ior__", "clear", "pop", "popitem",
              "setdefault", "update"):
    setattr(TrackedDict, _name, _counting(dict, _name))
for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
              "insert", "remove", "pop", "clear", "sort", "reverse"):
    setattr(TrackedList, _name, _counting(list, _name))
del _name


class _Counted:
    """An element or a model card: its attribute sets count in the netlist epoch, so that a
    hand edit after it was added (``circuit["R1"].value = ...``) checks the circuit again.
    As lean as a Python ``__setattr__`` goes: an element made one by one sets its attributes
    about six times (building 40 000 resistors and capacitors one by one: +9 to +18 % of
    the time measured, the check they spare on a cached rendering 0.2 s); the batches of
    :meth:`_Container.va_instances` fill their elements' ``__dict__`` directly."""

    __slots__ = ()

    def __setattr__(self, name, value, _set=object.__setattr__):
        _set(self, name, value)
        _epoch[0] = _draw()

    def __delattr__(self, name):
        object.__delattr__(self, name)
        _epoch[0] = _draw()


class _Tracked(_Counted):
    """A circuit or subcircuit definition: its attribute sets count in the netlist epoch,
    and a plain dict or list assigned to an attribute is kept as a :class:`TrackedDict` /
    :class:`TrackedList`."""

    __slots__ = ()

    def __setattr__(self, name, value):
        kind = type(value)
        if kind is dict:
            value = TrackedDict(value)
        elif kind is list:
            value = TrackedList(value)
        object.__setattr__(self, name, value)
        _epoch[0] = _draw()


def _value(value, *, what: str, element: str | None, positive=False, nonnegative=False) -> Value:
    """A number, or a string parsed as an expression of circuit parameters."""
    if isinstance(value, (str, Expression)):
        expr = value if isinstance(value, Expression) else _expr(value, element)
        if expr.nodes or expr.currents:
            raise NetlistError(f"{what} {expr.text!r} may use parameters only, not v() or i()",
                               element=element)
        return expr
    return check_value(value, what=what, element=element, positive=positive,
                       nonnegative=nonnegative)


def _expr(text, element):
    try:
        return Expression(text)
    except NetlistError as exc:
        raise NetlistError(str(exc), element=element) from None


def _params(params: dict, element: str | None) -> dict[str, Value]:
    if not isinstance(params, dict):
        raise NetlistError(f"parameters must be a dict, got {type(params).__name__}",
                           element=element)
    out = {}
    for key, val in params.items():
        if type(key) is not str or not _checked_key(key):
            check_name(key, what="parameter name", element=element)
        if type(val) is float and math.isfinite(val):   # what check_value would return
            out[key] = val
        else:
            out[key] = _value(val, what=f"parameter {key}", element=element)
    return TrackedDict(out)


# --------------------------------------------------------------------------- waveforms

@dataclass(frozen=True)
class Pulse:
    """Trapezoidal pulse train from ``v1`` to ``v2`` (SPICE PULSE). ``period=None``: one pulse."""

    v1: float
    v2: float
    delay: float = 0.0
    rise: float = 1e-9
    fall: float = 1e-9
    width: float = 1e-6
    period: float | None = None

    def validate(self, element):
        check_value(self.v1, what="pulse v1", element=element)
        check_value(self.v2, what="pulse v2", element=element)
        check_value(self.delay, what="pulse delay", element=element, nonnegative=True)
        for what in ("rise", "fall", "width"):
            check_value(getattr(self, what), what=f"pulse {what}", element=element, positive=True)
        if self.period is not None:
            check_value(self.period, what="pulse period", element=element, positive=True)
            if self.period < self.rise + self.width + self.fall:
                raise NetlistError("pulse period is shorter than rise + width + fall",
                                   element=element)

    def initial(self) -> float:
        return float(self.v1)


@dataclass(frozen=True)
class Sine:
    """``offset + amplitude*exp(-damping*(t-delay))*sin(2*pi*freq_hz*(t-delay) + phase)``."""

    offset: float
    amplitude: float
    freq_hz: float
    delay: float = 0.0
    damping: float = 0.0
    phase_deg: float = 0.0

    def validate(self, element):
        check_value(self.offset, what="sine offset", element=element)
        check_value(self.amplitude, what="sine amplitude", element=element)
        check_value(self.freq_hz, what="sine frequency", element=element, positive=True)
        check_value(self.delay, what="sine delay", element=element, nonnegative=True)
        check_value(self.damping, what="sine damping", element=element, nonnegative=True)
        check_value(self.phase_deg, what="sine phase", element=element)

    def initial(self) -> float:
        if self.delay > 0:
            return float(self.offset)
        return float(self.offset + self.amplitude * np.sin(np.deg2rad(self.phase_deg)))


@dataclass(frozen=True, eq=False)
class Pwl:
    """Piecewise-linear waveform through ``(times[k], values[k])``; times strictly increasing."""

    times: Sequence[float]
    values: Sequence[float]

    def validate(self, element):
        arrays = []
        for what in ("times", "values"):
            seq = getattr(self, what)
            if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
                raise NetlistError(f"PWL {what} must be a sequence of numbers", element=element)
            if len(seq) > MAX_PWL_POINTS:
                raise NetlistError(f"PWL has {len(seq)} points (at most {MAX_PWL_POINTS})",
                                   element=element)
            arr = np.asarray(seq, dtype=object)
            if arr.ndim != 1:
                raise NetlistError("PWL times and values must be 1-D", element=element)
            arrays.append(np.array([check_value(x, what=f"PWL {what}[{k}]", element=element)
                                    for k, x in enumerate(arr)], dtype=float))
        t, v = arrays
        if t.shape != v.shape or t.size < 2:
            raise NetlistError("PWL needs equal-length 1-D times and values, two points at "
                               "least (VACASK requires it; a constant is a DC source)",
                               element=element)
        # what is written is what was checked: plain floats
        object.__setattr__(self, "times", tuple(t.tolist()))
        object.__setattr__(self, "values", tuple(v.tolist()))
        if t[0] < 0 or np.any(np.diff(t) <= 0):
            bad = int(np.argmax(np.diff(t) <= 0)) + 1 if t.size > 1 and np.any(np.diff(t) <= 0) else 0
            raise NetlistError(f"PWL times must start at >= 0 and increase strictly (point {bad})",
                               element=element)

    def initial(self) -> float:
        return float(np.asarray(self.values, dtype=float)[0])


@dataclass(frozen=True)
class Exp:
    """SPICE EXP: ``v1`` until ``delay1``, then towards ``v2`` with time constant ``tau1``;
    from ``delay2`` (absolute time, after ``delay1``) back towards ``v1`` with ``tau2``."""

    v1: float
    v2: float
    delay1: float
    tau1: float
    delay2: float
    tau2: float

    def validate(self, element):
        check_value(self.v1, what="exp v1", element=element)
        check_value(self.v2, what="exp v2", element=element)
        check_value(self.delay1, what="exp delay1", element=element, nonnegative=True)
        check_value(self.delay2, what="exp delay2", element=element, nonnegative=True)
        for what in ("tau1", "tau2"):
            check_value(getattr(self, what), what=f"exp {what}", element=element, positive=True)
        if not self.delay2 > self.delay1:
            raise NetlistError("exp delay2 must come after delay1 (VACASK requires it)",
                               element=element)

    def initial(self) -> float:
        return float(self.v1)


Waveform = Union[Pulse, Sine, Pwl, Exp]


# --------------------------------------------------------------------------- elements

@dataclass
class Element(_Counted):
    """Base of all elements: ``name`` is the full SPICE name, starting with its prefix letter."""

    name: str
    nodes: tuple[str, ...]
    prefix = ""

    def _setup(self):
        name = self.name
        if isinstance(name, int) and not isinstance(name, bool) and 0 <= name < 10 ** 12:
            name = str(name)
        if isinstance(name, str) and name and not name.lower().startswith(self.prefix.lower()):
            name = self.prefix + name
        self.name = check_name(name, what="element name")
        if isinstance(self.nodes, (str, bytes)) or not hasattr(self.nodes, "__iter__"):
            raise NetlistError("nodes must be a sequence of node names", element=self.name)
        self.nodes = tuple(_node(n, self.name) for n in self.nodes)


# names joined by "\n", matched at once (:meth:`_Container.va_instances`)
_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\n[A-Za-z_][A-Za-z0-9_]*)*")


@lru_cache(maxsize=4096)
def _checked_key(key: str) -> bool:
    """Whether ``key`` is a valid parameter name (cached: every instance repeats them)."""
    try:
        check_name(key, what="parameter name")
    except NetlistError:
        return False
    return True


@lru_cache(maxsize=1 << 16)
def _checked_node(node: str) -> str:
    return check_node(node)


def _node(node, element: str) -> str:
    """:func:`check_node`, cached for strings (a generated netlist names each node many times);
    a refused node is checked again uncached, so that the error names ``element``."""
    if type(node) is str:
        try:
            return _checked_node(node)
        except NetlistError:
            pass
    return check_node(node, element=element)


@dataclass
class Resistor(Element):
    value: Value = 0.0
    prefix = "R"

    def __post_init__(self):
        self._setup()
        self.value = _value(self.value, what="resistance", element=self.name, positive=True)


@dataclass
class Capacitor(Element):
    value: Value = 0.0
    prefix = "C"

    def __post_init__(self):
        self._setup()
        self.value = _value(self.value, what="capacitance", element=self.name, positive=True)


@dataclass
class Inductor(Element):
    value: Value = 0.0
    prefix = "L"

    def __post_init__(self):
        self._setup()
        self.value = _value(self.value, what="inductance", element=self.name, positive=True)


@dataclass
class _Source(Element):
    dc: Value | None = None
    ac: float | None = None
    ac_phase_deg: float = 0.0
    waveform: Waveform | None = None

    def __post_init__(self):
        self._setup()
        if self.waveform is not None:
            if not isinstance(self.waveform, (Pulse, Sine, Pwl, Exp)):
                raise NetlistError("waveform must be Pulse, Sine, Pwl or Exp", element=self.name)
            self.waveform.validate(self.name)
        if self.dc is None:
            self.dc = self.waveform.initial() if self.waveform is not None else 0.0
        self.dc = _value(self.dc, what="dc value", element=self.name)
        if self.ac is not None:
            self.ac = check_value(self.ac, what="ac magnitude", element=self.name)
        self.ac_phase_deg = check_value(self.ac_phase_deg, what="ac phase", element=self.name)


@dataclass
class VoltageSource(_Source):
    prefix = "V"


@dataclass
class CurrentSource(_Source):
    """Current flows from the first node through the source into the second (SPICE)."""

    prefix = "I"


@dataclass
class VCVS(Element):
    """E: V(p, n) = gain * V(cp, cn); nodes are (p, n, cp, cn)."""

    gain: Value = 1.0
    prefix = "E"

    def __post_init__(self):
        self._setup()
        self.gain = _value(self.gain, what="gain", element=self.name)


@dataclass
class VCCS(VCVS):
    """G: current gain * V(cp, cn) flows from p through the element to n."""

    prefix = "G"


@dataclass
class MutualInductance(Element):
    """K: magnetic coupling ``k`` (0 < |k| <= 1) between the inductors ``l1`` and ``l2`` of
    the same (sub)circuit; no nodes of its own."""

    l1: str = ""
    l2: str = ""
    k: Value = 1.0
    prefix = "K"

    def __post_init__(self):
        self._setup()
        if self.nodes:
            raise NetlistError("a mutual inductance has no nodes", element=self.name)
        self.l1 = check_name(self.l1, what="coupled inductor", element=self.name)
        self.l2 = check_name(self.l2, what="coupled inductor", element=self.name)
        if self.l1.lower() == self.l2.lower():
            raise NetlistError("couples an inductor with itself", element=self.name)
        self.k = _value(self.k, what="coupling", element=self.name)
        if not isinstance(self.k, Expression) and not 0 < abs(self.k) <= 1:
            raise NetlistError(f"coupling {self.k} is outside 0 < |k| <= 1", element=self.name)


@dataclass
class CCCS(Element):
    """F: current gain * I(vsource) from p to n; ``vsource`` senses the controlling current."""

    vsource: str = ""
    gain: Value = 1.0
    prefix = "F"

    def __post_init__(self):
        self._setup()
        self.vsource = check_name(self.vsource, what="controlling source", element=self.name)
        self.gain = _value(self.gain, what="gain", element=self.name)


@dataclass
class CCVS(CCCS):
    """H: V(p, n) = gain * I(vsource) (transresistance in ohm)."""

    prefix = "H"


@dataclass
class BehavioralSource(Element):
    """B: a current (``kind='i'``) or voltage (``kind='v'``) given by an expression."""

    expression: Expression | str = "0"
    kind: str = "i"
    prefix = "B"

    def __post_init__(self):
        self._setup()
        if self.kind not in ("i", "v"):
            raise NetlistError("behavioral source kind must be 'i' or 'v'", element=self.name)
        if not isinstance(self.expression, Expression):
            self.expression = _expr(self.expression, self.name)


@dataclass
class Diode(Element):
    """D: a SPICE diode with a ``.model`` of type ``d``; nodes are (anode, cathode)."""

    model: str = ""
    prefix = "D"

    def __post_init__(self):
        self._setup()
        self.model = check_name(self.model, what="model name", element=self.name)


@dataclass
class Mosfet(Element):
    """M: a SPICE MOSFET with a ``.model`` of type ``nmos``/``pmos``; nodes are (drain, gate,
    source, bulk); ``params`` are instance parameters (``w``, ``l``, ``m``, ...)."""

    model: str = ""
    params: dict = field(default_factory=dict)
    prefix = "M"

    def __post_init__(self):
        self._setup()
        if len(self.nodes) != 4:
            raise NetlistError("a MOSFET has four nodes (d g s b)", element=self.name)
        self.model = check_name(self.model, what="model name", element=self.name)
        self.params = _params(self.params, self.name)


@dataclass
class Bjt(Element):
    """Q: a SPICE bipolar transistor (Gummel-Poon) with a ``.model`` of type ``npn``/``pnp``;
    nodes are (collector, base, emitter[, substrate]); ``params`` are instance parameters
    (``area``, ``m``)."""

    model: str = ""
    params: dict = field(default_factory=dict)
    prefix = "Q"

    def __post_init__(self):
        self._setup()
        if len(self.nodes) not in (3, 4):
            raise NetlistError("a bipolar transistor has three or four nodes (c b e [s])",
                               element=self.name)
        self.model = check_name(self.model, what="model name", element=self.name)
        self.params = _params(self.params, self.name)


@dataclass
class SubcircuitInstance(Element):
    """X: an instance of a subcircuit definition."""

    subckt: str = ""
    params: dict = field(default_factory=dict)
    prefix = "X"

    def __post_init__(self):
        self._setup()
        self.subckt = check_name(self.subckt, what="subcircuit name", element=self.name)
        self.params = _params(self.params, self.name)


@dataclass
class VerilogAInstance(Element):
    """N: an instance of a compiled Verilog-A (OSDI) model card."""

    model: str = ""
    params: dict = field(default_factory=dict)
    prefix = "N"

    def __post_init__(self):
        self._setup()
        self.model = check_name(self.model, what="model name", element=self.name)
        self.params = _params(self.params, self.name)


# --------------------------------------------------------------------------- models

@dataclass
class Model(_Counted):
    """A built-in SPICE model card (``.model name kind (params)``); VACASK maps ``d``."""

    name: str
    kind: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        self.name = check_name(self.name, what="model name")
        self.kind = check_name(self.kind, what="model type", element=self.name).lower()
        self.params = _params(self.params, self.name)


@dataclass
class VerilogAModel(_Counted):
    """A model card of a Verilog-A module, compiled to OSDI by openvaf-r when run."""

    name: str
    source: Path
    params: dict = field(default_factory=dict)
    module: str | None = None

    def __post_init__(self):
        self.name = check_name(self.name, what="model name")
        self.source = check_path(self.source, what="Verilog-A path", element=self.name)
        if self.module is None:
            if not self.source.is_file():
                raise NetlistError(f"Verilog-A file {self.source} not found", element=self.name)
            try:
                if self.source.stat().st_size > MAX_VERILOG_A_BYTES:
                    raise NetlistError(f"Verilog-A file {self.source} is larger than "
                                       f"{MAX_VERILOG_A_BYTES} bytes", element=self.name)
                text = self.source.read_text(errors="replace")
            except OSError as exc:
                raise NetlistError(f"cannot read Verilog-A file {self.source}: {exc}",
                                   element=self.name) from None
            found = re.findall(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE)
            if len(found) != 1:
                raise NetlistError(f"{self.source} must define exactly one module (found "
                                   f"{len(found)}); pass module= to choose", element=self.name)
            self.module = found[0]
        self.module = check_name(self.module, what="module name", element=self.name)
        self.params = _params(self.params, self.name)


# --------------------------------------------------------------------------- analyses

@dataclass(frozen=True)
class Analysis:
    kind: str
    name: str


@dataclass(frozen=True)
class Op(Analysis):
    pass


@dataclass(frozen=True)
class Dc(Analysis):
    source: str
    start: float
    stop: float
    step: float


@dataclass(frozen=True)
class Ac(Analysis):
    variation: str
    points: int
    fstart: float
    fstop: float


@dataclass(frozen=True)
class Tran(Analysis):
    step: float
    stop: float
    start: float = 0.0
    max_step: float | None = None
    uic: bool = False


@dataclass(frozen=True)
class Noise(Analysis):
    output: str
    source: str
    variation: str
    points: int
    fstart: float
    fstop: float
    reference: str = "0"


# --------------------------------------------------------------------------- measurements

MEASURE_FUNCTIONS = ("trig_targ", "find_when", "find_at", "when", "avg", "rms", "min", "max",
                     "pp", "integ")
MEASURE_ANALYSES = ("tran", "ac", "dc")
_MEASURE_VECTOR = re.compile(r"(v|vm|vdb|vp|vr|vi|i)\(([A-Za-z0-9_.]+)(?:,([A-Za-z0-9_.]+))?\)")


def check_measure_vector(text: object, *, element: str | None = None) -> str:
    """A measured quantity, lower-cased: ``v(node)``, ``v(node,node)``, ``i(vsource)`` or,
    for an ac analysis, ``vm()``/``vdb()``/``vp()``/``vr()``/``vi()`` of a node (the text
    gate, then a full match of that grammar; else a NetlistError)."""
    check_text(text, what="measured vector", element=element, empty=False, max_length=300)
    low = text.replace(" ", "").lower()
    m = _MEASURE_VECTOR.fullmatch(low)
    if not m:
        raise NetlistError(f"measured vector {text[:80]!r} is not v(node), v(node,node), "
                           "i(vsource) or vm/vdb/vp/vr/vi(node)", element=element)
    for part in m.group(2, 3):
        if part is not None:
            if m.group(1) == "i":
                check_name(part.replace(".", "_"), what="source name", element=element)
            else:
                for piece in part.split("."):
                    check_node(piece, element=element)
    return low


@dataclass(frozen=True)
class MeasureEvent:
    """Where a measurement looks: the ``number``-th ``edge`` (``rise``, ``fall`` or
    ``cross``; ``number`` a count from 1 or ``"last"``) of ``vector`` through ``value``
    after ``delay`` seconds (a SPICE ``TRIG``/``TARG``/``WHEN`` clause), or, when ``at`` is
    given, the point ``at`` on the axis (``TRIG AT=t``)."""

    vector: str = ""
    value: float = 0.0
    edge: str = "cross"
    number: int | str = 1
    delay: float = 0.0
    at: float | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.at is not None:
            set_("at", check_value(self.at, what="measure AT"))
            return
        set_("vector", check_measure_vector(self.vector))
        set_("value", check_value(self.value, what="measure VAL"))
        if self.edge not in ("rise", "fall", "cross"):
            raise NetlistError(f"measure edge must be rise, fall or cross, got {self.edge!r:.40}")
        if self.number != "last":
            set_("number", check_count(self.number, what="measure edge count",
                                       maximum=10 ** 9))
        set_("delay", check_value(self.delay, what="measure TD", nonnegative=True))


@dataclass(frozen=True)
class Measure:
    """A ``.meas`` card: ``name`` of the result, the ``analysis`` kind it reads (tran, ac,
    dc) and the ``function``:

    - ``trig_targ``: the axis distance from event ``trig`` to event ``targ``;
    - ``find_when`` / ``find_at``: ``vector`` at event ``when`` / at axis point ``at``;
    - ``when``: the axis point of event ``when``;
    - ``avg``, ``rms``, ``min``, ``max``, ``pp``, ``integ``: of ``vector`` over the window
      ``start`` .. ``stop`` of the axis (the whole sweep where None).

    Simulators with ``.meas`` (ngspice, Xyce) compute it themselves; for the others the
    run computes it from the Result (``neurospice.simulators.measure``)."""

    name: str
    analysis: str
    function: str
    vector: str | None = None
    trig: MeasureEvent | None = None
    targ: MeasureEvent | None = None
    when: MeasureEvent | None = None
    at: float | None = None
    start: float | None = None
    stop: float | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("name", check_name(self.name, what="measurement name").lower())
        if self.analysis not in MEASURE_ANALYSES:
            raise NetlistError(f"measurements read {', '.join(MEASURE_ANALYSES)} analyses, "
                               f"not {self.analysis!r:.40}", element=self.name)
        if self.function not in MEASURE_FUNCTIONS:
            raise NetlistError(f"unknown measure function {self.function!r:.40} (known: "
                               f"{', '.join(MEASURE_FUNCTIONS)})", element=self.name)
        needs = {"trig_targ": ("trig", "targ"), "find_when": ("vector", "when"),
                 "find_at": ("vector", "at"), "when": ("when",)}.get(self.function, ("vector",))
        for key in ("vector", "trig", "targ", "when", "at"):
            given = getattr(self, key) is not None
            if given != (key in needs):
                raise NetlistError(f"measure {self.function} {'needs' if not given else 'takes no'}"
                                   f" {key}", element=self.name)
        if self.vector is not None:
            set_("vector", check_measure_vector(self.vector, element=self.name))
        for key in ("trig", "targ", "when"):
            ev = getattr(self, key)
            if ev is not None and not isinstance(ev, MeasureEvent):
                raise NetlistError(f"measure {key} must be a MeasureEvent", element=self.name)
        if self.when is not None and self.when.at is not None:
            raise NetlistError("WHEN needs a vector and a value, not AT", element=self.name)
        for key in ("at", "start", "stop"):
            if getattr(self, key) is not None:
                set_(key, check_value(getattr(self, key), what=f"measure {key}",
                                      element=self.name))
        if self.start is not None and self.stop is not None and self.stop < self.start:
            raise NetlistError("measure window ends before it starts", element=self.name)


# --------------------------------------------------------------------------- containers

class _Container(_Tracked):
    """What circuits and subcircuit definitions share: elements and parameters."""

    def __init__(self):
        self.elements: dict[str, Element] = {}
        self.params: dict[str, Value] = {}

    # -- generic
    def add(self, element: Element) -> Element:
        """Add an element; names are unique regardless of case (SPICE is case-insensitive)."""
        if not isinstance(element, Element):
            raise NetlistError(f"not an element: {element!r}")
        key = element.name.lower()
        if key in self.elements:
            raise NetlistError("an element of this name already exists", element=element.name)
        self.elements[key] = element
        return element

    def __getitem__(self, name: str) -> Element:
        try:
            return self.elements[name.lower()]
        except (KeyError, AttributeError):
            raise KeyError(f"no element {name!r:.80}") from None

    def _independent_source(self, name, what: str) -> Element:
        """The independent source called ``name``, else a NetlistError naming it."""
        src = self.elements.get(name.lower()) if isinstance(name, str) else None
        if not isinstance(src, (VoltageSource, CurrentSource)):
            raise NetlistError(f"{what} must be an independent source of the circuit",
                               element=src.name if src is not None else repr(name)[:80])
        return src

    def param(self, name: str, value: Value) -> None:
        """Declare a parameter (a default, for a subcircuit) usable in values and expressions."""
        check_name(name, what="parameter name")
        self.params[name] = _value(value, what=f"parameter {name}", element=None)

    @property
    def nodes(self) -> list[str]:
        """All node names in order of first use (ground ``0`` included when used)."""
        return list(dict.fromkeys(n for e in self.elements.values() for n in e.nodes))

    # -- elements
    def resistor(self, name, p, n, value) -> Resistor:
        return self.add(Resistor(name, (p, n), value))

    def capacitor(self, name, p, n, value) -> Capacitor:
        return self.add(Capacitor(name, (p, n), value))

    def inductor(self, name, p, n, value) -> Inductor:
        return self.add(Inductor(name, (p, n), value))

    def vsource(self, name, p, n, dc=None, *, ac=None, ac_phase_deg=0.0, waveform=None):
        return self.add(VoltageSource(name, (p, n), dc, ac, ac_phase_deg, waveform))

    def isource(self, name, p, n, dc=None, *, ac=None, ac_phase_deg=0.0, waveform=None):
        return self.add(CurrentSource(name, (p, n), dc, ac, ac_phase_deg, waveform))

    def mutual(self, name, l1, l2, k) -> MutualInductance:
        """Couple the inductors ``l1`` and ``l2`` (names in this (sub)circuit) by ``k``."""
        return self.add(MutualInductance(name, (), l1, l2, k))

    def vcvs(self, name, p, n, cp, cn, gain) -> VCVS:
        return self.add(VCVS(name, (p, n, cp, cn), gain))

    def vccs(self, name, p, n, cp, cn, gain) -> VCCS:
        return self.add(VCCS(name, (p, n, cp, cn), gain))

    def cccs(self, name, p, n, vsource, gain) -> CCCS:
        return self.add(CCCS(name, (p, n), vsource, gain))

    def ccvs(self, name, p, n, vsource, gain) -> CCVS:
        return self.add(CCVS(name, (p, n), vsource, gain))

    def bsource(self, name, p, n, *, i=None, v=None) -> BehavioralSource:
        """Behavioral source: exactly one of ``i=`` (current p->n) or ``v=`` (V(p,n))."""
        if (i is None) == (v is None):
            raise NetlistError("give exactly one of i= or v=", element=str(name))
        return self.add(BehavioralSource(name, (p, n), i if v is None else v,
                                         "i" if v is None else "v"))

    def diode(self, name, anode, cathode, model) -> Diode:
        return self.add(Diode(name, (anode, cathode), model))

    def mosfet(self, name, d, g, s, b, model, **params) -> Mosfet:
        """A MOSFET of the ``nmos``/``pmos`` ``model``; ``params``: ``w=``, ``l=``, ..."""
        return self.add(Mosfet(name, (d, g, s, b), model, params))

    def bjt(self, name, c, b, e, model, *, substrate=None, **params) -> Bjt:
        """A bipolar transistor of the ``npn``/``pnp`` ``model``; ``params``: ``area=``, ..."""
        nodes = (c, b, e) if substrate is None else (c, b, e, substrate)
        return self.add(Bjt(name, nodes, model, params))

    def instance(self, name, subckt, nodes, **params) -> SubcircuitInstance:
        sub = subckt.name if isinstance(subckt, Subcircuit) else subckt
        return self.add(SubcircuitInstance(name, tuple(nodes), sub, params))

    def va_instance(self, name, model, nodes, **params) -> VerilogAInstance:
        m = model.name if isinstance(model, VerilogAModel) else model
        return self.add(VerilogAInstance(name, tuple(nodes), m, params))

    def va_instances(self, model, names, nodes, params) -> None:
        """Add many instances of one Verilog-A model card at once (a generated array, a
        crossbar's cells): ``names[k]`` connecting ``nodes[k]`` with ``params[k]`` (a dict).
        What :meth:`va_instance` checks per element is checked once over the batch: the
        names by one match of the name grammar over all of them, each distinct node and
        parameter name once, the values as numbers; a batch where anything is not a plain
        name, string node or finite float goes element by element through
        :meth:`va_instance`, which raises its NetlistError naming the element."""
        m = check_name(model.name if isinstance(model, VerilogAModel) else model,
                       what="model name")
        names, nodes, params = list(names), list(nodes), list(params)
        if not len(names) == len(nodes) == len(params):
            raise NetlistError(f"{len(names)} names, {len(nodes)} node lists and "
                               f"{len(params)} parameter dicts: give one of each per instance")
        full = [x if type(x) is str and x[:1] in "Nn" else f"N{x}" for x in names]
        lower = [k.lower() for k in full]
        keys = set(lower)
        fast = (all(type(x) is str for x in names) and len(keys) == len(full)
                and set(map(type, nodes)) <= {list, tuple}
                and keys.isdisjoint(self.elements) and keys.isdisjoint(RESERVED)
                and max(map(len, full), default=0) <= MAX_NAME_LENGTH
                and _NAMES.fullmatch(joined := "\n".join(full)) is not None
                and joined.count("\n") == len(full) - 1        # no name holds a break
                and set(map(type, params)) <= {dict})
        if fast:
            values = [v for d in params for v in d.values()]
            fast = (set(map(type, values)) <= {float}
                    and bool(np.isfinite(np.fromiter(values, float, len(values))).all())
                    and all(type(k) is str and _checked_key(k)
                            for k in {k for d in params for k in d}))
        if fast:
            try:
                nodes = [tuple(map(_checked_node, ns)) for ns in nodes]
            except NetlistError:
                fast = False
        if not fast:
            for name, ns, ps in zip(names, nodes, params):
                self.va_instance(name, m, ns, **ps)
            return
        new = VerilogAInstance.__new__
        for name, key, ns, ps in zip(full, lower, nodes, params):
            e = new(VerilogAInstance)
            e.__dict__.update(name=name, nodes=ns, model=m, params=TrackedDict(ps))
            self.elements[key] = e


class Subcircuit(_Container):
    """A subcircuit definition: ports, parameter defaults and a body of elements."""

    def __init__(self, name: str, ports: Sequence[str], **params):
        super().__init__()
        self.name = check_name(name, what="subcircuit name")
        self.ports = tuple(check_node(p, element=self.name) for p in ports)
        if "0" in self.ports:
            raise NetlistError("ground '0' cannot be a port", element=self.name)
        if len({p.lower() for p in self.ports}) != len(self.ports):
            raise NetlistError("duplicate port", element=self.name)
        for key, val in params.items():
            self.param(key, val)


class Circuit(_Container):
    """A whole circuit: elements, subcircuits, models, parameters, options, analyses."""

    def __init__(self, title: str = "neurospice circuit"):
        super().__init__()
        self.title = title
        self.subcircuits: dict[str, Subcircuit] = {}
        self.models: dict[str, Model | VerilogAModel] = {}
        self.includes: list[Path] = []
        self.initial_conditions: dict[str, float] = {}
        self.options: dict[str, float | str] = {}
        self.analyses: list[Analysis] = []
        self.nodesets: dict[str, float] = {}
        self.measures: list[Measure] = []
        self.saves: list[str] = []

    @property
    def title(self) -> str:
        """The title line: printable text (any script), no line breaks (the text gate)."""
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        self._title = check_text(value, what="title")

    # -- definitions
    def subcircuit(self, sub: Subcircuit) -> Subcircuit:
        if not isinstance(sub, Subcircuit):
            raise NetlistError(f"not a Subcircuit: {type(sub).__name__}")
        if sub.name.lower() in self.subcircuits:
            raise NetlistError("subcircuit already defined", element=sub.name)
        self.subcircuits[sub.name.lower()] = sub
        return sub

    def model(self, name: str, kind: str, **params) -> Model:
        return self._add_model(Model(name, kind, params))

    def verilog_a_model(self, name: str, source, *, module: str | None = None,
                        **params) -> VerilogAModel:
        return self._add_model(VerilogAModel(name, source, params, module))

    def _add_model(self, model):
        if model.name.lower() in self.models:
            raise NetlistError("model already defined", element=model.name)
        self.models[model.name.lower()] = model
        return model

    def include(self, path) -> None:
        """Include a file of model cards or subcircuits (written as an absolute path)."""
        self.includes.append(check_path(path, what="include path"))

    def ic(self, node: str, value: float) -> None:
        """Initial node voltage for the transient (forced in the initial operating point)."""
        node = check_node(node)
        self.initial_conditions[node] = check_value(value, what=f"initial condition of {node}")

    def nodeset(self, node: str, value: float) -> None:
        """An initial guess of a node voltage for the operating point (``.nodeset``); it
        helps convergence and changes no solution (VACASK takes none: it is not written)."""
        node = check_node(node)
        self.nodesets[node] = check_value(value, what=f"nodeset of {node}")

    def measure(self, name: str, analysis: str, function: str, **kw) -> Measure:
        """A measurement of the results (a ``.meas`` card; see :class:`Measure`), reported
        in ``Results.measurements[name]`` after a run. Names are unique (case-insensitive)."""
        m = Measure(name, analysis, function, **kw)
        if any(x.name == m.name for x in self.measures):
            raise NetlistError("a measurement of this name already exists", element=m.name)
        self.measures.append(m)
        return m

    def save(self, *vectors: str) -> None:
        """Keep only these vectors in the results: ``v(node)`` (``v(x1.node)`` inside a
        subcircuit instance) or ``i(element)`` of a voltage source, inductor, E or H source
        or resistor (``i(x1.r1)`` inside an instance), lower-cased; a measurement's vectors
        are kept as well. By default (none named) every vector is kept. ngspice,
        ngspice-shared and VACASK then write only these, under the same names; Xyce keeps
        every vector. NetlistError for another form; a node or element the circuit lacks,
        or a current no simulator keeps (a capacitor's), is a NetlistError when the circuit
        is rendered."""
        for v in vectors:
            low = check_measure_vector(v)
            if not low.startswith(("v(", "i(")) or "," in low:
                raise NetlistError(f"saved vector {v!r:.80} is not v(node) or i(element)")
            if low not in self.saves:
                self.saves.append(low)

    OPTIONS = ("temp", "tnom", "reltol", "abstol", "vntol", "gmin", "method", "maxord",
               "threads", "solver", "breakpoint_fraction")
    SOLVERS = ("auto", "klu", "sparse")

    def option(self, name: str, value) -> None:
        """A simulator option, translated per dialect: temp (degC), tnom, reltol, abstol,
        vntol, gmin, maxord, method ('trap' or 'gear'), and threads: the OpenMP threads of
        ngspice's OSDI device evaluation (default 1; Debian's ngspice starts 8, which costs
        a small circuit far more than it saves; other simulators ignore it), and solver: the
        linear solver of ngspice, 'klu' (``.options klu``), 'sparse' (ngspice's own sparse
        solver, ``.options sparse``) or 'auto' (the default: KLU for large circuits, see
        :func:`neurospice.netlists.writers.ngspice_solver`; VACASK always uses KLU and Xyce
        chooses its own, so both ignore it), and breakpoint_fraction: VACASK's ``tran_fbr``, the
        largest step as a fraction of the distance between the source corners around it
        (VACASK's default 0.2501; ngspice and Xyce cut their step at every corner
        themselves and ignore it)."""
        if not isinstance(name, str) or name not in self.OPTIONS:
            raise NetlistError(f"unknown option {name!r:.80} (known: {', '.join(self.OPTIONS)})")
        if name == "method":
            if not isinstance(value, str) or value not in ("trap", "gear"):
                raise NetlistError(f"method must be 'trap' or 'gear', got {value!r:.80}")
            self.options[name] = value
        elif name == "threads":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise NetlistError(f"threads must be a positive integer, got {value!r:.80}")
            self.options[name] = check_count(value, what="threads", maximum=4096)
        elif name == "solver":
            if not isinstance(value, str) or value not in self.SOLVERS:
                raise NetlistError(f"solver must be one of {', '.join(self.SOLVERS)}, "
                                   f"got {value!r:.80}")
            self.options[name] = value
        else:
            self.options[name] = check_value(value, what=f"option {name}")

    # -- analyses
    def _analysis(self, cls, kind, **kw):
        n = sum(a.kind == kind for a in self.analyses) + 1
        a = cls(kind=kind, name=f"{kind}{n}", **kw)
        self.analyses.append(a)
        return a

    def op(self) -> Op:
        return self._analysis(Op, "op")

    def dc(self, source: str, start: float, stop: float, step: float) -> Dc:
        """A dc sweep of ``source`` from ``start`` to ``stop`` by ``step`` (at most
        :data:`MAX_SWEEP_POINTS` points)."""
        src = self._independent_source(source, "the dc sweep's source")
        step = check_value(step, what="dc step", element=src.name)
        start = check_value(start, what="dc start", element=src.name)
        stop = check_value(stop, what="dc stop", element=src.name)
        if step == 0 or (stop - start) / step < 0:
            raise NetlistError("dc step must be non-zero and point from start to stop",
                               element=src.name)
        points = abs(stop - start) / abs(step) + 1  # inf when stop - start overflows
        if not points <= MAX_SWEEP_POINTS:
            raise NetlistError(f"dc sweep of {points:.3g} points (at most {MAX_SWEEP_POINTS}): "
                               "use a larger step", element=src.name)
        from neurospice.netlists.writers import dc_points

        try:        # counted as ngspice steps it: a step that does not move the value
            dc_points(start, stop, step)      # never ends
        except NetlistError as exc:
            raise NetlistError(str(exc), element=src.name) from None
        return self._analysis(Dc, "dc", source=src.name, start=start, stop=stop, step=step)

    def ac(self, fstart: float, fstop: float, points: int = 10, variation: str = "dec") -> Ac:
        """A small-signal sweep; ``points`` per decade or octave, or in all for ``lin``
        (at most :data:`MAX_SWEEP_POINTS` points in all)."""
        fstart, fstop, points = self._sweep(fstart, fstop, points, variation)
        return self._analysis(Ac, "ac", variation=variation, points=points, fstart=fstart,
                              fstop=fstop)

    def tran(self, step: float, stop: float, *, start: float = 0.0, max_step: float | None = None,
             uic: bool = False) -> Tran:
        """A transient to ``stop`` with output step ``step``: at most :data:`MAX_TRAN_POINTS`
        steps from ``start`` to ``stop``."""
        step = check_value(step, what="tran step", positive=True)
        stop = check_value(stop, what="tran stop", positive=True)
        start = check_value(start, what="tran start", nonnegative=True)
        if start >= stop:
            raise NetlistError("tran start must be before stop")
        if not (stop - start) / step <= MAX_TRAN_POINTS:
            raise NetlistError(f"tran of {(stop - start) / step:.3g} steps (at most "
                               f"{MAX_TRAN_POINTS}): use a larger step")
        if max_step is not None:
            max_step = check_value(max_step, what="tran max_step", positive=True)
        return self._analysis(Tran, "tran", step=step, stop=stop, start=start,
                              max_step=max_step, uic=bool(uic))

    def noise(self, output: str, source: str, fstart: float, fstop: float, points: int = 10,
              variation: str = "dec", reference: str = "0") -> Noise:
        src = self._independent_source(source, "the noise input")
        fstart, fstop, points = self._sweep(fstart, fstop, points, variation)
        return self._analysis(Noise, "noise", output=check_node(output), source=src.name,
                              variation=variation, points=points, fstart=fstart,
                              fstop=fstop, reference=check_node(reference))

    @staticmethod
    def _sweep(fstart, fstop, points, variation):
        if not isinstance(variation, str) or variation not in ("dec", "oct", "lin"):
            raise NetlistError(f"variation must be 'dec', 'oct' or 'lin', got {variation!r:.80}")
        points = check_count(points, what="points", maximum=MAX_SWEEP_POINTS)
        fstart = check_value(fstart, what="start frequency", positive=True)
        fstop = check_value(fstop, what="stop frequency", positive=True)
        if fstop < fstart:
            raise NetlistError("stop frequency is below start frequency")
        per = {"dec": math.log10(fstop / fstart), "oct": math.log2(fstop / fstart), "lin": 1.0}
        total = points * per[variation] + 1
        if not total <= MAX_SWEEP_POINTS:
            raise NetlistError(f"sweep of {total:.3g} points (at most {MAX_SWEEP_POINTS}): "
                               "use fewer points")
        return fstart, fstop, points

    # -- rendering
    def verilog_a_sources(self, dialect: str | None = None) -> list[Path]:
        """The Verilog-A files of the circuit's model cards, which a run compiles (the same
        for every dialect; ``dialect`` is accepted for the simulators' contract). The
        wrappers VACASK needs for behavioral sources are generated text: see :meth:`render`."""
        from neurospice.netlists import writers
        return writers.verilog_a_sources(self)

    def __getstate__(self) -> dict:
        """Pickled or copied without the epoch it passed at (another process counts its
        own)."""
        state = dict(self.__dict__)
        state.pop("_valid_at", None)
        return state

    def validate(self) -> None:
        """Check the circuit's references (:func:`neurospice.netlists.writers.check`: an
        unknown parameter, subcircuit, model or controlling source, a port count that
        differs...; NetlistError naming the element). Done again only when a netlist object
        has changed since the circuit last passed (:func:`netlist_epoch`): rendering one
        circuit many times checks it once."""
        epoch = netlist_epoch()     # read first: a change made during the check counts
        if self.__dict__.get("_valid_at") == epoch:
            return
        from neurospice.netlists import writers
        writers.check(self)
        object.__setattr__(self, "_valid_at", epoch)    # no change of the circuit

    def render(self, dialect: str = "ngspice", *, osdi: dict | None = None):
        """The netlist for ``dialect`` and the files it refers to beside itself, as a
        ``writers.Rendered`` (``.netlist`` text, ``.files``: name -> text). Writes nothing.

        ``osdi`` maps each Verilog-A source (a model's .va path, or the name of a generated
        file in ``.files``) to its compiled .osdi file; without it the netlist names
        ``<source>.osdi`` (ngspice) or loads the .va itself (VACASK).
        """
        from neurospice.netlists import writers
        return writers.render(self, dialect, osdi or {})

    def to_netlist(self, dialect: str = "ngspice", *, osdi: dict | None = None) -> str:
        """The netlist text for ``dialect`` (ngspice, xyce or vacask); writes nothing. See
        :meth:`render` for ``osdi`` and for the files a VACASK netlist loads beside itself.
        Without ``osdi`` the Verilog-A models are named where no compiled file is yet: for a
        netlist that runs as printed use ``neurospice.simulators.runnable_netlist`` (compiled
        into the cache, absolute paths) or ``write_runnable`` (compiled beside it)."""
        return self.render(dialect, osdi=osdi).netlist

    def write(self, path, dialect: str = "ngspice", *, osdi: dict | None = None,
              overwrite: bool = False) -> Path:
        """Write the netlist for ``dialect`` to ``path``, and the files it loads beside
        itself (VACASK's behavioral-source wrappers) into the same folder, atomically.
        Existing files are replaced only with ``overwrite`` (else OutputExists, checked for
        every file before any is written)."""
        from neurospice.fileio import check_output, write_text_atomic
        rendered = self.render(dialect, osdi=osdi)
        targets = [Path(path).with_name(name) for name in rendered.files] + [Path(path)]
        for target in targets:
            check_output(target, overwrite=overwrite)
        for target, text in zip(targets, [*rendered.files.values(), rendered.netlist]):
            write_text_atomic(target, text, overwrite=overwrite)
        return Path(path)

    def __str__(self) -> str:
        return self.to_netlist("ngspice")
