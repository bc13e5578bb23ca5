"""The full RF transient netlist of a (small) trained network: the circuit a designer builds.

Signal path, per layer (every stage an explicit element, names in brackets):

1. **Inputs** [``vt<i>``]: one sine source per input tone, amplitude I0 R_REF with
   I0 = sqrt(2 P_i / r0): the RF current that delivers P_i to each junction.
2. **Drivers / combiners** [``g<l>_<j>_<i>``]: a transconductor per (chain, tone) pushes the
   tone's RF current (1/R_REF) into the top of chain j; the currents of all tones add at that
   node (Kirchhoff: the combiner). Ideal transconductors isolate the chains from each other.
3. **Chains**: the spin-diode resonators (``spin_diode`` device instances, subcircuit or OSDI
   rendering), in series with alternating polarity, above the chain's bias source
   [``vb<l>_<j>``]: the DC at the top is the bias plus the rectified sum.
4. **Read-out** [``e..``, ``rl..``, ``cl..``]: a unity buffer and two RC low-pass poles
   (``tau_lp`` each) remove the RF and keep the chain's DC voltage, node ``lp<l>_<j>``.
5. **Neuron** (hidden layers) [``bi<l>_<j>``]: the read-out amplifier (the chain's learned
   voltage gain A_j) and the voltage-to-current stage, I = g_m (A_j V + V_b) clipped to
   [0, i_clamp], bias an ``stno`` instance (its frequency f0 is
   the oscillator frequency, n_shift = 0, r0 = r_osc, dr = r_osc: TMR 100 %).
6. **Amplifier** [``ba<l>_<j>`` then the next layer's drivers]: the oscillator's RF voltage
   (its node voltage minus the DC drop I r_osc, i.e. a DC block) is amplified so that each
   next-layer junction receives G p r_osc I^2 (the envelope model's power), as a current
   g_a v_rf with g_a = sqrt(2 G (1 + e_j) r_osc / r0) / dr.

The last layer's ``lp`` nodes are the class scores, each read as the mean of its last
``t_read`` seconds (the netlist's title names the nodes and the window). :func:`infer`
simulates one input; :func:`evaluate` many, in parallel (``Simulator.run_many``). :func:`power_report` estimates
the network's power from the simulated currents and voltages.
"""

from __future__ import annotations

import numpy as np

from neurospice.compact_models import spin_diode as SD
from neurospice.compact_models import stno as ST
from neurospice.errors import NetlistError, UnsupportedPoint
from neurospice.netlists import Circuit, Sine
from neurospice.circuits.rfnet.network import RFNetwork

R_REF = 1e3          # ohm: tone source volts per ampere of RF current
MAX_DEVICES = 64     # a transient of more junctions is refused (use the envelope netlist)


def default_timing(net: RFNetwork, *, points_per_period: int = 200):
    """(step, stop, t_read) in s: 200 points per period of the highest tone; the stop time
    lets each layer's resonators ring up (5 ring-up times 1/(alpha w) at the lowest tone),
    the oscillators start and the low-pass filters settle."""
    fmax = max(max(net.tones(li).max() for li in range(len(net.layers))),
               max((net.osc_freq(li).max() for li in range(len(net.layers) - 1)), default=0))
    fmin = min(net.tones(li).min() for li in range(len(net.layers)))
    ring = 1 / (net.constants["alpha"] * 2 * np.pi * fmin)
    stop = len(net.layers) * (6 * ring + 12e-9) + 8e-9
    return 1 / fmax / points_per_period, stop, 4e-9


