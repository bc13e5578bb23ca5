"""The neural-ODE compact model (issue #18): exact gradients, the renderings, the STNO
acceptance case and `neurospice fit neural_ode`.

The STNO case trains a smaller network than the documented default (hidden (16, 16) tanh
instead of (100, 100), 400 steps) so that the test trains in well under a minute; the
acceptance bound is the issue's: NRMSE <= 0.1 on a held-out input sequence against the noisy
measurement, in numpy and in the ngspice and VACASK transients of the exported card.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurospice.calibration.recipes.neural_ode import (horizon_nrmse, rollout, train,
                                                       verification_circuit)
from neurospice.compact_models.neural_ode import NeuralODE, nrmse
from neurospice.compact_models.neural_ode.recordings import stno_recording
from neurospice.errors import DataError, NetlistError
from neurospice.simulators import get_simulator


def _have(name):
    return get_simulator(name).is_available()


needs_ngspice = pytest.mark.skipif(not _have("ngspice"), reason="ngspice not installed")
needs_vacask = pytest.mark.skipif(not _have("vacask"), reason="VACASK not installed")
needs_xyce = pytest.mark.skipif(not _have("xyce"), reason="Xyce not installed")


def _small(seed=1, linear=True, filters=()):
    m = NeuralODE.create(["u", "w"], "y", dt=1e-9, u_offset=[0.1, 0.0], u_scale=[0.5, 2.0],
                         y_offset=0.3, y_scale=0.2, embedding=2, delay=3, hidden=(6, 5),
                         seed=seed, linear=(-0.2 * np.eye(2), 0.1 * np.ones((2, 2)))
                         if linear else None, filters=filters)
    w, b = m.weights[-1]
    m.weights[-1] = (w * 100, b + 0.05)        # a flow that moves
    return m


@pytest.mark.parametrize("filters", [(), (3e-9, 2e-8)])
def test_gradient_is_exact_against_finite_differences(filters):
    """The discrete adjoint through a 6-step RK4 rollout equals central differences of the
    loss, for every weight and the initial state (relative 1e-6), with and without the
    output's low-pass states."""
    m = _small(filters=filters)
    rng = np.random.default_rng(0)
    n = m.n_states
    z0, un = rng.normal(size=(3, n)), rng.normal(size=(3, 7, 2))
    target = rng.normal(size=(3, 7, n))
    h = m.dt / m.time_scale

    def loss(theta, z):
        m.set_theta(theta)
        z_all, _ = rollout(m, z, un)
        return float(np.sum((z_all[:, 1:] - target[:, 1:]) ** 2))

    theta = m.get_theta()
    m.set_theta(theta)
    z_all, caches = rollout(m, z0, un, keep=True)
    gpred = 2 * (z_all[:, 1:] - target[:, 1:])
    grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in m.weights]
    g = np.zeros_like(z0)
    for i in range(5, -1, -1):
        g = m.rk4_backward(caches[i], g + gpred[:, i], h, grads)
    analytic = np.concatenate([np.concatenate([a.ravel(), b]) for a, b in grads])
    eps = 1e-6
    numeric = np.array([(loss(theta + e, z0) - loss(theta - e, z0)) / (2 * eps)
                        for e in np.eye(theta.size) * eps])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8 * np.abs(numeric).max())
    numeric_z = np.array([(loss(theta, z0 + e.reshape(z0.shape)) -
                           loss(theta, z0 - e.reshape(z0.shape))) / (2 * eps)
                          for e in np.eye(z0.size) * eps]).reshape(z0.shape)
    np.testing.assert_allclose(g, numeric_z, rtol=1e-6, atol=1e-9)


