"""The foreign-deck corpus: hand-written decks in the styles of the ngspice manual's examples
(tests/decks/), each run through ``neurospice sim`` on ngspice (the deck as is, its
includes resolved from its folder) and on VACASK (read into a Circuit and rendered anew),
and compared with plain ``ngspice -b`` on the same deck, run here from another folder:
the same vectors within the simulators' tolerances, the same ``.meas`` values.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurospice.simulators import load_result, read_raw
from neurospice.simulators.measure import ngspice_measurements
from neurospice.simulators.ngspice import in_card_order, ngspice_plots_to_results

DECKS = Path(__file__).parent / "decks"
CORPUS = sorted(p for p in DECKS.iterdir() if p.suffix.lower() == ".cir")

pytestmark = pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice not installed")


def test_corpus_size():
    assert len(CORPUS) >= 20


def plain_ngspice(deck: Path, tmp: Path):
    """Plain ngspice on the deck: the raw file's Results, and the printed .meas values of a
    second run without -r (ngspice skips .meas when it writes a raw file)."""
    text = deck.read_text()
    raw = tmp / "plain.raw"
    run = subprocess.run(["ngspice", "-b", "-r", str(raw), str(deck)], capture_output=True,
                         text=True, cwd=tmp, timeout=60, env={**os.environ,
                                                               "SPICE_ASCIIRAWFILE": "0"})
    assert raw.exists(), run.stdout + run.stderr
    results = in_card_order(ngspice_plots_to_results(read_raw(raw), text, "", "ngspice"), text)
    meas = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True,
                          cwd=tmp, timeout=60)
    return results, ngspice_measurements(meas.stdout + meas.stderr)


def neurospice_sim(deck: Path, simulator: str, tmp: Path):
    """``neurospice sim`` from another folder; its result files and printed measurements."""
    out = tmp / f"{simulator}.csv"
    run = subprocess.run([sys.executable, "-m", "neurospice", "sim", str(deck), "--simulator",
                          simulator, "--out", str(out)], capture_output=True, text=True,
                         cwd=tmp, timeout=120)
    assert run.returncode == 0, run.stderr
    files = sorted(tmp.glob(f"{simulator}*.csv"))
    measured = {}
    for line in run.stdout.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            measured[name.strip()] = math.nan if value.strip() == "failed" else float(value)
    return [load_result(f) for f in files], measured


def compare(mine, ref, simulator: str, deck: str):
    assert mine.kind == ref.kind, deck
    exact = simulator == "ngspice"
    names = [n for n in ref.names if (n.startswith("v(") or n == "onoise_spectrum")
             and n in mine]
    assert names, f"{deck}: no common node voltages ({ref.names} vs {mine.names})"
    for n in names:
        want = np.asarray(ref[n])
        got = np.asarray(mine[n])
        if ref.kind == "tran":
            # different time steps: the reference (ngspice, dense) at this run's time points
            want = np.interp(mine.axis, ref.axis, want)
            scale = max(np.ptp(want), np.max(np.abs(want)), 1e-12)
            tol = 1e-6 if exact else 2e-2
            err = np.max(np.abs(got - want)) / scale
        else:
            assert got.shape == want.shape, f"{deck} {n}"
            if ref.kind == "noise":
                want, got = np.abs(want), np.abs(got)
                scale = np.abs(want) + 1e-300
                tol = 1e-6 if exact else 1e-2
            else:
                scale = max(np.max(np.abs(want)), 1e-12)
                tol = 1e-6 if exact else 1e-3
            err = np.max(np.abs(got - want) / scale)
        assert err <= tol, f"{deck} on {simulator}: {n} differs by {err:.3g} (tol {tol})"


@pytest.mark.parametrize("simulator", ["ngspice", "vacask"])
@pytest.mark.parametrize("deck", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_deck(deck, simulator, tmp_path):
    if simulator == "vacask" and shutil.which("vacask") is None:
        from neurospice.simulators import get_simulator
        if not get_simulator("vacask").is_available():
            pytest.skip("vacask not installed")
    (tmp_path / "plain").mkdir()
    (tmp_path / "ns").mkdir()
    ref_results, ref_meas = plain_ngspice(deck, tmp_path / "plain")
    results, meas = neurospice_sim(deck, simulator, tmp_path / "ns")
    assert len(results) == len(ref_results), deck.name
    for mine, ref in zip(results, ref_results):
        compare(mine, ref, simulator, deck.name)
    # every measurement plain ngspice printed, the same value (ngspice's AVG/RMS window
    # ends on a time point, ours is interpolated: a few 1e-4 on a 20 ns grid)
    assert set(ref_meas) <= set(meas), f"{deck.name}: {sorted(ref_meas)} vs {sorted(meas)}"
    for name, want in ref_meas.items():
        got = meas[name]
        if math.isnan(want):
            assert math.isnan(got), f"{deck.name}: {name} failed in ngspice, not here"
            continue
        tol = 2e-3 if simulator == "ngspice" else 2e-2
        assert got == pytest.approx(want, rel=tol, abs=1e-12), \
            f"{deck.name} on {simulator}: .meas {name} = {got}, plain ngspice {want}"
    if ref_meas:
        assert set(meas) == set(ref_meas) | {k for k, v in meas.items() if math.isnan(v)}
