"""The typed exceptions of neurospice: one module, each subclassing a builtin.

Raise once, with everything a user needs to act in the message; never print and raise.
"""

from __future__ import annotations


class NeurospiceError(Exception):
    """Base class of every error neurospice raises on purpose."""

    def __reduce__(self):
        # Pickled (to and from worker and plotting processes) as it is: message and
        # attributes; the subclasses' __init__ take other arguments than their message.
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(cls, args, state):
    """An error unpickled: ``args`` and attributes set without calling ``__init__``."""
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


def _located(message: str, *where: str | None) -> str:
    """``"a, b: message"`` from the parts of ``where`` that are given."""
    parts = [w for w in where if w is not None]
    return f"{', '.join(parts)}: {message}" if parts else message


class NetlistError(NeurospiceError, ValueError):
    """A circuit or netlist that cannot be written or parsed: names the element or line."""

    def __init__(self, message: str, *, element: str | None = None, line: int | None = None):
        self.element = element
        self.line = line
        super().__init__(_located(message, None if element is None else f"element {element!r}",
                                  None if line is None else f"line {line}"))


class UntrustedDeck(NetlistError):
    """A deck from outside asks for something that can touch the system (a shell command, a
    file outside the allowed folders, a library to load). Raised before the simulator sees
    the deck; names the file (when not the deck itself), the line and the ``construct``.
    Opt out, for a deck whose author you trust, with ``trusted=True`` (``neurospice sim
    --trust``)."""

    def __init__(self, message: str, *, construct: str, line: int | None = None,
                 line_text: str | None = None, path: str | None = None):
        self.element = None
        self.line = line
        self.construct = construct
        self.line_text = line_text
        self.path = path
        text = _located(message, path, None if line is None else f"line {line}")
        if line_text:
            text += f"\n  {line_text}"
        NeurospiceError.__init__(self, text)


class SimulatorNotFound(NeurospiceError, RuntimeError):
    """A simulator or compiler executable is missing; the message says how to install it."""

    def __init__(self, name: str, hint: str):
        self.name = name
        self.hint = hint
        super().__init__(f"{name} not found. {hint}")


class SimulationFailed(NeurospiceError, RuntimeError):
    """The simulator ran but produced no valid result.

    ``log`` holds the simulator's own output; ``netlist_line`` (1-based) and ``line_text``
    point at the offending netlist line when the simulator named one.
    """

    def __init__(self, message: str, *, simulator: str = "", log: str = "",
                 netlist_line: int | None = None, line_text: str | None = None):
        self.simulator = simulator
        self.log = log
        self.netlist_line = netlist_line
        self.line_text = line_text
        text = f"{simulator}: {message}" if simulator else message
        if netlist_line is not None:
            text += f"\n  at netlist line {netlist_line}: {line_text}"
        super().__init__(text)


class ConvergenceError(SimulationFailed):
    """Newton iterations or time stepping did not converge (the message says where)."""


class SimulationTimeout(SimulationFailed):
    """The simulator ran longer than the allowed time and was stopped."""


class CompileError(SimulationFailed):
    """openvaf-r could not compile a Verilog-A file (the message holds its diagnostics)."""


class ArgumentError(NeurospiceError, ValueError):
    """An argument outside its domain (a timeout that is NaN, negative or infinite): the
    message names the argument and what it accepts."""


class UnsupportedPoint(NetlistError, ArgumentError):
    """A point a simulator or rendering cannot do, refused before anything runs: the message
    names which (Xyce with a Verilog-A instance, a value outside a preset's declared
    operating range, an RF transient of too many junctions) and why. Both a NetlistError and
    an ArgumentError, so what caught either still does; a sweep records it per point."""


class DataError(NeurospiceError, ValueError):
    """Bad measured data: names the file, the column and the row."""

    def __init__(self, message: str, *, path: str | None = None, column: str | None = None,
                 row: int | None = None):
        self.path = path
        self.column = column
        self.row = row
        super().__init__(_located(message, None if path is None else str(path),
                                  None if column is None else f"column {column!r}",
                                  None if row is None else f"row {row}"))


class CalibrationError(NeurospiceError, RuntimeError):
    """A fit that could not run or did not produce a usable result."""


class OutputError(NeurospiceError, OSError):
    """An output that cannot be written (a read-only folder, a full disk, a path that is a
    folder, an output that is one of the command's inputs): names the path and the reason."""

    def __init__(self, message: str, *, path: str | None = None):
        self.path = None if path is None else str(path)
        super().__init__(_located(message, self.path))


class OutputExists(OutputError, FileExistsError):
    """An output file or folder exists and would be replaced: names the path and the option
    that allows it (``--force`` on the command line, ``overwrite=True`` in Python)."""
