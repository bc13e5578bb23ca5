"""Demo section: the hardware-sized RF network (8 MTJs) trained on the synthetic XOR task;
its decision boundary, its chain voltages and the RF transient of one inference."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def showcase(out: Path) -> list[str]:
    """RF-coupled MTJ network: train, decision boundary, chain voltages, one RF transient."""
    from neurospice.analysis.plots import curves, decision_boundary
    from neurospice.circuits.rfnet import rf_netlist as RF
    from neurospice.circuits.rfnet.data import linearly_separable_accuracy, synthetic
    from neurospice.circuits.rfnet.network import RFNetwork
    from neurospice.circuits.rfnet.train import fit
    from neurospice.simulators import get_simulator

    out = Path(out)
    from neurospice.circuits.rfnet.baselines import train_baseline

    ds = synthetic("xor", seed=0)
    t0 = time.perf_counter()
    # as `rfnet train`: the same-shape conventional network first, the RF network started
    # from it (fit's start=), further restarts from seeds if it falls short of the target
    base = train_baseline([2, 2, 1], ds.x_train, ds.y_train, x_test=ds.x_test,
                          y_test=ds.y_test)
    net, _, tried = fit(lambda s: RFNetwork.build([2, 2, 1], ds.freq_hz,
                                                     osc_freq_hz=[[4e9, 6e9]], seed=s,
                                                     init_shift=1.0, name="xor"),
                           ds.x_train, ds.y_train, restarts=10, target=0.99, epochs=100,
                           batch=32, lr_shift=0.05, lr_bias_v=2e-4, start=base)
    t_train = time.perf_counter() - t0    # the baseline and every restart, not only the kept
    acc = net.accuracy(ds.x_test, ds.y_test)
    g = np.linspace(0, 1, 81)
    xx, yy = np.meshgrid(g, g)
    grid = np.c_[xx.ravel(), yy.ravel()] * ds.p_max_w
    v_out = net.forward(grid)
    fig1 = decision_boundary(xx, yy, 1e3 * v_out[:, 0].reshape(xx.shape), ds.points_test,
                             ds.y_test, out / "rfnet_decision_boundary.png",
                             title=f"8-MTJ RF network on XOR: test {100 * acc:.1f} % "
                                   "(score, mV)",
                             xlabel="tone 1 power (uW)", ylabel="tone 2 power (uW)")
    # chain voltages along the diagonal and the anti-diagonal of the input square
    s = np.linspace(0, 1, 101)
    panels = []
    for label, pts in (("P1 = P2 = s", np.c_[s, s]), ("P1 = s, P2 = 1 - s", np.c_[s, 1 - s])):
        _, tr = net.forward(pts * ds.p_max_w, keep=True)
        panels.append({"title": label, "xlabel": "s", "ylabel": "chain voltage (mV)",
                       "series": [(s, 1e3 * tr[0]["v"][:, 0], "hidden chain 1"),
                                  (s, 1e3 * tr[0]["v"][:, 1], "hidden chain 2"),
                                  (s, 1e3 * tr[1]["v"][:, 0], "output chain")]})
    fig2 = curves(panels, out / "rfnet_chain_voltages.png", title="envelope model")
    lines = ["## RF-coupled MTJ network (synapses: spin-diode chains; neurons: STNOs)", "",
             f"XOR encoded as the powers of two tones (4 and 6 GHz); linear classifier "
             f"{100 * linearly_separable_accuracy(ds):.1f} %. Network 2 -> 2 -> 1: "
             f"{net.device_count['resonators']} resonators + {net.device_count['oscillators']} "
             f"oscillators, trained in {t_train:.1f} s ({tried} start(s)): test accuracy "
             f"{100 * acc:.1f} % (envelope model); {base.line()}. Figures: `{fig1.name}`, "
             f"`{fig2.name}`."]
    if get_simulator("ngspice").is_available():
        x = ds.x_test[0]
        step, stop, _ = RF.default_timing(net, points_per_period=100)
        t0 = time.perf_counter()
        score, res = RF.infer(net, x, step=step, stop=0.75 * stop, return_result=True)
        t_rf = time.perf_counter() - t0
        env = net.forward(x[None])[0, 0]
        t = res.axis
        k = max(1, len(t) // 6000)
        fig3 = curves([{"title": "first-layer chain 1 (RF) and its low-pass read-out",
                        "xlabel": "time (ns)", "ylabel": "V (mV)",
                        "series": [(1e9 * t[::k], 1e3 * res["v(l0c0n2)"][::k], "chain top"),
                                   (1e9 * t[::k], 1e3 * res["v(lp0_0)"][::k], "low-pass")]},
                       {"title": "oscillator 1 (RF voltage after DC block)",
                        "xlabel": "time (ns)", "ylabel": "V (mV)",
                        "series": [(1e9 * t[::k], 1e3 * res["v(rf0_0)"][::k], "")]},
                       {"title": "output chain score", "xlabel": "time (ns)",
                        "ylabel": "V (mV)",
                        "series": [(1e9 * t[::k], 1e3 * res["v(lp1_0)"][::k], "RF transient"),
                                   (1e9 * t[[0, -1]], 1e3 * np.array([env, env]),
                                    "envelope model", "--")]}],
                      out / "rfnet_rf_transient.png", title="one inference, ngspice")
        lines += ["", f"One inference as a full RF transient in ngspice ({len(t)} points, "
                      f"{t_rf:.1f} s): score {1e3 * score[0]:.3f} mV vs envelope "
                      f"{1e3 * env:.3f} mV. Figure: `{fig3.name}`."]
    return lines + [""]
