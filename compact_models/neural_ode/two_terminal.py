"""A two-terminal device learned from its voltage and current waveforms.

Where the device is one element of a known circuit (a threshold switch in a neuron's RC), the
circuit need not be learned: record the device's voltage ``v`` and current ``i`` (a current
probe) and learn the device alone. :class:`NeuralTwoTerminal` is such a device for the
switches whose internal dynamics are faster than the sampling (a thermal or filamentary
threshold switch: its temperature settles in a nanosecond): it sits on its static
current-controlled curve ``v = V(i, s)``, which may be S-shaped (negative differential
resistance between a threshold and a hold voltage), with ``s`` slow states, and only its
way back onto the curve is dynamic:

    x = asinh(i / i_scale),    dx/dt = (v - V(x, s)) / (relax * dV/dx-normalisation)

so that the curve's rising branches are stable, its falling (NDR) branch unstable, and the
device jumps between branches at the curve's folds, within ``relax`` (known, chosen faster
than the sampling). ``V`` is a multilayer perceptron (:func:`~.mlp_forward`) of the
normalised ``x`` and of the slow states: for each time constant ``tau`` in ``heating`` the
low-passes of the Joule power ``v i`` and of ``i^2`` (the heat of the device's surroundings
is a low-pass of the power dissipated in the switching region, ``v i - r_c i^2`` with a
series resistance ``r_c``: a linear combination of the two, which the network's first layer
forms). The states are functions of the measured ``v`` and ``i`` (:meth:`features`), so the
training (:func:`~neurospice.calibration.recipes.neural_ode.train_two_terminal`) is a
regression of the measured voltage on them, with no integration through time.

:attr:`NeuralTwoTerminal.device` is an ordinary framework :class:`~..framework.Device`
(terminals ``p``, ``n``; current ``i`` from ``p`` to ``n``): Verilog-A (OpenVAF-safe, the
states on internal nodes), ngspice and Xyce subcircuits and the numpy rendering from one
definition. Its states are normalised: ``z`` (the current) and ``fp<j>``, ``fq<j>`` (the
low-passes); its parameters the initial current ``i_0`` (A) and the low-passes' initial
values ``p0_<j>`` (W) and ``q0_<j>`` (A^2), 0 (at rest) by default.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists.values import check_name

from . import (checked_network, low_pass, mlp_forward, mlp_locals, number_text,
               require_keys, verilog_a_file)

__all__ = ["NeuralTwoTerminal"]


@dataclass(eq=False)
class NeuralTwoTerminal:
    """A learned two-terminal device (see the module docstring). ``i_scale`` (A): the current
    below which ``x = asinh(i / i_scale)`` is linear in ``i``, above logarithmic; ``relax``
    (s): the time of the return onto the curve; ``heating``: time constants (s) of the
    low-pass states; ``v_offset``, ``v_scale`` (V): the curve's normalisation;
    ``in_offset``, ``in_scale``: the network inputs' ``[x, p_1.., q_1..]`` (SI: x, W, A^2);
    ``weights``: ``[(W, b), ...]`` per layer (inputs ``1 + 2 len(heating)``, one output);
    ``activation``: ``"tanh"`` or ``"sigmoid"``."""

    i_scale: float
    relax: float
    heating: tuple
    v_offset: float
    v_scale: float
    in_offset: np.ndarray
    in_scale: np.ndarray
    weights: list
    activation: str = "tanh"
    name: str = "learned_switch"

    def __post_init__(self):
        check_name(self.name, what="model name")
        try:
            self.heating = tuple(float(x) for x in self.heating)
        except (TypeError, ValueError):
            raise NetlistError(f"learned device {self.name}: heating must be time constants, "
                               f"got {self.heating!r}") from None
        for what, x in (("i_scale", self.i_scale), ("relax", self.relax),
                        ("v_scale", self.v_scale), *(("heating", t) for t in self.heating)):
            if not (isinstance(x, (int, float)) and math.isfinite(x) and x > 0):
                raise NetlistError(f"learned device {self.name}: {what} must be positive, "
                                   f"got {x!r}")
        if not math.isfinite(self.v_offset):
            raise NetlistError(f"learned device {self.name}: v_offset must be finite, got "
                               f"{self.v_offset!r}")
        self.in_offset, self.in_scale, self.weights = checked_network(
            f"learned device {self.name}", self.activation, self.n_inputs, self.in_offset,
            self.in_scale, self.weights)

    @property
    def n_inputs(self) -> int:
        """The network's inputs: the current state and two low-passes per heating time."""
        return 1 + 2 * len(self.heating)

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(w.shape[0] for w, _ in self.weights[:-1])

    # ------------------------------------------------------------------ the measured states
    def features(self, v, i, dt: float) -> np.ndarray:
        """The network's inputs (SI) along a measured voltage ``v`` and current ``i``
        sampled every ``dt`` (piecewise linear between samples): ``x = asinh(i /
        i_scale)``, then the low-passes of ``v i`` and of ``i^2`` for each heating time
        (:func:`~.low_pass` from rest: 0 before the first sample). Shape ``(n, 1 + 2p)``."""
        v, i = np.asarray(v, float).ravel(), np.asarray(i, float).ravel()
        if v.shape != i.shape:
            raise NetlistError(f"learned device {self.name}: v and i must be equally long")
        cols = [np.arcsinh(i / self.i_scale)]
        for src in (v * i, i * i):
            cols += [low_pass(np.concatenate([[0.0], src]), tau, dt)[1:]
                     for tau in self.heating]
        return np.column_stack(cols)

    def curve(self, features) -> np.ndarray:
        """The static curve ``V(x, s)`` (V) at rows of :meth:`features`."""
        f = (np.atleast_2d(np.asarray(features, float)) - self.in_offset) / self.in_scale
        out, _ = mlp_forward(self.weights, f, self.activation)
        return self.v_offset + self.v_scale * out[:, 0]

    # ------------------------------------------------------------------ the framework rendering
    @cached_property
    def device(self):
        """The learned device as a framework :class:`~..framework.Device` (see the module
        docstring)."""
        from neurospice.compact_models.framework import Device, Parameter, State

        p = len(self.heating)
        off, sc = self.in_offset, self.in_scale
        fp = [f"fp{j + 1}" for j in range(p)]
        fq = [f"fq{j + 1}" for j in range(p)]
        hidden, (out,) = mlp_locals(self.weights, ["z", *fp, *fq], self.activation)
        locals_ = [("vd", "v(p, n)"),
                   ("cur", f"{number_text(self.i_scale)}*sinh({number_text(off[0])} + "
                           f"{number_text(sc[0])}*z)", 1e-3),
                   *hidden,
                   ("vs", f"{number_text(self.v_offset)} + {number_text(self.v_scale)}*"
                          f"({out})")]
        rates = {"z": f"(vd - vs) / {number_text(self.v_scale * self.relax)}"}
        for j, tau in enumerate(self.heating):
            for names, src, k in ((fp, "vd*cur", 1 + j), (fq, "cur*cur", 1 + p + j)):
                rates[names[j]] = (f"((({src}) - {number_text(off[k])}) / "
                                   f"{number_text(sc[k])} - {names[j]}) / {number_text(tau)}")
        params = [Parameter("i_0", "A", 0.0, description="initial device current")]
        params += [Parameter(f"p0_{j + 1}", "W", 0.0, description=f"initial low-pass of the "
                             f"power v i ({tau:g} s)") for j, tau in enumerate(self.heating)]
        params += [Parameter(f"q0_{j + 1}", "A^2", 0.0, description=f"initial low-pass of "
                             f"i^2 ({tau:g} s)") for j, tau in enumerate(self.heating)]
        r0 = f"i_0 / {number_text(self.i_scale)}"            # asinh(r) = ln(r + sqrt(r^2 + 1))
        states = [State("z", "", 1.0, f"(ln({r0} + sqrt({r0}*{r0} + 1.0)) - "
                                      f"{number_text(off[0])}) / {number_text(sc[0])}",
                        "normalised current state asinh(i / i_scale)")]
        for names, first, k0 in ((fp, "p0_", 1), (fq, "q0_", 1 + p)):
            states += [State(names[j], "", 1.0, f"({first}{j + 1} - {number_text(off[k0 + j])})"
                             f" / {number_text(sc[k0 + j])}", f"normalised low-pass "
                             f"({tau:g} s)") for j, tau in enumerate(self.heating)]
        return Device(
            name=self.name,
            description=f"two-terminal device learned from its v and i waveforms: static "
                        f"curve MLP {list(self.hidden)} {self.activation} of asinh(i / "
                        f"{self.i_scale:g} A) and {2 * p} heating low-passes, return within "
                        f"{self.relax:g} s",
            terminals=("p", "n"), parameters=tuple(params), states=tuple(states),
            rates=rates, locals=tuple(locals_), currents=(("p", "n", "cur"),),
            references=("docs/guides/neural_ode.md",))

    def card(self, i0: float = 0.0, filters=None) -> dict[str, float]:
        """The device parameters for an initial current ``i0`` (A) and low-passes
        ``filters`` (SI, ``[p_1.., q_1..]`` as :meth:`features`' columns after the first;
        default 0, at rest)."""
        p = len(self.heating)
        f = np.zeros(2 * p) if filters is None else np.asarray(filters, float).reshape(2 * p)
        return {"i_0": float(i0), **{f"p0_{j + 1}": float(f[j]) for j in range(p)},
                **{f"q0_{j + 1}": float(f[p + j]) for j in range(p)}}

    def verilog_a_path(self):
        """The Verilog-A rendering in the cache folder (:func:`~.verilog_a_file`)."""
        return verilog_a_file(self.device)

    def add_to(self, circuit, name: str, nodes: Sequence[str], *, rendering: str = "osdi",
               params: Mapping[str, float] | None = None):
        """Place the learned device between ``nodes`` ``(p, n)`` of ``circuit``;
        ``params`` as :meth:`card` gives them."""
        va = self.verilog_a_path() if rendering == "osdi" else None
        return self.device.add_to(circuit, name, nodes, rendering=rendering,
                                  params=dict(params or {}), va_path=va)

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        return {"kind": "two_terminal", "name": self.name, "i_scale": self.i_scale,
                "relax": self.relax, "heating": list(self.heating),
                "v_offset": self.v_offset, "v_scale": self.v_scale,
                "in_offset": self.in_offset.tolist(), "in_scale": self.in_scale.tolist(),
                "weights": [[w.tolist(), b.tolist()] for w, b in self.weights],
                "activation": self.activation}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping) -> "NeuralTwoTerminal":
        """The device :meth:`to_dict` wrote (NetlistError naming what is missing or wrong)."""
        require_keys(data, ("i_scale", "relax", "heating", "v_offset", "v_scale", "in_offset",
                            "in_scale", "weights"), "learned device description")
        try:
            return cls(float(data["i_scale"]), float(data["relax"]), tuple(data["heating"]),
                       float(data["v_offset"]), float(data["v_scale"]), data["in_offset"],
                       data["in_scale"], [(w, b) for w, b in data["weights"]],
                       data.get("activation", "tanh"), data.get("name", "learned_switch"))
        except (TypeError, ValueError) as exc:
            raise NetlistError(f"learned device description: {exc}") from None
