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
- **An oscillator neuron is one instance** of ``rfneuron``: the chain's read-out amplifier
  (voltage gain A_j, the instance's ``av``) and a voltage-to-current stage (a B-source
  current g_m (A_j v + V_b), clipped to [0, i_clamp]) through the oscillator's DC
  resistance r_osc, and the emitted power G p(I) r_osc I^2 (after the amplifier) as a voltage
  at its power node, computed from the simulated current. Its frequency is a source.
- Every element depends only on nodes of earlier layers: the circuit is feed-forward and its
  operating point converges in a few Newton iterations whatever its size.

Bands: the netlist rectifies exactly the tones the numpy model's band keeps (see
:mod:`.network`), so the two agree to rounding; ``band=None`` on a 256-tone layer would make
every resonator read 256 tones (an expression 30 times longer), which is why the drone
network is trained with a band.

:func:`evaluate` runs one operating point per sample (batch ngspice, in parallel processes) or,
with ``batched=True``, all samples in one analysis: in ngspice one ``.dc`` sweep of a
sample-index source whose voltage selects each input's value from a table of the samples
(a continuation from one sample's solution to the next: about three Newton iterations a
sample, against some sixteen in a transient that ramps between samples), elsewhere one
transient whose input sources step through them (PWL; the circuit has no memory, so each
time point is an operating point).
"""

from __future__ import annotations

import os
import time

import numpy as np

from neurospice.errors import NetlistError, UnsupportedPoint
from neurospice.netlists import Circuit, Pwl, Subcircuit
from neurospice.netlists.expr import WeightedSum, sample_table, weighted_sum
from neurospice.circuits.rfnet.network import RFNetwork, lorentzian

P_REF = 1e-6      # W per volt on a power node


def _neuron_subckt(net: RFNetwork) -> Subcircuit:
    c = net.constants
    sub = Subcircuit("rfneuron", ["vin", "pw"], gm=c["g_m"], vb=c["v_b"], iclamp=c["i_clamp"],
                     ith=c["i_th"], q=c["q"], rosc=c["r_osc"], gain=c["amp_gain"], av=1.0)
    # read-out amplifier (gain av) and V-to-I stage: a current source with compliance into
    # the oscillator (r_osc to ground)
    sub.bsource("vi", "0", "osc", i="min(max(gm*(av*v(vin) + vb), 0), iclamp)")
    sub.resistor("osc", "osc", "0", c["r_osc"])
    # emitted power (after the amplifier) from the simulated current I = v(osc)/rosc, in uW
    xi = "v(osc)/(rosc*ith)"
    sub.bsource("pw", "pw", "0", v=f"gain*max({xi} - 1, 0)/({xi} + q)*v(osc)*v(osc)/rosc"
                                  f"/{P_REF!r}")
    return sub


def _tone(li: int, i: int) -> str:
    return f"l{li}p{i}"


def resonator_coefficients(fr_hz, tone_freq_hz, alpha: float, ksd_v_per_uw: float):
    """Volts per uW of each tone on a resonator tuned at ``fr_hz``: K_SD 2 h (f - fr) /
    (h^2 + (f - fr)^2), h = alpha fr -- the Lorentzian as a number (every frequency is a
    constant of the netlist), computed by the numpy model's own function. Broadcasts."""
    return ksd_v_per_uw * lorentzian(np.asarray(tone_freq_hz, dtype=float),
                                     np.asarray(fr_hz, dtype=float), alpha)


def linear_expression(coefficients, nodes) -> WeightedSum:
    """``c1*v(n1)+c2*v(n2)-...``: a weighted sum of node voltages, rendered from its numbers
    at full precision with no parsing (see :class:`~neurospice.netlists.expr.WeightedSum`)."""
    return weighted_sum(coefficients, nodes)


