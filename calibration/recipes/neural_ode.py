"""The data-driven recipe: ``neural_ode``, a neural ODE learned from transient recordings.

:func:`train` fits a :class:`~neurospice.compact_models.neural_ode.NeuralODE` to one or
several recordings (time, inputs, output): every recording is split by time into a training
part and a validation part (its last ``validation`` fraction); training draws mini-batches of
short windows from the training parts, integrates each window with fixed-step RK4 at the
data's sampling (the inputs piecewise linear between samples) from the measured delay
embedding, and takes the exact gradient of the mean squared error of the embedded output by
back-propagation through the RK4 steps (the discrete adjoint, hand-written in numpy: no
autodiff library). Adam updates the weights (global gradient norm clipped at 10); every
``eval_every`` steps the model runs free over the validation parts (from the measured
embedding at the start of each ``horizon``-sample stretch) and the weights with the lowest
validation NRMSE (RMS error / standard deviation of the measured output) are kept; training
stops after ``patience`` evaluations without improvement, at ``iterations`` or at
``time_limit`` seconds. Everything is seeded.

:func:`fit_neural_ode` is the recipe's run: transients from :func:`~..data.load_transient`
(``--input current|voltage`` and ``--output voltage|current`` choose the columns), the model
card (the initial embedding; the weights are constants of the rendered card, and the whole
model is ``extra.model`` of the JSON: :meth:`NeuralODE.load` reads it back), the report (the
training history, NRMSE against prediction horizon on the validation data) and the plots
(prediction against measurement on held-out windows, NRMSE against horizon). ``neurospice
fit neural_ode DATA... [--hidden 32,32] [--embedding 2 --delay 5] ...``.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from neurospice.errors import CalibrationError, DataError

from .base import CardCheck, Calibration, Option, Recipe, as_list, verify_card

__all__ = ["train", "TrainResult", "train_two_terminal", "TwoTerminalResult",
           "train_thermal_switch", "ThermalSwitchResult", "THERMAL_START",
           "train_switch_correction", "SwitchCorrectionResult", "transient_samples",
           "horizon_nrmse", "rollout", "fit_neural_ode", "pwl_corners", "verification_circuit",
           "load_recordings", "NEURAL_ODE", "REGISTERED"]

UNIFORM_TOLERANCE = 1e-3     # relative spread of the sampling step accepted as uniform


@dataclass
class TrainResult:
    """What :func:`train` returns: the model (best validation weights), the history
    (iteration, training loss, validation NRMSE per evaluation), the best validation NRMSE,
    the wall time (s) and why training stopped."""

    model: object
    history: list = field(default_factory=list)
    best_nrmse: float = math.inf
    seconds: float = 0.0
    stopped: str = ""
    iterations: int = 0


def _check_series(time_s, inputs, output, where: str):
    t = np.asarray(time_s, float)
    u = np.asarray(inputs, float)
    y = np.asarray(output, float)
    if u.ndim == 1:
        u = u[:, None]
    if t.ndim != 1 or len(t) < 10 or u.shape[0] != len(t) or y.shape != t.shape:
        raise DataError(f"{where}: time, inputs and output must be equally long series of "
                        "10 samples at least")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(u)) and np.all(np.isfinite(y))):
        raise DataError(f"{where}: non-finite values")
    steps = np.diff(t)
    dt = float(np.median(steps))
    if not dt > 0 or np.max(np.abs(steps - dt)) > UNIFORM_TOLERANCE * dt:
        raise DataError(f"{where}: the sampling is not uniform (steps from {steps.min():.4g} "
                        f"to {steps.max():.4g} s); resample the recording onto a uniform grid")
    return dt, u, y


def _checked_recordings(recordings, what: str = "(time, v, i)") -> list[tuple]:
    """Each recording ``(time, inputs, output)`` as :func:`_check_series` gives it, ``(dt,
    inputs (n, m), output)``; a recording of another shape, or recordings sampled at
    different steps, are a DataError naming them."""
    recs = []
    for k, rec in enumerate(as_list(recordings)):
        if len(rec) != 3:
            raise DataError(f"recording {k + 1}: expected {what}")
        recs.append(_check_series(*rec, where=f"recording {k + 1}"))
    dts = [r[0] for r in recs]
    if max(dts) - min(dts) > UNIFORM_TOLERANCE * min(dts):
        raise DataError(f"the recordings have different sampling steps {sorted(set(dts))}")
    return recs


def _checked_settings(validation: float, **positive: float) -> None:
    """A CalibrationError unless ``validation`` is a fraction in (0, 1) and each of
    ``positive`` a finite positive number (named in the message)."""
    if not 0 < validation < 1:
        raise CalibrationError(f"validation must be a fraction in (0, 1), got {validation}")
    for what, x in positive.items():
        if not (math.isfinite(x) and x > 0):
            raise CalibrationError(f"{what} must be positive, got {x!r}")


def rollout(model, z0: np.ndarray, un: np.ndarray, *, keep: bool = False):
    """Integrate windows at once: ``z0`` (B, k) normalised embeddings, ``un`` (B, L+1, m)
    normalised inputs at the samples; one RK4 step per sample. Returns Z (B, L+1, k) and,
    with ``keep``, the caches for the backward pass."""
    h = model.dt / model.time_scale
    n = un.shape[1]
    z = z0
    out = [z]
    caches = []
    for i in range(n - 1):
        z, c = model.rk4_step(z, un[:, i], 0.5 * (un[:, i] + un[:, i + 1]), un[:, i + 1], h)
        out.append(z)
        if keep:
            caches.append(c)
    return np.stack(out, axis=1), caches


def _windows(series, starts, length):
    """(Z0, UN, Ztarget) for windows of ``length`` steps at ``starts`` of one series."""
    z_emb, un = series
    idx = np.asarray(starts)[:, None] + np.arange(length + 1)[None, :]
    return z_emb[idx[:, 0]], un[idx], z_emb[idx]


def horizon_nrmse(model, time_s, inputs, output, *, horizon: int, starts: int = 40):
    """NRMSE of the free-running prediction against the prediction horizon: the model starts
    from the measured embedding at ``starts`` evenly spaced points and runs ``horizon``
    samples; returns (horizon times in s, NRMSE at each, normalised by the measured output's
    standard deviation)."""
    from neurospice.compact_models.neural_ode import measured_states

    _, u, y = _check_series(time_s, inputs, output, "horizon_nrmse")
    z_emb = measured_states(model, y)
    un = model.normalise_inputs(u)
    first = (model.embedding - 1) * model.delay
    last = len(y) - horizon - 1
    if last <= first:
        raise DataError(f"horizon_nrmse: {len(y)} samples are too few for a horizon of "
                        f"{horizon}")
    st = np.unique(np.linspace(first, last, starts).astype(int))
    z0, uw, zt = _windows((z_emb, un), st, horizon)
    pred, _ = rollout(model, z0, uw)
    err = (pred[:, :, 0] - zt[:, :, 0]) * model.y_scale
    nr = np.sqrt(np.mean(err ** 2, axis=0)) / float(np.std(y))
    return np.arange(horizon + 1) * model.dt, nr


def train(recordings, *, inputs: Sequence[str] = ("u",), output: str = "y",
          embedding: int = 1, delay: int = 1, hidden: Sequence[int] = (100, 100),
          activation: str = "tanh", time_scale: float | None = None, linear=None,
          window: int = 40, batch: int = 32, lr: float = 3e-3, iterations: int = 3000,
          validation: float = 0.25, horizon: int = 400, eval_every: int = 50,
          patience: int = 10, time_limit: float | None = None, focus: float = 0.0,
          score=None, output_scaling=None, lr_final: float | None = None, seed: int = 0,
          units=None, filters: Sequence[float] = (),
          name: str = "neural_ode", progress: bool = False) -> TrainResult:
    """Learn a neural ODE from ``recordings``: a list of ``(time_s, inputs, output)``
    (inputs (n,) or (n, m), SI, uniformly sampled, the same step everywhere). See the module
    docstring for the procedure; the architecture arguments are
    :meth:`NeuralODE.create`'s, except that ``linear`` may also be a function of the model
    (its scaling set from the training data) returning ``(A, B, c)``: the known part and a
    constant added to the last layer's bias, e.g.
    :func:`~neurospice.compact_models.neural_ode.rc_charging`. Returns a
    :class:`TrainResult`. ``focus``: the fraction of each mini-batch's windows drawn to
    hold one of the fastest 2 % of the output's changes (a spike, a switching edge), which
    uniform windows visit rarely; 0 draws them all uniformly. ``score``: a function of the
    model to judge the weights by instead of the validation NRMSE (lower is better; e.g.
    spike-time errors, which NRMSE ranks below a flat line). ``output_scaling``: the
    output's ``(offset, scale)`` (SI) instead of its mean and standard deviation, to give
    the network resolution where the dynamics are sharp (a switching threshold).
    ``lr_final``: the learning rate decays exponentially from ``lr`` to this at
    ``iterations`` (default: constant). ``filters``: time constants (s) of low-pass states
    of the output given to the network (:class:`NeuralODE`); each window starts from their
    values along the measured output and the loss is on the embedding only."""
    from neurospice.compact_models.neural_ode import NeuralODE, measured_states

    _checked_settings(validation, **({} if lr_final is None else {"lr_final": lr_final}))
    if window < 1 or batch < 1 or iterations < 1 or horizon < 1 or eval_every < 1:
        raise CalibrationError("window, batch, iterations, horizon and eval_every must be >= 1")
    recs = _checked_recordings(recordings, "(time, inputs, output)")
    dt = recs[0][0]
    m = recs[0][1].shape[1]
    if any(r[1].shape[1] != m for r in recs) or len(inputs) != m:
        raise DataError(f"every recording needs {len(inputs)} input column(s) {list(inputs)}")
    lead = (embedding - 1) * delay
    train_parts, val_parts = [], []
    for k, (_, u, y) in enumerate(recs):
        cut = int(round(len(y) * (1 - validation)))
        if cut - lead < window + 2 or len(y) - cut < 12:
            raise DataError(f"recording {k + 1}: {len(y)} samples are too few for windows of "
                            f"{window} after an embedding of {lead + 1} samples and a "
                            f"{validation:.0%} validation part")
        train_parts.append((u[:cut], y[:cut]))
        val_parts.append((u[cut - lead:], y[cut - lead:]))
    # the filters are low-passes from the start of each recording: the validation parts'
    # states come from the whole recording
    whole = [y for _, _, y in recs]
    u_all = np.concatenate([p[0] for p in train_parts])
    y_all = np.concatenate([p[1] for p in train_parts])
    u_sd = np.std(u_all, axis=0)
    u_sd = np.where(u_sd > 0, u_sd, np.maximum(np.abs(np.mean(u_all, axis=0)), 1.0))
    y_sd = float(np.std(y_all)) or 1.0
    y_mean = float(np.mean(y_all))
    if output_scaling is not None:
        y_mean, y_sd = (float(x) for x in output_scaling)
        if not (math.isfinite(y_mean) and math.isfinite(y_sd) and y_sd > 0):
            raise CalibrationError(f"output_scaling must be (offset, scale > 0), got "
                                   f"{output_scaling!r}")
    model = NeuralODE.create(inputs, output, dt=dt, u_offset=np.mean(u_all, axis=0),
                             u_scale=u_sd, y_offset=y_mean, y_scale=y_sd,
                             embedding=embedding, delay=delay, hidden=hidden,
                             activation=activation, time_scale=time_scale,
                             linear=None if callable(linear) else linear,
                             seed=seed, units=units, name=name, filters=filters)
    if callable(linear):            # known physics stated in SI: scaled to this model
        a, b, c = linear(model)
        w_last, b_last = model.weights[-1]
        model = replace(model, linear=(a, b), weights=[*model.weights[:-1],
                                                       (w_last, b_last + np.asarray(c))])

    def prepared(parts):
        return [(measured_states(model, y), model.normalise_inputs(u)) for u, y in parts]

    tr = prepared(train_parts)
    va = [(measured_states(model, y)[len(y) - len(yv):], model.normalise_inputs(uv))
          for y, (uv, yv) in zip(whole, val_parts)]
    val_y = [y for _, y in val_parts]
    val_sd = float(np.std(np.concatenate([y[lead:] for y in val_y]))) or 1.0
    rng = np.random.default_rng(seed)
    h = dt / model.time_scale

    def validate() -> float:
        sq, count = 0.0, 0
        for (z_emb, un), y in zip(va, val_y):
            n = len(y)
            starts = np.arange(lead, n - 1, horizon)
            length = min(horizon, n - 1 - lead)
            starts = starts[starts + length < n]
            z0, uw, _ = _windows((z_emb, un), starts, length)
            pred, _ = rollout(model, z0, uw)
            yp = model.y_offset + model.y_scale * pred[:, :, 0]
            idx = starts[:, None] + np.arange(length + 1)[None, :]
            sq += float(np.sum((yp[:, 1:] - y[idx][:, 1:]) ** 2))
            count += yp[:, 1:].size
        val = math.sqrt(sq / count) / val_sd
        return val if math.isfinite(val) else math.inf

    theta = model.get_theta()
    m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    check = validate if score is None else (lambda: float(score(model)))
    best, best_theta, waited = check(), theta.copy(), 0
    result = TrainResult(model, [(0, None, best)], best)
    t0 = _time.perf_counter()
    weights_per = [len(p[1]) - lead - window - 1 for p in tr]
    events = []                     # the fastest 2 % of changes of each training part
    for _, y in train_parts:
        rate = np.abs(np.diff(y))
        events.append(np.flatnonzero(rate >= np.quantile(rate, 0.98)))
    probs = np.asarray(weights_per, float) / sum(weights_per)
    stopped = "iterations"
    it = 0
    for it in range(1, iterations + 1):
        which = rng.choice(len(tr), size=batch, p=probs)
        z0s, uws, zts = [], [], []
        for r in np.unique(which):
            nb = int(np.sum(which == r))
            starts = rng.integers(lead, lead + weights_per[r] + 1, size=nb)
            if focus > 0 and len(events[r]):
                hot = rng.random(nb) < focus
                e = rng.choice(events[r], size=int(hot.sum()))
                starts[hot] = np.clip(e - rng.integers(0, window, size=len(e)), lead,
                                      lead + weights_per[r])
            z0, uw, zt = _windows(tr[r], starts, window)
            z0s.append(z0), uws.append(uw), zts.append(zt)
        z0, uw, zt = np.concatenate(z0s), np.concatenate(uws), np.concatenate(zts)
        pred, caches = rollout(model, z0, uw, keep=True)
        diff = pred[:, 1:, :embedding] - zt[:, 1:, :embedding]
        loss = float(np.mean(diff ** 2))
        if not math.isfinite(loss):
            stopped = "diverged (non-finite loss): best weights kept"
            break
        gpred = np.zeros_like(pred[:, 1:])
        gpred[:, :, :embedding] = 2.0 * diff / diff.size
        grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in model.weights]
        g = np.zeros_like(z0)
        for i in range(window - 1, -1, -1):
            g = model.rk4_backward(caches[i], g + gpred[:, i], h, grads)
        grad = np.concatenate([np.concatenate([gw.ravel(), gb]) for gw, gb in grads])
        norm = float(np.linalg.norm(grad))
        if norm > 10.0:
            grad *= 10.0 / norm
        m1 = b1 * m1 + (1 - b1) * grad
        m2 = b2 * m2 + (1 - b2) * grad * grad
        rate = lr if lr_final is None else lr * (lr_final / lr) ** ((it - 1) / iterations)
        theta = theta - rate * (m1 / (1 - b1 ** it)) / (np.sqrt(m2 / (1 - b2 ** it)) + eps)
        model.set_theta(theta)
        if it % eval_every == 0 or it == iterations:
            val = check()
            result.history.append((it, loss, val))
            if progress:
                print(f"\rneural_ode: step {it}, loss {loss:.3e}, validation NRMSE "
                      f"{val:.4f} (best {min(best, val):.4f})", end="", flush=True)
            if val < best:
                best, best_theta, waited = val, theta.copy(), 0
            else:
                waited += 1
                if waited >= patience:
                    stopped = f"early stopping: no better validation NRMSE in {patience} checks"
                    break
            if time_limit is not None and _time.perf_counter() - t0 > time_limit:
                stopped = f"time limit of {time_limit:g} s"
                break
    if progress:
        print()
    model.set_theta(best_theta)
    result.best_nrmse, result.seconds, result.stopped = best, _time.perf_counter() - t0, stopped
    result.iterations = it
    return result


@dataclass
class TwoTerminalResult:
    """What :func:`train_two_terminal` returns: the device, the median absolute residual of
    the measured voltage on the training and validation samples (V), the samples left out
    as switching transients, the optimiser's steps and message and the wall time (s)."""

    model: object
    train_residual: float = math.inf
    validation_residual: float = math.inf
    excluded: int = 0
    iterations: int = 0
    stopped: str = ""
    seconds: float = 0.0


