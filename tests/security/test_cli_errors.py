"""Every `neurospice` command attacked through its arguments and input files: each failure
is one typed line on stderr and a non-zero exit code, never a traceback or another exception.

The cases run ``neurospice.cli.main`` in-process, so an exception that escapes it (anything
but a NeurospiceError, which main prints) fails the test with its traceback.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from neurospice.cli import main

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
DECK = "rc\nv1 in 0 1\nr1 in out 1000\nr2 out 0 1000\n.op\n.end\n"
NEEDS_NGSPICE = pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice missing")


@pytest.fixture
def files(tmp_path):
    """A folder of hostile inputs; ``{name}`` in an argument becomes its path."""
    f = {
        "deck": tmp_path / "rc.cir",
        "missing": tmp_path / "missing.cir",
        "folder": tmp_path / "a_folder",
        "binary": tmp_path / "binary.cir",
        "empty": tmp_path / "empty.cir",
        "latin1": tmp_path / "latin1.csv",
        "garbage": tmp_path / "garbage.csv",
        "short_row": tmp_path / "short_row.csv",
        "deep_json": tmp_path / "deep.json",
        "list_json": tmp_path / "list.json",
        "bad_value": tmp_path / "bad_value.json",
        "inf_value": tmp_path / "inf_value.json",
        "unknown_param": tmp_path / "unknown_param.json",
        "net_binary": tmp_path / "net_binary",
        "net_empty": tmp_path / "net_empty",
        "net_deep": tmp_path / "net_deep",
        "net_list": tmp_path / "net_list",
        "net_keys": tmp_path / "net_keys",
        "a_file": tmp_path / "a_file.txt",
        "full": tmp_path / "full_folder",
        "no_net": tmp_path / "no_net",
        "under_file": tmp_path / "a_file.txt" / "out.csv",
        "good": tmp_path / "good.csv",
        "card": tmp_path / "card.json",
        "tmp": tmp_path,
    }
    f["good"].write_text("V,I\n" + "".join(f"{v / 10:.2f},{v / 10 / 2000:.6g}\n"
                                          for v in range(-5, 6)))
    f["card"].write_text(json.dumps({"params": {"rp": 2000.0}}))
    f["deck"].write_text(DECK)
    f["folder"].mkdir()
    f["binary"].write_bytes(bytes(range(256)) * 8)
    f["empty"].write_text("")
    f["latin1"].write_bytes("V,I\n0,1\n\xe9,2\n".encode("latin-1"))
    f["garbage"].write_text('"unterminated,\x00\x00,,\n' * 20)
    f["short_row"].write_text("V,I\n0,0\n0.1,1e-4\n0.2\n0.3,3e-4\n")
    f["deep_json"].write_text("[" * 100_000 + "]" * 100_000)
    f["list_json"].write_text("[1, 2, 3]")
    f["bad_value"].write_text(json.dumps({"params": {"rp": "abc"}}))
    f["inf_value"].write_text('{"params": {"rp": 1e999}}')
    f["unknown_param"].write_text(json.dumps({"params": {"nosuch": 1.0}}))
    for name, text in (("net_binary", None), ("net_empty", ""), ("net_deep", "{" * 0 + "[" *
                       100_000 + "]" * 100_000), ("net_list", "[]"),
                       ("net_keys", json.dumps({"kind": "neurospice.rfnet", "layers": 3}))):
        f[name].mkdir()
        if text is None:
            (f[name] / "network.json").write_bytes(b"\xff\xfe\x00garbage" * 100)
        else:
            (f[name] / "network.json").write_text(text)
    f["a_file"].write_text("not a folder")
    f["full"].mkdir()
    (f["full"] / "someone_elses.txt").write_text("keep me")
    f["no_net"].mkdir()
    return f


CASES = {
    # the parser itself
    "no command": [],
    "unknown command": ["nosuch"],
    "info, unknown option": ["info", "--bogus"],
    # sim: numeric options, input files, outputs
    "sim timeout nan": ["sim", "{deck}", "--timeout", "nan"],
    "sim timeout inf": ["sim", "{deck}", "--timeout", "inf"],
    "sim timeout -1": ["sim", "{deck}", "--timeout", "-1"],
    "sim timeout 0": ["sim", "{deck}", "--timeout", "0"],
    "sim timeout huge": ["sim", "{deck}", "--timeout", "1e400"],
    "sim timeout text": ["sim", "{deck}", "--timeout", "soon"],
    "sim missing deck": ["sim", "{missing}"],
    "sim deck is a folder": ["sim", "{folder}"],
    "sim deck is /dev/zero": ["sim", "/dev/zero", "--out", "{tmp}/zero.csv"],
    "sim binary deck": ["sim", "{binary}", "--out", "{tmp}/b.csv"],
    "sim unknown simulator": ["sim", "{deck}", "--simulator", "nosuch"],
    "sim out is the deck": ["sim", "{deck}", "--out", "{deck}"],
    "sim out is a folder": ["sim", "{deck}", "--out", "{folder}"],
    "sim out under a file": ["sim", "{deck}", "--out", "{under_file}"],
    "sim out in /proc": ["sim", "{deck}", "--out", "/proc/self/neurospice.csv"],
    "sim out is a device": ["sim", "{deck}", "--out", "/dev/null", "--force"],
    # models
    "models unknown action": ["models", "nosuch"],
    "models show without a name": ["models", "show"],
    "models show unknown device": ["models", "show", "nosuch"],
    "models export unknown dialect": ["models", "export", "mtj", "--dialect", "nosuch"],
    "models export missing card": ["models", "export", "mtj", "--params", "{missing}"],
    "models export card is a folder": ["models", "export", "mtj", "--params", "{folder}"],
    "models export binary card": ["models", "export", "mtj", "--params", "{binary}"],
    "models export empty card": ["models", "export", "mtj", "--params", "{empty}"],
    "models export deep card": ["models", "export", "mtj", "--params", "{deep_json}"],
    "models export list card": ["models", "export", "mtj", "--params", "{list_json}"],
    "models export text value": ["models", "export", "mtj", "--params", "{bad_value}"],
    "models export infinite value": ["models", "export", "mtj", "--params", "{inf_value}"],
    "models export unknown param": ["models", "export", "mtj", "--params", "{unknown_param}"],
    "models export card is /dev/zero": ["models", "export", "mtj", "--params", "/dev/zero"],
    "models export out is a folder": ["models", "export", "mtj", "--dialect", "ngspice",
                                      "--out", "{folder}"],
    "models export out under a file": ["models", "export", "mtj", "--out", "{under_file}"],
    "models export out in /proc": ["models", "export", "mtj", "--out", "/proc/self/x.lib"],
    "models export out is the card": ["models", "export", "mtj", "--params", "{card}",
                                      "--out", "{card}", "--force"],
    # fit
    "fit unknown model": ["fit", "nosuch", "{deck}"],
    "fit missing data": ["fit", "mtj", "{missing}", "--out", "{tmp}/o"],
    "fit data is a folder": ["fit", "mtj", "{folder}", "--out", "{tmp}/o"],
    "fit empty data": ["fit", "mtj", "{empty}", "--out", "{tmp}/o"],
    "fit binary data": ["fit", "mtj", "{binary}", "--out", "{tmp}/o"],
    "fit latin-1 data": ["fit", "mtj", "{latin1}", "--out", "{tmp}/o"],
    "fit garbage csv": ["fit", "mtj", "{garbage}", "--out", "{tmp}/o"],
    "fit short row": ["fit", "mtj", "{short_row}", "--out", "{tmp}/o"],
    "fit data is /dev/zero": ["fit", "mtj", "/dev/zero", "--out", "{tmp}/o"],
    "fit seed -1": ["fit", "mtj", "{good}", "--seed", "-1", "--out", "{tmp}/o"],
    "fit seed huge": ["fit", "mtj", "{good}", "--seed", str(2 ** 80), "--out", "{tmp}/o"],
    "fit seed text": ["fit", "mtj", "{short_row}", "--seed", "x"],
    "fit out is a file": ["fit", "mtj", "{short_row}", "--out", "{a_file}"],
    "fit out not empty": ["fit", "mtj", "{short_row}", "--out", "{full}"],
    "fit out in /proc": ["fit", "mtj", "{good}", "--out", "/proc/self/fit"],
    "fit data inside out": ["fit", "mtj", "{good}", "--out", "{tmp}", "--force"],
    "fit unknown free": ["fit", "mtj", "{good}", "--free", "nosuch", "--out", "{tmp}/o"],
    # rfnet
    "rfnet no sub-command": ["rfnet"],
    "rfnet train missing data": ["rfnet", "train", "{missing}", "--layers", "2,1",
                                 "--out", "{tmp}/n"],
    "rfnet train binary data": ["rfnet", "train", "{binary}", "--layers", "2,1",
                                "--out", "{tmp}/n"],
    "rfnet train empty data": ["rfnet", "train", "{empty}", "--layers", "2,1",
                               "--out", "{tmp}/n"],
    "rfnet train data is /dev/zero": ["rfnet", "train", "/dev/zero", "--layers", "2,1",
                                      "--out", "{tmp}/n"],
    "rfnet train unknown task": ["rfnet", "train", "synthetic:nosuch", "--layers", "2,1",
                                 "--out", "{tmp}/n"],
    "rfnet train layers text": ["rfnet", "train", "synthetic:xor", "--layers", "a,b",
                                "--out", "{tmp}/n"],
    "rfnet train layers zero": ["rfnet", "train", "synthetic:xor", "--layers", "2,0",
                                "--out", "{tmp}/n"],
    "rfnet train layers one": ["rfnet", "train", "synthetic:xor", "--layers", "2",
                               "--out", "{tmp}/n"],
    "rfnet train layers huge": ["rfnet", "train", "synthetic:xor", "--layers",
                                "2,1000000000000", "--out", "{tmp}/n"],
    "rfnet train layers mismatch": ["rfnet", "train", "synthetic:xor", "--layers", "3,2",
                                    "--out", "{tmp}/n"],
    "rfnet train epochs 0": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                             "--epochs", "0", "--out", "{tmp}/n"],
    "rfnet train batch -1": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                             "--batch", "-1", "--out", "{tmp}/n"],
    "rfnet train lr nan": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                           "--lr-shift", "nan", "--out", "{tmp}/n"],
    "rfnet train lr inf": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                           "--lr-bias", "inf", "--out", "{tmp}/n"],
    "rfnet train spread -1": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                              "--spread", "-1", "--out", "{tmp}/n"],
    "rfnet train input noise -1": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                   "--input-noise", "-1", "--out", "{tmp}/n"],
    "rfnet train logit scale 0": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                  "--logit-scale", "0", "--out", "{tmp}/n"],
    "rfnet train logit scale nan": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                    "--logit-scale", "nan", "--out", "{tmp}/n"],
    "rfnet train spread huge": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                "--spread", "1e300", "--out", "{tmp}/n", "--epochs", "1"],
    "rfnet train f-min above f-max": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                      "--f-min", "2e10", "--out", "{tmp}/n"],
    "rfnet train band -1": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                            "--band", "-1", "--out", "{tmp}/n"],
    "rfnet train seed -1": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                            "--seed", "-1", "--out", "{tmp}/n"],
    "rfnet train out is a file": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                  "--out", "{a_file}"],
    "rfnet train out not empty": ["rfnet", "train", "synthetic:xor", "--layers", "2,2",
                                  "--out", "{full}"],
    "rfnet eval missing dir": ["rfnet", "eval", "{missing}", "synthetic:xor"],
    "rfnet eval no network": ["rfnet", "eval", "{no_net}", "synthetic:xor"],
    "rfnet eval binary network": ["rfnet", "eval", "{net_binary}", "synthetic:xor"],
    "rfnet eval empty network": ["rfnet", "eval", "{net_empty}", "synthetic:xor"],
    "rfnet eval deep network": ["rfnet", "eval", "{net_deep}", "synthetic:xor"],
    "rfnet eval list network": ["rfnet", "eval", "{net_list}", "synthetic:xor"],
    "rfnet eval malformed network": ["rfnet", "eval", "{net_keys}", "synthetic:xor"],
    "rfnet eval network is a folder": ["rfnet", "eval", "{tmp}", "synthetic:xor"],
    "rfnet export binary network": ["rfnet", "export", "{net_binary}", "--level", "rf"],
    "rfnet export bad level": ["rfnet", "export", "{net_empty}", "--level", "nosuch"],
    # demo
    "demo out is a file": ["demo", "--out", "{a_file}"],
    "demo out not empty": ["demo", "--out", "{full}"],
    "demo out under a file": ["demo", "--out", "{under_file}"],
    "demo out in /proc": ["demo", "--out", "/proc/self/demo"],
}
SIM_RUNS = {"sim out is the deck", "sim out is a folder", "sim out under a file",
            "sim out in /proc", "sim out is a device"}


def _attack(argv, files, capsys):
    argv = [a.format(**files) for a in argv]
    rc = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    return rc, err, argv


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_arguments_end_in_one_typed_line(name, files, capsys):
    if name in SIM_RUNS and shutil.which("ngspice") is None:
        pytest.skip("ngspice missing")
    rc, err, argv = _attack(CASES[name], files, capsys)
    assert rc not in (0, None), (argv, err)
    assert err.startswith("neurospice") and ": error: " in err, (argv, err)
    assert "\n" not in err and "Traceback" not in err, (argv, err)
    # nothing someone else put there was touched
    assert (files["full"] / "someone_elses.txt").read_text() == "keep me"
    assert files["deck"].read_text() == DECK
    assert files["a_file"].read_text() == "not a folder"
    assert files["card"].read_text() == json.dumps({"params": {"rp": 2000.0}})
    assert not (files["tmp"] / "o").exists() and not (files["tmp"] / "n").exists()


@NEEDS_NGSPICE
def test_sim_leaves_no_output_when_refused(files, capsys):
    out = files["tmp"] / "rc.csv"
    out.write_text("mine\n")
    rc, err, _ = _attack(["sim", "{deck}"], files, capsys)
    assert rc == 2 and "--force" in err and str(out) in err
    assert out.read_text() == "mine\n"


@pytest.mark.skipif(ROOT, reason="root writes into read-only folders")
def test_read_only_output_folder(files, capsys):
    ro = files["tmp"] / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, err, _ = _attack(["models", "export", "mtj", "--out", str(ro / "mtj.lib")], files,
                             capsys)
        assert rc == 2 and "mtj.lib" in err and "\n" not in err
    finally:
        ro.chmod(0o755)


def test_message_with_control_characters_stays_one_line(files, capsys):
    """A hostile name in an error message cannot add lines or terminal escapes."""
    bad = files["tmp"] / "x\x1b[2J\nfake.cir"
    rc, err, _ = _attack(["sim", str(bad)], files, capsys)
    assert rc == 2 and "\x1b" not in err and "\n" not in err and "\\x1b" in err


def test_fit_seed_checked_on_good_data(files, capsys):
    """The seed is refused before a fit runs on data that loads (not only after bad data)."""
    good = files["good"]
    for seed in ("-1", str(2 ** 80)):
        rc, err, _ = _attack(["fit", "mtj", str(good), "--seed", seed, "--out",
                              str(files["tmp"] / "o")], files, capsys)
        assert rc == 2 and "--seed" in err and "\n" not in err
        assert not (files["tmp"] / "o").exists()
