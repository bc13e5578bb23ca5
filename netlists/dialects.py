"""The one registry of dialects: each name with its writer, file suffix, comment marker and
the simulators that read it.

Every list of dialects in neurospice derives from :data:`DIALECTS`: ``Circuit.to_netlist``,
the device export (``neurospice.compact_models.export``), the command line's choices and each
simulator's dialect. Adding a dialect means adding its writer (in ``writers``) and one entry
here.

>>> DIALECTS["vacask"].suffix, DIALECTS["vacask"].simulators
('.sim', ('vacask',))
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

from neurospice.errors import NetlistError

__all__ = ["Dialect", "DIALECTS", "NETLIST_DIALECTS", "get_dialect", "dialect_of_simulator",
           "dialect_of_file"]


class Dialect(namedtuple("Dialect", ("name", "writer_name", "suffix", "comment", "simulators"),
                         defaults=((),))):
    """One dialect: ``writer_name`` names the class of :mod:`neurospice.netlists.writers`
    that renders a Circuit (None for ``verilog-a``, which is a device's module text, not a
    netlist), ``suffix`` names its files, ``comment`` starts a comment line, ``simulators``
    read it (first: the default one). (A named tuple: the registry builds no dataclass, so
    that ``neurospice sim`` on a deck file starts without the module.)"""

    __slots__ = ()

    @property
    def writer(self) -> type | None:
        """The writer class (None for ``verilog-a``), imported on first use: the registry
        itself imports no Circuit class, so a deck file runs without them."""
        if self.writer_name is None:
            return None
        from neurospice.netlists import writers  # noqa: PLC0415 - writers imports us

        return getattr(writers, self.writer_name)


DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect("ngspice", "NgspiceWriter", ".cir", "*", ("ngspice", "ngspice-shared")),
    Dialect("xyce", "XyceWriter", ".cir", "*", ("xyce",)),
    Dialect("vacask", "VacaskWriter", ".sim", "//", ("vacask",)),
    Dialect("verilog-a", None, ".va", "//"),
)}

# the dialects a Circuit renders to (the others are device exports only)
NETLIST_DIALECTS: tuple[str, ...] = tuple(n for n, d in DIALECTS.items() if d.writer_name)


def get_dialect(name: str, *, netlist: bool = False) -> Dialect:
    """The dialect called ``name``; with ``netlist=True`` only one a Circuit renders to.
    An unknown name raises NetlistError listing the choices."""
    choices = NETLIST_DIALECTS if netlist else tuple(DIALECTS)
    if name not in choices:
        raise NetlistError(f"unknown dialect {name!r} (choose from {', '.join(choices)})")
    return DIALECTS[name]


def dialect_of_simulator(simulator: str) -> Dialect:
    """The dialect the simulator called ``simulator`` reads (KeyError for an unknown one)."""
    for d in DIALECTS.values():
        if simulator in d.simulators:
            return d
    raise KeyError(f"no dialect is read by simulator {simulator!r}")


def dialect_of_file(path) -> Dialect:
    """The dialect a netlist file is in, told by its suffix (``.sim``: VACASK; any other:
    ngspice, the SPICE default)."""
    suffix = Path(path).suffix.lower()
    for d in DIALECTS.values():
        if d.writer_name is not None and d.suffix == suffix:
            return d
    return DIALECTS["ngspice"]
