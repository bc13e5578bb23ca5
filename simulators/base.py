"""The simulator interface and what every back end shares.

A back end says how to find its executable, how to run a deck and how to read its output;
``Simulator.run`` does the rest: working directory, preparing the deck (compiling Verilog-A,
writing the files a netlist loads), matching the output to the requested analyses, typed
errors. ``BatchSimulator`` is the skeleton of a back end that runs one process writing one
SPICE3 raw file (ngspice and Xyce). Process helpers live in ``process``, a leaf module.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from abc import ABC, abstractmethod
from collections import namedtuple
from pathlib import Path

from neurospice.errors import NetlistError, SimulationFailed, SimulatorNotFound
from neurospice.fileio import read_text, write_text_atomic
from neurospice.netlists.dialects import Dialect, dialect_of_simulator
from neurospice.paths import cache_dir

from .names import normalize_noise
from .openvaf import compile_va
from .process import (check_timeout, release_run_folder, run_process, tail,
                      take_run_folder, trap_sigterm)
from .rawfile import RawFileError, RawPlot, read_raw
from .result import KINDS, Result, Results
from .trust import check_deck, check_line_breaks

__all__ = ["Simulator", "BatchSimulator", "Analysis", "Deck", "line_of", "ensure_end",
           "circuit_analyses", "spice_lines", "spice_analyses", "DECK_MAX_BYTES",
           "DECK_MAX_LINES", "check_deck_size", "read_deck_file", "write_deck",
           "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 600.0
"""Seconds one run may take unless told otherwise: the one default of ``Simulator.run``,
``run_many``, the sweeps and ``neurospice sim``/``sweep`` (``None`` means no limit)."""

DECK_MAX_BYTES = 50 * 1024 ** 2
"""The largest deck a simulator is given (50 MiB of text); ``Simulator.max_deck_bytes``."""
DECK_MAX_LINES = 1_000_000
"""The most lines a deck may have (10^6); ``Simulator.max_deck_lines``."""


def check_deck_size(text: str, max_bytes: int = DECK_MAX_BYTES,
                    max_lines: int = DECK_MAX_LINES) -> None:
    """Refuse (NetlistError) a deck over ``max_bytes`` characters or ``max_lines`` lines,
    before a simulator spends minutes and gigabytes parsing it."""
    if len(text) > max_bytes:
        raise NetlistError(f"the deck holds {len(text)} characters, more than the cap of "
                           f"{max_bytes} (Simulator.max_deck_bytes)")
    lines = text.count("\n") + 1
    if lines > max_lines:
        raise NetlistError(f"the deck has {lines} lines, more than the cap of {max_lines} "
                           "(Simulator.max_deck_lines)")


def read_deck_file(path, *, max_bytes: int = DECK_MAX_BYTES) -> str:
    """The text of the netlist file at ``path``: a regular file of at most ``max_bytes``
    bytes (checked on the open file before reading), UTF-8 (read by
    :func:`neurospice.fileio.read_text`). A device, FIFO or folder, a larger file, one that
    cannot be read or is not UTF-8 (with the line) raises NetlistError naming it."""
    return read_text(path, what="netlist", max_bytes=max_bytes, error=NetlistError)


def write_deck(path: Path, text: str) -> None:
    """Write the deck ``text`` (UTF-8) to ``path`` in the run folder, for the simulator to
    read: one ``os.open``/``os.write`` (``Path.write_text`` built a text wrapper around the
    file: 30 us more a run)."""
    data = memoryview(text.encode())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


class Analysis(namedtuple("Analysis", ("kind", "name"), defaults=(None,))):
    """An analysis the run must produce: its kind and, where known, its name.

    (A named tuple, as :class:`Deck` is a plain class: the run path builds no dataclasses,
    whose module costs ``neurospice sim`` a sixth of its start-up.)"""

    __slots__ = ()


class Deck:
    """The netlist text a simulator will read, and the analyses it must produce.

    ``source``: "text", "circuit" or "pyspice"; ``untrusted``: text from outside, the
    simulator runs with its own guards on."""

    __slots__ = ("text", "analyses", "source", "untrusted")

    def __init__(self, text: str, analyses: list[Analysis] | None = None,
                 source: str = "text", untrusted: bool = False):
        self.text = text
        self.analyses = analyses if analyses is not None else []
        self.source = source
        self.untrusted = untrusted

    def __repr__(self) -> str:
        return (f"Deck(text={self.text!r}, analyses={self.analyses!r}, "
                f"source={self.source!r}, untrusted={self.untrusted!r})")


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


def ensure_end(text: str) -> str:
    """The deck with a final ``.end`` card (SPICE needs one, PySpice does not write it)."""
    lines = text.rstrip().splitlines()
    if not lines or lines[-1].strip().lower() != ".end":
        lines.append(".end")
    return "\n".join(lines) + "\n"


def is_pyspice_circuit(obj) -> bool:
    return type(obj).__module__.startswith("PySpice")


def is_circuit(obj) -> bool:
    return hasattr(obj, "to_netlist") and hasattr(obj, "analyses")


def circuit_analyses(circuit) -> list[Analysis]:
    """The analyses a Circuit asks for, in order."""
    found = []
    for a in circuit.analyses:
        kind = str(getattr(a, "kind", "")).lower()
        if kind not in KINDS:
            raise NetlistError(f"analysis {a!r} has kind {kind!r}; expected one of {KINDS}")
        found.append(Analysis(kind, getattr(a, "name", None)))
    return found


_MEAS_CARD = re.compile(r"^\s*\.meas", re.IGNORECASE | re.MULTILINE)
_SPICE_CARD = re.compile(r"^\s*\.(op|dc|ac|tran|noise)\b", re.IGNORECASE)


def spice_lines(text: str):
    """The lines of a SPICE deck after its title with whether each sits in a .control
    block: (in, line)."""
    in_control = False
    lines = iter(text.splitlines())
    next(lines, None)
    for line in lines:
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
    needs_folder: bool = True    # False: a run needs no folder of its own unless kept
    max_deck_bytes: int = DECK_MAX_BYTES   # caps on the deck (check_deck_size)
    max_deck_lines: int = DECK_MAX_LINES
    loads_osdi: bool = True      # loads compiled Verilog-A (.osdi); False: subcircuits only

    def __init__(self):
        self._executable: Path | None = None
        self._version: str | None = None

    # ---- discovery (lazy) ---------------------------------------------------------------
    @abstractmethod
    def locate(self) -> Path | None:
        """Find the executable (or library); None when absent."""

    @property
    def executable(self) -> Path | None:
        """Path of the executable (or shared library), or None when it cannot be found."""
        if self._executable is None:
            self._executable = self.locate()
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
            self._version = self.query_version() if self.is_available() else ""
        return self._version

    @abstractmethod
    def query_version(self) -> str:
        """Ask the executable (or library) for its version; called once, when available."""

    # ---- running ------------------------------------------------------------------------
    def run(self, circuit_or_text, *, timeout: float | None = DEFAULT_TIMEOUT,
            workdir=None,
            keep: bool = False, trusted: bool = False, allow=()) -> Results:
        """Simulate a Circuit, a PySpice circuit or netlist text; return its Results.

        Runs in an empty temporary folder of its own (a new one, or one an earlier run of this
        process released: :func:`~neurospice.simulators.process.take_run_folder`), emptied
        afterwards unless ``keep`` is true or ``workdir`` is given, also when the run is
        interrupted (while it runs in the main thread, SIGTERM raises SystemExit, so the
        simulator is killed and the folder emptied; the process removes its folders when it
        exits). A back end whose runs write no files (:attr:`needs_folder` false) uses no
        folder unless ``keep``.
        Resources: ``timeout`` (seconds or None; else ArgumentError) bounds every phase, from
        loading the deck through its control commands to the analyses; decks over
        :attr:`max_deck_bytes` / :attr:`max_deck_lines` are refused (NetlistError).
        Netlist text is untrusted unless ``trusted`` is true: before the simulator sees it,
        shell escapes, control blocks, embedded files and includes outside the run folder,
        the neurospice cache and the folders in ``allow`` are refused (see
        :mod:`neurospice.simulators.trust`). Raises UntrustedDeck, NetlistError,
        SimulatorNotFound, SimulationFailed, ConvergenceError or SimulationTimeout.
        """
        timeout = check_timeout(timeout)
        if isinstance(circuit_or_text, str):
            check_deck_size(circuit_or_text, self.max_deck_bytes, self.max_deck_lines)
        self.require()
        measures = self.measures_of(circuit_or_text)
        restore_sigterm = trap_sigterm()
        own_dir = workdir is None
        if not own_dir:
            wd = Path(workdir)
        elif keep:
            wd = Path(tempfile.mkdtemp(prefix=f"neurospice-{self.name}-"))
        elif self.needs_folder:     # an earlier run's folder, emptied, or a new one
            wd = take_run_folder(f"neurospice-{self.name}-")
        else:
            wd = None       # an in-process run writes nothing: no folder to make and remove
        try:
            if wd is not None:
                wd.mkdir(parents=True, exist_ok=True)
            deck = self.admit(self.prepare(circuit_or_text, wd), wd, trusted=trusted,
                              allow=allow)
            check_deck_size(deck.text, self.max_deck_bytes, self.max_deck_lines)
            results = self.run_deck(deck, wd, timeout)
            results = Results([normalize_noise(r) if r.kind == "noise" else r for r in results],
                              netlist=results.netlist, log=results.log,
                              simulator=results.simulator)
            if measures:
                from .measure import attach_measurements  # noqa: PLC0415 - numpy's

                attach_measurements(results, measures)
            results.workdir = wd if (keep or not own_dir) else None
            return results
        finally:
            if own_dir and not keep and wd is not None:
                release_run_folder(wd, f"neurospice-{self.name}-")
            restore_sigterm()

    def measures_of(self, circuit_or_text) -> list:
        """The measurements a run computes from its Results (see
        :mod:`~neurospice.simulators.measure`): a Circuit's ``measures``, or the ``.meas``
        cards of SPICE netlist text (ngspice and Xyce dialects)."""
        if isinstance(circuit_or_text, (str, bytes)):
            if self.dialect not in ("ngspice", "xyce"):
                return []
            text = circuit_or_text.decode() if isinstance(circuit_or_text, bytes) \
                else circuit_or_text
            if not _MEAS_CARD.search(text):     # no card to read: the reader is not loaded
                return []
            from neurospice.netlists.reader import read_measures  # noqa: PLC0415

            return read_measures(text)
        return list(getattr(circuit_or_text, "measures", None) or [])

    def run_many(self, circuits, *, workers: int | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT, progress=None, on_error=None,
                 fail_fast: bool = False, trusted: bool = False, allow=(),
                 executor=None) -> list:
        """Run independent circuits (or netlist texts), ``workers`` at a time, and return
        their outcomes in the order given: a Monte-Carlo over device draws, a parameter
        sweep. Each run is its own simulator process, so the workers are threads; the default
        is one per CPU core, and an in-process simulator runs one at a time. ``circuits`` may
        be a generator: it is drawn from only as workers free up, so large circuits are not
        all held at once. ``timeout`` bounds each run (:data:`DEFAULT_TIMEOUT` as for
        :meth:`run`); ``trusted`` and ``allow`` apply to every netlist text as in :meth:`run`.

        ``executor``: where the runs go instead of the own thread pool: a
        ``concurrent.futures.Executor`` or a ``distributed.Client`` (the circuits are shipped
        to the workers, which run this simulator by name; see
        :mod:`neurospice.simulators.executors`). ``workers`` then bounds nothing but the
        number of circuits drawn ahead.

        A failed run does not stop the others: its place in the returned list holds the
        exception it raised (like ``asyncio.gather(..., return_exceptions=True)``), with a
        note naming the run, and every finished run's Results are kept. A failure is
        reported as soon as it happens: ``on_error(index, exc)`` is called (index 0-based in
        input order); without one, a line naming the run and the error goes to stderr.
        ``progress``, if given, is called as ``progress(done, total)`` after each run,
        failed or not (``total`` None for a generator); with None, a bar is shown on a
        terminal (:func:`neurospice.progress.progress`).

        With ``fail_fast`` the first failure is raised as it came, with the note naming the
        run, after the runs already started have finished; no further run is started."""
        from neurospice.progress import progress as progress_bar

        from .executors import stream

        if executor is None:
            self.require()
        total = len(circuits) if hasattr(circuits, "__len__") else None
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if executor is None:
            workers = 1 if self.in_process else (workers or os.cpu_count() or 1)
            extra = ()

            def fn(c, timeout, trusted, allow):
                return self.run(c, timeout=timeout, trusted=trusted, allow=allow)
        else:
            fn, extra = run_by_name, (self.name,)
        out: dict[int, object] = {}
        first_failure: list[BaseException] = []

        def jobs():
            for k, c in enumerate(circuits):
                if first_failure:
                    return
                yield k, (*extra, c, timeout, trusted, allow)

        bar = progress_bar(None, total=total, desc=f"runs ({self.name})", unit="run",
                           enabled=False if progress is not None else None)
        try:
            for k, outcome in stream(fn, jobs(), executor=executor, workers=workers):
                if isinstance(outcome, Exception):
                    exc = outcome
                    exc.add_note(f"in run {k + 1}" + (f" of {total}" if total else "")
                                 + f" ({self.name})")
                    if on_error is not None:
                        on_error(k, exc)
                    elif not fail_fast:
                        first = str(exc).strip().splitlines()
                        print(f"neurospice: run {k + 1}" + (f" of {total}" if total else "")
                              + f" ({self.name}) failed: {type(exc).__name__}: "
                              + (first[0] if first else ""), file=sys.stderr)
                    if fail_fast and not first_failure:
                        first_failure.append(exc)
                out[k] = outcome
                bar.update(1)
                if progress is not None:
                    progress(len(out), total)
        finally:
            bar.close()
        if first_failure:
            raise first_failure[0]
        return [out[k] for k in range(len(out))]

    @property
    def dialect(self) -> str:
        """The netlist dialect this simulator reads (from the dialect registry)."""
        return dialect_of_simulator(self.name).name

    @property
    def dialect_info(self) -> Dialect:
        """The registry entry of :attr:`dialect`: writer, file suffix, comment marker."""
        return dialect_of_simulator(self.name)

    def prepare(self, circuit_or_text, workdir: Path) -> Deck:
        """Turn the input into a Deck (netlist text + expected analyses). For a Circuit:
        compile its Verilog-A models, render it, and write the files the netlist loads
        beside itself (see :meth:`materialise`)."""
        if isinstance(circuit_or_text, (str, bytes)):
            text = circuit_or_text.decode() if isinstance(circuit_or_text, bytes) \
                else circuit_or_text
            return Deck(text, self.text_analyses(text), "text")
        if is_pyspice_circuit(circuit_or_text):
            return self.prepare_pyspice(circuit_or_text)
        if is_circuit(circuit_or_text):
            c = circuit_or_text
            osdi = {Path(s): compile_va(s) for s in c.verilog_a_sources(self.dialect)}
            render = getattr(c, "render", None)
            if render is None:      # a circuit-like object that only writes text
                return Deck(c.to_netlist(self.dialect, osdi=osdi), circuit_analyses(c),
                            "circuit")
            rendered = render(self.dialect, osdi=osdi)
            compiled = self.materialise(rendered.files, workdir)
            if compiled:            # the netlist now loads the compiled files
                rendered = render(self.dialect, osdi={**osdi, **compiled})
            return Deck(rendered.netlist, circuit_analyses(c), "circuit")
        raise TypeError(f"{self.name}.run() takes netlist text or a Circuit, not "
                        f"{type(circuit_or_text).__name__}")

    def admit(self, deck: Deck, workdir: Path, *, trusted: bool = False, allow=()) -> Deck:
        """The deck gate, between :meth:`prepare` and :meth:`run_deck`: every deck passes
        :func:`~neurospice.simulators.trust.check_line_breaks` (one line stays one line); a
        rendered Circuit is checked for what its writer never emits; netlist text, unless
        ``trusted``, is scanned with :func:`~neurospice.simulators.trust.check_deck` (files
        readable from ``workdir``, the neurospice cache and ``allow``) and marked untrusted.
        Raises NetlistError or UntrustedDeck naming the line."""
        text = check_line_breaks(deck.text)
        untrusted = deck.source == "text" and not trusted
        if deck.source == "circuit":
            check_deck(text, self.dialect, circuit=True)
        elif untrusted:
            allowed = [*([Path(workdir)] if workdir is not None else []), cache_dir(),
                       *(Path(a) for a in allow)]
            text = check_deck(text, self.dialect, allowed=allowed,
                              bases=self.include_bases(workdir))
        return Deck(text, deck.analyses, deck.source, untrusted)

    def include_bases(self, workdir: Path) -> list[Path]:
        """The folders the simulator resolves a deck's relative include paths from."""
        return [Path(workdir)]

    @staticmethod
    def materialise(files, workdir: Path) -> dict[str, Path]:
        """Write the files a rendered netlist loads beside itself; return the compiled .osdi
        of each generated Verilog-A file (name -> path). A .va file goes to the compile cache
        (its name is a hash of its text, so equal text shares one file and one compilation);
        any other file into ``workdir``."""
        compiled = {}
        for name, text in files.items():
            if name.endswith(".va"):
                path = cache_dir("va") / name
                if not path.is_file() or path.read_text() != text:
                    write_text_atomic(path, text, overwrite=True)
                compiled[name] = compile_va(path)
            elif workdir is None:
                raise NetlistError(f"the netlist loads {name} beside itself, and this run has "
                                   "no folder (a back end with needs_folder false)")
            else:
                write_text_atomic(Path(workdir) / name, text, overwrite=True)
        return compiled

    def prepare_pyspice(self, circuit) -> Deck:
        raise NetlistError(f"{self.name} cannot run a PySpice circuit (its text is an ngspice "
                           "deck); use the ngspice or ngspice-shared simulator")

    @abstractmethod
    def text_analyses(self, text: str) -> list[Analysis]:
        """The analyses a netlist text asks for, in order."""

    @abstractmethod
    def run_deck(self, deck: Deck, workdir: Path, timeout: float | None) -> Results:
        """Run a prepared deck in ``workdir`` (None for a back end whose runs need no folder,
        :attr:`needs_folder`); return its Results in the order asked."""

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


