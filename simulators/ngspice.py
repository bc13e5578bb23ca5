"""ngspice in batch mode: ``ngspice -b -r out.raw deck.cir``, binary raw output.

How ngspice -b treats a ``.control`` section (checked on ngspice 46): the section is run
first, then the deck's dot analyses are run and written to the ``-r`` raw file. A control
section that only loads models (``pre_osdi file.osdi``) or sets options therefore works as is.
One that holds ``run`` makes ngspice simulate twice (the raw file holds the batch run), so the
netlist writers emit control sections without ``run``.
"""

from __future__ import annotations

import os
import re

from neurospice.errors import ConvergenceError, SimulationFailed
from neurospice.netlists.values import ngspice_name

from .base import (Analysis, BatchSimulator, Deck, Simulator, spice_analyses, spice_lines)
from .names import kind_of_plotname, plot_to_result
from .process import HINT_NGSPICE, command_output, find_executable, tail
from .result import Result

__all__ = ["NgspiceSimulator", "ngspice_plots_to_results", "ngspice_log_error",
           "in_card_order", "ngspice_version"]


class NgspiceSimulator(BatchSimulator):
    """ngspice, one batch process per run."""

    name = "ngspice"
    env_var = "NEUROSPICE_NGSPICE"
    hint = HINT_NGSPICE

    def locate(self):
        return find_executable(self.env_var, ("ngspice",))

    def query_version(self) -> str:
        return ngspice_version(command_output([str(self.executable), "-v"]))

    def text_analyses(self, text: str) -> list[Analysis]:
        return spice_analyses(text)

    def prepare_pyspice(self, circuit) -> Deck:
        text = str(circuit)
        return Deck(text, spice_analyses(text), "pyspice")

    def command(self, deck_file: str, raw_file: str) -> list[str]:
        return [str(self.executable), "-b", "-r", raw_file, deck_file]

    def environment(self) -> dict | None:
        if "SPICE_ASCIIRAWFILE" not in os.environ:
            return None                      # this process's own: nothing to copy
        env = dict(os.environ)
        env.pop("SPICE_ASCIIRAWFILE")        # the raw file is read as binary
        return env

    def log_error(self, log: str, netlist: str) -> SimulationFailed | None:
        return ngspice_log_error(self, log, netlist)

    def plots_to_results(self, plots, netlist: str, log: str) -> list[Result]:
        return in_card_order(ngspice_plots_to_results(plots, netlist, log, self.name), netlist)


def ngspice_version(text: str) -> str:
    """The version in the output of ``ngspice -v`` (its first line when none is found)."""
    m = re.search(r"ngspice-(\S+)", text)
    return m.group(1) if m else (text.strip().splitlines() or ["unknown"])[0]


_CONTROL_ANALYSIS = re.compile(r"^\s*(tran|ac|dc|op|noise)\b", re.IGNORECASE)
_CONTROL_START = re.compile(r"^\s*\.control", re.IGNORECASE | re.MULTILINE)


def in_card_order(results: list[Result], netlist: str) -> list[Result]:
    """ngspice 46 runs a deck's dot analyses grouped by kind (ac, dc, op, tran: ``.dc`` then
    ``.tran`` run in that order, ``.tran`` then ``.dc`` too), the cards of one kind last card
    first; put their results back in card order, so that the second .tran of a deck is the
    second tran result. A deck whose .control block runs analyses itself keeps the order
    they ran in. (A deck without ``.control`` is told by one regular-expression search, not
    a walk over its lines.) Results of a kind run more than once are named in that order,
    ``ac1``, ``ac2`` (ngspice names each by its kind: their files would share a name)."""
    if len(results) < 2:
        return results
    if not (_CONTROL_START.search(netlist) and any(
            inside and _CONTROL_ANALYSIS.match(line) for inside, line in spice_lines(netlist))):
        results = results[::-1]         # each kind's results now in card order
        cards = [a.kind for a in spice_analyses(netlist)]
        if sorted(cards) == sorted(r.kind for r in results):
            pools = {kind: iter([r for r in results if r.kind == kind]) for kind in cards}
            results = [next(pools[kind]) for kind in cards]
    kinds = [r.kind for r in results]
    seen: dict[str, int] = {}
    for r in results:
        if kinds.count(r.kind) > 1 and r.name == r.kind:
            seen[r.kind] = seen.get(r.kind, 0) + 1
            r.name = f"{r.kind}{seen[r.kind]}"
    return results


def ngspice_plots_to_results(plots, netlist: str, log: str, simulator: str) -> list[Result]:
    """Raw plots of ngspice -> Results; the two noise plots are merged into one."""
    results: list[Result] = []
    for plot in plots:
        kind = kind_of_plotname(plot.plotname)
        if kind is None:
            continue
        if kind == "noise" and "integrated" in plot.plotname.lower():
            if results and results[-1].kind == "noise":
                results[-1].meta["integrated"] = {
                    ngspice_name(v.name): plot.data[0, v.index].item() for v in plot.variables}
            continue
        results.append(plot_to_result(plot, kind, ngspice_name, netlist=netlist, log=log,
                                      simulator=simulator))
    return results


# --- log scanning ------------------------------------------------------------------------

_TIMESTEP = re.compile(r"Timestep too small; time = ([-+.\deE]+), timestep = ([-+.\deE]+)"
                       r"(?:: trouble with node \"?([^\"\s]+)\"?)?")
_OP_TIMESTEP = re.compile(r"(?:OP|DC|TRAN|AC|NOISE):\s+Timestep too small; trouble with node "
                          r"\"?([^\"\s]+)\"?")
