"""Data-driven compact models: a neural ordinary differential equation learned from waveforms.

After Chen et al., "Forecasting the outcome of spintronic experiments with Neural Ordinary
Differential Equations", Nat. Commun. 13, 1016 (2022) (arXiv 2108.02318): a device whose
equations nobody wrote down is described by the output it was measured to give, ``y(t)``,
and the inputs that drove it, ``u(t)``. Its state is a time-delay embedding of the output,
``z = [y(t), y(t - tau), ..., y(t - (k-1) tau)]`` (normalised), and its dynamics

    dz/dt = [ MLP_theta(z, u_n) + A z + B u_n ] / time_scale

with ``u_n = (u - u_offset) / u_scale``, ``z_j = (y_j - y_offset) / y_scale``, an MLP of
``hidden`` layers (``(100, 100)`` tanh units by default, the source work's choice) and an
optional known linear part ``A z + B u_n`` (a hybrid model: physics you know, e.g. a
relaxation ``-z / tau``, plus what the network learns). The output is ``y = y_offset +
y_scale z_0``.

A state that changes slower than the delays span (a device's surroundings heating over many
spikes, which the output shows only through its history) is given to the network by
``filters``: time constants ``tau_j`` of extra states ``f_j``, each a first-order low-pass of
the normalised output, ``df_j/dt = (z_0 - f_j) / tau_j`` (known, not learned), fed to the
MLP with the embedding: ``MLP_theta(z, f, u_n)``. Like the delays they are functions of the
measured output (:func:`measured_states`), so training windows start from them however
short they are.

:class:`NeuralODE` holds the architecture, the scaling and the weights; it integrates itself
in numpy (:meth:`NeuralODE.simulate`: fixed-step RK4 with the inputs piecewise linear through
their samples, as a SPICE PWL source) and gives exact gradients of that integration
(:meth:`NeuralODE.rhs` and :meth:`NeuralODE.rhs_backward`, which the training in
:mod:`neurospice.calibration.recipes.neural_ode` chains through the RK4 steps). Its
:attr:`NeuralODE.device` is an ordinary framework :class:`~..framework.Device`, so the
learned model is rendered like every other device from one definition: Verilog-A
(OpenVAF-safe: the embedding on internal state nodes, the weights as constants), ngspice and
Xyce behavioral subcircuits (a hidden unit per internal node) and the numpy rendering.

Ports of the rendered device: ``(output, ref, *inputs)``. Each input is read as the voltage
``v(input, ref)`` whose number is the input's SI value (a current input of 20 uA is a PWL
source of 2e-5 V); inputs draw no current. The output node is driven to the output's SI value
through ``r_out`` (1 ohm by default): ``i(output -> ref) = (v(output, ref) - y) / r_out``.
The initial embedding is the parameters ``y0_1 .. y0_k`` (SI output units; default the
output's offset), held in DC as every state of the framework.

A device that is one element of a known circuit can instead be learned alone, from its
voltage and current: :mod:`.two_terminal` (its perceptron through :func:`mlp_forward`,
:func:`mlp_backward` and :func:`mlp_locals`, shared with :class:`NeuralODE`), or, where its
physics is known in form, as that form plus a learned term: :mod:`.hybrid` (the ``nbox``
threshold switch with a learned factor on its conductance).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists.values import check_name, check_node

__all__ = ["NeuralODE", "ACTIVATIONS", "embed", "low_pass", "measured_states", "nrmse",
           "rc_charging", "mlp_forward", "mlp_backward", "mlp_locals", "number_text",
           "verilog_a_file", "checked_network"]

ACTIVATIONS = ("tanh", "sigmoid")


def _act(name: str, x: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(x)
    return 0.5 + 0.5 * np.tanh(0.5 * x)        # sigmoid, as the expression language writes it


def _act_grad(name: str, h: np.ndarray) -> np.ndarray:
    """The activation's derivative from its output ``h``."""
    return 1.0 - h * h if name == "tanh" else h * (1.0 - h)


