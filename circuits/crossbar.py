"""Crossbar arrays of two-terminal devices: netlist generator, weight programming and the
vector-matrix-multiply (VMM) read-out.

Geometry: ``rows`` word lines (inputs, driven at the left through an optional driver
resistance) cross ``cols`` bit lines (outputs, sensed at the bottom). Cell (i, j) joins word
line i to bit line j through a device of the framework (``rram``, ``dwmtj``, ``mtj``, any
two-terminal device: its noise inputs are tied to ground), optionally in series with an
access transistor (``cell="1T1R"``); ``cell="2T2R"`` gives each logical cell two 1T1R
branches on a bit-line pair (BL, BLb): the differential synapse whose binary weight is
``sign(R_BL - R_BLb)`` (read as ``I_BLb - I_BL``). Wire resistance: ``r_row`` per word-line
segment between neighbouring cells, ``r_col`` per bit-line segment. Sense: ``"ideal"`` holds
each bit line at a virtual ground with a 0-V source (its current is the column current);
``"tia"`` uses a transimpedance amplifier (VCVS of finite gain ``tia_gain`` with feedback
``tia_rf``; the column current is ``-v(out)/rf`` to within 1/gain).

Access device (:func:`access_subcircuit`): a behavioral current source
``i = i_sat tanh(g_on v_ds / i_sat) sigmoid((v_gs - vth)/vs) + g_off v_ds`` -- an on-resistance
1/g_on at small drain-source voltage, a current compliance i_sat in SET, off below vth. It is
not a transistor model (no body effect, no capacitances); it is what the array needs (series
resistance, compliance, selection), and ngspice and VACASK run it alike (VACASK through its
generated Verilog-A wrapper).

Effective cell conductance (:func:`cell_conductances`): the chord conductance I(v_read)/v_read
of a whole cell, the device in series with its access device (1T1R, 2T2R), solved in numpy
(the access device's current through its on-resistance 1/g_on, or its full I-V); with
``r_series`` a wire resistance in series as well. An 8 x 8 1T1R RRAM array with the default
access device (1 kOhm on) reads 65 % below the bare devices' G.V: its low-resistance cells
(2.75 mS) are in series with 1 mS. :func:`program` therefore maps weights onto the effective
conductance of the cell it is given (``cell=``, ``access=``), and :meth:`Crossbar.ideal` reads
with the effective conductances. :meth:`Crossbar.error_budget` splits a read's error from the
weights' mapping into variability, the access device, the I-V nonlinearity and the IR drop.

Programming (:func:`program`): a target weight matrix is mapped linearly onto the cell's
effective read conductance range; the state parameter of each cell (the device's ``state_parameter``:
``gi`` for rram, ``q0`` for dwmtj, ``m0`` for mtj) is found by inverting the cell's G(state)
on the numpy rendering; device-to-device variability (by default the device's ``default_spread``) is drawn
per cell (:func:`~neurospice.compact_models.randomness.draw_params`), so the programmed
conductance differs from the target. For rram, :func:`rram_pulse_counts` maps
each target gap to a number of gradual-RESET pulses from the LRS, and
:func:`program` (``by_pulses=True``) applies those counts to every cell through the vectorised
pulse-level simulator with the cell's own parameters (open-loop programming).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from neurospice.compact_models.devices import as_device
from neurospice.errors import NetlistError

#: Gradual-RESET programming pulse for rram (from the LRS): about 200 pulses span the range.
RRAM_PROGRAM_PULSE = (-0.5, 10e-9)
ACCESS_DEFAULTS = {"g_on": 1e-3, "i_sat": 1e-3, "vth": 0.4, "vs": 0.05, "g_off": 1e-12}


def _state_key(dev) -> str:
    """The device's state parameter, or a NetlistError where it declares none."""
    if dev.state_parameter is None:
        raise NetlistError(f"device {dev.name!r} declares no state_parameter to program")
    return dev.state_parameter


def access_subcircuit(**overrides):
    """The access transistor as a subcircuit ``ns_access(d, g, s)`` (see the module
    docstring); parameters g_on [S], i_sat [A], vth [V], vs [V], g_off [S]."""
    from neurospice.netlists import Subcircuit

    params = {**ACCESS_DEFAULTS, **overrides}
    sub = Subcircuit("ns_access", ["d", "g", "s"], **params)
    sub.bsource("ch", "d", "s", i="i_sat*tanh(g_on*v(d, s)/i_sat)*sigmoid((v(g, s) - vth)/vs)"
                                  " + g_off*v(d, s)")
    return sub


