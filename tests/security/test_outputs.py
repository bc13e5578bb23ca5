"""Nothing lost: no output written over an input, no existing output replaced without
--force / overwrite=True, no half-written file, and every new file's mode follows the umask.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from neurospice.cli import main
from neurospice.errors import OutputError, OutputExists
from neurospice.fileio import (atomic_path, check_not_input, file_mode, read_json,
                               write_text_atomic)

DECK = "rc\nv1 in 0 1\nr1 in out 1000\nr2 out 0 1000\n.op\n.end\n"
NEEDS_NGSPICE = pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice missing")


@pytest.fixture
def umask027():
    """A umask other than the usual 022, so a hard-coded mode cannot pass by chance."""
    old = os.umask(0o027)
    yield 0o640
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def _no_temporaries(folder) -> None:
    assert not [p.name for p in Path(folder).rglob(".*.tmp")]


# ---- the helper --------------------------------------------------------------------------
def test_umask_is_read_without_changing_it(umask027):
    assert file_mode() == 0o640
    assert os.umask(0o027) == 0o027          # still the one the fixture set


def test_write_refuses_an_existing_file_unless_overwrite(tmp_path, umask027):
    out = tmp_path / "a.txt"
    assert write_text_atomic(out, "one") == out and out.read_text() == "one"
    assert _mode(out) == umask027
    with pytest.raises(OutputExists, match="--force / overwrite=True") as info:
        write_text_atomic(out, "two")
    assert info.value.path == str(out) and isinstance(info.value, FileExistsError)
    assert out.read_text() == "one"
    write_text_atomic(out, "three", overwrite=True)
    assert out.read_text() == "three" and _mode(out) == umask027
    _no_temporaries(tmp_path)


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path):
    """The check and the creation are one step (a hard link): a file another process
    creates while the content is written survives, and the write fails."""
    out = tmp_path / "race.txt"
    with pytest.raises(OutputExists):
        with atomic_path(out) as tmp:
            tmp.write_text("mine")
            out.write_text("theirs")          # the other writer wins the name
    assert out.read_text() == "theirs"
    _no_temporaries(tmp_path)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "a.txt"
    out.write_text("old")

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError, match="No space left") as info:
        write_text_atomic(out, "new", overwrite=True)
    assert info.value.path == str(out)
    monkeypatch.undo()
    assert out.read_text() == "old"
    _no_temporaries(tmp_path)


@pytest.mark.parametrize("target", ["folder", "device", "under_file"])
def test_never_a_folder_device_or_path_through_a_file(tmp_path, target):
    (tmp_path / "folder").mkdir()
    (tmp_path / "f").write_text("x")
    path = {"folder": tmp_path / "folder", "device": Path("/dev/null"),
            "under_file": tmp_path / "f" / "out.txt"}[target]
    with pytest.raises(OutputError) as info:
        write_text_atomic(path, "text", overwrite=True)
    assert not isinstance(info.value, OutputExists) and str(path) in str(info.value)
    assert (tmp_path / "f").read_text() == "x" and (tmp_path / "folder").is_dir()


def test_an_input_under_another_name_is_recognised(tmp_path):
    src = tmp_path / "deck.cir"
    src.write_text(DECK)
    (tmp_path / "sub").mkdir()
    os.link(src, tmp_path / "hard.cir")
    os.symlink(src, tmp_path / "soft.cir")
    for spelling in (tmp_path / "hard.cir", tmp_path / "soft.cir",
                     tmp_path / "sub" / ".." / "deck.cir"):
        with pytest.raises(OutputError, match="would write over the input"):
            check_not_input([spelling], [src])
    check_not_input([tmp_path / "new.csv"], [src, tmp_path / "missing"])   # no error


def test_read_json_refuses_what_is_not_a_small_regular_utf8_file(tmp_path):
    from neurospice.errors import DataError

    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_json(tmp_path / "ok.json") == {"a": 1}
    (tmp_path / "big.json").write_text("[" + "1," * 100 + "1]")
    with pytest.raises(DataError, match="bytes, more than 64"):
        read_json(tmp_path / "big.json", max_bytes=64)
    (tmp_path / "long_int.json").write_text("1" * 5000)
    for bad in (tmp_path, Path("/dev/zero"), tmp_path / "long_int.json"):
        with pytest.raises(DataError):
            read_json(bad)


# ---- the writers -------------------------------------------------------------------------
def test_circuit_write_checks_every_file_before_writing_any(tmp_path, umask027):
    from neurospice.netlists import Circuit

    c = Circuit("rc")
    c.vsource("1", "in", 0, dc=1.0)
    c.resistor("1", "in", 0, 1e3)
    out = c.write(tmp_path / "rc.cir")
    assert _mode(out) == umask027
    out.write_text("edited by hand")
    with pytest.raises(OutputExists):
        c.write(out)
    assert out.read_text() == "edited by hand"
    c.write(out, overwrite=True)
    assert out.read_text() == c.to_netlist("ngspice") and _mode(out) == umask027


@NEEDS_NGSPICE
def test_result_to_csv(tmp_path, umask027):
    from neurospice.simulators import get_simulator

    res = get_simulator("ngspice").run(DECK)[0]
    out = res.to_csv(tmp_path / "op.csv")
    assert _mode(out) == umask027
    with pytest.raises(OutputExists):
        res.to_csv(out)
    res.to_csv(out, overwrite=True)


@NEEDS_NGSPICE
def test_sim_never_writes_over_its_deck(tmp_path, capsys):
    deck = tmp_path / "deck.cir"
    deck.write_text(DECK)
    os.symlink(deck, tmp_path / "alias.cir")
    for out in (deck, tmp_path / "alias.cir"):
        assert main(["sim", str(deck), "--out", str(out), "--force"]) == 2
        assert "would write over the input" in capsys.readouterr().err
        assert deck.read_text() == DECK
    # a deck named .csv: its default output is itself
    named_csv = tmp_path / "deck.csv"
    named_csv.write_text(DECK)
    assert main(["sim", str(named_csv), "--force"]) == 2
    assert named_csv.read_text() == DECK


@NEEDS_NGSPICE
def test_sim_default_and_explicit_outputs_need_force(tmp_path, capsys, umask027):
    deck = tmp_path / "rc.cir"
    deck.write_text(DECK)
    assert main(["sim", str(deck)]) == 0
    default = tmp_path / "rc.csv"
    assert _mode(default) == umask027
    default.write_text("mine")
    assert main(["sim", str(deck)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and str(default) in err and default.read_text() == "mine"
    assert main(["sim", str(deck), "--force"]) == 0
    assert default.read_text().startswith("v(in)") or "," in default.read_text()
    _no_temporaries(tmp_path)


def test_models_export_and_the_va_beside_it(tmp_path, capsys, umask027):
    card = tmp_path / "mtj.inc"
    assert main(["models", "export", "mtj", "--dialect", "vacask", "--out", str(card)]) == 0
    va = tmp_path / "mtj.va"
    assert _mode(card) == umask027 and _mode(va) == umask027
    card.unlink()
    va.write_text("// my own edits")
    # the card alone is new, but the .va beside it exists: nothing is written
    assert main(["models", "export", "mtj", "--dialect", "vacask", "--out", str(card)]) == 2
    assert str(va) in capsys.readouterr().err
    assert not card.exists() and va.read_text() == "// my own edits"
    assert main(["models", "export", "mtj", "--dialect", "vacask", "--out", str(card),
                 "--force"]) == 0
    assert "module" in va.read_text()
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"params": {"rp": 3000.0}}))
    assert main(["models", "export", "mtj", "--params", str(params), "--out", str(params),
                 "--force"]) == 2
    assert json.loads(params.read_text()) == {"params": {"rp": 3000.0}}


def test_fit_refuses_a_full_folder_before_fitting(tmp_path, capsys):
    data = tmp_path / "data" / "iv.csv"
    data.parent.mkdir()
    data.write_text("V,I\n" + "".join(f"{v / 10:.2f},{v / 10 / 2000:.6g}\n"
                                      for v in range(-5, 6)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["fit", "mtj", str(data), "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    # with --force, a data file inside the folder is still protected
    assert main(["fit", "mtj", str(data), "--out", str(data.parent), "--force"]) == 2
    assert "holds the data file" in capsys.readouterr().err


def test_write_outputs_api(tmp_path, umask027):
    """The report writer itself: a full folder is refused before anything is written."""
    from neurospice.calibration import fit_mtj_rv, get_recipe, write_outputs
    from neurospice.demo.calibration import mtj_iv_file

    data = mtj_iv_file(tmp_path / "iv.csv")
    cal = fit_mtj_rv(get_recipe("mtj-rv").load(data), verify=False, seed=1)
    out = tmp_path / "o"
    paths = write_outputs(cal, out, plots=False)
    assert all(_mode(p) == umask027 for p in paths)
    before = {p.name: p.read_text() for p in out.iterdir()}
    with pytest.raises(OutputExists, match="not empty"):
        write_outputs(cal, out, plots=False)
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert write_outputs(cal, out, plots=False, overwrite=True) == paths
    _no_temporaries(out)


def test_rfnet_train_and_export(tmp_path, capsys, umask027):
    out = tmp_path / "net"
    args = ["rfnet", "train", "synthetic:xor", "--layers", "2,2", "--epochs", "2",
            "--out", str(out)]
    assert main(args) == 0
    first = (out / "network.json").read_text()
    assert all(_mode(p) == umask027 for p in out.iterdir())
    assert main(args[:-2] + ["--seed", "5", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and (out / "network.json").read_text() == first
    assert main(args[:-2] + ["--seed", "5", "--out", str(out), "--force"]) == 0
    assert (out / "network.json").read_text() != first

    assert main(["rfnet", "export", str(out), "--level", "envelope"]) == 0
    netlist = out / "envelope.ngspice.cir"
    assert _mode(netlist) == umask027
    netlist.write_text("edited")
    assert main(["rfnet", "export", str(out), "--level", "envelope"]) == 2
    assert netlist.read_text() == "edited"
    assert main(["rfnet", "export", str(out), "--level", "envelope", "--force"]) == 0
    assert main(["rfnet", "export", str(out), "--level", "envelope", "--force",
                 "--out", str(out / "network.json")]) == 2
    assert "would write over the input" in capsys.readouterr().err


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    from neurospice.demo import MARKER

    (tmp_path / "thesis.tex").write_text("years of work")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]
    assert not (tmp_path / MARKER).exists()
