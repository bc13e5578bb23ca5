"""Documentation pages generated from a device's one definition.

:func:`device_page` renders a :class:`~neurospice.compact_models.framework.Device` as a MyST
Markdown page: description, terminals, the physics notes of its module docstring, the
equations exactly as the renderers read them (locals, branch currents, state rates), the
parameter table (SI unit, default, bounds, description, source), the states, the renderings,
the range in which the model accepts parameters, and the references. The documentation site
(``docs/``, ``make docs``) builds one page per registered device from it, so a page cannot
drift from the model it documents.
"""

from __future__ import annotations

import importlib
import inspect
import math

from neurospice.compact_models.framework import Device, Parameter, State
from neurospice.netlists.values import fmt

def number(x: float) -> str:
    """A parameter value as the page shows it: ``inf``/``-inf``, else 6 significant digits."""
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:g}"


def _cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, never empty."""
    text = str(text).replace("|", "\\|").replace("\n", " ").strip()
    return text or "–"


def _code(text: str) -> str:
    return f"`{text}`" if text else "–"


def parameter_row(p: Parameter) -> str:
    """One row of the parameter table (name, unit, default, bounds, description, source)."""
    cells = [_code(p.name), _cell(p.unit or "1"), _code(number(p.default)), _code(p.interval),
             _cell(p.description), _cell(p.source)]
    return "| " + " | ".join(cells) + " |"


def state_row(s: State) -> str:
    """One row of the state table (name, unit, node scale, initial value, description)."""
    initial = number(s.initial) if isinstance(s.initial, (int, float)) else s.initial
    cells = [_code(s.name), _cell(s.unit or "1"), _code(fmt(s.scale)), _code(str(initial)),
             _cell(s.description)]
    return "| " + " | ".join(cells) + " |"


def equations(device: Device) -> str:
    """The equations as the renderers read them, in the expression language of
    :mod:`neurospice.netlists.expr`: locals in order, branch currents, state rates."""
    lines = []
    width = max([len(entry[0]) for entry in device.locals] + [1])
    for name, text, *scale in device.locals:
        node = f"    # internal node, scale {fmt(scale[0])}" if scale else ""
        lines.append(f"{name.ljust(width)} = {text}{node}")
    if lines:
        lines.append("")
    for a, b, text in device.currents:
        lines.append(f"I({a} -> {b}) = {text}")
    for s in device.states:
        lines.append(f"d{s.name}/dt = {device.rates[s.name]}")
    return "\n".join(lines)


def physics_notes(device: Device) -> str:
    """The device module's docstring (reStructuredText), or ``""`` where it has none."""
    module = importlib.import_module(f"neurospice.compact_models.{device.name}")
    return inspect.cleandoc(module.__doc__ or "")


def device_page(device: Device, *, notes: str | None = None) -> str:
    """The MyST Markdown page of ``device``. ``notes`` (reStructuredText) replace the physics
    notes read from the device's module docstring (given for a device defined elsewhere)."""
    d = device
    notes = physics_notes(d) if notes is None else notes
    out = [f"(device-{d.name})=", f"# `{d.name}`", "", f"**{d.description}.**", ""]
    out += [f"Module `{d.module}` · terminals {', '.join(f'`{t}`' for t in d.terminals)}"
            + (f" · noise inputs {', '.join(f'`{t}`' for t in d.noise_inputs)} (a dimensionless"
               " N(0,1) sample each; tie to ground when unused)" if d.noise_inputs else "")
            + f" · {len(d.parameters)} parameters · {len(d.states)} states.", "",
            "This page is generated from the device definition "
            f"(`neurospice.compact_models.{d.name}.DEVICE`) when the documentation is built.", ""]
    if notes:
        out += ["## Physics", "", "```{eval-rst}", notes, "```", ""]
    out += ["## Equations", "",
            "Locals are evaluated in order, then the branch currents and the state rates "
            "(SI units; `v(a, b)` is a terminal voltage, states enter as their physical value). "
            "Every rendering (Verilog-A, behavioral subcircuit, numpy) is generated from these "
            "lines.", "", "```python", equations(d), "```", ""]
    out += ["## Parameters", "",
            "| name | unit | default | bounds | description | source |",
            "|---|---|---|---|---|---|"]
    out += [parameter_row(p) for p in d.parameters]
    out += [""]
    if d.states:
        out += ["## States", "",
                "A state lives on an internal node `s_<name>` as voltage × scale; in DC analyses "
                "(`time <= 0`) it is held at its initial value.", "",
                "| name | unit | node scale | initial value | description |",
                "|---|---|---|---|---|"]
        out += [state_row(s) for s in d.states]
        out += [""]
    out += ["## Validity range", "",
            "Every parameter is accepted only inside its bounds above (a bracket is a closed end, "
            "a parenthesis an open one); `Device.params` raises `NetlistError` naming the "
            "parameter otherwise, and the Verilog-A rendering declares the same ranges, so a "
            "simulator refuses them too. The physics notes state the regime each equation "
            "describes.", ""]
    names = [(f"{d.name}.va", "Verilog-A for openvaf-r: ngspice (OSDI) and VACASK",
              "`add_to(circuit, name, nodes, rendering=\"osdi\")`"),
             (f"{d.name}.ngspice.lib", "behavioral subcircuit for ngspice",
              "`add_to(circuit, name, nodes, rendering=\"subckt\")`"),
             (f"{d.name}.xyce.lib", "behavioral subcircuit for Xyce",
              "`add_to(circuit, name, nodes, rendering=\"subckt\")`"),
             ("(in memory)", "vectorised numpy with a stiff-capable integrator",
              "`DEVICE.numpy.transient(...)`, `DEVICE.numpy.evaluate(...)`")]
    out += ["## Renderings", "",
            f"Committed beside the definition in `compact_models/{d.name}/` "
            "(`make models` re-renders them):", "",
            "| file | for | from Python |", "|---|---|---|"]
    out += [f"| `{f}` | {w} | {u} |" for f, w, u in names]
    out += ["", "```python", "from neurospice.compact_models.devices import get_device",
            f"device = get_device({d.name!r})",
            f"device.add_to(circuit, \"1\", {list(d.terminals) + ['0'] * len(d.noise_inputs)!r}, "
            "rendering=\"osdi\")", "```", ""]
    out += ["## References", ""]
    out += [f"- {r}" for r in d.references] or ["- (none given)"]
    out += [""]
    return "\n".join(out)
