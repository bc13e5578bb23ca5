"""Exported cards stand on their own: `models export DEVICE --out FOLDER` writes a folder whose
example decks run in plain ``ngspice -b`` and plain ``vacask`` (no neurospice in between) from
another working directory, DC and transient, and agree with neurospice running the same
circuit; the renderings agree on the DC state; the MTJ subcircuit converges on VACASK."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neurospice.compact_models.devices import device_names, get_device
from neurospice.compact_models.export import EXAMPLE_DECKS, example_circuit, export_folder
from neurospice.simulators import get_simulator
from neurospice.simulators.openvaf import openvaf_executable
from neurospice.simulators.rawfile import read_raw

NGSPICE = get_simulator("ngspice")
VACASK = get_simulator("vacask")

pytestmark = pytest.mark.skipif(
    not (NGSPICE.is_available() and VACASK.is_available() and openvaf_executable()),
    reason="needs ngspice, vacask and openvaf-r")

# a programmed state: memory devices start away from their table default
PROGRAMMED = {"mtj": {"m0": -1.0}}


def plain(cmd: list[str], cwd: Path) -> str:
    """Run a simulator binary as a designer would, in ``cwd``, with a clean environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROSPICE")}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def plots_by_kind(plots) -> dict:
    out = {}
    for p in plots:
        name = p.plotname.lower()
        out["tran" if "transient" in name else "op" if "operating" in name else name] = p
    return out


def neurospice_run(sim, device, rendering):
    results = sim.run(example_circuit(device, rendering, PROGRAMMED.get(device.name)))
    return {r.kind: r for r in results}


def agree(time_a, a, time_b, b, rel=1e-6):
    """Two transients of one current on their own time grids, within ``rel`` of its range."""
    grid = np.linspace(0.0, min(time_a[-1], time_b[-1]), 400)
    ia, ib = np.interp(grid, time_a, a), np.interp(grid, time_b, b)
    scale = max(np.ptp(ia), np.max(np.abs(ia)), 1e-15)
    np.testing.assert_allclose(ia, ib, rtol=0, atol=rel * scale)


@pytest.mark.parametrize("name", device_names())
def test_exported_folder_runs_in_plain_simulators_from_a_foreign_folder(name, tmp_path):
    device = get_device(name)
    folder = tmp_path / "cards" / name
    written = export_folder(device, folder, PROGRAMMED.get(name))
    assert {p.name for p in written} >= {f"{name}.va", f"{name}.osdi", f"{name}.ngspice.lib",
                                         *EXAMPLE_DECKS.values()}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rel = Path("..") / "cards" / name

    # ngspice with the OSDI card: num_threads set, pre_osdi by a relative path
    osdi_deck = (folder / EXAMPLE_DECKS["osdi"]).read_text()
    assert "set num_threads=1" in osdi_deck and f"pre_osdi {name}.osdi" in osdi_deck
    plain([str(NGSPICE.executable), "-b", "-r", "osdi.raw", str(rel / EXAMPLE_DECKS["osdi"])],
          elsewhere)
    got = plots_by_kind(read_raw(elsewhere / "osdi.raw"))
    ref = neurospice_run(NGSPICE, device, "osdi")
    assert got["op"]["i(v1)"][0] == pytest.approx(ref["op"]["i(v1)"][0], rel=1e-9, abs=1e-18)
    agree(got["tran"]["time"], got["tran"]["i(v1)"], ref["tran"].axis, ref["tran"]["i(v1)"])

    # ngspice with the subcircuit card, .include by a relative path
    assert f'.include "{name}.ngspice.lib"' in (folder / EXAMPLE_DECKS["subckt"]).read_text()
    plain([str(NGSPICE.executable), "-b", "-r", "sub.raw", str(rel / EXAMPLE_DECKS["subckt"])],
          elsewhere)
    sub = plots_by_kind(read_raw(elsewhere / "sub.raw"))
    ref_sub = neurospice_run(NGSPICE, device, "subckt")
    assert sub["op"]["i(v1)"][0] == pytest.approx(ref_sub["op"]["i(v1)"][0], rel=1e-9,
                                                  abs=1e-18)
    agree(sub["tran"]["time"], sub["tran"]["i(v1)"], ref_sub["tran"].axis,
          ref_sub["tran"]["i(v1)"])

    # VACASK with the OSDI card, load by a relative path; raw files land in the working folder
    plain([str(VACASK.executable), str(rel / EXAMPLE_DECKS["vacask"])], elsewhere)
    vac_op = read_raw(elsewhere / "op1.raw")[0]
    vac_tran = read_raw(elsewhere / "tran1.raw")[0]
    ref_vac = neurospice_run(VACASK, device, "osdi")
    assert vac_op["V1:flow(br)"][0] == pytest.approx(ref_vac["op"]["i(v1)"][0], rel=1e-9, abs=1e-18)
    agree(vac_tran["time"], vac_tran["V1:flow(br)"], ref_vac["tran"].axis, ref_vac["tran"]["i(v1)"])

    # the same DC state in both renderings (a programmed state stays put); VACASK and ngspice
    # differ in their own ways (gmin, source stepping) by less than 1e-3
    assert sub["op"]["i(v1)"][0] == pytest.approx(got["op"]["i(v1)"][0], rel=1e-9, abs=1e-18)
    assert vac_op["V1:flow(br)"][0] == pytest.approx(got["op"]["i(v1)"][0], rel=1e-3,
                                                     abs=1e-12)
    assert not list(tmp_path.glob("cards/*/*.raw")), "outputs belong to the working folder"


