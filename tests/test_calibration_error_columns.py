"""Measured error bars in data files: error columns read with their quantity and passed to
the fits as sigma.

A processed table very often carries its error bars (``f err (GHz)``, ``I std (A)``,
``σ_f``, ``±``): the loaders pair such a column with its quantity's (the quantity's name
with an error word, or the error word alone right after the quantity's column), read it in
SI (its own unit, else the quantity's; a power's errors in dB to first order), and carry it
on the curve (``freq_err_hz``, ``current_err_a``, ...). ``Δf``, ``delta f`` and ``df`` stay
a linewidth. The STNO, MTJ and NbOx recipes weight their fits by those errors, and the fit's
standard errors then come from them (``stderr_basis`` "absolute").

Measured (seed 0, 40 currents 2-40 uA, frequency errors 2-6 MHz, power errors 3 % + 20 pW,
``test_stno_fit_takes_its_errors_from_the_file``): with the error columns, basis absolute
(reduced chi-square 1.03 on 62 degrees of freedom), f0 +0.47, n_shift +0.25, i_th -0.95, q
-0.03, p_gain -0.38 standard errors from the truth; the same readings without the error
columns: basis scaled, f0 -2.97, i_th +1.88, p_gain +2.62 (the noise estimated from the
residuals), i_th's standard error 5.7 times larger.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurospice.calibration.data import load_iv, load_oscillator, load_spectrum
from neurospice.calibration.recipes.mtj import fit_mtj_rv
from neurospice.calibration.recipes.stno import fit_stno, load_curves
from neurospice.errors import DataError

ROWS = [(1.0, 5.0, 0.01), (1.5, 5.1, 0.02), (2.0, 5.2, 0.03), (2.5, 5.3, 0.04)]


def oscillator_file(tmp_path, error_header: str, scale: float = 1.0, name="osc.csv"):
    """I (mA), f (GHz), then the error column (values 0.01-0.04 times ``scale``), P (dBm)."""
    path = tmp_path / name
    path.write_text(f"I (mA),f (GHz),{error_header},P (dBm)\n" + "".join(
        f"{i},{f},{e * scale:g},{-40 + 3 * k}\n" for k, (i, f, e) in enumerate(ROWS)))
    return path


SPELLINGS = ["f err (GHz)", "f_err (GHz)", "freq error (GHz)", "Frequency Error (GHz)",
             "σf (GHz)", "σ_f (GHz)", "f σ (GHz)", "±f (GHz)", "f ± (GHz)", "± (GHz)",
             "+/- (GHz)", "err (GHz)", "error (GHz)", "f std (GHz)", "std f (GHz)",
             "f stdev (GHz)", "f sd (GHz)", "sigma_f (GHz)", "f uncertainty (GHz)",
             "unc f (GHz)", "f stderr (GHz)", "Std. dev. of f (GHz)",
             "f standard error (GHz)", "f_osc_err (GHz)", "Freq. unc. [GHz]"]


@pytest.mark.parametrize("header", SPELLINGS)
def test_error_names_are_recognised(tmp_path, header):
    """Each spelling of a frequency's error column is read as ``freq_err_hz`` (SI), with a
    note naming both columns; the frequency itself is still the one f column."""
    curve = load_oscillator(oscillator_file(tmp_path, header))
    assert curve.freq_err_hz == pytest.approx([e * 1e9 for *_, e in ROWS], rel=1e-12)
    assert curve.freq_hz == pytest.approx([f * 1e9 for _, f, _ in ROWS], rel=1e-12)
    assert curve.columns["freq_err_hz"] == header
    assert any(f"column {header!r}: the errors of freq (column 'f (GHz)')" in n
               for n in curve.report.notes)


@pytest.mark.parametrize("header", ["Δf (MHz)", "delta f (MHz)", "df (MHz)", "∆f (MHz)",
                                    "FWHM (MHz)"])
def test_a_difference_is_a_linewidth_not_an_error(tmp_path, header):
    """``Δf``, ``delta f``, ``df`` are a linewidth (a difference), never the frequency's
    error."""
    curve = load_oscillator(oscillator_file(tmp_path, header))
    assert curve.freq_err_hz is None
    assert curve.linewidth_hz == pytest.approx([e * 1e6 for *_, e in ROWS], rel=1e-12)


def test_error_of_a_linewidth_after_its_delta_name(tmp_path):
    """``Δf err`` is the linewidth's error."""
    path = tmp_path / "lw.csv"
    path.write_text("I (mA),f (GHz),Δf (MHz),Δf err (kHz)\n" + "".join(
        f"{i},{f},{10 + k},{100 * (k + 1)}\n" for k, (i, f, _) in enumerate(ROWS)))
    curve = load_oscillator(path)
    assert curve.linewidth_err_hz == pytest.approx([1e5, 2e5, 3e5, 4e5], rel=1e-12)
    assert curve.freq_err_hz is None


