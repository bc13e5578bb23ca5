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

Programming (:func:`program`): a target weight matrix is mapped linearly onto the device's
read conductance range; the state parameter of each cell (the device's ``state_parameter``:
``gi`` for rram, ``q0`` for dwmtj, ``m0`` for mtj) is found by inverting G(state) on the numpy
rendering; device-to-device variability (by default the device's ``default_spread``) is drawn
per cell (:func:`~neurospice.compact_models.randomness.draw_params`), so the programmed
conductance differs from the target. For rram, :func:`rram_pulse_counts` maps
each target gap to a number of gradual-RESET pulses from the LRS, and
:func:`program` (``by_pulses=True``) applies those counts to every cell through the vectorised
pulse-level simulator with the cell's own parameters (open-loop programming).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    """Chord conductance I(v_read)/v_read of one device (state held, numpy)."""
    dev = as_device(device)
    return float(dev.numpy.dc_current({"p": v_read}, params)["p,n"]) / v_read


def state_range(device, params=None) -> tuple[float, float]:
    """(low-G state, high-G state) values of the device's state parameter."""
    dev = as_device(device)
    p = dev.params(params)
    if dev.name == "rram":
        return p["gmax"], p["gmin"]
    if dev.name == "dwmtj":
        from neurospice.compact_models.dwmtj import sites
        s = sites(p)
        return float(s[0]), float(s[-1])
    if dev.name == "mtj":
        return -1.0, 1.0
    raise NetlistError(f"no state range for device {dev.name!r}")


def state_for_conductance(device, g_target, params=None, v_read: float = 0.1, n_grid: int = 400):
    """The state parameter values giving the read conductances ``g_target`` (inverted by
    monotone interpolation of G over the state range, on the numpy rendering)."""
    dev = as_device(device)
    lo, hi = state_range(dev, params)
    grid = np.linspace(lo, hi, n_grid)
    key = _state_key(dev)
    base = dict(params or {})
    g = np.array([read_conductance(dev, {**base, key: float(s)}, v_read) for s in grid])
    order = np.argsort(g)
    g_t = np.asarray(g_target, dtype=float)
    if np.any(g_t < g.min() * (1 - 1e-9)) or np.any(g_t > g.max() * (1 + 1e-9)):
        raise NetlistError(f"target conductance outside the {dev.name} range "
                           f"[{g.min():.4g}, {g.max():.4g}] S")
    return np.interp(g_t, g[order], grid[order])


def rram_pulse_counts(gap_target, *, amplitude=RRAM_PROGRAM_PULSE[0],
                      width=RRAM_PROGRAM_PULSE[1], params=None, max_pulses: int = 400):
    """Number of gradual-RESET pulses from the LRS (gmin) that brings the nominal device
    closest to each target gap, and the gap trajectory (pulse-level simulator)."""
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.rram.variability import simulate_pulse_train

    p = get_device("rram").params(params)
    traj = simulate_pulse_train(np.full(max_pulses, amplitude), width,
                                params={**(params or {}), "gi": p["gmin"]},
                                steps_flat=20, steps_edge=4).gap[:, 0]
    target = np.asarray(gap_target, dtype=float)
    counts = np.abs(traj[None, :] - target.reshape(-1)[:, None]).argmin(axis=1)
    return counts.reshape(target.shape), traj


@dataclass
class Programmed:
    """A programmed array: target weights and conductances, per-cell parameter dicts (with
    the state and the drawn variability), the programmed conductances, and for rram the pulse
    counts."""

    weights: np.ndarray
    g_target: np.ndarray
    cell_params: list
    g_programmed: np.ndarray
    pulse_counts: np.ndarray | None = None


def program(weights, device="rram", *, spread=None, seed=0, v_read: float = 0.1,
            by_pulses: bool = False, w_range: tuple[float, float] | None = None,
            g_range: tuple[float, float] | None = None) -> Programmed:
    """Map a weight matrix onto device states with per-cell device-to-device variability.

    Weights are mapped linearly onto [G_low, G_high] (the device's read-conductance range at
    ``v_read``, or ``g_range``), from ``w_range`` (default: the weights' min and max). The
    state of each cell is chosen for the nominal device; ``spread`` (default
    the device's ``default_spread``; ``{}`` for none) then perturbs each cell's parameters, so the
    programmed G differs. ``by_pulses`` (rram): program each cell open-loop with the nominal
    pulse count through its own (perturbed) parameters."""
    from neurospice.compact_models.randomness import draw_params

    dev = as_device(device)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise NetlistError(f"weights must be a matrix, got shape {w.shape}")
    key = _state_key(dev)
    lo_s, hi_s = state_range(dev)
    g_lo, g_hi = g_range or (read_conductance(dev, {key: lo_s}, v_read),
                             read_conductance(dev, {key: hi_s}, v_read))
    w_lo, w_hi = w_range or (float(w.min()), float(w.max()))
    scale = (w - w_lo) / (w_hi - w_lo) if w_hi > w_lo else np.zeros_like(w)
    g_target = g_lo + (g_hi - g_lo) * np.clip(scale, 0.0, 1.0)
    states = state_for_conductance(dev, g_target, v_read=v_read)
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
    g_prog = np.array([read_conductance(dev, c, v_read) for c in cells]).reshape(w.shape)
    return Programmed(w, g_target, [cells[i * w.shape[1]:(i + 1) * w.shape[1]]
                                    for i in range(w.shape[0])], g_prog, counts)


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
        if self.cell not in ("1R", "1T1R", "2T2R"):
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

    def circuit(self, v_in, title: str = "crossbar"):
        """The array with DC inputs ``v_in`` (one per row) and an operating point."""
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
        for i in range(self.rows):
            for j in range(self.cols):
                self._cell(c, i, j)
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
        return c

    def _row_node(self, i, j):
        return f"r{i}_{j}" if self.r_row > 0 else f"w{i}"

    def _col_node(self, i, b):
        return f"c{i}_{b}" if self.r_col > 0 else f"s{b}"

    def _cell(self, c, i, j):
        dev = self.device
        ties = ["0"] * len(dev.noise_inputs)
        if self.cell == "1R":
            dev.add_to(c, f"x{i}_{j}", [self._row_node(i, j), self._col_node(i, j), *ties],
                       rendering=self.rendering, params=self._params(i, j))
        elif self.cell == "1T1R":
            mid = f"m{i}_{j}"
            dev.add_to(c, f"x{i}_{j}", [self._row_node(i, j), mid, *ties],
                       rendering=self.rendering, params=self._params(i, j))
            c.instance(f"t{i}_{j}", "ns_access", [mid, f"wl{i}", self._col_node(i, j)])
        else:
            key = _state_key(dev)
            pair = self._params(i, j) or ({}, {})
            states = {f"s_{b}": dev.params(p)[key] for b, p in zip(("bl", "blb"), pair)}
            c.instance(f"p{i}_{j}", f"ns_2t2r_{dev.name}",
                       [f"wl{i}", self._row_node(i, 2 * j), self._col_node(i, 2 * j),
                        self._col_node(i, 2 * j + 1)], **states)

    def column_currents(self, result) -> np.ndarray:
        """Column currents [A] flowing into the sense amplifiers (positive for positive
        inputs on conductive cells)."""
        if self.sense == "ideal":
            return np.array([float(np.ravel(result[f"i(vs{b})"])[0])
                             for b in range(len(self.bitlines))])
        return np.array([-float(np.ravel(result[f"v(out{b})"])[0]) / self.tia_rf
                         for b in range(len(self.bitlines))])

    def read(self, v_in, simulator: str = "ngspice", timeout: float | None = None) -> np.ndarray:
        """Simulate the operating point and return the column currents."""
        from neurospice.simulators import get_simulator

        kw = {} if timeout is None else {"timeout": timeout}
        res = get_simulator(simulator).run(self.circuit(v_in), **kw).op
        return self.column_currents(res)

    def conductances(self, v_read: float = 0.1) -> np.ndarray:
        """Chord conductances of the cells at ``v_read`` (numpy): rows x cols, or rows x 2cols
        for 2T2R (BL, BLb interleaved)."""
        if self.cell == "2T2R":
            pairs = self.cell_params or [[({}, {})] * self.cols] * self.rows
            return np.array([[read_conductance(self.device, p, v_read) for pair in row
                              for p in pair] for row in pairs])
        return np.array([[read_conductance(self.device, self._params(i, j), v_read)
                          for j in range(self.cols)] for i in range(self.rows)])

    def ideal(self, v_in, v_read: float = 0.1) -> np.ndarray:
        """The ideal VMM G^T v with the cells' chord conductances at ``v_read`` (exact for
        inputs of +-v_read or 0 on an ideal 1R array)."""
        return np.asarray(v_in, dtype=float) @ self.conductances(v_read)

    def device_currents(self, v_in) -> np.ndarray:
        """Column currents of an ideal 1R array from each device's own I-V (numpy): the
        reference for analog inputs (includes the device nonlinearity)."""
        v_in = np.asarray(v_in, dtype=float)
        return np.array([sum(float(self.device.numpy.dc_current({"p": v_in[i]},
                                                                self._params(i, j))["p,n"])
                             for i in range(self.rows)) for j in range(self.cols)])


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