class BatchSimulator(Simulator):
    """A simulator run as one process per deck that writes one SPICE3 raw file (ngspice,
    Xyce). The skeleton: write the deck, run :meth:`command`, scan the log with
    :meth:`log_error`, read the raw file and turn its plots into Results with
    :meth:`plots_to_results`. A back end overrides those three (and :meth:`environment`)."""

    raw_name = "out.raw"

    @abstractmethod
    def command(self, deck_file: str, raw_file: str) -> list[str]:
        """The command line that runs ``deck_file`` writing ``raw_file`` (names in the run
        folder, which is the working directory)."""

    def environment(self) -> dict | None:
        """The process environment (None: this process's own)."""
        return None

    @abstractmethod
    def log_error(self, log: str, netlist: str) -> SimulationFailed | None:
        """The first error the log reports, as a typed exception; None when clean."""

    @abstractmethod
    def plots_to_results(self, plots: list[RawPlot], netlist: str, log: str) -> list[Result]:
        """The raw file's plots as Results, in the order the analyses were asked for."""

    def no_output(self, deck: Deck, code: int, log: str) -> SimulationFailed:
        """The error for a run that wrote no raw file."""
        why = "" if deck.analyses else " (the netlist names no analysis: .op/.dc/.ac/" \
            ".tran/.noise)"
        return SimulationFailed(f"{self.name} wrote no raw file (exit status {code}), so no "
                                f"results{why}; last lines of its log:\n" + tail(log),
                                simulator=self.name, log=log)

    def run_deck(self, deck: Deck, workdir: Path, timeout: float | None) -> Results:
        text = ensure_end(deck.text)
        deck_path = workdir / f"deck{self.dialect_info.suffix}"
        raw_path = workdir / self.raw_name
        write_deck(deck_path, text)
        raw_path.unlink(missing_ok=True)
        code, log = run_process(self.command(deck_path.name, raw_path.name), cwd=workdir,
                                timeout=timeout, simulator=self.name, env=self.environment())
        error = self.log_error(log, text)
        if error is not None:
            raise error
        if not raw_path.exists():
            raise self.no_output(deck, code, log)
        try:
            plots = read_raw(raw_path)
        except RawFileError as exc:
            raise SimulationFailed(f"unreadable raw file: {exc}", simulator=self.name,
                                   log=log) from None
        return Results(self.match(deck, self.plots_to_results(plots, text, log), log),
                       netlist=text, log=log, simulator=self.name)


def run_by_name(simulator: str, circuit, timeout, trusted, allow) -> Results:
    """``get_simulator(simulator).run(circuit, ...)``: what a worker process or another
    machine runs for :meth:`Simulator.run_many` (it ships the simulator's name, not itself)."""
    from . import get_simulator

    return get_simulator(simulator).run(circuit, timeout=timeout, trusted=trusted, allow=allow)
