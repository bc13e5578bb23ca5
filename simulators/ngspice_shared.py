"""ngspice as a library, through ctypes on libngspice.so (for many small runs).

The library lives in one persistent helper process (:mod:`.worker`), started on the first run
and kept between runs, so each run costs one pipe round trip (the deck down, the vectors up as
pickled numpy arrays; no file, no folder) and no program start, while every phase stays
bounded by the timeout: a helper that has not answered by then (loading a huge deck, a
``.control`` loop, a long analysis) is killed with its process group, and the next run starts
a fresh one. In the helper, the library is loaded once, lazily. Each run sends the deck with
``ngSpice_Circ``, loads the OSDI files named by ``pre_osdi`` lines of its ``.control`` section
(once per process), runs the analyses in the helper's own thread (as bare libngspice does: no
thread hand-off), reads every vector of the plots it made, then removes the circuit and
destroys the plots so that the next run starts fresh. ngspice's stdout/stderr arrive through
callbacks and form the log.

The library is found through ``$NEUROSPICE_LIBNGSPICE``, ``ctypes.util.find_library`` and the
usual library directories. Runs are serialised by a lock: libngspice holds one global state.
After ngspice calls its exit callback (a fatal error), the library is loaded afresh (from a
private copy) on the next run; after ``FRESH_COPIES_PER_HELPER`` such copies the helper
retires and a new one starts, so fatal errors never pile up memory. The log kept in memory
is the last ``LOG_MAX_BYTES`` of ngspice's output.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from neurospice.errors import NetlistError, SimulationFailed
from neurospice.netlists.values import check_value, fmt, ngspice_name

from .base import DEFAULT_TIMEOUT, Deck, ensure_end, is_circuit, write_deck
from .process import check_timeout
from .ngspice import NgspiceSimulator, in_card_order, ngspice_log_error, ngspice_version
from .process import HINT_NGSPICE, LOG_MAX_BYTES, tail
from .worker import Worker
from .result import AXIS_OF_KIND, Result, Results

__all__ = ["NgspiceSharedSimulator", "find_libngspice"]

_LIB_NAMES = ("libngspice.so", "libngspice.so.0", "libngspice.dylib", "ngspice.dll")
_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
             "/usr/lib", "/usr/local/lib", "/opt/homebrew/lib")


def find_libngspice() -> Path | None:
    """Path of libngspice ($NEUROSPICE_LIBNGSPICE, ctypes.util, usual dirs), or None."""
    override = os.environ.get("NEUROSPICE_LIBNGSPICE")
    if override:
        p = Path(override).expanduser()
        return p.resolve() if p.is_file() else None
    for d in _LIB_DIRS:
        for n in _LIB_NAMES:
            p = Path(d) / n
            if p.is_file():
                return p
    found = ctypes.util.find_library("ngspice")
    if found:
        p = Path(found)
        if p.is_absolute():
            return p
        for d in _LIB_DIRS:
            if (Path(d) / found).is_file():
                return Path(d) / found
        return p
    return None


class _NgComplex(ctypes.Structure):
    _fields_ = [("cx_real", ctypes.c_double), ("cx_imag", ctypes.c_double)]


class _VectorInfo(ctypes.Structure):
    _fields_ = [("v_name", ctypes.c_char_p), ("v_type", ctypes.c_int),
                ("v_flags", ctypes.c_short), ("v_realdata", ctypes.POINTER(ctypes.c_double)),
                ("v_compdata", ctypes.POINTER(_NgComplex)), ("v_length", ctypes.c_int)]


_SendChar = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p)
_SendStat = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p)
_ControlledExit = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_bool, ctypes.c_bool,
                                   ctypes.c_int, ctypes.c_void_p)
_SendData = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                             ctypes.c_void_p)
_SendInitData = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_BGThreadRunning = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_bool, ctypes.c_int, ctypes.c_void_p)

FRESH_COPIES_PER_HELPER = 20
"""Fresh library copies (one per fatal error) a helper process loads before it retires."""

_VF_COMPLEX = 2
_SV_TYPES = {1: "time", 2: "frequency", 3: "voltage", 4: "current"}


class _Library:
    """One loaded libngspice and its callbacks."""

    def __init__(self, path: Path):
        self.path = path
        self.log: list[str] = []
        self.log_bytes = 0
        self.exited = False
        self.running = False
        self.done = threading.Event()
        self.done.set()
        self.osdi_loaded: set[str] = set()
        self._callbacks = (_SendChar(self._on_char), _SendStat(self._on_stat),
                           _ControlledExit(self._on_exit), _SendData(0), _SendInitData(0),
                           _BGThreadRunning(self._on_bg))
        self.lib = ctypes.CDLL(str(path))
        lib = self.lib
        lib.ngSpice_Init.argtypes = [_SendChar, _SendStat, _ControlledExit, _SendData,
                                     _SendInitData, _BGThreadRunning, ctypes.c_void_p]
        lib.ngSpice_Init.restype = ctypes.c_int
        lib.ngSpice_Command.argtypes = [ctypes.c_char_p]
        lib.ngSpice_Command.restype = ctypes.c_int
        lib.ngSpice_Circ.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.ngSpice_Circ.restype = ctypes.c_int
        lib.ngGet_Vec_Info.argtypes = [ctypes.c_char_p]
        lib.ngGet_Vec_Info.restype = ctypes.POINTER(_VectorInfo)
        lib.ngSpice_AllPlots.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.ngSpice_AllVecs.argtypes = [ctypes.c_char_p]
        lib.ngSpice_AllVecs.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.ngSpice_running.restype = ctypes.c_bool
        lib.ngSpice_Init(*self._callbacks, None)
        self.command("set nomoremode")

    @classmethod
    def fresh_copy(cls, path: Path) -> _Library:
        """Load a private copy of the library (a fresh global state after a fatal exit).
        The copy is deleted once loaded: the process keeps its mapping, the disk keeps
        nothing."""
        tmpdir = Path(tempfile.mkdtemp(prefix="neurospice-libngspice-"))
        try:
            copy = tmpdir / path.name
            shutil.copy2(path, copy)
            return cls(copy)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    # callbacks (called from ngspice's threads)
    def _on_char(self, text, ident, user):
        line = text.decode("utf-8", "replace") if text else ""
        for prefix in ("stdout ", "stderr "):
            if line.startswith(prefix):
                line = line[len(prefix):]
                break
        self.log.append(line)
        self.log_bytes += len(line) + 1
        if self.log_bytes > LOG_MAX_BYTES:   # keep the last part; say what was dropped
            drop = 0
            while self.log_bytes > LOG_MAX_BYTES * 3 // 4 and drop < len(self.log):
                self.log_bytes -= len(self.log[drop]) + 1
                drop += 1
            del self.log[:drop]
            self.log.insert(0, "[... earlier lines of the log were dropped ...]")
        return 0

    def clear_log(self) -> None:
        self.log.clear()
        self.log_bytes = 0

    def _on_stat(self, text, ident, user):
        return 0

    def _on_exit(self, status, immediate, quitexit, ident, user):
        self.exited = True
        self.log.append(f"(ngspice requested exit, status {status})")
        return 0

    def _on_bg(self, not_running, ident, user):
        self.running = not not_running
        if not_running:
            self.done.set()
        return 0

    def command(self, cmd: str) -> int:
        return self.lib.ngSpice_Command(cmd.encode())

    def circ(self, lines: list[str]) -> int:
        arr = (ctypes.c_char_p * (len(lines) + 1))()
        arr[:-1] = [ln.encode() for ln in lines]
        arr[len(lines)] = None
        return self.lib.ngSpice_Circ(arr)

    def plots(self) -> list[str]:
        return _strings(self.lib.ngSpice_AllPlots())

    def vectors(self, plot: str) -> list[str]:
        return _strings(self.lib.ngSpice_AllVecs(plot.encode()))

    def vector(self, plot: str, name: str) -> tuple[np.ndarray, str] | None:
        ptr = self.lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
        if not ptr:
            return None
        info = ptr.contents
        n = info.v_length
        # one copy of the library's values (ctypes.string_at), read as float64: cheaper
        # than numpy.ctypeslib.as_array per vector
        if info.v_flags & _VF_COMPLEX and info.v_compdata:
            raw = np.frombuffer(ctypes.string_at(info.v_compdata, 16 * n), dtype=np.float64)
            data = raw[0::2] + 1j * raw[1::2]
        elif info.v_realdata:
            data = np.frombuffer(ctypes.string_at(info.v_realdata, 8 * n),
                                 dtype=np.float64).copy()
        else:
            data = np.zeros(0)
        return data, _SV_TYPES.get(info.v_type, "notype")


def _strings(ptr) -> list[str]:
    out = []
    if not ptr:
        return out
    i = 0
    while ptr[i] is not None:
        out.append(ptr[i].decode("utf-8", "replace"))
        i += 1
    return out


_lock = threading.Lock()
_library: _Library | None = None
_held: tuple[str, dict[str, str], list[str]] | None = None
"""The circuit a series left loaded: (netlist, commands that set back what was altered, the
variables its .control set, unset when it is removed: num_threads acts on every run)."""
_fresh_copies = 0
_cwd: str | None = None     # the helper's working folder, set by the last request
_worker = Worker("neurospice.simulators.ngspice_shared:serve_request")


def _get_library(path: Path) -> _Library:
    global _library, _fresh_copies
    if _library is None:
        _library = _Library(path)
    elif _library.exited:
        _library = _Library.fresh_copy(path)
        _fresh_copies += 1
    return _library


def serve_request(request, phase):
    """Run one request in the helper process (see :mod:`.worker`): ``("version", lib)``,
    ``("run", deck, text, cwd, timeout, lib)`` or ``("series", deck, text, cwd, timeout, lib,
    commands, restore)`` (see :meth:`NgspiceSharedSimulator.run_series`); returns the worker's
    answer: (value or exception, whether the helper retires after sending it)."""
    if request[0] == "version":
        with _lock:
            lib = _get_library(Path(request[1]))
            start = len(lib.log)
            lib.command("version -s")
            return "\n".join(lib.log[start:]), False
    global _held, _cwd
    _, deck, text, cwd, timeout, path = request[:6]
    if cwd != _cwd:             # relative paths in the deck are the caller's
        os.chdir(cwd)
        _cwd = cwd
    sim = NgspiceSharedSimulator()
    sim.phase = phase
    body, control = split_control(text)
    with _lock:
        lib = _get_library(Path(path))
        lib.clear_log()
        series = request[0] == "series"
        if _held is not None and not (series and _held[0] == text):
            sim._release(lib)       # the circuit a series left loaded
        try:
            if series:
                answer = sim._series_locked(lib, deck, text, body, control, timeout,
                                            request[6], request[7])
            else:
                answer = sim._run_locked(lib, deck, text, body, control, timeout)
        except Exception as exc:  # noqa: BLE001 - raised again in the caller
            answer = exc
        finally:
            if _held is None or lib.exited:
                sim._release(lib)
            else:
                lib.command("destroy all")     # the plots; the circuit stays loaded
        return answer, lib.exited and _fresh_copies >= FRESH_COPIES_PER_HELPER


_PLOT_KIND = re.compile(r"^(op|dc|ac|tran|noise)\d+$")
_CONTROL = re.compile(r"^\s*\.control\b(.*?)^\s*\.endc\b[^\n]*\n?", re.IGNORECASE | re.DOTALL
                      | re.MULTILINE)


def split_control(text: str) -> tuple[str, list[str]]:
    r"""(deck without its .control sections, the control lines). Lines end at ``\n`` only
    (never ``str.splitlines``, which also breaks at U+2028, ``\x0c``...: the deck gate has
    refused those)."""
    lines: list[str] = []
    for m in _CONTROL.finditer(text):
        lines += [ln.strip() for ln in m.group(1).split("\n") if ln.strip()
                  and not ln.strip().startswith("*")]
    return _CONTROL.sub("", text), lines


def _alter_target(circuit, name: str, run: int) -> tuple[str, float]:
    """What ``alter`` sets for the series key ``name`` (``"vin"``: a source's DC value;
    ``"n1.rp"``: an instance parameter), and its value in ``circuit``."""
    from neurospice.netlists import CurrentSource, VoltageSource   # noqa: PLC0415

    head, dot, param = name.lower().partition(".")
    element = circuit.elements.get(head)
    if not dot:
        if not isinstance(element, (VoltageSource, CurrentSource)):
            raise NetlistError(f"run {run}: {name[:80]!r} is not an independent source of "
                               "the circuit (nor element.parameter)")
        original = element.dc
        target = f"{head} dc"
    else:
        params = {str(k).lower(): v for k, v in (getattr(element, "params", None) or {}).items()}
        if element is None or param not in params:
            raise NetlistError(f"run {run}: {name[:80]!r} is not a parameter set on an "
                               "instance of the circuit (element.parameter)")
        original = params[param]
        target = f"{head} {param}"
    if isinstance(original, bool) or not isinstance(original, (int, float)):
        raise NetlistError(f"run {run}: {name[:80]!r} is {original!r} in the circuit, not a "
                           "number that alter can set back", element=head)
    return target, float(original)


class NgspiceSharedSimulator(NgspiceSimulator):
    """ngspice in this process via libngspice (same names, same errors as batch ngspice)."""

    name = "ngspice-shared"
    env_var = "NEUROSPICE_LIBNGSPICE"
    in_process = True
    needs_folder = False     # the deck goes through a pipe; a kept run gets its deck.cir
    hint = HINT_NGSPICE + " (libngspice0-dev provides libngspice.so)"

    def locate(self):
        return find_libngspice()

    def include_bases(self, workdir: Path) -> list[Path]:
        # ngSpice_Circ gets no file name: ngspice resolves relative paths from this
        # process's working folder
        return [Path.cwd()]

    def query_version(self) -> str:
        with _lock:
            text = _worker.call(("version", str(self.executable)), timeout=60,
                                simulator=self.name)
        return ngspice_version(text)

    @staticmethod
    def phase(text: str) -> None:
        """Tell the caller what the run is doing (set in the helper process)."""

    def run_deck(self, deck: Deck, workdir: Path | None, timeout: float | None) -> Results:
        text = ensure_end(deck.text)
        if workdir is not None:     # a kept run or a given folder: the deck for the record
            write_deck(workdir / "deck.cir", text)
        deck = Deck(text, deck.analyses, deck.source, deck.untrusted)  # one string, pickled once
        with _lock:
            answer = _worker.call(("run", deck, text, os.getcwd(), timeout,
                                   str(self.executable)), timeout=timeout, simulator=self.name)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def run_series(self, circuit, changes, *, timeout: float | None = DEFAULT_TIMEOUT
                   ) -> list[Results]:
        """Build once, run many: render and load ``circuit`` once, then for each mapping in
        ``changes`` set what it names with ngspice's ``alter`` and run the circuit's analyses
        again; return one Results per mapping. A mapping's keys are an independent source's
        name (its DC value) or ``"element.param"``, a parameter set on a device instance of the
        circuit (``"n1.rp"`` for a Verilog-A card instance ``N1 ... rp=2500``); a value keeps
        until a later mapping of the series changes it.

        The helper keeps the circuit loaded after the series: a later series of the same
        netlist starts from the deck's own values again (what the previous series altered
        is set back) without loading it anew, which is what makes a fit with ngspice in the
        loop cheap. Any other run removes it. ``timeout`` bounds the whole series. Raises
        NetlistError for a name that is neither, a parameter the instance does not set to a
        number, or a value that is not a finite number, and what :meth:`run` raises."""
        timeout = check_timeout(timeout)
        if not is_circuit(circuit):
            raise TypeError("run_series takes a Circuit")
        commands, restore = [], {}
        for k, change in enumerate(changes):
            lines = []
            for name, value in dict(change).items():
                target, original = _alter_target(circuit, str(name), k)
                v = check_value(value, what=f"run {k}: value of {name}", element=target)
                lines.append(f"alter {target} = {fmt(v)}")
                restore[target] = f"alter {target} = {fmt(original)}"
            commands.append(lines)
        if not commands:
            return []
        self.require()
        deck = self.admit(self.prepare(circuit, None), None)
        text = ensure_end(deck.text)
        deck = Deck(text, deck.analyses, deck.source, deck.untrusted)
        with _lock:
            answer = _worker.call(("series", deck, text, os.getcwd(), timeout,
                                   str(self.executable), commands, restore), timeout=timeout,
                                  simulator=self.name)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _series_locked(self, lib: _Library, deck: Deck, text: str, body: str,
                       control: list[str], timeout: float | None, commands: list[list[str]],
                       restore: dict[str, str]) -> list[Results]:
        global _held
        out = []
        try:
            if _held is not None and _held[0] == text:     # loaded: set back what was altered
                for line in _held[1].values():
                    lib.command(line)
                _held[1].update(restore)
            else:
                _held = (text, dict(restore), [])
                self._load(lib, text, body, control, _held[2])
            for lines in commands:
                lib.command("destroy all")      # the previous run's plots, not the circuit
                lib.clear_log()
                for line in lines:
                    lib.command(line)
                error = ngspice_log_error(self, "\n".join(lib.log), text)
                if error is not None:
                    raise error
                out.append(self._analyse(lib, deck, text))
            return out
        except BaseException:
            self._release(lib)
            raise

    def _release(self, lib: _Library) -> None:
        """Remove the circuit a series left loaded (if any), unset its variables, and clean
        up as after any run."""
        global _held
        if _held is not None and not lib.exited:
            for name in _held[2]:
                lib.command(f"unset {name}")
        _held = None
        self._cleanup(lib)

    def _run_locked(self, lib: _Library, deck: Deck, text: str, body: str, control: list[str],
                    timeout: float | None) -> Results:
        set_here: list[str] = []  # the library lives on: undo this deck's variables after it
        try:
            return self._load_and_run(lib, deck, text, body, control, timeout, set_here)
        finally:
            for name in set_here:
                lib.command(f"unset {name}")

    def _load_and_run(self, lib: _Library, deck: Deck, text: str, body: str,
                      control: list[str], timeout: float | None, set_here: list[str]
                      ) -> Results:
        self._load(lib, text, body, control, set_here)
        return self._analyse(lib, deck, text)

    def _load(self, lib: _Library, text: str, body: str, control: list[str],
              set_here: list[str]) -> None:
        for line in control:
            parts = line.split(None, 1)
            if parts[0].lower() == "pre_osdi" and len(parts) == 2:
                path = parts[1].strip().strip('"')
                if path not in lib.osdi_loaded:
                    lib.command(f"osdi {path}")
                    lib.osdi_loaded.add(path)
            elif parts[0].lower() == "set":
                lib.command(line)  # variables such as num_threads act when the circuit loads
                name = parts[1].split("=", 1)[0].strip() if len(parts) == 2 else ""
                if name:
                    set_here.append(name)
        self.phase("loading the deck")
        status = lib.circ(body.rstrip("\n").split("\n"))
        log = "\n".join(lib.log)
        error = ngspice_log_error(self, log, text)
        if error is None and (status != 0 or lib.exited):
            error = SimulationFailed("ngspice could not load the circuit; last lines of its "
                                     "log:\n" + tail(log), simulator=self.name, log=log)
        if error is not None:
            raise error
        self.phase("running its .control commands")
        for line in control:
            word = line.split(None, 1)[0].lower()
            if word in ("pre_osdi", "set", "quit", "exit"):
                continue
            if word == "run":
                continue  # the analyses run below (_analyse)
            lib.command(line)

    def _analyse(self, lib: _Library, deck: Deck, text: str) -> Results:
        self.phase("running the analysis")
        # in this thread, as bare libngspice runs it: no thread hand-off per run. ngspice
        # cannot halt it from here; the parent kills the helper at the timeout
        lib.command("run")
        log = "\n".join(lib.log)
        error = ngspice_log_error(self, log, text)
        if error is None and lib.exited:
            error = SimulationFailed("ngspice stopped with a fatal error; last lines of its "
                                     "log:\n" + tail(log), simulator=self.name, log=log)
        if error is not None:
            raise error
        results = in_card_order(self._collect(lib, text, log), text)
        return Results(self.match(deck, results, log), netlist=text, log=log,
                       simulator=self.name)

    def _collect(self, lib: _Library, text: str, log: str) -> list[Result]:
        found = []
        for plot in lib.plots():
            m = _PLOT_KIND.match(plot)
            if m:
                found.append((m.group(1), int(re.sub(r"\D", "", plot)), plot))
        found.sort(key=lambda t: t[1])
        results: list[Result] = []
        for kind, _, plot in found:
            vectors, units, scalars = {}, {}, {}
            for vname in reversed(lib.vectors(plot)):  # ngspice lists newest first
                got = lib.vector(plot, vname)
                if got is None:
                    continue
                data, vtype = got
                common = ngspice_name(vname, vtype)
                if kind == "dc" and vname.lower().endswith("-sweep"):
                    common = "sweep"
                    units["sweep"] = {"v": "V", "i": "A"}.get(vname[:1].lower(), "")
                if common == AXIS_OF_KIND[kind] and np.iscomplexobj(data):
                    data = data.real.copy()
                vectors[common] = data
                scalars[common] = data
            if kind == "noise" and "frequency" not in vectors:
                if results and results[-1].kind == "noise":
                    results[-1].meta["integrated"] = {k: v.reshape(-1)[0].item()
                                                      for k, v in scalars.items()}
                continue
            axis = AXIS_OF_KIND[kind]
            if axis is not None and axis not in vectors:
                continue
            if axis is not None:
                vectors = {axis: vectors.pop(axis), **vectors}
            results.append(Result(kind, vectors, name=plot, units=units, netlist=text, log=log,
                                  simulator=self.name))
        for r in results:  # plot names (tran1, tran2...) are ngspice's, not the user's
            r.name = r.kind
        return results

    def _cleanup(self, lib: _Library) -> None:
        if lib.exited:
            return
        if lib.lib.ngSpice_running():
            lib.command("bg_halt")
            lib.done.wait(10)
        lib.command("destroy all")
        lib.command("remcirc")
