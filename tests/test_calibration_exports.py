"""Instrument exports nobody reshaped, through ``neurospice fit`` as a user runs it.

Each file is written the way an instrument or a lab script writes it (delimiters, decimal
comma, preambles, units in brackets, on a row of their own or after an underscore, extra
text columns, BOM, CRLF, Latin-1, descending order, reverse polarity, stacked curves,
spreadsheets, several files or a pattern), from the project's own physics with noise, so the
truth is known. Either the fit comes out right, or a typed error names the file, the line or
column and the command-line spelling of the option that fixes it.

The spin-diode spectrum (81 points, 2 % noise, ``f_res`` 6 GHz, ``alpha`` 0.015) read from
every shape gives the same parameters as the plain CSV, within 1 % of their standard errors
(rows in another order move the optimiser's end point by ~4e-4 standard errors); the plain
CSV's fit is within 2.5 standard errors of the truth (measured: f_res +0.93, alpha +0.23,
k_sd -0.64, k_sym -0.02, v_offset -0.47 standard errors).
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurospice.cli import main

TRUTH = {"f_res": 6e9, "alpha": 0.015, "k_sd": 5000.0, "k_sym": 2000.0, "v_offset": 1e-6}
P_W = 1e-5                                  # -20 dBm
_CACHE: dict = {}


def spectrum(p_w=P_W, seed=1, n=81):
    """(f in Hz, V_dc in V) of the spin-diode envelope at the truth, 2 % noise of its span."""
    key = (p_w, seed, n)
    if key not in _CACHE:
        from neurospice.calibration.recipes import spin_diode_spectrum_model

        m = spin_diode_spectrum_model()
        f = np.linspace(5e9, 7e9, n)
        v = m.eval(f, {**m.defaults(), **TRUTH}, power_w=p_w)
        v = v + 0.02 * np.ptp(v) * np.random.default_rng(seed).standard_normal(n)
        _CACHE[key] = (f, v)
    return _CACHE[key]


def cells(f_scale=1e-9, v_scale=1e3, p="-20", dec=".", order=(0, 1, 2), p_w=P_W, seed=1):
    f, v = spectrum(p_w, seed)
    out = []
    for a, b in zip(f, v):
        row = [f"{a * f_scale:.10g}", f"{b * v_scale:.10g}", p]
        out.append([row[k].replace(".", dec) for k in order])
    return out


def write(path, header, rows, sep=",", pre="", end="\n", encoding="utf-8", newline="\n"):
    text = pre + sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows) + end
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def fit(tmp_path, files, *opts, device="spin_diode", recipe=("--recipe", "spin-diode-spectrum"),
        name="out"):
    """(exit code, stderr, the card's JSON or None) of ``neurospice fit``."""
    out = tmp_path / name
    err, so = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(so):
        rc = main(["fit", device, *map(str, files), *recipe, "--no-verify", "--quiet",
                   "--out", str(out), *opts])
    card = json.loads((out / f"{device}.json").read_text()) if rc == 0 else None
    return rc, err.getvalue(), card


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The fit of the plain CSV (GHz, mV, dBm), checked against the truth."""
    d = tmp_path_factory.mktemp("ref")
    rc, err, card = fit(d, [write(d / "s.csv", ["Freq[GHz]", "V_dc (mV)", "P (dBm)"],
                                  cells())])
    assert rc == 0, err
    values, se = card["fits"]["V(f)"]["params"], card["stderr"]
    for k, truth in TRUTH.items():
        assert abs(values[k] - truth) < 2.5 * se[k], (k, values[k], se[k])
    return values, se


def same(got, ref, se, names=tuple(TRUTH)):
    """The same fit: every parameter within 1 % of its standard error of the reference
    (the optimiser's own tolerance moves it by ~1e-4 standard errors when the rows come in
    another order)."""
    for k in names:
        assert abs(got[k] - ref[k]) < 0.01 * se[k], (k, got[k], ref[k], se[k])


H = ["Freq[GHz]", "V_dc (mV)", "P (dBm)"]
KEITHLEY = ("Keithley Instruments Inc.\nModel 2450\nTest Name:,RF sweep\n"
            "Date:,2024-05-06 10:00:00\n\n")
LABVIEW = ("LabVIEW Measurement\t\nWriter_Version\t2\nSeparator\tTab\nDecimal_Separator\t,\n"
           "***End_of_Header***\t\n\n")

SHAPES = {   # name: (header, rows, write keywords, CLI options)
    "tab": (H, cells(), {"sep": "\t"}, ()),
    "semicolon": (H, cells(), {"sep": ";"}, ()),
    "two blanks": (["Freq[GHz]", "V_dc(mV)", "P(dBm)"], cells(), {"sep": "  "}, ()),
    "underscore units, one blank": (["f_GHz", "Vdc_mV", "P_dBm"], cells(), {"sep": " "}, ()),
    "decimal comma, semicolons (found)": (H, cells(dec=","), {"sep": ";"}, ()),
    "decimal comma, tabs, LabVIEW header": (H, cells(dec=","), {"sep": "\t", "pre": LABVIEW},
                                            ()),
    "decimal comma, blanks (found)": (["f_GHz", "Vdc_mV", "P_dBm"], cells(dec=","),
                                      {"sep": "  "}, ()),
    "Keithley preamble": (H, cells(), {"pre": KEITHLEY}, ()),
    "# key: value lines": (H, cells(), {"pre": "# instrument: VNA\n# power: -20 dBm\n"}, ()),
    "units on a second row": (["Frequency", "Vdc", "Power"], [["GHz", "mV", "dBm"]] + cells(),
                              {}, ()),
    "units row in brackets": (["Frequency", "Vdc", "Power"],
                              [["[GHz]", "[mV]", "[dBm]"]] + cells(), {"sep": "\t"}, ()),
    "uV, UTF-8 micro sign": (["Frequency (GHz)", "V_dc (µV)", "P (dBm)"], cells(v_scale=1e6),
                             {}, ()),
    "uV, Latin-1 micro sign": (["Frequency (GHz)", "V_dc (µV)", "P (dBm)"],
                               cells(v_scale=1e6), {"encoding": "latin-1"}, ()),
    "Hz, V, W": (["f (Hz)", "Vdc (V)", "Prf (W)"], cells(1.0, 1.0, "1e-05"), {}, ()),
    "power in uW": (["Freq[GHz]", "V_dc (mV)", "P (uW)"], cells(p="10"), {}, ()),
    "CRLF and BOM": (["\ufeffFreq[GHz]", "V_dc (mV)", "P (dBm)"], cells(), {"newline": "\r\n"},
                     ()),
    "trailing blank lines": (H, cells(), {"end": "\n\n\n\n"}, ()),
    "columns reordered": (["P (dBm)", "V_dc (mV)", "Freq[GHz]"], cells(order=(2, 1, 0)), {},
                          ()),
    "timestamp and status text": (["Time", *H, "Status"],
                                  [[f"2024-05-06 10:00:{k % 60:02d}", *r, "OK"]
                                   for k, r in enumerate(cells())], {}, ()),
    "descending frequency": (H, cells()[::-1], {}, ()),
    "lock-in column": (["Frequency (Hz)", "Lock-in X (V)", "P (dBm)"], cells(1.0, 1.0), {}, ()),
    "constant field and temperature": ([*H, "Field (Oe)", "T (°C)"],
                                       [[*r, "300", "25.0"] for r in cells()], {}, ()),
    "quoted cells": ([f'"{h}"' for h in H], [[f'"{c}"' for c in r] for r in cells()], {}, ()),
    "no power column, --power": (H[:2], [r[:2] for r in cells()], {}, ("--power", "1e-5")),
    "power in the preamble": (H[:2], [r[:2] for r in cells()],
                              {"pre": "# VNA export\n# RF power: -20 dBm\n"}, ()),
    "power in a Keithley-style setting": (H[:2], [r[:2] for r in cells()],
                                          {"pre": "Instrument,ZNB20\nRF Power (uW),10\n\n"},
                                          ()),
    "unknown unit, --unit": (["Freq[GHz]", "V_dc (mVolt)", "P (dBm)"], cells(), {},
                             ("--unit", "V_dc (mVolt)=mV")),
    "no unit, --unit": (["Freq", "Vdc", "P (dBm)"], cells(), {},
                        ("--unit", "Freq=GHz", "--unit", "Vdc=mV")),
}


@pytest.mark.parametrize("name", SHAPES)
def test_every_export_shape_fits_like_the_plain_csv(tmp_path, reference, name):
    header, rows, kw, opts = SHAPES[name]
    rc, err, card = fit(tmp_path, [write(tmp_path / "s.csv", header, rows, **kw)], *opts)
    assert rc == 0, err
    same(card["fits"]["V(f)"]["params"], *reference)


NO_VALUE = ["NaN", "--", "overflow", "OVERFLOW", "9.9E37", "9.91e+37", "#N/A", "", "-OL"]


@pytest.mark.parametrize("cell", NO_VALUE)
def test_a_cell_without_a_value_names_its_line_and_on_nan_drop(tmp_path, reference, cell):
    """An instrument's no-value markers (dashes, overflow words, SCPI's 9.9E37) are never
    read as numbers: an error naming file, column and line and ``--on-nan drop``; with it,
    the row is left out and the report lists its line."""
    rows = cells()
    rows[10][1] = cell
    path = write(tmp_path / "s.csv", H, rows)
    rc, err, _ = fit(tmp_path, [path])
    assert rc == 2 and "s.csv" in err and "'V_dc (mV)'" in err and "row 12" in err, err
    assert "--on-nan drop" in err
    rc, err, card = fit(tmp_path, [path], "--on-nan", "drop", name="dropped")
    assert rc == 0, err
    assert any("line 12 left out" in n for n in card["notes"]), card["notes"]
    got, (ref, se) = card["fits"]["V(f)"]["params"], reference
    assert abs(got["f_res"] - ref["f_res"]) < 0.5 * se["f_res"]     # one point of 81 less


@pytest.mark.parametrize("cut", ["middle", "last"])
def test_a_short_row_is_refused_or_dropped_whole(tmp_path, cut):
    """A row with a missing cell (an interrupted write) is never padded or shifted: an
    error naming the line and ``--on-nan drop``; with it, the whole row is left out."""
    rows = cells()
    k = 10 if cut == "middle" else len(rows) - 1
    rows[k] = rows[k][:2]
    path = write(tmp_path / "s.csv", H, rows)
    rc, err, _ = fit(tmp_path, [path])
    assert rc == 2 and f"row {k + 2}" in err and "--on-nan drop" in err, err
    rc, err, card = fit(tmp_path, [path], "--on-nan", "drop", name="dropped")
    assert rc == 0, err
    assert any(f"line {k + 2} left out ((whole row): 2 cells" in n for n in card["notes"])


@pytest.mark.parametrize("header, match", [
    (["Freq[GHz]", "V_dc (mVolt)", "P (dBm)"], r"unknown unit 'mVolt'.*--unit 'V_dc \(mVolt\)"),
    (["FREQ (GHZ)", "VDC (MV)", "P (DBM)"], r"unknown unit 'MV'.*--unit 'VDC \(MV\)=UNIT'"),
    (["Freq[GHz]", "Signal (mV)", "P (dBm)"], r"no rectified voltage.*--column vdc=NAME"),
])
def test_a_header_the_reader_cannot_place_names_the_option(tmp_path, header, match):
    rc, err, _ = fit(tmp_path, [write(tmp_path / "s.csv", header, cells())])
    assert rc == 2 and "s.csv" in err, err
    assert __import__("re").search(match, err), err


def test_errors_that_name_the_recipe_or_the_power_option(tmp_path):
    two = write(tmp_path / "s.csv", H[:2], [r[:2] for r in cells()])
    rc, err, _ = fit(tmp_path, [two])
    assert rc == 2 and "--power" in err and "s.csv" in err, err
    rc, err, _ = fit(tmp_path, [two], recipe=())      # the default: spin-diode-field
    assert rc == 2 and "--recipe spin-diode-spectrum" in err, err


def test_stacked_spectra_several_files_a_pattern_and_a_workbook(tmp_path):
    """Spectra at two powers: stacked in one file (split where the axis starts again, or
    ``--group-by`` on the power column, which stays the curves' power), a file each, a
    pattern the shell did not expand, and an .xlsx whose first sheet holds no table: one
    and the same fit."""
    p2 = 2e-5
    dbm2 = f"{10 * math.log10(p2 / 1e-3):.10g}"
    one, two = cells(), cells(p=dbm2, p_w=p2, seed=2)
    write(tmp_path / "stack.csv", H, one + two)
    write(tmp_path / "curve_1.csv", H, one)
    write(tmp_path / "curve_2.csv", H, two)
    results = []
    for name, files, opts in [("stack", ["stack.csv"], ()),
                              ("group", ["stack.csv"], ("--group-by", "P (dBm)")),
                              ("files", ["curve_1.csv", "curve_2.csv"], ()),
                              ("pattern", ["curve_*.csv"], ())]:
        rc, err, card = fit(tmp_path, [tmp_path / f for f in files], *opts, name=name)
        assert rc == 0, (name, err)
        results.append(card["fits"]["V(f)"]["params"])
        se = card["stderr"]
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "Info"
    wb.active.append(["Operator", "someone"])
    for title, rows in (("P1", one), ("P2", two)):
        ws = wb.create_sheet(title)
        ws.append(H)
        for r in rows:
            ws.append([float(c) for c in r])
    wb.save(tmp_path / "book.xlsx")
    rc, err, card = fit(tmp_path, [tmp_path / "book.xlsx"], name="book")
    assert rc == 0, err
    assert any("sheet 2 read" in n for n in card["notes"])
    # the first table sheet alone: the fit of curve_1.csv
    rc, err, alone = fit(tmp_path, [tmp_path / "curve_1.csv"], name="alone")
    for got in results[1:]:
        same(got, results[0], se)
    same(card["fits"]["V(f)"]["params"], alone["fits"]["V(f)"]["params"], alone["stderr"])
    rc, err, _ = fit(tmp_path, [tmp_path / "none_*.csv"], name="nomatch")
    assert rc == 2 and "no file matches the pattern" in err


def mtj_sweeps():
    from neurospice.calibration.recipes import mtj_model

    m = mtj_model()
    truth = {**m.defaults(), "rp": 2500.0, "tmr0": 1.2, "vh": 0.35}
    v = np.linspace(-0.5, 0.5, 41)
    gen = np.random.default_rng(3)
    return truth, v, {s: m.eval(v, {**truth, "m0": s}) + 2e-7 * gen.standard_normal(v.size)
                      for s in (1.0, -1.0)}


def test_iv_exports_reverse_polarity_descending_and_a_state_column(tmp_path):
    """MTJ P and AP sweeps as a file each (mA), as Keithley columns with time and status,
    as a logger's tab-separated Latin-1 file with a clock-time ``Time`` column (left out
    with a note: no number), as a Keysight B1500 ``DataName``/``DataValue`` export, as R(V)
    (the resistance NaN at 0 V, that row dropped), written reversed and negated (``I_dc_A``, ``V_V``,
    descending), and stacked with a text state column: all fit alike, rp, tmr0, vh within
    2 standard errors (measured: -0.88, +0.13, +0.10); the stacked file without
    ``--group-by`` is an error naming it."""
    truth, v, i = mtj_sweeps()
    shapes = {}
    for s, tag in ((1.0, "p"), (-1.0, "ap")):
        write(tmp_path / f"{tag}.csv", ["V (V)", "I (mA)"],
              [[f"{a:.8g}", f"{b * 1e3:.10g}"] for a, b in zip(v, i[s])])
        write(tmp_path / f"k_{tag}.csv", ["SMU-1 Voltage (V)", "SMU-1 Current (A)",
                                          "SMU-1 Time (s)", "Status"],
              [[f"{a:.8g}", f"{b:.10e}", f"{k * 0.1:.2f}", "0x0000"]
               for k, (a, b) in enumerate(zip(v, i[s]))])
        write(tmp_path / f"log_{tag}.txt", ["Time", "Temp (°C)", "Bias (V)", "I (µA)"],
              [[f"2024-05-06 10:{k // 60:02d}:{k % 60:02d}", "25.0", f"{a:.8g}",
                f"{b * 1e6:.10g}"] for k, (a, b) in enumerate(zip(v, i[s]))], sep="\t",
              encoding="latin-1", newline="\r\n")
        write(tmp_path / f"r_{tag}.csv", ["I_dc_A", "V_V"],
              [[f"{-b:.10e}", f"{-a:.8g}"] for a, b in zip(v[::-1], i[s][::-1])])
        write(tmp_path / f"b1500_{tag}.csv", ["DataName", "V1", "I1"],
              [["DataValue", f"{a:.8g}", f"{b:.10e}"] for a, b in zip(v, i[s])], sep=", ",
              pre="SetupTitle, I/V Sweep\nTestParameter, Channel.Unit, SMU1:HR, SMU2:HR\n")
        write(tmp_path / f"rv_{tag}.csv", ["Bias (V)", "R (Ohm)"],
              [[f"{a:.8g}", "NaN" if a == 0 else f"{a / b:.10g}"] for a, b in zip(v, i[s])])
    shapes["files"] = (["p.csv", "ap.csv"], ())
    shapes["R(V), NaN at 0 V"] = (["rv_p.csv", "rv_ap.csv"], ("--on-nan", "drop"))
    shapes["Keysight B1500 DataName/DataValue"] = (["b1500_p.csv", "b1500_ap.csv"], ())
    shapes["keithley"] = (["k_p.csv", "k_ap.csv"], ())
    shapes["reversed"] = (["r_p.csv", "r_ap.csv"], ())
    shapes["logger: clock-time column, Latin-1, CRLF"] = (["log_p.txt", "log_ap.txt"], ())
    rows = [[f"{a:.8g}", f"{b * 1e6:.10g}", st_] for st_, s in (("P", 1.0), ("AP", -1.0))
            for a, b in zip(v, i[s])]
    write(tmp_path / "state.csv", ["Bias (V)", "Current (µA)", "State"], rows)
    shapes["state"] = (["state.csv"], ("--group-by", "State"))
    first = None
    for name, (files, opts) in shapes.items():
        rc, err, card = fit(tmp_path, [tmp_path / f for f in files], *opts, device="mtj",
                            recipe=(), name=name)
        assert rc == 0, (name, err)
        got, se = card["params"], card["stderr"]
        for k in ("rp", "tmr0", "vh"):
            assert abs(got[k] - truth[k]) < 2 * se[k], (name, k, got[k], se[k])
        if first is not None:
            same(got, first, se, ("rp", "tmr0", "vh"))
        first = first or got
    rc, err, _ = fit(tmp_path, [tmp_path / "state.csv"], device="mtj", recipe=(), name="x")
    assert rc == 2 and "--group-by COLUMN" in err, err


def test_oscillator_of_the_other_polarity_is_fitted_against_abs_current(tmp_path):
    """STNO f(I), P(I) written with negative bias currents (the other polarity), in mA,
    GHz and dBm, descending: the same fit as the positive file, with a note."""
    from neurospice.calibration.recipes import stno_model

    m = stno_model()
    truth = {**m.defaults(), "f0": 4.5e9, "n_shift": -2e9, "i_th": 2e-3, "q": 1.5,
             "p_gain": 0.01}
    i = np.linspace(0.5e-3, 6e-3, 45)
    gen = np.random.default_rng(5)
    f = m.eval(i, truth, quantity="freq") + 2e6 * gen.standard_normal(i.size)
    p = m.eval(i, truth, quantity="power") * (1 + 0.02 * gen.standard_normal(i.size)) \
        + 1e-13 * gen.standard_normal(i.size)
    dbm = 10 * np.log10(np.clip(p, 1e-16, None) / 1e-3)
    write(tmp_path / "pos.csv", ["I (mA)", "Freq[GHz]", "P (dBm)"],
          [[f"{a * 1e3:.8g}", f"{b / 1e9:.10g}", f"{c:.8g}"] for a, b, c in zip(i, f, dbm)])
    write(tmp_path / "neg.csv", ["I_dc (mA)", "f (GHz)", "P (dBm)"],
          [[f"{-a * 1e3:.8g}", f"{b / 1e9:.10g}", f"{c:.8g}"]
           for a, b, c in list(zip(i, f, dbm))[::-1]])
    rc, err, pos = fit(tmp_path, [tmp_path / "pos.csv"], device="stno", recipe=(), name="p")
    assert rc == 0, err
    rc, err, neg = fit(tmp_path, [tmp_path / "neg.csv"], device="stno", recipe=(), name="n")
    assert rc == 0, err
    assert any("negative" in n and "|I|" in n for n in neg["notes"])
    same(neg["params"], pos["params"], pos["stderr"], ("f0", "n_shift", "i_th", "q"))
    for k in ("f0", "n_shift", "i_th", "q"):
        assert abs(pos["params"][k] - truth[k]) < 2.5 * pos["stderr"][k], k


def test_a_threshold_switch_loop_of_the_other_polarity_is_mirrored():
    """0 -> -v_max -> 0: cut into up and down branches as the mirrored loop, with a note."""
    from neurospice.calibration.data import IVSweep
    from neurospice.calibration.recipes.nbox import split_dual_sweep

    v = np.r_[np.linspace(0, 3, 31), np.linspace(3, 0, 31)[1:]]
    i = np.where(np.arange(v.size) < 31, v / 2e4 * np.exp(v), v / 300.0)
    i[25:36] = 1e-3
    at = i == 1e-3

    def sweep(sign):
        return IVSweep(source="x.csv", columns={}, units={}, lines=np.arange(v.size) + 2,
                       voltage_v=sign * v, current_a=sign * i, compliance=at)

    plus, minus = split_dual_sweep(sweep(1.0)), split_dual_sweep(sweep(-1.0))
    for a, b in zip(plus, minus):
        np.testing.assert_array_equal(a.voltage_v, b.voltage_v)
        np.testing.assert_array_equal(a.current_a, b.current_a)
    assert any("other polarity" in n for n in minus[0].report.notes)


DELIMS = {",": ",", "\t": "\t", ";": ";", " ": "  "}
PREAMBLES = ["", KEITHLEY, "# instrument: VNA\n# power: -20 dBm\n", LABVIEW]
SCALES = [("GHz", 1e-9), ("MHz", 1e-6), ("Hz", 1.0)], [("V", 1.0), ("mV", 1e3), ("uV", 1e6),
                                                         ("µV", 1e6)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delim=st.sampled_from(sorted(DELIMS)), comma=st.booleans(),
       pre=st.sampled_from(PREAMBLES), units_row=st.booleans(),
       bracket=st.sampled_from(["({})", "[{}]", "_{}"]),
       fu=st.sampled_from(SCALES[0]), vu=st.sampled_from(SCALES[1]),
       order=st.permutations([0, 1, 2]), reverse=st.booleans(), crlf=st.booleans(),
       bom=st.booleans())
def test_any_combination_of_shapes_reads_the_same_si_values(tmp_path_factory, delim, comma, pre,
                                                           units_row, bracket, fu, vu, order,
                                                           reverse, crlf, bom):
    """Hypothesis over combinations of the shapes: the spin-diode loader gives the same SI
    frequencies, voltages and powers (to 1e-9) as the values written."""
    from neurospice.calibration.recipes.spin_diode import load_spectra

    if comma and delim == ",":
        comma = False                       # a comma-delimited file has a decimal point
    if delim == " " and (units_row or bracket != "_{}"):
        bracket = "_{}"                     # blank-separated: one-word names
    f, v = spectrum()
    names = ["Freq", "Vdc", "P"]
    units = [fu[0], vu[0], "dBm"]
    header = list(names) if units_row else \
        [n + bracket.format(u) for n, u in zip(names, units)]
    rows = [[f"{a * fu[1]:.12g}", f"{b * vu[1]:.12g}", "-20"] for a, b in zip(f, v)]
    if reverse:
        rows = rows[::-1]
    if comma:
        rows = [[c.replace(".", ",") for c in r] for r in rows]
    if units_row:
        rows = [units] + rows
    header = [header[k] for k in order]
    rows = [[r[k] for k in order] for r in rows]
    path = tmp_path_factory.mktemp("h") / "s.csv"
    write(path, ["\ufeff" + header[0] if bom else header[0], *header[1:]], rows,
          sep=DELIMS[delim], pre=pre, newline="\r\n" if crlf else "\n")
    (s,) = load_spectra(path)
    sl = slice(None, None, -1) if reverse else slice(None)
    np.testing.assert_allclose(s.freq_hz, f[sl], rtol=1e-9)
    np.testing.assert_allclose(s.vdc_v, v[sl], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(s.power_w, P_W, rtol=1e-9)


def field_sweeps(freqs=(4e9, 6e9, 8e9, 10e9, 12e9), gamma=28e9, meff=1.2):
    """Field-swept lines V_dc(B) at each frequency, from the recipe's own line shape (a
    symmetric and an antisymmetric Lorentzian) at the Kittel field, 1 % noise."""
    from neurospice.calibration.recipes.spin_diode import field_lorentzian_model, kittel_field

    m = field_lorentzian_model(1)
    b = np.linspace(0.0, 0.4, 161)
    gen = np.random.default_rng(2)
    out = {}
    for f in freqs:
        p = {**m.defaults(), "b_res": float(kittel_field(f, gamma, meff)),
             "width": 0.0025 + 0.005 * f / 28e9, "v_sym": 5e-6, "v_asym": 2e-6,
             "v0": 0.0, "v1": 0.0, "v2": 0.0}
        out[f] = m.eval(b, p) + 5e-8 * gen.standard_normal(b.size)
    return b, out


def test_field_sweeps_stacked_by_frequency_or_a_file_each_named_by_it(tmp_path):
    """The default spin-diode recipe (field sweeps, then Kittel) on sweeps stacked in one
    file with a frequency column (no option: one curve per frequency; or ``--group-by``,
    the grouping column still the curves' frequency), on a file per frequency with the
    frequency only in its name or its preamble, and side by side with the frequency in the
    column names (``H_4GHz (Oe)``, ``V_4GHz (uV)``): one and the same Kittel fit, g and M_eff
    within 2.5 standard errors of the truth (measured on the stacked file: gamma/2pi -2.16,
    mu0 M_eff +2.10 standard errors, one event: the two are -1-correlated; with noise seeds
    3 and 4 instead of 2: +0.23/-0.25 and +2.0/-2.06, noise-free -0.35/+0.31)."""
    b, v = field_sweeps()
    rows = [[f"{f / 1e9:g}", f"{x * 1e4:.8g}", f"{y * 1e6:.10g}"] for f in v
            for x, y in zip(b, v[f])]
    write(tmp_path / "stack.csv", ["Freq (GHz)", "Field (Oe)", "Vdc (uV)"], rows)
    for f, y in v.items():
        write(tmp_path / f"sweep_{f / 1e9:g}GHz.csv", ["B (mT)", "Vdc (uV)"],
              [[f"{x * 1e3:.8g}", f"{z * 1e6:.10g}"] for x, z in zip(b, y)])
        write(tmp_path / f"run{int(f / 1e9)}.txt", ["B (mT)", "Vdc (uV)"],
              [[f"{x * 1e3:.8g}", f"{z * 1e6:.10g}"] for x, z in zip(b, y)], sep="\t",
              pre=f"# lock-in export\n# frequency: {f / 1e6:g} MHz\n")
    header = [f"{q}_{f / 1e9:g}GHz ({u})" for f in v for q, u in (("H", "Oe"), ("V", "uV"))]
    write(tmp_path / "side.csv", header,
          [[c for f in v for c in (f"{x * 1e4:.8g}", f"{v[f][k] * 1e6:.10g}")]
           for k, x in enumerate(b)])
    results = []
    for name, files, opts in [("stack", ["stack.csv"], ()),
                              ("group", ["stack.csv"], ("--group-by", "Freq (GHz)")),
                              ("named", ["sweep_*GHz.csv"], ()),
                              ("preamble", ["run*.txt"], ()),
                              ("side by side", ["side.csv"], ())]:
        rc, err, card = fit(tmp_path, [tmp_path / f for f in files], *opts, recipe=(),
                            name=name)
        assert rc == 0, (name, err)
        results.append(card["derived"])
    d = results[0]
    for k, truth in (("gamma_hz_per_t", 28e9), ("meff_t", 1.2)):
        assert abs(d[k]["value"] - truth) < 2.5 * d[k]["stderr"], (k, d[k])
        for other in results[1:]:
            assert abs(other[k]["value"] - d[k]["value"]) < 0.01 * d[k]["stderr"], (k, other)


@pytest.mark.parametrize("index", ["Pulse", "#", "Step", "Time (s)"])
def test_a_pulse_index_column_is_not_read_as_a_ramp(tmp_path, index):
    """RRAM read-current ramps with a pulse counter or time column in front (it had been
    read as a ramp of 1, 2, 3 A): left out with a note; decimal commas found."""
    from neurospice.calibration.recipes.rram import load_ramps

    rows = [[str(k), f"{0.5 * k + 1:.3f}".replace(".", ","), f"{0.4 * k + 1:.3f}"
             .replace(".", ",")] for k in range(1, 7)]
    ramps = load_ramps(write(tmp_path / "set.csv", [index, "rmp1 (uA)", "rmp2 (uA)"], rows,
                             sep=";"))
    assert [r.columns["current_a"] for r in ramps] == ["rmp1 (uA)", "rmp2 (uA)"]
    np.testing.assert_allclose(ramps[0].current_a, (0.5 * np.arange(1, 7) + 1) * 1e-6)
    assert any("not a ramp" in n for n in ramps[0].report.notes)


def test_threshold_switch_cycles_stacked_with_a_cycle_column(tmp_path):
    """Three compliance-limited loops stacked in one file with a ``Cycle`` column are read
    as the three loops' [up, down] branches, the same as a file each (they had been one
    sweep cut once: --ensemble saw 1 curve); without --ensemble the error names it."""
    import importlib.util
    from pathlib import Path

    # the loop generator of the compliance tests (tests are no package: loaded by path)
    spec = importlib.util.spec_from_file_location(
        "compliance_loops", Path(__file__).with_name("test_calibration_compliance.py"))
    loops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loops)
    compliance_loop = loops.compliance_loop

    from neurospice.calibration.recipes.nbox import VO2_FIXED, load_dual_sweep
    from neurospice.compact_models.devices import get_device

    p = get_device("nbox").params(VO2_FIXED)
    rows, single = [], []
    for c in range(3):
        compliance_loop(p, tmp_path / f"l{c}.csv", seed=7 + c, n=41)
        single += load_dual_sweep(tmp_path / f"l{c}.csv", compliance=1e-3)
        v, i = np.loadtxt(tmp_path / f"l{c}.csv", delimiter=",", skiprows=1).T
        rows += [[str(c + 1), f"{a:.8g}", f"{b:.8g}"] for a, b in zip(v, i)]
    write(tmp_path / "cycles.csv", ["Cycle", "V (V)", "I (A)"], rows)
    stacked = load_dual_sweep(tmp_path / "cycles.csv", compliance=1e-3)
    assert len(stacked) == len(single) == 6
    for a, b in zip(stacked, single):
        np.testing.assert_allclose(a.voltage_v, b.voltage_v, rtol=1e-7)
        np.testing.assert_array_equal(a.compliance, b.compliance)
    rc, err, _ = fit(tmp_path, [tmp_path / "cycles.csv"], "--compliance", "1e-3",
                     device="nbox", recipe=())
    assert rc == 2 and "--ensemble" in err and "--split reversal" in err, err


@pytest.mark.parametrize("header, scale", [
    (["v(in)", "i(v1)"], (1.0, 1.0)),          # as neurospice sim writes it (was 'unknown
    (["V(mV)", "I(uA)"], (1e-3, 1e-6)),        # unit in' for v(in))
    (["V [V]", "I [mA]"], (1.0, 1e-3)),
    (["SMU1 V (V)", "SMU1 I (A)"], (1.0, 1.0)),
])
def test_iv_column_spellings(tmp_path, header, scale):
    from neurospice.calibration import load_iv

    v = np.linspace(0, 0.3, 4)
    s = load_iv(write(tmp_path / "iv.csv", header, [[f"{x:g}", f"{x / 1e4:g}"] for x in v]))
    np.testing.assert_allclose(s.voltage_v, v * scale[0], rtol=1e-12)
    np.testing.assert_allclose(s.current_a, v / 1e4 * scale[1], rtol=1e-12)


def test_a_file_without_a_header_takes_names(tmp_path):
    """A LabVIEW dump of numbers only: the error says the file has no names and shows
    ``--names``; with them the fit is the plain CSV's (P and AP files, names with units)."""
    truth, v, i = mtj_sweeps()
    for s, tag in ((1.0, "p"), (-1.0, "ap")):
        path = tmp_path / f"{tag}.txt"
        path.write_text("\n".join(f"{a:.8g}\t{b * 1e3:.10g}" for a, b in zip(v, i[s])) + "\n")
    files = [tmp_path / "p.txt", tmp_path / "ap.txt"]
    rc, err, _ = fit(tmp_path, files, device="mtj", recipe=())
    assert rc == 2 and "p.txt" in err and "--names 'V (V),I (A)'" in err, err
    rc, err, card = fit(tmp_path, files, "--names", "V (V),I (mA)", device="mtj", recipe=(),
                        name="named")
    assert rc == 0, err
    for k in ("rp", "tmr0", "vh"):
        assert abs(card["params"][k] - truth[k]) < 2 * card["stderr"][k], k