def test_units_own_else_the_quantitys(tmp_path):
    """An error column's own unit wins (MHz beside GHz); without one it is the quantity's;
    a power's errors in dB (beside dBm) are relative: sigma_P = P ln(10)/10 sigma_dB."""
    own = load_oscillator(oscillator_file(tmp_path, "f err (MHz)", scale=1e3))
    assert own.freq_err_hz == pytest.approx([1e7, 2e7, 3e7, 4e7], rel=1e-12)
    assert own.units["freq_err_hz"] == "MHz"
    bare = load_oscillator(oscillator_file(tmp_path, "f err"))
    assert bare.freq_err_hz == pytest.approx([1e7, 2e7, 3e7, 4e7], rel=1e-12)
    assert bare.units["freq_err_hz"] == "GHz"
    path = tmp_path / "db.csv"
    path.write_text("I (mA),f (GHz),P (dBm),P err (dB)\n" + "".join(
        f"{i},{f},{-40 + k},0.5\n" for k, (i, f, _) in enumerate(ROWS)))
    db = load_oscillator(path)
    assert db.power_err_w == pytest.approx(db.power_w * math.log(10) / 10 * 0.5, rel=1e-12)
    assert any("power errors in dB" in n for n in db.report.notes)
    path.write_text("I (mA),f (GHz),f err (mV)\n" + "".join(
        f"{i},{f},1\n" for i, f, _ in ROWS))
    with pytest.raises(DataError, match="voltage unit but errors of freq") as err:
        load_oscillator(path)
    assert err.value.column == "f err (mV)"


def test_current_errors_of_an_iv_sweep_and_side_by_side_curves(tmp_path):
    """``I std (A)`` in an I-V file is ``current_err_a`` (it used to be a second current
    column: "2 columns look like current"); side by side, the k-th error column goes with
    the k-th curve."""
    path = tmp_path / "iv.csv"
    path.write_text("V (V),I (A),I std (A)\n0.1,1e-4,1e-6\n0.2,2e-4,2e-6\n0.3,3e-4,3e-6\n")
    sweep = load_iv(path)
    assert sweep.current_err_a == pytest.approx([1e-6, 2e-6, 3e-6], rel=1e-12)
    assert sweep.voltage_err_v is None
    path.write_text("V1 (V),I1 (uA),sigma I1 (uA),V2 (V),I2 (uA),sigma I2 (uA)\n"
                    "0.1,1,0.1,0.1,5,0.5\n0.2,2,0.2,0.2,6,0.6\n0.3,3,0.3,0.3,7,0.7\n")
    a, b = load_iv(path, split="columns")
    assert a.current_err_a == pytest.approx([1e-7, 2e-7, 3e-7], rel=1e-12)
    assert b.current_err_a == pytest.approx([5e-7, 6e-7, 7e-7], rel=1e-12)
    path.write_text("V1 (V),I1 (uA),sigma I1 (uA),V2 (V),I2 (uA)\n"
                    "0.1,1,0.1,0.1,5\n0.2,2,0.2,0.2,6\n0.3,3,0.3,0.3,7\n")
    with pytest.raises(DataError, match="1 column\\(s\\) of current errors"):
        load_iv(path, split="columns")


