"""Measured-data loading: units to SI, file layouts, typed errors, and the shipped data sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurospice import datasets
from neurospice.calibration import (
    IVSweep, Spectrum, Transient, load_iv, load_oscillator, load_pulse_updates, load_spectrum,
    load_spin_diode_sweeps, load_table, load_transient,
)
from neurospice.errors import DataError

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "data" / "calibration"


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_data_error(call, path: Path, column: str | None, row: int | None, *words: str):
    """``call`` raises DataError naming file, column and 1-based line (and ``words``)."""
    with pytest.raises(DataError) as info:
        call()
    err, text = info.value, str(info.value)
    assert err.path == str(path) and str(path) in text
    assert err.column == column and err.row == row
    if column is not None:
        assert repr(column) in text
    if row is not None:
        assert f"row {row}" in text
    for word in words:
        assert word in text, text
    return err


# --- units ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header, value, si", [
    ("I (uA)", 5.0, 5e-6),
    ("I (µA)", 5.0, 5e-6),              # micro sign
    ("I (μA)", 5.0, 5e-6),              # Greek mu
    ("current [uA]", 5.0, 5e-6),
    ("I/mA", 2.0, 2e-3),
    ("Id (pA)", 3.0, 3e-12),
    ("I (nA)", 3.0, 3e-9),
    ("V (mV)", 250.0, 0.25),
    ("SMU-1 Voltage (V)", 1.5, 1.5),
    ("Vdc (uV)", 7.0, 7e-6),
    ("f_GHz", 2.5, 2.5e9),
    ("freq (MHz)", 3.0, 3e6),
    ("f (kHz)", 3.0, 3e3),
    ("freq_hz", 50.0, 50.0),
    ("t (ms)", 2.0, 2e-3),
    ("t (us)", 2.0, 2e-6),
    ("t (ns)", 2.0, 2e-9),
    ("time_s", 2.0, 2.0),
    ("P (dBm)", 0.0, 1e-3),
    ("P (dBm)", -30.0, 1e-6),
    ("P (mW)", 2.0, 2e-3),
    ("P (uW)", 2.0, 2e-6),
    ("T (C)", 25.0, 298.15),
    ("T (°C)", -273.15, 0.0),
    ("T (K)", 300.0, 300.0),
    ("R (kOhm)", 4.7, 4.7e3),
    ("R (Ω)", 47.0, 47.0),
    ("R (kΩ)", 4.7, 4.7e3),
    ("H (Oe)", 100.0, 0.01),           # fields are mu0*H in tesla
    ("H (kOe)", 1.0, 0.1),
    ("B (mT)", 20.0, 0.02),
    ("H (A/m)", 1e6, 4e-7 * np.pi * 1e6),
    ("Index", 7.0, 7.0),               # no unit: kept as written
])
def test_header_units_convert_to_si(tmp_path, header, value, si):
    path = write(tmp_path, f"{header},other\n{value!r},1\n{value!r},2\n")
    table = load_table(path)
    assert table.names == [header, "other"]
    np.testing.assert_allclose(table[header], [si, si], rtol=1e-12, atol=0)


def test_unknown_unit_names_column_and_header_line(tmp_path):
    path = write(tmp_path, "# comment line\nV (furlong),I (A)\n1,2\n3,4\n")
    assert_data_error(lambda: load_table(path), path, "V (furlong)", 2, "unknown unit 'furlong'")
    # a column that is not used does not matter
    assert load_table(path, columns=["I (A)"])["I (A)"].tolist() == [2.0, 4.0]


def test_unit_of_the_wrong_dimension_is_refused(tmp_path):
    path = write(tmp_path, "V (mA),I (A)\n1,2\n3,4\n5,6\n")
    assert_data_error(lambda: load_iv(path, columns={"voltage": "V (mA)"}), path, "V (mA)", 1,
                      "current unit")


# --- layouts: delimiters, preambles, round trips -------------------------------------------

def test_round_trip_savetxt(tmp_path):
    v = np.linspace(-1, 1, 21)
    i = 1e-6 * np.sinh(3 * v)
    path = tmp_path / "iv.csv"
    np.savetxt(path, np.column_stack([v * 1e3, i * 1e9]), delimiter=",",
               header="V (mV),I (nA)", fmt="%.17g")
    sweep = load_iv(path)
    assert isinstance(sweep, IVSweep)
    np.testing.assert_allclose(sweep.voltage_v, v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sweep.current_a, i, rtol=1e-12, atol=1e-21)
    assert sweep.columns == {"voltage_v": "V (mV)", "current_a": "I (nA)"}
    assert sweep.units == {"voltage_v": "mV", "current_a": "nA"}
    assert sweep.lines.tolist() == list(range(2, 23))
    assert sweep.source == path and not sweep.report.dropped


@pytest.mark.parametrize("delimiter", [",", "\t", ";", " ", "   "])
def test_delimiter_is_detected(tmp_path, delimiter):
    header = delimiter.join(["V (mV)", "I (uA)", "t (ms)"])
    rows = [delimiter.join(str(x) for x in (10 * k, k, 0.5 * k)) for k in range(4)]
    path = write(tmp_path, "\n".join([header, *rows]) + "\n")
    table = load_table(path)
    assert table.delimiter == (None if delimiter.strip(" ") == "" else delimiter)
    assert table.names == ["V (mV)", "I (uA)", "t (ms)"]
    np.testing.assert_allclose(table["I (uA)"], [0, 1e-6, 2e-6, 3e-6], rtol=1e-12, atol=0)
    np.testing.assert_allclose(table["t (ms)"], [0, 5e-4, 1e-3, 1.5e-3], rtol=1e-12, atol=0)


def test_semicolon_with_decimal_comma():
    path = FIXTURES / "sto_semicolon_decimal_comma.csv"
    with pytest.raises(DataError, match="decimal=','"):
        load_oscillator(path, decimal=".")      # the decimal point said: the hint names ","
    found = load_oscillator(path)               # found: semicolons, and commas in numbers
    assert any("decimal comma" in n for n in found.report.notes)
    curve = load_oscillator(path, decimal=",")
    np.testing.assert_array_equal(found.freq_hz, curve.freq_hz)
    np.testing.assert_allclose(curve.current_a, [1e-3, 1.5e-3, 2e-3, 2.5e-3, 3e-3], rtol=1e-12)
    np.testing.assert_allclose(curve.freq_hz, 4e9 + 1e8 * np.arange(5), rtol=1e-12)
    np.testing.assert_allclose(curve.power_w, 1e-3 * 10 ** ((-40 + 2 * np.arange(5)) / 10),
                               rtol=1e-12)


def test_keithley_preamble_is_found_and_kept():
    path = FIXTURES / "keithley_iv.csv"
    sweep = load_iv(path)
    assert sweep.columns == {"voltage_v": "SMU-1 Voltage (mV)", "current_a": "SMU-1 Current (uA)",
                             "time_s": "Time (s)", "temperature_k": "Stage Temperature (°C)"}
    assert sweep.preamble[0] == "Test Name,IV sweep dual" and len(sweep.preamble) == 13
    assert sweep.lines[0] == 16 and len(sweep) == 13
    np.testing.assert_allclose(sweep.voltage_v[:3], [0, 0.2, 0.4], rtol=1e-12, atol=0)
    np.testing.assert_allclose(sweep.current_a[1], 1e-4, rtol=1e-12)
    np.testing.assert_allclose(sweep.temperature_k, 298.15, rtol=1e-12)
    for options in ({"skip_header": 14}, {"header_row": 15}):
        again = load_iv(path, **options)
        np.testing.assert_array_equal(again.current_a, sweep.current_a)
    up, down = load_iv(path, split="reversal")
    assert len(up) == 7 and len(down) == 6
    np.testing.assert_allclose(up.voltage_v[-1], 1.2, rtol=1e-12)


def test_header_row_on_a_blank_line_is_refused(tmp_path):
    path = write(tmp_path, "V,I\n\n1,2\n3,4\n")
    assert_data_error(lambda: load_table(path, header_row=2), path, None, 2, "no header")


def test_no_header_is_refused(tmp_path):
    path = write(tmp_path, "1,2\n3,4\n")
    assert_data_error(lambda: load_table(path), path, None, None, "header_row=")


def test_crlf_bom_and_quotes(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes('\ufeff"V (V)","I (mA)"\r\n"1","2"\r\n"3","4"\r\n'.encode("utf-8"))
    sweep = load_iv(path, min_points=2)
    np.testing.assert_allclose(sweep.current_a, [2e-3, 4e-3], rtol=1e-12)
    assert sweep.lines.tolist() == [2, 3]


# --- several curves in one file ------------------------------------------------------------

def test_side_by_side_curves_with_padding(tmp_path):
    path = write(tmp_path, "V1 (V),I1 (mA),V2 (V),I2 (mA)\n"
                           "0,0,0,0\n1,1,1,2\n2,2,2,4\n3,3,,\n")
    first, second = load_iv(path, split="columns")
    np.testing.assert_allclose(first.current_a, [0, 1e-3, 2e-3, 3e-3], rtol=1e-12)
    np.testing.assert_allclose(second.current_a, [0, 2e-3, 4e-3], rtol=1e-12)
    assert second.columns == {"voltage_v": "V2 (V)", "current_a": "I2 (mA)"}
    assert any("padding" in note for note in second.report.notes)
    # the same, named explicitly; repeated names work too
    again = load_iv(path, split="columns", columns={"voltage": ["V1 (V)", "V2 (V)"],
                                                    "current_a": ["I1 (mA)", "I2 (mA)"]})
    np.testing.assert_array_equal(again[1].voltage_v, second.voltage_v)
    path = write(tmp_path, "V,I,V,I\n0,0,0,0\n1,1,1,2\n2,2,2,4\n", "repeat.csv")
    assert [c.current_a.tolist() for c in load_iv(path, split="columns")] == \
        [[0, 1, 2], [0, 2, 4]]


def test_side_by_side_curves_with_mixed_units(tmp_path):
    path = write(tmp_path, "V1 (V),I1 (A),V2 (mV),I2 (A)\n0,0,0,0\n1,1,1,1\n2,2,2,2\n")
    assert_data_error(lambda: load_iv(path, split="columns"), path, "V2 (mV)", 1,
                      "mixed units for voltage")


def test_two_voltage_columns_in_different_units(tmp_path):
    path = write(tmp_path, "V (V),Vbias (mV),I (A)\n0,0,0\n1,1,1\n2,2,2\n")
    assert_data_error(lambda: load_iv(path), path, "Vbias (mV)", 1, "mixed units", "'V (V)'")
    sweep = load_iv(path, columns={"voltage": "Vbias (mV)"})
    np.testing.assert_allclose(sweep.voltage_v, [0, 1e-3, 2e-3], rtol=1e-12)


def test_sweep_column_split(tmp_path):
    rows = "\n".join(f"{s},{v},{v * s}" for s in (1, 2, 3) for v in (0, 1, 2, 3))
    path = write(tmp_path, "sweep,V (V),I (uA)\n" + rows + "\n")
    sweeps = load_iv(path, split="sweep_column")
    assert [s.sweep.tolist() for s in sweeps] == [[1] * 4, [2] * 4, [3] * 4]
    np.testing.assert_allclose(sweeps[2].current_a, [0, 3e-6, 6e-6, 9e-6], rtol=1e-12)
    assert sweeps[1].lines.tolist() == [6, 7, 8, 9]


def test_sweep_index_that_comes_back_is_refused(tmp_path):
    path = write(tmp_path, "cycle,V,I\n1,0,0\n1,1,1\n1,2,2\n2,0,0\n2,1,1\n2,2,2\n1,3,3\n")
    assert_data_error(lambda: load_iv(path, split="sweep_column"), path, "cycle", 8,
                      "appears again")


def test_reversal_split_ignores_noise_below_half_a_step(tmp_path):
    v = [0.0, 0.5, 1.0, 0.999, 1.5, 2.0, 1.5, 1.0, 1.001, 0.5, 0.0, 0.5, 1.0]
    path = write(tmp_path, "V,I\n" + "\n".join(f"{x},{k}" for k, x in enumerate(v)) + "\n")
    parts = load_iv(path, split="reversal", min_points=2)
    assert [p.current_a.tolist() for p in parts] == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10],
                                                     [11, 12]]
    assert_data_error(lambda: load_iv(path, split="reversal"), path, "V", 13,
                      "curve 3 has 2 points", "at least 3")


def test_repeated_header_starts_a_block(tmp_path):
    path = write(tmp_path, "t (ms),V (V)\n0,0\n1,1\n2,2\nt (ms),V (V)\n0,5\n1,6\n2,7\n")
    whole = load_transient(path, split="blocks")
    assert [w.voltage_v.tolist() for w in whole] == [[0, 1, 2], [5, 6, 7]]
    assert whole[1].lines.tolist() == [6, 7, 8]
    # stacked without a split, the time runs backwards at the second block
    assert_data_error(lambda: load_transient(path), path, "t (ms)", 6, "time does not increase")


def test_unit_change_when_the_header_repeats(tmp_path):
    path = write(tmp_path, "V (V),I (A)\n0,0\n1,1\n2,2\nV (mV),I (A)\n0,5\n1,6\n2,7\n")
    assert_data_error(lambda: load_iv(path), path, "V (V)", 5, "mixed units", "'mV'")


# --- bad data ------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, what", [("nan", "nan value"), ("NaN", "nan value"),
                                        ("inf", "inf value"), ("-inf", "-inf value"),
                                        ("", "empty cell")])
def test_non_finite_values_raise_with_file_column_and_line(tmp_path, cell, what):
    path = write(tmp_path, f"Test,x\n\nV (V),I (A)\n0,0\n1,{cell}\n2,2\n3,3\n")
    assert_data_error(lambda: load_iv(path), path, "I (A)", 5, what, "on_nan='drop'")


def test_on_nan_drop_lists_exactly_the_dropped_rows(tmp_path):
    path = write(tmp_path, "V (V),I (A),T (K)\n0,0,300\n1,nan,300\n2,2,300\n"
                           "nan,3,300\n4,4,\n5,5,300\n")
    sweep = load_iv(path, on_nan="drop")
    assert sweep.voltage_v.tolist() == [0, 2, 5]
    assert sweep.lines.tolist() == [2, 4, 7]
    assert sweep.report.dropped_lines == [3, 5, 6]
    assert [(d.column, d.value) for d in sweep.report.dropped] == \
        [("I (A)", "nan value"), ("V (V)", "nan value"), ("T (K)", "empty cell")]
    table = load_table(path, on_nan="drop", columns=["V (V)"])
    assert table.report.dropped_lines == [5] and table.lines.tolist() == [2, 3, 4, 6, 7]


def test_non_numeric_cell(tmp_path):
    path = write(tmp_path, "V (V),I (A)\n0,0\n1,1\n2,2\n3,abc\n")
    assert_data_error(lambda: load_iv(path), path, "I (A)", 5, "not a number: 'abc'")
    assert_data_error(lambda: load_iv(path, on_nan="drop"), path, "I (A)", 5, "not a number")


def test_missing_columns_say_which_are_present(tmp_path):
    path = write(tmp_path, "V (V),T (K)\n0,1\n1,1\n2,1\n")
    assert_data_error(lambda: load_iv(path), path, None, 1,
                      "missing column(s) 'current or resistance or conductance'",
                      "present: 'V (V)', 'T (K)'")
    assert_data_error(lambda: load_iv(path, columns={"current": "I"}), path, None, 1,
                      "missing column(s) 'I'")
    path = write(tmp_path, "t (s),R (Ohm)\n0,1\n1,1\n2,1\n", "r.csv")
    assert_data_error(lambda: load_transient(path), path, None, 1,
                      "missing column(s) 'voltage or current'")


def test_unsorted_time_in_a_transient(tmp_path):
    path = write(tmp_path, "time (us),I (mA)\n0,1\n1,1\n3,1\n2,1\n4,1\n")
    assert_data_error(lambda: load_transient(path), path, "time (us)", 5,
                      "time does not increase: 2e-06 s after 3e-06 s")
    path = write(tmp_path, "time (us),I (mA)\n0,1\n1,1\n1,1\n", "repeat.csv")
    assert_data_error(lambda: load_transient(path), path, "time (us)", 4, "does not increase")


def test_too_few_points(tmp_path):
    path = write(tmp_path, "V,I\n0,0\n1,1\n")
    assert_data_error(lambda: load_iv(path), path, "V", 2, "2 points", "at least 3")
    assert len(load_iv(path, min_points=2)) == 2
    assert_data_error(lambda: load_iv(path, min_points=5), path, "V", 2, "at least 5")


def test_no_unit_is_read_as_si_with_a_note(tmp_path):
    path = write(tmp_path, "t,V\n0,1\n1,2\n2,3\n")
    wave = load_transient(path)
    assert isinstance(wave, Transient) and wave.current_a is None
    assert any("'t' has no unit: read as s" in n for n in wave.report.notes)


def test_spectrum_and_unknown_options(tmp_path):
    path = write(tmp_path, "f (GHz)\tVdc (uV)\tP (dBm)\n1\t2\t-10\n2\t3\t-10\n3\t4\t-10\n")
    spec = load_spectrum(path)
    assert isinstance(spec, Spectrum) and spec.field_t is None
    np.testing.assert_allclose(spec.vdc_v, [2e-6, 3e-6, 4e-6], rtol=1e-12)
    np.testing.assert_allclose(spec.power_w, 1e-4, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown quantity 'voltage'"):
        load_spectrum(path, columns={"voltage": "Vdc (uV)"})
    with pytest.raises(ValueError, match="split"):
        load_spectrum(path, split="rows")


# --- the shipped real data sets ------------------------------------------------------------

def shared(relative: str) -> Path:
    """A file or folder of a shipped data set (``<set>/<path>``), its checksums verified."""
    name, _, rest = relative.partition("/")
    return datasets.path(name) / rest


def test_vo2_dual_sweep():
    path = shared("vo2_threshold_switch/VO2_data_RvsV_transition.csv")
    sweep = load_iv(path)
    assert len(sweep) == 419 and len(sweep.preamble) == 33
    assert sweep.columns == {"voltage_v": "SMU-1 Voltage (V)", "current_a": "SMU-1 Current (A)",
                             "time_s": "SMU-1 Time (s)"}
    assert sweep.lines[0] == 36 and sweep.lines[-1] == 454
    up, down = load_iv(path, split="reversal")
    assert (len(up), len(down)) == (210, 209)
    np.testing.assert_allclose(up.voltage_v[-1], 21.0, rtol=0, atol=1e-3)
    assert np.all(np.diff(up.voltage_v) > 0) and np.all(np.diff(down.voltage_v) < 0)
    # insulating (about 5 kOhm) at 1 V, metallic (about 0.22 kOhm) at 21 V
    r = up.voltage_v / up.current_a
    assert 4e3 < r[9] < 6e3 and 150 < r[-1] < 300


def test_vo2_short_pulses():
    folder = shared("vo2_threshold_switch/short_pulses")
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 11
    for path in files:
        wave = load_transient(path)
        assert set(wave.columns) == {"time_s", "voltage_v", "current_a"}
        assert 1100 <= len(wave) <= 1110 and wave.time_s[0] == 0
        np.testing.assert_allclose(np.diff(wave.time_s), 2e-4, rtol=1e-6)
        amplitude = float(path.name.split("V_")[0])
        np.testing.assert_allclose(np.max(wave.voltage_v), amplitude, rtol=2e-3)


def test_spin_diode_field_sweeps():
    sweeps = load_spin_diode_sweeps(shared("spin_diode_tacofeb/5360_2p.csv"))
    assert len(sweeps) == 17
    np.testing.assert_allclose([s.freq_hz[0] for s in sweeps], np.arange(1, 18) * 1e9,
                               rtol=1e-12)
    for s in sweeps:
        assert len(s) == 151 and s.lines[0] == 3 and np.all(s.freq_hz == s.freq_hz[0])
        assert np.all(np.diff(s.field_t) > 0)
        assert 0.005 < s.field_t[0] < 0.01 and 0.78 < s.field_t[-1] < 0.79   # ~62 Oe..7.9 kOe
        assert np.max(np.abs(s.vdc_v)) < 1e-4                              # µV scale
    np.testing.assert_allclose(sweeps[0].vdc_v[0], 6.803166e-6, rtol=1e-12)


@pytest.mark.parametrize("name, ramps, shortest, longest", [("set.csv", 39, 185, 192),
                                                            ("reset.csv", 40, 149, 153)])
def test_rram_pulse_updates(name, ramps, shortest, longest):
    data = load_pulse_updates(shared(f"rram_pulse_updates/{name}"))
    assert len(data) == ramps
    assert min(map(len, data)) == shortest and max(map(len, data)) == longest
    for ramp in data:
        assert ramp.pulse[0] == 1 and np.all(np.isfinite(ramp.current_a))
        assert 1e-4 < ramp.current_a.min() and ramp.current_a.max() < 3e-4


def test_import_is_light():
    code = ("import sys, neurospice.calibration; "
            "print(sorted({'matplotlib', 'pandas', 'scipy', 'lmfit'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_device_and_temperature_columns(tmp_path):
    path = write(tmp_path, "device id,T (°C),V (V),I (mA)\nD7,25,0,0\nD7,25,1,2\nD7,25,2,4\n")
    sweep = load_iv(path)
    assert sweep.device.tolist() == ["D7"] * 3
    np.testing.assert_allclose(sweep.temperature_k, 298.15, rtol=1e-12)
    path = write(tmp_path, "device,V (V),I (mA)\nD7,0,0\n,1,2\nD7,2,4\n", "gap.csv")
    assert_data_error(lambda: load_iv(path), path, "device", 3, "empty cell")


# --- cases found in review: none may shift columns or scale values silently ------------------
def test_savetxt_with_blank_separated_header(tmp_path):
    path = tmp_path / "iv.txt"
    v, i = np.linspace(0, 0.3, 4), np.linspace(0, 3e-4, 4)
    np.savetxt(path, np.c_[v, i, np.full(4, 5.0)], header="V(V) I(A) Gate(V)")
    s = load_iv(path)
    np.testing.assert_allclose(s.voltage_v, v)
    np.testing.assert_allclose(s.current_a, i)


def test_names_with_spaces_in_a_blank_separated_file(tmp_path):
    two = write(tmp_path, "Elapsed Time (s)  Voltage (V)  Current (A)\n0 0.1 1e-3\n1 0.2 2e-3\n"
                          "2 0.3 3e-3\n", "two.txt")
    s = load_iv(two)
    np.testing.assert_allclose(s.voltage_v, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(s.time_s, [0, 1, 2])
    one = write(tmp_path, "Elapsed Time (s) Voltage (V) Current (A)\n0 0.1 1e-3\n1 0.2 2e-3\n"
                          "2 0.3 3e-3\n", "one.txt")
    assert_data_error(lambda: load_iv(one), one, None, 1, "names with spaces")


@pytest.mark.parametrize("unit, scale", [("mHz", 1e-3), ("MHz", 1e6), ("mOhm", 1e-3)])
def test_milli_is_not_mega(tmp_path, unit, scale):
    path = write(tmp_path, f"x ({unit}),y\n1,1\n2,2\n3,3\n")
    np.testing.assert_allclose(load_table(path).data[:, 0], np.array([1, 2, 3]) * scale)


def test_a_lower_case_prefix_that_could_be_either_is_refused(tmp_path):
    path = write(tmp_path, "f (mhz),Vdc (V)\n1,1\n2,2\n3,3\n")
    assert_data_error(lambda: load_spectrum(path), path, "f (mhz)", 1, "unknown unit")


def test_comment_right_under_the_header(tmp_path):
    path = write(tmp_path, "V (V),I (A)\n# sweep 1 up\n0,0\n1,1e-3\n2,2e-3\n")
    np.testing.assert_allclose(load_iv(path).voltage_v, [0, 1, 2])


def test_spin_diode_pairs_of_different_lengths_and_decimal_frequencies(tmp_path):
    path = write(tmp_path, "a_0p5_GHz\ta_0p5_GHz\tb_2.5_GHz\tb_2.5_GHz\n\n"
                           "100\t1e-6\t100\t2e-6\n200\t1.5e-6\t200\t2.5e-6\n"
                           "300\t1.2e-6\t300\t2.2e-6\n400\t1.1e-6\t\t\n", "sd.csv")
    a, b = load_spin_diode_sweeps(path, min_points=3)
    assert a.freq_hz[0] == 0.5e9 and b.freq_hz[0] == 2.5e9
    assert len(a.field_t) == 4 and len(b.field_t) == 3
    np.testing.assert_allclose(b.field_t, [0.01, 0.02, 0.03])        # Oe -> T


def test_a_delta_f_column_is_the_linewidth_not_the_frequency(tmp_path):
    path = write(tmp_path, "I (mA),f (GHz),Δf (MHz)\n1,1,10\n2,2,20\n3,3,30\n")
    osc = load_oscillator(path)
    np.testing.assert_allclose(osc.freq_hz, [1e9, 2e9, 3e9])
    np.testing.assert_allclose(osc.linewidth_hz, [1e7, 2e7, 3e7])


def test_decimal_comma_in_a_blank_separated_file(tmp_path):
    path = write(tmp_path, "V (mV)  I (uA)\n1,5  2,5\n2,5  3,5\n3,5  4,5\n", "dc.txt")
    s = load_iv(path, decimal=",")
    np.testing.assert_allclose(s.voltage_v, [1.5e-3, 2.5e-3, 3.5e-3])
    np.testing.assert_allclose(s.current_a, [2.5e-6, 3.5e-6, 4.5e-6])


B1500_SETTINGS = ("SetupTitle, I/V Sweep\nPrimitiveTest, I/V Sweep\n"
                  "TestParameter, Channel.Unit, SMU1:HR, SMU2:HR\n"
                  "TestParameter, Measurement.Primary.Start, -0.5\n")


def test_keysight_dataname_datavalue_export(tmp_path):
    """A Keysight EasyEXPERT / B1500 export: the settings kept as the preamble, DataName's
    cells the header, DataValue's the data (no unit in the names: SI, with a note); a second
    test appended below (its settings left out, each line named; its rows a second block)."""
    rows = "".join(f"DataValue, {v:.1f}, {v / 2600:.6e}\n" for v in np.linspace(-0.5, 0.5, 11))
    path = write(tmp_path, B1500_SETTINGS + "DataName, V1, I1\n" + rows)
    sweep = load_iv(path)
    np.testing.assert_allclose(sweep.voltage_v, np.linspace(-0.5, 0.5, 11), rtol=0, atol=1e-12)
    np.testing.assert_allclose(sweep.current_a, sweep.voltage_v / 2600, rtol=1e-6)
    assert sweep.preamble[0] == "SetupTitle, I/V Sweep" and len(sweep.preamble) == 4
    assert sweep.lines[0] == 6
    assert any("DataName/DataValue" in n for n in sweep.report.notes)
    assert "column 'I1' has no unit: read as A" in sweep.report.notes
    two = write(tmp_path, B1500_SETTINGS + "DataName, V1, I1\n" + rows + B1500_SETTINGS
                + "DataName, V1, I1\n" + rows, "two.csv")
    first, second = load_iv(two, split="blocks")
    np.testing.assert_array_equal(first.current_a, second.current_a)
    assert second.lines[0] == 6 + 11 + 5
    note = next(n for n in first.report.notes if "DataName/DataValue" in n)
    assert "left out: 17, 18, 19, 20" in note


def test_keysight_export_reads_as_the_plain_table():
    """Any table written as DataName/DataValue rows reads as the same table written plainly."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: float(f"{x:.6g}"))

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(values, values), min_size=2, max_size=20))
    def check(table):
        import tempfile

        body = "".join(f"{a!r}, {b!r}\n" for a, b in table)
        keyed = "".join(f"DataValue, {a!r}, {b!r}\n" for a, b in table)
        with tempfile.TemporaryDirectory() as tmp:
            plain = write(Path(tmp), "V1, I1\n" + body, "plain.csv")
            k = write(Path(tmp), B1500_SETTINGS + "DataName, V1, I1\n" + keyed, "k.csv")
            a, b = load_table(plain), load_table(k)
            assert a.names == b.names
            for col in range(2):
                np.testing.assert_array_equal(a[col], b[col])

    check()