def mlp_forward(weights, x: np.ndarray, activation: str = "tanh"):
    """A multilayer perceptron on the rows of ``x`` (B, inputs): ``weights`` ``[(W, b),
    ...]`` per layer (``W`` (out, in)), ``activation`` on every layer but the last (linear).
    Returns (outputs (B, out), the layers' inputs for :func:`mlp_backward`)."""
    acts = [x]
    for w, b in weights[:-1]:
        x = _act(activation, x @ w.T + b)
        acts.append(x)
    w, b = weights[-1]
    return x @ w.T + b, acts


def mlp_backward(weights, acts, g: np.ndarray, activation: str = "tanh",
                 grads: list | None = None) -> np.ndarray:
    """Back-propagate ``g = dL/d(outputs)`` through :func:`mlp_forward`: returns ``dL/dx``;
    adds ``dL/dW`` and ``dL/db`` into ``grads`` (a list of (gW, gb) arrays like ``weights``,
    updated in place) when given."""
    for layer in range(len(weights) - 1, -1, -1):
        w, _ = weights[layer]
        h = acts[layer]
        if grads is not None:
            gw, gb = grads[layer]
            gw += g.T @ h           # in place: grads holds the caller's arrays
            gb += g.sum(axis=0)
        g = g @ w
        if layer > 0:
            g = g * _act_grad(activation, h)
    return g


def mlp_locals(weights, inputs: Sequence[str], activation: str = "tanh"):
    """The perceptron of :func:`mlp_forward` as expression text for a framework
    :class:`~..framework.Device`: the hidden units as locals ``h<layer>_<unit>`` of the
    names ``inputs``, and the last (linear) layer's outputs as expressions. Returns
    (locals, outputs)."""
    locals_ = []
    xs = list(inputs)
    for layer, (w, b) in enumerate(weights[:-1]):
        names = []
        for j in range(w.shape[0]):
            name = f"h{layer + 1}_{j + 1}"
            locals_.append((name, f"{activation}({_affine(w[j], b[j], xs)})", 1.0))
            names.append(name)
        xs = names
    w, b = weights[-1]
    return locals_, [_affine(w[j], b[j], xs) for j in range(w.shape[0])]


def nrmse(predicted, measured) -> float:
    """Root-mean-square difference divided by the standard deviation of ``measured``."""
    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    sd = float(np.std(m))
    if not sd > 0:
        raise ValueError("nrmse: the measured series is constant")
    return float(np.sqrt(np.mean((p - m) ** 2)) / sd)


def embed(y: np.ndarray, embedding: int, delay: int) -> np.ndarray:
    """The delay embedding of a sampled series: row ``t`` is ``[y[t], y[t-d], ...,
    y[t-(k-1)d]]``; samples before the start repeat ``y[0]``. Shape ``(n, k)``."""
    y = np.asarray(y, float)
    idx = np.arange(len(y))[:, None] - delay * np.arange(embedding)[None, :]
    return y[np.clip(idx, 0, None)]


def low_pass(y: np.ndarray, tau: float, dt: float) -> np.ndarray:
    """The first-order low-pass ``df/dt = (y - f) / tau`` of a series ``y`` sampled every
    ``dt`` (piecewise linear between samples, integrated exactly), starting at ``f = y[0]``."""
    from scipy.signal import lfilter

    y = np.asarray(y, float)
    a = math.exp(-dt / tau)
    c = tau / dt * (1.0 - a)
    b0, b1 = 1.0 - c, c - a
    if len(y) < 2:
        return y.copy()
    rest, _ = lfilter([b0, b1], [1.0, -a], y[1:], zi=[a * y[0] + b1 * y[0]])
    return np.concatenate([y[:1], rest])


def measured_states(model, y) -> np.ndarray:
    """The normalised states of ``model`` along a measured output ``y`` (SI, sampled at the
    model's ``dt``): its delay embedding and, for each of its ``filters``, the output's
    low-pass (:func:`low_pass`, from rest at ``y[0]``). Shape ``(n, embedding + filters)``."""
    z = (embed(y, model.embedding, model.delay) - model.y_offset) / model.y_scale
    if not model.filters:
        return z
    return np.column_stack([z] + [low_pass(z[:, 0], tau, model.dt) for tau in model.filters])