def _glorot(sizes: Sequence[int], seed: int):
    """A perceptron's seeded Glorot-uniform start for layer widths ``sizes`` (inputs first):
    (the flat parameter vector, the shapes for :func:`_unpack`)."""
    rng = np.random.default_rng(seed)
    theta, shapes = [], []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lim = math.sqrt(6.0 / (a + b))
        theta += [rng.uniform(-lim, lim, (b, a)).ravel(), np.zeros(b)]
        shapes += [(b, a), (b,)]
    return np.concatenate(theta), shapes


def _unpack(theta: np.ndarray, shapes) -> list:
    """The ``[(W, b), ...]`` of a flat parameter vector (:func:`_glorot`'s shapes)."""
    out, k = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append(theta[k:k + n].reshape(shape))
        k += n
    return [(out[j], out[j + 1]) for j in range(0, len(out), 2)]


def _flat(pairs) -> np.ndarray:
    return np.concatenate([np.concatenate([a.ravel(), b]) for a, b in pairs])


def transient_samples(x: np.ndarray, rise: float, fall: float) -> np.ndarray:
    """The samples of a current state ``x = asinh(i / i_scale)`` caught off the device's
    static curve: before a rise of more than ``rise`` in one sample (the device running
    away at a threshold) and after a fall of more than ``fall`` (mid-way back to the low
    branch). Returns a boolean mask."""
    d = np.diff(np.asarray(x, float))
    out = np.zeros(len(x), bool)
    out[:-1] |= d > rise
    out[1:] |= -d > fall
    return out