def scope_files(t, v, folder: Path, *, vertical="V") -> dict[str, Path]:
    """One waveform as five oscilloscopes export it (written here, from their manuals'
    descriptions): Tektronix TDS (settings beside the samples), Tektronix MSO (settings,
    then ``TIME,CH1``), Keysight InfiniiVision (``x-axis,1`` over ``second,Volt``), LeCroy
    (``Time,Ampl``) and Rigol (sample index, Start and Increment)."""
    t, v = [float(a) for a in t], [float(b) for b in v]
    meta = [("Record Length", f"{len(t):.6e}"), ("Sample Interval", f"{t[1] - t[0]:.6e}"),
            ("Trigger Point", "0"), ("", ""), ("Source", "CH1"), ("Vertical Units", vertical),
            ("Vertical Scale", "2.0e-01"), ("Horizontal Units", "s"), ("Pt Fmt", "Y"),
            ("Model Number", "TDS2024B"), ("Firmware Version", "FV:v22.11")]
    files = {}
    files["tek_tds"] = write(folder, "".join(
        f"{(meta[k] if k < len(meta) else ('', ''))[0]},"
        f"{(meta[k] if k < len(meta) else ('', ''))[1]},,{a!r},{b!r},\r\n"
        for k, (a, b) in enumerate(zip(t, v))), "tek_tds.csv")
    files["tek_mso"] = write(folder, "Model,MSO54\nWaveform Type,ANALOG\nHorizontal Units,s\n"
                             f"Vertical Units,{vertical}\nLabel,\nTIME,CH1\n"
                             + "".join(f"{a!r},{b!r}\n" for a, b in zip(t, v)), "tek_mso.csv")
    word = {"V": "Volt", "A": "Ampere"}[vertical]
    files["infiniivision"] = write(folder, f"x-axis,1\nsecond,{word}\n"
                                   + "".join(f"{a!r},{b!r}\n" for a, b in zip(t, v)),
                                   "infiniivision.csv")
    files["lecroy"] = write(folder, "LECROYWR104Xi,10785,Waveform\nSegments,1,SegmentSize,"
                            f"{len(t)}\nSegment,TrigTime,TimeSinceSegment1\n#1,03-Dec-2026 "
                            "12:00:00,0\nTime,Ampl\n"
                            + "".join(f"{a!r},{b!r}\n" for a, b in zip(t, v)), "lecroy.csv")
    files["rigol"] = write(folder, f"X,CH1,Start,Increment,\nSequence,{word},{t[0]!r},"
                           f"{t[1] - t[0]!r},\n"
                           + "".join(f"{k},{b!r},\n" for k, b in enumerate(v)), "rigol.csv")
    return files


