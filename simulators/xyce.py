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

from .base import Analysis, BatchSimulator, Deck, spice_analyses
from .names import kind_of_plotname, plot_to_result, xyce_name
from .process import HINT_XYCE, command_output, find_executable, tail
from .result import Result

__all__ = ["XyceSimulator"]


class XyceSimulator(BatchSimulator):
    """Xyce, one process per run."""

    name = "xyce"
    loads_osdi = False
    env_var = "NEUROSPICE_XYCE"
    hint = HINT_XYCE

    def locate(self):
        return find_executable(self.env_var, ("Xyce", "xyce"))

    def query_version(self) -> str:
        text = command_output([str(self.executable), "-v"]).strip()
        return text.splitlines()[0] if text else "unknown"

    def text_analyses(self, text: str) -> list[Analysis]:
        # Xyce writes no raw data for .op, so only the other analyses are required
        return [a for a in spice_analyses(text) if a.kind != "op"]

    def prepare(self, circuit_or_text, workdir: Path) -> Deck:
        deck = super().prepare(circuit_or_text, workdir)
        deck.analyses = [a for a in deck.analyses if a.kind != "op"]
        return deck

    def command(self, deck_file: str, raw_file: str) -> list[str]:
        return [str(self.executable), "-r", raw_file, deck_file]

    def plots_to_results(self, plots, netlist: str, log: str) -> list[Result]:
        results = []
        for plot in plots:
            kind = kind_of_plotname(plot.plotname)
            if kind is None:
                names = [v.name.lower() for v in plot.variables]
                kind = "tran" if names[:1] == ["time"] else \
                    "ac" if names[:1] == ["frequency"] else "dc"
            results.append(plot_to_result(plot, kind, xyce_name, netlist=netlist, log=log,
                                          simulator=self.name))
        return results

    _NETLIST_ERR = re.compile(r"(?:Netlist error|Error) in file (\S+) at or near line (\d+)"
                              r"\s*\n?\s*(.*)", re.IGNORECASE)

    def log_error(self, log: str, netlist: str) -> SimulationFailed | None:
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
