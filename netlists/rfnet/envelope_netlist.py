"""The envelope netlist: the whole network as an operating-point circuit, one device one element.

Design (what keeps 34 176 devices tractable in ngspice):

- **A tone is a node** ``l<layer>p<i>`` whose voltage is its power in uW (v = P / 1 uW, so
  nodes sit near 1 V where the simulators' tolerances work). Layer 0's are voltage sources
  (the input spectrum); a hidden layer's are the oscillators' outputs.
- **A resonator is one B-source** computing its rectified voltage from the powers of the
  tones in its band: ksd sum_t v(p_t) 2 h (f_t - fr) / (h^2 + (f_t - fr)^2), h = alpha fr,
  with its resonance fr (the trained weight) and the tones' frequencies f_t written as
  numbers (GHz) in the expression. Only power nodes control it: frequency *nodes*, shared by
  every chain, made each resonator depend on dozens of common nodes and ngspice's sparse
  solver grow faster than linearly (43 s for 32 x 256 resonators against 3 s with numbers);
  with numbers the cost grows linearly, about 0.2 s and 13 MB of ngspice memory per chain of
  256 resonators with a band of 8 (the whole drone network: some 75 MB of netlist, 2 GB).
  Tones beyond the layer's edges are simply absent.
- **Chains are series connections** of those instances with alternating polarity (odd
  resonators have their ports swapped: reversing a junction reverses its rectified voltage),
  topped by the chain's bias voltage source; the top node is the chain voltage.
- **An oscillator neuron is one instance** of ``rfneuron``: a voltage-to-current stage
  (a B-source current g_m (v + V_b), clipped to [0, i_clamp]) through the oscillator's DC
  resistance r_osc, and the emitted power G p(I) r_osc I^2 (after the amplifier) as a voltage
  at its power node, computed from the simulated current. Its frequency is a source.
- Every element depends only on nodes of earlier layers: the circuit is feed-forward and its
  operating point converges in a few Newton iterations whatever its size.

Bands: the netlist rectifies exactly the tones the numpy model's band keeps (see
:mod:`.network`), so the two agree to rounding; ``band=None`` on a 256-tone layer would make
every resonator read 256 tones (an expression 30 times longer), which is why the drone
network is trained with a band.

:func:`evaluate` runs one operating point per sample (batch ngspice, in parallel processes) or,
with ``batched=True``, all samples as one transient whose input sources step through them
(PWL; the circuit has no memory, so each time point is an operating point).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from neurospice.errors import NetlistError
from neurospice.netlists import Circuit, Pwl, Subcircuit
from neurospice.netlists.rfnet.network import RFNetwork

P_REF = 1e-6      # W per volt on a power node
F_REF = 1e9       # Hz per volt on a frequency node


def _neuron_subckt(net: RFNetwork) -> Subcircuit:
    c = net.constants
    sub = Subcircuit("rfneuron", ["vin", "pw"], gm=c["g_m"], vb=c["v_b"], iclamp=c["i_clamp"],
                     ith=c["i_th"], q=c["q"], rosc=c["r_osc"], gain=c["amp_gain"])
    # V-to-I stage: a current source with compliance into the oscillator (r_osc to ground)
    sub.bsource("vi", "0", "osc", i="min(max(gm*(v(vin) + vb), 0), iclamp)")
    sub.resistor("osc", "osc", "0", c["r_osc"])
    # emitted power (after the amplifier) from the simulated current I = v(osc)/rosc, in uW
    xi = "v(osc)/(rosc*ith)"
    sub.bsource("pw", "pw", "0", v=f"gain*max({xi} - 1, 0)/({xi} + q)*v(osc)*v(osc)/rosc"
                                  f"/{P_REF!r}")
    return sub


def _tone(li: int, i: int) -> str:
    return f"l{li}p{i}"


def resonator_expression(fr_hz: float, tones, alpha: float, ksd_v_per_uw: float) -> str:
    """The rectified voltage of one resonator (resonance ``fr_hz``) as an expression of the
    power nodes of its tones, ``tones`` = [(node, frequency in Hz), ...]."""
    fr = fr_hz / F_REF
    h2 = (alpha * fr) ** 2
    terms = " + ".join(f"v({node})*({f / F_REF!r} - {fr!r})/({h2!r} + ({f / F_REF!r} - {fr!r})**2)"
                       for node, f in tones)
    return f"{2 * ksd_v_per_uw * alpha * fr!r}*({terms})"


def build(net: RFNetwork, powers_w=None, *, batched: bool = False) -> Circuit:
    """The envelope circuit of ``net``. ``powers_w``: one sample (n_inputs,) for an operating
    point, or with ``batched`` a (samples, n_inputs) array that input sources step through
    (sample s on [s, s + 1) s, see :func:`evaluate`). None: zero inputs."""
    c = Circuit(f"{net.name}: envelope netlist ({net.device_count['total']} devices)")
    a = net.constants["alpha"]
    ksd_uw = net.constants["k_sd"] * P_REF
    n0 = net.layers[0].n_in
    x = None if powers_w is None else np.asarray(powers_w, dtype=float)
    if x is not None and x.shape[-1] != n0:
        raise NetlistError(f"inputs have {x.shape[-1]} powers, the network {n0}")
    for i in range(n0):
        if batched:
            c.vsource(f"in{i}", _tone(0, i), "0", waveform=_steps(x[:, i] / P_REF))
        else:
            c.vsource(f"in{i}", _tone(0, i), "0", 0.0 if x is None else float(x[i] / P_REF))
    neuron = None
    for li, lay in enumerate(net.layers):
        m = net._band(li)
        fr = net.res_freq(li)
        ft = net.tones(li)
        s = lay.polarity
        for j in range(lay.n_chains):
            for k in range(lay.n_in):
                tones = [(_tone(li, i), float(ft[i]))
                         for i in range(max(0, k - m), min(lay.n_in, k + m + 1))]
                top = f"l{li}c{j}n{k + 1}"
                bot = f"l{li}c{j}n{k}" if k else "0"
                ends = [top, bot] if s[k] > 0 else [bot, top]
                c.bsource(f"r{li}_{j}_{k}", *ends,
                          v=resonator_expression(float(fr[j, k]), tones, a, ksd_uw))
            c.vsource(f"b{li}_{j}", f"l{li}v{j}", f"l{li}c{j}n{lay.n_in}", float(lay.bias_v[j]))
        if li < len(net.layers) - 1:
            if neuron is None:
                neuron = c.subcircuit(_neuron_subckt(net))
            for j in range(lay.n_chains):
                gain = float(net.osc_gain(li)[j])
                c.instance(f"o{li}_{j}", "rfneuron", [f"l{li}v{j}", _tone(li + 1, j)], gain=gain)
    return c


def _steps(values) -> Pwl:
    """Sample s held from s to s + 1 (in units of 1 s; the circuit has no memory): corners
    at s + 0.001 so each plateau's midpoint s + 0.5 reads sample s exactly."""
    t, v = [], []
    for s, val in enumerate(values):
        t += [s + 0.0 if s == 0 else s + 0.001, s + 1.0]
        v += [float(val), float(val)]
    return Pwl(t, v)


