"""``sweep`` and ``monte_carlo``: every point run, failures recorded per point (a factory
that raises, a simulation that fails), fail-fast as an option, labelled N-D results."""

from __future__ import annotations

import numpy as np
import pytest

from neurospice.errors import ArgumentError, ConvergenceError, NetlistError
from neurospice.netlists import Circuit, Pulse
from neurospice.simulators.sweep import monte_carlo, sweep
from neurospice.simulators.testing import simulator_param

pytest.importorskip("xarray")

SIMS = [simulator_param("ngspice"), simulator_param("vacask")]


def rc(r, c=1e-9, floating=0):
    """An RC step response; ``floating`` adds a current source into a capacitor-only node
    (no DC path: the operating point fails); r <= 0 is refused by Circuit."""
    k = Circuit(f"rc {r:g}")
    k.vsource("in", "a", 0, waveform=Pulse(0.0, 1.0, rise=1e-7, fall=1e-7, width=1.0))
    k.resistor("1", "a", "b", r)
    k.capacitor("1", "b", 0, c)
    if floating:
        k.isource("f", 0, "f", 1e-3)
        k.capacitor("f", "f", 0, 1e-9)
    k.tran(1e-7, 2e-5)
    return k


@pytest.mark.parametrize("name", SIMS)
def test_failing_points_are_recorded_and_every_other_point_kept(name):
    seen = []
    ds = sweep(rc, {"r": [1e3, -5.0, 2e3], "floating": [0, 1]}, simulator=name, workers=2,
               on_error=lambda point, exc: seen.append((point, type(exc))))
    assert ds.sizes["r"] == 3 and ds.sizes["floating"] == 2
    assert ds.status.values.tolist() == [["ok", "failed"], ["invalid", "invalid"],
                                         ["ok", "failed"]]
    assert ds.error_type.sel(r=-5.0, floating=0).item() == "NetlistError"
    assert "resistance must be > 0" in ds.error.sel(r=-5.0, floating=0).item()
    assert ds.error_type.sel(r=1e3, floating=1).item() == "ConvergenceError"
    assert "floating=1" in ds.error.sel(r=1e3, floating=1).item()
    assert sorted((p["r"], p["floating"], e.__name__) for p, e in seen) == [
        (-5.0, 0, "NetlistError"), (-5.0, 1, "NetlistError"), (1e3, 1, "ConvergenceError"),
        (2e3, 1, "ConvergenceError")]
    assert ds.attrs["n_failed"] == 4
    # the points that ran are those circuits' answers: v(b) at t = RC is 1 - 1/e
    for r in (1e3, 2e3):
        pt = ds.sel(r=r, floating=0)
        t, v = pt["time"].values, pt["v(b)"].values
        keep = ~np.isnan(t)
        assert np.interp(r * 1e-9 + 1e-7, t[keep], v[keep]) == pytest.approx(
            1 - np.exp(-1), abs=0.02)
        assert pt["v(b)"].attrs["units"] == "V"
    assert np.isnan(ds["v(b)"].sel(r=1e3, floating=1).values).all()


def test_fail_fast_raises_the_first_failure_with_the_point_named():
    with pytest.raises(NetlistError) as info:
        sweep(rc, {"r": [1e3, -5.0, 2e3]}, fail_fast=True, workers=1)
    assert any("r=-5" in n for n in info.value.__notes__)
    with pytest.raises(ConvergenceError) as info:
        sweep(rc, {"floating": [0, 1], "r": [1e3]}, fail_fast=True, workers=1)
    assert any("floating=1" in n for n in info.value.__notes__)


def test_a_shared_axis_is_a_coordinate():
    def lowpass(r):
        k = Circuit("lp")
        k.vsource("in", "a", 0, dc=0.0, ac=1.0)
        k.resistor("1", "a", "b", r)
        k.capacitor("1", "b", 0, 1e-9)
        k.ac(1e3, 1e7, 5)
        return k

    ds = sweep(lowpass, {"r": [1e3, 1e4]})
    assert ds.attrs["axis"] == "shared" and "frequency" in ds.coords
    assert np.iscomplexobj(ds["v(b)"].values)
    f = ds.frequency.values.real
    for r in (1e3, 1e4):
        gain = np.abs(ds["v(b)"].sel(r=r).values)
        np.testing.assert_allclose(gain, 1 / np.sqrt(1 + (2 * np.pi * f * r * 1e-9) ** 2),
                                   rtol=1e-3)


def test_monte_carlo_is_seeded_per_sample():
    draws = {"r": lambda rng: rng.uniform(1e3, 3e3), "c": lambda rng: rng.uniform(1e-9, 2e-9)}
    a = monte_carlo(rc, draws, 4, seed=7, workers=2)
    b = monte_carlo(rc, draws, 4, seed=7, workers=1)
    assert a.sizes["sample"] == 4 and (a.status == "ok").all()
    np.testing.assert_array_equal(a.r.values, b.r.values)
    assert len(set(a.r.values.tolist())) == 4 and a.attrs["seed"] == 7
    c = monte_carlo(rc, draws, 4, seed=8)
    assert not np.array_equal(a.r.values, c.r.values)
    for k in range(4):        # each sample simulated with its own draw: v(b)(RC) = 1 - 1/e
        s = a.isel(sample=k)
        tau = s.r.item() * s.c.item()
        keep = ~np.isnan(s["time"].values)
        assert np.interp(tau + 1e-7, s["time"].values[keep], s["v(b)"].values[keep]) == \
            pytest.approx(1 - np.exp(-1), abs=0.02)


@pytest.mark.parametrize("grid", [{}, {"r": []}, {"r": [1, 1]}, {"status": [1]},
                                  {"not a name": [1]}, {"r": "123"}])
def test_malformed_grids_are_refused_before_running(grid):
    with pytest.raises(ArgumentError):
        sweep(rc, grid)


def test_several_analyses_need_a_choice():
    def two(r):
        k = rc(r)
        k.op()
        return k

    with pytest.raises(ArgumentError, match="analysis="):
        sweep(two, {"r": [1e3]})
    ds = sweep(two, {"r": [1e3, 2e3]}, analysis="op")
    assert ds.attrs["axis"] == "none" and ds["v(a)"].dims == ("r",)