def resonator_module(inputs: int) -> tuple[str, str]:
    """(module name, Verilog-A text) of the generated resonator with ``inputs`` tone ports:
    ``V(p, n) = sum_k c_k V(i_k)``, the coefficients instance parameters (a resonator's
    Lorentzian weights, :func:`resonator_coefficients`; unused ports tied to ground with
    c_k = 0). Compiled by openvaf-r for ngspice's OSDI: a compiled linear element, where a
    B-source's interpreted expression and its derivatives cost some four times the load."""
    ports = [f"i{k}" for k in range(inputs)]
    name = f"ns_resonator{inputs}"
    lines = ['`include "disciplines.vams"', "",
             f"// generated by neurospice.circuits.rfnet.envelope_netlist: {inputs} tones",
             f"module {name}(p, n, {', '.join(ports)});",
             "  inout p, n;", f"  input {', '.join(ports)};",
             f"  electrical p, n, {', '.join(ports)};"]
    lines += [f'  (* type="instance" *) parameter real c{k} = 0.0;' for k in range(inputs)]
    lines += ["  analog begin",
              "    V(p, n) <+ " + " + ".join(f"c{k}*V(i{k})" for k in range(inputs)) + ";",
              "  end", "endmodule", ""]
    return name, "\n".join(lines)


def _resonator_model(c: Circuit, inputs: int) -> str:
    """Add the generated resonator module's model card (its file written once into the
    cache, where compile_va keys the compiled OSDI by content); returns the model name."""
    from neurospice.paths import cache_dir

    name, text = resonator_module(inputs)
    path = cache_dir("generated") / f"{name}.va"
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    c.verilog_a_model("nsres", path, module=name)
    return "nsres"


def build(net: RFNetwork, powers_w=None, *, batched: bool = False, swept: bool = False,
          rendering: str = "behavioral", timings: dict | None = None,
          hold: float = 0.0) -> Circuit:
    """The envelope circuit of ``net``. ``powers_w``: one sample (n_inputs,) for an operating
    point, or with ``batched`` a (samples, n_inputs) array that input sources step through
    (sample s at time s, see :func:`evaluate`), or with ``swept`` such an array as tables
    indexed by the voltage of the source ``vidx`` (node ``idx``): the inputs are B-sources
    reading sample s at v(idx) = s, for one ``.dc`` sweep of ``vidx`` over 0..samples-1
    (added here). None: zero inputs. ``rendering``: ``"behavioral"`` (each resonator a
    B-source, every simulator) or ``"osdi"`` (each an instance of the generated
    :func:`resonator_module`, ngspice and VACASK). ``timings``, a dict,
    receives the seconds spent computing coefficients and text (``expressions``) and adding
    elements through the Circuit API (``circuit``)."""
    c = Circuit(f"{net.name}: envelope netlist ({net.device_count['total']} devices)")
    a = net.constants["alpha"]
    ksd_uw = net.constants["k_sd"] * P_REF
    n0 = net.layers[0].n_in
    x = None if powers_w is None else np.asarray(powers_w, dtype=float)
    if x is not None and x.shape[-1] != n0:
        raise NetlistError(f"inputs have {x.shape[-1]} powers, the network {n0}")
    t_text = t_add = 0.0
    if swept:
        c.vsource("idx", "idx", "0", 0.0)
        # Newton stops when an iteration moves a node by less than reltol |v| + vntol: at
        # the defaults (1e-3, 1 uV) a sample continued from the last one can stop 1e-3
        # off; one or two more iterations bring it to rounding
        c.option("reltol", 1e-9)
        c.option("vntol", 1e-12)
    for i in range(n0):
        if swept:
            c.bsource(f"in{i}", _tone(0, i), "0", v=sample_table("idx", x[:, i] / P_REF))
        elif batched:
            c.vsource(f"in{i}", _tone(0, i), "0", waveform=_steps(x[:, i] / P_REF, hold))
        else:
            c.vsource(f"in{i}", _tone(0, i), "0", 0.0 if x is None else float(x[i] / P_REF))
    if rendering not in ("behavioral", "osdi"):
        raise NetlistError(f"rendering must be 'behavioral' or 'osdi', got {rendering!r}")
    width = max(min(lay.n_in, 2 * net.band(li) + 1) for li, lay in enumerate(net.layers))
    model = _resonator_model(c, width) if rendering == "osdi" else None
    neuron = None
    for li, lay in enumerate(net.layers):
        m = net.band(li)
        fr = net.res_freq(li)
        ft = net.tones(li)
        s = lay.polarity
        nodes = [_tone(li, i) for i in range(lay.n_in)]
        names_c = [f"c{k}" for k in range(width)]
        spans = [(max(0, k - m), min(lay.n_in, k + m + 1)) for k in range(lay.n_in)]
        for j in range(lay.n_chains):
            t0 = time.perf_counter()
            if model is None:
                texts = [linear_expression(resonator_coefficients(fr[j, k], ft[lo:hi], a,
                                                                  ksd_uw), nodes[lo:hi])
                         for k, (lo, hi) in enumerate(spans)]
            else:
                texts = [dict(zip(names_c, resonator_coefficients(fr[j, k], ft[lo:hi], a,
                                                                  ksd_uw).tolist()))
                         for k, (lo, hi) in enumerate(spans)]
            t1 = time.perf_counter()
            for k, text in enumerate(texts):
                top = f"l{li}c{j}n{k + 1}"
                bot = f"l{li}c{j}n{k}" if k else "0"
                ends = [top, bot] if s[k] > 0 else [bot, top]
                if model is None:
                    c.bsource(f"r{li}_{j}_{k}", *ends, v=text)
                else:
                    lo, hi = spans[k]
                    c.va_instance(f"r{li}_{j}_{k}", model,
                                  [*ends, *nodes[lo:hi], *["0"] * (width - hi + lo)], **text)
            c.vsource(f"b{li}_{j}", f"l{li}v{j}", f"l{li}c{j}n{lay.n_in}", float(lay.bias_v[j]))
            t_text += t1 - t0
            t_add += time.perf_counter() - t1
        if li < len(net.layers) - 1:
            if neuron is None:
                neuron = c.subcircuit(_neuron_subckt(net))
            for j in range(lay.n_chains):
                gain = float(net.osc_gain(li)[j])
                c.instance(f"o{li}_{j}", "rfneuron", [f"l{li}v{j}", _tone(li + 1, j)], gain=gain,
                           av=float(lay.v_gain[j]))
    if swept:
        c.dc("vidx", 0.0, float(len(x) - 1), 1.0)
    if timings is not None:
        timings["expressions"] = timings.get("expressions", 0.0) + t_text
        timings["circuit"] = timings.get("circuit", 0.0) + t_add
    return c