def train_two_terminal(recordings, *, i_scale: float, heating: Sequence[float] = (),
                       relax: float = 1e-10, hidden: Sequence[int] = (32, 32),
                       activation: str = "tanh", validation: float = 0.25,
                       robust: float = 0.01, rise: float = 0.2, fall: float = 0.7,
                       balance: float = 0.5, bins: int = 20, iterations: int = 2000,
                       seed: int = 0, name: str = "learned_switch") -> TwoTerminalResult:
    """Learn a :class:`~neurospice.compact_models.neural_ode.two_terminal.NeuralTwoTerminal`
    from ``recordings``: a list of ``(time_s, v, i)`` (the device's voltage and current,
    SI, uniformly sampled at one step), each from rest. The states are computed from the
    measurement (:meth:`NeuralTwoTerminal.features`) and the network is fitted to the
    measured voltage (a regression: the curve ``v = V(x, s)``):

    - the switching transients are left out (:func:`transient_samples`, ``rise`` and
      ``fall`` in units of ``x``);
    - every recording's last ``validation`` fraction is held out;
    - the loss is robust, ``robust^2 ln(1 + (r / robust)^2)`` of each residual ``r`` (V), so
      that a sample the rules let through mid-switch does not pull the curve, and each
      sample is weighted by ``1 / count^balance`` of the samples in its band of ``x``
      (``bins`` bands), so that the few samples of a fast branch (a spike's discharge)
      count beside the many of the slow one;
    - the weights (seeded Glorot start) are found by L-BFGS with exact gradients
      (``iterations`` steps at most).
    """
    from scipy.optimize import minimize

    from neurospice.compact_models.neural_ode import mlp_backward, mlp_forward
    from neurospice.compact_models.neural_ode.two_terminal import NeuralTwoTerminal

    _checked_settings(validation, i_scale=i_scale, relax=relax, robust=robust, rise=rise,
                      fall=fall)
    if iterations < 1 or bins < 1:
        raise CalibrationError("iterations and bins must be >= 1")
    t0 = _time.perf_counter()
    recs = [(dt, v[:, 0], i) for dt, v, i in _checked_recordings(recordings)]
    n_in = 1 + 2 * len(heating)
    proto = NeuralTwoTerminal(i_scale, relax, tuple(heating), 0.0, 1.0, np.zeros(n_in),
                              np.ones(n_in), [(np.zeros((1, n_in)), np.zeros(1))], activation,
                              name)
    feats, volts, part = [], [], []
    for dt, v, i in recs:
        f = proto.features(v, i, dt)
        keep = ~transient_samples(f[:, 0], rise, fall)
        cut = int(round(len(v) * (1 - validation)))
        held = np.arange(len(v)) >= cut
        feats.append(f[keep]), volts.append(v[keep]), part.append(held[keep])
    f_all, v_all, held = np.concatenate(feats), np.concatenate(volts), np.concatenate(part)
    excluded = sum(len(r[1]) for r in recs) - len(v_all)
    if np.sum(~held) < 10 * n_in or np.sum(held) < 10:
        raise DataError("too few samples on the device's curve to train on")
    in_off, in_sc = f_all[~held].mean(axis=0), f_all[~held].std(axis=0)
    in_sc = np.where(in_sc > 0, in_sc, 1.0)
    v_off, v_sc = float(v_all[~held].mean()), float(v_all[~held].std()) or 1.0
    X, Y = (f_all - in_off) / in_sc, (v_all - v_off) / v_sc

    def weights_of(x):
        edges = np.linspace(x.min(), x.max(), bins + 1)
        band = np.clip(np.digitize(x, edges) - 1, 0, bins - 1)
        w = 1.0 / np.bincount(band, minlength=bins)[band] ** balance
        return w / w.sum()

    Xt, Yt, Wt = X[~held], Y[~held], weights_of(f_all[~held, 0])
    theta0, shapes = _glorot([n_in, *hidden, 1], seed)
    c2 = (robust / v_sc) ** 2

    def loss(theta):
        w = _unpack(theta, shapes)
        pred, acts = mlp_forward(w, Xt, activation)
        r = pred[:, 0] - Yt
        grads = [(np.zeros_like(a), np.zeros_like(b)) for a, b in w]
        mlp_backward(w, acts, (2.0 * r / (1.0 + r * r / c2) * Wt)[:, None], activation, grads)
        return float(np.sum(Wt * c2 * np.log1p(r * r / c2))), _flat(grads)

    res = minimize(loss, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": iterations, "maxfun": 2 * iterations})
    model = NeuralTwoTerminal(i_scale, relax, tuple(heating), v_off, v_sc, in_off, in_sc,
                              _unpack(res.x, shapes), activation, name)
    resid = np.abs(model.curve(f_all) - v_all)
    return TwoTerminalResult(model, float(np.median(resid[~held])),
                             float(np.median(resid[held])), int(excluded), int(res.nit),
                             str(res.message), _time.perf_counter() - t0)


@dataclass
class ThermalSwitchResult:
    """What :func:`train_thermal_switch` returns: ``card``, the fitted parameters of the
    ``nbox`` device (the values the fit leaves at the device's defaults are not in it);
    the median absolute residual of the measured current over its noise scale on the
    training and validation samples; the samples left out as switching transients; the
    device's thermal time ``tau_th`` (s) the regression gave and, when a ``score`` chose
    it, the ``scores`` of the grid ``[(tau_th, score), ...]``; the least-squares message
    and the wall time (s)."""

    card: dict
    train_residual: float = math.inf
    validation_residual: float = math.inf
    excluded: int = 0
    regression_tau_th: float = math.nan
    scores: list = field(default_factory=list)
    stopped: str = ""
    seconds: float = 0.0


#: The start of :func:`train_thermal_switch`'s fit: generic values of a thermal threshold
#: switch (not the ``nbox`` device's defaults): g_ref (S), ea (eV), eps_r, r_c (ohm), r_th
#: (K/W), r_env (K/W) and the time constants tau_env = r_env c_env and tau_th = r_th c_th (s).
THERMAL_START = dict(g_ref=1e-6, ea=0.2, eps_r=400.0, r_c=100.0, r_th=3e5, r_env=1e5,
                     tau_env=2e-6, tau_th=0.3e-9)
_THERMAL_LOG = ("g_ref", "eps_r", "r_c", "r_th", "r_env", "tau_env", "tau_th")


def train_thermal_switch(recordings, *, t_amb: float = 300.0, start=None,
                         i_scale: float = 5e-6, rise: float = 0.2, fall: float = 0.7,
                         current_noise: float = 0.2e-6, relative: float = 0.01,
                         robust: float = 3.0, validation: float = 0.25, score=None,
                         tau_grid: Sequence[float] = (0.3e-9, 3e-9, 21),
                         refine: int = 13) -> ThermalSwitchResult:
    """Fit the ``nbox`` device (:mod:`neurospice.compact_models.nbox`: Poole-Frenkel and
    Arrhenius conduction heated by its own Joule power, a device temperature ``T`` with
    the thermal time ``tau_th = r_th c_th`` and a slow surroundings' temperature ``Ts``,
    a contact resistance) to a thermal threshold switch's voltage and current waveforms: a
    grey-box model, the functional form known and ``g_ref``, ``ea``, ``eps_r``, ``r_c``,
    ``r_th``, ``r_env``, ``c_env`` and ``c_th`` fitted (``d_ox`` stays at its default: the
    barrier lowering depends on ``eps_r d_ox`` only; the stage temperature ``t_amb`` and
    ``t_ref`` are ``t_amb``, known). ``recordings``: a list of ``(time_s, v, i)`` (SI,
    uniformly sampled at one step), each from rest.

    The temperatures are functions of the measurement: with the oxide power ``P = (v - r_c
    i) i`` measured, the thermal equations are linear, ``T - Ts = r_th LP(P, tau_th)`` and
    ``Ts - t_amb = r_env LP(LP(P, tau_th), tau_env)`` (``LP``:
    :func:`~neurospice.compact_models.neural_ode.low_pass`, piecewise linear between
    samples). The fit is a regression of the measured current on the device's own current
    at ``v`` and ``T`` (its numpy rendering,
    :func:`~neurospice.compact_models.nbox.oxide_power`): the residual over
    ``current_noise + relative |i|``, a soft-L1 loss of scale ``robust``, the switching
    transients left out (:func:`transient_samples` of ``asinh(i / i_scale)``, ``rise``,
    ``fall``), the last ``validation`` fraction of each recording held out;
    :func:`scipy.optimize.least_squares` within the device's bounds from ``start`` (values
    that replace :data:`THERMAL_START`'s; the fit is local).

    The regression places ``tau_th`` poorly (a nanosecond against samples of 5 ns: on the
    NbOx neuron's recordings it gives 0.4-0.6 ns for 1 ns), and the spike times hang on it:
    with ``score`` (a function of a card, lower is better: e.g. the spike-time error of the
    device in its circuit), ``tau_th`` is chosen on the log grid ``tau_grid`` (first, last,
    points), then on ``refine`` points within one grid step around the best."""
    from scipy.optimize import least_squares

    from neurospice.compact_models.nbox import DEVICE, oxide_power

    _checked_settings(validation, t_amb=t_amb, i_scale=i_scale, rise=rise, fall=fall,
                      current_noise=current_noise, robust=robust)
    start = {**THERMAL_START, **(start or {})}
    if set(start) != set(THERMAL_START):
        raise CalibrationError(f"start: unknown values {sorted(set(start) - set(THERMAL_START))}"
                               f" (known: {', '.join(THERMAL_START)})")
    for name, x in start.items():
        if not (isinstance(x, (int, float)) and math.isfinite(x) and x > 0):
            raise CalibrationError(f"start: {name} must be positive, got {x!r}")
    if not (len(tau_grid) == 3 and 0 < tau_grid[0] < tau_grid[1] and int(tau_grid[2]) >= 2
            and refine >= 1):
        raise CalibrationError(f"tau_grid must be (first, last, points) with 0 < first < last "
                               f"and points >= 2, and refine >= 1; got {tau_grid!r}, {refine!r}")
    t0 = _time.perf_counter()
    checked = _checked_recordings(recordings)
    recs = [(v[:, 0], i, ~transient_samples(np.arcsinh(i / i_scale), rise, fall))
            for _, v, i in checked]
    dt = checked[0][0]
    names = list(THERMAL_START)
    bounds = {n: (DEVICE.parameter[n].lower, DEVICE.parameter[n].upper) for n in names[:6]}
    bounds.update(r_c=(1e-3, DEVICE.parameter["r_c"].upper), tau_env=(10 * dt, 1e-2),
                  tau_th=(1e-13, 10 * dt))

    def coded(values):
        return np.array([math.log(values[n]) if n in _THERMAL_LOG else values[n]
                         for n in names])

    def decoded(x):
        return {n: math.exp(a) if n in _THERMAL_LOG else float(a) for n, a in zip(names, x)}

    def card_of(values, tau_th):
        return {"g_ref": values["g_ref"], "ea": values["ea"], "eps_r": values["eps_r"],
                "r_c": values["r_c"], "r_th": values["r_th"], "c_th": tau_th / values["r_th"],
                "r_env": values["r_env"], "c_env": values["tau_env"] / values["r_env"],
                "t_amb": t_amb, "t_ref": t_amb}

    def residuals(x, part):
        val = decoded(x)
        p = DEVICE.params({"g_ref": val["g_ref"], "ea": val["ea"], "eps_r": val["eps_r"],
                           "r_c": val["r_c"], "t_amb": t_amb, "t_ref": t_amb, "mix": 0.0})
        out = []
        for (v, i, keep), held in zip(recs, part):
            temp, _ = _temperatures(v, i, dt, val["r_c"], val["r_th"], val["tau_th"],
                                    val["r_env"], val["tau_env"], t_amb)
            cur, _ = oxide_power(v, temp, p)
            r = (cur - i) / (current_noise + relative * np.abs(i))
            out.append(r[keep & held])
        return np.concatenate(out)

    train_part = [np.arange(len(i)) < int(round(len(i) * (1 - validation))) for _, i, _ in recs]
    lo, hi = coded({n: b[0] if n not in _THERMAL_LOG else max(b[0], 1e-300)
                    for n, b in bounds.items()}), coded({n: b[1] for n, b in bounds.items()})
    x0 = np.clip(coded(start), lo, hi)
    with np.errstate(over="ignore", invalid="ignore"):
        sol = least_squares(residuals, x0, args=(train_part,), bounds=(lo, hi),
                            loss="soft_l1", f_scale=robust, x_scale="jac", ftol=1e-12,
                            xtol=1e-12, gtol=1e-12, max_nfev=500)
    val = decoded(sol.x)
    res_train = float(np.median(np.abs(sol.fun)))
    res_held = float(np.median(np.abs(residuals(sol.x, [~p for p in train_part]))))
    tau, scores = val["tau_th"], []
    if score is not None:
        first, last, n = tau_grid
        grid = np.geomspace(first, last, int(n))
        scores = [(float(t), float(score(card_of(val, float(t))))) for t in grid]
        best = min(scores, key=lambda s: s[1])[0]
        step = (last / first) ** (1.0 / max(int(n) - 1, 1))
        fine = best * step ** np.linspace(-0.5, 0.5, refine)
        scores += [(float(t), float(score(card_of(val, float(t))))) for t in fine]
        tau = min(scores, key=lambda s: s[1])[0]
    excluded = sum(int(np.sum(~keep)) for _, _, keep in recs)
    return ThermalSwitchResult(card_of(val, tau), res_train, res_held, excluded,
                               float(val["tau_th"]), scores, str(sol.message),
                               _time.perf_counter() - t0)


def _temperatures(v, i, dt, r_c, r_th, tau_th, r_env, tau_env, t_amb):
    """The ``nbox`` device's temperatures (K) along a measured voltage ``v`` and current
    ``i`` (from rest, piecewise linear between samples every ``dt``): with the oxide power
    ``P = (v - r_c i) i`` measured, ``T - Ts = r_th LP(P, tau_th)`` and ``Ts - t_amb =
    r_env LP(LP(P, tau_th), tau_env)``. Returns (T, Ts)."""
    from neurospice.compact_models.neural_ode import low_pass

    lp = low_pass(np.concatenate([[0.0], (v - r_c * i) * i]), tau_th, dt)[1:]
    ts = t_amb + r_env * low_pass(np.concatenate([[0.0], lp]), tau_env, dt)[1:]
    return ts + r_th * lp, ts


@dataclass
class SwitchCorrectionResult:
    """What :func:`train_switch_correction` returns: the hybrid ``model``
    (:class:`~neurospice.compact_models.neural_ode.hybrid.HybridSwitch`); the L2 weight
    chosen and the held-out loss of each tried, ``[(l2, loss), ...]``; the median absolute
    and the RMS residual of the measured current over its noise scale on the held-out
    samples, of the grey box alone (``before``) and of the hybrid (``after``), each
    ``(median, rms)``; when a ``score`` chose the thermal time, ``scores`` ``[(tau_th,
    score), ...]``; the optimiser's steps and the wall time (s)."""

    model: object
    l2: float = math.nan
    losses: list = field(default_factory=list)
    before: tuple = (math.nan, math.nan)
    after: tuple = (math.nan, math.nan)
    scores: list = field(default_factory=list)
    iterations: int = 0
    seconds: float = 0.0


def train_switch_correction(recordings, card, *, inputs: Sequence[str] = ("v", "Ts"),
                            hidden: Sequence[int] = (12,),
                            activation: str = "tanh", l2: Sequence[float] = (1e-4, 1e-3,
                                                                            1e-2, 1e-1),
                            i_scale: float = 5e-6, rise: float = 0.2, fall: float = 0.7,
                            current_noise: float = 0.2e-6, relative: float = 0.01,
                            robust: float = 3.0, settle: int = 4,
                            validation: float = 0.25, iterations: int = 1000, seed: int = 0,
                            score=None,
                            tau_factors: Sequence[float] = (), name: str = "nbox_hybrid"
                            ) -> SwitchCorrectionResult:
    """Learn what the grey box of ``card`` (a fitted ``nbox`` card,
    :func:`train_thermal_switch`) misses of a switch's current: a
    :class:`~neurospice.compact_models.neural_ode.hybrid.HybridSwitch`, the card's oxide
    conductance times ``exp(MLP)`` of ``inputs`` (among ``v``, ``T``, ``Ts``; ``hidden``
    units, ``activation``). ``recordings``: a list of ``(time_s, v, i)`` as
    :func:`train_thermal_switch` takes them. The card's temperatures along the measurement
    (:func:`_temperatures`, from the measured power) are the network's temperature inputs,
    so the training is a regression, as the grey box's: the residual of the measured
    current over ``current_noise + relative |i|``, a soft-L1 loss of scale ``robust``, the
    switching samples and ``settle`` samples either side left out
    (:func:`transient_samples`), the last ``validation`` fraction of each recording held
    out; L-BFGS with exact gradients (``iterations`` steps at most) from a seeded Glorot
    start with the output layer at 0 (the grey box), for each L2 weight of ``l2`` (times
    the sum of the squared weights), the one with the lowest held-out loss kept.

    With ``score`` (a function of a hybrid model, lower is better: its spike-time error in
    its circuit) and ``tau_factors``, the thermal time ``r_th c_th`` is chosen among the
    card's times these factors (the network kept), the card's own on a tie."""
    from scipy.optimize import minimize

    from neurospice.compact_models.nbox import DEVICE, oxide_power
    from neurospice.compact_models.neural_ode import mlp_backward, mlp_forward
    from neurospice.compact_models.neural_ode.hybrid import HybridSwitch

    _checked_settings(validation, i_scale=i_scale, rise=rise, fall=fall,
                      current_noise=current_noise, robust=robust)
    if not l2 or any(not (math.isfinite(a) and a >= 0) for a in l2) or iterations < 1:
        raise CalibrationError(f"l2 must be weights >= 0 and iterations >= 1; got {l2!r}, "
                               f"{iterations!r}")
    if any(not (math.isfinite(f) and f > 0) for f in tau_factors):
        raise CalibrationError(f"tau_factors must be positive, got {tau_factors!r}")
    t0 = _time.perf_counter()
    p = DEVICE.params(card)
    tau_th, tau_env = p["r_th"] * p["c_th"], p["r_env"] * p["c_env"]
    cols = []
    for dt, v, i in _checked_recordings(recordings):
        v = v[:, 0]
        # the switching samples and ``settle`` samples either side: there the power changes
        # within a sample and its low-pass, the temperature, is off by the interpolation
        near = np.convolve(transient_samples(np.arcsinh(i / i_scale), rise, fall),
                           np.ones(2 * settle + 1), mode="same")
        keep = near < 0.5
        temp, ts = _temperatures(v, i, dt, p["r_c"], p["r_th"], tau_th, p["r_env"], tau_env,
                                 p["t_amb"])
        # the card's oxide conductance: its current over the oxide's voltage
        vs = np.where(np.abs(v) > 1e-9, v, 1e-9)
        cur, _ = oxide_power(vs, temp, p)
        held = np.arange(len(v)) >= int(round(len(v) * (1 - validation)))
        cols.append(np.column_stack([v, temp, ts, i, cur / (vs - p["r_c"] * cur),
                                     held])[keep])
    v, temp, ts, i, g1, held = np.concatenate(cols).T
    held = held > 0.5
    if np.sum(~held) < 100 or np.sum(held) < 10:
        raise DataError("too few samples on the device's curve to train on")
    sigma = current_noise + relative * np.abs(i)
    inputs = tuple(inputs)
    column = {"v": v, "T": temp, "Ts": ts}
    if not inputs or len(set(inputs)) != len(inputs) or not set(inputs) <= set(column):
        raise CalibrationError(f"inputs must be distinct names among {list(column)}, got "
                               f"{inputs!r}")
    feats = np.column_stack([column[k] for k in inputs])
    in_off, in_sc = feats[~held].mean(axis=0), feats[~held].std(axis=0)
    # the temperatures on the spread of the hottest one: the surroundings' few kelvin would
    # otherwise be stretched to the device's tens, and extrapolate as far
    hot = max((k for k in inputs if k != "v"), key=lambda k: float(np.std(column[k])),
              default=None)
    for k, key in enumerate(inputs):
        if key != "v":
            in_sc[k] = float(np.std(column[hot][~held]))
    in_sc = np.where(in_sc > 0, in_sc, 1.0)
    X = (feats - in_off) / in_sc
    f2 = robust ** 2
    theta0, shapes = _glorot([len(inputs), *hidden, 1], seed)
    theta0[-((hidden[-1] if hidden else len(inputs)) + 1):] = 0.0   # output 0: the grey box

    def soft_l1(r):
        return 2.0 * f2 * (np.sqrt(1.0 + r * r / f2) - 1.0)

    def residual(w, rows):
        """(residuals over sigma, d residual / d output, the layers' inputs)."""
        out, acts = mlp_forward(w, X[rows], activation)
        g = g1[rows] * np.exp(out[:, 0])
        den = 1.0 + g * p["r_c"]
        return ((v[rows] * g / den - i[rows]) / sigma[rows],
                v[rows] * g / (den * den) / sigma[rows], acts)

    train_rows = ~held

    def loss(theta, lam):
        w = _unpack(theta, shapes)
        r, gain, acts = residual(w, train_rows)
        g = (2.0 * r / np.sqrt(1.0 + r * r / f2) * gain / len(r))[:, None]
        grads = [(2.0 * lam * a, np.zeros_like(b)) for a, b in w]
        mlp_backward(w, acts, g, activation, grads)
        penalty = lam * sum(float(np.sum(a * a)) for a, _ in w)
        return float(np.mean(soft_l1(r))) + penalty, _flat(grads)

    losses, fits = [], []
    for lam in l2:
        res = minimize(loss, theta0, args=(float(lam),), jac=True, method="L-BFGS-B",
                       options={"maxiter": iterations, "maxfun": 2 * iterations})
        w = _unpack(res.x, shapes)
        losses.append((float(lam), float(np.mean(soft_l1(residual(w, held)[0])))))
        fits.append((w, int(res.nit)))
    best = min(range(len(l2)), key=lambda k: losses[k][1])
    weights, steps = fits[best]
    model = HybridSwitch(dict(card), inputs, in_off, in_sc, weights, activation, name)
    zero = [(0 * a, 0 * b) for a, b in weights]
    r_after, r_before = residual(weights, held)[0], residual(zero, held)[0]
    scores = []
    if score is not None and tau_factors:
        for f in sorted(set([1.0, *(float(x) for x in tau_factors)]),
                        key=lambda x: abs(math.log(x))):
            scores.append((f * tau_th, float(score(model.with_card(c_th=f * p["c_th"])))))
        tau = min(scores, key=lambda s: s[1])[0]
        model = model.with_card(c_th=tau / p["r_th"])

    def stats(r):
        return float(np.median(np.abs(r))), float(np.sqrt(np.mean(r * r)))
    return SwitchCorrectionResult(model, float(l2[best]), losses, stats(r_before),
                                  stats(r_after), scores, steps, _time.perf_counter() - t0)


# --------------------------------------------------------------------------- the recipe
def load_recordings(path, **options) -> list:
    """Transients from one file (:func:`~..data.load_transient`; ``options`` its keyword
    arguments)."""
    from ..data import load_transient

    return as_list(load_transient(path, **options))


_FIELDS = {"current": "current_a", "voltage": "voltage_v"}
_UNITS = {"current": "A", "voltage": "V"}


def fit_neural_ode(transients, *, input: str = "current", output: str = "voltage",
                   embedding: int = 1, delay: int = 1, hidden: Sequence[int] = (100, 100),
                   activation: str = "tanh", time_scale: float | None = None,
                   window: int = 40, batch: int = 32, lr: float = 3e-3,
                   iterations: int = 3000, validation: float = 0.25, horizon: int = 400,
                   seed: int = 0, time_limit: float | None = None,
                   verify: Sequence[str] = (), progress: bool = False) -> Calibration:
    """Train on :class:`~..data.Transient` s: ``input`` and ``output`` name their columns
    (``"current"`` or ``"voltage"``, different). The Calibration's card is the initial
    embedding; ``extra`` holds the model, the training history and NRMSE against horizon.
    ``verify``: simulators in which the exported card re-runs the first held-out window
    (compared with the numpy forward model, RMS within 1e-3 of its range)."""
    if input not in _FIELDS or output not in _FIELDS or input == output:
        raise CalibrationError(f"--input and --output must be 'current' and 'voltage' (one "
                               f"each), got {input!r} and {output!r}")
    recs = []
    for k, tr in enumerate(as_list(transients)):
        u, y = getattr(tr, _FIELDS[input], None), getattr(tr, _FIELDS[output], None)
        if u is None or y is None:
            raise DataError(f"transient {k + 1} has no {input if u is None else output} column",
                            path=getattr(tr, "source", None))
        recs.append((tr.time_s, u, y))
    res = train(recs, inputs=("u",), output="y", embedding=embedding, delay=delay,
                hidden=hidden, activation=activation, time_scale=time_scale, window=window,
                batch=batch, lr=lr, iterations=iterations, validation=validation,
                horizon=horizon, seed=seed, time_limit=time_limit,
                units={"u": _UNITS[input], "y": _UNITS[output]}, progress=progress)
    model = res.model
    # held-out windows and NRMSE against horizon, on the validation part of every recording
    curves, rows = {"heldout": [], "heldout_inputs": [], "horizon": []}, []
    lead = (embedding - 1) * delay
    for k, (t, u, y) in enumerate(recs):
        cut = int(round(len(y) * (1 - validation))) - lead
        t_v, u_v, y_v = np.asarray(t[cut:], float), np.asarray(u[cut:], float), \
            np.asarray(y[cut:], float)
        length = min(horizon, len(y_v) - 1 - lead)
        pred = model.simulate(u_v[lead:lead + length + 1],
                              y0=y_v[:lead + 1][::-1][::max(delay, 1)][:embedding])
        meas = y_v[lead:lead + length + 1]
        curves["heldout"].append((t_v[lead:lead + length + 1], meas, pred))
        curves["heldout_inputs"].append(u_v[lead:lead + length + 1])
        hz = min(horizon, len(y_v) - lead - 2)
        ht, hn = horizon_nrmse(model, t_v, u_v, y_v, horizon=hz)
        curves["horizon"].append((ht, hn))
        rows.append({"recording": k + 1, "heldout_nrmse": float(
            np.sqrt(np.mean((pred - meas) ** 2)) / np.std(meas)) if np.std(meas) > 0 else None,
            "nrmse_at_horizon": float(hn[-1]), "horizon_s": float(ht[-1])})
    cal = Calibration("neural_ode", "neural_ode", model.card(), {}, {},
                      extra={"model": model.to_dict(),
                             "training": {"seconds": res.seconds, "iterations": res.iterations,
                                          "stopped": res.stopped,
                                          "best_validation_nrmse": res.best_nrmse,
                                          "history": [list(h) for h in res.history]},
                             "heldout": rows},
                      curves=curves)
    cal.derived["validation_nrmse"] = {"value": res.best_nrmse, "unit": "",
                                       "description": "free-running NRMSE on the validation "
                                                      "windows (RMS / std of the measurement)"}
    cal.notes += [f"trained {res.iterations} steps in {res.seconds:.1f} s: {res.stopped}",
                  f"model: embedding {embedding} x {delay} samples, MLP {list(hidden)} "
                  f"{activation}, {model.n_weights} weights, sampled at {model.dt:.4g} s",
                  "the weights are constants of the cards; extra.model of the JSON holds the "
                  "whole model (NeuralODE.load reads it)"]
    if verify:
        cal.verification = _verify(cal, verify)
    return cal


def device_of(cal: Calibration):
    """The rendered Device of a neural_ode calibration (its weights from ``extra.model``)."""
    from neurospice.compact_models.neural_ode import NeuralODE

    return NeuralODE.from_dict(cal.extra["model"]).device


def _sections(cal: Calibration) -> list[str]:
    tr = cal.extra.get("training", {})
    lines = ["## Training", "",
             f"{tr.get('iterations')} steps in {tr.get('seconds', 0):.1f} s "
             f"({tr.get('stopped')}); best validation NRMSE "
             f"{tr.get('best_validation_nrmse', float('nan')):.4g}.", "",
             "| step | training loss | validation NRMSE |", "|---|---|---|"]
    for it, loss, val in tr.get("history", []):
        lines.append(f"| {it} | {'-' if loss is None else f'{loss:.4g}'} | {val:.4g} |")
    lines += ["", "## Held-out prediction", "",
              "| recording | NRMSE of the held-out window | NRMSE at the longest horizon | "
              "horizon (s) |", "|---|---|---|---|"]
    for r in cal.extra.get("heldout", []):
        hn = r["heldout_nrmse"]
        lines.append(f"| {r['recording']} | {'-' if hn is None else f'{hn:.4g}'} | "
                     f"{r['nrmse_at_horizon']:.4g} | {r['horizon_s']:.4g} |")
    return lines + [""]


def _plots(cal: Calibration, folder) -> list:
    from neurospice.analysis import plots

    panels = []
    for k, (t, meas, pred) in enumerate(cal.curves.get("heldout", [])):
        panels.append({"x": t, "y": meas, "fit_x": t, "fit_y": pred, "residual": pred - meas,
                       "label": f"held-out window {k + 1}", "xlabel": "time (s)",
                       "ylabel": "output (SI)", "text": "measured (dots), learned (line)"})
    out = [plots.fit_overlay(panels, folder / "heldout.png",
                             title="neural_ode: prediction vs measurement (held out)")]
    hpanels = [{"x": ht, "y": hn, "fit_x": ht, "fit_y": hn, "residual": np.zeros_like(hn),
                "label": f"recording {k + 1}", "xlabel": "prediction horizon (s)",
                "ylabel": "NRMSE", "text": ""}
               for k, (ht, hn) in enumerate(cal.curves.get("horizon", []))]
    out.append(plots.fit_overlay(hpanels, folder / "nrmse_horizon.png",
                                 title="neural_ode: NRMSE vs prediction horizon"))
    return out


def pwl_corners(time_s, values):
    """The corners of the piecewise-linear input through the samples ``values`` at
    ``time_s``: the first and last sample and every sample where the slope changes (a
    relative change of 1e-12 of the largest value or more). The same waveform as all the
    samples, with the breakpoints only where the input turns; returns (times, values)."""
    t = np.asarray(time_s, float)
    x = np.asarray(values, float)
    keep = np.ones(len(x), bool)
    if len(x) > 2:
        scale = float(np.max(np.abs(x))) or 1.0
        d2 = (x[2:] - x[1:-1]) * (t[1:-1] - t[:-2]) - (x[1:-1] - x[:-2]) * (t[2:] - t[1:-1])
        keep[1:-1] = np.abs(d2) > 1e-12 * scale * (t[2:] - t[:-2])
    return t[keep], x[keep]


def verification_circuit(model, time_s, inputs, y0=None, rendering: str = "osdi", f0=None):
    """A transient Circuit driving the learned device's inputs with PWL sources through the
    samples ``inputs`` ((n,) or (n, m), SI) at ``time_s``, the output node unloaded, the
    device starting from ``y0`` and ``f0`` (:meth:`NeuralODE.card`); tight
    tolerances (reltol 1e-7, a step no longer than a tenth of the sampling). The sources hold
    only the corners of the inputs (:func:`pwl_corners`: the same piecewise-linear waveform
    as the numpy forward model's), so that the simulators' breakpoints are where an input
    turns; VACASK limits its step to 1 % of the distance between those corners
    (``breakpoint_fraction``, its ``tran_fbr``): with its default, a quarter, the sample over
    which an input steps took steps of a tenth of the sampling and erred by 2e-4 of the
    output's range, against 3e-6 now."""
    from neurospice.netlists import Circuit, Pwl

    t = np.asarray(time_s, float) - float(time_s[0])
    u = np.asarray(inputs, float)
    u = u[:, None] if u.ndim == 1 else u
    c = Circuit(f"{model.name}: learned device driven by its inputs")
    for i, port in enumerate(model.inputs):
        tc, uc = pwl_corners(t, u[:, i])
        c.vsource(f"in{i + 1}", port, "0", waveform=Pwl(tc.tolist(), uc.tolist()))
    model.add_to(c, "1", [model.output, "0", *model.inputs], rendering=rendering, y0=y0,
                 f0=f0)
    c.option("reltol", 1e-7)
    c.option("vntol", 1e-9)
    c.option("breakpoint_fraction", 0.01)
    c.tran(model.dt, float(t[-1]), max_step=model.dt / 10)
    return c


def _verify(cal: Calibration, simulators):
    from neurospice.compact_models.neural_ode import NeuralODE

    model = NeuralODE.from_dict(cal.extra["model"])
    t, meas, _ = cal.curves["heldout"][0]
    n = min(len(t), 200)
    u = cal.curves.get("heldout_inputs", [None])[0]
    if u is None:
        return []

    def circuit_of(device, card):
        y0 = [card[f"y0_{j + 1}"] for j in range(model.embedding)]
        expected = model.simulate(u[:n], y0=y0, substeps=4)
        tt = t[:n] - t[0]
        return [CardCheck("held-out window 1", verification_circuit(model, tt, u[:n], y0),
                          expected, lambda res: np.interp(tt, res.tran.axis,
                                                          res.tran.v(model.output)),
                          float(np.ptp(expected)) or 1.0,
                          "learned card vs the numpy forward model")]
    return verify_card(model.device, cal.params, circuit_of, simulators, tolerance=1e-3)


def _cli_kwargs(args) -> dict:
    return {"input": args.input, "output": args.output, "embedding": args.embedding,
            "delay": args.delay, "hidden": args.hidden, "activation": args.activation,
            "window": args.window, "batch": args.batch, "lr": args.lr,
            "iterations": args.iterations, "validation": args.validation, "seed": args.seed,
            "time_limit": args.time_limit,
            "verify": tuple(s for s in args.verify_in.split(",") if s.strip())}


def _sizes(text: str) -> tuple[int, ...]:
    import argparse

    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected hidden sizes like 100,100, got {text!r}")
    return sizes


NEURAL_ODE = Recipe(
    "neural_ode", "neural_ode",
    "neural ODE learned from transient recordings (inputs -> output), exported to every "
    "simulator",
    run=fit_neural_ode, load=load_recordings, default=True, cli_kwargs=_cli_kwargs,
    options=(
        Option(("--input",), {"choices": ["current", "voltage"], "default": "current",
                              "help": "neural_ode: the input column (default current)"}),
        Option(("--output",), {"choices": ["current", "voltage"], "default": "voltage",
                               "help": "neural_ode: the output column (default voltage)"}),
        Option(("--embedding",), {"type": int, "default": 1,
                                  "help": "neural_ode: delay-embedding dimension (default 1)"}),
        Option(("--delay",), {"type": int, "default": 1,
                              "help": "neural_ode: embedding delay in samples (default 1)"}),
        Option(("--hidden",), {"type": _sizes, "default": (100, 100),
                               "help": "neural_ode: hidden layer sizes (default 100,100)"}),
        Option(("--activation",), {"choices": ["tanh", "sigmoid"], "default": "tanh",
                                   "help": "neural_ode: activation (default tanh)"}),
        Option(("--window",), {"type": int, "default": 40,
                               "help": "neural_ode: training window in samples (default 40)"}),
        Option(("--batch",), {"type": int, "default": 32,
                              "help": "neural_ode: windows per mini-batch (default 32)"}),
        Option(("--lr",), {"type": float, "default": 3e-3,
                           "help": "neural_ode: Adam learning rate (default 3e-3)"}),
        Option(("--iterations",), {"type": int, "default": 3000,
                                   "help": "neural_ode: most training steps (default 3000)"}),
        Option(("--validation",), {"type": float, "default": 0.25,
                                   "help": "neural_ode: validation fraction at the end of each "
                                           "recording (default 0.25)"}),
        Option(("--verify-in",), {"default": "ngspice",
                                  "help": "neural_ode: simulators that re-run the card on a "
                                          "held-out window, comma-separated (default ngspice; "
                                          "'' for none)"}),
        Option(("--time-limit",), {"type": float, "default": None,
                                   "help": "neural_ode: stop training after this many seconds"}),
    ),
    sections=_sections, plots=_plots, verify=_verify, device_for=device_of)

REGISTERED = (NEURAL_ODE,)