def two_t_two_r_subcircuit(circuit, device="rram", *, rendering="osdi"):
    """Add (once) and return the 2T2R differential-pair subcircuit ``ns_2t2r_<device>`` with
    ports (wl, sl, bl, blb) and parameters ``s_bl``, ``s_blb`` (the two devices' programmed
    states, e.g. gaps for rram): the source line sl feeds two device + access branches to bl and
    blb, gated by wl. Binary weight: ``sign(R_BL - R_BLb)``."""
    from neurospice.netlists import Subcircuit

    dev = as_device(device)
    name = f"ns_2t2r_{dev.name}"
    if name in circuit.subcircuits:
        return circuit.subcircuits[name]
    state = _state_key(dev)
    default = dev.parameter[state].default
    if "ns_access" not in circuit.subcircuits:
        circuit.subcircuit(access_subcircuit())
    sub = Subcircuit(name, ["wl", "sl", "bl", "blb"], s_bl=default, s_blb=default)
    extra = ["0"] * len(dev.noise_inputs)
    for branch in ("bl", "blb"):
        mid = f"m_{branch}"
        if rendering == "osdi":
            if dev.module.lower() not in circuit.models:
                circuit.verilog_a_model(dev.module, dev.committed_file("va"), module=dev.module)
            sub.va_instance(branch, dev.module, ["sl", mid, *extra], **{state: f"s_{branch}"})
        else:
            if dev.module.lower() not in circuit.subcircuits:
                circuit.subcircuit(dev.subcircuit())
            sub.instance(branch, dev.module, ["sl", mid, *extra], **{state: f"s_{branch}"})
        sub.instance(f"t{branch}", "ns_access", [mid, "wl", branch])
    circuit.subcircuit(sub)
    return sub


# --------------------------------------------------------------------------- programming

def read_conductance(device, params: Mapping[str, float] | None = None, v_read: float = 0.1):
    """Chord conductance I(v_read)/v_read of one bare device (state held, numpy)."""
    dev = as_device(device)
    return float(dev.numpy.dc_current({"p": v_read}, params)["p,n"]) / v_read


CELLS = ("1R", "1T1R", "2T2R")
"""The cell kinds: a bare device, device + access device, and a differential pair of those."""


def access_current(v_ds, v_gs, access: Mapping[str, float] | None = None, *,
                   linear: bool = False):
    """The access device's current (numpy; the same expression as :func:`access_subcircuit`)
    at drain-source and gate-source voltages; ``linear``: its on-resistance alone,
    ``g_on v_ds`` (no compliance, no gate, no leakage)."""
    a = {**ACCESS_DEFAULTS, **(access or {})}
    v_ds = np.asarray(v_ds, dtype=float)
    if linear:
        return a["g_on"] * v_ds
    with np.errstate(over="ignore"):
        gate = 1.0 / (1.0 + np.exp(-(np.asarray(v_gs, dtype=float) - a["vth"]) / a["vs"]))
    return a["i_sat"] * np.tanh(a["g_on"] * v_ds / a["i_sat"]) * gate + a["g_off"] * v_ds


def device_currents_many(device, u, params) -> np.ndarray:
    """DC currents [A] of ``len(params)`` devices (states held at their initial values, as
    SPICE does) at voltages ``u`` of shape (n,) or (n, k): one vectorised numpy evaluation,
    each device with its own parameter dict."""
    dev = as_device(device)
    n = len(params)
    keys = sorted({k for p in params for k in p})
    defaults = dev.defaults()
    P = dev.param_arrays({k: np.array([p.get(k, defaults[k]) for p in params])
                          for k in keys}, n)
    u = np.asarray(u, dtype=float)
    shape = (n,) + (1,) * (u.ndim - 1)
    X = {k: np.reshape(v, shape) for k, v in dev.numpy.initial_states(P, n).items()}
    P = {k: (np.reshape(v, shape) if np.ndim(v) else v) for k, v in P.items()}
    t0, t1 = dev.terminals
    V = {t: 0.0 for t in dev.ports}
    V[t0] = u
    with np.errstate(over="ignore"):
        cur, _ = dev.numpy.equations(0.0, V, X, P)
    total = np.zeros(np.broadcast_shapes(u.shape, shape))
    for (a, b, _), c in zip(dev.currents, cur):
        total = total + (c if (a, b) == (t0, t1) else -c if (a, b) == (t1, t0) else 0.0)
    return total