def test_explicit_error_column(tmp_path):
    """A column whose name says no error is named with ``columns={"freq_err": NAME}``
    (``--column freq_err=NAME``); the field name works as the key too."""
    path = oscillator_file(tmp_path, "spread (GHz)")
    assert load_oscillator(path).freq_err_hz is None
    for key in ("freq_err", "freq_err_hz"):
        curve = load_oscillator(path, columns={key: "spread (GHz)"})
        assert curve.freq_err_hz == pytest.approx([1e7, 2e7, 3e7, 4e7], rel=1e-12)
    path = tmp_path / "nop.csv"
    path.write_text("I (mA),f (GHz),spread (W)\n" + "".join(f"{i},{f},1\n"
                                                            for i, f, _ in ROWS))
    with pytest.raises(DataError, match="errors of power .* but no power column"):
        load_oscillator(path, columns={"power_err": "spread (W)"})


def test_errors_of_no_quantity_are_a_note(tmp_path):
    """An error column whose quantity the file does not give is left with a note."""
    path = tmp_path / "t.csv"
    path.write_text("I (mA),f (GHz),T err (K)\n" + "".join(f"{i},{f},0.1\n"
                                                           for i, f, _ in ROWS))
    curve = load_oscillator(path)
    assert curve.freq_err_hz is None
    assert any("'T err (K)': errors (by its name) of no quantity read: not used" in n
               for n in curve.report.notes)


@pytest.mark.parametrize("cell, match", [("-0.01", "a negative error \\(-1e\\+07\\)"),
                                         ("0", "an error of zero \\(a weight of infinity"),
                                         ("", "empty"), ("nan", "nan")])
