"""The shipped data sets: names, checksums, licences beside the files, where they are found,
typed errors, and what load returns."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurospice import datasets
from neurospice.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
NAMES = ["drone_rf", "rram_pulse_updates", "spin_diode_tacofeb", "vo2_threshold_switch"]
LICENCE_MARKS = {"drone_rf": "Creative Commons Attribution 4.0",
                 "rram_pulse_updates": "BSD-3",
                 "spin_diode_tacofeb": "GNU GENERAL PUBLIC LICENSE\n                       Version 2",
                 "vo2_threshold_switch": "MIT License"}


def test_list_names_every_folder():
    assert datasets.list() == NAMES
    assert sorted(p.name for p in DATA.iterdir() if p.is_dir()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_manifest_covers_every_file_and_matches(name):
    """Every file but README.md and the manifest is listed, and every listed file's sha256
    is the one on record (computed here independently of the module)."""
    import hashlib

    folder = DATA / name
    listed = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert present - set(listed) == {"README.md", "SHA256SUMS"}
    assert set(listed) <= present
    for rel, digest in listed.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    assert datasets.verify(folder) == listed


@pytest.mark.parametrize("name", NAMES)
def test_licence_and_readme_beside_the_files(name):
    folder = datasets.path(name)
    assert folder == DATA / name
    assert LICENCE_MARKS[name] in (folder / "LICENSE").read_text()
    readme = (folder / "README.md").read_text()
    assert "## Origin" in readme and re.search(r"commit\s+[0-9a-f]{40}", readme)
    assert "Cite" in readme or "cite" in readme
    rows = [r for r in (DATA / "README.md").read_text().splitlines()
            if r.startswith(f"| `{name}/` |")]
    assert len(rows) == 1
    licence_cell = rows[0].rstrip(" |").rsplit("|", 1)[1].replace("-", " ")
    assert datasets.licence(name).replace("-", " ") in licence_cell


def test_unknown_name_lists_the_known_ones():
    for bad in ("drone", "", None, "../drone_rf"):
        with pytest.raises(DataError, match="unknown data set") as err:
            datasets.load(bad)
        assert all(n in str(err.value) for n in NAMES)
    with pytest.raises(DataError, match="known: drone_rf"):
        datasets.path("spin_diode")


def copy_set(tmp_path, name) -> Path:
    shutil.copytree(DATA / name, tmp_path / name)
    return tmp_path / name


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    folder = copy_set(tmp_path, "rram_pulse_updates")
    monkeypatch.setenv("NEUROSPICE_DATA", str(tmp_path))
    assert datasets.path("rram_pulse_updates") == folder
    text = (folder / "set.csv").read_text()
    (folder / "set.csv").write_text(text.replace("0.000160588", "0.000160589", 1))
    for call in (datasets.path, datasets.load):
        with pytest.raises(DataError, match="checksum mismatch") as err:
            call("rram_pulse_updates")
        assert str(folder / "set.csv") in str(err.value)


def test_a_missing_file_and_a_bad_manifest_are_refused(tmp_path, monkeypatch):
    folder = copy_set(tmp_path, "vo2_threshold_switch")
    monkeypatch.setenv("NEUROSPICE_DATA", str(tmp_path))
    (folder / "short_pulses" / "5V_0.01s_68.5C.csv").unlink()
    with pytest.raises(DataError, match="missing") as err:
        datasets.load("vo2_threshold_switch")
    assert "5V_0.01s_68.5C.csv" in str(err.value)
    manifest = folder / "SHA256SUMS"
    manifest.write_text("not a checksum line\n")
    with pytest.raises(DataError, match="row 1"):
        datasets.path("vo2_threshold_switch")
    manifest.write_text("0" * 64 + "  ../../etc/passwd\n")
    with pytest.raises(DataError, match="relative path"):
        datasets.path("vo2_threshold_switch")


def test_the_environment_variable_is_the_only_place_looked_when_set(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSPICE_DATA", str(tmp_path))
    with pytest.raises(DataError, match="NEUROSPICE_DATA is set") as err:
        datasets.path("drone_rf")
    assert str(tmp_path) in str(err.value)


def test_loads_as_the_project_types():
    from neurospice.calibration import IVSweep, PulseRamp, Spectrum, Transient
    from neurospice.circuits.rfnet.data import Dataset

    drones = datasets.load("drone_rf")
    assert isinstance(drones, Dataset)
    assert drones.x_train.shape == (702, 256) and drones.x_test.shape == (298, 256)
    assert drones.n_classes == 10 and set(drones.y_test) == set(range(10))
    assert 0.9e-9 < drones.x_train.min() and drones.x_train.max() < 1e-6   # W (1.0 = 1 uW)

    ramps = datasets.load("rram_pulse_updates")
    assert (len(ramps.set), len(ramps.reset)) == (39, 40)
    assert all(isinstance(r, PulseRamp) for r in ramps.set + ramps.reset)
    assert ramps.set[0].source.name == "set.csv" and ramps.reset[0].source.name == "reset.csv"

    sweeps = datasets.load("spin_diode_tacofeb")
    assert len(sweeps) == 17 and all(isinstance(s, Spectrum) for s in sweeps)
    np.testing.assert_allclose([s.freq_hz[0] for s in sweeps], np.arange(1, 18) * 1e9)

    vo2 = datasets.load("vo2_threshold_switch")
    up, down = vo2.sweeps
    assert isinstance(up, IVSweep) and (len(up), len(down)) == (210, 209)
    assert len(vo2.pulses) == 11 and all(isinstance(p, Transient) for p in vo2.pulses)
    names = [p.source.name for p in vo2.pulses]
    assert names == sorted(names) and names[0] == "4.25V_0.01s_68.5C.csv"


def test_no_module_reads_outside_the_project():
    """No installed module, test, example or script names the old location beside the repo."""
    pattern = re.compile(r"\.\./shared|[\"']shared[\"']\s*/\s*[\"']data")
    hits = []
    for folder in ("core", "netlists", "circuits", "demo", "simulators", "compact_models",
                   "calibration", "analysis", "tests", "examples", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                hits.append(str(path.relative_to(ROOT)))
    assert hits == []
