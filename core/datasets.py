"""The measured data sets that come with neurospice, returned as the project's own types.

    from neurospice import datasets

    datasets.list()                              # the names, sorted
    sweeps = datasets.load("spin_diode_tacofeb")  # list of calibration Spectrum
    folder = datasets.path("vo2_threshold_switch")
    datasets.licence("drone_rf")                 # 'CC-BY-4.0' (SPDX)

- ``drone_rf``: :class:`neurospice.circuits.rfnet.data.Dataset`, RF power spectra of 10 drone
  and radio classes (256 bins, in W; train/test split as published). CC-BY-4.0.
- ``rram_pulse_updates``: :class:`UpdateRamps` (``set``, ``reset``: lists of calibration
  ``PulseRamp``), read current after each identical pulse. BSD-3-Clause.
- ``spin_diode_tacofeb``: a list of 17 calibration ``Spectrum`` (Ta/CoFeB spin-diode field
  sweeps, 1-17 GHz: ``field_t``, ``vdc_v``, ``freq_hz``). GPL-2.0.
- ``vo2_threshold_switch``: :class:`SwitchMeasurements` (``sweeps``: the DC dual sweep split
  at its reversal, up then down, calibration ``IVSweep`` s; ``pulses``: 11 ``Transient`` s, in
  file-name order). MIT.

Each set is a folder ``<name>/`` holding its files, its ``LICENSE`` (the licence stays with
the files: the sets are not under neurospice's MIT licence), a ``README.md`` (origin, citation,
layout) and ``SHA256SUMS``, the checksum of every file in it but the README, in the format of
``sha256sum`` (``sha256sum -c SHA256SUMS`` checks them by hand). :func:`path` and
:func:`load` verify every checksum before they return; a missing or changed file raises
:class:`~neurospice.errors.DataError` naming it.

**Where the sets are.** They are not in the installed package (the wheel stays small and under
one licence): they live in the ``data/`` folder of the source tree. :func:`path` looks

1. in ``$NEUROSPICE_DATA`` when it is set (a folder holding the set folders, for example a
   copy of the repository's ``data/``; nothing else is searched then), else
2. in ``data/`` beside the package's source folder, which is where it is in a checkout
   installed with ``pip install -e .``.

Found in neither place: DataError saying where it looked. Nothing is read at import.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from neurospice.errors import DataError

#: the environment variable naming the folder that holds the data sets
ENV = "NEUROSPICE_DATA"
#: the checksum manifest in every set's folder
MANIFEST = "SHA256SUMS"


class UpdateRamps(NamedTuple):
    """Read-current ramps of the analog resistive device, one per column of each file."""

    set: builtins.list        # PulseRamp per SET (potentiation) ramp, from set.csv
    reset: builtins.list      # PulseRamp per RESET (depression) ramp, from reset.csv


class SwitchMeasurements(NamedTuple):
    """The VO2 threshold switch: its dual DC sweep and its pulse responses."""

    sweeps: builtins.list     # IVSweep: up (0 -> 21 V), then down
    pulses: builtins.list     # Transient per 10 ms pulse file, ordered by file name


def _drone_rf(folder: Path):
    from neurospice.circuits.rfnet.data import load_spectra

    return load_spectra(folder / "RadioSpin_D62_RF_fingerprinting.h5")


def _rram_pulse_updates(folder: Path) -> UpdateRamps:
    from neurospice.calibration import load_pulse_updates

    return UpdateRamps(load_pulse_updates(folder / "set.csv"),
                       load_pulse_updates(folder / "reset.csv"))


def _spin_diode_tacofeb(folder: Path):
    from neurospice.calibration import load_spin_diode_sweeps

    return load_spin_diode_sweeps(folder / "5360_2p.csv")


def _vo2_threshold_switch(folder: Path) -> SwitchMeasurements:
    from neurospice.calibration import load_iv, load_transient

    pulses = sorted(f for f in _manifest(folder) if f.startswith("short_pulses/"))
    return SwitchMeasurements(load_iv(folder / "VO2_data_RvsV_transition.csv", split="reversal"),
                              [load_transient(folder / f) for f in pulses])


@dataclass(frozen=True)
class _Set:
    loader: Callable[[Path], object]
    licence: str


_SETS = {
    "drone_rf": _Set(_drone_rf, "CC-BY-4.0"),
    "rram_pulse_updates": _Set(_rram_pulse_updates, "BSD-3-Clause"),
    "spin_diode_tacofeb": _Set(_spin_diode_tacofeb, "GPL-2.0"),
    "vo2_threshold_switch": _Set(_vo2_threshold_switch, "MIT"),
}


def list() -> builtins.list[str]:  # noqa: A001 - the name the issue asks for
    """The names of the shipped data sets, sorted."""
    return sorted(_SETS)


def licence(name: str) -> str:
    """The SPDX identifier of the licence data set ``name`` is under (its folder's LICENSE)."""
    return _entry(name).licence


def path(name: str) -> Path:
    """The folder of data set ``name``, after checking every file against its SHA256SUMS."""
    _entry(name)
    folder = _root(name) / name
    verify(folder)
    return folder


def load(name: str):
    """Data set ``name`` read with the project's loaders (types: see the module docstring);
    its checksums are verified first."""
    return _entry(name).loader(path(name))


def verify(folder: str | os.PathLike) -> dict[str, str]:
    """Check every file listed in ``folder/SHA256SUMS``; return ``{relative path: sha256}``.

    Raises DataError naming the manifest line that is malformed, the file that is missing, or
    the file whose checksum differs (expected and found).
    """
    folder = Path(folder)
    expected = _manifest(folder)
    for rel, digest in expected.items():
        file = folder / rel
        if not file.is_file():
            raise DataError(f"listed in {MANIFEST} but missing", path=str(file))
        found = sha256(file)
        if found != digest:
            raise DataError(f"checksum mismatch: {MANIFEST} has {digest}, the file {found} "
                            "(changed or damaged; restore it from the source tree)",
                            path=str(file))
    return expected


def sha256(file: str | os.PathLike) -> str:
    """The SHA-256 of ``file``'s bytes, as hex."""
    h = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_LINE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")


def _manifest(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from ``folder/SHA256SUMS`` (sha256sum's format)."""
    file = folder / MANIFEST
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"no checksum manifest ({exc.strerror})", path=str(file)) from None
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.fullmatch(line)
        rel = m.group(2) if m else ""
        if m is None or rel.startswith("/") or ".." in Path(rel).parts:
            raise DataError("expected '<sha256 hex>  <relative path>'", path=str(file),
                            row=number)
        out[rel] = m.group(1)
    if not out:
        raise DataError("the checksum manifest lists no files", path=str(file))
    return out


def _entry(name: str) -> _Set:
    if not isinstance(name, str) or name not in _SETS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(sorted(_SETS))}")
    return _SETS[name]


def _root(name: str) -> Path:
    """The folder holding the set folders (see the module docstring)."""
    env = os.environ.get(ENV)
    if env:
        root = Path(env).expanduser()
        if not (root / name / MANIFEST).is_file():
            raise DataError(f"${ENV} is set, but {root} holds no data set {name!r} "
                            f"(no {name}/{MANIFEST})")
        return root
    root = Path(__file__).resolve().parents[1] / "data"
    if not (root / name / MANIFEST).is_file():
        raise DataError(f"data set {name!r} not found: not in {root} (the source tree's data/ "
                        f"folder, present in a checkout) and ${ENV} is not set; point ${ENV} "
                        "at a copy of the source tree's data/ folder")
    return root