def test_a_bad_error_names_its_line(tmp_path, cell, match):
    """A negative, zero, missing or non-finite error is a DataError naming its column and
    line (the third data row: line 4)."""
    path = tmp_path / "bad.csv"
    rows = [f"{i},{f},{cell if k == 2 else e}" for k, (i, f, e) in enumerate(ROWS)]
    path.write_text("I (mA),f (GHz),f err (GHz)\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=match) as err:
        load_oscillator(path)
    assert (err.value.column, err.value.row) == ("f err (GHz)", 4)


def test_on_nan_drop_drops_a_missing_error_like_a_missing_value(tmp_path):
    """``on_nan="drop"``: an I-V row without its current error is dropped (as a row without
    a current); an oscillator's frequency loses that reading only (NaN in f and its error,
    the power kept). A negative error is refused all the same."""
    path = tmp_path / "iv.csv"
    path.write_text("V (V),I (A),I err (A)\n0.1,1e-4,1e-6\n0.2,2e-4,\n0.3,3e-4,3e-6\n"
                    "0.4,4e-4,4e-6\n")
    sweep = load_iv(path, on_nan="drop")
    assert list(sweep.lines) == [2, 4, 5]
    assert sweep.current_err_a == pytest.approx([1e-6, 3e-6, 4e-6], rel=1e-12)
    assert sweep.report.dropped_lines == [3]
    path = tmp_path / "osc.csv"
    path.write_text("I (mA),f (GHz),f err (GHz),P (dBm)\n1,5,0.01,-40\n1.5,5.1,,-35\n"
                    "2,5.2,0.01,-30\n2.5,5.3,0.01,-28\n")
    curve = load_oscillator(path, on_nan="drop")
    assert np.isnan(curve.freq_hz[1]) and np.isnan(curve.freq_err_hz[1])
    assert np.isfinite(curve.power_w).all()
    path.write_text("V (V),I (A),I err (A)\n0.1,1e-4,1e-6\n0.2,2e-4,-1e-6\n0.3,3e-4,3e-6\n")
    with pytest.raises(DataError, match="negative error") as err:
        load_iv(path, on_nan="drop")
    assert err.value.row == 3


def test_spectrum_power_errors(tmp_path):
    """A spectrum's rectified voltage and power errors are read too."""
    path = tmp_path / "s.csv"
    path.write_text("f (GHz),Vdc (uV),Vdc err (uV)\n1,1,0.1\n2,3,0.2\n3,1,0.1\n")
    spec = load_spectrum(path)
    assert spec.vdc_err_v == pytest.approx([1e-7, 2e-7, 1e-7], rel=1e-12)


# ------------------------------------------------------------------ the fits use them
TRUTH = {"f0": 5e9, "n_shift": -1.5e9, "i_th": 10e-6, "q": 2.0, "p_gain": 1e-2}


def stno_table(path, errors: bool, seed: int = 0):
    """f(I), P(I) from the card (dr = 100 Ohm), with per-point errors 2-6 MHz and 3 % +
    20 pW, drawn with those errors; the error columns written or not."""
    from neurospice.compact_models.stno import stationary_frequency, stationary_power

    rng = np.random.default_rng(seed)
    i = np.linspace(2e-6, 40e-6, 40)
    card = {k: v for k, v in TRUTH.items() if k != "p_gain"}
    f = stationary_frequency(i, card)
    p = TRUTH["p_gain"] * (i * 100.0) ** 2 * stationary_power(i, card)
    sf = 2e6 + 4e6 * rng.random(i.size)
    sp = 0.03 * p + 2e-11
    fm = f + sf * rng.standard_normal(i.size)
    pm = p + sp * rng.standard_normal(i.size)
    head = "I (uA),f (GHz)" + (",f err (MHz)" if errors else "") + ",P (W)" + \
        (",P std (W)" if errors else "")
    rows = [",".join([f"{a * 1e6:.6f}", f"{b / 1e9:.9f}",
                      *([f"{c / 1e6:.6f}"] if errors else []), f"{d:.6e}",
                      *([f"{e:.6e}"] if errors else [])])
            for a, b, c, d, e in zip(i, fm, sf, pm, sp)]
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def test_stno_fit_takes_its_errors_from_the_file(tmp_path):
    """The error columns reach f(I) and P(I) as sigma: the standard errors come from them
    (basis absolute) and the truth lies within 3 of them (seed 0: +0.47, +0.25, -0.95,
    -0.03, -0.38); without the columns the same readings give the scaled basis."""
    cal = fit_stno(load_curves(stno_table(tmp_path / "e.csv", True)))
    res = cal.fits["f(I), P(I)"]
    assert res.stderr_basis == "absolute", res.stderr_reason
    assert res.stderr_reason.startswith("from the data's sigma")
    assert all(d.sigma is not None for d in res.datasets)
    assert any("weighted by the data's own errors (column 'f err (MHz)')" in n
               for n in cal.notes)
    for n in TRUTH:
        assert abs(res.values[n] - TRUTH[n]) < 3 * res.stderr[n], (n, res.values[n],
                                                                   res.stderr[n])
    bare = fit_stno(load_curves(stno_table(tmp_path / "b.csv", False)),
                    global_stage=None).fits["f(I), P(I)"]
    assert bare.stderr_basis == "scaled"
    assert bare.stderr["i_th"] > 2 * res.stderr["i_th"]


def test_stno_command_line_with_a_named_error_column(tmp_path):
    """``neurospice fit stno FILE --column 'freq_err=spread (MHz)'``: a column whose name
    says no error, named as the frequency's errors; the report says where the standard
    errors come from."""
    import contextlib
    import io
    import json

    from neurospice.cli import main

    path = stno_table(tmp_path / "s.csv", True)
    path.write_text(path.read_text().replace("f err (MHz)", "spread (MHz)"))
    out = tmp_path / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["fit", "stno", str(path), "--no-verify", "--quiet", "--global", "none",
                   "--column", "freq_err=spread (MHz)", "--out", str(out)])
    assert rc == 0, err.getvalue()
    card = json.loads((out / "stno.json").read_text())
    assert any("(column 'spread (MHz)')" in n for n in card["notes"])
    assert "Standard errors from the data's sigma" in next(out.glob("*.md")).read_text()


