"""Render a :class:`~neurospice.netlists.circuit.Circuit` for ngspice, Xyce or VACASK.

One Circuit, three dialects: one writer class per dialect (a small override of its family's
writer), registered in :mod:`neurospice.netlists.dialects`. Every number is written with
:func:`fmt` (full precision, no unit letters); every name has been validated when it was
added. Before writing, the circuit's references (subcircuits, models, controlling sources,
parameters) are checked, so a broken circuit fails here with a NetlistError naming the element
rather than in the simulator.

Lines are assembled from checked pieces (names, nodes and paths that passed the text gate of
:mod:`neurospice.netlists.values`, numbers written by :func:`fmt`, rendered expressions) and
joined with ``\n``; no user text is ever split. Each rendered line is checked once more
(``values.check_line``), so a value that bypassed the checks (an attribute set by hand) is a
NetlistError naming the line, not a second card.

Rendering is pure: it returns text and writes no file. What a netlist needs beside itself
(VACASK's Verilog-A wrappers of behavioral sources) comes back as text in
:attr:`Rendered.files`; ``Circuit.write`` or a simulator's prepare step writes it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from neurospice.errors import NetlistError, UnsupportedPoint
from neurospice.netlists.circuit import (
    MAX_SWEEP_POINTS,
    CCCS, CCVS, VCCS, VCVS, Ac, BehavioralSource, Capacitor, Circuit, CurrentSource,
    Bjt, Dc, Diode, Exp, Inductor, Measure, MeasureEvent, Model, Mosfet, MutualInductance, Noise,
    Op, Pulse,
    Pwl, Resistor, Sine, Subcircuit,
    SubcircuitInstance, Tran, VerilogAInstance, VerilogAModel, VoltageSource)
from neurospice.netlists.dialects import get_dialect
from neurospice.netlists.expr import Expression
from neurospice.netlists.values import check_line, check_path_string, fmt

SINGLE_PULSE_PERIOD = 1e30   # s: the period written for Pulse(period=None)

__all__ = ["Rendered", "NgspiceWriter", "XyceWriter", "VacaskWriter", "BehavioralWrapper",
           "check", "check_rendered", "join_lines", "render", "render_subcircuit", "verilog_a_sources"]


@dataclass(frozen=True)
class Rendered:
    """A rendered netlist and the files it refers to beside itself (file name -> text)."""

    netlist: str
    files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))


def render(circuit: Circuit, dialect: str, osdi: Mapping | None = None) -> Rendered:
    """``circuit`` rendered for ``dialect`` (a netlist dialect of the registry), after
    :func:`check` (through :meth:`Circuit.validate`: once until the circuit changes; every
    rendered line is checked each time, :func:`join_lines`). ``osdi`` maps Verilog-A
    sources (a model's .va path, or the name of a generated file in ``Rendered.files``) to
    their compiled .osdi files."""
    writer = get_dialect(dialect, netlist=True).writer
    circuit.validate()
    w = writer(circuit, osdi or {})
    return Rendered(w.render(), {name: check_rendered(text) for name, text in w.files().items()})


def join_lines(lines) -> str:
    """The text of a writer's ``lines``, each checked first (``values.check_line``:
    printable only, so no line break can hide inside one) and ended by ``\\n``. Every writer
    assembles its netlist through here; a value that bypassed the checks (an attribute set
    by hand) is a NetlistError naming the line."""
    return "".join(check_line(line, number) + "\n" for number, line in enumerate(lines, 1))


def check_rendered(text: str) -> str:
    """Return generated ``text`` (a file beside the netlist) if each of its
    ``\\n``-separated lines is printable text
    (:func:`~neurospice.netlists.values.check_line`), else raise NetlistError naming the
    line."""
    for number, line in enumerate(text.split("\n"), 1):
        check_line(line, number)
    return text


def render_subcircuit(sub: Subcircuit, dialect: str) -> str:
    """The definition of one subcircuit alone, for a library file (ngspice or Xyce)."""
    writers = {"ngspice": NgspiceWriter, "xyce": XyceWriter}
    if dialect not in writers:
        raise NetlistError(f"subcircuit libraries are written for ngspice and xyce, not {dialect!r}")
    holder = Circuit(sub.name)
    holder.subcircuit(sub)
    check(holder)
    writer = writers[dialect](holder, {})
    lines = writer.subcircuit(sub)
    while lines and not lines[-1].strip():
        lines.pop()
    return join_lines(lines)


def verilog_a_sources(circuit: Circuit) -> list[Path]:
    """The .va files of the circuit's Verilog-A model cards, each once (a run compiles
    them; generated wrappers are not among them: see ``Rendered.files``)."""
    return list(dict.fromkeys(m.source for m in circuit.models.values()
                              if isinstance(m, VerilogAModel)))


# --------------------------------------------------------------------------- checks

def check(circuit: Circuit) -> None:
    """Raise a NetlistError naming the element for a broken reference: an unknown parameter,
    subcircuit, model or controlling source, a port count that differs, ground as a noise
    output, an initial condition on an unknown node. Changes nothing."""
    globals_ = set(circuit.params)
    _check_params(circuit.params, globals_, "parameters")
    for sub in circuit.subcircuits.values():
        _check_container(circuit, sub, globals_ | set(sub.params))
    _check_container(circuit, circuit, globals_)
    for a in circuit.analyses:
        if isinstance(a, Noise) and a.output == "0":
            raise NetlistError("noise output cannot be ground", element=a.name)
    saves = getattr(circuit, "saves", ())
    nodes = set(circuit.nodes) if circuit.initial_conditions or any(
        v[0] == "v" for v in saves) else set()
    for node in circuit.initial_conditions:
        if node not in nodes:
            raise NetlistError(f"initial condition on unknown node {node!r}")
    for vec in saves:
        name = vec[2:-1]
        if "." not in name and (name not in nodes if vec[0] == "v" else
                                 name not in circuit.elements):
            raise NetlistError(f"saved vector {vec!r}: the circuit has no "
                               f"{'node' if vec[0] == 'v' else 'element'} {name!r}")
        leaf = _saved_path(circuit, name)[-1] if vec[0] == "i" else None
        if leaf is not None and not isinstance(leaf, SAVED_CURRENTS):
            raise NetlistError(f"saved vector {vec!r}: the current of {leaf.name} (a "
                               f"{type(leaf).__name__}) is kept by no simulator; save the "
                               "current of a voltage source, inductor, E/H source or resistor")


# elements whose current a save keeps: a branch of their own, or a resistor's operating value
SAVED_CURRENTS = (VoltageSource, Inductor, VCVS, CCVS, Resistor)


def _saved_path(circuit: Circuit, path: str) -> list:
    """The elements named along a saved vector's dotted ``path`` (instances, then the
    last part), None where a part names none."""
    box, out = circuit, []
    for part in path.split("."):
        e = box.elements.get(part) if box is not None else None
        out.append(e)
        box = circuit.subcircuits.get(e.subckt.lower()) \
            if isinstance(e, SubcircuitInstance) else None
    return out


def _check_params(values: dict, known: set, element: str) -> None:
    for val in values.values():
        if isinstance(val, Expression):
            unknown = [n for n in val.names if n not in known]
            if unknown:
                raise NetlistError(f"unknown parameter(s) {', '.join(unknown)} in {val.text!r}",
                                   element=element)


def _check_container(circuit: Circuit, box: Circuit | Subcircuit, known: set) -> None:
    va_models = set()       # Verilog-A model names found (a generated array repeats one)
    for e in box.elements.values():
        if type(e) is VerilogAInstance:
            _check_params(e.params, known, e.name)
            if e.model not in va_models:
                if not isinstance(circuit.models.get(e.model.lower()), VerilogAModel):
                    raise NetlistError(f"unknown Verilog-A model {e.model!r}", element=e.name)
                va_models.add(e.model)
            continue
        vals = {k: getattr(e, k) for k in ("value", "dc", "gain", "k") if hasattr(e, k)}
        vals.update(getattr(e, "params", {}))
        if isinstance(e, BehavioralSource):
            vals["expression"] = e.expression
            for src in e.expression.currents:
                _require_vsource(box, src, e.name)
        _check_params(vals, known, e.name)
        if isinstance(e, (CCCS, CCVS)):
            _require_vsource(box, e.vsource, e.name)
        if isinstance(e, MutualInductance):
            _require_inductor(box, e.l1, e.name)
            _require_inductor(box, e.l2, e.name)
        if isinstance(e, SubcircuitInstance):
            sub = circuit.subcircuits.get(e.subckt.lower())
            if sub is None:
                raise NetlistError(f"unknown subcircuit {e.subckt!r}", element=e.name)
            if len(sub.ports) != len(e.nodes):
                raise NetlistError(f"subcircuit {sub.name} has {len(sub.ports)} ports, "
                                   f"instance connects {len(e.nodes)}", element=e.name)
            extra = [k for k in e.params if k not in sub.params]
            if extra:
                raise NetlistError(f"subcircuit {sub.name} has no parameter(s) {', '.join(extra)}",
                                   element=e.name)
        if isinstance(e, (Mosfet, Bjt)):
            model = circuit.models.get(e.model.lower())
            kinds = ("nmos", "pmos") if isinstance(e, Mosfet) else ("npn", "pnp")
            if not isinstance(model, Model) or model.kind not in kinds:
                raise NetlistError(f"unknown {'/'.join(kinds)} model {e.model!r}",
                                   element=e.name)
        if isinstance(e, (Diode, VerilogAInstance)):
            model = circuit.models.get(e.model.lower())
            want = Model if isinstance(e, Diode) else VerilogAModel
            if not isinstance(model, want) or (isinstance(e, Diode) and model.kind != "d"):
                kind = "diode (.model ... d)" if isinstance(e, Diode) else "Verilog-A"
                raise NetlistError(f"unknown {kind} model {e.model!r}", element=e.name)


def _require_vsource(box: Circuit | Subcircuit, name: str, element: str) -> str:
    """The controlling voltage source's name as declared (VACASK is case-sensitive)."""
    src = box.elements.get(name.lower())
    if not isinstance(src, VoltageSource):
        raise NetlistError(f"controlling source {name!r} is not a voltage source in the same "
                           "(sub)circuit", element=element)
    return src.name


