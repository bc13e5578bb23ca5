"""PySpice in both directions.

- :func:`from_pyspice` maps a PySpice circuit onto a :class:`~neurospice.netlists.Circuit`
  element by element (not through its ngspice text): R, C, L, V and I (DC, pulse, sine, PWL),
  E, F, G, H, B, D, X; its ``.model`` cards, subcircuits (recursively), ``.param`` values and
  ``.include`` files. PySpice keeps its analyses on the simulator object it runs, not on the
  circuit, so add them to the returned Circuit (``c.tran(...)``). Anything else (raw SPICE
  text, another element kind) is a :class:`~neurospice.errors.NetlistError` naming it: the
  converted circuit then runs on every simulator neurospice drives.
- :func:`add_to_pyspice` places a neurospice device in a PySpice circuit with its card: the
  behavioral subcircuit (added once, as raw SPICE) or, given its compiled ``.osdi`` file
  (``neurospice.simulators.compile_va(device.committed_file("va"))``), the Verilog-A card
  loaded by ``pre_osdi``.

PySpice itself is imported by neither: the functions read the objects they are given.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from neurospice.errors import NetlistError

__all__ = ["from_pyspice", "add_to_pyspice"]


def _value(x, where: str):
    """A PySpice value (UnitValue, number or parameter text) in SI, or the text."""
    if x is None:
        return None
    if isinstance(x, str):
        return x
    try:
        return float(x)
    except (TypeError, ValueError):
        raise NetlistError(f"{where}: value {x!r} is not a number") from None


def _nodes(element) -> list[str]:
    return [str(getattr(n, "name", n)) for n in element.nodes]


def _waveform(e, kind: str):
    from neurospice.netlists.circuit import Pulse, Pwl, Sine

    name = e.name
    if kind == "Pulse":
        period = _value(getattr(e, "period", None), name)
        return Pulse(_value(e.initial_value, name), _value(e.pulsed_value, name),
                     delay=_value(e.delay_time, name) or 0.0,
                     rise=_value(e.rise_time, name), fall=_value(e.fall_time, name),
                     width=_value(e.pulse_width, name), period=period)
    if kind == "Sinusoidal":
        return Sine(_value(e.offset, name) or 0.0, _value(e.amplitude, name),
                    _value(e.frequency, name), delay=_value(e.delay, name) or 0.0,
                    damping=_value(e.damping_factor, name) or 0.0)
    if kind == "PieceWiseLinear":
        if getattr(e, "repeat_time", None) or getattr(e, "delay_time", None):
            raise NetlistError(f"{name}: a repeated or delayed PWL has no neurospice form")
        points = list(e.values)
        return Pwl([_value(t, name) for t, _ in points], [_value(v, name) for _, v in points])
    raise NetlistError(f"{name}: PySpice source kind {kind!r} has no neurospice form")


def _add_element(target, e) -> None:
    cls, name, nodes = type(e).__name__, e.name, _nodes(e)
    if getattr(e, "raw_spice", ""):
        raise NetlistError(f"{name}: raw SPICE on an element cannot be converted "
                           f"({e.raw_spice!r})")
    if cls == "Resistor":
        target.resistor(name, *nodes, _value(e.resistance, name))
    elif cls == "Capacitor":
        target.capacitor(name, *nodes, _value(e.capacitance, name))
    elif cls == "Inductor":
        target.inductor(name, *nodes, _value(e.inductance, name))
    elif cls in ("VoltageSource", "CurrentSource"):
        add = target.vsource if cls == "VoltageSource" else target.isource
        add(name, *nodes, dc=_value(e.dc_value, name))
    elif cls.endswith(("VoltageSource", "CurrentSource")) and cls.startswith(
            ("Pulse", "Sinusoidal", "PieceWiseLinear")):
        kind = cls.replace("VoltageSource", "").replace("CurrentSource", "")
        add = target.vsource if cls.endswith("VoltageSource") else target.isource
        dc = _value(getattr(e, "dc_offset", None) or getattr(e, "dc", None), name)
        add(name, *nodes, dc=dc, waveform=_waveform(e, kind))
    elif cls == "VoltageControlledVoltageSource":
        target.vcvs(name, *nodes, _value(e.voltage_gain, name))
    elif cls == "VoltageControlledCurrentSource":
        target.vccs(name, *nodes, _value(e.transconductance, name))
    elif cls == "CurrentControlledCurrentSource":
        target.cccs(name, *nodes, str(e.source), _value(e.current_gain, name))
    elif cls == "CurrentControlledVoltageSource":
        target.ccvs(name, *nodes, str(e.source), _value(e.transresistance, name))
    elif cls == "BehavioralSource":
        if (e.current_expression is None) == (e.voltage_expression is None):
            raise NetlistError(f"{name}: a B source needs one of i= and v=")
        target.bsource(name, *nodes, i=e.current_expression, v=e.voltage_expression)
    elif cls == "Diode":
        target.diode(name, *nodes, str(e.model))
    elif cls == "SubCircuitElement":
        params = {k: _value(v, name) for k, v in (e.parameters or {}).items()}
        target.instance(name, e.subcircuit_name, nodes, **params)
    else:
        raise NetlistError(f"{name}: PySpice element {cls} has no neurospice mapping")


def _add_model(target, m) -> None:
    params = {k: _value(v, m.name) for k, v in m._parameters.items()}
    target.model(m.name, m.model_type, **params)


def _subcircuit(sub):
    from neurospice.netlists import Subcircuit

    params = {k: _value(v, sub.name) for k, v in (getattr(sub, "_parameters", None) or {}).items()}
    out = Subcircuit(sub.name, list(sub.external_nodes), **params)
    for inner in sub.subcircuits:
        raise NetlistError(f"subcircuit {sub.name}: nested subcircuit {inner.name} has no "
                           "neurospice form (define it at the top level)")
    for m in sub.models:
        raise NetlistError(f"subcircuit {sub.name}: a local model ({m.name}) has no neurospice "
                           "form (define it at the top level)")
    for e in sub.elements:
        _add_element(out, e)
    return out


def from_pyspice(circuit):
    """A neurospice :class:`~neurospice.netlists.Circuit` equal to the PySpice ``circuit``
    (see the module docstring for what maps). Raises NetlistError naming the first element
    or construct that does not map."""
    from neurospice.netlists import Circuit

    if not type(circuit).__module__.startswith("PySpice"):
        raise NetlistError(f"from_pyspice takes a PySpice circuit, not {type(circuit).__name__}")
    if str(getattr(circuit, "raw_spice", "") or "").strip():
        raise NetlistError("the PySpice circuit holds raw SPICE text, which does not map onto "
                           "elements (read it with neurospice.netlists.reader instead)")
    if getattr(circuit, "_libs", None):
        raise NetlistError("the PySpice circuit uses .lib sections (not converted)")
    out = Circuit(str(circuit.title))
    for path in getattr(circuit, "_includes", ()) or ():
        out.include(str(path))
    for k, v in (getattr(circuit, "_parameters", None) or {}).items():
        out.param(k, _value(v, f".param {k}"))
    for m in circuit.models:
        _add_model(out, m)
    for sub in circuit.subcircuits:
        out.subcircuit(_subcircuit(sub))
    for e in circuit.elements:
        _add_element(out, e)
    return out


def add_to_pyspice(circuit, device, name: str, nodes: Sequence[str],
                   params: Mapping[str, float] | None = None, *, osdi=None):
    """Add an instance ``name`` of a neurospice ``device`` to the PySpice ``circuit`` with
    its card. Without ``osdi``: the behavioral subcircuit (its ngspice library text, added to
    the circuit's raw SPICE once per device) and an X element. With ``osdi`` (the compiled
    Verilog-A card, an absolute path): a ``pre_osdi`` control line, the model card and an N
    instance, as raw SPICE (PySpice has no OSDI element). ``params`` are checked against the
    device's table; only those given are written on the instance. Returns ``name``."""
    values = device.params(params)
    given = {k: values[k] for k in (params or {})}
    if len(nodes) != len(device.ports):
        raise NetlistError(f"{device.module} has ports {device.ports}, got {len(nodes)} nodes",
                           element=str(name))
    raw = str(circuit.raw_spice or "")
    if osdi is None:
        if f".subckt {device.module} " not in raw:
            raw += ("\n" if raw else "") + device.subcircuit_text("ngspice") + "\n"
            circuit.raw_spice = raw
        circuit.X(name, device.module, *nodes, **given)
        return name
    from pathlib import Path

    path = Path(osdi)
    if not path.is_absolute() or any(c.isspace() for c in str(path)):
        raise NetlistError(f"osdi must be an absolute path without spaces, got {str(path)!r}")
    lines = []
    if f"pre_osdi {path}" not in raw:
        lines += [".control", "set num_threads=1", f"pre_osdi {path}", ".endc",
                  f".model {device.module} {device.module}"]
    words = " ".join(f"{k}={v!r}" for k, v in given.items())
    lines.append(f"N{name} {' '.join(str(n) for n in nodes)} {device.module} {words}".rstrip())
    circuit.raw_spice = raw + ("\n" if raw else "") + "\n".join(lines) + "\n"
    return name