def output_names(net: RFNetwork) -> list[str]:
    li = len(net.layers) - 1
    return [f"v(l{li}v{j})" for j in range(net.layers[-1].n_chains)]


def hidden_names(net: RFNetwork, li: int) -> dict:
    lay = net.layers[li]
    return {"v": [f"v(l{li}v{j})" for j in range(lay.n_chains)],
            "osc": [f"v(xo{li}_{j}.osc)" for j in range(lay.n_chains)],
            "pw": [f"v(l{li + 1}p{j})" for j in range(lay.n_chains)]}


def evaluate(net: RFNetwork, powers_w, *, simulator: str = "ngspice", workers: int | None = None,
             timeout: float = 900, batched: bool = False, show_progress: bool = False,
             with_op: bool = False):
    """Output chain voltages (samples x outputs, V) of the envelope netlist, simulated.
    One OP per sample (``workers`` processes at a time), or one batched transient. With
    ``with_op`` also returns the list of per-sample operating points (dicts name -> value)."""
    from neurospice.netlists.rfnet.train import progress
    from neurospice.simulators import get_simulator

    x = np.atleast_2d(np.asarray(powers_w, dtype=float))
    sim = get_simulator(simulator)
    names = output_names(net)
    if batched:
        c = build(net, x, batched=True)
        c.tran(0.5, float(len(x)), max_step=0.5)
        res = sim.run(c, timeout=timeout).tran
        mid = np.arange(len(x)) + 0.5
        out = np.array([np.interp(mid, res.axis, res[n]) for n in names]).T
        return (out, None) if with_op else out

    def one(k):
        c = build(net, x[k])
        c.op()
        r = sim.run(c, timeout=timeout).op
        return {n: float(np.ravel(r[n])[0]) for n in r.names}

    workers = workers or min(2, os.cpu_count() or 1)
    ops = [None] * len(x)
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(one, k): k for k in range(len(x))}
        for fut in futures:
            ops[futures[fut]] = fut.result()
            done += 1
            if show_progress:
                progress(f"netlist OP {done}/{len(x)}", done / len(x))
    out = np.array([[op[n] for n in names] for op in ops])
    return (out, ops) if with_op else out
