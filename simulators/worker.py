"""A persistent helper process for a back end that runs a simulator library in process.

Some phases of an in-process simulator cannot be interrupted (ngspice parsing a huge deck, a
``.control`` loop); a library that hit a fatal error needs a fresh copy. So the library lives
in one helper process, started on the first request and kept between requests (the speed of
an in-process run: no program start, no raw file, one pipe round trip). Each request has a
deadline: the helper's own watchdog stops what it can (ngspice's ``bg_halt`` for an analysis),
and a helper that has not answered ``GRACE_S`` seconds after the timeout is killed with its
process group and started afresh on the next request. The helper dies with this process: it
holds the read end of a lifeline pipe whose only write end is this process's, and a thread of
its own kills the helper's process group when that pipe closes. (Linux's PR_SET_PDEATHSIG is
not used: it fires when the *thread* that started the helper exits, so a helper started from a
pool thread would die with the pool.)

The protocol: the parent sends a request (any picklable object, numpy arrays included) down
one pipe; the helper calls ``handler(request, phase)``, where ``phase(text)`` tells the parent
what it is doing (named in a timeout's message); the handler returns ``(value, retire)``; the
helper sends the value back up a second pipe (an exception, returned or raised, is raised in
the parent) and exits when ``retire`` is true. Phases go up a third pipe that the parent
reads only when it needs them (a timeout, a helper that died), so a run costs the parent one
wake-up: its answer.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler

from neurospice.errors import SimulationFailed, SimulationTimeout

__all__ = ["Worker", "GRACE_S", "PIPE_BYTES", "serve", "send_whole"]

GRACE_S = 2.0
"""Seconds past the timeout before an unanswering helper is killed."""


class Worker:
    """One helper process serving ``handler`` ("module:function"); not thread-safe (hold a
    lock around :meth:`call`)."""

    def __init__(self, handler: str):
        self.handler = handler
        self.proc: subprocess.Popen | None = None
        self.inbox: Connection | None = None
        self.outbox: Connection | None = None
        self.phases: int | None = None      # read end of the phase pipe (non-blocking)
        self.lifeline: int | None = None    # write end of the lifeline pipe (never written)

    def start(self) -> None:
        parent_r, child_w = os.pipe()
        child_r, parent_w = os.pipe()
        phase_r, phase_w = os.pipe()
        life_r, life_w = os.pipe()
        for fd in (child_w, parent_w):
            _widen(fd)
        os.set_blocking(phase_r, False)
        os.set_blocking(phase_w, False)     # the helper never waits to tell its phase
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p]
                                            + [env.get("PYTHONPATH", "")])
        cmd = [sys.executable, "-c", "from neurospice.simulators.worker import serve; serve()",
               str(child_r), str(child_w), self.handler, str(phase_w), str(life_r)]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(child_r, child_w, phase_w, life_r),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True,
                                         env=env)
        except OSError as exc:
            for fd in (parent_r, parent_w, phase_r, life_w):
                os.close(fd)
            raise SimulationFailed(f"could not start the helper process: {exc}") from None
        finally:
            for fd in (child_r, child_w, phase_w, life_r):
                os.close(fd)
        self.inbox = Connection(parent_r, writable=False)
        self.outbox = Connection(parent_w, readable=False)
        self.phases = phase_r
        self.lifeline = life_w

    def stop(self) -> None:
        """Kill the helper and its process group (if running); the next call starts one."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
        for conn in (self.inbox, self.outbox):
            if conn is not None:
                conn.close()
        for fd in (self.phases, self.lifeline):
            if fd is not None:
                os.close(fd)
        self.proc = self.inbox = self.outbox = self.phases = self.lifeline = None

    def last_phase(self, phase: str) -> str:
        """The last phase the helper reported since the previous read (``phase`` if none)."""
        try:
            while chunk := os.read(self.phases, 65536):
                lines = chunk.decode("utf-8", "replace").split("\n")
                phase = next((ln for ln in reversed(lines) if ln), phase)
        except (BlockingIOError, OSError, TypeError):
            pass
        return phase

    def call(self, request, *, timeout: float | None, simulator: str):
        """Send ``request``; return the handler's value or raise its exception. A helper
        that does not answer within ``timeout`` + GRACE_S seconds is killed:
        SimulationTimeout naming the phase it was in. One that dies: SimulationFailed."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self.start()
        started = time.monotonic()
        self.last_phase("")          # drop what the previous request reported
        phase = "starting"
        try:
            send_whole(self.outbox, request)
            wait = None if timeout is None else timeout + GRACE_S
            if not self.inbox.poll(wait):
                phase = self.last_phase(phase)
                self.stop()
                raise SimulationTimeout(
                    f"stopped after {time.monotonic() - started:.1f} s (timeout={timeout} "
                    f"s) while {phase}; {_advice(phase)}", simulator=simulator)
            kind, payload, retire = self.inbox.recv()
        except (EOFError, OSError):
            code = self.proc.poll() if self.proc is not None else None
            phase = self.last_phase(phase)
            self.stop()
            raise SimulationFailed(f"the helper process running the simulator ended (status "
                                   f"{code}) while {phase}", simulator=simulator) from None
        except BaseException:     # KeyboardInterrupt, SIGTERM as SystemExit, timeout
            self.stop()
            raise
        if retire:            # the helper exits after this answer
            self.stop()
        if kind == "error":
            raise payload
        return payload


PIPE_BYTES = 1 << 20
"""The buffer asked for the request and answer pipes (Linux ``F_SETPIPE_SZ``; capped by
``/proc/sys/fs/pipe-max-size``): an answer of a few hundred kilobytes (a run's vectors)
crosses in one write and one read, not in 64 KiB turns that each wait for the other side
to be scheduled (a 15 ms run of 23 vectors x 500 points took 5 ms more through the default
pipe on a loaded machine)."""


def send_whole(conn: Connection, obj) -> None:
    """``conn.send(obj)`` as one write (the same bytes: a 4-byte length, then the pickle),
    so that the reader wakes once. Connection.send writes a message over 16 KiB as two
    writes, header and body, and each can wake the reader; a message over 2 GiB goes
    through it as it is."""
    body = ForkingPickler.dumps(obj)
    if len(body) > 0x7FFFFFFF:
        conn.send_bytes(body)
        return
    data = memoryview(struct.pack("!i", len(body)) + bytes(body))
    while data:
        data = data[os.write(conn.fileno(), data):]


def _widen(fd: int) -> None:
    """Ask for a :data:`PIPE_BYTES` buffer on pipe ``fd`` (where the system offers it)."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass            # another system, or a smaller cap: the default buffer works too


def _advice(phase: str) -> str:
    if "load" in phase:
        return ("the deck is too large or expands too far (subcircuits, parameters); "
                "reduce it or raise `timeout`")
    if "control" in phase:
        return "a .control command did not finish (a loop?); fix it or raise `timeout`"
    return "raise `timeout`, shorten the analysis or loosen its step"


def _die_with_parent(lifeline: int) -> None:
    """Kill this helper's process group (itself and any simulator it started) when the
    lifeline pipe closes: its write end is held by the parent alone, so the pipe closes when
    the parent process ends, however it ends."""
    def watch() -> None:
        try:
            while os.read(lifeline, 1):
                pass
        except OSError:
            pass
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def serve() -> None:
    """The helper's main loop (argv: read fd, write fd, "module:function", phase fd,
    lifeline fd)."""
    _die_with_parent(int(sys.argv[5]))
    inbox = Connection(int(sys.argv[1]), writable=False)
    outbox = Connection(int(sys.argv[2]), readable=False)
    module, name = sys.argv[3].split(":")
    handler = getattr(importlib.import_module(module), name)

    phase_fd = int(sys.argv[4])

    def phase(text: str) -> None:
        try:
            os.write(phase_fd, text.encode("utf-8", "replace") + b"\n")
        except OSError:        # the pipe is full (nobody asked): the parent reads the last
            pass

    while True:
        try:
            request = inbox.recv()
        except (EOFError, OSError):
            return
        retire = False
        try:
            value, retire = handler(request, phase)
            message = ("error", _portable(value)) if isinstance(value, Exception) \
                else ("ok", value)
        except Exception as exc:  # noqa: BLE001 - sent to the parent, raised there
            message = ("error", _portable(exc))
        send_whole(outbox, (*message, retire))
        if retire:
            return


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a SimulationFailed carrying its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return SimulationFailed(f"{type(exc).__name__}: {exc}")
