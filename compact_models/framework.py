"""The compact-model framework: a device is defined once and rendered four ways.

A :class:`Device` holds terminals, internal states (unit, scale, initial value), a parameter
table (:class:`Parameter`: SI unit, default, bounds, description, source), local
definitions, branch currents and state equations ``dx/dt = f(x, v, p)``, all written in the
expression language of :mod:`neurospice.netlists.expr` (Python syntax, ``v(p, n)`` for
terminal voltages). From that one definition it renders:

1. **Verilog-A** (:meth:`Device.verilog_a`) for openvaf-r, run by ngspice (OSDI) and VACASK;
2. a **behavioral subcircuit** (:meth:`Device.subcircuit`) for ngspice and Xyce;
3. a **numpy reference** (:meth:`Device.numpy`), vectorised, with a stiff-capable integrator.

The Verilog-A and the subcircuit take ``defaults``: parameter values (a fitted card) written
as the rendered defaults in place of the table's, checked against the table first.

Device facts that circuits need beyond the equations live on the definition too: the
``state_parameter`` that programs a memory device's state, its ``state_range`` (a function
of the full parameter set giving the state values of the lowest and the highest read
conductance, the range a crossbar's programming maps weights onto), and the
``default_spread`` of its device-to-device variability (``{parameter: ("normal", relative sigma)}`` or
``("lognormal", sigma of the log)``, as :func:`~neurospice.compact_models.randomness.draw_params`
takes it).

How a state lives in a simulator (the same in every rendering): a state ``x`` is the voltage
of an internal node ``s_x`` times its ``scale`` (choose the scale so the node sits near 1 V,
where the simulators' tolerances are meant to work). The node carries a capacitor ``C`` and a
current ``-C f/scale``, so ``dV/dt = f/scale`` (the Verilog-A writes ``ddt(V)``, C = 1 F; the
behavioral subcircuit uses :data:`STATE_CAPACITANCE`, 1 nF, so that the current a slow state
leaves unbalanced, about ``eps * C / step``, stays under the simulators' absolute current
tolerance: with 1 F a retention-limited MTJ (delta = 40) stalled VACASK's first time step).
In DC analyses (the operating point, DC sweeps, the operating point before a transient; the
Verilog-A recognises them by ``$abstime <= 0``) the node is held at the state's initial
value instead: a memory device's DC state is its programmed state, and the transient starts
from it. This uses no hidden state, no events and no ``idt``. The
behavioral subcircuit cannot trust ``time`` for this (during a ``.dc`` sweep ngspice sets it
to the previous sweep value): it tells DC from transient by the voltage of an internal node
``dc_det``, an inductor driven by a current equal to ``time`` (``L d(time)/dt``: 1 V in a
transient, 0 in every DC analysis), so its DC semantics are the Verilog-A card's everywhere.
Its exponentials are limited (:data:`EXP_LIMIT`) against overflow at far-off Newton
iterates.

A local definition is ``(name, expression)``, or ``(name, expression, scale)`` to give it an
internal node in the behavioral subcircuit (value = scale * V): the subcircuit has no local
variables, so each use of a plain local repeats its text, and ngspice differentiates every
copy at every iteration; a node keeps the expressions short (Verilog-A and numpy ignore it).
Choose the scale near the local's typical magnitude (the node's tolerance is vntol * scale).

Noise inputs are extra terminals whose voltage (against ground) the equations read as a
dimensionless noise sample; they draw no current. A netlist builder drives them with a PWL
source made from seeded numpy samples, so every rendering sees the same realisation.
"""

from __future__ import annotations

import ast
import keyword
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping, Sequence

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists.expr import Expression
from neurospice.netlists.values import check_name, fmt

_VA_KEYWORDS = frozenset("""analog begin end module endmodule input output inout electrical
parameter real integer string from exclude inf if else for while case default branch ground
localparam genvar function endfunction ddt idt abs exp ln log sqrt pow min max sin cos tan
tanh sinh cosh atan""".split())
# F: the state node's capacitor in the behavioral subcircuit (see the module docstring)
STATE_CAPACITANCE = 1e-9
#: the behavioral subcircuit's exp(x) continues linearly above this argument (Verilog-A's
#: limexp): exp(min(x, L)) * (1 + max(x - L, 0)). e^80 ~ 5.5e34; no device's physics needs
#: more (their exponents stay below ~40), while a Newton iterate far off the solution (a
#: membrane voltage of kV during a failed step) made exp() overflow products in ngspice's
#: B-sources and every retry from that iterate failed ("timestep too small").
EXP_LIMIT = 80.0
#: the behavioral subcircuit's analysis detector: the voltage of node ``dc_det`` (an inductor
#: of this many henry to ground, driven by a current equal to ``time``) is 1 V in a
#: transient and 0 in every DC analysis (.op, .dc, a transient's operating point), whatever
#: the simulator sets ``time`` to there
DC_DETECT_INDUCTANCE = 1.0
DC_DETECT_NODE = "dc_det"
_RESERVED = _VA_KEYWORDS | {"np", "P", "V", "X", "time", "I", "R", "v", "i"} | set(keyword.kwlist)