def cell_currents(device, v, params, *, cell: str = "1R",
                  access: Mapping[str, float] | None = None, v_gate: float = 1.2,
                  linear_access: bool = False, r_series: float = 0.0,
                  n_grid: int = 65) -> np.ndarray:
    """DC currents [A] through cells (bit line at 0 V) at word-line voltages ``v`` (n,), each
    with its parameter dict ``params[k]``: the device in series with the access device
    (``cell`` "1T1R" or "2T2R": one branch; ``linear_access``: its on-resistance alone) and
    ``r_series`` [Ohm]. The voltage split is solved in numpy, vectorised over the cells, on
    three nested grids of ``n_grid`` points over the device's share [0, v] (the device's
    current rises with it, the rest's falls; the crossing is interpolated, relative error
    below 1e-6)."""
    dev = as_device(device)
    if cell not in CELLS:
        raise NetlistError(f"cell must be one of {CELLS}, got {cell!r}")
    v = np.broadcast_to(np.asarray(v, dtype=float), (len(params),))
    if cell == "1R" and r_series == 0:
        return device_currents_many(dev, v, params)

    def rest(vm):                        # current through what is below the device
        if cell == "1R":
            return vm / r_series
        if r_series == 0:
            return access_current(vm, v_gate, access, linear=linear_access)
        lo, hi = np.minimum(vm, 0.0), np.maximum(vm, 0.0)
        for _ in range(50):              # bisection on the access device's share
            mid = 0.5 * (lo + hi)
            excess = access_current(mid, v_gate - (vm - mid), access,
                                    linear=linear_access) - (vm - mid) / r_series
            hi, lo = np.where(excess > 0, mid, hi), np.where(excess > 0, lo, mid)
        return (vm - 0.5 * (lo + hi)) / r_series

    sign = np.where(v < 0, -1.0, 1.0)[:, None]
    a, b = np.zeros_like(v), v.copy()
    rows = np.arange(len(v))
    frac = np.linspace(0.0, 1.0, n_grid)
    for _ in range(3):
        u = a[:, None] + (b - a)[:, None] * frac
        f = sign * (device_currents_many(dev, u, params) - rest(v[:, None] - u))
        k = np.clip(np.argmax(f >= 0, axis=1), 1, n_grid - 1)
        a, b = u[rows, k - 1], u[rows, k]
    ends = np.stack([a, b], axis=1)
    i_dev = device_currents_many(dev, ends, params)
    f = i_dev - rest(v[:, None] - ends)
    den = f[:, 0] - f[:, 1]
    t = np.divide(f[:, 0], den, out=np.full_like(den, 0.5), where=den != 0)
    return np.where(v == 0, 0.0, i_dev[:, 0] + t * (i_dev[:, 1] - i_dev[:, 0]))


def cell_conductances(device, params, v_read: float = 0.1, **cell) -> np.ndarray:
    """The effective chord conductances I(v_read)/v_read of cells, one per parameter dict
    (see :func:`cell_currents` for the keywords: ``cell``, ``access``, ``v_gate``,
    ``linear_access``, ``r_series``)."""
    return cell_currents(device, np.full(len(params), v_read), params, **cell) / v_read


def state_range(device, params=None) -> tuple[float, float]:
    """(low-G state, high-G state) values of the device's state parameter: its declared
    ``state_range`` at the full parameter set."""
    dev = as_device(device)
    if dev.state_range is None:
        raise NetlistError(f"no state range for device {dev.name!r} (it declares none)")
    lo, hi = dev.state_range(dev.params(params))
    return float(lo), float(hi)


def state_for_conductance(device, g_target, params=None, v_read: float = 0.1, n_grid: int = 400,
                          **cell):
    """The state parameter values giving the read conductances ``g_target`` (inverted by
    monotone interpolation of G over the state range, on the numpy rendering); ``cell``
    keywords (see :func:`cell_currents`) invert the effective cell conductance instead of the
    bare device's."""
    dev = as_device(device)
    lo, hi = state_range(dev, params)
    grid = np.linspace(lo, hi, n_grid)
    key = _state_key(dev)
    base = dict(params or {})
    g = cell_conductances(dev, [{**base, key: float(s)} for s in grid], v_read, **cell)
    order = np.argsort(g)
    g_t = np.asarray(g_target, dtype=float)
    if np.any(g_t < g.min() * (1 - 1e-9)) or np.any(g_t > g.max() * (1 + 1e-9)):
        raise NetlistError(f"target conductance outside the {dev.name} range "
                           f"[{g.min():.4g}, {g.max():.4g}] S")
    return np.interp(g_t, g[order], grid[order])


