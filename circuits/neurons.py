"""The NbOx neuron: a Pearson-Anson relaxation oscillator built on a threshold switch.

::

    v_in ──R_s──┬── mem ──┬──────────┐
                │         │          │
             i_in(t)     C_m     NbOx (p)        the device's noise input ← noise PWL (optional)
                          │          │ (n)
                         gnd        sense ── V_sns (0 V ammeter: i(vsns) = device current)
                                             │
                                            gnd

The source charges ``C_m`` through ``R_s`` until the node reaches the device's threshold
voltage; the device snaps to its conducting branch and discharges the capacitor (a current
spike through the device) until the node falls to the hold voltage, where the device
recovers. It spikes when the load line of ``v_in`` and ``R_s`` crosses the NDR branch of the
device's I-V (docs/physics/nbox.md). The input stage takes voltage pulses (the waveform of
``v_in``) and current pulses (``i_in`` injected into the node); the readout is the device
current through the 0 V source ``vsns``.

:class:`NbOxNeuron` holds every value (all with defaults) and builds the :class:`Circuit`
(:meth:`NbOxNeuron.circuit`) or integrates the same circuit ODE in numpy
(:meth:`NbOxNeuron.simulate_numpy`, the node voltage and the device states, with the device's
numpy rendering for its current). The six presets (:func:`tonic`, :func:`stochastic`,
:func:`lif`, :func:`latency`, :func:`integration`, :func:`phasic_burst`) return
``(Circuit, Stimulus)``; ``stimulus.neuron`` is the spec, for numpy or for variations.
Parameter choices are stated in each preset's docstring.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

from neurospice.errors import ArgumentError, NetlistError, UnsupportedPoint
from neurospice.netlists.circuit import Circuit, Pulse, Pwl

MEMBRANE = "v(mem)"
SPIKE_CURRENT = "i(vsns)"

Drive = "float | Pulse | Pwl"


# --------------------------------------------------------------------------- stimulus

@dataclass(frozen=True)
class Stimulus:
    """What a preset drives the neuron with, for analysis and classification.

    ``kind``: ``"step"`` (a sustained input from ``segments[0][0]`` on), ``"pulse"`` (one
    pulse), ``"pulses"`` (a train), ``"staircase"`` (consecutive levels). ``segments``:
    ``(t_start, t_end, amplitude)`` of each episode (amplitude in V for a voltage input, A for
    a current input, ``quantity``). ``noise``: the device's temperature-noise gain (K per
    unit sample; 0 for a deterministic run). ``name``: the preset that made it (for labels;
    the classifier does not read it). ``neuron``: the spec that builds the circuit.
    ``spike_threshold``/``spike_hysteresis`` (A): detection settings for the device current
    ``i(vsns)`` (a discharge spike peaks at 1-3 mA; the insulating state carries < 0.1 mA)."""

    kind: str
    segments: tuple[tuple[float, float, float], ...]
    quantity: str
    t_stop: float
    noise: float = 0.0
    name: str = ""
    neuron: "NbOxNeuron | None" = None
    notes: str = ""
    spike_threshold: float = 3e-4
    spike_hysteresis: float = 1.5e-4

    @property
    def onset(self) -> float:
        return self.segments[0][0]

    @property
    def end(self) -> float:
        return self.segments[-1][1]


# --------------------------------------------------------------------------- the neuron

SOLVER_OPTIONS = {"osdi": {"vntol": 1e-7, "abstol": 1e-10},
                  "subckt": {"vntol": 1e-6, "abstol": 1e-10}}
"""The tolerances a neuron circuit carries besides its ``reltol`` and ``method`` (fields of
:class:`NbOxNeuron`), per rendering; ngspice and ngspice-shared read them as written, VACASK
under its own option names (``method="gear"`` as ``tran_method="gear2"``).

