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


def read_card(path) -> dict[str, float]:
    """A parameter card: JSON ``{"params": {name: value}}`` (as calibration writes it) or
    a flat ``{name: value}``. A file that cannot be read, is not a regular file, is larger
    than ``CARD_MAX_BYTES``, is not UTF-8 JSON or not an object raises NetlistError."""
    path = Path(path)
    data = read_json(path, what="parameter card", max_bytes=CARD_MAX_BYTES, error=NetlistError)
    params = data.get("params", data) if isinstance(data, dict) else None
    if not isinstance(params, dict):
        raise NetlistError(f"{path}: expected a JSON object of parameter values")
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