def test_oscilloscope_exports_read_as_transients(tmp_path):
    """Each scope's export reads as the same transient: times within 1e-12 of the record's
    length (the Rigol's rebuilt from Start + index x Increment), values exact; a current
    probe (``Vertical Units,A``, InfiniiVision's ``Ampere``) gives a current. LeCroy's file
    says no unit: s and V, with a note."""
    t = -1e-6 + 5e-9 * np.arange(200)
    v = 0.5 * np.sin(2 * np.pi * 2e6 * t)
    for name, path in scope_files(t, v, tmp_path).items():
        w = load_transient(path)
        np.testing.assert_allclose(w.time_s, t, rtol=0, atol=1e-12 * 1e-6, err_msg=name)
        np.testing.assert_array_equal(w.voltage_v, v, err_msg=name)
        assert w.current_a is None, name
    probe = tmp_path / "probe"
    probe.mkdir()
    for name, path in scope_files(t, 1e-3 * v, probe, vertical="A").items():
        if name == "lecroy":
            continue        # no unit anywhere in the file: a voltage
        w = load_transient(path)
        assert w.voltage_v is None, name
        np.testing.assert_array_equal(w.current_a, 1e-3 * v, err_msg=name)
    w = load_transient(tmp_path / "lecroy.csv")
    assert "column 'Ampl' has no unit: read as V" in w.report.notes
    # only in a transient is a channel the signal: in an I-V file it is the SMU's number
    iv = write(tmp_path, "V (V),I (A),Channel\n0,0,1\n0.1,1e-6,1\n0.2,2e-6,1\n", "iv.csv")
    assert load_iv(iv).columns == {"voltage_v": "V (V)", "current_a": "I (A)"}


