"""``rram-pulse-updates`` takes the reading options its notes and errors name (``--decimal``,
``--delimiter``, ...; it had refused every one: "reads its own file layout"), and refuses
with the option's spelling those that do not apply to a ramp file."""

from __future__ import annotations

import json

import numpy as np


def _ramps(path, seed, falling, sep=";", comma=True):
    """Four read-current ramps (uA) side by side, 40 pulses, 0.5 % read noise."""
    gen = np.random.default_rng(seed)
    n = np.arange(40.0)
    cols = []
    for k in range(4):
        y = (1.0 + 1.5 * (1 - np.exp(-n / (8.0 + k)))) * (1 + 0.005 * gen.standard_normal(40))
        cols.append(y[::-1] if falling else y)
    rows = [sep.join(f"{c[i]:.6f}" for c in cols) for i in range(40)]
    if comma:
        rows = [r.replace(".", ",") for r in rows]
    path.write_text(sep.join(f"rmp{k + 1} (uA)" for k in range(4)) + "\n"
                    + "\n".join(rows) + "\n")
    return path


def _fit(tmp_path, name, files, *options):
    from neurospice.cli import main

    out = tmp_path / name
    rc = main(["fit", "rram", *map(str, files), "--recipe", "rram-pulse-updates", *options,
               "--out", str(out), "--quiet"])
    return rc, out


def test_pulse_updates_read_with_the_options_their_notes_name(tmp_path, capsys):
    comma = [_ramps(tmp_path / "set.csv", 1, False), _ramps(tmp_path / "reset.csv", 2, True)]
    point = [_ramps(tmp_path / "set_p.csv", 1, False, ",", False),
             _ramps(tmp_path / "reset_p.csv", 2, True, ",", False)]
    rc, guessed = _fit(tmp_path, "guessed", comma)
    assert rc == 0, capsys.readouterr().err
    rc, told = _fit(tmp_path, "told", comma, "--decimal", ",", "--delimiter", ";")
    assert rc == 0, capsys.readouterr().err
    rc, plain = _fit(tmp_path, "plain", point)
    assert rc == 0, capsys.readouterr().err
    params = [json.loads(next(d.glob("*.json")).read_text())
              for d in (guessed, told, plain)]
    derived = [p["derived"] for p in params]
    assert derived[0] == derived[1] == derived[2] and derived[0]
    assert any("decimal comma" in n and "--decimal ." in n for n in params[0]["notes"])
    assert not any("decimal comma" in n for n in params[1]["notes"])
    # the guess's note names --decimal .; told so, the cells are no numbers: an error that
    # names the line and the option that reads them
    rc, _ = _fit(tmp_path, "refused", comma, "--decimal", ".")
    err = capsys.readouterr().err
    assert rc == 2 and "--decimal ," in err and "set.csv" in err and "row 2" in err
    # an option that has no meaning for a ramp file is refused by its command-line name
    rc, _ = _fit(tmp_path, "nan", comma, "--on-nan", "drop")
    err = capsys.readouterr().err
    assert rc == 2 and "--on-nan" in err and "pulse-update ramp file" in err