def _require_inductor(box: Circuit | Subcircuit, name: str, element: str) -> str:
    """A coupled inductor's name as declared (VACASK is case-sensitive)."""
    ind = box.elements.get(name.lower())
    if not isinstance(ind, Inductor):
        raise NetlistError(f"coupled {name!r} is not an inductor in the same (sub)circuit",
                           element=element)
    return ind.name


# --------------------------------------------------------------------------- SPICE family

class SpiceWriter:
    """What the ngspice and Xyce writers share; a dialect overrides what differs."""

    dialect = "ngspice"
    expr_dialect = "ngspice"

    def __init__(self, circuit: Circuit, osdi: Mapping):
        self.c = circuit
        self.osdi = {Path(k).resolve(): Path(v) for k, v in osdi.items()}

    def files(self) -> dict[str, str]:
        """The files the netlist refers to beside itself: none for the SPICE family."""
        return {}

    def val(self, v) -> str:
        return "{" + v.render(self.expr_dialect) + "}" if isinstance(v, Expression) else fmt(v)

    def params(self, params: dict) -> str:
        return " ".join([f"{k}={self.val(v)}" for k, v in params.items()])

    def render(self) -> str:
        c = self.c
        out = [self.title(), ""]
        if c.params:
            out += [f".param {k}={self.val(v)}" for k, v in c.params.items()]
        for path in c.includes:
            out.append(f'.include "{path}"')
        for m in c.models.values():
            out.append(self.model(m))
        for sub in c.subcircuits.values():
            out += self.subcircuit(sub)
        out += self.body(c)
        if c.initial_conditions:
            out.append(".ic " + " ".join(f"{self.v_of(n)}={fmt(v)}"
                                         for n, v in c.initial_conditions.items()))
        if c.nodesets:
            out.append(".nodeset " + " ".join(f"{self.v_of(n)}={fmt(v)}"
                                              for n, v in c.nodesets.items()))
        out += self.options()
        out += self.saves()
        out += [self.analysis(a) for a in c.analyses]
        out += [self.measure(m) for m in c.measures]
        out += self.control()
        out.append(".end")
        return join_lines(out)

    def title(self) -> str:
        return f"* {self.c.title}"

    def v_of(self, node):
        return f"v({node})"

    def control(self) -> list[str]:
        return []

    def model(self, m) -> str:
        if isinstance(m, VerilogAModel):
            return self.va_model(m)
        return f".model {m.name} {m.kind}" + (f" ({self.params(m.params)})" if m.params else "")

    def va_model(self, m: VerilogAModel) -> str:
        return f".model {m.name} {m.module}" + (f" {self.params(m.params)}" if m.params else "")

    def subcircuit(self, sub: Subcircuit) -> list[str]:
        head = f".subckt {sub.name} {' '.join(sub.ports)}"
        if sub.params:
            head += " " + self.subckt_params(sub.params)
        return [head] + ["  " + line for line in self.body(sub)] + [f".ends {sub.name}", ""]

    def subckt_params(self, params) -> str:
        return self.params(params)

    def body(self, box: Circuit | Subcircuit) -> list[str]:
        return [line for e in box.elements.values() for line in self.element(e, box)]

    def element(self, e, box) -> list[str]:
        n = " ".join(e.nodes)
        if type(e) is VerilogAInstance:     # first: a generated array holds thousands
            return [self.va_instance(e, n)]
        if isinstance(e, (Resistor, Capacitor, Inductor)):
            return [f"{e.name} {n} {self.val(e.value)}"]
        if isinstance(e, (VoltageSource, CurrentSource)):
            return self.source(e, n)
        if isinstance(e, (VCVS, VCCS)):
            return [f"{e.name} {n} {self.val(e.gain)}"]
        if isinstance(e, (CCCS, CCVS)):
            return [f"{e.name} {n} {_require_vsource(box, e.vsource, e.name)} "
                    f"{self.val(e.gain)}"]
        if isinstance(e, BehavioralSource):
            return [self.bsource(e, n)]
        if isinstance(e, MutualInductance):
            return [f"{e.name} {_require_inductor(box, e.l1, e.name)} "
                    f"{_require_inductor(box, e.l2, e.name)} {self.val(e.k)}"]
        if isinstance(e, Diode):
            return [f"{e.name} {n} {e.model}"]
        if isinstance(e, (Mosfet, Bjt)):
            return [f"{e.name} {n} {e.model}" + (f" {self.params(e.params)}" if e.params else "")]
        if isinstance(e, SubcircuitInstance):
            return [f"{e.name} {n} {e.subckt}" + self.instance_params(e.params)]
        if isinstance(e, VerilogAInstance):
            return [self.va_instance(e, n)]
        raise NetlistError(f"cannot write {type(e).__name__} for {self.dialect}", element=e.name)

    def instance_params(self, params) -> str:
        return (" " + self.params(params)) if params else ""

    def bsource(self, e: BehavioralSource, n: str) -> str:
        return f"{e.name} {n} {e.kind.upper()}={e.expression.render(self.expr_dialect)}"

    def va_instance(self, e: VerilogAInstance, n: str) -> str:
        return f"{e.name} {n} {e.model}" + self.instance_params(e.params)

    def source(self, e, n) -> list[str]:
        line = f"{e.name} {n} dc {self.val(e.dc)}"
        if e.ac is not None:
            line += f" ac {fmt(e.ac)} {fmt(e.ac_phase_deg)}"
        w = e.waveform
        if isinstance(w, Pulse):
            # one pulse: a period no run reaches (ngspice without one repeats the pulse
            # every rise + width + fall)
            period = w.period if w.period is not None else SINGLE_PULSE_PERIOD
            args = [w.v1, w.v2, w.delay, w.rise, w.fall, w.width, period]
            line += " pulse(" + " ".join(fmt(x) for x in args) + ")"
        elif isinstance(w, Sine):
            args = [w.offset, w.amplitude, w.freq_hz, w.delay, w.damping, w.phase_deg]
            line += " sin(" + " ".join(fmt(x) for x in args) + ")"
        elif isinstance(w, Exp):
            args = [w.v1, w.v2, w.delay1, w.tau1, w.delay2, w.tau2]
            line += " exp(" + " ".join(fmt(x) for x in args) + ")"
        elif isinstance(w, Pwl):
            pairs = [f"{fmt(t)} {fmt(v)}" for t, v in zip(w.times, w.values)]
            lines = [line + " pwl("]
            lines += ["+ " + " ".join(pairs[k:k + 4]) for k in range(0, len(pairs), 4)]
            lines.append("+ )")
            return lines
        return [line]

    def saves(self) -> list[str]:
        """The cards keeping only the circuit's saved vectors: none for the SPICE family
        (every vector is kept)."""
        return []

    def options(self) -> list[str]:
        opts = {k: v for k, v in self.c.options.items()
                if k not in ("threads", "solver", "breakpoint_fraction")}
        if not opts:
            return []
        return [".options " + " ".join(f"{k}={v if isinstance(v, str) else fmt(v)}"
                                       for k, v in opts.items())]

    def analysis(self, a) -> str:
        if isinstance(a, Op):
            return ".op"
        if isinstance(a, Dc):
            return f".dc {a.source} {fmt(a.start)} {fmt(a.stop)} {fmt(a.step)}"
        if isinstance(a, Ac):
            return f".ac {a.variation} {a.points} {fmt(a.fstart)} {fmt(a.fstop)}"
        if isinstance(a, Tran):
            line = f".tran {fmt(a.step)} {fmt(a.stop)}"
            if a.start or a.max_step is not None:
                line += f" {fmt(a.start)}"
            if a.max_step is not None:
                line += f" {fmt(a.max_step)}"
            return line + (" uic" if a.uic else "")
        if isinstance(a, Noise):
            out = self.v_of(a.output) if a.reference == "0" else \
                self.v_of(f"{a.output}, {a.reference}")
            return (f".noise {out} {a.source} {a.variation} {a.points} "
                    f"{fmt(a.fstart)} {fmt(a.fstop)}")
        raise NetlistError(f"unknown analysis {a!r}")


    def measure(self, m: Measure) -> str:
        """A ``.meas`` card in the ngspice/SPICE3 syntax (Xyce reads the same)."""
        def event(ev: MeasureEvent) -> str:
            if ev.at is not None:
                return f"at={fmt(ev.at)}"
            text = f"{ev.vector} val={fmt(ev.value)}"
            if ev.delay:
                text += f" td={fmt(ev.delay)}"
            return text + f" {ev.edge}={ev.number}"
        line = f".meas {m.analysis} {m.name}"
        if m.function == "trig_targ":
            return f"{line} trig {event(m.trig)} targ {event(m.targ)}"
        if m.function == "find_when":
            w = m.when
            return (f"{line} find {m.vector} when {w.vector}={fmt(w.value)}"
                    + (f" td={fmt(w.delay)}" if w.delay else "") + f" {w.edge}={w.number}")
        if m.function == "find_at":
            return f"{line} find {m.vector} at={fmt(m.at)}"
        if m.function == "when":
            w = m.when
            return (f"{line} when {w.vector}={fmt(w.value)}"
                    + (f" td={fmt(w.delay)}" if w.delay else "") + f" {w.edge}={w.number}")
        line += f" {m.function} {m.vector}"
        if m.start is not None:
            line += f" from={fmt(m.start)}"
        if m.stop is not None:
            line += f" to={fmt(m.stop)}"
        return line