def rram_pulse_counts(gap_target, *, amplitude=RRAM_PROGRAM_PULSE[0],
                      width=RRAM_PROGRAM_PULSE[1], params=None, max_pulses: int = 400):
    """Number of gradual-RESET pulses from the LRS (gmin) that brings the nominal device
    closest to each target gap, and the gap trajectory (pulse-level simulator; the
    trajectory of given pulses and parameters is computed once per process)."""
    from neurospice.compact_models.devices import get_device

    p = get_device("rram").params(params)
    traj = _reset_trajectory(float(amplitude), float(width), tuple(sorted(p.items())),
                             int(max_pulses)).copy()
    target = np.asarray(gap_target, dtype=float)
    counts = np.abs(traj[None, :] - target.reshape(-1)[:, None]).argmin(axis=1)
    return counts.reshape(target.shape), traj


@lru_cache(maxsize=8)
def _reset_trajectory(amplitude: float, width: float, params: tuple, max_pulses: int):
    """The nominal device's gap after each of ``max_pulses`` equal pulses from gmin
    (``params``: the full parameter set as sorted items, so that it is a cache key)."""
    from neurospice.compact_models.rram.variability import simulate_pulse_train

    p = dict(params)
    traj = simulate_pulse_train(np.full(max_pulses, amplitude), width,
                                params={**p, "gi": p["gmin"]},
                                steps_flat=20, steps_edge=4).gap[:, 0]
    traj.setflags(write=False)
    return traj


@dataclass
class Programmed:
    """A programmed array: target weights and effective cell conductances (the weights'
    linear map), per-cell parameter dicts (with the state and the drawn variability), the
    programmed effective conductances at ``v_read``, for rram the pulse counts, and the cell
    the mapping was made for (``cell``, ``access``, ``v_gate``: the keywords of
    :func:`cell_currents`, the access device taken at its on-resistance)."""

    weights: np.ndarray
    g_target: np.ndarray
    cell_params: list
    g_programmed: np.ndarray
    pulse_counts: np.ndarray | None = None
    cell: str = "1R"
    access: dict = field(default_factory=dict)
    v_gate: float = 1.2
    v_read: float = 0.1

    @property
    def cell_keywords(self) -> dict:
        """The :func:`cell_currents` keywords of the mapping (access linear: its on-resistance)."""
        return {"cell": self.cell, "access": self.access, "v_gate": self.v_gate,
                "linear_access": True}


