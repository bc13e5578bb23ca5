"""A hybrid two-terminal device: known physics plus a learned term.

Where a device's physics is known in form (a thermal threshold switch: the project's ``nbox``
device, fitted as a grey box by
:func:`~neurospice.calibration.recipes.neural_ode.train_thermal_switch`) but the form may lack
something the device does (a metallic channel that opens when hot, a leak), the part the form
misses is learned: :class:`HybridSwitch` is the ``nbox`` device of a fitted card whose
oxide conductance gains a learned factor,

    G = G_nbox(T, v_ox) exp(MLP((v - o_v)/s_v, (Ts - o_s)/s_s))

a small perceptron (:func:`~.mlp_forward`, tanh by default) of the switch's voltage and of
the physics' own states (normalised): its surroundings' temperature ``Ts`` by default; the
device temperature ``T`` may be given too, but from recordings sampled slower than the
thermal time it lets the network read the current back (docs/guides/neural_ode.md). A
learned term added to the logarithm of
the conductance, where thermally activated conduction is simple (Arrhenius: linear in
1/T), so that the conductance stays positive however far the network extrapolates. The
rest is the form's: the current ``v G / (1 + G r_c)`` through the contact resistance and
the oxide's Joule power ``v^2 G / (1 + G r_c)^2`` heating the device, so that a learned
channel heats it as a real one would. The network is trained on the grey box's residual
(:func:`~neurospice.calibration.recipes.neural_ode.train_switch_correction`).

:attr:`HybridSwitch.device` is a framework :class:`~..framework.Device` built from the
``nbox`` definition (:func:`with_learned_term`: its parameters, with the fitted card as their
defaults, states, locals and rates, the network's locals after its conductance ``g1``):
Verilog-A (OpenVAF-safe), ngspice and Xyce subcircuits and numpy from one definition. Ports
``p``, ``n`` and the ``nbox`` noise input ``xi`` (tied to ground by
:meth:`HybridSwitch.add_to`).
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.framework import Device
from neurospice.errors import NetlistError
from neurospice.netlists.values import check_name

from . import checked_network, mlp_forward, mlp_locals, number_text, require_keys, verilog_a_file

__all__ = ["HybridSwitch", "with_learned_term", "INPUTS"]


class _Renamed(ast.NodeTransformer):
    def __init__(self, names: Mapping[str, str]):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.copy_location(ast.Name(self.names[node.id], node.ctx), node)
        return node


def with_learned_term(base, *, name: str, description: str, defaults: Mapping[str, float],
                      after: str, extra_locals: Sequence[tuple], replaces: Mapping[str, str]):
    """A :class:`~..framework.Device` from ``base``: its parameters (``defaults``, checked by
    ``base``, as their defaults), terminals, states, locals, currents and rates, with
    ``extra_locals`` inserted after its local ``after`` (they may use it and everything
    before), and from there on, in the later locals, the currents and the rates, the names
    of ``replaces`` (``{old: new}``) read as the new locals (e.g. the conductance ``g1`` as
    the learned one)."""
    names = [entry[0] for entry in base.locals]
    if after not in names:
        raise NetlistError(f"with_learned_term: {base.name} has no local {after!r}")
    values = base.params(defaults)
    params = tuple(replace(p, default=values[p.name]) for p in base.parameters)
    renamer = _Renamed(dict(replaces))

    def renamed(text: str) -> str:
        return ast.unparse(renamer.visit(ast.parse(text, mode="eval")))

    k = names.index(after) + 1
    later = tuple((n, renamed(t), *rest) for n, t, *rest in base.locals[k:])
    return Device(name=name, description=description, terminals=base.terminals,
                  parameters=params,
                  currents=tuple((a, b, renamed(t)) for a, b, t in base.currents),
                  states=base.states, rates={s: renamed(t) for s, t in base.rates.items()},
                  locals=tuple(base.locals[:k]) + tuple(extra_locals) + later,
                  noise_inputs=base.noise_inputs,
                  references=tuple(base.references) + ("docs/guides/neural_ode.md",))


#: The network's possible inputs: the switch's voltage (V), its temperature and its
#: surroundings' (K), with the names the ``nbox`` device gives them.
INPUTS = {"v": "vd", "T": "T", "Ts": "Ts"}


@dataclass(eq=False)
class HybridSwitch:
    """The ``nbox`` device of ``card`` (its fitted parameters; the rest at the device's
    defaults) with a learned factor on its oxide conductance (see the module docstring):
    ``inputs``: the network's, among ``v``, ``T`` and ``Ts`` (:data:`INPUTS`);
    ``in_offset``, ``in_scale``: their normalisation (V, K); ``weights`` ``[(W, b), ...]``
    per layer (one output, the logarithm of the factor); ``activation`` ``"tanh"`` or
    ``"sigmoid"``."""

    card: dict
    inputs: tuple
    in_offset: np.ndarray
    in_scale: np.ndarray
    weights: list
    activation: str = "tanh"
    name: str = "nbox_hybrid"

    def __post_init__(self):
        from neurospice.compact_models.nbox import DEVICE

        check_name(self.name, what="model name")
        self.card = DEVICE.checked(self.card)
        self.inputs = tuple(self.inputs)
        if not self.inputs or len(set(self.inputs)) != len(self.inputs) \
                or not set(self.inputs) <= set(INPUTS):
            raise NetlistError(f"hybrid device {self.name}: inputs must be distinct names "
                               f"among {list(INPUTS)}, got {self.inputs!r}")
        self.in_offset, self.in_scale, self.weights = checked_network(
            f"hybrid device {self.name}", self.activation, len(self.inputs), self.in_offset,
            self.in_scale, self.weights)

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(w.shape[0] for w, _ in self.weights[:-1])

    @property
    def size(self) -> int:
        """The network's weights and biases."""
        return int(sum(w.size + b.size for w, b in self.weights))

    @property
    def weight_norm(self) -> float:
        """The Euclidean norm of all the network's weights (the biases not counted)."""
        return float(math.sqrt(sum(float(np.sum(w * w)) for w, _ in self.weights)))

    def log_factor(self, **values) -> np.ndarray:
        """The network's output, the logarithm of the learned conductance factor, at the
        values of its inputs (``v=`` V, ``T=``, ``Ts=`` K: arrays of one shape)."""
        cols = [np.asarray(values[k], float) for k in self.inputs]
        x = (np.stack(cols, axis=-1) - self.in_offset) / self.in_scale
        out, _ = mlp_forward(self.weights, x.reshape(-1, len(cols)), self.activation)
        return out[:, 0].reshape(cols[0].shape)

    def with_card(self, **values) -> "HybridSwitch":
        """A copy whose card has ``values`` changed (the network kept)."""
        return replace(self, card={**self.card, **values})

    # ------------------------------------------------------------------ the framework rendering
    @cached_property
    def device(self):
        """The hybrid device as a framework :class:`~..framework.Device` (see the module
        docstring)."""
        from neurospice.compact_models.nbox import DEVICE

        names = [f"xn_{k.lower()}" for k in self.inputs]
        norm = [(nm, f"({INPUTS[k]} - {number_text(o)}) / {number_text(s)}")
                for nm, k, o, s in zip(names, self.inputs, self.in_offset, self.in_scale)]
        hidden, (out,) = mlp_locals(self.weights, names, self.activation)
        extra = [*norm, *hidden, ("g1h", f"g1*exp({out})", 1e-3)]
        return with_learned_term(
            DEVICE, name=self.name, defaults=self.card, after="g1", extra_locals=extra,
            replaces={"g1": "g1h"},
            description=f"hybrid thermal threshold switch: the nbox form of a fitted card, "
                        f"its oxide conductance times exp(MLP {list(self.hidden)} "
                        f"{self.activation} of ({', '.join(self.inputs)}))")

    def verilog_a_path(self):
        """The Verilog-A rendering in the cache folder (:func:`~.verilog_a_file`)."""
        return verilog_a_file(self.device)

    def add_to(self, circuit, name: str, nodes: Sequence[str], *, rendering: str = "osdi",
               params: Mapping[str, float] | None = None):
        """Place the hybrid switch between ``nodes`` ``(p, n)`` of ``circuit`` (its noise
        input tied to ground); ``params`` change the card's values for this instance."""
        va = self.verilog_a_path() if rendering == "osdi" else None
        return self.device.add_to(circuit, name, [*nodes, "0"], rendering=rendering,
                                  params=dict(params or {}), va_path=va)

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        return {"kind": "hybrid_switch", "name": self.name, "card": dict(self.card),
                "inputs": list(self.inputs), "in_offset": self.in_offset.tolist(), "in_scale": self.in_scale.tolist(),
                "weights": [[w.tolist(), b.tolist()] for w, b in self.weights],
                "activation": self.activation}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping) -> "HybridSwitch":
        """The device :meth:`to_dict` wrote (NetlistError naming what is missing or wrong)."""
        require_keys(data, ("card", "inputs", "in_offset", "in_scale", "weights"),
                     "hybrid device description")
        try:
            return cls(dict(data["card"]), tuple(data["inputs"]), data["in_offset"], data["in_scale"],
                       [(w, b) for w, b in data["weights"]], data.get("activation", "tanh"),
                       data.get("name", "nbox_hybrid"))
        except (TypeError, ValueError) as exc:
            raise NetlistError(f"hybrid device description: {exc}") from None