# KLU's symbolic analysis costs more than ngspice's own sparse solver saves on a small matrix,
# and ngspice's Markowitz reordering grows much faster than linearly on a large mesh (an OP
# of a 64x64 crossbar with wire resistance: 22 s -> 2.4 s; of the 34 000-element envelope
# netlist: 134 s -> 2 s); on a transient of a chain-like circuit (a 1000-section RC ladder)
# KLU is ~40 % slower. bench/bench_solver.py measures where each wins.
KLU_MIN_ELEMENTS = 2000
KLU_MIN_ELEMENTS_TRAN = 10000


def element_count(circuit: Circuit) -> int:
    """The number of elements of ``circuit`` once every subcircuit instance is expanded."""
    sizes: dict[str, int] = {}

    def size(box) -> int:
        n = 0
        for e in box.elements.values():
            if isinstance(e, SubcircuitInstance) and e.subckt.lower() in circuit.subcircuits:
                key = e.subckt.lower()
                if key not in sizes:
                    sizes[key] = 0          # a (refused elsewhere) recursion counts as empty
                    sizes[key] = size(circuit.subcircuits[key])
                n += sizes[key]
            else:
                n += 1
        return n

    return size(circuit)


def ngspice_solver(circuit: Circuit) -> str | None:
    """The ``.options`` word choosing ngspice's linear solver: the circuit's ``solver``
    option when it is 'klu' or 'sparse'; with 'auto' (the default) 'klu' for a circuit of
    at least :data:`KLU_MIN_ELEMENTS` expanded elements (:data:`KLU_MIN_ELEMENTS_TRAN` when
    it has a transient analysis), else None (ngspice's default sparse solver, no line)."""
    choice = circuit.options.get("solver", "auto")
    if choice != "auto":
        return choice
    tran = any(isinstance(a, Tran) for a in circuit.analyses)
    least = KLU_MIN_ELEMENTS_TRAN if tran else KLU_MIN_ELEMENTS
    return "klu" if element_count(circuit) >= least else None


