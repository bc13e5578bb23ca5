"""Model cards and ready-to-include files from a device and a parameter set."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from neurospice.fileio import read_json, write_text_atomic
from neurospice.errors import NetlistError
from neurospice.netlists import dialects
from neurospice.netlists.values import fmt

DIALECTS = tuple(dialects.DIALECTS)   # every dialect of the registry, verilog-a included
CARD_MAX_BYTES = 16 * 1024 ** 2        # a parameter card is a few kB; refuse what is not


def read_card(path, device: str | None = None) -> dict[str, float]:
    """A parameter card: JSON ``{"params": {name: value}}`` (as calibration writes it) or
    a flat ``{name: value}``. A file that cannot be read, is not a regular file, is larger
    than ``CARD_MAX_BYTES``, is not UTF-8 JSON or not an object raises NetlistError, and so
    does a card whose ``"device"`` is not ``device`` (when given): an nbox card's values
    are no MTJ's."""
    path = Path(path)
    data = read_json(path, what="parameter card", max_bytes=CARD_MAX_BYTES, error=NetlistError)
    params = data.get("params", data) if isinstance(data, dict) else None
    if not isinstance(params, dict):
        raise NetlistError(f"{path}: expected a JSON object of parameter values")
    named = data.get("device") if "params" in data else None
    if device is not None and named is not None and named != device:
        raise NetlistError(f"{path}: the card is for device {str(named)[:80]!r}, not "
                           f"{device!r}")
    return params


def export(device, dialect: str, params: Mapping[str, float] | None = None) -> str:
    """The text of a file a designer includes, rendered with ``params`` as the defaults
    (checked against the device's table: an unknown name or a value outside the bounds raises
    NetlistError naming it)."""
    values = device.params(params)
    if dialect == "verilog-a":
        return device.verilog_a(defaults=values)
    if dialect in ("ngspice", "xyce"):
        return device.subcircuit_text(dialect, defaults=values)
    if dialect == "vacask":
        card = " ".join(f"{k}={fmt(v)}" for k, v in values.items())
        return (f"// {device.module}: {device.description}\n"
                f"// VACASK looks for {device.name}.va beside this file (write it with\n"
                f"// `neurospice models export {device.name} --dialect verilog-a`).\n"
                f'load "{device.name}.va"\n'
                f"model {device.name} {device.module} {card}\n"
                f"// instance: name ({' '.join(device.ports)}) {device.name}\n")
    raise NetlistError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")


def render_all(check: bool = False) -> list[Path]:
    """Write every device's committed renderings (``make models``); with ``check``, only
    return the files that differ."""
    from neurospice.compact_models.devices import device_names, get_device

    changed = []
    for name in device_names():
        for path, text in get_device(name).rendered_files().items():
            if not path.exists() or path.read_text() != text:
                changed.append(path)
                if not check:
                    write_text_atomic(path, text, overwrite=True)
    return changed


# the example circuit of an exported folder: a source drives the device's first terminal
# through a series resistor, the other terminals and the noise inputs sit at ground
EXAMPLE_READ = 0.1          # V: the source's DC value (the operating point)
EXAMPLE_PULSE = 0.5         # V: the transient's pulse top
EXAMPLE_SERIES = 1e3        # ohm
EXAMPLE_STEP, EXAMPLE_STOP = 1e-10, 20e-9      # s
EXAMPLE_DECKS = {"osdi": "example.osdi.cir", "subckt": "example.subckt.cir",
                 "vacask": "example.sim"}


def example_circuit(device, rendering: str = "osdi", params: Mapping[str, float] | None = None):
    """The circuit of the example decks :func:`export_folder` writes: V1 (``EXAMPLE_READ``
    DC, a pulse to ``EXAMPLE_PULSE`` in the transient) drives the first terminal through
    ``EXAMPLE_SERIES``; an operating point and a transient. ``rendering`` as in
    ``Device.add_to``; the device carries ``params`` as its values."""
    from neurospice.netlists import Circuit, Pulse

    c = Circuit(f"{device.name}: example deck written by neurospice models export")
    c.vsource("1", "in", "0", EXAMPLE_READ,
              waveform=Pulse(EXAMPLE_READ, EXAMPLE_PULSE, delay=2e-9, rise=1e-9, fall=1e-9,
                             width=8e-9))
    c.resistor("1", "in", "p", EXAMPLE_SERIES)
    nodes = ["p"] + ["0"] * (len(device.ports) - 1)
    device.add_to(c, "1", nodes, rendering=rendering, params=device.params(params))
    c.op()
    c.tran(EXAMPLE_STEP, EXAMPLE_STOP)
    return c