def program(weights, device="rram", *, spread=None, seed=0, v_read: float = 0.1,
            by_pulses: bool = False, w_range: tuple[float, float] | None = None,
            g_range: tuple[float, float] | None = None, cell: str = "1R",
            access: Mapping[str, float] | None = None, v_gate: float = 1.2,
            relaxation=None, at_time: float | None = None) -> Programmed:
    """Map a weight matrix onto device states with per-cell device-to-device variability.

    Weights are mapped linearly onto [G_low, G_high], the effective read-conductance range
    of the cell at ``v_read`` (or ``g_range``), from ``w_range`` (default: the weights' min
    and max). The effective conductance is the device's in series with the access device's
    on-resistance for ``cell="1T1R"`` (give the crossbar's ``access`` and ``v_gate``; the
    access device's compliance is left to :meth:`Crossbar.error_budget`); "1R" maps onto the
    bare device. The state of each cell is chosen for the nominal device; ``spread`` (default
    the device's ``default_spread``; ``{}`` for none) then perturbs each cell's parameters, so
    the programmed G differs. ``relaxation`` (a
    :class:`~neurospice.compact_models.rram.relaxation.Relaxation`) with ``at_time`` (s
    after programming): each cell's target conductance relaxes as drawn by its ``sample``
    (seeded by ``seed``) before its state is chosen, so the array is read ``at_time`` later.
    ``by_pulses`` (rram): program each cell open-loop with the
    nominal pulse count through its own (perturbed) parameters. (2T2R arrays store binary
    weights: :func:`binary_weights_2t2r`.)"""
    from neurospice.compact_models.randomness import draw_params

    dev = as_device(device)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise NetlistError(f"weights must be a matrix, got shape {w.shape}")
    if cell not in ("1R", "1T1R"):
        raise NetlistError(f"program() maps analog weights onto '1R' or '1T1R' cells, got "
                           f"{cell!r} (2T2R: binary_weights_2t2r)")
    out = Programmed(w, np.zeros_like(w), [], np.zeros_like(w), None, cell,
                     dict(access or {}), v_gate, v_read)
    kw = out.cell_keywords
    key = _state_key(dev)
    lo_s, hi_s = state_range(dev)
    g_lo, g_hi = g_range or tuple(cell_conductances(dev, [{key: lo_s}, {key: hi_s}], v_read,
                                                    **kw))
    w_lo, w_hi = w_range or (float(w.min()), float(w.max()))
    scale = (w - w_lo) / (w_hi - w_lo) if w_hi > w_lo else np.zeros_like(w)
    g_target = g_lo + (g_hi - g_lo) * np.clip(scale, 0.0, 1.0)
    g_state = g_target
    if relaxation is not None:
        if at_time is None:
            raise NetlistError("relaxation= needs at_time= (s after programming)")
        g_state = np.clip(relaxation.sample(g_target, float(at_time), seed),
                          min(g_lo, g_hi), max(g_lo, g_hi))
    states = state_for_conductance(dev, g_state, v_read=v_read, **kw)
    spread = dev.default_spread if spread is None else spread
    drawn = draw_params(dev, w.size, seed, spread) if spread else [{} for _ in range(w.size)]
    counts = None
    if by_pulses:
        if dev.name != "rram":
            raise NetlistError("programming by pulse counts is for rram")
        from neurospice.compact_models.rram.variability import simulate_pulse_train

        counts, _ = rram_pulse_counts(states)
        flat = counts.reshape(-1)
        n_max = int(flat.max())
        amps = np.zeros((max(n_max, 1), w.size))
        for k in range(w.size):
            amps[:flat[k], k] = RRAM_PROGRAM_PULSE[0]
        per_cell = {name: np.array([d[name] for d in drawn]) for name in (spread or {})}
        res = simulate_pulse_train(amps, RRAM_PROGRAM_PULSE[1],
                                   params={**per_cell, "gi": dev.parameter["gmin"].default},
                                   steps_flat=20, steps_edge=4)
        states = res.gap[-1].reshape(w.shape)
    cells = [{**drawn[k], key: float(states.reshape(-1)[k])} for k in range(w.size)]
    out.g_target = g_target
    out.g_programmed = cell_conductances(dev, cells, v_read, **kw).reshape(w.shape)
    out.cell_params = [cells[i * w.shape[1]:(i + 1) * w.shape[1]] for i in range(w.shape[0])]
    out.pulse_counts = counts
    return out


# --------------------------------------------------------------------------- the array