# ngspice's dc sweep (dctrcurv.c) adds the step to the swept value until it passes the stop
# by more than DBL_EPSILON * 1e3 (absolute)
DC_STOP_SLACK = 2.220446049250313e-16 * 1e3


@lru_cache(maxsize=256)
def dc_points(start: float, stop: float, step: float) -> int:
    """The number of points ngspice's dc sweep visits from ``start`` by ``step`` to ``stop``:
    it adds ``step`` to the value, rounding as it goes, while the value has not passed
    ``stop`` by more than :data:`DC_STOP_SLACK` (0 to 0.3 by 0.1: 4 points, though
    0.3 / 0.1 < 3). A sweep of more than MAX_SWEEP_POINTS points (a step under the slack
    that runs on past ``stop``, or under the resolution of the value, which never moves) is
    a NetlistError. Counted once per sweep (remembered): ``Circuit.dc`` counts it to refuse
    a sweep that never ends, the VACASK writer to give VACASK the count (a million points
    take 0.1 s to count)."""
    sign = 1.0 if step > 0 else -1.0
    count, value = 0, start
    while sign * (value - stop) <= DC_STOP_SLACK:
        count += 1
        if count > MAX_SWEEP_POINTS:
            raise NetlistError(f"dc sweep from {fmt(start)} to {fmt(stop)} by {fmt(step)}: "
                               f"ngspice would sweep more than {MAX_SWEEP_POINTS} points (a "
                               "step this small runs past stop, or does not move the value)")
        value += step
    return count


