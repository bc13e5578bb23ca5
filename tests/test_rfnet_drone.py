"""Drone identification with the 256 -> 128 -> 10 RF network (34 176 MTJs), on the shipped data
set ``drone_rf`` (neurospice.datasets). Slow.

- envelope model: >= 99.0 % test accuracy (99.33 % here); with 1 % non-idealities (trained
  with them, as the seed does) at most 1 point lower: 99.33 % with the shifts started trimmed
  (``build(..., trim=True)``: every resonator begins at its design frequency; see the network
  module's *Trim*). Untrimmed, the realisation reaches only 97.99 % (the resonators start a
  linewidth off their tones; the ideal network started from shifts of 1 linewidth: 97.65 %);
  a band of 16 gives 97.65 %, other spread seeds 97.99 %;
- the envelope netlist in ngspice vs numpy on 30 test samples, one batched run (a ``.dc``
  sweep of a sample-index source through the memoryless circuit): within 1e-6 relative
  (elementwise; the two evaluate the same numbers, so they agree to rounding);
- the power estimate, from the same run's first sample, is reported (positive, below 100 mW).

Training: band 8, batch 128 (a step's cost hardly depends on the batch), 300 epochs, Adam with
the learning rates decayed by 0.99 an epoch (about 25 s on one core); one trained ideal network
serves every test, the non-ideal check trains a second.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurospice import datasets
from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
from neurospice.circuits.rfnet.train import train
from neurospice.simulators import get_simulator

pytestmark = pytest.mark.slow
BAND, EPOCHS, BATCH, DECAY = 8, 300, 128, 0.99


@pytest.fixture(scope="module")
def data():
    return datasets.load("drone_rf")


def trained(ds, spread):
    net = RFNetwork.build([256, 128, 10], linear_plan(256, 2e9, 12e9), band=BAND,
                          spread=spread, seed=0, trim=True, name="drones")
    hist = train(net, ds.x_train, ds.y_train, epochs=EPOCHS, batch=BATCH, lr_shift=0.03,
                 lr_bias_v=3e-5, lr_decay=DECAY, eval_every=EPOCHS)
    return net, hist


@pytest.fixture(scope="module")
def ideal(data):
    return trained(data, 0.0)


def test_drone_accuracy(ideal, data):
    net, hist = ideal
    assert net.device_count["total"] == 34176
    acc = net.accuracy(data.x_test, data.y_test)
    print(f"\ndrone test accuracy {100 * acc:.2f} % (training {hist.seconds:.0f} s)")
    assert acc >= 0.990


def test_drone_accuracy_with_non_idealities(ideal, data):
    acc = ideal[0].accuracy(data.x_test, data.y_test)
    noisy, hist_n = trained(data, 0.01)
    acc_n = noisy.accuracy(data.x_test, data.y_test)
    print(f"with 1 % non-idealities {100 * acc_n:.2f} % (training {hist_n.seconds:.0f} s)")
    assert acc_n >= acc - 0.01


@pytest.mark.skipif(not get_simulator("ngspice").is_available(), reason="ngspice not available")
def test_drone_envelope_netlist_matches_numpy_and_power(ideal, data):
    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.rf_netlist import power_report

    net, _ = ideal
    x = data.x_test[:30]
    ref = net.forward(x)
    tm = {}
    out, ops = EN.evaluate(net, x, batched=True, with_op=True, timeout=1200, timings=tm)
    rel = np.max(np.abs(out - ref) / np.abs(ref))
    print(f"\nnetlist vs numpy: largest relative difference {rel:.1e}; seconds: "
          + ", ".join(f"{k} {v:.0f}" for k, v in tm.items()))
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=0)
    assert np.array_equal(net.classify(out), net.classify(ref))
    pw = power_report(net, ops[0])
    print("power: " + ", ".join(f"{k} {1e3 * v:.3f} mW" for k, v in pw.items()))
    assert 0 < pw["total"] < 0.1