@dataclass
class Crossbar:
    """An N x M crossbar of ``device`` cells (see the module docstring).

    ``cell_params``: rows x cols parameter dicts (``Programmed.cell_params``), or None for
    default devices; for ``cell="2T2R"``, rows x cols pairs (dict for BL, dict for BLb)."""

    device: object
    rows: int
    cols: int
    cell_params: Sequence | None = None
    cell: str = "1R"
    r_row: float = 0.0
    r_col: float = 0.0
    r_driver: float = 0.0
    sense: str = "ideal"
    tia_gain: float = 1e5
    tia_rf: float = 1e3
    v_gate: float = 1.2
    rendering: str = "osdi"
    access: dict = field(default_factory=dict)

    def __post_init__(self):
        self.device = as_device(self.device)
        if self.cell not in CELLS:
            raise NetlistError(f"cell must be '1R', '1T1R' or '2T2R', got {self.cell!r}")
        if self.sense not in ("ideal", "tia"):
            raise NetlistError(f"sense must be 'ideal' or 'tia', got {self.sense!r}")
        if len(self.device.terminals) != 2:
            raise NetlistError(f"crossbar cells need a two-terminal device; {self.device.name} "
                               f"has {self.device.terminals}")
        if self.rows < 1 or self.cols < 1:
            raise NetlistError("a crossbar needs at least one row and one column")
        for name in ("r_row", "r_col", "r_driver"):
            if getattr(self, name) < 0:
                raise NetlistError(f"{name} must be >= 0")
        if self.cell_params is not None and (len(self.cell_params) != self.rows or
                                             any(len(r) != self.cols for r in self.cell_params)):
            raise NetlistError(f"cell_params must be {self.rows} x {self.cols}")

    @property
    def bitlines(self) -> list[str]:
        if self.cell == "2T2R":
            return [f"{b}{j}" for j in range(self.cols) for b in ("bl", "blb")]
        return [f"bl{j}" for j in range(self.cols)]

    def _params(self, i, j):
        return {} if self.cell_params is None else self.cell_params[i][j]

    def circuit(self, v_in, title: str = "crossbar", *, outputs_only: bool = False):
        """The array with DC inputs ``v_in`` (one per row) and an operating point;
        ``outputs_only``: the run keeps only the vectors :meth:`column_currents` reads
        (``Circuit.save``: a small raw file for a large array)."""
        from neurospice.netlists import Circuit

        v_in = np.asarray(v_in, dtype=float)
        if v_in.shape != (self.rows,):
            raise NetlistError(f"need {self.rows} input voltages, got shape {v_in.shape}")
        c = Circuit(f"{title} {self.rows}x{self.cols} {self.device.name} {self.cell}")
        c.option("threads", 1)
        nb = len(self.bitlines)
        for i in range(self.rows):
            first = self._row_node(i, 0)
            if self.r_driver > 0:
                c.vsource(f"in{i}", f"d{i}", 0, float(v_in[i]))
                c.resistor(f"drv{i}", f"d{i}", first, self.r_driver)
            else:
                c.vsource(f"in{i}", first, 0, float(v_in[i]))
        if self.cell != "1R":
            c.subcircuit(access_subcircuit(**self.access))
            for i in range(self.rows):
                c.vsource(f"g{i}", f"wl{i}", 0, self.v_gate)
        if self.cell == "2T2R":
            two_t_two_r_subcircuit(c, self.device, rendering=self.rendering)
        self._cells(c)
        for i in range(self.rows):                       # word-line wires
            for j in range(1, nb):
                if self.r_row > 0:
                    c.resistor(f"wr{i}_{j}", self._row_node(i, j - 1), self._row_node(i, j),
                               self.r_row)
        for b in range(nb):                              # bit-line wires and sense
            for i in range(1, self.rows):
                if self.r_col > 0:
                    c.resistor(f"wc{i}_{b}", self._col_node(i - 1, b), self._col_node(i, b),
                               self.r_col)
            bottom = self._col_node(self.rows - 1, b)
            if self.r_col > 0:
                c.resistor(f"wc{self.rows}_{b}", bottom, f"s{b}", self.r_col)
                bottom = f"s{b}"
            if self.sense == "ideal":
                c.vsource(f"s{b}", bottom, 0, 0.0)
            else:
                c.vcvs(f"a{b}", f"out{b}", 0, 0, bottom, self.tia_gain)
                c.resistor(f"f{b}", bottom, f"out{b}", self.tia_rf)
        c.op()
        if outputs_only:
            c.save(*self.output_vectors)
        return c

    @property
    def output_vectors(self) -> list[str]:
        """The result vectors the column currents are read from: the sense sources'
        currents (``"ideal"``) or the amplifiers' outputs (``"tia"``)."""
        if self.sense == "ideal":
            return [f"i(vs{b})" for b in range(len(self.bitlines))]
        return [f"v(out{b})" for b in range(len(self.bitlines))]

    def _row_node(self, i, j):
        return f"r{i}_{j}" if self.r_row > 0 else f"w{i}"

    def _col_node(self, i, b):
        return f"c{i}_{b}" if self.r_col > 0 else f"s{b}"

    def _cells(self, c):
        """Every cell: the devices in one batch (``Device.add_many_to``), then the access
        devices (1T1R), or the 2T2R pair instances."""
        dev = self.device
        ties = ["0"] * len(dev.noise_inputs)
        cells = [(i, j) for i in range(self.rows) for j in range(self.cols)]
        if self.cell == "2T2R":
            key = _state_key(dev)
            for i, j in cells:
                pair = self._params(i, j) or ({}, {})
                states = {f"s_{b}": dev.params(p)[key] for b, p in zip(("bl", "blb"), pair)}
                c.instance(f"p{i}_{j}", f"ns_2t2r_{dev.name}",
                           [f"wl{i}", self._row_node(i, 2 * j), self._col_node(i, 2 * j),
                            self._col_node(i, 2 * j + 1)], **states)
            return
        wr, wc, one = self.r_row > 0, self.r_col > 0, self.cell == "1R"
        dev.add_many_to(c, [f"x{i}_{j}" for i, j in cells],
                        [[f"r{i}_{j}" if wr else f"w{i}",       # _row_node, _col_node
                          (f"c{i}_{j}" if wc else f"s{j}") if one else f"m{i}_{j}", *ties]
                         for i, j in cells],
                        rendering=self.rendering,
                        params=[self._params(i, j) for i, j in cells])
        if self.cell == "1T1R":
            for i, j in cells:
                c.instance(f"t{i}_{j}", "ns_access",
                           [f"m{i}_{j}", f"wl{i}", self._col_node(i, j)])

    def column_currents(self, result) -> np.ndarray:
        """Column currents [A] flowing into the sense amplifiers (positive for positive
        inputs on conductive cells)."""
        if self.sense == "ideal":
            return np.array([float(np.ravel(result[f"i(vs{b})"])[0])
                             for b in range(len(self.bitlines))])
        return np.array([-float(np.ravel(result[f"v(out{b})"])[0]) / self.tia_rf
                         for b in range(len(self.bitlines))])

    def read(self, v_in, simulator: str = "ngspice", timeout: float | None = None) -> np.ndarray:
        """Simulate the operating point and return the column currents (the run keeps only
        :attr:`output_vectors`)."""
        from neurospice.simulators import get_simulator

        kw = {} if timeout is None else {"timeout": timeout}
        res = get_simulator(simulator).run(self.circuit(v_in, outputs_only=True), **kw).op
        return self.column_currents(res)

    def _cell_grid(self):
        """Per logical cell and bit line: rows x bit-lines parameter dicts."""
        if self.cell == "2T2R":
            pairs = self.cell_params or [[({}, {})] * self.cols] * self.rows
            return [[p for pair in row for p in pair] for row in pairs]
        return [[self._params(i, j) for j in range(self.cols)] for i in range(self.rows)]

    @property
    def cell_keywords(self) -> dict:
        """This array's :func:`cell_currents` keywords (the full access device)."""
        return {"cell": self.cell, "access": self.access, "v_gate": self.v_gate}

    def _flat(self):
        grid = self._cell_grid()
        return [p for row in grid for p in row], len(grid[0])

    def device_conductances(self, v_read: float = 0.1) -> np.ndarray:
        """Chord conductances of the bare devices at ``v_read`` (numpy): rows x bit lines
        (rows x 2cols for 2T2R, BL and BLb interleaved)."""
        flat, nb = self._flat()
        return cell_conductances(self.device, flat, v_read).reshape(self.rows, nb)

    def conductances(self, v_read: float = 0.1, *, linear_access: bool = False) -> np.ndarray:
        """Effective chord conductances of the cells at ``v_read`` (numpy): the device in
        series with the access device (1T1R, 2T2R; its full I-V, or with ``linear_access``
        its on-resistance), rows x bit lines as :meth:`device_conductances`."""
        flat, nb = self._flat()
        return cell_conductances(self.device, flat, v_read, **self.cell_keywords,
                                 linear_access=linear_access).reshape(self.rows, nb)

    def ideal(self, v_in, v_read: float = 0.1) -> np.ndarray:
        """The numpy model of a read: G^T v with the cells' effective chord conductances at
        ``v_read`` (:meth:`conductances`: device and access device in series). It includes the
        access device; it excludes the wires (IR drop), the driver and the sense amplifier,
        and the I-V nonlinearity at inputs other than 0 and +-v_read (exact for those on an
        array without wires)."""
        return np.asarray(v_in, dtype=float) @ self.conductances(v_read)

    def cell_currents(self, v_in) -> np.ndarray:
        """Column currents of the array without wires from each cell's own I-V at its input
        (numpy: device and access device solved in series): the reference for analog inputs
        (includes the nonlinearity)."""
        v_in = np.asarray(v_in, dtype=float)
        flat, nb = self._flat()
        v = np.repeat(v_in, nb)
        return cell_currents(self.device, v, flat, **self.cell_keywords).reshape(
            self.rows, nb).sum(axis=0)

    def device_currents(self, v_in) -> np.ndarray:
        """Column currents of an ideal 1R array from each device's own I-V (numpy): the
        bare devices, no access device, no wires."""
        v_in = np.asarray(v_in, dtype=float)
        flat, nb = self._flat()
        return device_currents_many(self.device, np.repeat(v_in, nb), flat).reshape(
            self.rows, nb).sum(axis=0)

    def error_budget(self, v_in, measured, target: Programmed | None = None,
                     v_read: float = 0.1) -> "ErrorBudget":
        """Where a read's error from the weights' mapping comes from (column currents, A),
        terms that add up to ``measured - mapped``:

        - ``variability``: the programmed cells vs the mapping's target conductances
          (``target.g_target``; zero without a ``target``), both with the access device at
          its on-resistance, at ``v_read``;
        - ``access``: the access device's full I-V (compliance, gate, leakage) vs its
          on-resistance, at ``v_read``;
        - ``nonlinearity``: the cells' I-V at the actual inputs vs their chord at ``v_read``;
        - ``ir_drop``: the rest of the simulated read ``measured``: wires, driver, sense.

        ``target`` must be the :class:`Programmed` these cells came from, mapped for this
        cell (a NetlistError otherwise)."""
        v = np.asarray(v_in, dtype=float)
        lin = v @ self.conductances(v_read, linear_access=True)
        if target is None:
            mapped = lin
        else:
            if target.cell != self.cell or (self.cell != "1R" and (
                    {**ACCESS_DEFAULTS, **target.access} != {**ACCESS_DEFAULTS, **self.access}
                    or target.v_gate != self.v_gate)):
                raise NetlistError(f"the weights were mapped for a {target.cell} cell "
                                   f"(access {target.access or 'default'}), this array is "
                                   f"{self.cell} (access {self.access or 'default'})")
            mapped = v @ target.g_target
        full = v @ self.conductances(v_read)
        cells = self.cell_currents(v)
        return ErrorBudget(mapped=mapped, measured=np.asarray(measured, dtype=float),
                           terms={"variability": lin - mapped, "access": full - lin,
                                  "nonlinearity": cells - full,
                                  "ir_drop": np.asarray(measured, dtype=float) - cells})