@dataclass(eq=False)
class NeuralODE:
    """A learned device: architecture, scaling and weights (see the module docstring).

    ``inputs``: port names of the inputs; ``output``: the output port; ``embedding`` k and
    ``delay`` (in samples of ``dt``); ``hidden``: hidden-layer sizes; ``activation``:
    ``"tanh"`` or ``"sigmoid"``; ``filters``: time constants (s) of the output's low-pass
    states (see the module docstring; default none); ``dt``: the sampling step the model was
    trained at (s);
    ``time_scale`` (s): the network's output is a rate per ``time_scale``; ``u_offset``,
    ``u_scale``, ``y_offset``, ``y_scale``: the normalisation (SI); ``linear``: the known
    part ``(A, B)`` (shapes ``(k, k)`` and ``(k, m)``), or None; ``weights``: ``[(W, b), ...]``
    per layer, ``W`` of shape ``(out, in)``; ``units``: SI unit names of the inputs and the
    output, for reports. Build a fresh one with :meth:`create`."""

    inputs: tuple[str, ...]
    output: str
    embedding: int
    delay: int
    hidden: tuple[int, ...]
    activation: str
    dt: float
    time_scale: float
    u_offset: np.ndarray
    u_scale: np.ndarray
    y_offset: float
    y_scale: float
    weights: list
    linear: tuple | None = None
    units: Mapping[str, str] = field(default_factory=dict)
    name: str = "neural_ode"
    filters: tuple = ()

    def __post_init__(self):
        check_name(self.name, what="model name")
        names = [self.output, "ref", *self.inputs]
        for n in names:
            check_name(n, what="port name")
            if check_node(n) != n:          # a node name the renderings could not read back
                raise NetlistError(f"neural ODE {self.name}: port name {n!r} must be lower "
                                   f"case: node names are case-insensitive (the renderings "
                                   f"read it as {n.lower()!r})")
        if len(set(names)) != len(names):
            raise NetlistError(f"neural ODE {self.name}: ports must differ (output, 'ref', "
                               f"inputs), got {names}")
        if not self.inputs:
            raise NetlistError(f"neural ODE {self.name}: give at least one input")
        if self.activation not in ACTIVATIONS:
            raise NetlistError(f"neural ODE {self.name}: activation must be one of "
                               f"{ACTIVATIONS}, got {self.activation!r}")
        if not (isinstance(self.embedding, int) and self.embedding >= 1
                and isinstance(self.delay, int) and self.delay >= 1):
            raise NetlistError(f"neural ODE {self.name}: embedding and delay must be "
                               "integers >= 1")
        for what, x in (("dt", self.dt), ("time_scale", self.time_scale),
                        ("y_scale", self.y_scale)):
            if not (math.isfinite(x) and x > 0):
                raise NetlistError(f"neural ODE {self.name}: {what} must be positive, got {x!r}")
        self.u_offset = np.asarray(self.u_offset, float).reshape(len(self.inputs))
        self.u_scale = np.asarray(self.u_scale, float).reshape(len(self.inputs))
        if not np.all(self.u_scale > 0) or not np.all(np.isfinite(self.u_offset)):
            raise NetlistError(f"neural ODE {self.name}: input scales must be positive")
        self.hidden = tuple(int(h) for h in self.hidden)
        try:
            self.filters = tuple(float(x) for x in self.filters)
        except (TypeError, ValueError):
            raise NetlistError(f"neural ODE {self.name}: filters must be time constants, got "
                               f"{self.filters!r}") from None
        if not all(math.isfinite(x) and x > 0 for x in self.filters):
            raise NetlistError(f"neural ODE {self.name}: filter time constants must be "
                               f"positive, got {self.filters}")
        sizes = [self.n_states + len(self.inputs), *self.hidden, self.embedding]
        if len(self.weights) != len(sizes) - 1:
            raise NetlistError(f"neural ODE {self.name}: {len(self.weights)} layers of "
                               f"weights for sizes {sizes}")
        self.weights = [(np.asarray(w, float), np.asarray(b, float)) for w, b in self.weights]
        for k, (w, b) in enumerate(self.weights):
            if w.shape != (sizes[k + 1], sizes[k]) or b.shape != (sizes[k + 1],) \
                    or not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise NetlistError(f"neural ODE {self.name}: layer {k} must hold finite "
                                   f"W {(sizes[k + 1], sizes[k])} and b {(sizes[k + 1],)}")
        if self.linear is not None:
            a, b = (np.asarray(x, float) for x in self.linear)
            if a.shape != (self.embedding, self.embedding) or \
                    b.shape != (self.embedding, len(self.inputs)):
                raise NetlistError(f"neural ODE {self.name}: linear part must be A (k, k) "
                                   "and B (k, m)")
            self.linear = (a, b)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, inputs: Sequence[str], output: str, *, dt: float,
               u_offset, u_scale, y_offset: float, y_scale: float,
               embedding: int = 1, delay: int = 1, hidden: Sequence[int] = (100, 100),
               activation: str = "tanh", time_scale: float | None = None,
               linear: tuple | None = None, seed: int = 0, units=None,
               name: str = "neural_ode", filters: Sequence[float] = ()) -> "NeuralODE":
        """A model with seeded random weights (Glorot-uniform hidden layers, a last layer
        100x smaller so that training starts near a slow, smooth flow). ``time_scale``
        defaults to ``10 dt``."""
        rng = np.random.default_rng(seed)
        sizes = [embedding + len(filters) + len(inputs), *hidden, embedding]
        weights = []
        for k in range(len(sizes) - 1):
            lim = math.sqrt(6.0 / (sizes[k] + sizes[k + 1]))
            if k == len(sizes) - 2:
                lim *= 0.01
            weights.append((rng.uniform(-lim, lim, (sizes[k + 1], sizes[k])),
                            np.zeros(sizes[k + 1])))
        return cls(tuple(inputs), output, int(embedding), int(delay), tuple(hidden), activation,
                   float(dt), float(time_scale if time_scale is not None else 10 * dt),
                   u_offset, u_scale, float(y_offset), float(y_scale), weights, linear,
                   dict(units or {}), name, tuple(filters))

    def to_dict(self) -> dict:
        """JSON-ready description (architecture, scaling, weights): :meth:`from_dict`."""
        return {"name": self.name, "inputs": list(self.inputs), "output": self.output,
                "embedding": self.embedding, "delay": self.delay, "hidden": list(self.hidden),
                "activation": self.activation, "dt": self.dt, "time_scale": self.time_scale,
                "u_offset": self.u_offset.tolist(), "u_scale": self.u_scale.tolist(),
                "y_offset": self.y_offset, "y_scale": self.y_scale,
                "weights": [[w.tolist(), b.tolist()] for w, b in self.weights],
                "linear": None if self.linear is None else [x.tolist() for x in self.linear],
                "units": dict(self.units), "filters": list(self.filters)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "NeuralODE":
        """The model :meth:`to_dict` wrote (NetlistError naming what is missing or wrong)."""
        require_keys(data, ("inputs", "output", "embedding", "delay", "hidden", "activation",
                            "dt", "time_scale", "u_offset", "u_scale", "y_offset", "y_scale",
                            "weights"), "neural ODE description")
        try:
            return cls(tuple(data["inputs"]), data["output"], int(data["embedding"]),
                       int(data["delay"]), tuple(data["hidden"]), data["activation"],
                       float(data["dt"]), float(data["time_scale"]), data["u_offset"],
                       data["u_scale"], float(data["y_offset"]), float(data["y_scale"]),
                       [(w, b) for w, b in data["weights"]], data.get("linear"),
                       dict(data.get("units") or {}), data.get("name", "neural_ode"),
                       tuple(data.get("filters") or ()))
        except (TypeError, ValueError) as exc:
            raise NetlistError(f"neural ODE description: {exc}") from None

    @classmethod
    def load(cls, path) -> "NeuralODE":
        """The model in a calibration JSON (``extra.model``) or a file of :meth:`to_dict`."""
        from neurospice.fileio import read_json

        data = read_json(path, what="neural ODE model", max_bytes=256 * 1024 ** 2,
                         error=NetlistError)
        if isinstance(data, dict) and "extra" in data:
            data = (data.get("extra") or {}).get("model")
        return cls.from_dict(data)

    # ------------------------------------------------------------------ parameters as a vector
    def get_theta(self) -> np.ndarray:
        """Every weight and bias as one vector (layer by layer, W then b)."""
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in self.weights])

    def set_theta(self, theta: np.ndarray) -> None:
        """Set the weights from a vector laid out as :meth:`get_theta`."""
        k = 0
        new = []
        for w, b in self.weights:
            nw, nb = w.size, b.size
            new.append((theta[k:k + nw].reshape(w.shape).copy(), theta[k + nw:k + nw + nb].copy()))
            k += nw + nb
        if k != theta.size:
            raise NetlistError(f"theta has {theta.size} values, the model {k}")
        self.weights = new
        self.__dict__.pop("device", None)

    @property
    def n_states(self) -> int:
        """The state's size: the embedding and the filters."""
        return self.embedding + len(self.filters)

    @property
    def n_weights(self) -> int:
        return sum(w.size + b.size for w, b in self.weights)

    # ------------------------------------------------------------------ the vector field
    def rhs(self, z: np.ndarray, un: np.ndarray):
        """The normalised vector field ``F`` (``dz/ds``, ``s = t / time_scale``) at states
        ``z`` (B, k + filters) and normalised inputs ``un`` (B, m); returns (F, cache for
        :meth:`rhs_backward`)."""
        f, acts = mlp_forward(self.weights, np.concatenate([z, un], axis=1), self.activation)
        k = self.embedding
        if self.linear is not None:
            a, bb = self.linear
            f = f + z[:, :k] @ a.T + un @ bb.T
        if self.filters:
            g = self.time_scale / np.asarray(self.filters)
            f = np.concatenate([f, (z[:, :1] - z[:, k:]) * g], axis=1)
        return f, acts

    def rhs_backward(self, acts, gf: np.ndarray, grads: list | None):
        """Back-propagate ``gf = dL/dF`` (B, k + filters) through :meth:`rhs`: returns
        ``dL/dz`` (B, k + filters); adds ``dL/dW``, ``dL/db`` into ``grads`` (a list of (gW, gb) like
        ``weights``) when given."""
        k, n = self.embedding, self.n_states
        gz = mlp_backward(self.weights, acts, gf[:, :k], self.activation, grads)[:, :n]
        if self.linear is not None:
            gz = gz.copy()
            gz[:, :k] += gf[:, :k] @ self.linear[0]
        if self.filters:
            gfil = gf[:, k:] * (self.time_scale / np.asarray(self.filters))
            gz = gz - np.concatenate([np.zeros((len(gz), k)), gfil], axis=1)
            gz[:, 0] += gfil.sum(axis=1)
        return gz

    # ------------------------------------------------------------------ numpy forward model
    def normalise_inputs(self, u) -> np.ndarray:
        u = np.asarray(u, float)
        if u.ndim == 1:
            u = u[:, None]
        if u.shape[-1] != len(self.inputs):
            raise NetlistError(f"neural ODE {self.name}: {u.shape[-1]} input columns for "
                               f"inputs {self.inputs}")
        return (u - self.u_offset) / self.u_scale

    def rk4_step(self, z, un0, un_half, un1, h):
        """One RK4 step of ``h`` (in units of ``time_scale``) with the inputs at the start,
        the midpoint and the end; returns (z_next, caches) for the backward pass."""
        k1, c1 = self.rhs(z, un0)
        k2, c2 = self.rhs(z + 0.5 * h * k1, un_half)
        k3, c3 = self.rhs(z + 0.5 * h * k2, un_half)
        k4, c4 = self.rhs(z + h * k3, un1)
        return z + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), (c1, c2, c3, c4)

    def rk4_backward(self, caches, gnext, h, grads):
        """``dL/dz`` of one :meth:`rk4_step` from ``gnext = dL/dz_next`` (the discrete
        adjoint); weight gradients are added into ``grads``."""
        c1, c2, c3, c4 = caches
        gz = gnext.copy()
        gk4 = h / 6.0 * gnext
        g = self.rhs_backward(c4, gk4, grads)
        gz += g
        gk3 = h / 3.0 * gnext + h * g
        g = self.rhs_backward(c3, gk3, grads)
        gz += g
        gk2 = h / 3.0 * gnext + 0.5 * h * g
        g = self.rhs_backward(c2, gk2, grads)
        gz += g
        gk1 = h / 6.0 * gnext + 0.5 * h * g
        gz += self.rhs_backward(c1, gk1, grads)
        return gz

    def simulate(self, u, y0=None, *, substeps: int = 1, states: bool = False, f0=None):
        """The numpy forward model: the output at the samples of ``u`` ((n,) or (n, m), SI,
        one row per ``dt``; piecewise linear between samples), starting from the embedding
        ``y0`` (SI, ``[y(0), y(-tau), ...]``; a scalar repeats; default the output offset)
        and the filters at ``f0`` (SI; a scalar repeats; default ``y0[0]``, at rest).
        Fixed-step RK4, ``substeps`` steps per sample. Returns y (n,), or (y, z) with the
        normalised states (n, k + filters) when ``states``."""
        un = self.normalise_inputs(u)
        k, p = self.embedding, len(self.filters)
        y0 = np.broadcast_to(np.asarray(self.y_offset if y0 is None else y0, float), (k,))
        f0 = np.broadcast_to(np.asarray(y0[0] if f0 is None else f0, float), (p,))
        z = ((np.concatenate([y0, f0]) - self.y_offset) / self.y_scale)[None, :].copy()
        h = self.dt / self.time_scale / substeps
        out = np.empty((len(un), k + p))
        out[0] = z[0]
        for i in range(len(un) - 1):
            for s in range(substeps):
                a, b = s / substeps, (s + 1) / substeps
                u0 = un[i] + a * (un[i + 1] - un[i])
                u1 = un[i] + b * (un[i + 1] - un[i])
                z, _ = self.rk4_step(z, u0[None], (0.5 * (u0 + u1))[None], u1[None], h)
            out[i + 1] = z[0]
        y = self.y_offset + self.y_scale * out[:, 0]
        return (y, out) if states else y

    # ------------------------------------------------------------------ the framework rendering
    @cached_property
    def device(self):
        """The learned model as a framework :class:`~..framework.Device` (see the module
        docstring): the same Verilog-A / subcircuit / numpy renderings as any device."""
        from neurospice.compact_models.framework import Device, Parameter, State

        k, m, p = self.embedding, len(self.inputs), len(self.filters)
        locals_ = []
        xs = [f"z{j + 1}" for j in range(k)] + [f"f{j + 1}" for j in range(p)]
        for i, port in enumerate(self.inputs):
            locals_.append((f"un{i + 1}", f"(v({port}, ref) - ({number_text(self.u_offset[i])}))"
                                          f" / {number_text(self.u_scale[i])}"))
            xs.append(f"un{i + 1}")
        act = self.activation
        hidden, outputs = mlp_locals(self.weights, xs, act)
        locals_ += hidden
        rates = {}
        for j in range(k):
            text = outputs[j]
            if self.linear is not None:
                a, bb = self.linear
                extra = _affine(np.concatenate([a[j], bb[j]]), 0.0,
                                [f"z{i + 1}" for i in range(k)] + [f"un{i + 1}" for i in range(m)])
                text = f"{text} + {extra}"
            rates[f"z{j + 1}"] = f"({text}) / {number_text(self.time_scale)}"
        for j, tau in enumerate(self.filters):
            rates[f"f{j + 1}"] = f"(z1 - f{j + 1}) / {number_text(tau)}"
        locals_.append(("yout", f"{number_text(self.y_offset)} + {number_text(self.y_scale)}*z1"))
        unit = self.units.get(self.output, "")
        params = [Parameter(f"y0_{j + 1}", unit, self.y_offset, description=
                            f"initial output y(-{j}*tau) of the embedding" if j else
                            "initial output y(0)") for j in range(k)]
        params += [Parameter(f"yf_{j + 1}", unit, self.y_offset, description=
                             f"initial value of the output's low-pass of {tau:g} s")
                   for j, tau in enumerate(self.filters)]
        params.append(Parameter("r_out", "ohm", 1.0, 1e-6, 1e12, "output resistance of the "
                                "output node", "", lower_open=False))
        states = tuple(State(f"z{j + 1}", "", 1.0,
                             f"(y0_{j + 1} - ({number_text(self.y_offset)})) / {number_text(self.y_scale)}",
                             f"normalised output delayed by {j} x {self.delay} samples")
                       for j in range(k)) + tuple(
            State(f"f{j + 1}", "", 1.0, f"(yf_{j + 1} - ({number_text(self.y_offset)})) / "
                  f"{number_text(self.y_scale)}", f"normalised output low-passed with {tau:g} s")
            for j, tau in enumerate(self.filters))
        return Device(
            name=self.name,
            description=f"neural ODE learned from waveforms: embedding {k} x {self.delay} "
                        f"samples, {p} output filters, MLP {list(self.hidden)} {act}, inputs {list(self.inputs)}",
            terminals=(self.output, "ref", *self.inputs),
            parameters=tuple(params), states=states, rates=rates, locals=tuple(locals_),
            currents=((self.output, "ref", f"(v({self.output}, ref) - yout) / r_out"),),
            references=("Chen et al., Nat. Commun. 13, 1016 (2022), arXiv 2108.02318",))

    def card(self, y0=None, f0=None) -> dict[str, float]:
        """The device parameters for an initial embedding ``y0`` and filters ``f0`` (SI; as
        :meth:`simulate`: default the offset, and ``y0[0]`` for the filters)."""
        k, p = self.embedding, len(self.filters)
        y0 = np.broadcast_to(np.asarray(self.y_offset if y0 is None else y0, float), (k,))
        f0 = np.broadcast_to(np.asarray(y0[0] if f0 is None else f0, float), (p,))
        return {**{f"y0_{j + 1}": float(y0[j]) for j in range(k)},
                **{f"yf_{j + 1}": float(f0[j]) for j in range(p)}}

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict())

    def verilog_a_path(self):
        """The Verilog-A rendering written to the cache folder (named by its content's hash,
        so a retrained model never reuses a stale compiled card); returns the path."""
        return verilog_a_file(self.device)

    def add_to(self, circuit, name: str, nodes: Sequence[str], *, rendering: str = "osdi",
               y0=None, params: Mapping[str, float] | None = None, f0=None):
        """Place the learned device in ``circuit`` (nodes for ``(output, ref, *inputs)``),
        starting from the embedding ``y0`` and the filters at ``f0`` (SI; as :meth:`card`);
        ``rendering`` and ``params`` as in :meth:`~..framework.Device.add_to`."""
        values = {**(self.card(y0, f0) if y0 is not None or f0 is not None else {}),
                  **(params or {})}
        va = self.verilog_a_path() if rendering == "osdi" else None
        return self.device.add_to(circuit, name, nodes, rendering=rendering, params=values,
                                  va_path=va)