def test_mtj_fit_weighted_by_current_errors(tmp_path):
    """MTJ I-V files with ``I std (A)``: each sweep's current errors are its sigma
    (weighting absolute), the standard errors from them."""
    from neurospice.calibration.recipes.mtj import mtj_model

    model = mtj_model()
    TRUE_MTJ = {n: p.value for n, p in model.params.items()}
    rng = np.random.default_rng(1)
    v = np.linspace(-0.4, 0.4, 41)
    sweeps = []
    for m0, name in ((1.0, "p.csv"), (-1.0, "ap.csv")):
        i = model.eval(v, {**TRUE_MTJ, "m0": m0})
        s = 0.01 * np.abs(i) + 1e-8
        path = tmp_path / name
        path.write_text("V (V),I (A),I std (A)\n" + "".join(
            f"{a:.6f},{b:.9e},{c:.4e}\n" for a, b, c in
            zip(v, i + s * rng.standard_normal(v.size), s)))
        sweeps.append(load_iv(path))
    cal = fit_mtj_rv(sweeps, global_stage=None)
    res = cal.fits["R(V)"]
    assert res.stderr_basis == "absolute", res.stderr_reason
    assert any("own current errors" in n for n in cal.notes)
    for n in ("rp", "tmr0", "vh"):
        assert abs(res.values[n] - TRUE_MTJ[n]) < 3 * res.stderr[n], (n, res.values[n])


# ------------------------------------------------------------------ property
_ERR_NAMES = st.sampled_from(["{q} err", "{q}_err", "σ_{q}", "{q} std", "{q} sd",
                              "sigma {q}", "{q} uncertainty", "{q} stderr", "±{q}",
                              "{q} error"])
_PREFIXES = st.sampled_from(["", "m", "u", "n"])
_VALUES = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=_ERR_NAMES, unit=_PREFIXES, err_unit=_PREFIXES, alone=st.booleans(),
       data=st.data())