def build(net: RFNetwork, powers_w, *, rendering: str = "subckt", tau_lp: float = 1e-9,
          gamma_g: float = 1e9, a0: float = 0.05, step=None, stop=None,
          t_read=None) -> Circuit:
    """The RF transient circuit of ``net`` for one input (powers in W); its title names the
    score nodes and the averaging window ``t_read`` (default :func:`default_timing`'s)."""
    count = net.device_count["total"]
    if count > MAX_DEVICES:
        raise UnsupportedPoint(f"{count} junctions: the RF transient netlist is for small "
                               f"networks (<= {MAX_DEVICES}); use the envelope netlist")
    x = np.asarray(powers_w, dtype=float).ravel()
    if len(x) != net.layers[0].n_in or np.any(x < 0):
        raise NetlistError(f"need {net.layers[0].n_in} non-negative input powers, got {x}")
    k = net.constants
    c = Circuit(f"{net.name}: RF transient netlist ({count} junctions)")
    sd = SD.DEVICE.params()
    r0, dr_res = sd["r0"], sd["dr"]
    # 1. input tones
    f_in = net.tones(0)
    drive = []          # per tone of the current layer: (node, gain A/V)
    for i, (f, p) in enumerate(zip(f_in, x)):
        c.vsource(f"t{i}", f"tone{i}", "0", waveform=Sine(0.0, np.sqrt(2 * p / r0) * R_REF, f))
        drive.append((f"tone{i}", 1 / R_REF))
    for li, lay in enumerate(net.layers):
        fr = net.res_freq(li)
        s = lay.polarity
        nxt = []
        for j in range(lay.n_chains):
            top = f"l{li}c{j}n{lay.n_in}"
            # 2. drivers/combiner into the chain's top
            for i, (node, g) in enumerate(drive):
                c.vccs(f"{li}_{j}_{i}", "0", top, node, "0", g)
            # 3. chain: bias source at the bottom, resonators in series, alternating polarity
            c.vsource(f"b{li}_{j}", f"l{li}c{j}n0", "0", float(lay.bias_v[j]))
            for kk in range(lay.n_in):
                a, b = f"l{li}c{j}n{kk + 1}", f"l{li}c{j}n{kk}"
                nodes = [a, b] if s[kk] > 0 else [b, a]
                SD.DEVICE.add_to(c, f"r{li}_{j}_{kk}", nodes, rendering=rendering,
                                 params={"f_res": float(fr[j, kk]), "alpha": k["alpha"],
                                         "k_sd": k["k_sd"], "r0": r0, "dr": dr_res})
            # 4. read-out: buffer and two RC poles
            c.vcvs(f"{li}_{j}", f"l{li}buf{j}", "0", top, "0", 1.0)
            c.resistor(f"l{li}_{j}a", f"l{li}buf{j}", f"l{li}m{j}", 1e3)
            c.capacitor(f"l{li}_{j}a", f"l{li}m{j}", "0", tau_lp / 1e3)
            c.vcvs(f"{li}_{j}b", f"l{li}mb{j}", "0", f"l{li}m{j}", "0", 1.0)
            c.resistor(f"l{li}_{j}b", f"l{li}mb{j}", f"lp{li}_{j}", 1e3)
            c.capacitor(f"l{li}_{j}b", f"lp{li}_{j}", "0", tau_lp / 1e3)
            if li == len(net.layers) - 1:
                continue
            # 5. neuron: V-to-I stage into the oscillator
            av = float(lay.v_gain[j])
            cur = (f"min(max({k['g_m']!r}*({av!r}*v(lp{li}_{j}) + {k['v_b']!r}), 0), "
                   f"{k['i_clamp']!r})")
            osc = f"osc{li}_{j}"
            c.bsource(f"i{li}_{j}", "0", osc, i=cur)
            ST.DEVICE.add_to(c, f"s{li}_{j}", [osc, "0", "0"], rendering=rendering,
                             params={"f0": float(net.osc_freq(li)[j]), "n_shift": 0.0,
                                     "gamma_g": gamma_g, "i_th": k["i_th"], "q": k["q"],
                                     "r0": k["r_osc"], "dr": k["r_osc"], "a0": a0})
            # 6. amplifier: DC block (subtract I r_osc), then transconductance to the next layer
            c.bsource(f"a{li}_{j}", f"rf{li}_{j}", "0",
                      v=f"v({osc}) - {k['r_osc']!r}*{cur}")
            g_a = np.sqrt(2 * net.osc_gain(li)[j] * k["r_osc"] / r0) / k["r_osc"]
            nxt.append((f"rf{li}_{j}", float(g_a)))
        drive = nxt
    dstep, dstop, dread = default_timing(net)
    step = step or dstep
    c.tran(step, stop or dstop, max_step=step)
    c.title = f"{c.title}: {read_out(net, t_read or dread)}"
    return c


def read_out(net: RFNetwork, t_read: float) -> str:
    """How the scores are read from the transient: the nodes and the averaging window."""
    return (f"scores = mean of {', '.join(score_names(net))} over the last {t_read:.3g} s "
            f"of the transient")


def score_names(net: RFNetwork) -> list[str]:
    li = len(net.layers) - 1
    return [f"v(lp{li}_{j})" for j in range(net.layers[-1].n_chains)]


def infer(net: RFNetwork, powers_w, *, simulator: str = "ngspice", rendering: str | None = None,
          timeout: float = 600, t_read=None, return_result: bool = False, **kw):
    """Simulate one input: the output chain voltages (V), each the mean of its low-pass node
    over the last ``t_read`` seconds (default 4 ns). ``rendering``: the devices' (default
    :func:`rendering_for` the simulator)."""
    from neurospice.simulators import get_simulator

    sim = get_simulator(simulator)
    t_read = t_read or default_timing(net)[2]
    c = build(net, powers_w, rendering=rendering or rendering_for(sim), t_read=t_read, **kw)
    res = sim.run(c, timeout=timeout).tran
    scores = read_scores(net, res, t_read)
    return (scores, res) if return_result else scores