def _steps(values, hold: float = 0.0) -> Pwl:
    """Sample s at time s (in units of 1 s; the circuit has no memory), straight ramps
    between: the only breakpoints are the samples, so ngspice lands on each exactly and
    takes a handful of steps between (corners of a long plateau would add a dozen steps a
    sample as the simulator restarts its step after each). ``hold`` > 0 holds each sample
    on [s - hold, s + hold] for a simulator that may step a hair past a breakpoint."""
    v = [float(x) for x in values]
    if len(v) == 1:
        v = v * 2
    if hold <= 0:
        return Pwl([float(s) for s in range(len(v))], v)
    t, w = [], []
    for s, val in enumerate(v):
        for c in (s - hold, s + hold):
            if 0.0 <= c <= len(v) - 1:
                t.append(c)
                w.append(val)
    t = [0.0] + t if t[0] > 0 else t
    w = [v[0]] + w if len(w) < len(t) else w
    if t[-1] < len(v) - 1:
        t.append(float(len(v) - 1))
        w.append(v[-1])
    return Pwl(t, w)


def sample_times(n: int):
    """(times at which the batched transient reads samples 0..n-1, its stop time)."""
    return np.arange(n, dtype=float), float(max(n - 1, 1))


def output_names(net: RFNetwork) -> list[str]:
    li = len(net.layers) - 1
    return [f"v(l{li}v{j})" for j in range(net.layers[-1].n_chains)]


def hidden_names(net: RFNetwork, li: int) -> dict:
    lay = net.layers[li]
    return {"v": [f"v(l{li}v{j})" for j in range(lay.n_chains)],
            "osc": [f"v(xo{li}_{j}.osc)" for j in range(lay.n_chains)],
            "pw": [f"v(l{li + 1}p{j})" for j in range(lay.n_chains)]}