def test_any_table_with_error_columns_reads_back(tmp_path, name, unit, err_unit, alone,
                                                 data):
    """Any I-V table with a current error column (any spelling, unit or none, by name or
    alone right after the current) reads its values and errors back as written (SI)."""
    n = data.draw(st.integers(3, 12))
    v = data.draw(st.lists(_VALUES, min_size=n, max_size=n))
    i = data.draw(st.lists(_VALUES, min_size=n, max_size=n))
    e = data.draw(st.lists(_VALUES, min_size=n, max_size=n))
    err_head = ("±" if alone else name.format(q="I")) + \
        (f" ({err_unit}A)" if data.draw(st.booleans()) else "")
    path = tmp_path / "p.csv"
    path.write_text(f"V (V),I ({unit}A),{err_head}\n" + "".join(
        f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(v, i, e)))
    sweep = load_iv(path)
    scale = {"": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
    own = scale[err_unit] if "(" in err_head else scale[unit]
    assert sweep.voltage_v == pytest.approx(v, rel=1e-12)
    assert sweep.current_a == pytest.approx(np.array(i) * scale[unit], rel=1e-12)
    assert sweep.current_err_a == pytest.approx(np.array(e) * own, rel=1e-12)


def test_nbox_fit_weighted_by_current_errors():
    """A voltage-controlled NbOx dual sweep whose branches carry their current errors
    (1 %): each branch's log residual weighted by sigma_I / I, the standard errors from
    them; the truth within 3 of them."""
    from pathlib import Path

    from neurospice.calibration.data import IVSweep
    from neurospice.calibration.recipes.nbox import VO2_FIXED, fit_nbox_iv
    from neurospice.compact_models.nbox.static import sweep_currents

    truth = {**VO2_FIXED, "t_amb": 330.0, "t_ref": 330.0, "g_ref": 2e-4, "ea": 0.2,
             "r_th": 300.0, "t_c": 360.0, "w_c": 3.0, "g_met": 2e-2, "r_c": 100.0}
    v_up = np.round(np.arange(0.1, 21.0001, 0.1), 6)
    rng = np.random.default_rng(0)
    branches = []
    for v, i in zip((v_up, v_up[::-1]), sweep_currents(truth, v_up, v_up[::-1])):
        branches.append(IVSweep(voltage_v=v, current_a=i * np.exp(rng.normal(0, 0.01, v.size)),
                                current_err_a=0.01 * i, source=Path("synthetic"),
                                columns={"current_err_a": "I err (A)"}, units={},
                                lines=np.arange(v.size)))
    free = ("g_ref", "r_th", "t_c", "g_met", "r_c")
    start = {k: truth[k] * f for k, f in zip(free, (1.1, 0.9, 1.01, 1.2, 0.85))}
    cal = fit_nbox_iv(branches, t_amb=330.0, free=free,
                      fixed={**VO2_FIXED, "ea": 0.2, "w_c": 3.0}, start=start,
                      global_stage=None)
    fit = cal.fits["dual sweep"]
    assert any("weighted by the data's own errors (column 'I err (A)'" in n for n in cal.notes)
    sweeps = [d for d in fit.datasets if d.name.endswith("sweep")]
    # sigma_I / I with I the noisy reading: 0.01 within the 1 % noise (5 sigma)
    assert len(sweeps) == 2 and all(np.all(np.abs(d.sigma / 0.01 - 1) < 0.05) for d in sweeps)
    assert fit.stderr_basis == "absolute", fit.stderr_reason
    for name in free:
        assert abs(fit.values[name] - truth[name]) < 3 * fit.stderr[name], name


@settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(_ERR_NAMES, min_size=3, max_size=3),
       which=st.lists(st.booleans(), min_size=3, max_size=3), data=st.data())
def test_any_oscillator_table_with_error_columns_reads_back(tmp_path, names, which, data):
    """f(I), P(I), linewidth(I) tables (a rising current) with any subset of the three quantities' error
    columns (any spelling, own unit or none) read every value and error back as written."""
    n = data.draw(st.integers(3, 10))
    cols = {"I (mA)": 1e-3}
    for (label, unit, scale), name, on in zip((("f", "GHz", 1e9), ("P", "uW", 1e-6),
                                               ("linewidth", "MHz", 1e6)), names, which):
        cols[f"{label} ({unit})"] = scale
        if on:
            own = data.draw(st.booleans())
            cols[name.format(q=label) + (" (kHz)" if own and label != "P" else "")] = \
                1e3 if own and label != "P" else scale
    table = {c: data.draw(st.lists(_VALUES, min_size=n, max_size=n)) for c in cols}
    table["I (mA)"] = [0.5 * (k + 1) for k in range(n)]     # one curve: the axis rises
    path = tmp_path / "o.csv"
    path.write_text(",".join(cols) + "\n" + "".join(
        ",".join(repr(table[c][k]) for c in cols) + "\n" for k in range(n)))
    curve = load_oscillator(path)
    got = {curve.columns[a]: getattr(curve, a) for a in curve.columns}
    assert set(got) == set(cols)
    for c, scale in cols.items():
        assert got[c] == pytest.approx(np.array(table[c]) * scale, rel=1e-12), c
    for attr, on in zip(("freq_err_hz", "power_err_w", "linewidth_err_hz"), which):
        assert (getattr(curve, attr) is not None) == on
