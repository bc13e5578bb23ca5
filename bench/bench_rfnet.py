"""RF network benchmarks: the cost of learning the hidden chains' voltage gains and of a
training step of a small network (its layers broadcast or looped over tone offsets);
training time of the drone network (256 -> 128 -> 10); per-sample cost of the envelope
model in numpy vs the envelope netlist (ngspice) vs the full RF transient netlist (its devices
as Verilog-A and as behavioral subcircuits), as ratios; the wall time of ``rfnet eval --level
rf`` on 24 samples with 2 workers;
how the envelope netlist's operating-point time grows with network size.

Run alone with ``.venv/bin/python bench/bench_rfnet.py`` from the repository root (or through
``make bench``). Prints ratios measured in this one run; nothing is asserted.
"""

from __future__ import annotations

import numpy as np

import _timing as T

from neurospice import datasets
from neurospice.circuits.rfnet import envelope_netlist as EN
from neurospice.circuits.rfnet import network as NW
from neurospice.circuits.rfnet import rf_netlist as RF
from neurospice.circuits.rfnet.data import synthetic
from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
from neurospice.circuits.rfnet.train import train


def drone_training():
    T.header("drone network training (256 -> 128 -> 10, band 8, numpy Adam, batch 128)")
    ds = datasets.load("drone_rf")
    net = RFNetwork.build([256, 128, 10], linear_plan(256, 2e9, 12e9), band=8)
    one = T.measure(lambda: net.loss_and_grads(ds.x_train[:128], ds.y_train[:128]), repeats=5)
    T.row("one Adam step (batch 128)", one)
    small = T.measure(lambda: net.loss_and_grads(ds.x_train[:32], ds.y_train[:32]), repeats=5)
    T.ratio("step: batch 128 / batch 32", one, small)
    hist = train(net, ds.x_train, ds.y_train, epochs=5, batch=128, eval_every=5)
    T.row("5 epochs (702 spectra)", hist.seconds, "s")
    T.ratio("150-epoch training (the test's) / one step", 150 * hist.seconds / 5, one)
    full = RFNetwork.build([256, 128, 10], linear_plan(256, 2e9, 12e9), band=None)
    step_full = T.measure(lambda: full.loss_and_grads(ds.x_train[:128], ds.y_train[:128]),
                          repeats=3)
    T.row("one step without a band (all 256 tones)", step_full)
    T.ratio("step: full / band 8", step_full, one)


def per_sample_cost():
    T.header("per-sample cost: envelope numpy vs envelope netlist vs RF transient (8 MTJs)")
    ds = synthetic("xor", seed=0)
    net = RFNetwork.build([2, 2, 1], ds.freq_hz, osc_freq_hz=[[4e9, 6e9]], init_shift=1.0)
    x = ds.x_test[:200]
    t_np = T.measure(lambda: net.forward(x), repeats=5)
    t_np = T.Timing([t / len(x) for t in t_np.times])
    t_op = T.measure(lambda: EN.evaluate(net, x[:1], workers=1), repeats=3)
    t_batch = T.measure(lambda: EN.evaluate(net, x[:50], batched=True), repeats=3)
    t_batch = T.Timing([t / 50 for t in t_batch.times])
    step, stop, _ = RF.default_timing(net, points_per_period=100)
    t_rf = T.measure(lambda: RF.infer(net, x[0], step=step, stop=0.75 * stop), repeats=1)
    t_sub = T.measure(lambda: RF.infer(net, x[0], step=step, stop=0.75 * stop,
                                       rendering="subckt"), repeats=1)
    for name, t in (("numpy envelope, per sample", t_np), ("netlist OP, per sample", t_op),
                    ("netlist batched, per sample", t_batch), ("RF transient, per sample", t_rf)):
        T.row(name, t)
    T.ratio("netlist OP / numpy", t_op, t_np)
    T.ratio("netlist batched / numpy", t_batch, t_np)
    T.ratio("RF transient / netlist OP", t_rf, t_op)
    T.ratio("RF transient / numpy", t_rf, t_np)
    T.ratio("RF transient: behavioral subcircuits / Verilog-A (the default in ngspice)", t_sub,
            t_rf)


def rf_eval_batch():
    """``rfnet eval --level rf``'s engine: 24 samples' RF transients through run_many on 2
    workers (the acceptance's setting), wall time and per-sample time against one sample."""
    T.header("RF transient evaluation of 24 samples (8 MTJs, run_many, 2 workers)")
    ds = synthetic("xor", seed=0)
    net = RFNetwork.build([2, 2, 1], ds.freq_hz, osc_freq_hz=[[4e9, 6e9]], init_shift=1.0)
    x = ds.x_test[:24]
    one = T.measure(lambda: RF.evaluate(net, x[:1], workers=1), repeats=1)
    res = RF.evaluate(net, x, workers=2)
    T.row("RF eval, 24 samples, 2 workers (wall)", res["seconds"], "s")
    T.row("RF eval, one sample, 1 worker", one)
    T.ratio("24 samples on 2 workers / one sample", T.Timing([res["seconds"]]), one)
    env = net.forward(x)
    same = np.mean(net.classify(res["scores"]) == net.classify(env))
    T.row("same class as the envelope", 100 * same, "%")


def op_scaling():
    T.header("envelope netlist OP time vs size (256 tones, band 8; ngspice, build included)")
    base = None
    for hidden in (4, 8, 16, 32):
        net = RFNetwork.build([256, hidden, 10], linear_plan(256, 2e9, 12e9), band=8,
                              init_shift=1.0)
        x = np.full((1, 256), 0.05e-6)
        t = T.measure(lambda: EN.evaluate(net, x, workers=1, timeout=1200), repeats=1)
        T.row(f"{net.device_count['total']} devices", t)
        if base is None:
            base = (net.device_count["total"], t)
        else:
            T.ratio(f"time ratio for {net.device_count['total'] / base[0]:.1f}x devices", t,
                    base[1])



def gain_training():
    T.header("hidden-layer training with learned voltage gains (2-4-1, full batch of 320)")
    ds = synthetic("circles", seed=0)
    x, y = ds.x_train[:320], ds.y_train[:320]

    def epochs(lr_v_gain):
        net = RFNetwork.build([2, 4, 1], ds.freq_hz, osc_freq_hz=[linear_plan(4, 3e9, 7e9)],
                              init_shift=1.0)
        return lambda: train(net, x, y, epochs=50, batch=400, eval_every=50, patience=None,
                             lr_v_gain=lr_v_gain)
    fixed = T.measure(epochs(0.0), repeats=3)
    learned = T.measure(epochs(0.1), repeats=3)
    T.row("50 epochs, gains fixed", fixed)
    T.row("50 epochs, gains learned", learned)
    T.ratio("learned / fixed", learned, fixed)
    net = RFNetwork.build([2, 4, 1], ds.freq_hz, osc_freq_hz=[linear_plan(4, 3e9, 7e9)],
                          init_shift=1.0)

    def step(small):                          # SMALL 0: every layer loops over tone offsets
        def run():
            kept, NW.SMALL = NW.SMALL, small
            try:
                net.loss_and_grads(x, y)
            finally:
                NW.SMALL = kept
        return run
    t = T.measure_interleaved({"broadcast": step(NW.SMALL), "loop": step(0)}, repeats=20)
    broadcast, looped = t["broadcast"], t["loop"]
    T.row("one step, small layers broadcast", broadcast)
    T.ratio("step: loop over tone offsets / broadcast", looped, broadcast)


if __name__ == "__main__":
    gain_training()
    drone_training()
    per_sample_cost()
    rf_eval_batch()
    op_scaling()
