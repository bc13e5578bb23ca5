"""The MTJ family in the demo: static MTJ loop and switching law, spin-diode spectrum, STNO.

Every curve is simulated (VACASK by default, the fastest back end for these transients) and
drawn against the model's own closed form, so the figure doubles as a check.
``examples/mtj_family.py`` runs the same studies on a simulator of your choice.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def mtj_loop(sim, delta=20.0):
    """R(V) under a slow triangular voltage sweep from the antiparallel state."""
    from neurospice.compact_models.mtj import DEVICE as MTJ
    from neurospice.netlists import Circuit, Pwl

    c = Circuit("mtj loop")
    c.vsource("in", "a", 0, waveform=Pwl([0, 1e-6, 3e-6, 4e-6], [0, 0.6, -0.6, 0]))
    MTJ.add_to(c, "1", ["a", 0, 0], params={"delta": delta, "m0": -1.0})
    c.tran(1e-9, 4e-6, max_step=2e-9)
    res = sim.run(c).tran
    v, i = res["v(a)"], -res["i(vin)"]
    keep = np.abs(v) > 0.02
    return v[keep], v[keep] / i[keep]


def mtj_switching_times(sim, ratios=(0.7, 0.75, 0.8, 0.85)):
    """Time to cross the midpoint under a constant current, and the thermal law."""
    from neurospice.compact_models.mtj import DEVICE as MTJ
    from neurospice.netlists import Circuit

    p = MTJ.params()
    times, law = [], []
    for ratio in ratios:
        tau = p["tau0"] * math.exp(p["delta"] * (1 - ratio))
        c = Circuit("mtj switching")
        c.isource("drive", 0, "a", ratio * p["ic0_p"])
        MTJ.add_to(c, "1", ["a", 0, 0], params={"m0": -1.0})
        c.tran(tau / 1000, 2 * tau, max_step=tau / 400)
        res = sim.run(c).tran
        m = res["v(n1.s_m)"]
        k = int(np.argmax(m > 0))
        times.append(float(np.interp(0.0, m[k - 1:k + 1], res.axis[k - 1:k + 1])))
        law.append(tau)
    return np.array(ratios), np.array(times), np.array(law)


def spin_diode_spectrum(sim, power_w=1e-6, n=9):
    """Rectified DC voltage vs frequency from RF transients, and the envelope."""
    from neurospice.analysis.rf import rectified_dc
    from neurospice.compact_models import spin_diode as SD
    from neurospice.netlists import Circuit, Sine

    p = SD.DEVICE.params()
    f0, alpha = p["f_res"], p["alpha"]
    freqs = f0 * (1 + alpha * np.linspace(-3, 3, n))
    vdc = []
    for f in freqs:
        c = Circuit("spin diode")
        c.isource("rf", 0, "a", waveform=Sine(0.0, math.sqrt(2 * power_w / p["r0"]), f))
        SD.DEVICE.add_to(c, "1", ["a", 0])
        c.tran(1 / f / 200, 40e-9 + 20 / f, max_step=1 / f / 200)
        res = sim.run(c).tran
        vdc.append(rectified_dc(res.axis, res["v(a)"], f, t_start=40e-9))
    return freqs, np.array(vdc), SD.envelope(freqs, power_w)


def _dense_envelope(freqs, power_w=1e-6):
    from neurospice.compact_models import spin_diode as SD

    f = np.linspace(freqs[0], freqs[-1], 400)
    return f, SD.envelope(f, power_w)


def stno_curves(sim, ratios=(0.5, 1.5, 2.0, 3.0, 4.0)):
    """Power and frequency of the oscillation vs DC current, and the stationary model."""
    from neurospice.analysis.rf import tone_amplitude, tone_frequency
    from neurospice.compact_models import stno as ST
    from neurospice.netlists import Circuit

    p = ST.DEVICE.params()
    powers, freqs = [], []
    for ratio in ratios:
        current = ratio * p["i_th"]
        c = Circuit("stno")
        c.isource("bias", 0, "a", current)
        ST.DEVICE.add_to(c, "1", ["a", 0, 0])
        c.tran(1e-12, 80e-9, max_step=1e-12)
        res = sim.run(c).tran
        amp = tone_amplitude(res.axis, res["v(a)"], t_start=60e-9)
        powers.append((amp / (current * p["dr"])) ** 2)
        freqs.append(tone_frequency(res.axis, res["v(a)"], t_start=60e-9) if ratio > 1 else np.nan)
    current = np.array(ratios) * p["i_th"]
    return current, np.array(powers), np.array(freqs)


def showcase_mtj_family(out: Path, simulator: str = "vacask") -> list[str]:
    """MTJ family: R(V) loop, switching law, spin-diode spectrum, STNO power and frequency."""
    from neurospice.analysis.plots import curves
    from neurospice.compact_models import stno as ST
    from neurospice.simulators import get_simulator

    sim = get_simulator(simulator)
    v, r = mtj_loop(sim)
    ratios, t_sw, law = mtj_switching_times(sim)
    f, vdc, env = spin_diode_spectrum(sim)
    i, p, fo = stno_curves(sim)
    ii = np.linspace(0, i[-1], 200)
    fd, envd = _dense_envelope(f)
    fig = curves([
        {"title": "static MTJ: R(V) loop", "xlabel": "V (V)", "ylabel": "R (kohm)",
         "series": [(v, r / 1e3, "")]},
        {"title": "switching time vs current", "xlabel": "I / Ic0", "ylabel": "t (s)",
         "logy": True, "series": [(ratios, t_sw, "VACASK", "o"), (ratios, law, "thermal law")]},
        {"title": "spin diode, 1 uW", "xlabel": "f (GHz)", "ylabel": "V_dc (mV)",
         "series": [(f / 1e9, vdc * 1e3, "RF transient", "o"), (fd / 1e9, envd * 1e3, "envelope")]},
        {"title": "STNO power", "xlabel": "I (uA)", "ylabel": "p",
         "series": [(i * 1e6, p, "transient", "o"), (ii * 1e6, ST.stationary_power(ii), "(xi-1)/(xi+Q)")]},
        {"title": "STNO frequency", "xlabel": "I (uA)", "ylabel": "f (GHz)",
         "series": [(i * 1e6, fo / 1e9, "transient", "o"),
                    (ii[ii > ST.DEVICE.params()["i_th"]] * 1e6,
                     ST.stationary_frequency(ii[ii > ST.DEVICE.params()["i_th"]]) / 1e9, "model")]},
    ], out / "mtj_family.png", title=f"MTJ family ({simulator})")
    worst_law = np.max(np.abs(t_sw / law - 1))
    worst_env = np.max(np.abs(vdc - env)) / np.max(np.abs(env))
    above = i > ST.DEVICE.params()["i_th"]
    worst_p = np.max(np.abs(p[above] / ST.stationary_power(i[above]) - 1))
    return ["## MTJ family", "", f"Figure: `{fig.name}`.", "",
            "| check | worst deviation |", "|---|---|",
            f"| switching time vs thermal law ({len(ratios)} currents) | {worst_law:.1%} |",
            f"| spin-diode V_dc vs envelope (of peak) | {worst_env:.1%} |",
            f"| STNO power vs (xi-1)/(xi+Q) | {worst_p:.1%} |", ""]