def test_a_two_channel_scope_export_asks_which_channel(tmp_path):
    """Two channels of a Rigol export: both could be the voltage, so the loader names them
    and reads the one chosen; a sample index that is not a number names its line."""
    path = write(tmp_path, "X,CH1,CH2,Start,Increment,\nSequence,Volt,Volt,0,1e-9,\n"
                 + "".join(f"{k},{k * 0.1!r},{-k * 0.2!r},\n" for k in range(10)))
    assert_data_error(lambda: load_transient(path), path, "CH2 (Volt)", 1, "'CH1 (Volt)'",
                      "columns=")
    w = load_transient(path, columns={"voltage": "CH2 (Volt)"})
    np.testing.assert_allclose(w.time_s, 1e-9 * np.arange(10), rtol=0, atol=1e-24)
    np.testing.assert_array_equal(w.voltage_v, [-k * 0.2 for k in range(10)])
    bad = write(tmp_path, "X,CH1,Start,Increment,\nSequence,Volt,0,1e-9,\n0,1,\n1,2,\nx,3,\n"
                "3,4,\n", "bad.csv")
    assert_data_error(lambda: load_transient(bad), bad, "Time (s)", 5, "'x'")


def test_scope_layouts_read_any_waveform(tmp_path_factory):
    """Hypothesis: any record of 20-300 samples reads back the same from every layout."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=25, deadline=None)
    @given(st.integers(20, 300), st.floats(1e-12, 1e-3), st.floats(-1.0, 1.0),
           st.integers(0, 2 ** 32 - 1))
    def check(n, dt, t0, seed):
        t = t0 + dt * np.arange(n)
        if np.any(np.diff(t) <= 0):
            return
        v = np.random.default_rng(seed).normal(size=n)
        for name, path in scope_files(t, v, tmp_path_factory.mktemp("s")).items():
            w = load_transient(path)
            np.testing.assert_allclose(w.time_s, t, rtol=1e-12, atol=1e-12 * dt, err_msg=name)
            np.testing.assert_array_equal(w.voltage_v, v, err_msg=name)

    check()


def test_the_fast_column_paths_read_as_the_cell_by_cell_path(monkeypatch, tmp_path_factory):
    """Hypothesis: files of numbers in every spelling, cells without a value (empty,
    ``#N/A``, ``9.9E37``, ``99e36``), comments, a repeated header and decimal commas read
    the same (values, the cells' no-value notes, line numbers, errors) with the whole-column
    fast paths as with each cell looked at alone."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from neurospice.calibration import table

    number = st.one_of(st.integers(-10**6, 10**6).map(str),
                       st.floats(-1e30, 1e30, allow_nan=False).map(repr),
                       st.sampled_from(["1e3", "-.5", "+2.", "1E-7", "3.0e+05", "0"]))
    cell = st.one_of(number, number, number,
                     st.sampled_from(["", "#N/A", "9.9E37", "99e36", "nan", "1_0", "x"]))
    row = st.lists(cell, min_size=2, max_size=2)
    line = st.one_of(row.map(",".join), row.map(",".join), st.just("# a comment"),
                     st.just("V (V),I (A)"))

    def read(path, **kw):
        try:
            raw = table.read_raw(path, **kw)
            cols = raw.columns
            return ([list(map(repr, raw.values(c).tolist())) for c in cols],
                    [raw.empty(c).tolist() for c in cols],
                    raw.lines.tolist(), raw.block.tolist())
        except Exception as exc:        # the same error, raised the same way, on both paths
            return type(exc).__name__, str(exc)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(line, min_size=1, max_size=12), st.booleans())
    def check(lines, comma):
        text = "V (V),I (A)\n" + "\n".join(lines) + "\n"
        if comma:
            text = text.replace(",", ";").replace(".", ",")
        path = tmp_path_factory.mktemp("t") / "d.csv"
        path.write_text(text)
        fast = read(path)
        with monkeypatch.context() as m:
            m.setattr(table, "_plain_numbers", lambda cells, decimal: None)
            m.setattr(table, "_plain_rows", lambda rows, width, decimal: None)
            slow = read(path)
        assert fast == slow, text

    check()


def test_an_iv_file_written_as_resistance_or_conductance(tmp_path):
    """R(V) and G(V) files: the current follows, I = V / R or G V (a note says so); R beside
    a current column is not read (an instrument's R, NaN at 0 V, does not stop the load); a
    resistance of zero or less names its line."""
    v = np.array([-0.2, -0.1, 0.1, 0.2])
    r = np.array([2600.0, 2550.0, 2540.0, 2580.0])
    rv = write(tmp_path, "Bias (V),R (kOhm)\n" + "".join(f"{a},{b / 1e3}\n" for a, b in zip(v, r)),
               "rv.csv")
    sweep = load_iv(rv)
    np.testing.assert_allclose(sweep.current_a, v / r, rtol=1e-12)
    assert "current from column 'R (kOhm)' and the voltage: I = V / R" in sweep.report.notes
    gv = write(tmp_path, "V (V),G (mS)\n" + "".join(f"{a},{1e3 / b}\n" for a, b in zip(v, r)),
               "gv.csv")
    np.testing.assert_allclose(load_iv(gv).current_a, v / r, rtol=1e-12)
    both = write(tmp_path, "V (V),I (A),R (Ohm)\n0,0,NaN\n" + "".join(
        f"{a},{a / b},{b}\n" for a, b in zip(v, r)), "both.csv")
    sweep = load_iv(both)
    assert sweep.columns == {"voltage_v": "V (V)", "current_a": "I (A)"} and len(sweep) == 5
    assert "column(s) 'R (Ohm)' (resistance) not used: the file has a current column" \
        in sweep.report.notes
    bad = write(tmp_path, "V (V),R (Ohm)\n0.1,2500\n0.2,0\n0.3,2500\n", "bad.csv")
    assert_data_error(lambda: load_iv(bad), bad, "R (Ohm)", 3, "resistance of 0")