def test_model_round_trips_and_refuses_bad_descriptions():
    m = _small()
    back = NeuralODE.from_dict(json.loads(m.to_json()))
    u = np.column_stack([np.linspace(0, 1, 50), np.sin(np.linspace(0, 5, 50))])
    np.testing.assert_array_equal(back.simulate(u), m.simulate(u))
    mf = _small(filters=(2e-8,))
    back = NeuralODE.from_dict(json.loads(mf.to_json()))
    assert back.filters == (2e-8,)
    np.testing.assert_array_equal(back.simulate(u, f0=0.1), mf.simulate(u, f0=0.1))
    with pytest.raises(NetlistError, match="activation"):
        NeuralODE.from_dict({**m.to_dict(), "activation": "relu"})
    with pytest.raises(NetlistError, match="lacks"):
        NeuralODE.from_dict({"inputs": ["u"]})
    with pytest.raises(NetlistError, match="layer 0"):
        NeuralODE.from_dict({**m.to_dict(), "weights": [[[[1.0]], [0.0]]] * 3})
    with pytest.raises(NetlistError, match="ports must differ"):
        NeuralODE.create(["y"], "y", dt=1.0, u_offset=[0], u_scale=[1], y_offset=0,
                         y_scale=1, hidden=(2,))


def test_training_refuses_non_uniform_sampling():
    t = np.cumsum(np.r_[0, np.full(40, 1e-9), 3e-9, np.full(40, 1e-9)])
    with pytest.raises(DataError, match="not uniform"):
        train([(t, np.ones_like(t), np.sin(t * 1e8))], hidden=(4,), iterations=1)


@pytest.mark.parametrize("filters", [(), (3e-9, 2e-8)])
def test_device_numpy_rendering_reproduces_the_forward_model(filters):
    """The framework's numpy rendering (LSODA on the generated equations, inputs as PWL
    sources) reproduces NeuralODE.simulate (RK4, 8 substeps) within 1e-4 of the range, the
    low-pass states too."""
    m = _small(filters=filters)
    n = 120
    t = np.arange(n) * m.dt
    u = np.column_stack([0.3 * np.sin(t / 2e-8), np.where(t > 5e-8, 1.0, -1.0)])
    ref, z = m.simulate(u, y0=[0.35, 0.25], f0=0.5, substeps=8, states=True)
    stim = {"u": (t, u[:, 0]), "w": (t, u[:, 1])}
    tr = m.device.numpy.transient(t, stim, m.card([0.35, 0.25], 0.5), rtol=1e-10,
                                  atol=1e-12)
    y = m.y_offset + m.y_scale * tr.states["z1"]
    assert np.ptp(ref) > 0.05
    assert np.max(np.abs(y - ref)) < 1e-4 * np.ptp(ref)
    for j in range(len(filters)):
        assert np.max(np.abs(tr.states[f"f{j + 1}"] - z[:, 2 + j])) < 1e-4 * np.ptp(z[:, 0])


def test_ports_named_like_python_keywords_render_and_odd_names_are_refused():
    """Ports named like Python keywords (``in``, ``lambda``, ``yield``) are node names like
    any other: the numpy rendering (generated Python) runs and reproduces the forward model
    within 1e-4 of the range, and the Verilog-A text renders. A name the renderings would
    read as another (upper case: node names are case-insensitive) or that names a result
    vector (``time``) is refused when the model is made, naming it."""
    from dataclasses import replace

    plain = _small()
    m = replace(plain, inputs=("in", "lambda"), output="yield")
    m.__dict__.pop("device", None)
    n = 80
    t = np.arange(n) * m.dt
    u = np.column_stack([0.3 * np.sin(t / 2e-8), np.where(t > 4e-8, 1.0, -1.0)])
    ref = m.simulate(u, y0=[0.35, 0.25], substeps=8)
    tr = m.device.numpy.transient(t, {"in": (t, u[:, 0]), "lambda": (t, u[:, 1])},
                                  m.card([0.35, 0.25]), rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(m.y_offset + m.y_scale * tr.states["z1"] - ref)) < 1e-4 * np.ptp(ref)
    assert "yield" in m.device.verilog_a()
    for inputs, output, bad in ((("True", "w"), "y", "True"), (("u", "w"), "V", "V"),
                                (("u", "time"), "y", "time")):
        with pytest.raises(NetlistError, match=f"'{bad}'"):
            replace(plain, inputs=inputs, output=output)