def require_keys(data, keys: Sequence[str], what: str) -> None:
    """NetlistError unless ``data`` (a learned model's JSON description, named ``what``) is
    a mapping holding every one of ``keys``."""
    if not isinstance(data, Mapping):
        raise NetlistError(f"{what} must be a JSON object")
    missing = [k for k in keys if k not in data]
    if missing:
        raise NetlistError(f"{what} lacks {missing}")


def checked_network(what: str, activation: str, n_inputs: int, in_offset, in_scale,
                    weights):
    """A learned device's perceptron checked (``what`` names the device in the errors):
    ``activation`` one of :data:`ACTIVATIONS`, the inputs' ``in_offset`` finite and
    ``in_scale`` positive (``n_inputs`` values each), ``weights`` ``[(W, b), ...]`` finite, each
    layer's ``W`` (units, the previous layer's size) and the last layer one output. Returns
    (in_offset, in_scale, weights) as float arrays; NetlistError otherwise."""
    if activation not in ACTIVATIONS:
        raise NetlistError(f"{what}: activation must be one of {ACTIVATIONS}, got "
                           f"{activation!r}")
    in_offset = np.asarray(in_offset, float).ravel()
    in_scale = np.asarray(in_scale, float).ravel()
    if in_offset.shape != (n_inputs,) or in_scale.shape != (n_inputs,) \
            or not (np.all(np.isfinite(in_offset))
                                                 and np.all(in_scale > 0)
                                                 and np.all(np.isfinite(in_scale))):
        raise NetlistError(f"{what}: offsets must be finite and scales positive, "
                           f"{n_inputs} each")
    weights = [(np.asarray(w, float), np.asarray(b, float)) for w, b in weights]
    size = n_inputs
    for k, (w, b) in enumerate(weights):
        out = 1 if k == len(weights) - 1 else (w.shape[0] if w.ndim == 2 else -1)
        if w.ndim != 2 or w.shape != (out, size) or b.shape != (out,) \
                or not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise NetlistError(f"{what}: layer {k} must hold finite W (units, {size}) and b, "
                               "and the last layer one output")
        size = out
    return in_offset, in_scale, weights


