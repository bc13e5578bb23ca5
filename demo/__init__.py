"""``make demo``: the showcase. Each capability adds a section; all output goes to one folder.

Run with ``neurospice demo --out DIR`` (``make demo`` uses out/demo).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurospice.fileio import write_text_atomic


def leaky_integrator():
    """A leaky-integrator 'membrane' (RC) fed by a burst of current spikes, read out through
    a sigmoid behavioral source: the foundation's example circuit."""
    from neurospice.netlists import Circuit, Pwl

    c = Circuit("leaky integrator with sigmoid readout")
    c.param("vth", 0.6)
    # five 30 uA, 1 us current spikes, 4 us apart, then silence: the membrane integrates (each
    # spike adds about 0.3 V), leaks (tau = 10 us) and the readout crosses its threshold
    t, i = [0.0], [0.0]
    for k in range(5):
        t0 = 5e-6 + 4e-6 * k
        t += [t0, t0 + 0.1e-6, t0 + 1.1e-6, t0 + 1.2e-6]
        i += [0.0, 30e-6, 30e-6, 0.0]
    c.isource("spk", 0, "mem", waveform=Pwl(t, i))
    c.resistor("leak", "mem", 0, 1e5)          # tau = R*C = 10 us
    c.capacitor("mem", "mem", 0, 1e-10)
    c.bsource("out", "out", 0, v="0.5*(1 + tanh((v(mem) - vth)/0.1))")
    c.resistor("out", "out", 0, 1e6)
    c.tran(1e-8, 6e-5, max_step=1e-8)
    return c


def showcase_foundation(out: Path) -> list[str]:
    """Foundation: one circuit simulated on every available simulator."""
    from neurospice.analysis.plots import waveforms_side_by_side
    from neurospice.simulators import available_simulators, get_simulator

    circuit = leaky_integrator()
    results, lines = {}, []
    for name in available_simulators():
        sim = get_simulator(name)
        t0 = time.perf_counter()
        res = sim.run(circuit).tran
        results[f"{name} {sim.version()}"] = res
        lines.append(f"| {name} | {sim.version()} | {len(res.axis)} | "
                     f"{1e3 * (time.perf_counter() - t0):.0f} |")
    ref = next(iter(results.values()))
    grid = np.linspace(0, 6e-5, 2001)
    diffs = []
    for label, res in results.items():
        d = max(np.max(np.abs(np.interp(grid, res.axis, res[s]) - np.interp(grid, ref.axis, ref[s])))
                for s in ("v(mem)", "v(out)"))
        diffs.append(f"- {label}: max |difference| from {next(iter(results))} = {d:.2e} V")
    fig = waveforms_side_by_side(results, ["v(mem)", "v(out)"], out / "foundation_waveforms.png",
                                 title=circuit.title, xscale=1e6, xlabel="time (us)")
    return ["## Foundation: one circuit, every simulator", "",
            f"Circuit: {circuit.title}; figure: `{fig.name}`.", "",
            "| simulator | version | points | wall time (ms) |", "|---|---|---|---|",
            *lines, "", *diffs, ""]


# Each capability's showcase: (heading, "module:function"), imported only when the demo runs,
# so `import neurospice.demo` stays light. A showcase takes the output folder and returns the
# Markdown lines of its part of summary.md.
SHOWCASES = [
    ("Foundation: one circuit simulated on every available simulator",
     "neurospice.demo:showcase_foundation"),
    ("MTJ family: loop, switching law, spin-diode spectrum, STNO (VACASK)",
     "neurospice.demo.mtj_family:showcase_mtj_family"),
    ("NbOx neuron zoo: six behaviours, f-I, latency, integration, stochastic ISI",
     "neurospice.demo.neurons:showcase"),
    ("Calibration: an MTJ I-V file fitted and verified; the measured spin-diode sweeps",
     "neurospice.demo.calibration:showcase"),
    ("Crossbar VMM (with/without variability) and the RRAM weak-RESET Monte-Carlo",
     "neurospice.demo.crossbar:showcase"),
    ("RF-coupled MTJ network: train, decision boundary, chain voltages, one RF transient",
     "neurospice.demo.rfnet:showcase"),
    ("Memristor Bayesian machine: stochastic inference, SPICE column BER, energy per decision",
     "neurospice.demo.bayesian:showcase"),
]


def _showcase(ref: str):
    import importlib

    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


MARKER = ".neurospice-demo"
"""The file that marks a folder as the demo's own: the demo writes over its earlier output
there, and refuses any other folder that is not empty (unless ``overwrite``)."""


def run_demo(out: Path, *, overwrite: bool = False) -> Path:
    """Run every showcase into ``out`` and return the summary's path.

    ``out`` must be new, empty, or a folder an earlier demo wrote (it holds :data:`MARKER`);
    any other folder with files raises OutputExists unless ``overwrite`` (``neurospice demo
    --force``), which writes over the demo's files there and leaves the others."""
    from neurospice.fileio import check_folder

    out = Path(out)
    check_folder(out, overwrite=overwrite or (out / MARKER).is_file())
    write_text_atomic(out / MARKER, "written by `neurospice demo`; it may write here again\n",
                      overwrite=True)
    summary = ["# neurospice demo", ""]
    for heading, ref in SHOWCASES:
        print(f"[demo] {heading}")
        summary += _showcase(ref)(out)
    path = write_text_atomic(out / "summary.md", "\n".join(summary) + "\n", overwrite=True)
    print("\n".join(summary))
    print(f"[demo] figures and summary written to {out.resolve()} (summary: {path.name})")
    return path