@dataclass
class ErrorBudget:
    """A read's error budget (:meth:`Crossbar.error_budget`): the mapped currents (the
    numpy W.x of the weights' mapping), the measured ones and the additive terms, each an
    array of column currents [A]. Relative sizes are RMS over the columns divided by the RMS
    of the mapped currents."""

    mapped: np.ndarray
    measured: np.ndarray
    terms: dict

    @staticmethod
    def _rms(x) -> float:
        return float(np.sqrt(np.mean(np.square(x))))

    def relative(self) -> dict:
        """Each term's RMS and the total's (``measured - mapped``), relative to the mapped
        currents' RMS."""
        scale = self._rms(self.mapped) or 1.0
        out = {k: self._rms(v) / scale for k, v in self.terms.items()}
        out["total"] = self._rms(self.measured - self.mapped) / scale
        return out

    def worst_column(self) -> float:
        """The largest column error |measured - mapped| relative to the largest mapped
        current."""
        return float(np.max(np.abs(self.measured - self.mapped)) /
                     (np.max(np.abs(self.mapped)) or 1.0))

    def table(self) -> str:
        """The budget as a Markdown table (percent)."""
        rows = [f"| {k.replace('_', ' ')} | {100 * v:.3f} % |"
                for k, v in self.relative().items()]
        return "\n".join(["| error term | RMS / RMS(mapped) |", "|---|---|", *rows,
                          f"| worst column | {100 * self.worst_column():.3f} % |"])


def binary_weights_2t2r(weights, device="rram") -> list:
    """Cell parameter pairs for a 2T2R array from a +-1 weight matrix: +1 puts BL in the HRS
    and BLb in the LRS (weight = sign(R_BL - R_BLb))."""
    dev = as_device(device)
    key = _state_key(dev)
    low_g, high_g = state_range(dev)
    w = np.sign(np.asarray(weights, dtype=float))
    if np.any(w == 0):
        raise NetlistError("2T2R binary weights must be +1 or -1")
    return [[({key: low_g}, {key: high_g}) if x > 0 else ({key: high_g}, {key: low_g})
             for x in row] for row in w]
