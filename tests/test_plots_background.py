"""Plots drawn by a child process (``analysis.plots.background``), and the typed errors that
cross process boundaries on the way back (and to and from sweep and Dask workers).

`neurospice fit` draws its PNGs in a child that imports matplotlib while the command
imports lmfit and fits. What must hold: the same file as drawn in this process, the plot's
own error raised at the block's end with its type, nothing lost when the child cannot take
a plot (arguments that do not pickle, another thread, a child that died), no half-written
file, and nothing of the caller's main script run again in the child.
"""

from __future__ import annotations

import inspect
import pickle
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from neurospice import errors
from neurospice.analysis import plots


def panels(shift: float = 0.0) -> list[dict]:
    x = np.linspace(0.0, 1.0, 21)
    y = np.sin(3 * x) + shift
    return [{"x": x, "y": y, "fit_x": x, "fit_y": y * 0.99, "residual": y * 0.01,
             "label": "curve", "text": "R^2 = 0.99"}]


def test_background_draws_the_same_file_as_this_process(tmp_path):
    here = plots.fit_overlay(panels(), tmp_path / "here.png", title="t")
    with plots.background() as drawing:
        there = plots.fit_overlay(panels(), tmp_path / "there.png", title="t")
        assert there == tmp_path / "there.png"
        assert drawing is not None and len(drawing.sent) == 1     # went to the child
    assert there.read_bytes() == here.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_arguments_are_taken_at_the_call(tmp_path):
    data = panels()
    with plots.background():
        plots.fit_overlay(data, tmp_path / "a.png")
        data[0]["y"][:] = 100.0                     # changed after the call: not drawn
    ref = plots.fit_overlay(panels(), tmp_path / "ref.png")
    assert (tmp_path / "a.png").read_bytes() == ref.read_bytes()


def test_the_childs_error_is_raised_with_its_type_at_the_end(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(errors.OutputError, match="is a folder"):
        with plots.background():
            plots.fit_overlay(panels(), tmp_path / "ok.png")
            plots.fit_overlay(panels(), tmp_path / "taken")   # a folder: refused by the child
    assert (tmp_path / "ok.png").is_file()
    with pytest.raises(KeyError):
        with plots.background():
            plots.fit_overlay([{"x": [1.0]}], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_what_the_child_cannot_take_is_drawn_here(tmp_path):
    class Local(list):                                # a class pickle cannot find by name
        pass

    out = {}
    with plots.background() as drawing:
        plots.curves([{"series": Local([(np.arange(3), np.arange(3), "a")])}],
                     tmp_path / "local.png")
        worker = threading.Thread(target=lambda: out.update(
            p=plots.curves([{"series": [([0, 1], [1, 0], "b")]}], tmp_path / "thread.png")))
        worker.start()
        worker.join()
        assert drawing.sent == []                    # neither went to the child
    assert (tmp_path / "local.png").is_file() and out["p"].is_file()


def test_a_dead_child_costs_nothing(tmp_path):
    with plots.background() as drawing:
        drawing.process.kill()
        drawing.process.wait()
        path = plots.fit_overlay(panels(), tmp_path / "after.png")   # pipe broken: here
        assert drawing.sent == []
    assert path.is_file()


def test_a_failing_block_stops_an_idle_child_and_keeps_its_error(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with plots.background() as drawing:
            1 / 0
    assert drawing.process.returncode is not None          # stopped, not left behind
    with pytest.raises(ZeroDivisionError):
        with plots.background() as drawing:
            plots.fit_overlay(panels(), tmp_path / "kept.png")
            1 / 0
    assert (tmp_path / "kept.png").is_file()                # finished, not half-written
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_callers_main_script_does_not_run_again(tmp_path):
    """multiprocessing's spawn would import an unguarded main script in the child again
    (and refuse to start); the child is a plain interpreter on two pipes."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np\n"
        "from neurospice.analysis import plots\n"
        "print('main ran')\n"
        "with plots.background():\n"
        "    plots.curves([{'series': [(np.arange(3), np.arange(3), 'a')]}], 'c.png')\n")
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("main ran") == 1
    assert (tmp_path / "c.png").is_file()


def error_examples():
    """One instance of every error class, built with its own arguments."""
    given = {"message": "went wrong", "element": "R1", "line": 3, "construct": ".shell",
             "line_text": ".shell rm", "path": "/x/y.cir", "name": "ngspice",
             "hint": "apt install ngspice", "simulator": "ngspice", "log": "log text",
             "netlist_line": 7, "column": "I (A)", "row": 12}
    out = []
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.NeurospiceError):
            try:
                params = inspect.signature(cls).parameters
            except ValueError:                         # Exception's own __init__
                params = {"args": None}
            if "args" in params:
                out.append(cls("went wrong"))
            else:
                out.append(cls(**{k: given[k] for k in params}))
    return out


@pytest.mark.parametrize("err", error_examples(), ids=lambda e: type(e).__name__)
def test_every_error_pickles_as_it_is(err):
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert str(again) == str(err) and again.args == err.args
    assert vars(again) == vars(err)


def test_fit_run_as_a_program_draws_the_same_plots_as_fit_called_in_python(tmp_path):
    """`neurospice fit` as its own process draws in a child (started before the fit);
    ``main([...])`` in this process draws here: the same files either way."""
    from neurospice.cli import main
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.spin_diode import envelope

    card = {**get_device("spin_diode").defaults(), "f_res": 5e9, "alpha": 0.02,
            "k_sd": 8800.0, "k_sym": 3000.0}
    f = np.linspace(4.4e9, 5.6e9, 61)
    v = envelope(f, 1e-6, card) + 3e-5 + np.random.default_rng(0).normal(0, 1e-4, f.size)
    data = tmp_path / "line.csv"
    data.write_text("freq_hz,vdc_v,power_w\n" + "".join(f"{a:.17g},{b:.17g},1e-6\n"
                                                       for a, b in zip(f, v)))
    argv = ["fit", "spin_diode", str(data), "--recipe", "spin-diode-spectrum", "--no-verify",
            "--quiet", "--out"]
    run = subprocess.run([sys.executable, "-m", "neurospice", *argv, str(tmp_path / "own")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert main([*argv, str(tmp_path / "called")]) == 0
    own, called = tmp_path / "own", tmp_path / "called"
    pngs = sorted(p.name for p in own.glob("*.png"))
    assert pngs and pngs == sorted(p.name for p in called.glob("*.png"))
    for name in pngs:
        assert (own / name).read_bytes() == (called / name).read_bytes()
    def report(folder):       # the report without its timings
        return re.sub(r"[0-9.]+ s\b", "T s", (folder / "report.md").read_text())
    assert report(own).replace("own", "called") == report(called)
