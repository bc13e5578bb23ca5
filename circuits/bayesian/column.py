"""Level 2 of the Bayesian machine: a likelihood-memory column in SPICE.

One column is ``rows`` 2T2R bit cells on a bit-line pair (BL, BLb) read by a precharge sense
amplifier (PCSA, Zhao et al. 2009; the read circuit of Harabi et al.'s machine):

- each branch of a cell is the project's RRAM device (its Verilog-A, ``rram``) from the bit
  line down to a mid node, then the crossbar's access transistor
  (:func:`neurospice.circuits.crossbar.access_subcircuit`) from the mid node to the shared
  source line SL, gated by the row's word line. The device's ``p`` terminal is the mid node,
  so a read biases it in the RESET direction (no SET read-disturb);
- the PCSA: two precharge PMOS (gate SE) and two cross-coupled PMOS pull OUT and OUTB to VDD;
  two cross-coupled NMOS join OUT and OUTB to two clamp NMOS (gate at ``v_clamp``, or VDD where
  lower) that feed BL and BLb; an enable NMOS (gate SE) joins SL to ground. The clamp holds
  the bit lines below ``v_clamp - vth`` (about 0.25 V): without it the full precharge voltage
  falls across the high-resistance device and RESETs it within nanoseconds (read disturb; the
  device model shows it). While SE is low both outputs are precharged to VDD; when SE rises
  both discharge through their branch, the side with the lower resistance falls first and the
  latch regenerates: OUT goes low when the BL device is in the low-resistance state.

Bit convention: bit 1 = BL device in the LRS and BLb in the HRS (OUT low after the read).

The transistors are behavioral (no MOSFET card: ngspice and VACASK run the same laws),
compiled from the small Verilog-A file ``transistors.va`` to OSDI (six times faster than the
same laws as B-sources, which ``rendering='bsource'`` still writes): a symmetric, smooth
level-1 law
``i = k/2 (sp(v_gs - vth)^2 - sp(v_gd - vth)^2)`` with ``sp(x) = vsm softplus(x/vsm)`` --
exactly the level-1 square law in saturation and triode far above threshold, an exponential
subthreshold tail (``vsm``) below. No gate capacitance or body effect; the node capacitances
are explicit capacitors (``c_out`` on OUT/OUTB, ``c_bl`` per bit line and on SL, ``c_mid`` on
each internal node, ``c_line`` per SE or word-line driver per column).

Variability of a Monte-Carlo draw (one column = ``rows`` cells plus one PCSA):

- RRAM device-to-device: the device's ``default_spread`` (lognormal ``i0``), drawn with
  :func:`~neurospice.compact_models.randomness.draw_params`;
- programming variability (cycle-to-cycle of the SET/RESET operation and its device-to-device
  part together): the programmed gap is normal around its target with ``sigma_gap``;
- PCSA threshold mismatch: each transistor's ``vth`` is normal with ``sigma_vth`` (Pelgrom).

The programmed states are "weak" (a few kOhm and tens of kOhm, as a low-current programming
gives) rather than the full gmin/gmax range, so the read margin is the designer's concern.
:func:`montecarlo` runs many independent columns per netlist (one transient reads every row
in turn), several netlists through ``run_many``, at several supply voltages; it returns the
bit-error rate and read energy per bit that level 1 (:mod:`.machine`) uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurospice.errors import NetlistError

#: Nominal supply [V] of the sense amplifier (a 130-nm-class logic supply).
VDD_NOMINAL = 1.2
#: Read-period timing [s]: precharge (SE low), then evaluate (SE high); outputs sampled at
#: the end of the evaluation.
T_PRECHARGE = 3e-9
T_EVALUATE = 5e-9
T_EDGE = 0.2e-9
#: Behavioral transistor defaults: transconductance k [A/V^2], threshold [V], softness [V],
#: off-state leakage conductance [S].
NMOS = {"k": 200e-6, "vth": 0.4, "vsm": 0.05, "goff": 1e-12}
PMOS = {"k": 100e-6, "vth": 0.4, "vsm": 0.05, "goff": 1e-12}
#: Access transistor of the bit cells (the crossbar's; on-resistance 1/g_on, compliance).
ACCESS = {"g_on": 2e-4, "i_sat": 2e-4, "vth": 0.4, "vs": 0.05, "g_off": 1e-12}


@dataclass
class ColumnDesign:
    """A likelihood-memory column and its variability (SI units).

    ``r_lrs``/``r_hrs``: target read resistances of the programmed states at ``v_read``;
    ``sigma_gap`` [m]: spread of the programmed gap; ``spread``: device-to-device parameter
    spreads (None: the rram device's ``default_spread``); ``sigma_vth`` [V]: PCSA threshold
    mismatch; ``v_clamp`` [V]: gate voltage of the bit-line clamps (a reference);
    ``max_step`` [s]: the transient's largest time step (0.1 ns: half the points of
    50 ps, bits and energies unchanged; the latch's fast edges are resolved by the
    truncation-error control; 0.2 ns made a 32-column netlist stop on a too-small step)."""

    rows: int = 8
    r_lrs: float = 5e3
    r_hrs: float = 50e3
    v_read: float = 0.1
    sigma_gap: float = 0.06e-9
    spread: dict | None = None
    sigma_vth: float = 0.025
    c_out: float = 2e-15
    c_bl: float = 5e-15
    c_line: float = 1e-15
    c_mid: float = 0.1e-15
    v_clamp: float = 0.65
    max_step: float = 0.1e-9
    nmos: dict = field(default_factory=lambda: dict(NMOS))
    pmos: dict = field(default_factory=lambda: dict(PMOS))
    access: dict = field(default_factory=lambda: dict(ACCESS))

    def __post_init__(self):
        if not (isinstance(self.rows, int) and 1 <= self.rows <= 256):
            raise NetlistError(f"rows must be an integer in [1, 256], got {self.rows!r}")
        for name in ("r_lrs", "r_hrs", "v_read", "c_out", "c_bl", "c_line", "c_mid",
                     "v_clamp", "max_step"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise NetlistError(f"ColumnDesign.{name} must be finite and > 0, got {v!r}")
        for name in ("sigma_gap", "sigma_vth"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise NetlistError(f"ColumnDesign.{name} must be finite and >= 0, got {v!r}")
        if self.r_hrs <= self.r_lrs:
            raise NetlistError("ColumnDesign: r_hrs must exceed r_lrs")

    @property
    def period(self) -> float:
        """One read: precharge plus evaluation [s]."""
        return T_PRECHARGE + T_EVALUATE

    def gaps(self) -> tuple[float, float]:
        """Target gaps [m] of the LRS and the HRS (from the read resistances)."""
        from neurospice.compact_models.rram import gap_for_resistance

        return (float(gap_for_resistance(self.r_lrs, self.v_read)),
                float(gap_for_resistance(self.r_hrs, self.v_read)))


def mos_subcircuits():
    """The behavioral ``ns_nmos(d, g, s)`` and ``ns_pmos(d, g, s)`` (smooth, symmetric
    level-1 plus a leakage goff; parameters k [A/V^2], vth [V], vsm [V], goff [S]; see the module docstring)."""
    from neurospice.netlists import Subcircuit

    n = Subcircuit("ns_nmos", ["d", "g", "s"], **NMOS)
    n.bsource("ch", "d", "s", i="0.5*k*(pow(vsm*softplus((v(g, s) - vth)/vsm), 2)"
                                " - pow(vsm*softplus((v(g, d) - vth)/vsm), 2)) + goff*v(d, s)")
    p = Subcircuit("ns_pmos", ["d", "g", "s"], **PMOS)
    p.bsource("ch", "s", "d", i="0.5*k*(pow(vsm*softplus((v(s, g) - vth)/vsm), 2)"
                                " - pow(vsm*softplus((v(d, g) - vth)/vsm), 2)) + goff*v(s, d)")
    return n, p


@dataclass
class ColumnDraws:
    """The drawn variability of ``n`` columns: per cell and branch the rram parameters
    (nested lists n x rows x 2 of dicts: BL, BLb), the programmed bits (n, rows) and per
    column the eight PCSA thresholds (n, 8: precharge P x2, latch P x2, latch N x2, clamp
    N x2)."""

    bits: np.ndarray
    cells: list
    vth: np.ndarray


def draw_columns(design: ColumnDesign, n: int, seed, bits=None) -> ColumnDraws:
    """``n`` columns of ``design`` with their variability; ``bits`` (n, rows) of 0/1, default
    random (seeded)."""
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.randomness import draw_params, rng

    if n < 1:
        raise NetlistError(f"need at least one column, got {n}")
    dev = get_device("rram")
    gen = rng(seed)
    shape = (n, design.rows)
    if bits is None:
        bits = gen.integers(0, 2, shape)
    bits = np.asarray(bits)
    if bits.shape != shape or not np.all((bits == 0) | (bits == 1)):
        raise NetlistError(f"bits must be 0/1 of shape {shape}")
    g_lrs, g_hrs = design.gaps()
    spread = dev.default_spread if design.spread is None else design.spread
    total = n * design.rows * 2
    drawn = draw_params(dev, total, gen, spread) if spread else [{} for _ in range(total)]
    lo, hi = dev.parameter["gmin"].default, dev.parameter["gmax"].default
    noise = gen.standard_normal(total) * design.sigma_gap
    cells, k = [], 0
    for c in range(n):
        col = []
        for r in range(design.rows):
            pair = []
            for side in (0, 1):
                lrs = (bits[c, r] == 1) == (side == 0)
                gap = float(np.clip((g_lrs if lrs else g_hrs) + noise[k], lo, hi))
                pair.append({**drawn[k], "gi": gap})
                k += 1
            col.append(pair)
        cells.append(col)
    nominal = [design.pmos["vth"]] * 4 + [design.nmos["vth"]] * 4
    vth = np.array(nominal)[None, :] + design.sigma_vth * gen.standard_normal((n, 8))
    return ColumnDraws(bits, cells, vth)


#: The compiled transistors (modules ``ns_bm_mos`` and ``ns_bm_access``: the laws of
#: :func:`mos_subcircuits` and of the crossbar's access transistor).
TRANSISTORS_VA = Path(__file__).with_name("transistors.va")
RENDERINGS = ("osdi", "bsource")


def column_circuit(design: ColumnDesign, draws: ColumnDraws, vdd: float, *,
                   start: int = 0, count: int | None = None, title: str = "bayesian column",
                   rendering: str = "osdi"):
    """One netlist holding columns ``start .. start+count`` of ``draws``, each with its own
    supply source ``vdd_<k>`` (its current is that column's read energy); shared SE, clamp
    and word lines read every row in turn (row r during period r). ``rendering``: 'osdi'
    (the transistors compiled from :data:`TRANSISTORS_VA`, the fast default) or 'bsource'
    (the same laws as behavioral sources: :func:`mos_subcircuits` and
    :func:`neurospice.circuits.crossbar.access_subcircuit`)."""
    from neurospice.circuits.crossbar import access_subcircuit
    from neurospice.compact_models.devices import get_device
    from neurospice.netlists import Circuit, Pulse

    if not (isinstance(vdd, (int, float)) and np.isfinite(vdd) and 0.2 <= vdd <= 3.0):
        raise NetlistError(f"supply must be in [0.2, 3] V, got {vdd!r}")
    if rendering not in RENDERINGS:
        raise NetlistError(f"rendering must be one of {', '.join(RENDERINGS)}, "
                           f"got {rendering!r:.80}")
    n_all = len(draws.cells)
    count = n_all - start if count is None else count
    if start < 0 or count < 1 or start + count > n_all:
        raise NetlistError(f"columns {start}..{start + count} outside the {n_all} drawn")
    dev = get_device("rram")
    rows, period = design.rows, design.period
    c = Circuit(f"{title}: {count} columns x {rows} 2T2R rram cells, PCSA, vdd={vdd:g}")
    c.option("threads", 1)
    c.option("method", "gear")        # trapezoidal rule rings on the latch's regeneration
    if rendering == "osdi":
        c.verilog_a_model("ns_bm_mos", TRANSISTORS_VA, module="ns_bm_mos")
        c.verilog_a_model("ns_bm_access", TRANSISTORS_VA, module="ns_bm_access")
        access = {k: float(v) for k, v in design.access.items()}

        def mos(name, pol, nodes, **par):
            c.va_instance(name, "ns_bm_mos", nodes, pol=pol, goff=par.pop("goff"), **par)

        def switch(name, nodes):
            c.va_instance(name, "ns_bm_access", nodes, **access)
    else:
        nsub, psub = mos_subcircuits()
        c.subcircuit(nsub)
        c.subcircuit(psub)
        c.subcircuit(access_subcircuit(**design.access))

        def mos(name, pol, nodes, **par):
            par.pop("goff")
            c.instance(name, "ns_nmos" if pol > 0 else "ns_pmos", nodes, **par)

        def switch(name, nodes):
            c.instance(name, "ns_access", nodes)
    c.vsource("se", "se", 0, waveform=Pulse(0.0, vdd, delay=T_PRECHARGE, rise=T_EDGE,
                                             fall=T_EDGE, width=T_EVALUATE - 2 * T_EDGE,
                                             period=period))
    c.capacitor("se", "se", 0, design.c_line * count)
    c.vsource("cl", "vcl", 0, min(design.v_clamp, vdd))
    for r in range(rows):
        c.vsource(f"wl{r}", f"wl{r}", 0, waveform=Pulse(
            0.0, vdd, delay=r * period + T_EDGE, rise=T_EDGE, fall=T_EDGE,
            width=period - 3 * T_EDGE))
        c.capacitor(f"wl{r}", f"wl{r}", 0, design.c_line * count)
    n_par = {k: design.nmos[k] for k in ("k", "vsm", "goff")}
    p_par = {k: design.pmos[k] for k in ("k", "vsm", "goff")}
    for j in range(start, start + count):
        t = f"_{j}"
        vt = draws.vth[j]
        c.vsource(f"dd{t}", f"vdd{t}", 0, vdd)
        for side, (out, other, bl) in enumerate((("o", "ob", "bl"), ("ob", "o", "blb"))):
            mos(f"pc{side}{t}", -1, [out + t, "se", f"vdd{t}"], **p_par, vth=float(vt[side]))
            mos(f"pl{side}{t}", -1, [out + t, other + t, f"vdd{t}"], **p_par,
                vth=float(vt[2 + side]))
            mos(f"nl{side}{t}", 1, [out + t, other + t, f"x{bl}{t}"], **n_par,
                vth=float(vt[4 + side]))
            mos(f"cl{side}{t}", 1, [f"x{bl}{t}", "vcl", bl + t], **n_par,
                vth=float(vt[6 + side]))
            c.capacitor(f"x{bl}{t}", f"x{bl}{t}", 0, design.c_mid)
            c.capacitor(f"{out}{t}", out + t, 0, design.c_out)
            c.capacitor(f"{bl}{t}", bl + t, 0, design.c_bl)
        c.capacitor(f"sl{t}", f"sl{t}", 0, design.c_bl)
        mos(f"en{t}", 1, [f"sl{t}", "se", "0"], **n_par, vth=design.nmos["vth"])
        for r in range(rows):
            for side, bl in enumerate(("bl", "blb")):
                mid = f"m{r}{bl}{t}"
                dev.add_to(c, f"r{r}{bl}{t}", [mid, bl + t, "0"], params=draws.cells[j][r][side])
                switch(f"a{r}{bl}{t}", [mid, f"wl{r}", f"sl{t}"])
                c.capacitor(mid, mid, 0, design.c_mid)
    c.tran(20e-12, rows * period, max_step=design.max_step)
    return c


@dataclass
class ColumnReads:
    """What a column Monte-Carlo read: per supply voltage the bits read (n, rows), the
    output margin |v(OUT) - v(OUTB)| at sampling [V], and the energy per read [J]."""

    design: ColumnDesign
    draws: ColumnDraws
    simulator: str
    vdd: list
    read: dict
    margin: dict
    energy: dict
    seconds: float = 0.0

    def bit_error_rate(self, vdd: float) -> float:
        """Fraction of bits read wrong at supply ``vdd``."""
        return float(np.mean(self.read[vdd] != self.draws.bits))

    def errors(self, vdd: float) -> int:
        """Number of bits read wrong at supply ``vdd``."""
        return int(np.sum(self.read[vdd] != self.draws.bits))

    def energy_per_bit(self, vdd: float) -> float:
        """Mean energy [J] of one bit read (supply, SE, clamp and word-line drivers)."""
        return float(np.mean(self.energy[vdd]))

    def table(self) -> list[dict]:
        """One row per supply: vdd, bits, errors, BER, mean energy per bit, worst margin."""
        return [{"vdd": v, "bits": int(self.draws.bits.size), "errors": self.errors(v),
                 "ber": self.bit_error_rate(v), "energy_per_bit": self.energy_per_bit(v),
                 "min_margin": float(np.min(self.margin[v]))} for v in self.vdd]


def sample_reads(design: ColumnDesign, result, vdd: float, start: int, count: int):
    """Bits, margins and energies per read of columns ``start .. start+count`` from one
    transient ``result`` of :func:`column_circuit`: arrays (count, rows)."""
    t = np.asarray(result.axis, dtype=float)
    period, rows = design.period, design.rows
    t_sample = np.arange(rows) * period + T_PRECHARGE + T_EVALUATE - T_EDGE
    edges = np.arange(rows + 1) * period

    def per_read(power):
        acc = np.concatenate([[0.0], np.cumsum(0.5 * (power[1:] + power[:-1]) * np.diff(t))])
        return np.diff(np.interp(edges, t, acc))

    drivers = np.zeros(rows)
    for name in ["se", "vcl"] + [f"wl{r}" for r in range(rows)]:
        src = "vcl" if name == "vcl" else f"v{name}"
        drivers += per_read(-np.asarray(result.v(name)) * np.asarray(result.i(src)))
    bits = np.empty((count, rows), dtype=int)
    margin = np.empty((count, rows))
    energy = np.empty((count, rows))
    for k in range(count):
        j = start + k
        vo = np.interp(t_sample, t, result.v(f"o_{j}"))
        vob = np.interp(t_sample, t, result.v(f"ob_{j}"))
        bits[k] = (vo < vob).astype(int)
        margin[k] = np.abs(vo - vob)
        energy[k] = per_read(-vdd * np.asarray(result.i(f"vdd_{j}"))) + drivers / count
    return bits, margin, energy


def montecarlo(design: ColumnDesign | None = None, *, n_bits: int = 1000,
               vdd=(1.2, 0.9, 0.7, 0.6, 0.5), seed=0, simulator: str = "ngspice",
               per_netlist: int = 32, workers: int | None = None,
               timeout: float = 600) -> ColumnReads:
    """Read ``n_bits`` programmed bits (``n_bits / rows`` independently drawn columns) at each
    supply in ``vdd`` with ``simulator``; ``per_netlist`` columns share a netlist, netlists run
    through ``run_many``. The same draws are read at every supply."""
    import time

    from neurospice.simulators import get_simulator

    design = design or ColumnDesign()
    n_cols = -(-n_bits // design.rows)
    draws = draw_columns(design, n_cols, seed)
    sim = get_simulator(simulator)
    vdd = [float(v) for v in vdd]
    jobs = [(v, s, min(per_netlist, n_cols - s)) for v in vdd
            for s in range(0, n_cols, per_netlist)]
    t0 = time.perf_counter()
    results = sim.run_many([column_circuit(design, draws, v, start=s, count=m)
                            for v, s, m in jobs], workers=workers, timeout=timeout)
    seconds = time.perf_counter() - t0
    read = {v: np.empty((n_cols, design.rows), dtype=int) for v in vdd}
    margin = {v: np.empty((n_cols, design.rows)) for v in vdd}
    energy = {v: np.empty((n_cols, design.rows)) for v in vdd}
    for (v, s, m), res in zip(jobs, results):
        if isinstance(res, BaseException):          # run_many leaves a failed run in place
            raise res
        b, mg, e = sample_reads(design, res.tran, v, s, m)
        read[v][s:s + m], margin[v][s:s + m], energy[v][s:s + m] = b, mg, e
    return ColumnReads(design, draws, simulator, vdd, read, margin, energy, seconds)