def _example_decks(device, params, osdi_name: str) -> dict[str, str]:
    """The example decks, name -> text: each refers to the card files beside it by relative
    paths (ngspice resolves ``.include`` and ``pre_osdi``, VACASK ``load``, from the deck's
    folder)."""
    va = device.committed_file("va").resolve()
    how = (f"* Run from any folder: ngspice -b -r out.raw {EXAMPLE_DECKS['osdi']}\n"
           "* (the card's paths are relative to this file).")
    osdi = example_circuit(device, "osdi", params).to_netlist("ngspice", osdi={va: osdi_name})
    lines = osdi.splitlines()
    osdi = "\n".join(lines[:1] + how.splitlines() + lines[1:]) + "\n"

    sub = example_circuit(device, "subckt", params).to_netlist("ngspice")
    start = sub.index(f".subckt {device.module} ")
    end = sub.index(f".ends {device.module}\n") + len(f".ends {device.module}\n")
    sub = (sub[:start] + f'.include "{device.name}.ngspice.lib"\n' + sub[end:])
    lines = sub.splitlines()
    sub = "\n".join(lines[:1] + [
        f"* Run from any folder: ngspice -b -r out.raw {EXAMPLE_DECKS['subckt']}",
        "* The subcircuit card holds its states in .op and transients, not in .dc sweeps "
        "(see its header)."] + lines[1:]) + "\n"

    vac = example_circuit(device, "osdi", params).to_netlist("vacask", osdi={va: osdi_name})
    lines = vac.splitlines()
    vac = "\n".join(lines[:1] + [
        f"// Run from any folder: vacask {EXAMPLE_DECKS['vacask']} (loads {osdi_name} from "
        "beside this file; each analysis writes <name>.raw in the working folder)"]
        + lines[1:]) + "\n"
    return {EXAMPLE_DECKS["osdi"]: osdi, EXAMPLE_DECKS["subckt"]: sub,
            EXAMPLE_DECKS["vacask"]: vac}


def export_folder(device, folder, params: Mapping[str, float] | None = None, *,
                  overwrite: bool = False, flag: str = "--force") -> list[Path]:
    """Write a self-contained folder for ``device`` with ``params`` as the card's values:
    the card of every dialect (``<name>.ngspice.lib``, ``<name>.xyce.lib``,
    ``<name>.vacask.inc``, ``<name>.va``), the compiled ``<name>.osdi`` where openvaf-r is
    present, the example decks of :data:`EXAMPLE_DECKS` (plain ngspice with the OSDI card and
    with the subcircuit card, plain VACASK), each including the card by a relative path, and a
    README.txt. Returns the files written. Existing files are replaced only with
    ``overwrite`` (else OutputExists naming ``flag``, checked for every file first)."""
    from neurospice.errors import SimulatorNotFound
    from neurospice.fileio import atomic_path, check_output
    from neurospice.simulators.openvaf import compile_va

    folder = Path(folder)
    values = device.params(params)
    cards = {f"{device.name}{'.' + d if d != 'verilog-a' else ''}"
             f"{'.lib' if d in ('ngspice', 'xyce') else '.inc' if d == 'vacask' else '.va'}":
             export(device, d, values) for d in DIALECTS}
    osdi_name = f"{device.name}.osdi"
    files = {**cards, **_example_decks(device, values, osdi_name)}
    files["README.txt"] = _folder_readme(device, osdi_name)
    targets = [folder / name for name in [*files, osdi_name]]
    for target in targets:
        check_output(target, overwrite=overwrite, flag=flag)
    written = [write_text_atomic(folder / name, text, overwrite=overwrite, flag=flag)
               for name, text in files.items()]
    try:
        compiled = compile_va(folder / f"{device.name}.va")
    except SimulatorNotFound:
        return written              # no openvaf-r: the README says how to compile
    with atomic_path(folder / osdi_name, overwrite=overwrite, flag=flag) as tmp:
        tmp.write_bytes(compiled.read_bytes())
    return written + [folder / osdi_name]


def _folder_readme(device, osdi_name: str) -> str:
    n = device.name
    return f"""{device.module}: {device.description}
Written by `neurospice models export {n} --out FOLDER`. Nothing here needs Python.

Cards (one device, four renderings; ports {' '.join(device.ports)}, noise inputs to 0 when unused):
  {n}.va            Verilog-A; compile: openvaf-r {n}.va -o {osdi_name}
  {osdi_name}          the compiled card (present where openvaf-r was found)
  {n}.ngspice.lib   behavioral subcircuit for ngspice (.include it)
  {n}.xyce.lib      behavioral subcircuit for Xyce
  {n}.vacask.inc    VACASK model card (loads {n}.va)

Example decks (paths relative to the deck, so they run from any working folder):
  ngspice -b -r out.raw {EXAMPLE_DECKS['osdi']}     OSDI card; sets num_threads=1 (an OSDI
                                                   card runs ~24x slower without it)
  ngspice -b -r out.raw {EXAMPLE_DECKS['subckt']}   subcircuit card
  vacask {EXAMPLE_DECKS['vacask']}                         OSDI card on VACASK

DC semantics: in .op and a transient's operating point every rendering holds a state at its
initial value (a programmed state stays programmed). In an ngspice .dc sweep the subcircuit
card does not (ngspice's `time` follows the sweep): sweep stateful devices with the OSDI card.
"""
