"""Voltage-dependent synaptic plasticity (Garg et al., arXiv 2203.11022) on a one-layer SNN,
with ideal weights or RRAM synapses, and pair-based STDP on the same network for comparison.

The rule, applied only when a postsynaptic neuron fires, to its incoming synapses, from the
presynaptic membrane potentials ``V`` (:class:`~.neurons.InputLIF`: reset to -1 after a spike)::

    dw = eta [1(V < 0) (1 - w)(e^{-V} - 1) - 1(V > 0) w (e^{V} - 1)],   w in [0, 1]

STDP (pair-based, nearest-spike traces ``x_pre``, ``x_post`` with time constants ``tau_plus``,
``tau_minus``, a trace below ``trace_cut`` (3 time constants) counting as no pairing, soft
bounds): at a postsynaptic spike ``dw = eta_plus (x_pre - x_tar)`` times ``1 - w`` (potentiation)
or ``w`` (depression), at a presynaptic spike ``dw = -eta_minus x_post w``. The offset
``x_tar`` (Diehl and Cook's presynaptic target) depresses the inputs that did not fire before
the postsynaptic spike; without it the weights of inputs that never fire never fall and the
neurons do not become selective.

Weights are programmed by pulses (:meth:`~.synapses.RRAMArray.pulses_for`), stochastically
rounded: an update below one pulse is applied as one pulse with probability ``|dw|/step``, so
small updates are not lost and the expected change is the rule's. With ``synapse="rram"`` the
pulses are SET (potentiation) or RESET (depression) on the device
(:meth:`~.synapses.RRAMArray.apply`), their count from the device's own step at its present
state (its nonlinearity and asymmetry and the card's device-to-device spread), each pulse with
a cycle-to-cycle spread ``c2c``. ``synapse="ideal"`` is a linear, noise-free device with the
nominal mean step of one pulse per direction (the same resolution).

Counts, the same for both rules and both weight kinds: ``updates`` are the synapse updates the
rule asks for (every nonzero ``dw``: VDSP's on the winner's incoming synapses at each
postsynaptic spike; STDP's at post- and at presynaptic spikes -- the source work's count),
``programmed`` the synapses that received at least one pulse, ``pulses`` the device's pulses
(RRAM only).

Read-out (unsupervised learning, then labelling): thresholds are frozen, every neuron is
assigned the class it responds to most on the training set, and a test sample is classified
by the class whose neurons spike most on average (no spikes: counted wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurospice.errors import ArgumentError
from neurospice.learning.neurons import InputLIF, OutputLIF

#: The assumed cycle-to-cycle spread of one RRAM step (lognormal sigma; the card's sc2c is 0).
C2C = 0.2


@dataclass
class SNNConfig:
    """The network and its rule: ``n_out`` output neurons, ``steps`` time steps per sample
    (``dt`` = 1), ``w_gain`` the synaptic current of a spike through a weight of 1, the rule
    (``"vdsp"`` or ``"stdp"``) and its rates, the synapse kind (``"ideal"`` or ``"rram"``).
    The rates and ``theta_plus`` were settled on a validation split of the digits' training
    set (:func:`~.data.validation`; seeds 0 and 1), each rule on the same grid."""

    n_out: int = 100
    steps: int = 60
    w_gain: float = 0.25
    rule: str = "vdsp"
    eta: float = 0.1
    eta_plus: float = 0.1
    eta_minus: float = 0.04
    tau_plus: float = 10.0
    tau_minus: float = 10.0
    trace_cut: float = float(np.exp(-3.0))
    x_tar: float = 0.4
    synapse: str = "ideal"
    c2c: float = C2C
    epochs: int = 1
    inputs: InputLIF = field(default_factory=InputLIF)
    theta0: float = 5.0
    theta_plus: float = 0.1

    def __post_init__(self):
        if self.rule not in ("vdsp", "stdp"):
            raise ArgumentError(f"rule must be 'vdsp' or 'stdp', got {self.rule!r}")
        if self.synapse not in ("ideal", "rram"):
            raise ArgumentError(f"synapse must be 'ideal' or 'rram', got {self.synapse!r}")


def vdsp_dw(v_pre, w, eta: float) -> np.ndarray:
    """The VDSP weight change of synapses with presynaptic potentials ``v_pre`` and weights
    ``w`` (broadcast)."""
    v = np.asarray(v_pre, dtype=float)
    return eta * np.where(v < 0, (1 - w) * np.expm1(-v), -w * np.expm1(np.maximum(v, 0.0)))


@dataclass
class SNNResult:
    accuracy: float
    updates: int
    programmed: int
    pulses: int
    post_spikes: int
    energy_J: float
    seconds: float
    samples: int
    weights: np.ndarray
    labels: np.ndarray


class SNN:
    """The one-layer network of :class:`SNNConfig` on ``n_in`` inputs, seeded."""

    def __init__(self, n_in: int, config: SNNConfig, seed):
        from neurospice.learning.synapses import RRAMArray

        self.cfg = config
        self.n_in = n_in
        self.rng = np.random.default_rng(seed)
        w0 = self.rng.uniform(0.3, 0.7, (n_in, config.n_out))
        # the device fixes the programming step for every variant
        self.device = RRAMArray((n_in, config.n_out), self.rng, d2d=config.synapse == "rram",
                                c2c=config.c2c if config.synapse == "rram" else 0.0)
        if config.synapse == "rram":
            self.device.set_weights(w0)
            self.w = self.device.weights()
        else:
            self.w = w0
        self.out = OutputLIF(config.n_out, theta0=config.theta0, theta_plus=config.theta_plus)
        self.updates = 0
        self.programmed = 0
        self.post_spikes = 0

    def _apply(self, rows, cols, dw) -> None:
        """Program the updates ``dw`` of synapses (rows, cols) as pulses, stochastically
        rounded (:meth:`~.synapses.RRAMArray.pulses_for`); a synapse that receives at least
        one pulse is programmed. Every nonzero ``dw`` counts as one update (the synapse
        updates the rule asks for)."""
        self.updates += int(np.count_nonzero(dw))
        if self.cfg.synapse == "rram":
            flat = rows * self.cfg.n_out + cols
            n = self.device.pulses_for(dw, flat, rng=self.rng)
            hit = n != 0
            if not np.any(hit):
                return
            self.device.apply(flat[hit], n[hit])
            self.w[rows[hit], cols[hit]] = self.device.weights().reshape(-1)[flat[hit]]
        else:
            n = self.device.pulses_for(dw, rng=self.rng)
            hit = n != 0
            if not np.any(hit):
                return
            n = n[hit]
            step = np.where(n > 0, self.device.unit["set"], self.device.unit["reset"])
            r, c = rows[hit], cols[hit]
            self.w[r, c] = np.clip(self.w[r, c] + n * step, 0.0, 1.0)
        self.programmed += int(np.count_nonzero(hit))

    def train(self, x) -> None:
        """One pass over the images ``x`` (samples, n_in) in [0, 1], learning on."""
        cfg = self.cfg
        all_rows = np.arange(self.n_in)
        for xs in x:
            xs = xs[None, :]
            v_in = cfg.inputs.start(xs, self.rng)
            v_out = np.zeros((1, cfg.n_out))
            x_pre = np.zeros(self.n_in)
            x_post = np.zeros(cfg.n_out)
            for _ in range(cfg.steps):
                v_in, s = cfg.inputs.step(v_in, xs)
                v_out, win = self.out.step(v_out, cfg.w_gain * (s.astype(float) @ self.w))
                j = int(win[0])
                if cfg.rule == "stdp":
                    x_pre *= np.exp(-1.0 / cfg.tau_plus)
                    x_post *= np.exp(-1.0 / cfg.tau_minus)
                    pre = np.flatnonzero(s[0])
                    x_pre[pre] = 1.0
                    if pre.size:       # depression at presynaptic spikes
                        post = np.flatnonzero(x_post > cfg.trace_cut)
                        if post.size:
                            rr, cc = np.meshgrid(pre, post, indexing="ij")
                            rr, cc = rr.ravel(), cc.ravel()
                            self._apply(rr, cc, -cfg.eta_minus * x_post[cc] * self.w[rr, cc])
                if j < 0:
                    continue
                self.post_spikes += 1
                cols = np.full(self.n_in, j)
                if cfg.rule == "vdsp":
                    dw = vdsp_dw(v_in[0], self.w[:, j], cfg.eta)
                else:
                    x_post[j] = 1.0
                    d = np.where(x_pre > cfg.trace_cut, x_pre, 0.0) - cfg.x_tar
                    dw = cfg.eta_plus * d * np.where(d > 0, 1 - self.w[:, j], self.w[:, j])
                self._apply(all_rows, cols, dw)

    def responses(self, x, steps: int | None = None) -> np.ndarray:
        """Spike counts (samples, n_out) with learning and adaptation off, all samples at
        once."""
        cfg = self.cfg
        steps = steps or cfg.steps
        v_in = cfg.inputs.start(x, self.rng)
        v_out = np.zeros((len(x), cfg.n_out))
        counts = np.zeros((len(x), cfg.n_out))
        rows = np.arange(len(x))
        for _ in range(steps):
            v_in, s = cfg.inputs.step(v_in, x)
            v_out, win = self.out.step(v_out, cfg.w_gain * (s.astype(float) @ self.w),
                                       adapt=False)
            fired = win >= 0
            counts[rows[fired], win[fired]] += 1
        return counts

    def label(self, x, y, n_classes: int) -> np.ndarray:
        """Each neuron's class: the class with its highest mean response on (x, y)."""
        counts = self.responses(x)
        mean = np.stack([counts[y == c].mean(axis=0) if np.any(y == c)
                         else np.zeros(self.cfg.n_out) for c in range(n_classes)])
        return np.argmax(mean, axis=0)

    def predict(self, x, labels, n_classes: int) -> np.ndarray:
        counts = self.responses(x)
        score = np.full((len(x), n_classes), -1.0)
        for c in range(n_classes):
            if np.any(labels == c):
                score[:, c] = counts[:, labels == c].mean(axis=1)
        pred = np.argmax(score, axis=1)
        return np.where(counts.sum(axis=1) > 0, pred, -1)


def run(task, config: SNNConfig, seed) -> SNNResult:
    """Train on ``task.x_train`` (``config.epochs`` passes), label on it, test on
    ``task.x_test``; the updates counted over training."""
    import time

    net = SNN(task.n_inputs, config, seed)
    t0 = time.perf_counter()
    for _ in range(config.epochs):
        net.train(task.x_train)
    seconds = time.perf_counter() - t0
    labels = net.label(task.x_train, task.y_train, task.n_classes)
    pred = net.predict(task.x_test, labels, task.n_classes)
    acc = float(np.mean(pred == task.y_test))
    return SNNResult(acc, net.updates, net.programmed, net.device.pulses, net.post_spikes,
                     net.device.energy,
                     seconds, len(task.x_train) * config.epochs, net.w.copy(), labels)
