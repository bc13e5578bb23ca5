"""Crossbars at their defaults across sizes: 1T1R and 2T2R reads within 5 % of their numpy
model (the weights' mapping onto the effective cell conductance, access device included), 8x8
to 64x64, with the error budget printed; the budget's terms add up and point at the cause.

The 5 % is the issue's bound. Measured (ngspice, default RRAM spread, analog inputs 0-0.1 V):
about 1 % RMS at 8x8 (the default 5.5 % device-to-device spread averaged over a column of
8 cells) falling to 0.5 % at 64x64; the worst column within 2 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.errors import NetlistError
from neurospice.circuits.crossbar import (Crossbar, binary_weights_2t2r, cell_currents,
                                          program)

BOUND = 0.05


def _read_1t1r(n, seed=0, **kw):
    gen = np.random.default_rng(seed + n)
    w = gen.uniform(-1, 1, (n, n))
    pr = program(w, "rram", cell="1T1R", seed=seed)             # defaults: the device's spread
    xb = Crossbar("rram", n, n, pr.cell_params, cell="1T1R", **kw)
    v = gen.uniform(0, 0.1, n)
    i = xb.read(v, timeout=600)
    return pr, xb, v, i, xb.error_budget(v, i, pr)


@pytest.mark.parametrize("n", [8, 16, pytest.param(64, marks=pytest.mark.slow)])
def test_1t1r_reads_within_5_percent_of_the_mapping(n):
    """The out-of-the-box 1T1R array (1 kOhm access device, default spread) reads within 5 %
    of the numpy W.x of its weights' mapping, every column (relative to the largest), and
    within 1e-2 of ``ideal()``; the budget's terms sum to the total and variability leads."""
    pr, xb, v, i, budget = _read_1t1r(n)
    print(f"\n1T1R {n}x{n} error budget\n{budget.table()}")
    assert budget.worst_column() < BOUND
    assert budget.relative()["total"] < BOUND
    ideal = xb.ideal(v)
    assert np.max(np.abs(i - ideal)) < 1e-2 * np.max(ideal)
    np.testing.assert_allclose(sum(budget.terms.values()), i - budget.mapped,
                               atol=1e-9 * np.max(ideal))
    rel = budget.relative()
    assert rel["variability"] > rel["access"] and rel["ir_drop"] < 1e-3


def test_a_bare_device_mapping_read_through_1t1r_is_refused_by_the_budget():
    """The issue's case, kept as a regression: weights mapped onto the bare device and read
    through the default access device fall far below the mapping (> 30 % on every column);
    the error budget refuses that mismatched mapping with a NetlistError naming both cells."""
    w = np.random.default_rng(8).uniform(-1, 1, (8, 8))
    bare = program(w, "rram", spread={})
    xb = Crossbar("rram", 8, 8, bare.cell_params, cell="1T1R")
    v = np.full(8, 0.1)
    i = xb.read(v)
    assert np.all(i < 0.7 * (v @ bare.g_target))
    with pytest.raises(NetlistError, match="mapped for a 1R cell"):
        xb.error_budget(v, i, bare)


@pytest.mark.parametrize("n", [8, pytest.param(64, marks=pytest.mark.slow)])
def test_2t2r_reads_within_5_percent_of_their_numpy_model(n):
    """2T2R with the default access device: the differential current I_BLb - I_BL of every
    column within 5 % (of the largest) of the numpy model's, all rows on; the budget has no
    IR drop and its total is the difference."""
    w = np.random.default_rng(n).choice([-1.0, 1.0], (n, n))
    xb = Crossbar("rram", n, n, binary_weights_2t2r(w), cell="2T2R")
    v = np.random.default_rng(n + 1).uniform(0.02, 0.1, n)
    i = xb.read(v, timeout=600)
    budget = xb.error_budget(v, i)
    print(f"\n2T2R {n}x{n} error budget\n{budget.table()}")
    d, d_ref = i[1::2] - i[0::2], budget.mapped[1::2] - budget.mapped[0::2]
    assert np.max(np.abs(d - d_ref)) < BOUND * np.max(np.abs(d_ref))
    assert np.array_equal(np.sign(d), np.sign(d_ref))


def test_cell_solve_against_a_closed_form():
    """The series solve against v / (1/G + R): an RRAM cell at 0.1 mV (ohmic there) with a
    2 kOhm series wire, and with a linear access device of 2 kOhm, within 1e-4; with the
    access device's full I-V at 1 V the current is held just below its compliance i_sat."""
    from neurospice.circuits.crossbar import read_conductance

    g = read_conductance("rram", {"gi": 0.2e-9}, 1e-4)          # near-ohmic at 0.1 mV
    i = cell_currents("rram", [1e-4], [{"gi": 0.2e-9}], r_series=2e3)[0]
    assert abs(i / (1e-4 / (1 / g + 2e3)) - 1) < 1e-4
    i = cell_currents("rram", [1e-4], [{"gi": 0.2e-9}], cell="1T1R", linear_access=True,
                      access={"g_on": 5e-4})[0]
    assert abs(i / (1e-4 / (1 / g + 2e3)) - 1) < 1e-4
    i = cell_currents("rram", [1.0], [{"gi": 0.2e-9}], cell="1T1R",
                      access={"i_sat": 1e-4})[0]
    assert 0.9e-4 < i < 1.0e-4
