"""Files in and out: outputs written safely (atomically, never over an existing file unless
asked, never over an input, with the permissions the umask allows); inputs read within
bounds (:func:`read_bytes`, :func:`read_text`, :func:`read_json`: regular files only, a size
cap, UTF-8 for text).

- :func:`atomic_path` / :func:`write_text_atomic`: the content goes to a temporary file beside
  the target and appears under the target's name only when complete. With ``overwrite=False``
  (the default) the final step is ``os.link`` (fails if the name exists, atomically: no window
  between the check and the creation); an existing file raises :class:`OutputExists`. A
  folder, device or FIFO at the target is never replaced (:class:`OutputError`).
- :func:`check_not_input`: an output that is (``os.path.samefile``) one of the inputs raises
  :class:`OutputError` before anything is written.
- :func:`check_folder`: an output folder that exists and holds files is refused unless
  ``overwrite``.

Any ``OSError`` while writing (read-only folder, full disk, a folder in the way) becomes an
:class:`OutputError` naming the path. New files get mode ``0o666 & ~umask``.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from neurospice.errors import DataError, NetlistError, OutputError, OutputExists

__all__ = ["atomic_path", "write_text_atomic", "check_output", "check_not_input",
           "check_folder", "output_folder", "file_mode", "read_bytes", "read_text", "read_json",
           "TEXT_MAX_BYTES"]

TEXT_MAX_BYTES = 64 * 1024 ** 2
"""The largest text input :func:`read_text` reads by default (64 MiB)."""


def read_bytes(path, cap: int, *, what: str = "file", error: type = DataError,
               cap_name: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``cap`` of them: opened without
    blocking (a FIFO never hangs), checked on the open file (``fstat``: a regular file of at
    most ``cap`` bytes), read to ``cap`` + 1 bytes (a file that grows while read is caught).
    A missing or unreadable file (``cannot open``/``cannot read``), a folder, device or FIFO
    (``not a regular file``) or a larger file raises ``error`` (a NeurospiceError class taking
    a message) naming ``what`` and the path; ``cap_name``, if given, names the cap in the size
    messages (``... more than 4096 (the cap on raw files, max_bytes=)``)."""
    where = f"{what} {os.fspath(path)}"
    which = f" ({cap_name})" if cap_name else ""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        raise error(f"cannot read {where}: cannot open it: "
                    f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{where} is not a regular file")
        if info.st_size > cap:
            raise error(f"{where} has {info.st_size} bytes, more than {cap}{which}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            # the size it has, + 1 (read(cap + 1) would allocate a buffer of cap bytes: 0.14 ms
            # a call for a 2 GiB cap); a file that grows while read is read on to cap + 1
            blob = fh.read(min(info.st_size, cap) + 1)
            if len(blob) > info.st_size:
                blob += fh.read(cap + 1 - len(blob))
    except OSError as exc:
        raise error(f"cannot read {where}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if len(blob) > cap:
        raise error(f"{where} grew past {cap} bytes while read{which}")
    return blob


def read_text(path, *, what: str = "file", max_bytes: int = TEXT_MAX_BYTES,
              error: type = DataError) -> str:
    """The UTF-8 text of the regular file ``path``, at most ``max_bytes`` bytes (read by
    :func:`read_bytes`). A missing or unreadable file, a folder, device or FIFO (``/dev/zero``), a larger file or one that is
    not UTF-8 raises ``error`` (a NeurospiceError class taking a message) naming ``what`` and
    the path; for text that is not UTF-8 it names the line too (as ``line=`` where ``error``
    is a NetlistError)."""
    where = f"{what} {os.fspath(path)}"
    blob = read_bytes(path, max_bytes, what=what, error=error)
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = blob.count(b"\n", 0, exc.start) + 1
        if issubclass(error, NetlistError):     # it carries the line itself
            raise error(f"{where} is not UTF-8 text (byte {exc.start}: {exc.reason})",
                        line=line) from None
        raise error(f"{where} is not UTF-8 text (line {line}, byte {exc.start}: "
                    f"{exc.reason})") from None


def read_json(path, *, what: str = "JSON file", max_bytes: int = TEXT_MAX_BYTES,
              error: type = DataError):
    """The JSON value in ``path`` (read by :func:`read_text`); text that is not JSON, nests
    too deep or holds an integer too long to convert raises ``error`` naming the path."""
    import json  # noqa: PLC0415 - not on the paths that read no JSON (neurospice sim)

    text = read_text(path, what=what, max_bytes=max_bytes, error=error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {os.fspath(path)} is not JSON: {exc}") from None
    except RecursionError:
        raise error(f"{what} {os.fspath(path)} nests too deep") from None
    except ValueError as exc:            # e.g. an integer of more than 4300 digits
        raise error(f"{what} {os.fspath(path)}: {exc}") from None


def file_mode() -> int:
    """The mode a new file gets under the current umask (``0o666 & ~umask``).

    Read from ``/proc/self/status`` where there is one (no change to the process state);
    elsewhere the umask is read by setting and restoring it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_not_input(outputs: Iterable, inputs: Iterable) -> None:
    """Raise :class:`OutputError` if an existing output is the same file as an input
    (``os.path.samefile``: links and other spellings of one path included)."""
    inputs = [Path(i) for i in inputs if i is not None]
    for out in outputs:
        out = Path(out)
        for inp in inputs:
            try:
                same = os.path.samefile(out, inp)
            except (OSError, ValueError):      # one of them does not exist (yet)
                same = False
            if same:
                raise OutputError(f"would write over the input {inp}; choose another output",
                                  path=out)


def check_folder(folder, *, overwrite: bool = False, flag: str = "--force") -> Path:
    """Create ``folder`` (with its parents) and return it; an existing folder that holds
    anything is refused with :class:`OutputExists` unless ``overwrite``. A path that is not
    a folder, or a folder that cannot be made, raises :class:`OutputError`."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError("is not a folder", path=folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OutputError("cannot create the output folder: a file is in the way",
                              path=folder) from None
        if not overwrite and any(folder.iterdir()):
            raise OutputExists(f"the output folder is not empty; pass {flag} to write over "
                               "its files", path=folder)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {_reason(exc)}",
                          path=folder) from None
    return folder


@contextmanager
def output_folder(folder, *, overwrite: bool = False, flag: str = "--force"):
    """:func:`check_folder` before long work (a folder that cannot be made or is refused
    fails at once, not after it); yields the folder, and removes it again when the block
    fails, if it was made here and is still empty."""
    folder = Path(folder)
    made = not folder.exists()
    check_folder(folder, overwrite=overwrite, flag=flag)
    try:
        yield folder
    except BaseException:
        if made:
            try:
                folder.rmdir()                 # only if still empty
            except OSError:
                pass
        raise


def _refuse(path: Path, flag: str) -> OutputExists:
    return OutputExists(f"exists; pass {flag} to replace it", path=path)


def check_output(path, *, overwrite: bool = False, flag: str = "--force / overwrite=True"
                 ) -> Path:
    """The checks :func:`atomic_path` makes before writing, for a caller that wants them on
    all its outputs before it writes any: a folder, device or FIFO at ``path`` raises
    :class:`OutputError`; an existing file raises :class:`OutputExists` (naming ``flag``)
    unless ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("is a folder, not a file", path=path)
    if path.exists() and not path.is_file():     # a device, a FIFO, a socket: never replaced
        raise OutputError("is not a regular file", path=path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise _refuse(path, flag)
    return path


@contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = False,
                flag: str = "--force / overwrite=True"):
    """Yield a temporary path beside ``path``; it becomes ``path`` only when the block ends
    without an exception (otherwise it is removed and ``path`` is left as it was).

    ``overwrite=False``: an existing ``path`` raises :class:`OutputExists` (before the block
    runs, and again, atomically, at the final link if one appeared meanwhile); ``flag`` is
    the option named in that message. An ``OSError`` raised while writing becomes
    :class:`OutputError` naming ``path``.
    """
    path = check_output(path, overwrite=overwrite, flag=flag)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError("cannot write: a file is in the way of its folder",
                          path=path) from None
    except OSError as exc:
        raise OutputError(f"cannot write: {_reason(exc)}", path=path) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, file_mode())
    except OSError as exc:
        raise OutputError(f"cannot write: {_reason(exc)}", path=path) from None
    tmp = Path(tmp)
    try:
        try:
            yield tmp
            if overwrite:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise _refuse(path, flag) from None
                except OSError:            # a file system without hard links
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    os.close(fd)           # the name is ours now; fill it atomically
                    os.replace(tmp, path)
        except OutputError:
            raise
        except FileExistsError:
            raise _refuse(path, flag) from None
        except OSError as exc:
            raise OutputError(f"cannot write: {_reason(exc)}", path=path) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str, *, overwrite: bool = False,
                      flag: str = "--force / overwrite=True") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path; see
    :func:`atomic_path` for ``overwrite`` and the errors."""
    with atomic_path(path, overwrite=overwrite, flag=flag) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