def sweep_frequencies(kind: str, variation: str, points: int, fstart: float, fstop: float,
                      reltol: float = 1e-3) -> list[float]:
    """The frequencies ngspice 46 visits in a ``dec`` or ``oct`` sweep of an ``ac`` or
    ``noise`` analysis: it multiplies the frequency by a ratio while it stays below
    ``fstop`` by more than ``ratio * fstop * reltol``. The ratio is ``10**(1/points)``
    (``2**(1/points)`` for oct), except in an ac sweep of a decade or more, where ngspice 46
    takes ``floor(decades * points)`` equal steps from ``fstart`` to ``fstop`` (``.ac dec
    10 1k 50k``: 17 points, the last 50k; the same in a noise analysis: 17 points, the last
    39.8k). Measured on ngspice 46 (tests/test_foreign_decks.py)."""
    ratio = fstop / fstart
    per = {"dec": 10.0, "oct": 2.0}[variation]
    delta = math.exp(math.log(per) / points)
    if kind == "ac" and variation == "dec":
        steps = math.floor(abs(math.log10(ratio)) * points)
        if steps >= points:
            delta = math.exp(math.log(ratio) / steps)
    out, f, limit = [], fstart, fstop + delta * fstop * reltol
    while f <= limit and len(out) <= MAX_SWEEP_POINTS:
        out.append(f)
        f *= delta
    return out


def saved_vectors(circuit: Circuit) -> list[str]:
    """The vectors a run of ``circuit`` keeps: none named (every vector) unless it names
    some with ``Circuit.save``; then those and its measurements' (a measurement of
    ``vdb(out)`` keeps ``v(out)``, of ``v(a,b)`` both nodes)."""
    keep = list(getattr(circuit, "saves", ()))
    if not keep:
        return []
    for m in circuit.measures:
        for ev in (m, m.trig, m.targ, m.when):
            vec = getattr(ev, "vector", None)
            if vec:         # a TRIG/TARG AT= event has none
                kind, _, names = vec[:-1].partition("(")
                keep += [f"{kind[0]}({name})" for name in names.split(",")]
    return list(dict.fromkeys(keep))


class NgspiceWriter(SpiceWriter):
    """ngspice: OSDI models loaded by ``pre_osdi`` in a ``.control`` section; the linear
    solver chosen by :func:`ngspice_solver`."""

    def options(self) -> list[str]:
        out = super().options()
        solver = ngspice_solver(self.c)
        return out + [f".options {solver}"] if solver else out

    def saves(self) -> list[str]:
        """``.save`` cards of the circuit's saved vectors and its measurements' (a
        measurement of ``vdb(out)`` keeps ``v(out)``), 16 a card; none when it names none.
        ngspice names an element inside an instance by its type letter first:
        ``i(x1.vx)`` is ``i(v.x1.vx)``; a resistor's current is its ``@r1[i]``
        (``@r.x1.r1[i]``)."""
        keep = []
        for v in saved_vectors(self.c):
            path = v[2:-1]
            full = f"{path.rpartition('.')[2][0]}.{path}" if "." in path else path
            if v[0] == "i" and isinstance(_saved_path(self.c, path)[-1], Resistor):
                keep.append(f"@{full}[i]")
            else:
                keep.append(f"i({full})" if v[0] == "i" else v)
        return [".save " + " ".join(keep[k:k + 16]) for k in range(0, len(keep), 16)]

    def control(self) -> list[str]:
        vas = [m for m in self.c.models.values() if isinstance(m, VerilogAModel)]
        if not vas:
            return []
        lines = [".control", f"set num_threads={self.c.options.get('threads', 1)}"]
        for m in dict.fromkeys(m.source for m in vas):
            path = check_path_string(str(self.osdi.get(m, m.with_suffix(".osdi"))),
                                     what="OSDI file")
            if any(c.isspace() for c in path):  # pre_osdi takes one unquoted word
                raise NetlistError(f"OSDI file {path!r} holds whitespace: ngspice's pre_osdi "
                                   "would split it")
            lines.append(f"pre_osdi {path}")
        return lines + [".endc"]


class XyceWriter(SpiceWriter):
    """Xyce: one analysis per netlist, ``PARAMS:``, options in packages, no OSDI."""

    dialect = "xyce"
    expr_dialect = "xyce"
    # option -> Xyce .OPTIONS package
    PACKAGES = {"temp": "DEVICE", "tnom": "DEVICE", "gmin": "DEVICE", "reltol": "TIMEINT",
                "abstol": "TIMEINT", "method": "TIMEINT", "maxord": "TIMEINT"}

    def render(self) -> str:
        if len(self.c.analyses) > 1:
            raise NetlistError("Xyce runs one analysis per netlist: split the circuit "
                               f"(it has {', '.join(a.name for a in self.c.analyses)})")
        return super().render()

    def title(self) -> str:
        return f"* {self.c.title}"

    def v_of(self, node):
        return f"V({node})"

    def va_model(self, m: VerilogAModel) -> str:
        raise UnsupportedPoint("Verilog-A (OSDI) models cannot run in Xyce: use the model's "
                               "behavioral-subcircuit rendering", element=m.name)

    def va_instance(self, e, n) -> str:
        raise UnsupportedPoint("Verilog-A (OSDI) instances cannot run in Xyce",
                               element=e.name)

    def subckt_params(self, params) -> str:
        return "PARAMS: " + self.params(params)

    def instance_params(self, params) -> str:
        return (" PARAMS: " + self.params(params)) if params else ""

    def bsource(self, e: BehavioralSource, n: str) -> str:
        return f"{e.name} {n} {e.kind.upper()}={{{e.expression.render('xyce')}}}"

    def options(self) -> list[str]:
        groups: dict[str, list[str]] = {}
        notes = []
        for k, v in self.c.options.items():
            if k in ("threads", "solver", "breakpoint_fraction"):
                continue
            if k == "vntol":
                notes.append("* option vntol has no Xyce equivalent and is not written")
                continue
            value = {"trap": "trap", "gear": "gear"}.get(v, v) if isinstance(v, str) else fmt(v)
            groups.setdefault(self.PACKAGES[k], []).append(f"{k.upper()}={value}")
        return notes + [f".options {pkg} {' '.join(items)}" for pkg, items in groups.items()]


