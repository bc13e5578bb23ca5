"""Xyce: ``Xyce -r out.raw deck.cir`` (binary SPICE3 raw output, per the Xyce reference guide).

Supported where an ``Xyce`` executable is on PATH (or ``$NEUROSPICE_XYCE`` names one); it is not
installed on the development machines, so this back end is exercised only where present.
Xyce runs one analysis per netlist (plus ``.op``); its names are uppercase (``V(OUT)``,
``I(V1)``, ``X1:MID``) and are mapped to neurospice's lowercase ``.``-separated ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from neurospice.errors import ConvergenceError, SimulationFailed

from ._names import kind_of_plotname, plot_to_result, xyce_name
from .base import (HINT_XYCE, Analysis, Deck, Simulator, command_output, find_executable,
                   run_process, spice_analyses, tail)
from .ngspice import ensure_end
from .rawfile import RawFileError, read_raw
from .result import Results

__all__ = ["XyceSimulator"]


class XyceSimulator(Simulator):
    name = "xyce"
    env_var = "NEUROSPICE_XYCE"
    hint = HINT_XYCE
    dialect = "xyce"

    def _locate(self):
        return find_executable(self.env_var, ("Xyce", "xyce"))

    def _query_version(self) -> str:
        text = command_output([str(self.executable), "-v"]).strip()
        return text.splitlines()[0] if text else "unknown"

    def text_analyses(self, text: str) -> list[Analysis]:
        # Xyce writes no raw data for .op, so only the other analyses are required
        return [a for a in spice_analyses(text) if a.kind != "op"]

    def prepare(self, circuit_or_text, workdir: Path) -> Deck:
        deck = super().prepare(circuit_or_text, workdir)
        deck.analyses = [a for a in deck.analyses if a.kind != "op"]
        return deck

    def _run_deck(self, deck: Deck, workdir: Path, timeout: float | None) -> Results:
        text = ensure_end(deck.text)
        deck_path = workdir / "deck.cir"
        raw_path = workdir / "out.raw"
        deck_path.write_text(text)
        raw_path.unlink(missing_ok=True)
        code, log = run_process([str(self.executable), "-r", raw_path.name, deck_path.name],
                                cwd=workdir, timeout=timeout, simulator=self.name, netlist=text)
        error = self._log_error(log, text)
        if error is not None:
            raise error
        if not raw_path.exists():
            raise SimulationFailed(f"Xyce wrote no raw file (exit status {code}); last lines of "
                                   "its log:\n" + tail(log), simulator=self.name, log=log)
        try:
            plots = read_raw(raw_path)
        except RawFileError as exc:
            raise SimulationFailed(f"unreadable raw file: {exc}", simulator=self.name,
                                   log=log) from None
        results = []
        for plot in plots:
            kind = kind_of_plotname(plot.plotname)
            if kind is None:
                names = [v.name.lower() for v in plot.variables]
                kind = "tran" if names[:1] == ["time"] else \
                    "ac" if names[:1] == ["frequency"] else "dc"
            results.append(plot_to_result(plot, kind, xyce_name, netlist=text, log=log,
                                          simulator=self.name))
        return Results(self.match(deck, results, log), netlist=text, log=log,
                       simulator=self.name)

    _NETLIST_ERR = re.compile(r"(?:Netlist error|Error) in file (\S+) at or near line (\d+)"
                              r"\s*\n?\s*(.*)", re.IGNORECASE)

    def _log_error(self, log: str, netlist: str) -> SimulationFailed | None:
        m = self._NETLIST_ERR.search(log)
        if m:
            msg = m.group(3).strip() or "netlist error"
            return self.failure(msg, log, netlist, line=int(m.group(2)))
        m = re.search(r"Time step too small[^\n]*|Timestep too small[^\n]*", log,
                      re.IGNORECASE)
        if m:
            t = re.search(r"near\s+([-+.\deE]+)|time\s*=\s*([-+.\deE]+)", m.group(0))
            when = f" at t = {t.group(1) or t.group(2)} s" if t else ""
            return self.failure(f"transient analysis stopped: timestep too small{when}.",
                                log, netlist, cls=ConvergenceError)
        if re.search(r"DC Operating Point Failed|Nonlinear solver failed|"
                     r"failed to converge", log, re.IGNORECASE):
            return self.failure("operating point / Newton iterations did not converge "
                                "(Xyce tried its gmin and source stepping homotopies). Last "
                                "lines of its log:\n" + tail(log), log, netlist,
                                cls=ConvergenceError)
        m = re.search(r"^\s*(?:\*+\s*)?(?:Error|ERROR|Fatal)[:!]?\s*(.+)$", log, re.MULTILINE)
        if m or "Xyce Abort" in log:
            msg = m.group(1).strip() if m else "Xyce aborted"
            return self.failure(msg + "\n" + tail(log), log, netlist)
        return None