def rendering_for(simulator) -> str:
    """The devices' rendering a transient runs fastest with in ``simulator`` (a
    :class:`~neurospice.simulators.base.Simulator`): the compiled Verilog-A (``"osdi"``)
    where the simulator loads it (ngspice: about 9x faster than the behavioral subcircuits on
    a 2-2-1 network, the same scores within 1e-5 relative), else the subcircuits."""
    return "osdi" if simulator.loads_osdi else "subckt"


def read_scores(net: RFNetwork, tran, t_read: float) -> np.ndarray:
    """The class scores of one transient result: each score node's mean over the last
    ``t_read`` seconds."""
    sel = tran.axis >= tran.axis[-1] - t_read
    return np.array([np.mean(tran[n][sel]) for n in score_names(net)])


def evaluate(net: RFNetwork, powers_w, *, simulator: str = "ngspice",
             rendering: str | None = None, workers: int = 2, timeout: float | None = 600,
             t_read=None, show_progress: bool = False, points_per_period: int = 100,
             stop_fraction: float = 0.75, **kw) -> dict:
    """The RF transient of every input (rows of ``powers_w``, W) in parallel through
    ``Simulator.run_many`` on ``workers`` processes. Timing: ``points_per_period`` points per
    period of the highest tone and ``stop_fraction`` of :func:`default_timing`'s stop time
    (100 and 0.75 keep the scores within a few % of 200 and 1.0, about 4x faster);
    ``rendering`` as :func:`infer`'s.

    Returns a dict: ``scores`` (samples x outputs, V; NaN rows where a run failed),
    ``errors`` (per sample: None or the failure's message), ``read_out`` (nodes and
    window), ``t_read``, ``step``, ``stop`` and ``seconds`` (wall time)."""
    import time

    from neurospice.simulators import get_simulator

    sim = get_simulator(simulator)
    rendering = rendering or rendering_for(sim)
    x = np.atleast_2d(np.asarray(powers_w, dtype=float))
    step, stop, dread = default_timing(net, points_per_period=points_per_period)
    stop *= stop_fraction
    t_read = t_read or dread
    circuits = [build(net, p, rendering=rendering, step=step, stop=stop, t_read=t_read, **kw)
                for p in x]

    def shown(done, total):
        from neurospice.circuits.rfnet.train import progress
        progress(f"RF transient {done}/{total}", done / total)

    t0 = time.perf_counter()
    runs = sim.run_many(circuits, workers=workers, timeout=timeout,
                                             progress=shown if show_progress else None)
    scores = np.full((len(x), net.layers[-1].n_chains), np.nan)
    errors = []
    for k, r in enumerate(runs):
        if isinstance(r, BaseException):
            errors.append(f"{type(r).__name__}: {r}")
            continue
        scores[k] = read_scores(net, r.tran, t_read)
        errors.append(None)
    return {"scores": scores, "errors": errors, "read_out": read_out(net, t_read),
            "t_read": t_read, "step": step, "stop": stop,
            "seconds": time.perf_counter() - t0}


def power_report(net: RFNetwork, op: dict, *, v_supply: float = 1.0,
                 amp_efficiency: float = 0.1) -> dict:
    """Power estimate (W) of one inference from simulated node voltages (an envelope-netlist
    operating point, see :func:`.envelope_netlist.evaluate` with ``with_op``):

    - ``oscillator_bias``: the oscillators' DC Joule power I^2 r_osc (I from the simulated
      voltage across each oscillator's resistance);
    - ``vi_stages``: the voltage-to-current stages, I v_supply (their supply, default 1 V);
    - ``amplifiers``: the RF power delivered to the next layer's junctions (every chain sees
      every oscillator's amplified power), divided by the amplifiers' efficiency (default
      10 %);
    - ``rf_input``: the RF input power delivered to the first layer's junctions (every chain
      receives each tone);
    - ``total``.
    """
    from neurospice.circuits.rfnet.envelope_netlist import P_REF, hidden_names

    k = net.constants
    osc_bias = vi = amps = 0.0
    for li in range(len(net.layers) - 1):
        names = hidden_names(net, li)
        cur = np.array([op[n] for n in names["osc"]]) / k["r_osc"]
        pw = np.array([op[n] for n in names["pw"]]) * P_REF
        osc_bias += float(np.sum(cur**2 * k["r_osc"]))
        vi += float(np.sum(cur) * v_supply)
        amps += float(np.sum(pw) * net.layers[li + 1].n_chains / amp_efficiency)
    n_in = net.layers[0].n_in
    p_in = np.array([op[f"v(l0p{i})"] for i in range(n_in)]) * P_REF
    rf_in = float(np.sum(p_in) * net.layers[0].n_chains)
    total = osc_bias + vi + amps + rf_in
    return {"oscillator_bias": osc_bias, "vi_stages": vi, "amplifiers": amps,
            "rf_input": rf_in, "total": total}