Why ``method="gear"`` by default: the device's temperature is a stiff state (tau_th =
r_th c_th ~ 1 ns against a 10 ns maximum step; a spike moves it in picoseconds). The
trapezoidal rule is A-stable but not L-stable: a mode much faster than the step is not damped
but flips sign from step to step (trapezoidal ringing), and ngspice's truncation-error step
control reads the ringing as error. With the tolerances the spike timing needs (reltol 1e-5,
vntol 1e-7) it shrank the step to ~1e-11 s and never let it grow back: ``tonic(1.0)`` and
``tonic(1.1)`` (Verilog-A) crawled through the input edge at t = 1.0025 us for minutes, and
the behavioral rendering stopped with "timestep too small (trouble with node mem)" at
2.5-2.6 V; each went away or moved when any one tolerance was changed, the signature of
ringing, not of a discontinuity in the model. Gear (BDF2) is L-stable and damps the fast
mode: every preset runs across its whole :data:`RANGES` on every simulator and rendering
(``tests/test_neuron_ranges.py``). ``method="trap"`` stays available on the neuron.

Why vntol 1e-6 for the behavioral rendering: with gear and vntol 1e-7 it still stopped once in
a 20-point tonic grid (2.61 V, "timestep too small at 9.1 us, trouble with node mem": Newton
at a switching event, on a deck whose helper nodes hold conductances in mS and temperatures in
kK); 1 uV on a membrane that swings by ~1 V (reltol 1e-5 already allows 10 uV there) runs
every grid point, 20 and 27 per range, with unchanged spike counts."""

def _pulse_value(w: Pulse, t):
    """SPICE PULSE evaluated at times ``t`` (vectorised)."""
    t = np.asarray(t, dtype=float)
    tau = t - w.delay
    if w.period is not None:
        tau = np.where(tau >= 0, np.mod(tau, w.period), tau)
    up = np.clip(tau / w.rise, 0.0, 1.0)
    down = np.clip((tau - w.rise - w.width) / w.fall, 0.0, 1.0)
    frac = np.where(tau < 0, 0.0, up - down)
    return w.v1 + (w.v2 - w.v1) * frac


def _drive_fn(w):
    if w is None:
        return lambda t: np.zeros(np.shape(t)) if np.ndim(t) else 0.0
    if isinstance(w, Pulse):
        return lambda t: _pulse_value(w, t)
    if isinstance(w, Pwl):
        times, values = np.asarray(w.times, float), np.asarray(w.values, float)
        return lambda t: np.interp(t, times, values)
    value = float(w)
    return lambda t: np.full(np.shape(t), value) if np.ndim(t) else value


def _scalar_drive(w):
    """The waveform as a function of one float time returning a float (the integrator's
    fast path; the same values as :func:`_drive_fn`)."""
    if w is None:
        return lambda t: 0.0
    if isinstance(w, Pulse):
        v1, dv, delay, rise, fall = float(w.v1), float(w.v2 - w.v1), w.delay, w.rise, w.fall
        top, period = w.rise + w.width, w.period

        def pulse(t):
            tau = t - delay
            if tau < 0.0:
                return v1
            if period is not None:
                tau = tau % period
            return v1 + dv * (min(max(tau / rise, 0.0), 1.0)
                              - min(max((tau - top) / fall, 0.0), 1.0))
        return pulse
    if isinstance(w, Pwl):
        times = [float(x) for x in w.times]
        values = [float(x) for x in w.values]
        last = len(times) - 1

        def pwl(t):
            k = bisect_right(times, t)
            if k == 0:
                return values[0]
            if k > last:
                return values[last]
            t0, t1 = times[k - 1], times[k]
            return values[k - 1] + (values[k] - values[k - 1]) * (t - t0) / (t1 - t0)
        return pwl
    value = float(w)
    return lambda t: value


def _breakpoints(w, t_stop: float) -> list[float]:
    """Corners of a waveform up to ``t_stop`` (where an integrator must not step over)."""
    if isinstance(w, Pulse):
        corners = np.cumsum([w.rise, w.width, w.fall])
        period = w.period if w.period is not None else np.inf
        out, start = [w.delay], w.delay
        while start < t_stop:
            out += [start, *(start + corners)]
            start += period
        return [t for t in out if 0 < t < t_stop]
    if isinstance(w, Pwl) and len(w.times) < 1000:
        return [float(t) for t in w.times if 0 < t < t_stop]
    return []


@dataclass(frozen=True)
class NbOxNeuron:
    """An NbOx neuron (see the module docstring for the schematic). All values SI.

    ``v_in`` and ``i_in``: a constant, a :class:`Pulse` or a :class:`Pwl` (voltage at the
    source, current injected into the membrane node; ``None`` for no current input).
    ``device``: NbOx parameters for this instance (defaults of the ``nbox`` device otherwise).
    ``noise``: temperature-noise gain ``t_noise`` (K per unit sample; 0 = deterministic),
    with ``noise_seed`` and ``noise_dt`` for the seeded PWL (the same realisation in every
    simulator and in numpy). ``t_stop``, ``t_step`` and ``max_step``: the transient
    (``max_step`` also bounds the numpy integrator). ``reltol`` and ``method``: the
    transient's solver options (see :data:`SOLVER_OPTIONS` for why ``gear`` is the
    default)."""

    v_in: object = 2.0
    r_s: float = 20e3
    c_m: float = 100e-12
    i_in: object = None
    device: Mapping[str, float] = field(default_factory=dict)
    noise: float = 0.0
    noise_seed: int = 1
    noise_dt: float = 20e-9
    readout: bool = True
    t_stop: float = 30e-6
    t_step: float = 5e-9
    max_step: float = 10e-9
    reltol: float = 1e-5
    method: str = "gear"

    def __post_init__(self):
        for name in ("r_s", "c_m", "t_stop", "t_step", "max_step", "noise_dt", "reltol"):
            if not float(getattr(self, name)) > 0:
                raise NetlistError(f"NbOxNeuron: {name} must be positive, got "
                                   f"{getattr(self, name)!r}")
        if self.method not in ("gear", "trap"):
            raise NetlistError(f"NbOxNeuron: method must be 'gear' or 'trap', got "
                               f"{self.method!r:.80}")
        if self.noise < 0:
            raise NetlistError(f"NbOxNeuron: noise must be >= 0, got {self.noise!r}")

    def with_(self, **changes) -> "NbOxNeuron":
        """A copy with some values changed (``device`` entries are merged)."""
        if "device" in changes:
            changes["device"] = {**self.device, **changes["device"]}
        return replace(self, **changes)

    @property
    def device_params(self) -> dict[str, float]:
        from neurospice.compact_models.devices import get_device

        return get_device("nbox").params({**self.device, "t_noise": self.noise})

    def noise_waveform(self) -> Pwl | None:
        if self.noise <= 0:
            return None
        from neurospice.compact_models.randomness import noise_pwl

        return noise_pwl(self.noise_seed, self.t_stop, self.noise_dt)

    # ---------------------------------------------------------------- circuit
    def circuit(self, rendering: str = "osdi", title: str = "NbOx neuron") -> Circuit:
        """The netlist: ``rendering`` "osdi" (Verilog-A) or "subckt" (behavioral)."""
        from neurospice.compact_models.devices import get_device

        c = Circuit(title)
        _source(c.vsource, "in", "src", "0", self.v_in)
        c.resistor("s", "src", "mem", self.r_s)
        c.capacitor("m", "mem", "0", self.c_m)
        if self.i_in is not None:
            _source(c.isource, "inj", "0", "mem", self.i_in)
        low = "sense" if self.readout else "0"
        noise = self.noise_waveform()
        xi = "xi" if noise is not None else "0"
        params = {**self.device}
        if noise is not None:
            c.vsource("xi", "xi", "0", waveform=noise)
            params["t_noise"] = self.noise
        get_device("nbox").add_to(c, "1", ["mem", low, xi], rendering=rendering, params=params)
        if self.readout:
            c.vsource("sns", "sense", "0", 0.0)
        c.option("reltol", self.reltol)
        if rendering not in SOLVER_OPTIONS:
            raise NetlistError(f"NbOxNeuron: rendering must be one of "
                               f"{', '.join(SOLVER_OPTIONS)}, got {rendering!r:.80}")
        for name, value in SOLVER_OPTIONS[rendering].items():
            c.option(name, value)
        c.option("method", self.method)
        c.tran(self.t_step, self.t_stop, max_step=self.max_step)
        return c

    # ---------------------------------------------------------------- numpy
    def simulate_numpy(self, *, rtol: float | None = None, atol: float = 1e-8,
                       method: str = "LSODA"):
        """Integrate the neuron circuit in numpy: the node voltage and the device states, the
        device current and state rates from the device's numpy rendering (on Python floats,
        :meth:`~neurospice.compact_models.framework.NumpyModel.scalar_equations`). ``method``:
        a stiff :func:`solve_ivp` method, LSODA by default (its Newton iterations and
        finite-difference Jacobian run in
        compiled code: ~15x faster than BDF here with the same spike times); ``rtol``
        defaults to a tenth of the circuit's ``reltol``; ``atol`` applies to node volts and
        temperatures/1000 K. The integration restarts at every corner of the input waveforms
        and never steps further than ``max_step``.

        Returned as a :class:`~neurospice.simulators.Result` of kind ``tran`` with ``v(mem)``,
        ``v(src)``, ``i(vsns)`` (the device current), ``v(n1.s_t)`` and ``v(n1.s_ts)`` at the
        integrator's steps. Sign: SPICE reports the current through ``vsns`` from its + node
        (``sense``) to ground, i.e. the device current, positive when the device conducts
        from ``mem``."""
        from scipy.integrate import solve_ivp

        from neurospice.compact_models.devices import get_device
        from neurospice.simulators import Result

        dev = get_device("nbox")
        p = self.device_params
        evaluate = dev.numpy.equations
        fast = dev.numpy.scalar_equations
        x0 = dev.numpy.initial_state(p)
        s_t, s_ts = (float(s.scale) for s in dev.states)
        vin, iin = _scalar_drive(self.v_in), _scalar_drive(self.i_in)
        noise = self.noise_waveform()
        xi = _scalar_drive(noise)
        gs, cm = 1.0 / self.r_s, self.c_m

        def rhs(t, y):
            v, temp, env = float(y[0]), float(y[1]) * s_t, float(y[2]) * s_ts
            volts, states = {"p": v, "n": 0.0, "xi": xi(t)}, {"T": temp, "Ts": env}
            (cur,), (r_t, r_ts) = fast(t, volts, states, p)
            return [((vin(t) - v) * gs + iin(t) - cur) / cm, r_t / s_t, r_ts / s_ts]

        v0 = vin(0.0)
        # the operating point with the states at their initial values (as SPICE's DC does)
        y = np.array([self._op_voltage(v0, iin(0.0), x0, p, evaluate),
                      x0["T"] / s_t, x0["Ts"] / s_ts])
        cuts = sorted({0.0, self.t_stop, *_breakpoints(self.v_in, self.t_stop),
                       *_breakpoints(self.i_in, self.t_stop)})
        ts, ys = [np.array([0.0])], [y[:, None]]
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b - a <= 0:
                continue
            sol = solve_ivp(rhs, (a, b), y, method=method, rtol=rtol or self.reltol * 0.1,
                            atol=atol, max_step=self.max_step, first_step=min(1e-12, b - a))
            if not sol.success:
                raise RuntimeError(f"numpy neuron integration failed at t={sol.t[-1]:.4g} s: "
                                   f"{sol.message}")
            ts.append(sol.t[1:])
            ys.append(sol.y[:, 1:])
            y = sol.y[:, -1]
        t = np.concatenate(ts)
        Y = np.concatenate(ys, axis=1)
        X = {"T": Y[1] * s_t, "Ts": Y[2] * s_ts}
        with np.errstate(all="ignore"):
            cur, _ = evaluate(t, {"p": Y[0], "n": 0.0, "xi": _drive_fn(noise)(t)}, X, p)
        vectors = {"time": t, "v(mem)": Y[0], "v(src)": _drive_fn(self.v_in)(t),
                   "i(vsns)": cur[0], "v(n1.s_t)": Y[1], "v(n1.s_ts)": Y[2]}
        return Result("tran", vectors, simulator="numpy")

    def _op_voltage(self, v_src, i_in, x0, p, evaluate) -> float:
        """The DC node voltage with the device states held (bisection; monotone in v)."""
        X = {k: np.asarray(v) for k, v in x0.items()}
        lo, hi = min(0.0, v_src) - 10.0, max(0.0, v_src) + 10.0 + abs(i_in) * self.r_s

        def f(v):
            cur, _ = evaluate(0.0, {"p": v, "n": 0.0, "xi": 0.0}, X, p)
            return (v_src - v) / self.r_s + i_in - cur[0]

        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if f(mid) > 0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


def _source(add, name, p, n, drive):
    if isinstance(drive, (Pulse, Pwl)):
        return add(name, p, n, waveform=drive)
    return add(name, p, n, float(drive))


# --------------------------------------------------------------------------- presets

def _step(amplitude: float, onset: float, edge: float = 10e-9) -> Pulse:
    return Pulse(0.0, amplitude, delay=onset, rise=edge, fall=edge, width=1.0)


def pulse_train(amplitude: float, starts: Sequence[float], width: float,
                edge: float = 10e-9) -> Pwl:
    """Trapezoidal pulses (``edge`` rise and fall) starting at ``starts``, as one PWL."""
    t, v = [0.0], [0.0]
    for a in starts:
        if a <= t[-1]:
            raise NetlistError("pulse_train: pulses overlap or start at t <= 0")
        t += [a, a + edge, a + edge + width, a + 2 * edge + width]
        v += [0.0, amplitude, amplitude, 0.0]
    return Pwl(t, v)


def _done(neuron: NbOxNeuron, stim: Stimulus, rendering: str, title: str):
    stim = replace(stim, neuron=neuron)
    return neuron.circuit(rendering, title=title), stim


def tonic(amplitude: float = 2.0, *, rendering: str = "osdi", onset: float = 1e-6,
          t_stop: float = 20e-6, **neuron):
    """Tonic spiking: a voltage step of ``amplitude`` (V) through R_s = 20 kohm onto
    C_m = 100 pF. The load line crosses the NDR branch from about 1.8 V on; at 2 V the neuron
    fires every ~0.9 us, faster with more input (about 2.4 MHz at 3 V)."""
    n = NbOxNeuron(v_in=_step(amplitude, onset), t_stop=t_stop, **neuron)
    stim = Stimulus("step", ((onset, t_stop, amplitude),), "voltage", t_stop, name="tonic")
    return _done(n, stim, rendering, f"NbOx neuron: tonic spiking, {amplitude:g} V")


def stochastic(noise: float = 10.0, *, amplitude: float = 2.0, seed: int = 1,
               rendering: str = "osdi", onset: float = 1e-6, t_stop: float = 40e-6, **neuron):
    """Stochastic spiking: the tonic neuron with temperature noise ``noise`` (K per unit
    sample, seeded PWL every 20 ns; the device's thermal time ~1 ns follows it). Noise
    advances or delays each threshold crossing: the ISI CV grows with ``noise`` (about
    0.09, 0.15, 0.4 at 3, 10, 30 K against < 0.02 without)."""
    n = NbOxNeuron(v_in=_step(amplitude, onset), t_stop=t_stop, noise=noise, noise_seed=seed,
                   **neuron)
    stim = Stimulus("step", ((onset, t_stop, amplitude),), "voltage", t_stop, noise=noise,
                    name="stochastic")
    return _done(n, stim, rendering, f"NbOx neuron: stochastic spiking, {noise:g} K noise")


LIF_LEVELS = (40e-6, 70e-6, 100e-6, 130e-6, 160e-6)


def lif(levels: Sequence[float] = LIF_LEVELS, *, rendering: str = "osdi", onset: float = 1e-6,
        width: float = 6e-6, gap: float = 3e-6, **neuron):
    """Leaky integrate-and-fire: current steps ``levels`` (A) injected into the membrane
    node, ``width`` long with ``gap`` rests between; the source is grounded, so R_s = 20 kohm
    is the leak (tau = R_s C_m = 2 us). Sub-threshold levels charge the node to
    I R_s < V_th and decay in the gaps; above about 90 uA (where the Norton load line reaches
    the NDR branch) the neuron fires, faster with more current: the rate-vs-input curve has
    a threshold."""
    starts = [onset + k * (width + gap) for k in range(len(levels))]
    t, v = [0.0], [0.0]
    edge = 10e-9
    for a, level in zip(starts, levels):
        t += [a, a + edge, a + edge + width, a + 2 * edge + width]
        v += [0.0, level, level, 0.0]
    t_stop = starts[-1] + width + gap
    n = NbOxNeuron(v_in=0.0, i_in=Pwl(t, v), t_stop=t_stop, **neuron)
    segments = tuple((a, a + width + 2 * edge, lv) for a, lv in zip(starts, levels))
    stim = Stimulus("staircase", segments, "current", t_stop, name="lif")
    return _done(n, stim, rendering, "NbOx neuron: leaky integrate-and-fire")


def latency(amplitude: float = 100e-6, *, rendering: str = "osdi", onset: float = 1e-6,
            width: float = 2e-6, t_stop: float = 6e-6, **neuron):
    """Spike latency: one current pulse of ``amplitude`` (A) and ``width`` into the leaky
    membrane (source grounded, R_s = 20 kohm, C_m = 100 pF). The node charges towards
    I R_s and fires when it reaches V_th, after a delay that shrinks with the amplitude
    (~1.7 us at 100 uA, ~0.25 us at 150 uA); near 100 uA the pulse ends before a second
    spike."""
    n = NbOxNeuron(v_in=0.0, i_in=pulse_train(amplitude, [onset], width), t_stop=t_stop,
                   **neuron)
    stim = Stimulus("pulse", ((onset, onset + width + 20e-9, amplitude),), "current", t_stop,
                    name="latency")
    return _done(n, stim, rendering, f"NbOx neuron: spike latency, {amplitude * 1e6:g} uA")


def integration(n_pulses: int = 4, *, spacing: float = 0.5e-6, amplitude: float = 200e-6,
                width: float = 0.25e-6, rendering: str = "osdi", onset: float = 1e-6,
                tail: float = 3e-6, **neuron):
    """Temporal integration: ``n_pulses`` current pulses (``amplitude``, ``width``) every
    ``spacing`` into the leaky membrane. Each pulse alone is sub-threshold (it lifts the node
    by ~0.45 V, which leaks away with tau = 2 us); closely spaced pulses add up and the k-th
    fires (k = 3 with the defaults, see :func:`integration_threshold`); the same pulses
    spread out (``spacing`` >> tau) never fire."""
    starts = [onset + k * spacing for k in range(n_pulses)]
    t_stop = starts[-1] + width + tail
    n = NbOxNeuron(v_in=0.0, i_in=pulse_train(amplitude, starts, width), t_stop=t_stop,
                   **neuron)
    segments = tuple((a, a + width + 20e-9, amplitude) for a in starts)
    stim = Stimulus("pulses", segments, "current", t_stop, name="integration")
    return _done(n, stim, rendering, f"NbOx neuron: temporal integration, {n_pulses} pulses")


#: The phasic neuron's surroundings (per-instance ``nbox`` parameters): a small, well-coupled
#: thermal mass, so that each spike heats it by ~10 K (a counter, not a slow drift).
PHASIC_DEVICE = {"c_env": 2e-12, "r_env": 1e6}


def phasic_burst(amplitude: float = 1.66, *, rendering: str = "osdi", onset: float = 1e-6,
                 t_stop: float = 30e-6, **neuron):
    """Phasic bursting: a sustained voltage step of ``amplitude`` through a small
    R_s = 2 kohm onto C_m = 100 pF. The load line crosses the NDR branch just below the hold
    point (I_h = 0.64 mA at V_h = 0.64 V with the surroundings at ambient), so the neuron first
    spikes fast; each spike heats the surroundings ``Ts`` by ~10 K, which lowers the hold
    current by ~33 uA, and the device latches onto its conducting branch once I_h falls below
    the load line's current (Ts ~ 338 K): a burst of 4 spikes in ~0.34 us at the onset, then
    silence (a steady conducting state, 0.6 mA, that keeps the surroundings hot: Ts settles
    at ~470 K, the device at ~640 K) for as long as the step lasts.

    Surroundings (:data:`PHASIC_DEVICE`): c_env = 2 pJ/K (about 1 um^3 of electrode and oxide
    around the device at ~2-3 J cm^-3 K^-1) and r_env = 1 MK/W to the stage (spreading into
    SiO2 from a ~0.2 um region), tau_env = 2 us, longer than the burst: ``Ts`` counts the
    spikes. Large steps per spike put the end of the burst far from a tipping point: the
    count stays 4 from 1.64 to 1.685 V (ngspice, VACASK and numpy agree on both edges within
    5 mV, at reltol 1e-5 as at 1e-6), and the release after the third spike leaves the fold
    30 uA (one spike's worth) away. ``reltol`` 1e-6 (instead of 1e-5) brings the spike times
    of the three simulators within 0.03 %. ``device`` entries given here are merged over
    :data:`PHASIC_DEVICE`."""
    neuron = {"r_s": 2e3, "reltol": 1e-6, **neuron}
    neuron["device"] = {**PHASIC_DEVICE, **neuron.get("device", {})}
    n = NbOxNeuron(v_in=_step(amplitude, onset), t_stop=t_stop, **neuron)
    stim = Stimulus("step", ((onset, t_stop, amplitude),), "voltage", t_stop,
                    name="phasic_burst")
    return _done(n, stim, rendering, "NbOx neuron: phasic bursting")


PRESETS = {"tonic": tonic, "stochastic": stochastic, "lif": lif, "latency": latency,
           "integration": integration, "phasic_burst": phasic_burst}


@dataclass(frozen=True)
class OperatingRange:
    """The range of one input over which a preset is declared to work: on ngspice (Verilog-A
    and behavioral renderings), ngspice-shared and VACASK, every point finishes and the
    simulators agree on the spike count within one spike (``tests/test_neuron_ranges.py``
    runs the grid).

    ``parameter``: the preset's keyword argument (for :func:`lif`, ``levels`` given one level,
    a single current step: an f-I point). ``low``/``high``: its bounds, in ``unit`` (SI).
    ``trend``: what the physics says the response does as the input rises (``"rate_up"``:
    the spike count never falls; ``"latency_down"``: the first spike never comes later;
    ``""``: no monotonic claim, e.g. noise). ``note``: where the behaviour changes inside the
    range."""

    preset: str
    parameter: str
    low: float
    high: float
    unit: str
    trend: str = ""
    note: str = ""

    def points(self, n: int = 20) -> np.ndarray:
        """``n`` evenly spaced values from ``low`` to ``high`` (both included)."""
        if n < 2:
            raise ArgumentError(f"{self.preset} range: need at least 2 points, got {n!r}")
        return np.linspace(self.low, self.high, n)

    def build(self, value: float, **kw):
        """``(Circuit, Stimulus)`` of the preset at ``value`` (other keywords passed on);
        a value outside the declared range is an UnsupportedPoint (an ArgumentError) naming
        the range."""
        value = float(value)
        span = self.high - self.low
        if not (self.low - 1e-9 * span <= value <= self.high + 1e-9 * span):
            raise UnsupportedPoint(f"{self.preset}: {self.parameter}={value:g} {self.unit} is "
                                f"outside its declared range {self.low:g}-{self.high:g} "
                                f"{self.unit} (call the preset directly to go beyond it)")
        arg = (value,) if self.parameter == "levels" else value
        return PRESETS[self.preset](**{self.parameter: arg}, **kw)


#: Each preset's declared operating range (see :class:`OperatingRange`).
RANGES = {r.preset: r for r in (
    OperatingRange("tonic", "amplitude", 0.5, 3.0, "V", "rate_up",
                   "quiescent below ~1.8 V (the load line misses the NDR branch), then "
                   "tonic spiking whose rate rises with the step"),
    OperatingRange("stochastic", "noise", 0.0, 30.0, "K", "",
                   "0 K is the deterministic tonic neuron; the ISI jitter grows with the "
                   "noise"),
    OperatingRange("lif", "levels", 0.0, 200e-6, "A", "rate_up",
                   "one current step: sub-threshold up to ~90 uA, then firing faster with "
                   "more current (an f-I curve with a threshold)"),
    OperatingRange("latency", "amplitude", 50e-6, 300e-6, "A", "latency_down",
                   "silent below ~95 uA (the node never reaches V_th within the pulse); the "
                   "delay shrinks with the amplitude"),
    OperatingRange("integration", "amplitude", 50e-6, 300e-6, "A", "latency_down",
                   "four pulses: silent while even four do not add up to V_th, then the "
                   "pulse that fires comes earlier as the amplitude rises"),
    OperatingRange("phasic_burst", "amplitude", 1.64, 1.685, "V", "",
                   "the plateau of the burst count (4 spikes, then latched silence); "
                   "outside it the count or the latch changes"),
)}


def integration_threshold(max_pulses: int = 6, *, simulator: str = "vacask", **kw):
    """The smallest number k of closely spaced pulses that makes the neuron fire (None if
    ``max_pulses`` do not): simulates :func:`integration` with 1, 2, ... pulses."""
    from neurospice.analysis.spikes import detect_spikes
    from neurospice.simulators import get_simulator

    sim = get_simulator(simulator)
    for k in range(1, max_pulses + 1):
        circuit, stim = integration(k, **kw)
        res = sim.run(circuit).tran
        sp = detect_spikes(res.axis, res[SPIKE_CURRENT], threshold=stim.spike_threshold,
                           hysteresis=stim.spike_hysteresis)
        if len(sp):
            return k
    return None