def test_low_pass_states_follow_the_measured_output():
    """measured_states' filters are the exact low-pass of the piecewise-linear output
    (against the model's own RK4 integration of df/dt = (z_0 - f) / tau), from rest."""
    from neurospice.compact_models.neural_ode import low_pass, measured_states

    m = _small(filters=(5e-9, 4e-8))
    t = np.arange(300) * m.dt
    y = 0.3 + 0.2 * np.sin(t / 7e-9) * (t > 2e-8)
    z = measured_states(m, y)
    assert z.shape == (300, 4)
    np.testing.assert_allclose(z[:, 0], (y - 0.3) / 0.2)
    for j, tau in enumerate(m.filters):
        f = np.empty(300)
        f[0] = z[0, 0]
        h = m.dt / 20
        for i in range(299):                     # RK4, 20 steps a sample, the input linear
            x = f[i]
            for s in range(20):
                a0 = z[i, 0] + (z[i + 1, 0] - z[i, 0]) * s / 20
                a1 = z[i, 0] + (z[i + 1, 0] - z[i, 0]) * (s + 1) / 20
                am = 0.5 * (a0 + a1)
                k1 = (a0 - x) / tau
                k2 = (am - x - 0.5 * h * k1) / tau
                k3 = (am - x - 0.5 * h * k2) / tau
                k4 = (a1 - x - h * k3) / tau
                x += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            f[i + 1] = x
        np.testing.assert_allclose(z[:, 2 + j], f, atol=1e-9)
    assert np.ptp(z[:, 3]) < 0.5 * np.ptp(z[:, 2])      # the slower one moves less
    np.testing.assert_array_equal(low_pass([2.0], 1e-9, 1e-9), [2.0])
    with pytest.raises(NetlistError, match="filter"):
        _small(filters=(-1e-9,))


@pytest.mark.parametrize("sim,rendering", [
    pytest.param("ngspice", "osdi", marks=needs_ngspice),
    pytest.param("ngspice", "subckt", marks=needs_ngspice),
    pytest.param("vacask", "osdi", marks=needs_vacask),
    pytest.param("xyce", "subckt", marks=needs_xyce),
])
def test_card_with_filters_reproduces_numpy(sim, rendering):
    """A card with low-pass states started away from the output (f0) in a simulator
    transient against the numpy forward model: within 1e-4 of the output's range."""
    m = _small(filters=(3e-9, 2e-8))
    n = 150
    t = np.arange(n) * m.dt
    u = np.column_stack([0.3 * np.sin(t / 2e-8), np.where(t > 5e-8, 1.0, -1.0)])
    ref = m.simulate(u, y0=[0.35, 0.25], f0=[0.5, 0.1], substeps=8)
    out = get_simulator(sim).run(verification_circuit(m, t, u, y0=[0.35, 0.25], f0=[0.5, 0.1],
                                                      rendering=rendering)).tran
    got = np.interp(t, out.axis, out.v(m.output))
    assert np.ptp(ref) > 0.05
    assert np.max(np.abs(got - ref)) < 1e-4 * np.ptp(ref)


# --------------------------------------------------------------------------- STNO acceptance
@pytest.fixture(scope="module")
def stno():
    """A 400 ns recording to train on and a 150 ns held-out one (another input sequence)."""
    train_rec = stno_recording(4000, seed=0)
    test_rec = stno_recording(1500, seed=7)
    res = train([(train_rec.time, train_rec.inputs, train_rec.output)], hidden=(16, 16),
                window=40, batch=32, iterations=400, seed=0)
    return res, test_rec


def test_stno_learned_model_predicts_held_out_inputs(stno):
    res, rec = stno
    pred = res.model.simulate(rec.inputs, y0=rec.output[0])
    assert res.best_nrmse < 0.1
    assert nrmse(pred, rec.output) <= 0.1
    assert nrmse(pred, rec.truth) <= 0.1
    # it learned the dynamics, not the mean: a constant prediction scores about 1
    assert nrmse(np.full_like(pred, pred.mean()), rec.output) > 0.9
    ht, hn = horizon_nrmse(res.model, rec.time, rec.inputs, rec.output, horizon=200)
    assert hn[0] < 0.1 and np.max(hn) <= 0.15 and ht[-1] == pytest.approx(200 * rec.time[1])