def verilog_a_file(device):
    """The Verilog-A rendering of a learned ``device`` written to the cache folder, named by
    its content's hash (a retrained model never reuses a stale compiled card); returns the
    path."""
    import hashlib

    from neurospice.fileio import write_text_atomic
    from neurospice.paths import cache_dir

    text = device.verilog_a()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = cache_dir("neural_ode") / f"{device.name}_{digest}.va"
    if not path.exists():
        write_text_atomic(path, text, overwrite=True)
    return path


def rc_charging(tau: float, input: int = 0):
    """Known physics for a hybrid model: the output charges towards input ``input`` with the
    time constant ``tau`` (s), ``dy/dt = (u - y) / tau`` (an RC node driven through its
    resistor), for every coordinate of the embedding (the delayed copies with today's
    input: the network learns the difference). Returns a function of a model with its
    scaling set, giving ``(A, B, c)`` in its normalised units (``c`` the constant from the
    offsets), as :func:`~neurospice.calibration.recipes.neural_ode.train` takes for
    ``linear``."""
    if not (math.isfinite(tau) and tau > 0):
        raise NetlistError(f"rc_charging: tau must be positive, got {tau!r}")

    def known(model):
        k, m = model.embedding, len(model.inputs)
        if not 0 <= input < m:
            raise NetlistError(f"rc_charging: input {input} of a model with {m} inputs")
        g = model.time_scale / tau
        a = -g * np.eye(k)
        b = np.zeros((k, m))
        b[:, input] = g * model.u_scale[input] / model.y_scale
        c = np.full(k, g * (model.u_offset[input] - model.y_offset) / model.y_scale)
        return a, b, c
    return known


def number_text(x: float) -> str:
    """A number for an expression (full precision, negatives in parentheses)."""
    x = float(x)
    return repr(x) if x >= 0 else f"({x!r})"


def _affine(w: np.ndarray, b: float, xs: Sequence[str]) -> str:
    """``b + w0*x0 + w1*x1 ...`` as expression text at full precision, the terms summed in
    parenthesised groups of 10 so that the syntax tree stays shallow for wide layers."""
    terms = []
    for wi, x in zip(w, xs):
        wi = float(wi)
        terms.append((" + " if wi >= 0 else " - ") + f"{abs(wi)!r}*{x}")
    groups = ["".join(terms[k:k + 10]) for k in range(0, len(terms), 10)]
    text = repr(float(b))
    for g in groups:
        text += " + (0.0" + g + ")"
    return text