def evaluate(net: RFNetwork, powers_w, *, simulator: str = "ngspice", workers: int | None = None,
             timeout: float = 900, batched: bool = False, show_progress: bool | None = None,
             with_op: bool = False, timings: dict | None = None, series: bool = False):
    """Output chain voltages (samples x outputs, V) of the envelope netlist, simulated.
    One OP per sample (``workers`` processes at a time), or ``batched``: in ngspice one
    ``.dc`` sweep of the sample index (see :func:`build` with ``swept``), elsewhere one
    transient whose time points at the samples are their operating points; or with ``series``
    (ngspice-shared only) build once, run many: the circuit is built and loaded once and
    each sample is an operating point after ngspice ``alter``s the input sources (the fastest
    after the first sample; ``timeout`` bounds the whole series). With ``with_op``
    also returns the list of per-sample operating points (dicts name -> value). ``timings``
    (batched, series), a dict, receives seconds: ``expressions``, ``circuit`` (see
    :func:`build`), ``run`` (the simulator's run: rendering the netlist, simulating, reading
    the output). One OP per sample shows a bar of the samples done
    (:func:`neurospice.progress.progress`: ``show_progress`` None, the default, shows it on
    a terminal only; True always, False never)."""
    from neurospice.progress import progress
    from neurospice.simulators import get_simulator

    x = np.atleast_2d(np.asarray(powers_w, dtype=float))
    sim = get_simulator(simulator)
    names = output_names(net)
    if series:
        if simulator != "ngspice-shared":
            raise UnsupportedPoint(f"series evaluation runs on ngspice-shared, not {simulator!r} "
                                   "(it re-runs one loaded circuit through ngspice's shared "
                                   "library)")
        tm = {} if timings is None else timings
        c = build(net, x[0], timings=tm)
        c.op()
        t0 = time.perf_counter()
        changes = [{f"vin{i}": float(v / P_REF) for i, v in enumerate(sample)} for sample in x]
        runs = sim.run_series(c, changes, timeout=timeout)
        tm["run"] = time.perf_counter() - t0
        ops = [{n: float(np.ravel(r.op[n])[0]) for n in (r.op.names if with_op else names)}
               for r in runs]
        out = np.array([[op[n] for n in names] for op in ops])
        return (out, ops) if with_op else out
    if batched and simulator.startswith("ngspice"):
        tm = {} if timings is None else timings
        c = build(net, x, swept=True, rendering="osdi", timings=tm)
        t0 = time.perf_counter()
        res = sim.run(c, timeout=timeout).dc
        tm["run"] = time.perf_counter() - t0
        wanted = [n for n in res.names if n != res.axis_name] if with_op else names
        cols = {n: np.ravel(res[n])[:len(x)] for n in wanted}
        if any(len(v) != len(x) for v in cols.values()):
            raise NetlistError(f"the sweep returned fewer than {len(x)} samples")
        out = np.array([cols[n] for n in names]).T
        if not with_op:
            return out
        return out, [{n: float(v[k]) for n, v in cols.items()} for k in range(len(x))]
    if batched:
        tm = {} if timings is None else timings
        # ngspice lands on every breakpoint; VACASK can step a hair past one
        hold = 0.0 if simulator.startswith("ngspice") else 0.02
        osdi = simulator == "vacask"        # its behavioral sources are generated modules
        c = build(net, x, batched=True, timings=tm, hold=hold,
                  rendering="osdi" if osdi else "behavioral")
        at, stop = sample_times(len(x))
        c.tran(1.0, stop, max_step=1.0)
        t0 = time.perf_counter()
        res = sim.run(c, timeout=timeout).tran
        tm["run"] = time.perf_counter() - t0
        wanted = [n for n in res.names if n != res.axis_name] if with_op else names
        cols = {n: np.interp(at, res.axis, res[n]) for n in wanted}
        out = np.array([cols[n] for n in names]).T
        if not with_op:
            return out
        ops = [{n: float(v[k]) for n, v in cols.items()} for k in range(len(x))]
        return out, ops

    def circuits():
        for sample in x:
            c = build(net, sample)
            c.op()
            yield c

    bar = progress(None, total=len(x), desc=f"netlist OPs ({simulator})", unit="sample",
                   enabled=show_progress)
    try:
        runs = sim.run_many(circuits(), workers=workers or min(2, os.cpu_count() or 1),
                            timeout=timeout, progress=lambda done, total: bar.update(1),
                            fail_fast=True)
    finally:
        bar.close()
    ops = [{n: float(np.ravel(r.op[n])[0]) for n in r.op.names} for r in runs]
    out = np.array([[op[n] for n in names] for op in ops])
    return (out, ops) if with_op else out