@pytest.mark.parametrize("sim,rendering,n,tol", [
    pytest.param("ngspice", "osdi", 1500, 1e-4, marks=needs_ngspice),
    pytest.param("ngspice", "subckt", 300, 1e-4, marks=needs_ngspice),
    pytest.param("vacask", "osdi", 1500, 1e-4, marks=needs_vacask),
    pytest.param("xyce", "subckt", 300, 1e-4, marks=needs_xyce),
])
def test_stno_exported_card_reproduces_numpy(stno, sim, rendering, n, tol):
    """The learned card in a simulator transient against the numpy forward model on the
    held-out inputs (the subcircuit, 16+16 B-sources, on a shorter stretch), within 1e-4 of
    the range in every simulator. The inputs are PWL sources through their corners only, and
    VACASK limits its step to 1 % of the distance between corners: with its default (a
    quarter) it stepped over the sample where an input changes at a tenth of the sampling
    and erred by 2.2e-4 there."""
    res, rec = stno
    m = res.model
    u, t = rec.inputs[:n], rec.time[:n]
    ref = m.simulate(u, y0=rec.output[0], substeps=8)
    out = get_simulator(sim).run(verification_circuit(m, t, u, y0=rec.output[0],
                                                      rendering=rendering)).tran
    got = np.interp(t, out.axis, out.v(m.output))
    assert np.max(np.abs(got - ref)) < tol * np.ptp(ref)
    if n == len(rec.time):
        assert nrmse(got, rec.output) <= 0.1


def test_neural_ode_recipe_end_to_end(tmp_path):
    """`neurospice fit neural_ode DATA` writes the JSON (with the model), the cards of every
    dialect with the learned weights, the report and both plots; the JSON reads back into
    the same model, the ngspice verification runs, and a second run refuses the folder."""
    from neurospice.cli import main

    rec = stno_recording(600, seed=3)
    data = tmp_path / "stno.csv"
    rows = "\n".join(f"{float(t)!r},{float(i)!r},{float(v)!r}" for t, i, v in
                     zip(rec.time, rec.inputs[:, 0], rec.output))
    data.write_text("time (s),current (A),voltage (V)\n" + rows + "\n")
    out = tmp_path / "fit"
    args = ["fit", "neural_ode", str(data), "--hidden", "6", "--iterations", "60",
            "--window", "20", "--out", str(out), "--quiet"]
    assert main(args + (["--verify-in", ""] if not _have("ngspice") else [])) == 0
    names = {p.name for p in out.iterdir()}
    assert {"neural_ode.json", "neural_ode.va", "neural_ode.ngspice.lib", "neural_ode.xyce.lib",
            "neural_ode.vacask.inc", "report.md", "heldout.png", "nrmse_horizon.png"} <= names
    model = NeuralODE.load(out / "neural_ode.json")
    assert model.hidden == (6,) and model.dt == pytest.approx(1e-10)
    assert model.device.verilog_a() == (out / "neural_ode.va").read_text()
    report = (out / "report.md").read_text()
    assert "## Training" in report and "## Held-out prediction" in report
    if _have("ngspice"):
        saved = json.loads((out / "neural_ode.json").read_text())
        assert saved["verification"][0]["passed"] is True
    assert main(args + ["--verify-in", ""]) != 0        # refused: the folder holds files


@pytest.mark.slow
def test_stno_reservoir_forecasts_mackey_glass_like_the_physics(stno):
    """The forecasting task of the source work: a Mackey-Glass series (300 samples, each
    holding the drive current for 0.8 ns) through the learned STNO and through the STNO
    physics it was learned from; a ridge readout over delayed output samples predicts the
    series 1 to 20 samples ahead. The two reservoirs' NRMSE agree within 10 % at every
    horizon, and the reservoir does forecast (short horizons well below 1, the error growing
    with the horizon)."""
    from neurospice.compact_models.neural_ode.recordings import STNO_LEVELS, stno_amplitude
    from neurospice.compact_models.neural_ode.reservoir import compare_reservoirs, mackey_glass

    res, _ = stno
    series = mackey_glass(300)
    assert 0.3 < series.min() < series.max() < 1.5          # the chaotic attractor's range
    cmp = compare_reservoirs(res.model, lambda cur: stno_amplitude(cur, res.model.dt), series,
                             low=STNO_LEVELS[0], high=STNO_LEVELS[1], hold=8,
                             horizons=[1, 2, 5, 10, 15, 20])
    assert np.all(cmp.relative_difference <= 0.1), (cmp.learned, cmp.physics)
    assert cmp.physics[0] < 0.3 and cmp.physics[-1] > 2 * cmp.physics[0]
