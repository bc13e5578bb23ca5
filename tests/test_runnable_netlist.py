"""Netlists that run as printed: ``runnable_netlist`` names the compiled models by absolute
paths in the cache; ``write_runnable`` writes the netlist with every file it loads beside it
(relative names). Each runs in the plain simulator, from a foreign working folder, and agrees
with neurospice running the same circuit."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neurospice.compact_models.devices import get_device
from neurospice.compact_models.export import example_circuit
from neurospice.errors import OutputExists
from neurospice.simulators import get_simulator, runnable_netlist, write_runnable
from neurospice.simulators.openvaf import openvaf_executable
from neurospice.simulators.rawfile import read_raw

NGSPICE = get_simulator("ngspice")
VACASK = get_simulator("vacask")
AP = {"m0": -1.0}

pytestmark = pytest.mark.skipif(
    not (NGSPICE.is_available() and VACASK.is_available() and openvaf_executable()),
    reason="needs ngspice, vacask and openvaf-r")


def plain(cmd: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROSPICE")}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def by_kind(plots) -> dict:
    return {("tran" if "transient" in p.plotname.lower() else "op"): p for p in plots}


def reference(sim, rendering):
    return {r.kind: r for r in sim.run(example_circuit(get_device("mtj"), rendering, AP))}


def check_ngspice(raw: Path, rendering: str):
    got, ref = by_kind(read_raw(raw)), reference(NGSPICE, rendering)
    assert got["op"]["i(v1)"][0] == pytest.approx(ref["op"]["i(v1)"][0], rel=1e-9)
    grid = np.linspace(0.0, ref["tran"].axis[-1], 200)
    a = np.interp(grid, got["tran"]["time"].real, got["tran"]["i(v1)"].real)
    b = np.interp(grid, ref["tran"].axis, ref["tran"]["i(v1)"])
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * np.max(np.abs(b)))


def test_to_netlist_alone_names_an_osdi_file_that_is_not_there():
    """The problem this solves: the pure rendering names ``<model>.osdi`` beside the .va."""
    text = example_circuit(get_device("mtj"), "osdi", AP).to_netlist("ngspice")
    (path,) = re.findall(r"^pre_osdi (\S+)$", text, re.M)
    assert not Path(path).exists()


def test_runnable_netlist_runs_as_printed_in_plain_ngspice(tmp_path):
    c = example_circuit(get_device("mtj"), "osdi", AP)
    text = runnable_netlist(c, "ngspice")
    (path,) = re.findall(r"^pre_osdi (\S+)$", text, re.M)
    assert Path(path).is_absolute() and Path(path).is_file()
    (tmp_path / "deck.cir").write_text(text)
    plain([str(NGSPICE.executable), "-b", "-r", "out.raw", "deck.cir"], tmp_path)
    check_ngspice(tmp_path / "out.raw", "osdi")


def test_runnable_netlist_for_vacask_compiles_the_generated_wrappers(tmp_path):
    """The subcircuit on VACASK loads generated wrappers: compiled into the cache, absolute."""
    c = example_circuit(get_device("mtj"), "subckt", AP)
    text = runnable_netlist(c, "vacask")
    loads = re.findall(r'^load "([^"]+)"', text, re.M)
    generated = [p for p in loads if Path(p).is_absolute()]
    assert generated and all(p.endswith(".osdi") and Path(p).is_file() for p in generated)
    (tmp_path / "deck.sim").write_text(text)
    plain([str(VACASK.executable), "deck.sim"], tmp_path)
    ref = reference(VACASK, "subckt")
    op = read_raw(tmp_path / "op1.raw")[0]
    assert op["V1:flow(br)"][0] == pytest.approx(ref["op"]["i(v1)"][0], rel=1e-9)


@pytest.mark.parametrize("dialect,rendering", [("ngspice", "osdi"), ("vacask", "osdi"),
                                               ("vacask", "subckt")])
def test_written_folder_runs_from_a_foreign_folder(tmp_path, dialect, rendering):
    c = example_circuit(get_device("mtj"), rendering, AP)
    deck = tmp_path / "kit" / ("deck.cir" if dialect == "ngspice" else "deck.sim")
    written = write_runnable(c, deck, dialect)
    assert written[-1] == deck and all(p.parent == deck.parent for p in written)
    assert any(p.suffix == ".osdi" for p in written)
    assert str(tmp_path) not in deck.read_text()     # relative names only
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if dialect == "ngspice":
        plain([str(NGSPICE.executable), "-b", "-r", "out.raw", "../kit/deck.cir"], elsewhere)
        check_ngspice(elsewhere / "out.raw", rendering)
    else:
        plain([str(VACASK.executable), "../kit/deck.sim"], elsewhere)
        ref = reference(VACASK, rendering)
        op = read_raw(elsewhere / "op1.raw")[0]
        assert op["V1:flow(br)"][0] == pytest.approx(ref["op"]["i(v1)"][0], rel=1e-9)
    # written once: a second write refuses, and replaces with overwrite=True
    with pytest.raises(OutputExists):
        write_runnable(c, deck, dialect)
    assert write_runnable(c, deck, dialect, overwrite=True) == written


def test_rfnet_export_for_vacask_loads_only_files_beside_it(tmp_path):
    """``rfnet export --dialect vacask`` writes the compiled cards beside the netlist (no
    ``load`` into the user's cache) and the folder runs in plain VACASK from elsewhere."""
    from neurospice.circuits.rfnet.data import synthetic
    from neurospice.circuits.rfnet.network import RFNetwork
    from neurospice.cli import main
    from neurospice.paths import cache_dir

    ds = synthetic("xor", seed=0)
    net = RFNetwork.build([2, 1], ds.freq_hz, osc_freq_hz=[[4e9, 6e9]], seed=0, name="xor")
    kit = tmp_path / "kit"
    kit.mkdir()
    net.save(kit / "network.json")
    assert main(["rfnet", "export", str(kit), "--level", "rf", "--dialect", "vacask"]) == 0
    (deck,) = kit.glob("rf.vacask*")
    text = deck.read_text()
    assert str(cache_dir()) not in text
    builtin = {"resistor.osdi", "capacitor.osdi", "inductor.osdi", "spice/diode.osdi"}
    loads = set(re.findall(r'^load "([^"]+)"', text, re.M)) - builtin
    assert loads and all((kit / name).is_file() for name in loads)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plain([str(VACASK.executable), f"../kit/{deck.name}"], elsewhere)
    tran = read_raw(elsewhere / "tran1.raw")[0]
    score = np.asarray(tran["lp0_0"]).real
    assert len(score) > 100 and np.all(np.isfinite(score))