@dataclass(frozen=True)
class Parameter:
    """One row of a device's parameter table (SI units, bounds, description, source)."""

    name: str
    unit: str
    default: float
    lower: float = -math.inf
    upper: float = math.inf
    description: str = ""
    source: str = ""
    lower_open: bool = False
    upper_open: bool = False

    def __post_init__(self):
        check_name(self.name, what="parameter name")
        if self.name in _RESERVED:
            raise NetlistError(f"parameter name {self.name!r} is reserved")
        if not self.lower <= self.upper:
            raise NetlistError(f"parameter {self.name}: lower bound above upper bound")
        self.check(self.default)

    @property
    def interval(self) -> str:
        lo = "(" if self.lower_open or math.isinf(self.lower) else "["
        hi = ")" if self.upper_open or math.isinf(self.upper) else "]"
        return f"{lo}{_num(self.lower)}, {_num(self.upper)}{hi}"

    def contains(self, value: float) -> bool:
        above = value > self.lower if self.lower_open else value >= self.lower
        below = value < self.upper if self.upper_open else value <= self.upper
        return bool(above and below and math.isfinite(value))

    def contains_all(self, values: np.ndarray) -> np.ndarray:
        """:meth:`contains` over an array of values at once (a boolean array)."""
        with np.errstate(invalid="ignore"):
            above = values > self.lower if self.lower_open else values >= self.lower
            below = values < self.upper if self.upper_open else values <= self.upper
        return above & below & np.isfinite(values)

    def check(self, value) -> float:
        """``value`` as a float if it lies within the bounds, else a NetlistError naming it
        (a bool is no number: JSON's ``true`` would have been 1.0)."""
        if isinstance(value, (bool, np.bool_)):
            raise NetlistError(f"parameter {self.name} must be a number, got {value!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise NetlistError(f"parameter {self.name} must be a number, got {value!r}") from None
        if not self.contains(value):
            raise NetlistError(f"parameter {self.name}={value!r} is outside {self.interval} "
                               f"({self.unit or 'unitless'})")
        return value

    def va_range(self) -> str:
        if math.isinf(self.lower) and math.isinf(self.upper):
            return ""
        lo = "(" if self.lower_open or math.isinf(self.lower) else "["
        hi = ")" if self.upper_open or math.isinf(self.upper) else "]"
        low = "-inf" if math.isinf(self.lower) else fmt(self.lower)
        high = "inf" if math.isinf(self.upper) else fmt(self.upper)
        return f" from {lo}{low}:{high}{hi}"


def _expression(text) -> Expression:
    """A definition's entry (text or number) as an :class:`Expression`."""
    return Expression(fmt(text)) if isinstance(text, (int, float)) else Expression(text)


class _LimitExp(ast.NodeTransformer):
    """Rewrites every ``exp(x)`` as ``exp(min(x, L))*(1 + max(x - L, 0))``, L = EXP_LIMIT."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "exp" and len(node.args) == 1:
            x, lim = node.args[0], ast.Constant(EXP_LIMIT)
            capped = ast.Call(ast.Name("exp", ast.Load()),
                              [ast.Call(ast.Name("min", ast.Load()), [x, lim], [])], [])
            over = ast.Call(ast.Name("max", ast.Load()),
                            [ast.BinOp(x, ast.Sub(), lim), ast.Constant(0.0)], [])
            return ast.BinOp(capped, ast.Mult(), ast.BinOp(ast.Constant(1.0), ast.Add(), over))
        return node


def _limited(text) -> Expression:
    """A definition's entry as an :class:`Expression` whose exponentials are limited (see
    :data:`EXP_LIMIT`); the behavioral subcircuit renders these."""
    expr = _expression(text)
    tree = _LimitExp().visit(ast.parse(str(expr), mode="eval"))
    return Expression(ast.unparse(tree))


def _num(x: float) -> str:
    return ("-inf" if x < 0 else "inf") if math.isinf(x) else f"{x:g}"


@dataclass(frozen=True)
class State:
    """An internal state variable: SI unit, node scale, initial value (number or expression
    of parameters), description."""

    name: str
    unit: str
    scale: float = 1.0
    initial: float | str = 0.0
    description: str = ""

    def __post_init__(self):
        check_name(self.name, what="state name")
        if self.name in _RESERVED:
            raise NetlistError(f"state name {self.name!r} is reserved")
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise NetlistError(f"state {self.name}: scale must be a positive number")


@dataclass(frozen=True, eq=False)
class Device:
    """A compact model, defined once. See the module docstring for the conventions."""

    name: str
    description: str
    terminals: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    currents: tuple[tuple[str, str, str], ...]
    states: tuple[State, ...] = ()
    rates: Mapping[str, str] = field(default_factory=dict)
    locals: tuple[tuple[str, str], ...] = ()
    noise_inputs: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    state_parameter: str | None = None
    default_spread: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    state_range: Callable[[Mapping[str, float]], tuple[float, float]] | None = None

    def __post_init__(self):
        check_name(self.name, what="device name")
        for entry in self.locals:
            if len(entry) not in (2, 3) or (len(entry) == 3 and not entry[2] > 0):
                raise NetlistError(f"device {self.name}: a local is (name, expression) or "
                                   f"(name, expression, node scale > 0), got {entry!r}")
        names = [p.name for p in self.parameters] + [s.name for s in self.states] + \
                [entry[0] for entry in self.locals]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise NetlistError(f"device {self.name}: names defined twice: {sorted(dup)}")
        terms = list(self.terminals) + list(self.noise_inputs)
        for t in terms:
            check_name(t, what="terminal name")
        if len(set(terms)) != len(terms):
            raise NetlistError(f"device {self.name}: duplicate terminal")
        if set(self.rates) != {s.name for s in self.states}:
            raise NetlistError(f"device {self.name}: give one rate per state "
                               f"(states {[s.name for s in self.states]}, rates {list(self.rates)})")
        known = {p.name for p in self.parameters}
        for s in self.states:
            self._checked(s.initial, known, f"initial value of {s.name}", voltages=False)
        known |= {s.name for s in self.states}
        for name, text, *_ in self.locals:
            check_name(name, what="local name")
            if name in _RESERVED:
                raise NetlistError(f"device {self.name}: local name {name!r} is reserved")
            self._checked(text, known, f"local {name}")
            known.add(name)
        for a, b, text in self.currents:
            if a not in self.terminals or b not in self.terminals:
                raise NetlistError(f"device {self.name}: current {a}->{b} between unknown terminals")
            self._checked(text, known, f"current {a}->{b}")
        for state, text in self.rates.items():
            self._checked(text, known, f"rate of {state}")
        params = {p.name for p in self.parameters}
        if self.state_parameter is not None and self.state_parameter not in params:
            raise NetlistError(f"device {self.name}: state_parameter {self.state_parameter!r} "
                               f"is not a parameter")
        if self.state_range is not None and (self.state_parameter is None
                                             or not callable(self.state_range)):
            raise NetlistError(f"device {self.name}: state_range must be a function of the "
                               "parameters, and needs a state_parameter")
        for name, spec in self.default_spread.items():
            if name not in params:
                raise NetlistError(f"device {self.name}: default_spread names unknown "
                                   f"parameter {name!r}")
            if not (isinstance(spec, tuple) and len(spec) == 2
                    and spec[0] in ("normal", "lognormal")
                    and isinstance(spec[1], (int, float)) and math.isfinite(spec[1])
                    and spec[1] >= 0):
                raise NetlistError(f"device {self.name}: default_spread of {name} must be "
                                   f"('normal' or 'lognormal', sigma >= 0), got {spec!r}")

    def _checked(self, text, known, what, voltages=True) -> Expression:
        if isinstance(text, (int, float)):
            return _expression(text)
        try:
            e = Expression(text)
        except NetlistError as exc:
            raise NetlistError(f"device {self.name}, {what}: {exc}") from None
        unknown = [n for n in e.names if n not in known]
        if unknown:
            raise NetlistError(f"device {self.name}, {what}: unknown name(s) {unknown}")
        terms = set(self.terminals) | set(self.noise_inputs)
        bad = [n for n in e.nodes if n not in terms]
        if bad or (e.nodes and not voltages):
            raise NetlistError(f"device {self.name}, {what}: v() of unknown terminal(s) {bad}")
        if e.currents:
            raise NetlistError(f"device {self.name}, {what}: i() is not allowed in a device")
        return e

    # ------------------------------------------------------------------ parameters
    @cached_property
    def parameter(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters}

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    def params(self, overrides: Mapping[str, float] | None = None, **kw) -> dict[str, float]:
        """The full parameter set: defaults updated by ``overrides``, each checked."""
        return {**self.defaults(), **self.checked({**(overrides or {}), **kw})}

    def checked(self, overrides: Mapping[str, float] | None) -> dict[str, float]:
        """``overrides`` alone, each name and value checked as in :meth:`params`."""
        values = {}
        for key, val in (overrides or {}).items():
            if key not in self.parameter:
                raise NetlistError(f"device {self.name} has no parameter {key!r} "
                                   f"(known: {', '.join(self.parameter)})")
            values[key] = self.parameter[key].check(val)
        return values

    def param_arrays(self, params: Mapping[str, object] | None, n: int) -> dict[str, object]:
        """The full parameter set for ``n`` instances evaluated at once: scalars as in
        :meth:`params`, per-instance values as arrays of shape ``(n,)``, every value checked
        against its bounds (a NetlistError names the parameter, the bound or the shape)."""
        params = params or {}
        values = self.params({k: v for k, v in params.items() if np.ndim(v) == 0})
        for key, val in params.items():
            if np.ndim(val) == 0:
                continue
            if key not in self.parameter:
                raise NetlistError(f"device {self.name} has no parameter {key!r}")
            arr = np.asarray(val, dtype=float)
            if arr.shape != (n,):
                raise NetlistError(f"parameter {key}: {arr.shape} values for {n} devices")
            bad = ~self.parameter[key].contains_all(arr)
            if bad.any():
                self.parameter[key].check(arr[bad][0])      # raises, naming the bound
            values[key] = arr
        return values

    def table(self) -> str:
        """The parameter table as aligned text."""
        rows = [("name", "unit", "default", "bounds", "description", "source")]
        rows += [(p.name, p.unit or "-", f"{p.default:g}", p.interval, p.description, p.source)
                 for p in self.parameters]
        widths = [max(len(r[k]) for r in rows) for k in range(5)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5]
                         for r in rows)

    @property
    def module(self) -> str:
        """The Verilog-A module and subcircuit name."""
        return f"ns_{self.name}"

    @property
    def ports(self) -> tuple[str, ...]:
        return tuple(self.terminals) + tuple(self.noise_inputs)

    # ------------------------------------------------------------------ expressions
    def _state_symbols(self, node_of: Callable[[str], str]) -> dict[str, str]:
        return {s.name: f"({fmt(s.scale)} * {node_of('s_' + s.name)})" for s in self.states}

    # ------------------------------------------------------------------ Verilog-A
    def verilog_a(self, defaults: Mapping[str, float] | None = None) -> str:
        """The Verilog-A module (OpenVAF-safe: states on internal nodes, no events), with
        ``defaults`` (checked by :meth:`params`) as the parameters' defaults."""
        values = self.params(defaults)
        ports = ", ".join(self.ports)
        lines = [
            f"// {self.module}: {self.description}",
            "// Generated by neurospice from its device definition: edit the definition, then",
            "// `make models`. Terminal currents flow from the first named terminal to the second.",
            "// ngspice: compile with openvaf-r, load with `pre_osdi` and `set num_threads=1` in",
            "// .control (ngspice's default thread pool runs an OSDI card about 24x slower).",
        ]
        lines += [f"// Reference: {r}" for r in self.references]
        lines += ['`include "disciplines.vams"', "", f"module {self.module}({ports});",
                  f"  inout {ports};", f"  electrical {ports};"]
        if self.states:
            lines.append("  electrical " + ", ".join(f"s_{s.name}" for s in self.states) + ";")
        for p in self.parameters:
            doc = f"  // [{p.unit or '-'}] {p.description}" + (f" ({p.source})" if p.source else "")
            lines.append(f'  (* type="instance" *) parameter real {p.name} = '
                         f"{fmt(values[p.name])}{p.va_range()};{doc}")
        if self.locals:
            lines.append("  real " + ", ".join(entry[0] for entry in self.locals) + ";")
        lines.append("")
        lines.append("  analog begin")
        sym = self._state_symbols(lambda node: f"V({node})")
        for name, text, *_ in self.locals:
            lines.append(f"    {name} = {_expression(text).render('verilog-a', symbols=sym)};")
        for a, b, text in self.currents:
            lines.append(f"    I({a}, {b}) <+ {_expression(text).render('verilog-a', symbols=sym)};")
        for s in self.states:
            node = f"s_{s.name}"
            x0 = _expression(s.initial).render("verilog-a")
            rate = _expression(self.rates[s.name]).render("verilog-a", symbols=sym)
            lines += [f"    // state {s.name} [{s.unit or '-'}] = {fmt(s.scale)} * V({node})"
                      + (f": {s.description}" if s.description else ""),
                      f"    I({node}) <+ ddt(V({node}));",
                      "    if ($abstime <= 0.0)",
                      f"      I({node}) <+ V({node}) - ({x0}) / {fmt(s.scale)};",
                      "    else",
                      f"      I({node}) <+ -({rate}) / {fmt(s.scale)};"]
        lines += ["  end", "endmodule", ""]
        return "\n".join(lines)

    # ------------------------------------------------------------------ subcircuit
    def subcircuit(self, defaults: Mapping[str, float] | None = None):
        """A :class:`~neurospice.netlists.Subcircuit` of B-sources and state capacitors, with
        ``defaults`` (checked by :meth:`params`) as the parameters' defaults."""
        from neurospice.netlists import Subcircuit

        sub = Subcircuit(self.module, list(self.ports), **self.params(defaults))
        sym = self._state_symbols(lambda node: f"v({node})")
        inlined: dict[str, str] = dict(sym)
        for name, text, *scale in self.locals:
            expr = _limited(text).render("ngspice", symbols=inlined)
            if scale:  # an internal node holds it: later expressions stay short
                node = f"l_{name}"
                sub.bsource(node, node, "0", v=f"({expr}) / {fmt(scale[0])}")
                inlined[name] = f"({fmt(scale[0])} * v({node}))"
            else:
                inlined[name] = "(" + expr + ")"
        # the expressions are re-parsed by the B-sources, which render them per dialect
        for k, (a, b, text) in enumerate(self.currents):
            sub.bsource(f"{a}_{b}", a, b, i=_limited(text).render("ngspice", symbols=inlined))
        if self.states:
            if DC_DETECT_NODE in self.ports:
                raise NetlistError(f"{self.module}: a port may not be named {DC_DETECT_NODE!r} "
                                   "(the subcircuit's analysis detector)")
            # v(dc_det) = L d(time)/dt: 1 V in a transient, 0 in every DC analysis
            sub.inductor(DC_DETECT_NODE, DC_DETECT_NODE, "0", DC_DETECT_INDUCTANCE)
            sub.bsource(DC_DETECT_NODE, "0", DC_DETECT_NODE, i="time")
        for s in self.states:
            node = f"s_{s.name}"
            x0 = _expression(s.initial).render("ngspice")
            rate = _limited(self.rates[s.name]).render("ngspice", symbols=inlined)
            sub.capacitor(node, node, "0", STATE_CAPACITANCE)
            sub.bsource(node, node, "0",
                        i=f"(v({node}) - ({x0}) / {fmt(s.scale)}) "
                          f"if v({DC_DETECT_NODE}) < {fmt(0.5 * DC_DETECT_INDUCTANCE)} "
                          f"else -{fmt(STATE_CAPACITANCE)} * ({rate}) / {fmt(s.scale)}")
        return sub

    def subcircuit_text(self, dialect: str = "ngspice",
                        defaults: Mapping[str, float] | None = None) -> str:
        """The subcircuit as a library file for ``dialect``, with a header; ``defaults`` as
        in :meth:`subcircuit`."""
        from neurospice.netlists.writers import render_subcircuit

        head = [f"* {self.module}: {self.description}",
                "* Generated by neurospice from its device definition: edit the definition, "
                "then `make models`.",
                f"* Ports: {' '.join(self.ports)}; states on internal nodes "
                + ", ".join(f"s_{s.name} ({s.name} = {fmt(s.scale)} * V)" for s in self.states)]
        if self.states:
            head += ["* DC semantics as the Verilog-A card's: .op, .dc and a transient's operating "
                     "point hold each",
                     f"* state at its initial value (node {DC_DETECT_NODE} is 0 V in DC analyses, "
                     "1 V in a transient)."]
        return "\n".join(head) + "\n" + render_subcircuit(self.subcircuit(defaults), dialect)

    # ------------------------------------------------------------------ circuits
    def add_to(self, circuit, name: str, nodes: Sequence[str], *, rendering: str = "osdi",
               params: Mapping[str, float] | None = None, va_path=None):
        """Place an instance in ``circuit``. ``nodes`` connect :attr:`ports` in order (tie
        noise inputs to ``0`` when unused). ``rendering``: ``"osdi"`` (the Verilog-A, compiled
        by openvaf-r; ngspice and VACASK) or ``"subckt"`` (the behavioral subcircuit; ngspice
        and Xyce, VACASK through generated wrappers). ``params`` are this instance's values
        (per-instance, so device-to-device variability is one dict per instance)."""
        from pathlib import Path

        given = self.checked(params)
        if len(nodes) != len(self.ports):
            raise NetlistError(f"{self.module} has ports {self.ports}, got {len(nodes)} nodes",
                               element=str(name))
        if rendering == "osdi":
            key = self.module.lower()
            if key not in circuit.models:
                path = Path(va_path) if va_path else self.committed_file("va")
                circuit.verilog_a_model(self.module, path, module=self.module)
            return circuit.va_instance(name, self.module, nodes, **given)
        if rendering == "subckt":
            if self.module.lower() not in circuit.subcircuits:
                circuit.subcircuit(self.subcircuit())
            return circuit.instance(name, self.module, nodes, **given)
        raise NetlistError(f"rendering must be 'osdi' or 'subckt', got {rendering!r}")

    def add_many_to(self, circuit, names: Sequence[str], nodes: Sequence[Sequence[str]], *,
                    rendering: str = "osdi", params: Sequence[Mapping[str, float]] | None = None):
        """Place many instances at once (a generated array): ``names[k]`` connecting
        ``nodes[k]`` with ``params[k]`` (None: defaults), as :meth:`add_to` each, the
        parameters checked per name over all instances at once (:meth:`Parameter.contains_all`)
        and, for ``"osdi"``, the instances added by ``Circuit.va_instances``."""
        from pathlib import Path

        params = [{} for _ in names] if params is None else list(params)
        if len(params) != len(names) or len(nodes) != len(names):
            raise NetlistError(f"{len(names)} names, {len(nodes)} node lists and "
                               f"{len(params)} parameter dicts: give one of each per instance")
        ports = len(self.ports)
        if any(len(ns) != ports for ns in nodes):
            k = next(k for k, ns in enumerate(nodes) if len(ns) != ports)
            raise NetlistError(f"{self.module} has ports {self.ports}, got {len(nodes[k])} "
                               "nodes", element=str(names[k]))
        given = [dict(p) for p in params]
        for key in {k for p in given for k in p}:
            if key not in self.parameter:
                raise NetlistError(f"device {self.name} has no parameter {key!r} "
                                   f"(known: {', '.join(self.parameter)})")
            where = [k for k, p in enumerate(given) if key in p]
            try:
                values = np.array([given[k][key] for k in where], dtype=float)
            except (TypeError, ValueError):
                values = None
            if values is None or values.ndim != 1 or not self.parameter[key].contains_all(
                    values).all():
                for k in where:         # the first refused value, named as add_to names it
                    self.parameter[key].check(given[k][key])
            for k, v in zip(where, values.tolist()):
                given[k][key] = v
        if rendering == "osdi":
            if self.module.lower() not in circuit.models:
                circuit.verilog_a_model(self.module, Path(self.committed_file("va")),
                                        module=self.module)
            return circuit.va_instances(self.module, names, nodes, given)
        for name, ns, p in zip(names, nodes, given):
            self.add_to(circuit, name, ns, rendering=rendering, params=p)

    def committed_file(self, kind: str):
        """The rendered file shipped in ``compact_models/<device>/``: kind ``va``,
        ``ngspice`` or ``xyce``."""
        from pathlib import Path

        name = {"va": f"{self.name}.va", "ngspice": f"{self.name}.ngspice.lib",
                "xyce": f"{self.name}.xyce.lib"}[kind]
        return Path(__file__).resolve().parent / self.name / name

    def rendered_files(self) -> dict:
        """Every committed rendering: path -> text (what `make models` writes)."""
        return {self.committed_file("va"): self.verilog_a(),
                self.committed_file("ngspice"): self.subcircuit_text("ngspice"),
                self.committed_file("xyce"): self.subcircuit_text("xyce")}

    # ------------------------------------------------------------------ numpy
    @cached_property
    def numpy(self) -> "NumpyModel":
        return NumpyModel(self)