_SINGULAR = re.compile(r"singular matrix:\s+check node\s+(\S+)", re.IGNORECASE)
_ERR_ON_LINE = re.compile(r"Error on line (\d+)(?: or its substitute)?:\s*\n\s*(.+)\n\s*(.+)")
_NETLIST_LINE = re.compile(r"Error in netlist line no\. (\d+), new internal line no\. \d+:"
                           r"\s*\n\s*(\S.*)")
_INCLUDE = re.compile(r"Could not find include file\s+(\S+)")
_INVALID_LINE = re.compile(r"Warning:\s+'(.+)' is not a valid (\w+) instance line")
_ERROR = re.compile(r"^\s*(?:Error|ERROR)\s*[:!]?\s*(.+)$", re.MULTILINE)
_ITER_LIMIT = re.compile(r"(Too many iterations without convergence|iteration limit reached"
                         r"|gmin stepping failed|source stepping failed)", re.IGNORECASE)


def _tried(log: str) -> str:
    steps = []
    for key, label in (("dynamic gmin stepping", "dynamic gmin stepping"),
                       ("true gmin stepping", "gmin stepping"),
                       ("source stepping", "source stepping"),
                       ("transient op", "transient op (pseudo-transient)")):
        if re.search(rf"Starting {key}|{key} started", log, re.IGNORECASE):
            steps.append(label)
    return f" ngspice tried: {', '.join(steps)}." if steps else ""


# the words every pattern below needs: a log without one is clean after a substring test of
# its case-folded text, not sixteen searches (most runs' logs; the in-process back end scans
# two per run). An IGNORECASE alternation tried at every character took 0.25 ms of a 1.8 kB
# log, these tests 0.02 ms.
_SUSPECT = ("error", "warning", "too small", "singular", "could not", "aborted", "failed")


def ngspice_log_error(sim: Simulator, log: str, netlist: str) -> SimulationFailed | None:
    """The first error ngspice's output reports, as a typed exception (None if clean)."""
    folded = log.casefold()
    if not any(word in folded for word in _SUSPECT):
        return None
    m = _ERR_ON_LINE.search(log)
    if m:
        return sim.failure(f"{m.group(3).strip()} (in: {m.group(2).strip()})", log, netlist,
                           snippet=m.group(2), line=int(m.group(1)))
    m = _NETLIST_LINE.search(log)
    if m:
        return sim.failure(m.group(2).strip(), log, netlist, line=int(m.group(1)))
    m = _INCLUDE.search(log)
    if m:
        return sim.failure(f"could not find include file {m.group(1)} (paths are resolved from "
                           "the run's working directory: give absolute paths)", log, netlist,
                           snippet=_include_line(netlist, m.group(1)))
    m = _INVALID_LINE.search(log)
    if m:
        return sim.failure(f"not a valid {m.group(2)} line (ngspice would ignore it): "
                           f"{m.group(1)}", log, netlist, snippet=m.group(1))
    m = _TIMESTEP.search(log)
    if m:
        node = f" (trouble with node {m.group(3)})" if m.group(3) else ""
        return sim.failure(
            f"transient analysis stopped: timestep too small at t = {float(m.group(1)):.6g} s, "
            f"step shrank to {float(m.group(2)):.3g} s{node}. Smooth discontinuities in the "
            "models, limit the step (.tran tmax) or relax reltol/abstol.", log, netlist,
            cls=ConvergenceError)
    m = _SINGULAR.search(log)
    if m:
        node = m.group(1).strip("'\"")
        if "." in node or "#" in node:   # inside an instance: not the user's node to fix
            return sim.failure(
                f"singular matrix at node {node!r}, internal to instance "
                f"{node.split('.')[0].split('#')[0]!r}.{_tried(log)} Check how the instance is "
                "connected and driven (its model's own nodes are not yours to change).",
                log, netlist, cls=ConvergenceError)
        return sim.failure(
            f"singular matrix at node {node!r}: it has no DC path to ground (floating node, "
            f"or a loop of voltage sources / inductors).{_tried(log)} Connect it, or add a "
            "large resistor (e.g. 1e12 ohm) to ground.", log, netlist, cls=ConvergenceError)
    m = _OP_TIMESTEP.search(log)
    if m or "could not be simulated successfully" in log or "DC solution failed" in log:
        node = f" (trouble with node {m.group(1)})" if m else ""
        return sim.failure(
            f"operating point did not converge{node}.{_tried(log)} Give initial guesses "
            "(.nodeset), smooth the models, or check for circuits with no DC solution.",
            log, netlist, cls=ConvergenceError)
    m = _ITER_LIMIT.search(log)
    if m and "aborted" in log:
        return sim.failure(f"did not converge: {m.group(1)}.{_tried(log)}", log, netlist,
                           cls=ConvergenceError)
    for m in _ERROR.finditer(log):
        msg = m.group(1).strip()
        if msg.lower().startswith("no compatibility mode"):
            continue
        return sim.failure(msg, log, netlist, snippet=_quoted(msg))
    if "run simulation(s) aborted" in log or "Simulation interrupted due to error" in log:
        return sim.failure("simulation aborted; last lines of its log:\n" + tail(log),
                           log, netlist)
    return None


def _quoted(msg: str) -> str | None:
    m = re.search(r"'([^']{3,})'|\"([^\"]{3,})\"", msg)
    return (m.group(1) or m.group(2)) if m else None


def _include_line(netlist: str, filename: str) -> str | None:
    for line in netlist.splitlines():
        low = line.strip().lower()
        if low.startswith((".include", ".inc", ".lib")) and filename.lower() in low:
            return line
    return None