def test_mtj_programmed_state_is_held_in_dc_by_both_cards(tmp_path):
    """AP (m0 = -1) at 0.1 V through 1 kohm: G = 0.5/rp (1/(1+tmr)), not the P conductance."""
    mtj = get_device("mtj")
    ref = neurospice_run(NGSPICE, mtj, "osdi")["op"]["i(v1)"][0]
    p = mtj.params()
    # the AP current solves I = g_AP(V) V with V = 0.1 - 1e3 I; check it is the AP branch
    current = -ref
    v = 0.1 - 1e3 * current
    g_ap = 1 / p["rp"] / (1 + p["tmr0"] / (1 + v * v / p["vh"] ** 2))
    assert current == pytest.approx(g_ap * v, rel=1e-6)
    sub = neurospice_run(NGSPICE, mtj, "subckt")["op"]["i(v1)"][0]
    assert sub == pytest.approx(ref, rel=1e-9)


def test_mtj_subcircuit_converges_on_vacask_at_its_defaults():
    """It stalled at delta = 40 ("singular matrix at node X1:s_m") with a 1 F state node."""
    mtj = get_device("mtj")
    assert mtj.params()["delta"] == 40.0
    sub = neurospice_run(VACASK, mtj, "subckt")
    osdi = neurospice_run(VACASK, mtj, "osdi")
    assert sub["op"]["i(v1)"][0] == pytest.approx(osdi["op"]["i(v1)"][0], rel=1e-9)
    # the pulse switches it; both renderings end in the same state, read at 0.1 V
    assert sub["tran"]["i(v1)"][-1] == pytest.approx(osdi["tran"]["i(v1)"][-1], rel=1e-3)
    assert abs(sub["tran"]["i(v1)"][-1]) > 1.3 * abs(sub["op"]["i(v1)"][0])


def test_cli_models_export_out_folder(tmp_path, capsys):
    from neurospice.cli import main

    out = tmp_path / "mtj"
    assert main(["models", "export", "mtj", "--out", str(out)]) == 0
    assert (out / EXAMPLE_DECKS["osdi"]).is_file() and (out / "mtj.osdi").is_file()
    assert "example.sim" in capsys.readouterr().out
    assert main(["models", "export", "mtj", "--out", str(out)]) == 2     # not empty
    assert "--force" in capsys.readouterr().err
    assert main(["models", "export", "mtj", "--out", str(out), "--force"]) == 0