class NumpyModel:
    """The numpy rendering: the device's equations as Python functions, and an integrator for
    transients.

    Three ways in, one set of equations: :meth:`evaluate` (checked parameters, named results;
    the convenient call), :meth:`equations` (the generated function itself, vectorised, for
    loops that check their parameters once, e.g. with :meth:`Device.param_arrays`) and
    :meth:`scalar_equations` (the same on Python floats, for ODE right-hand sides called
    millions of times). :attr:`source` is the generated text."""

    def __init__(self, device: Device):
        self.device = device
        alias = {t: f"v_{t}" for t in device.ports}
        sym = {s.name: s.name for s in device.states}
        src = ["def equations(time, V, X, P):"]
        src += [f"    {p.name} = P[{p.name!r}]" for p in device.parameters]
        src += [f"    v_{t} = V[{t!r}]" for t in device.ports]
        src += [f"    {s.name} = X[{s.name!r}]" for s in device.states]
        for name, text, *_ in device.locals:
            src.append(f"    {name} = {_expression(text).render('numpy', node_alias=alias, symbols=sym)}")
        cur = ", ".join(_expression(t).render("numpy", node_alias=alias, symbols=sym)
                        for _, _, t in device.currents)
        rate = ", ".join(_expression(device.rates[s.name]).render("numpy", node_alias=alias,
                                                                    symbols=sym)
                         for s in device.states)
        src.append(f"    return ({cur}{',' if cur else ''}), ({rate}{',' if rate else ''})")
        init = ["def _initial(P):"]
        init += [f"    {p.name} = P[{p.name!r}]" for p in device.parameters]
        init.append("    return (" + "".join(
            _expression(s.initial).render("numpy") + ", " for s in device.states) + ")")
        self.source = "\n".join(src + [""] + init)
        namespace = {"np": np}
        exec(self.source, namespace)  # generated from validated syntax trees
        self._equations = namespace["equations"]
        self._initial = namespace["_initial"]

    def equations(self, time, V: Mapping[str, object], X: Mapping[str, object],
                  P: Mapping[str, object]):
        """The generated equations, unchecked: ``V`` maps every port to its voltage, ``X``
        every state to its value, ``P`` every parameter to its value (a set from
        :meth:`Device.params` or :meth:`Device.param_arrays`); numbers and arrays broadcast.
        ``time <= 0`` is DC. Returns (currents, rates): tuples in the order of the device's
        ``currents`` and ``states``. numpy's overflow warnings are the caller's to silence."""
        return self._equations(time, V, X, P)

    @cached_property
    def _scalar(self):
        namespace = {"np": _ScalarMath}
        exec(self.source, namespace)  # the same source over math instead of numpy
        return namespace["equations"]

    def scalar_equations(self, time: float, V: Mapping[str, float], X: Mapping[str, float],
                         P: Mapping[str, float]):
        """:meth:`equations` for Python floats, evaluated with :mod:`math` (5-30x fewer
        microseconds per call than numpy scalars). Where math refuses a point (a domain error,
        an overflow, a function it lacks) that point is evaluated with numpy instead, with
        its inf/nan semantics. Returns (currents, rates) as tuples of floats."""
        try:
            return self._scalar(time, V, X, P)
        except (ArithmeticError, ValueError, AttributeError):
            with np.errstate(all="ignore"):
                cur, rates = self._equations(time, V, X, P)
            return tuple(float(c) for c in cur), tuple(float(r) for r in rates)

    def initial_state(self, params: Mapping[str, float]) -> dict[str, float]:
        vals = self._initial(self.device.params(params))
        return {s.name: float(v) for s, v in zip(self.device.states, vals)}

    def initial_states(self, P: Mapping[str, object], n: int) -> dict[str, np.ndarray]:
        """The initial states of ``n`` devices at once (:meth:`initial_state` vectorised):
        ``P`` as :meth:`Device.param_arrays` returns it; state name -> array (n,)."""
        with np.errstate(all="ignore"):
            vals = self._initial(P)
        return {s.name: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
                for s, v in zip(self.device.states, vals)}

    def evaluate(self, v: Mapping[str, object], x: Mapping[str, object] | None = None,
                 params: Mapping[str, float] | None = None, time=1.0):
        """Currents and state rates at terminal voltages ``v`` and states ``x`` (arrays
        broadcast). ``x`` defaults to the initial state. Returns (currents, rates) as dicts
        keyed ``"a,b"`` (current from a to b) and by state name."""
        p = self.device.params(params)
        if x is None:
            x = self.initial_state(p)
        V = {t: np.asarray(v.get(t, 0.0), dtype=float) for t in self.device.ports}
        X = {s.name: np.asarray(x[s.name], dtype=float) for s in self.device.states}
        with np.errstate(over="ignore"):
            cur, rates = self._equations(time, V, X, p)
        d = self.device
        return ({f"{a},{b}": c for (a, b, _), c in zip(d.currents, cur)},
                {s.name: r for s, r in zip(d.states, rates)})

    def dc_current(self, v: Mapping[str, object], params=None, x=None):
        """The DC currents (states held at ``x`` or their initial values, as SPICE does)."""
        return self.evaluate(v, x, params, time=0.0)[0]

    def transient(self, t_eval: Sequence[float], stimulus: Mapping[str, object], params=None,
                  x0: Mapping[str, float] | None = None, *, method: str = "LSODA",
                  rtol: float = 1e-8, atol: float = 1e-10, max_step: float | None = None):
        """Integrate the states with every terminal driven by a voltage.

        ``stimulus`` maps a terminal to a callable ``v(t)``, a ``(times, values)`` pair
        (piecewise linear, as a SPICE PWL source) or a constant; terminals not named sit at
        0 V. ``atol`` applies to the scaled states (node volts), like a simulator's vntol.
        ``max_step`` defaults to the spacing of ``t_eval`` (as a SPICE transient's step): an
        unbounded step could leap from a fixed point (a state at rest) over a whole drive
        waveform before the error control noticed. Returns a :class:`DeviceTransient`.
        """
        from scipy.integrate import solve_ivp

        d = self.device
        p = d.params(params)
        x_init = {**self.initial_state(p), **(x0 or {})}
        drive = {t: _as_function(stimulus.get(t, 0.0)) for t in d.ports}
        unknown = set(stimulus) - set(d.ports)
        if unknown:
            raise NetlistError(f"device {d.name} has no terminal(s) {sorted(unknown)}")
        scales = np.array([s.scale for s in d.states])
        t_eval = np.asarray(t_eval, dtype=float)
        if max_step is None:
            max_step = float(np.max(np.diff(t_eval))) if t_eval.size > 1 else np.inf

        def volts(t):
            return {k: f(t) for k, f in drive.items()}

        def rhs(t, y):
            X = {s.name: y[k] * s.scale for k, s in enumerate(d.states)}
            _, rates = self._equations(t, volts(t), X, p)
            return np.array(rates, dtype=float) / scales

        if d.states:
            y0 = np.array([x_init[s.name] for s in d.states]) / scales
            sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), y0, method=method, t_eval=t_eval,
                            rtol=rtol, atol=atol, max_step=max_step)
            if not sol.success:
                raise RuntimeError(f"numpy integration of {d.name} failed: {sol.message}")
            X = {s.name: sol.y[k] * s.scale for k, s in enumerate(d.states)}
        else:
            X = {}
        V = {k: np.broadcast_to(np.asarray(f(t_eval), dtype=float), t_eval.shape)
             for k, f in drive.items()}
        cur, _ = self._equations(t_eval, V, X, p)
        currents = {f"{a},{b}": np.broadcast_to(c, t_eval.shape)
                    for (a, b, _), c in zip(d.currents, cur)}
        return DeviceTransient(t_eval, V, X, currents)


class _ScalarMath:
    """Stands in for ``np`` in the generated source so that it evaluates on Python floats:
    math's functions under numpy's names. A function it lacks raises AttributeError, math's
    domain and overflow errors raise too (:meth:`NumpyModel.scalar_equations` then uses
    numpy)."""

    exp, log, log10, sqrt, tanh = math.exp, math.log, math.log10, math.sqrt, math.tanh
    sin, cos, tan, sinh, cosh, arctan = math.sin, math.cos, math.tan, math.sinh, math.cosh, math.atan
    abs, maximum, minimum, power = abs, max, min, pow

    @staticmethod
    def where(cond, a, b):
        return a if cond else b


@dataclass
class DeviceTransient:
    """A numpy transient: time, terminal voltages, states and branch currents by name."""

    time: np.ndarray
    voltages: dict
    states: dict
    currents: dict


def _as_function(drive) -> Callable:
    if callable(drive):
        return drive
    if isinstance(drive, tuple) and len(drive) == 2:
        times, values = (np.asarray(a, dtype=float) for a in drive)
        return lambda t: np.interp(t, times, values)
    value = float(drive)
    return lambda t: np.full(np.shape(t), value) if np.ndim(t) else value
