"""A small, safe expression language for behavioral sources and parameter values.

Expressions are written in Python syntax and parsed with :mod:`ast`, so nothing but the
grammar below can reach a netlist::

    number | name | -e | e (+ - * / **) e | f(e, ...) | v(node) | v(node, node) | i(vsource)
    | e if e (< <= > >=) e else e

``name`` is a circuit parameter or ``time`` (the simulation time); ``v(a, b)`` is the voltage
between two nodes, ``i(vx)`` the current through voltage source ``vx``. Functions: exp, ln,
log10, sqrt, abs, sin, cos, tan, sinh, cosh, tanh, atan, min, max, pow, and the smooth
sigmoid(x) and softplus(x). A conditional is a hard branch: keep it for switches on ``time``
(it hurts Newton convergence on a node voltage; prefer sigmoid). Each dialect renders
the same tree in its own syntax (``**`` becomes ``pow``; ``time`` becomes ``$abstime`` in
Verilog-A), so ngspice, Xyce and VACASK evaluate the same function.

Expressions are bounded: the text is printable ASCII (the text gate of
:mod:`neurospice.netlists.values`) of at most :data:`MAX_EXPRESSION_LENGTH` characters,
numbers are plain decimals (``1.5e-3``; no ``1_0``, ``0x10``), the tree has at most
:data:`MAX_EXPRESSION_NODES` nodes and :data:`MAX_EXPRESSION_DEPTH` levels, and a rendering
longer than :data:`MAX_RENDERED_LENGTH` characters (``softplus`` writes its argument twice,
so nesting it doubles the text) is refused: each a NetlistError, never a RecursionError or
a netlist of megabytes.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from neurospice.errors import NetlistError
from neurospice.netlists.values import RESERVED, check_node, check_text, fmt

MAX_EXPRESSION_LENGTH = 100_000   # characters of an expression's text
MAX_EXPRESSION_NODES = 20_000     # nodes of its syntax tree
MAX_EXPRESSION_DEPTH = 200        # levels of its syntax tree
MAX_RENDERED_LENGTH = 100_000     # characters of one rendering (any dialect)
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# v(...) and i(...) take names, whatever they are: a node called "in" or "if" (a word of
# Python's grammar) is marked with a letter no expression holds (the text is ASCII) before
# the parse, and unmarked where its name is read
_NAMED_ARGS = re.compile(r"\b([vi])(\s*\()([^()]*)\)")
_MARK = "\u01c0"

FUNCTIONS = {
    # name: (arity, ngspice, xyce, verilog-a, numpy)
    "exp": (1, "exp", "exp", "exp", "np.exp"),
    "ln": (1, "ln", "log", "ln", "np.log"),
    "log10": (1, "log10", "log10", "log", "np.log10"),
    "sqrt": (1, "sqrt", "sqrt", "sqrt", "np.sqrt"),
    "abs": (1, "abs", "abs", "abs", "np.abs"),
    "sin": (1, "sin", "sin", "sin", "np.sin"),
    "cos": (1, "cos", "cos", "cos", "np.cos"),
    "tan": (1, "tan", "tan", "tan", "np.tan"),
    "sinh": (1, "sinh", "sinh", "sinh", "np.sinh"),
    "cosh": (1, "cosh", "cosh", "cosh", "np.cosh"),
    "tanh": (1, "tanh", "tanh", "tanh", "np.tanh"),
    "atan": (1, "atan", "atan", "atan", "np.arctan"),
    "min": (2, "min", "min", "min", "np.minimum"),
    "max": (2, "max", "max", "max", "np.maximum"),
    "pow": (2, "pow", "pow", "pow", "np.power"),
    # smooth helpers, expanded inline in every dialect
    "sigmoid": (1, None, None, None, None),
    "softplus": (1, None, None, None, None),
}
_DIALECT_INDEX = {"ngspice": 1, "xyce": 2, "verilog-a": 3, "numpy": 4}
_EXPANSIONS = {
    # 1/(1+exp(-x)), written so that neither branch overflows
    "sigmoid": "(0.5 + 0.5*tanh(0.5*({0})))",
    # ln(1+exp(x)) = max(x,0) + ln(1+exp(-|x|)): smooth, and no overflow for large |x|
    "softplus": "(max({0}, 0.0) + ln(1.0 + exp(-abs({0}))))",
}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
SPECIAL = {"time": {"ngspice": "time", "xyce": "TIME", "verilog-a": "$abstime", "numpy": "time"}}


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; render it with :meth:`render`."""

    text: str

    def __post_init__(self):
        self._parsed  # parse now: a bad expression fails where it is written

    @cached_property
    def _parsed(self) -> "_Parsed":
        return _parse(self.text)

    @property
    def _tree(self) -> ast.expr:
        return self._parsed.tree

    @property
    def nodes(self) -> tuple[str, ...]:
        """Nodes referenced by ``v()`` (ground excluded), each once, in reading order."""
        return self._parsed.nodes

    @property
    def currents(self) -> tuple[str, ...]:
        """Voltage sources whose current is referenced by ``i()``."""
        return self._parsed.currents

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names referenced (``time`` excluded), in reading order."""
        return self._parsed.names

    def render(self, dialect: str, *, node_alias: dict[str, str] | None = None,
               symbols: dict[str, str] | None = None) -> str:
        """Render for ``ngspice``, ``xyce``, ``verilog-a`` or ``numpy``.

        ``node_alias`` renames nodes (a Verilog-A wrapper sees the circuit's nodes through its
        own ports; in numpy a node becomes the name of its voltage array). ``symbols``
        replaces names by text (a device's state by its scaled node voltage, say).
        """
        if dialect not in _DIALECT_INDEX:
            raise NetlistError(f"unknown expression dialect {dialect!r}")
        try:
            return _render(self._tree, dialect, node_alias or {}, symbols or {}, self.text)
        except RecursionError:
            raise NetlistError(f"expression {self.text[:80]!r}... is nested too deeply to "
                               "render") from None

    def __str__(self) -> str:
        return self.text


class Generated(Expression):
    """An expression the project's own generators make from numbers, rendered straight from
    them for every dialect with no syntax tree (a generated netlist of tens of thousands of
    expressions would otherwise spend most of its build parsing them and keep every tree).
    Subclasses set their fields and ``text`` in ``__init__`` and define :meth:`render`;
    they refer to node voltages only (no branch currents, no parameter names)."""

    def __post_init__(self):
        pass

    @property
    def _tree(self):
        raise NetlistError(f"a {type(self).__name__} has no syntax tree: render it")

    @property
    def currents(self) -> tuple[str, ...]:
        return ()

    @property
    def names(self) -> tuple[str, ...]:
        return ()


class WeightedSum(Generated):
    """A weighted sum of node voltages, ``c1*v(n1) + c2*v(n2) + ...`` (a :class:`Generated`
    expression). Build it with
    :func:`weighted_sum`, which checks the coefficients (finite numbers) and the nodes (the
    node-name rules of :func:`~neurospice.netlists.values.check_node`)."""

    def __init__(self, coefficients: tuple[float, ...], nodes: tuple[str, ...]):
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "terms", nodes)
        object.__setattr__(self, "text", self.render("ngspice"))

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in self.terms if n != "0"))

    def render(self, dialect: str, *, node_alias: dict[str, str] | None = None,
               symbols: dict[str, str] | None = None) -> str:
        if dialect not in _DIALECT_INDEX:
            raise NetlistError(f"unknown expression dialect {dialect!r}")
        alias = node_alias or {}
        pattern = {"ngspice": "v({})", "xyce": "V({})", "verilog-a": "V({})",
                   "numpy": "{}"}[dialect]
        out = []
        for c, node in zip(self.coefficients, self.terms):
            if node == "0":
                continue
            sign = "-" if c < 0 else ("+" if out else "")
            out.append(f"{sign}{fmt(abs(c))}*{pattern.format(alias.get(node, node))}")
        text = "".join(out) or "0.0"
        if len(text) > MAX_RENDERED_LENGTH:
            raise NetlistError(f"a weighted sum of {len(out)} terms renders to more than "
                               f"{MAX_RENDERED_LENGTH} characters for {dialect}")
        return text

    def __reduce__(self):
        return (WeightedSum, (self.coefficients, self.terms))


@lru_cache(maxsize=65536)
def _checked_node(node: str) -> str:
    return check_node(node)


def weighted_sum(coefficients, nodes) -> WeightedSum:
    """``sum_k coefficients[k] * v(nodes[k])`` as a :class:`WeightedSum` (a NetlistError for
    a non-finite coefficient, a bad node name, lengths that differ or more than
    :data:`MAX_EXPRESSION_NODES` terms)."""
    coeffs = tuple(float(c) for c in coefficients)
    names = tuple(nodes)
    if len(coeffs) != len(names):
        raise NetlistError(f"a weighted sum needs one node per coefficient: {len(coeffs)} "
                           f"coefficients, {len(names)} nodes")
    if len(coeffs) > MAX_EXPRESSION_NODES:
        raise NetlistError(f"a weighted sum of more than {MAX_EXPRESSION_NODES} terms")
    if not all(math.isfinite(c) for c in coeffs):
        raise NetlistError(f"a weighted sum's coefficients must be finite, got {coeffs[:8]}")
    for node in names:
        if not isinstance(node, str):
            raise NetlistError(f"a node name must be a string, got {type(node).__name__}")
        _checked_node(node)
    return WeightedSum(coeffs, names)


class SampleTable(Generated):
    """Value ``values[k]`` when the voltage of ``node`` is the integer k (a table of samples
    indexed by a swept source; a :class:`Generated` expression): ngspice's
    ``pwl(v(node), 0, y0, 1, y1, ...)``, Xyce's ``table(...)`` (straight lines between the
    samples), Verilog-A's nested conditionals (the nearest sample: a step). Build it with
    :func:`sample_table`."""

    def __init__(self, node: str, values: tuple[float, ...]):
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "text", self.render("ngspice"))

    @property
    def nodes(self) -> tuple[str, ...]:
        return () if self.node == "0" else (self.node,)

    def render(self, dialect: str, *, node_alias: dict[str, str] | None = None,
               symbols: dict[str, str] | None = None) -> str:
        if dialect not in _DIALECT_INDEX:
            raise NetlistError(f"unknown expression dialect {dialect!r}")
        node = (node_alias or {}).get(self.node, self.node)
        ys = [fmt(y) for y in self.values]
        if len(ys) == 1:
            ys = ys * 2
        if dialect in ("ngspice", "xyce"):
            pairs = ",".join(f"{k},{y}" for k, y in enumerate(ys))
            text = (f"pwl(v({node}),{pairs})" if dialect == "ngspice"
                    else f"table(V({node}),{pairs})")
        elif dialect == "verilog-a":
            text = "".join(f"(V({node}) < {k + 0.5} ? {y} : " for k, y in enumerate(ys[:-1]))
            text += ys[-1] + ")" * (len(ys) - 1)
        else:
            raise NetlistError("a sample table has no numpy rendering")
        if len(text) > MAX_RENDERED_LENGTH:
            raise NetlistError(f"a sample table of {len(ys)} values renders to more than "
                               f"{MAX_RENDERED_LENGTH} characters for {dialect}")
        return text

    def __reduce__(self):
        return (SampleTable, (self.node, self.values))


def sample_table(node, values) -> SampleTable:
    """``values[k]`` at ``v(node) = k`` as a :class:`SampleTable` (a NetlistError for no
    value, a non-finite one or a bad node name)."""
    vals = tuple(float(v) for v in values)
    if not vals:
        raise NetlistError("a sample table needs at least one value")
    if not all(math.isfinite(v) for v in vals):
        raise NetlistError(f"a sample table's values must be finite, got {vals[:8]}")
    if not isinstance(node, str):
        raise NetlistError(f"a node name must be a string, got {type(node).__name__}")
    return SampleTable(_checked_node(node), vals)


class _Parsed(NamedTuple):
    tree: ast.expr
    nodes: tuple[str, ...]
    currents: tuple[str, ...]
    names: tuple[str, ...]


def _parse(text) -> _Parsed:
    """The checked syntax tree of ``text`` and what it refers to (see :func:`_parse_text`);
    anything but a non-blank string is refused before the cache, which needs a hashable
    key."""
    if not isinstance(text, str):
        raise NetlistError(f"an expression must be a string, got {type(text).__name__}")
    if not text.strip():
        raise NetlistError(f"empty expression {text!r}")
    check_text(text, what="expression", max_length=MAX_EXPRESSION_LENGTH)
    if not text.isascii():
        c = next(c for c in text if not c.isascii())
        raise NetlistError(f"expression {text[:80]!r} holds the non-ASCII character {c!r} "
                           f"(U+{ord(c):04X}): the expression language is ASCII")
    return _parse_text(text)


@lru_cache(maxsize=8192)
def _parse_text(text: str) -> _Parsed:
    """The checked syntax tree of ``text`` and what it refers to, found in one pass (cached:
    netlist generators repeat expressions; the trees are never modified)."""
    if any(c in text for c in "{}\"';$`\\"):
        raise NetlistError(
            f"expression {text[:80]!r} holds a brace, quote or other character "
            "that is not part of the expression language")
    source = _NAMED_ARGS.sub(_mark_words, text.strip())
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise NetlistError(f"cannot parse expression {text[:80]!r}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):  # nesting the parser cannot hold
        raise NetlistError(f"expression {text[:80]!r}... is nested too deeply") from None
    _check_size(tree, text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and not _NUMBER.fullmatch(
                ast.get_source_segment(source, node) or ""):
            raise NetlistError(f"in {text[:80]!r}: {ast.get_source_segment(source, node)!r} "
                               "is not a plain decimal number (digits, '.', exponent)")
    found: dict[str, dict] = {"nodes": {}, "currents": {}, "names": {}}
    _check(tree, text, found)
    found["nodes"].pop("0", None)
    return _Parsed(tree, *(tuple(found[k]) for k in ("nodes", "currents", "names")))


def _check_size(tree, text) -> None:
    """Refuse a tree of more than MAX_EXPRESSION_NODES nodes or MAX_EXPRESSION_DEPTH
    levels, walking it without recursion."""
    stack, count = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_EXPRESSION_DEPTH:
            raise NetlistError(f"expression {text[:80]!r}... is nested more than "
                               f"{MAX_EXPRESSION_DEPTH} levels deep")
        if count > MAX_EXPRESSION_NODES:
            raise NetlistError(f"expression {text[:80]!r}... has more than "
                               f"{MAX_EXPRESSION_NODES} terms")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def as_expression(value: object) -> Expression:
    return value if isinstance(value, Expression) else Expression(value)


def _mark_words(m: re.Match) -> str:
    args = [a.strip() for a in m.group(3).split(",")]
    if not any(keyword.iskeyword(a) for a in args):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}" + ", ".join(
        a + _MARK if keyword.iskeyword(a) else a for a in args) + ")"


def _node_arg(arg, text) -> str:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, int) and not isinstance(arg.value, bool):
        return check_node(arg.value)
    if isinstance(arg, ast.Name):
        return check_node(arg.id.removesuffix(_MARK))
    raise NetlistError(f"in {text!r}: v() takes node names, e.g. v(out) or v(a, b)")


def _name_arg(arg, text) -> str:
    if isinstance(arg, ast.Name):
        return arg.id.removesuffix(_MARK)
    raise NetlistError(f"in {text!r}: i() takes the name of a voltage source, e.g. i(vin)")


def _check(node, text, found):
    """Validate ``node`` and record what it refers to in ``found`` (ordered dicts)."""
    checker = _CHECKS.get(type(node))
    if checker is None:
        raise NetlistError(f"in {text!r}: unsupported syntax {type(node).__name__}")
    checker(node, text, found)


def _check_constant(node, text, found):
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise NetlistError(f"in {text!r}: only numbers are allowed as constants")
    try:
        finite = math.isfinite(node.value)
    except OverflowError:
        finite = False
    if not finite:
        raise NetlistError(f"in {text[:80]!r}: a constant is not a finite float")


def _check_name(node, text, found):
    if node.id.lower() in RESERVED or node.id in ("v", "i"):
        raise NetlistError(f"in {text!r}: {node.id!r} cannot be used as a name")
    if node.id not in SPECIAL:
        found["names"][node.id] = None


def _check_unary(node, text, found):
    if not isinstance(node.op, (ast.USub, ast.UAdd)):
        raise NetlistError(f"in {text!r}: unsupported operator")
    _check(node.operand, text, found)


def _check_binary(node, text, found):
    if type(node.op) not in _BINARY:
        raise NetlistError(f"in {text!r}: unsupported operator {type(node.op).__name__}")
    _check(node.left, text, found)
    _check(node.right, text, found)


def _check_ifexp(node, text, found):
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], tuple(_CMP))):
        raise NetlistError(f"in {text!r}: a condition must be one comparison a (<, <=, >, >=) b")
    for child in (test.left, test.comparators[0], node.body, node.orelse):
        _check(child, text, found)


def _check_call(node, text, found):
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise NetlistError(f"in {text!r}: unsupported call")
    name = node.func.id
    if name == "v":
        if len(node.args) not in (1, 2):
            raise NetlistError(f"in {text!r}: v() takes one or two nodes")
        for arg in node.args:
            found["nodes"][_node_arg(arg, text)] = None
    elif name == "i":
        if len(node.args) != 1:
            raise NetlistError(f"in {text!r}: i() takes one voltage source")
        found["currents"][_name_arg(node.args[0], text)] = None
    elif name in FUNCTIONS:
        if len(node.args) != FUNCTIONS[name][0]:
            raise NetlistError(f"in {text!r}: {name}() takes {FUNCTIONS[name][0]} argument(s)")
        for arg in node.args:
            _check(arg, text, found)
    else:
        raise NetlistError(
            f"in {text!r}: unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})")


_BINARY = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow}
_CHECKS = {ast.Constant: _check_constant, ast.Name: _check_name, ast.UnaryOp: _check_unary,
           ast.BinOp: _check_binary, ast.IfExp: _check_ifexp, ast.Call: _check_call}


def _render(node, dialect, alias, symbols, text) -> str:
    out = _render_node(node, dialect, alias, symbols, text)
    if len(out) > MAX_RENDERED_LENGTH:  # checked at every level: at most twice the cap is built
        raise NetlistError(f"expression {text[:80]!r} renders to more than "
                           f"{MAX_RENDERED_LENGTH} characters for {dialect} (nested softplus "
                           "writes its argument twice per level): simplify it or use a "
                           "parameter for a repeated part")
    return out


def _render_node(node, dialect, alias, symbols, text) -> str:
    r = lambda n: _render(n, dialect, alias, symbols, text)  # noqa: E731
    if isinstance(node, ast.Constant):
        return fmt(node.value)
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id]
        if node.id in SPECIAL:
            return SPECIAL[node.id][dialect]
        return node.id
    if isinstance(node, ast.UnaryOp):
        return f"(-{r(node.operand)})" if isinstance(node.op, ast.USub) else r(node.operand)
    if isinstance(node, ast.IfExp):
        t = node.test
        cond = f"({r(t.left)} {_CMP[type(t.ops[0])]} {r(t.comparators[0])})"
        a, b = r(node.body), r(node.orelse)
        if dialect == "xyce":
            return f"IF({cond}, {a}, {b})"
        if dialect == "numpy":
            return f"np.where({cond}, {a}, {b})"
        return f"({cond} ? {a} : {b})"
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return f"pow({r(node.left)}, {r(node.right)})"
        return f"({r(node.left)} {_OPS[type(node.op)]} {r(node.right)})"
    name = node.func.id
    if name == "v":
        nodes = [_node_arg(a, text) for a in node.args]
        if dialect == "numpy":
            terms = [alias.get(n, n) for n in nodes]
            return "(" + " - ".join(t if n != "0" else "0.0" for n, t in zip(nodes, terms)) + ")"
        if dialect == "verilog-a":
            nodes = [alias.get(n, n) for n in nodes if n != "0"]
            return f"V({', '.join(nodes)})" if nodes else "0.0"
        return f"{'V' if dialect == 'xyce' else 'v'}({', '.join(nodes)})"
    if name == "i":
        src = _name_arg(node.args[0], text)
        if dialect == "verilog-a":
            raise NetlistError(
                f"in {text!r}: i({src}) cannot be rendered in Verilog-A (VACASK); use a current-"
                "controlled source (F/H) or sense the current with a resistor")
        if dialect == "numpy":
            raise NetlistError(f"in {text!r}: i() has no numpy rendering")
        return f"{'I' if dialect == 'xyce' else 'i'}({src})"
    if name in _EXPANSIONS:
        inner = Expression(_EXPANSIONS[name].format("_x_"))
        return _render(inner._tree, dialect, alias, {"_x_": r(node.args[0])}, text)
    fname = FUNCTIONS[name][_DIALECT_INDEX[dialect]]
    return f"{fname}({', '.join(r(a) for a in node.args)})"
