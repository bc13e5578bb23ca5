"""The NbOx neuron zoo for ``make demo``."""

from __future__ import annotations

import numpy as np

from neurospice.circuits.neurons import (MEMBRANE, PRESETS, SPIKE_CURRENT,
                                         integration_threshold, latency, lif, stochastic, tonic)


def showcase(out) -> list[str]:
    """The neuron zoo for ``make demo``: each preset simulated (VACASK, else ngspice), one
    figure per behaviour, an f-I curve, ISI histograms and a raster of the stochastic neuron,
    and a table of the measured metrics."""
    from pathlib import Path

    from neurospice.analysis import plots
    from neurospice.analysis.spikes import (classify, detect_spikes, energy_per_spike,
                                            firing_rate, isi_stats)
    from neurospice.compact_models.nbox import threshold_hold
    from neurospice.simulators import get_simulator

    out = Path(out)
    name = "vacask" if get_simulator("vacask").is_available() else "ngspice"
    sim = get_simulator(name)

    def run(circuit, stim):
        res = sim.run(circuit, timeout=120).tran
        sp = detect_spikes(res.axis, res[SPIKE_CURRENT], threshold=stim.spike_threshold,
                           hysteresis=stim.spike_hysteresis)
        return res, sp

    v_th, v_h = threshold_hold(include_env=False)
    rows, figs = [], []
    for key, preset in PRESETS.items():
        circuit, stim = preset()
        res, sp = run(circuit, stim)
        label = classify(sp.times, stim).label
        st = isi_stats(sp.times, skip_first=1)
        energy = energy_per_spike(res.axis, res[MEMBRANE], res[SPIKE_CURRENT], sp)
        rate = firing_rate(sp.times, stim.onset, stim.t_stop)
        fig = plots.spike_waveform(
            res.axis, [(res[MEMBRANE], "v(mem) (V)"), (res[SPIKE_CURRENT], "i device (mA)", 1e3),
                       (res["v(n1.s_t)"], "T (K)", 1e3)],
            sp.times, out / f"neuron_{key}.png", title=circuit.title)
        figs.append(fig.name)
        notes = []
        if key == "phasic_burst" and len(sp) > 1:
            notes.append(f"burst {1e6 * (sp.times[-1] - sp.times[0]):.2f} us, silence "
                         f"{1e6 * (stim.t_stop - sp.times[-1]):.1f} us")
        ended = sp.stop < len(res.axis) - 1        # a spike still on at the end has no energy
        if len(sp) and not ended.all():
            notes.append(f"{int((~ended).sum())} spike(s) still on at the end: energy over "
                         "the ended ones")
        e_spike = 1e12 * np.mean(energy[ended]) if ended.any() else float("nan")
        rows.append(f"| {key} | {label} | {len(sp)} | {rate / 1e3:.0f} | "
                    f"{1e6 * (sp.times[0] - stim.onset) if len(sp) else float('nan'):.3f} | "
                    f"{st.cv:.3f} | {e_spike:.1f} | {'; '.join(notes)} |")
    # f-I (LIF staircase), latency vs amplitude, stochastic ISI / raster
    levels = (20e-6, 50e-6, 80e-6, 95e-6, 110e-6, 140e-6, 180e-6)
    circuit, stim = lif(levels)
    _, sp = run(circuit, stim)
    rates = [firing_rate(sp.times, a, b) for a, b, _ in stim.segments]
    figs.append(plots.fi_curve(levels, rates, out / "neuron_fi_curve.png", xscale=1e6,
                               xlabel="input current (uA)", title="LIF: rate vs input").name)
    amps = (100e-6, 120e-6, 150e-6, 200e-6, 300e-6)
    lat = []
    for a in amps:
        circuit, stim = latency(a)
        _, sp = run(circuit, stim)
        lat.append(sp.times[0] - stim.onset if len(sp) else float("nan"))
    k = integration_threshold(simulator=name)
    trains, cvs = {}, []
    for noise in (0.0, 3.0, 10.0, 30.0):
        circuit, stim = stochastic(noise) if noise else tonic(t_stop=40e-6)
        _, sp = run(circuit, stim)
        trains[f"{noise:g} K"] = sp.times
        cvs.append(isi_stats(sp.times, skip_first=1).cv)
    figs.append(plots.isi_histogram(trains, out / "neuron_isi_histogram.png",
                                    title="stochastic spiking: ISI").name)
    figs.append(plots.raster(trains, out / "neuron_raster.png",
                             title="stochastic spiking vs temperature noise").name)
    return ["## NbOx neuron zoo", "",
            f"Device `nbox` (defaults): V_th = {v_th:.3f} V, V_h = {v_h:.3f} V (quasi-static, "
            f"surroundings at ambient). Simulator: {name}. Figures: "
            + ", ".join(f"`{f}`" for f in figs) + ".", "",
            "| preset | classified | spikes | rate (kHz) | first-spike latency (us) | ISI CV "
            "| energy/spike (pJ) | notes |", "|---|---|---|---|---|---|---|---|", *rows, "",
            "- f-I (LIF): " + ", ".join(f"{1e6 * a:g} uA: {r / 1e3:.0f} kHz"
                                        for a, r in zip(levels, rates)),
            "- latency vs pulse amplitude: " + ", ".join(
                f"{1e6 * a:g} uA: {1e6 * t:.3f} us" for a, t in zip(amps, lat)),
            f"- temporal integration threshold: k = {k} pulses (0.5 us apart)",
            "- ISI CV vs noise (0, 3, 10, 30 K): " + ", ".join(f"{c:.3f}" for c in cvs), ""]
