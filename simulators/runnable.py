"""Netlists that run as printed, outside Python.

``Circuit.to_netlist()`` is pure: it writes nothing and compiles nothing, so its ngspice
``pre_osdi`` lines name ``<model>.osdi`` beside each Verilog-A source, a file that does not
exist until someone compiles it (a run compiles it into the cache). The netlists layer may
not compile (it sits below the simulators), so the compile step lives here:

- :func:`runnable_netlist` compiles every Verilog-A model of the circuit (and the wrappers a
  VACASK netlist generates for behavioral sources) into the neurospice cache and returns the
  netlist text with the compiled files' absolute paths: paste it into plain ``ngspice -b`` or
  ``vacask`` on this machine.
- :func:`write_runnable` writes the netlist and beside it every file it loads (the compiled
  ``.osdi`` files, the generated wrappers), named by relative paths, so the folder runs from
  any working directory and can be moved or shared (ngspice resolves ``pre_osdi`` and VACASK
  ``load`` from the deck's folder).

Both need openvaf-r only where the circuit has Verilog-A (SimulatorNotFound otherwise).
"""

from __future__ import annotations

from pathlib import Path

from neurospice.errors import NetlistError
from neurospice.fileio import atomic_path, check_output, write_text_atomic
from neurospice.paths import cache_dir

from .openvaf import compile_va


def _rendered(circuit, dialect: str, osdi: dict):
    render = getattr(circuit, "render", None)
    if render is None:
        raise TypeError(f"a runnable netlist needs a neurospice Circuit, not "
                        f"{type(circuit).__name__}")
    return render(dialect, osdi=osdi)


def runnable_netlist(circuit, dialect: str = "ngspice") -> str:
    """``circuit``'s netlist for ``dialect`` with every Verilog-A model compiled into the
    neurospice cache and named there by its absolute path (and VACASK's generated wrappers
    compiled there too): the text runs as printed in the plain simulator on this machine.
    Raises SimulatorNotFound without openvaf-r where a model needs compiling, CompileError
    when one does not compile."""
    osdi = {Path(s): compile_va(s) for s in circuit.verilog_a_sources(dialect)}
    rendered = _rendered(circuit, dialect, osdi)
    if not rendered.files:
        return rendered.netlist
    compiled = {}
    for name, text in rendered.files.items():
        if not name.endswith(".va"):
            raise NetlistError(f"the {dialect} netlist loads a generated file {name!r} beside "
                               "itself: write it with write_runnable(circuit, path)")
        path = cache_dir("va") / name   # named by a hash of its text
        if not path.is_file() or path.read_text() != text:
            write_text_atomic(path, text, overwrite=True)
        compiled[name] = compile_va(path)
    return _rendered(circuit, dialect, {**osdi, **compiled}).netlist


def write_runnable(circuit, path, dialect: str = "ngspice", *,
                   overwrite: bool = False) -> list[Path]:
    """Write ``circuit``'s netlist for ``dialect`` to ``path`` and beside it every file it
    loads: each Verilog-A model compiled as ``<stem>.osdi`` (``<stem>-2.osdi``, ... where two
    sources share a stem) and the generated wrappers with their compiled ``.osdi``. The
    netlist names them relative to itself, so the folder runs from any working directory.
    Existing files are replaced only with ``overwrite`` (OutputExists, checked for every file
    before any is written). Returns the paths written, the netlist last."""
    path = Path(path)
    folder = path.parent
    sources = circuit.verilog_a_sources(dialect)
    cached, names, taken = {}, {}, set()
    for src in sources:
        stem, k = Path(src).stem, 1
        name = f"{stem}.osdi"
        while name in taken:
            k += 1
            name = f"{stem}-{k}.osdi"
        taken.add(name)
        cached[name] = compile_va(src)
        names[Path(src)] = name
    rendered = _rendered(circuit, dialect, names)
    files = dict(rendered.files)
    for name, text in rendered.files.items():
        if name.endswith(".va"):
            generated = cache_dir("va") / name
            if not generated.is_file() or generated.read_text() != text:
                write_text_atomic(generated, text, overwrite=True)
            osdi_name = Path(name).with_suffix(".osdi").name
            cached[osdi_name] = compile_va(generated)
            names[name] = osdi_name
    if files:   # the netlist now loads the compiled wrappers by their names
        rendered = _rendered(circuit, dialect, names)
    clash = set(files) & set(cached) | ({path.name} & (set(files) | set(cached)))
    if clash:
        raise NetlistError(f"{path.name}: a file it loads has its name: {sorted(clash)}")
    targets = [folder / n for n in [*files, *cached]] + [path]
    for target in targets:
        check_output(target, overwrite=overwrite)
    written = []
    for name, text in files.items():
        written.append(write_text_atomic(folder / name, text, overwrite=overwrite))
    for name, compiled in cached.items():
        with atomic_path(folder / name, overwrite=overwrite) as tmp:
            tmp.write_bytes(compiled.read_bytes())
        written.append(folder / name)
    written.append(write_text_atomic(path, rendered.netlist, overwrite=overwrite))
    return written