# --------------------------------------------------------------------------- VACASK

_BUILTIN_OSDI = {Resistor: ("resistor", "resistor.osdi", "r"),
                 Capacitor: ("capacitor", "capacitor.osdi", "c"),
                 Inductor: ("inductor", "inductor.osdi", "l")}
_BUILTIN_MODELS = {VoltageSource: "vsource", CurrentSource: "isource", VCVS: "vcvs",
                   VCCS: "vccs", CCCS: "cccs", CCVS: "ccvs", MutualInductance: "mutual"}
_VACASK_OPTIONS = {"temp": "temp", "tnom": "tnom", "reltol": "reltol", "abstol": "abstol",
                   "vntol": "vntol", "gmin": "gmin", "maxord": "tran_maxord",
                   "method": "tran_method",
                   "breakpoint_fraction": "tran_fbr"}


_SPICE_OSDI = {"sp_diode": "spice/diode.osdi", "sp_bjt": "spice/bjt.osdi",
               "sp_mos1": "spice/mos1.osdi", "sp_mos2": "spice/mos2.osdi",
               "sp_mos3": "spice/mos3.osdi"}


def _vacask_spice_model(m: Model) -> tuple[str, dict]:
    """The VACASK module (its SPICE3 devices shipped as OSDI) and the parameters (lower-case,
    as VACASK knows them) for the SPICE model card ``m``: a diode, a Gummel-Poon bipolar
    transistor (``npn``/``pnp``, level 1) or a MOSFET of level 1, 2 or 3 (``nmos``/``pmos``).
    Anything else is a NetlistError naming the model and the construct."""
    params = {k.lower(): v for k, v in m.params.items()}
    if m.kind == "d":
        return "sp_diode", params
    level = params.pop("level", 1)
    kinds = {"npn": ("sp_bjt", 1), "pnp": ("sp_bjt", -1), "nmos": ("sp_mos", 1),
             "pmos": ("sp_mos", -1)}
    if m.kind not in kinds:
        raise NetlistError(f"VACASK has no built-in SPICE model of type {m.kind!r}",
                           element=m.name)
    module, polarity = kinds[m.kind]
    if isinstance(level, Expression) or level not in ((1,) if module == "sp_bjt" else (1, 2, 3)):
        what = "bipolar transistor" if module == "sp_bjt" else "MOSFET"
        shown = level if isinstance(level, Expression) else f"{level:g}"
        raise NetlistError(f"a {what} model of level {shown} cannot be translated for VACASK "
                           "(it ships the SPICE3 levels: Gummel-Poon 1, MOSFET 1-3)",
                           element=m.name)
    if module == "sp_mos":
        module += str(int(level))
    return module, {"type": polarity, **params}


class BehavioralWrapper:
    """The Verilog-A module, generated as text, that renders one behavioral source for VACASK.

    ``module`` is named after a hash of the text, so equal sources share one module and one
    compiled file; ``filename`` is ``<module>.va``; ``connections`` are the circuit nodes in
    port order; ``param_names`` the circuit parameters passed as instance parameters."""

    def __init__(self, e: BehavioralSource):
        ports = list(dict.fromkeys([n for n in e.nodes] + list(e.expression.nodes)))
        self.connections = ports  # circuit nodes, in port order
        names = list(e.expression.names)
        prefix = "t"
        while any(n.startswith(prefix) for n in names):  # port names must not be parameters
            prefix = "_" + prefix
        alias = {node: f"{prefix}{k}" for k, node in enumerate(ports)}
        body = e.expression.render("verilog-a", node_alias=alias)
        p, n = (alias[x] for x in e.nodes)
        port_list = ", ".join(alias[x] for x in ports)
        decl = "\n".join(f'  (* type="instance" *) parameter real {name} = 0.0;' for name in names)
        kind = "I" if e.kind == "i" else "V"
        text = (f"// generated by neurospice for a behavioral {kind} source\n"
                '`include "disciplines.vams"\n'
                f"module MODULE({port_list});\n"
                f"  inout {port_list};\n"
                f"  electrical {port_list};\n"
                + (decl + "\n" if decl else "")
                + f"  analog {kind}({p}, {n}) <+ {body};\n"
                "endmodule\n")
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        self.module = f"ns_b_{digest}"
        self.text = text.replace("MODULE", self.module)
        self.param_names = names
        self.filename = f"{self.module}.va"


def _bsource_wrappers(circuit: Circuit) -> dict[int, BehavioralWrapper]:
    boxes = [circuit, *circuit.subcircuits.values()]
    return {id(e): BehavioralWrapper(e) for box in boxes for e in box.elements.values()
            if isinstance(e, BehavioralSource)}


