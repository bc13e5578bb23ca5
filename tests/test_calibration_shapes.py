"""Data as it comes: spreadsheets, grouping columns, stacked spectra, column names with
units, derived inputs, compliance marks, and error messages in the caller's spelling."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from neurospice.calibration import load_iv, load_oscillator, load_spectrum
from neurospice.calibration.cli import add_parser, load_options
from neurospice.calibration.table import command_line_spelling, load_table
from neurospice.errors import ArgumentError, DataError

openpyxl = pytest.importorskip("openpyxl")


def lorentz(f, f0, w, a):
    return a * w * w / ((f - f0) ** 2 + w * w)


def stacked_spectra(path: Path, fields=(0.1, 0.2, 0.3), amps=(1.0, 2.0)) -> list:
    """Spectra stacked with repeated frequency axes and two grouping columns."""
    f = np.linspace(1e9, 10e9, 31)
    rows, truth = ["Freq [GHz],H (Oe),I_rf_amp (mA),Vdc (uV)"], []
    for h in fields:
        for a in amps:
            f0 = 2e9 + 2e10 * h
            v = lorentz(f, f0, 0.3e9, a)
            truth.append((h, a, f0))
            rows += [f"{float(x) / 1e9!r},{h * 1e4!r},{a!r},{float(y)!r}" for x, y in zip(f, v)]
    path.write_text("\n".join(rows) + "\n")
    return truth


def test_stacked_spectra_split_automatically_with_labels(tmp_path):
    path = tmp_path / "stacked.csv"
    truth = stacked_spectra(path)
    curves = load_spectrum(path, split="auto", impedance=50.0)
    assert len(curves) == len(truth)
    for c, (h, a, f0) in zip(curves, truth):
        assert len(c) == 31
        assert c.group == {"H (Oe)": pytest.approx(h), "I_rf_amp (mA)": a * 1e-3}
        assert c.field_t[0] == pytest.approx(h)                  # Oe -> T
        assert c.freq_hz[np.argmax(c.vdc_v)] == pytest.approx(f0, rel=0.05)
        # derived RF power: amplitude (mA) -> P = I^2 Z / 2
        assert np.allclose(c.power_w, (a * 1e-3) ** 2 * 50 / 2)
    notes = " ".join(curves[0].report.notes)
    assert "starts again" in notes and "split into 6 curves" in notes
    assert "RF power from column 'I_rf_amp (mA)'" in notes


def test_stacked_spectra_without_split_is_an_error_in_each_spelling(tmp_path):
    path = tmp_path / "stacked.csv"
    stacked_spectra(path)
    with pytest.raises(DataError, match=r"6 stacked curves, not one; pass split='auto'") as e:
        load_spectrum(path, impedance=50.0)
    assert e.value.row == 33 and e.value.column == "Freq [GHz]"
    with command_line_spelling(), pytest.raises(DataError, match="pass --split auto"):
        load_spectrum(path, impedance=50.0)


def test_group_by_columns_rows_need_not_be_adjacent(tmp_path):
    path = tmp_path / "grouped.csv"
    lines = ["device,T (K),V (mV),I (uA)"]
    for k in range(4):
        for dev in ("A", "B"):
            for t in (300, 350):
                lines.append(f"{dev},{t},{100 * k},{k * (2 if dev == 'B' else 1) * t / 300}")
    path.write_text("\n".join(lines) + "\n")
    curves = load_iv(path, group_by=["device", "T (K)"])
    assert [c.group for c in curves] == [{"device": "A", "T (K)": 300.0},
                                         {"device": "A", "T (K)": 350.0},
                                         {"device": "B", "T (K)": 300.0},
                                         {"device": "B", "T (K)": 350.0}]
    b350 = curves[3]
    assert np.allclose(b350.voltage_v, [0, 0.1, 0.2, 0.3])
    assert np.allclose(b350.current_a, np.arange(4) * 2 * 350 / 300 * 1e-6)
    # a grouping column is one value per curve, and still its quantity (not its swept axis)
    np.testing.assert_array_equal(b350.temperature_k, [350.0] * 4)
    assert "grouped by device, T (K): 4 curve(s)" in curves[0].report.notes


@pytest.mark.parametrize("header, field, scale", [
    ("I_dc_A", "current_a", 1.0), ("I_A", "current_a", 1.0), ("Idc (mA)", "current_a", 1e-3),
    ("I_bias (uA)", "current_a", 1e-6), ("Freq [GHz]", "freq_hz", 1e9),
    ("f_osc (MHz)", "freq_hz", 1e6), ("P_rf (dBm)", "power_w", None),
    ("Linewidth (MHz)", "linewidth_hz", 1e6), ("Delta f (MHz)", "linewidth_hz", 1e6),
])
def test_column_names_with_units(tmp_path, header, field, scale):
    others = {"current_a": "I (mA)", "freq_hz": "f (GHz)", "power_w": "P (W)",
              "linewidth_hz": "FWHM (Hz)"}
    cols = [header] + [h for k, h in others.items() if k != field and k in
                       ("current_a", "freq_hz")]
    path = tmp_path / "osc.csv"
    path.write_text(",".join(cols) + "\n" + "\n".join(
        ",".join(str(v) for v in [float(k + 1)] * len(cols)) for k in range(5)) + "\n")
    c = load_oscillator(path)
    got = getattr(c, field)
    assert c.columns[field] == header
    if scale is None:                       # dBm: 1 dBm = 1.2589 mW
        assert got[0] == pytest.approx(1e-3 * 10 ** 0.1)
    else:
        assert got == pytest.approx(np.arange(1, 6) * scale)


def test_v_bias_and_i_c(tmp_path):
    path = tmp_path / "iv.csv"
    path.write_text("V_bias,I_C (mA)\n0,0\n1,1\n2,2\n")
    c = load_iv(path)                        # I_C is a current with its unit in brackets
    assert c.columns == {"voltage_v": "V_bias", "current_a": "I_C (mA)"}
    assert c.current_a[-1] == pytest.approx(2e-3)


def test_compliance_from_option_and_column(tmp_path):
    v = np.r_[np.linspace(0, 1.0, 11), np.linspace(0.9, 0, 10)]
    i = np.minimum(v * 1e-3, 0.5e-3)
    path = tmp_path / "loop.csv"
    path.write_text("V (V),I (A)\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(v, i)) + "\n")
    up, down = load_iv(path, split="reversal", compliance=0.5e-3)
    assert up.compliance_a == 0.5e-3
    assert np.array_equal(up.compliance, up.voltage_v >= 0.5 - 1e-9)
    assert "marked as at compliance" in " ".join(up.report.notes)
    flag = (i >= 0.5e-3).astype(int)
    path.write_text("V (V),I (A),in compliance\n" + "\n".join(
        f"{float(a)!r},{float(b)!r},{c}" for a, b, c in zip(v, i, flag)) + "\n")
    c = load_iv(path)
    assert np.array_equal(c.compliance, flag == 1) and c.compliance_a == 0.5e-3
    path.write_text("V (V),I (A),Icc (A)\n" + "\n".join(
        f"{float(a)!r},{float(b)!r},5e-4" for a, b in zip(v, i)) + "\n")
    assert np.array_equal(load_iv(path).compliance, flag == 1)


def test_xlsx_sheets(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "notes"
    ws.append(["operator", "me"])
    ws2 = wb.create_sheet("sweep")
    ws2.append(["instrument", "B2902"])
    ws2.append([])
    ws2.append(["V (mV)", "I (uA)"])
    for k in range(6):
        ws2.append([100 * k, 0.5 * k])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    c = load_iv(path, sheet="sweep")
    assert np.allclose(c.voltage_v, np.arange(6) * 0.1)
    assert np.allclose(c.current_a, np.arange(6) * 0.5e-6)
    assert c.preamble[0].startswith("instrument")
    assert np.allclose(load_table(path, sheet=2)["V"], c.voltage_v)
    with pytest.raises(DataError, match=r"no sheet 'nope'; sheets: 'notes', 'sweep'"):
        load_iv(path, sheet="nope")
    found = load_iv(path)                    # the first sheet holds no table: the next does
    np.testing.assert_array_equal(found.voltage_v, c.voltage_v)
    assert any("sheet 2 read" in n for n in found.report.notes)
    wb = openpyxl.Workbook()
    wb.active.append(["operator", "me"])
    wb.create_sheet("more").append(["date", "today"])
    wb.save(tmp_path / "none.xlsx")
    with pytest.raises(DataError, match="no sheet holds a table.*sheet=, header_row="):
        load_iv(tmp_path / "none.xlsx")
    with command_line_spelling(), pytest.raises(DataError, match="--sheet, --header-row or "
                                                                 "--skip-header"):
        load_iv(tmp_path / "none.xlsx")


def test_xls_needs_xlrd_or_reads(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    try:
        import xlrd  # noqa: F401
    except ImportError:
        with pytest.raises(DataError, match="needs the Python package xlrd"):
            load_iv(path)
    else:
        with pytest.raises(DataError, match="cannot read the workbook"):
            load_iv(path)


def test_sheet_on_a_text_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("V,I\n0,0\n1,1\n2,2\n")
    with pytest.raises(DataError, match="sheet= applies to spreadsheet"):
        load_iv(path, sheet="x")


def parse(argv):
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers())
    return p.parse_args(["fit", *argv])


def test_every_loader_option_has_a_cli_spelling():
    import inspect

    args = parse(["stno", "x.csv", "--column", "current=I bias (mA)", "--column", "freq=F",
                  "--group-by", "H", "--split", "auto", "--sheet", "2", "--header-row", "3",
                  "--delimiter", "tab", "--decimal", ",", "--on-nan", "drop",
                  "--min-points", "5", "--compliance", "1e-3", "--impedance", "50",
                  "--unit", "I bias=mA", "--unit", "F=GHz", "--names", "I bias,F,P"])
    opts = load_options(args)
    assert opts == {"columns": {"current": "I bias (mA)", "freq": "F"}, "group_by": "H",
                    "split": "auto", "sheet": "2", "header_row": 3, "delimiter": "\t",
                    "decimal": ",", "on_nan": "drop", "min_points": 5, "compliance": 1e-3,
                    "impedance": 50.0, "units": {"I bias": "mA", "F": "GHz"},
                    "names": "I bias,F,P"}
    given = set(opts) | {"skip_header"}
    for loader in (load_iv, load_spectrum, load_oscillator):
        assert set(inspect.signature(loader).parameters) - {"path"} <= given
    assert load_options(parse(["stno", "x.csv", "--skip-header", "2"])) == {"skip_header": 2}
    with pytest.raises(ArgumentError, match="ROLE=NAME"):
        load_options(parse(["stno", "x.csv", "--column", "current"]))