class VacaskWriter:
    """VACASK: built-in OSDI devices, behavioral sources as generated Verilog-A modules."""

    def __init__(self, circuit: Circuit, osdi: Mapping):
        self.c = circuit
        self.wrappers = _bsource_wrappers(circuit)
        generated = {w.filename for w in self.wrappers.values()}
        # a generated wrapper is known by its file name, a model's source by its path
        self.osdi = {(k if isinstance(k, str) and k in generated else Path(k).resolve()):
                     Path(v) for k, v in osdi.items()}

    def files(self) -> dict[str, str]:
        """The generated Verilog-A wrappers of behavioral sources, file name -> text (the
        netlist loads each by its name, or by its compiled file where ``osdi`` names one)."""
        return {w.filename: w.text for w in self.wrappers.values()}

    @staticmethod
    def val(v) -> str:
        return "(" + v.render("verilog-a") + ")" if isinstance(v, Expression) else fmt(v)

    def params(self, params: dict) -> str:
        return " ".join(f"{k}={self.val(v)}" for k, v in params.items())

    def load(self, source: Path | str) -> str:
        path = check_path_string(str(self.osdi.get(source, source)), what="OSDI file")
        return f'load "{path}"'

    def render(self) -> str:
        c = self.c
        boxes = [c, *c.subcircuits.values()]
        used = {type(e) for box in boxes for e in box.elements.values()}
        out = [c.title, ""]
        for cls, (model, osdi_file, _) in _BUILTIN_OSDI.items():
            if cls in used:
                out.append(f'load "{osdi_file}"')
        for osdi_file in dict.fromkeys(_SPICE_OSDI[_vacask_spice_model(m)[0]]
                                       for m in c.models.values() if isinstance(m, Model)):
            out.append(f'load "{osdi_file}"')
        for src in dict.fromkeys(m.source for m in c.models.values()
                                 if isinstance(m, VerilogAModel)):
            out.append(self.load(src))
        for w in {w.module: w for w in self.wrappers.values()}.values():
            out.append(self.load(w.filename))
        for path in c.includes:
            out.append(f'include "{path}"')
        out.append("")
        for cls, (model, _, _) in _BUILTIN_OSDI.items():
            if cls in used:
                out.append(f"model {model} {model}")
        for cls, model in _BUILTIN_MODELS.items():
            if cls in used:
                out.append(f"model {model} {model}")
        for m in c.models.values():
            out.append(self.model(m))
        for w in {w.module: w for w in self.wrappers.values()}.values():
            out.append(f"model {w.module} {w.module}")
        if c.params:
            out.append("parameters " + self.params(c.params))
        out.append("")
        for sub in c.subcircuits.values():
            out.append(f"subckt {sub.name}({' '.join(sub.ports)})")
            if sub.params:
                out.append("  parameters " + self.params(sub.params))
            out += ["  " + line for line in self.body(sub)]
            out += ["ends", ""]
        out += self.body(c)
        out += ["", "control"]
        opts = {k: v for k, v in c.options.items() if k not in ("threads", "solver")}
        if opts:
            out.append("  options " + " ".join(
                f"{_VACASK_OPTIONS[k]}=" + (f'"{ {"trap": "trap", "gear": "gear2"}[v]}"'
                                            if isinstance(v, str) else fmt(v))
                for k, v in opts.items()))
        out += ["  " + line for line in self.saves()]
        out += ["  " + line for a in c.analyses for line in self.analysis(a)]
        out.append("endc")
        return join_lines(out)

    def saves(self) -> list[str]:
        """``save`` commands of :func:`saved_vectors`, 16 a line, in VACASK's names
        (instances as declared, ``:`` between hierarchy levels, quoted); none when it names
        none."""
        keep = []
        for vec in saved_vectors(self.c):
            parts = vec[2:-1].split(".")
            found = _saved_path(self.c, vec[2:-1])
            named = len(parts) if vec[0] == "i" else len(parts) - 1
            parts[:named] = [e.name if e is not None else p
                             for e, p in zip(found[:named], parts)]
            name = parts[0] if len(parts) == 1 else f'"{":".join(parts)}"'
            # a resistor's current is its operating value i (VACASK writes r1.i)
            keep.append(f"p({name}, i)" if vec[0] == "i" and isinstance(found[-1], Resistor)
                        else f"{vec[0]}({name})")
        return ["save " + " ".join(keep[k:k + 16]) for k in range(0, len(keep), 16)]

    def model(self, m) -> str:
        if isinstance(m, VerilogAModel):
            return f"model {m.name} {m.module}" + (f" {self.params(m.params)}" if m.params else "")
        module, params = _vacask_spice_model(m)
        return f"model {m.name} {module}" + (f" {self.params(params)}" if params else "")

    def body(self, box) -> list[str]:
        return [line for e in box.elements.values() for line in self.element(e, box)]

    def element(self, e, box) -> list[str]:
        n = f"({' '.join(e.nodes)})"
        if type(e) in _BUILTIN_OSDI:
            model, _, pname = _BUILTIN_OSDI[type(e)]
            return [f"{e.name} {n} {model} {pname}={self.val(e.value)}"]
        if isinstance(e, (VoltageSource, CurrentSource)):
            return [self.source(e, n)]
        if isinstance(e, (VCVS, VCCS)):
            return [f"{e.name} {n} {_BUILTIN_MODELS[type(e)]} gain={self.val(e.gain)}"]
        if isinstance(e, (CCCS, CCVS)):
            ctl = _require_vsource(box, e.vsource, e.name)  # as declared: VACASK is case-sensitive
            return [f'{e.name} {n} {_BUILTIN_MODELS[type(e)]} ctlinst="{ctl}" '
                    f"gain={self.val(e.gain)}"]
        if isinstance(e, BehavioralSource):
            w = self.wrappers[id(e)]
            line = f"{e.name} ({' '.join(w.connections)}) {w.module}"
            if w.param_names:
                line += " " + " ".join(f"{p}={p}" for p in w.param_names)
            return [line]
        if isinstance(e, MutualInductance):
            return [f'{e.name} () mutual ind1="{_require_inductor(box, e.l1, e.name)}" '
                    f'ind2="{_require_inductor(box, e.l2, e.name)}" k={self.val(e.k)}']
        if isinstance(e, (Diode, Mosfet, Bjt)):
            # the model as declared: SPICE names match in any case, VACASK's in one
            model = self.c.models[e.model.lower()].name
            # SPICE instance parameters: lower-case in VACASK; the multiplier m is VACASK's
            # $mfactor (the OSDI models have no m)
            params = {("$mfactor" if k.lower() == "m" else k.lower()): v
                      for k, v in getattr(e, "params", {}).items()}
            return [f"{e.name} {n} {model}" + (f" {self.params(params)}" if params else "")]
        if isinstance(e, (SubcircuitInstance, VerilogAInstance)):
            target = e.subckt if isinstance(e, SubcircuitInstance) else e.model
            return [f"{e.name} {n} {target}" + (f" {self.params(e.params)}" if e.params else "")]
        raise NetlistError(f"cannot write {type(e).__name__} for VACASK", element=e.name)

    def source(self, e, n) -> str:
        line = f"{e.name} {n} {_BUILTIN_MODELS[type(e)]} dc={self.val(e.dc)}"
        if e.ac is not None:
            line += f" mag={fmt(e.ac)} phase={fmt(e.ac_phase_deg)}"
        w = e.waveform
        if isinstance(w, Pulse):
            line += (f' type="pulse" val0={fmt(w.v1)} val1={fmt(w.v2)} delay={fmt(w.delay)} '
                     f"rise={fmt(w.rise)} fall={fmt(w.fall)} width={fmt(w.width)}")
            if w.period is not None:
                line += f" period={fmt(w.period)}"
        elif isinstance(w, Sine):
            if w.phase_deg != 0:
                raise NetlistError("VACASK's sine source has no phase: use phase_deg=0 (shift "
                                   "the waveform with delay) or a PWL waveform", element=e.name)
            line += (f' type="sine" sinedc={fmt(w.offset)} ampl={fmt(w.amplitude)} '
                     f"freq={fmt(w.freq_hz)} delay={fmt(w.delay)} theta={fmt(w.damping)}")
        elif isinstance(w, Exp):        # VACASK's td2 counts from the first delay
            line += (f' type="exp" val0={fmt(w.v1)} val1={fmt(w.v2)} delay={fmt(w.delay1)} '
                     f"tau1={fmt(w.tau1)} td2={fmt(w.delay2 - w.delay1)} tau2={fmt(w.tau2)}")
        elif isinstance(w, Pwl):
            pts = ", ".join(f"{fmt(t)}, {fmt(v)}" for t, v in zip(w.times, w.values))
            line += f' type="pwl" wave=[{pts}]'
        return line

    def analysis(self, a) -> list[str]:
        def sweep(x, kind):
            # ngspice's "lin N" is N points in all; VACASK's lin points are intervals
            if x.variation == "lin":
                return (f'from={fmt(x.fstart)} to={fmt(x.fstop)} mode="lin" '
                        f"points={max(x.points - 1, 1)}")
            # dec/oct: VACASK steps evenly to fstop; ngspice's frequencies end below it
            # unless the sweep holds whole steps (sweep_frequencies): then they are listed
            freqs = sweep_frequencies(kind, x.variation, x.points, x.fstart, x.fstop,
                                      float(self.c.options.get("reltol", 1e-3)))
            span = x.points * math.log(x.fstop / x.fstart, 10 if x.variation == "dec" else 2)
            if abs(span - (len(freqs) - 1)) < 1e-9 and abs(freqs[-1] / x.fstop - 1) < 1e-9:
                return (f'from={fmt(x.fstart)} to={fmt(x.fstop)} mode="{x.variation}" '
                        f"points={x.points}")
            return "values=[" + ", ".join(fmt(f) for f in freqs) + "]"
        if isinstance(a, Op):
            return [f"analysis {a.name} op"]
        if isinstance(a, Dc):
            # ngspice's count (dc_points), to the last point ngspice sweeps: VACASK's own
            # step rule counts floor((to - from) / step), one fewer when it rounds down
            n = dc_points(a.start, a.stop, a.step) - 1
            return [f'sweep {a.name}_sweep instance="{a.source}" parameter="dc" '
                    f'from={fmt(a.start)} to={fmt(a.start + n * a.step)} mode="lin" '
                    f"points={n}", f"  analysis {a.name} op"]
        if isinstance(a, Ac):
            return [f"analysis {a.name} ac {sweep(a, 'ac')}"]
        if isinstance(a, Tran):
            line = f"analysis {a.name} tran step={fmt(a.step)} stop={fmt(a.stop)}"
            if a.start:
                line += f" start={fmt(a.start)}"
            if a.max_step is not None:
                line += f" maxstep={fmt(a.max_step)}"
            ics = self.c.initial_conditions
            if a.uic:
                line += ' icmode="uic"'
            elif ics:
                line += ' icmode="op"'
            if ics:
                line += " ic={" + ", ".join(f'"{k}", {fmt(v)}' for k, v in ics.items()) + "}"
            return [line]
        if isinstance(a, Noise):
            out = f'"{a.output}"' if a.reference == "0" else f'["{a.output}", "{a.reference}"]'
            return [f'analysis {a.name} noise out={out} in="{a.source}" {sweep(a, "noise")}']
        raise NetlistError(f"unknown analysis {a!r}")
