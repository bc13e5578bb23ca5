"""neurospice.learning: device-backed synapses respond to pulses as their device models say,
each training procedure learns the digits on one seed at reduced size, and a trained slice
simulated in ngspice reproduces the numpy array's outputs within 2 %."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from neurospice.errors import ArgumentError, DataError
from neurospice.learning import binary_ep, bnn, data, dw_quantised, metaplastic, vdsp
from neurospice.learning import spice_check, synapses
from neurospice.learning.energy import dw_step

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(seed=0)


def test_rram_steps_are_nonlinear_and_bounded():
    a = synapses.RRAMArray((1, 1), 0, d2d=False)
    a.set_weights([[0.0]])
    ws = []
    for _ in range(30):
        a.apply([0], [1])
        ws.append(a.weights()[0, 0])
    steps = np.diff([0.0] + ws)
    assert np.all(steps > 0)
    assert steps[-1] > 3 * steps[0]          # SET steps grow towards the LRS (G ~ exp(-g))
    assert a.energy > 0 and a.pulses == 30


def test_weak_reset_pairs_follow_the_seed_drift():
    p = synapses.WeakResetPairs((4, 4), 0, ())
    m1 = synapses.mean_seed_device()["m1"]
    p.pulse(np.full((4, 4), 10))
    assert np.allclose(p.hidden(), 10 * m1)
    assert np.all(p.weights() == 1)
    with pytest.raises(ArgumentError):
        synapses.WeakResetPairs((2, 2), 0, ("bogus",))


def test_dw_step_moves_one_site_and_levels():
    width, energy, moved = dw_step(3)
    assert abs(moved - 1) < 0.1 and energy > 0
    d = synapses.DWArray((2, 2), 3, 0, d2d=False, noisy=False)
    d.program_levels([[0, 1], [2, 1]])
    assert np.allclose(d.weights(), [[-2 / 3, 0], [2 / 3, 0]])


def test_stochastic_rounding_is_unbiased_and_device_aware():
    """A change below one pulse is applied with probability |dw|/step (the mean count is the
    change in steps), and device-aware counts follow the device's own step at its state: SET
    steps are small near the HRS (w = 0), so the same change asks for more pulses there."""
    a = synapses.RRAMArray((2, 1), 0, d2d=False)
    rng = np.random.default_rng(0)
    n = a.pulses_for(np.full(20000, 0.3 * a.unit["set"]), rng=rng)
    assert set(np.unique(n)) == {0, 1} and abs(n.mean() - 0.3) < 0.02
    n = a.pulses_for(np.full(20000, -1.6 * a.unit["reset"]), rng=rng)
    assert set(np.unique(n)) == {-2, -1} and abs(n.mean() + 1.6) < 0.02
    assert np.all(a.pulses_for([0.3 * a.unit["set"], -0.7 * a.unit["reset"]]) == [0, -1])
    a.set_weights([[0.05], [0.9]])
    step = a.step_now([0, 1], "set")
    assert 0 < step[0] < step[1] / 3
    n = a.pulses_for(np.full(2, step[1]), [0, 1])
    assert n[1] == 1 and n[0] >= 3


def test_vdsp_updates_and_rram_close_to_ideal(digits):
    task = digits.subset(300, 300)
    ideal = vdsp.run(task, vdsp.SNNConfig(n_out=40), 0)
    stdp = vdsp.run(task, vdsp.SNNConfig(n_out=40, rule="stdp"), 0)
    rram = vdsp.run(task, vdsp.SNNConfig(n_out=40, synapse="rram"), 0)
    assert ideal.accuracy > 0.55 and stdp.accuracy > 0.4          # chance is 0.1
    # the winner's synapses, less those at a bound the rule does not move
    assert 0.7 * 64 * ideal.post_spikes < ideal.updates <= 64 * ideal.post_spikes
    assert ideal.updates <= 0.6 * stdp.updates
    assert rram.accuracy > ideal.accuracy - 0.1
    assert rram.pulses >= rram.programmed > 0 and rram.updates > rram.programmed


def test_bnn_learns_and_d2d_among_the_two_most_damaging(digits):
    ideal, alone, ranking = bnn.rank_imperfections(digits.subset(600), 0, epochs=3)
    assert ideal > 0.6
    assert sorted(ranking) == sorted(synapses.IMPERFECTIONS)
    assert [alone[k] for k in ranking] == sorted(alone.values())
    assert ranking.index("d2d") < 2 and alone["d2d"] < ideal - 0.1


def test_metaplasticity_reduces_forgetting(digits):
    t2 = data.permuted(digits, 1)
    plain = metaplastic.sequential(digits, t2, 0, m=0.0, epochs=8)
    meta = metaplastic.sequential(digits, t2, 0, epochs=8)
    assert plain.task1_before > 0.8 and meta.task1_before > 0.8
    assert meta.task1_after > plain.task1_after + 0.2          # the 20 points
    assert meta.task2 > 0.7


def test_binary_ep_close_to_full_precision(digits):
    fp = binary_ep.train(digits, binary_ep.EPConfig(epochs=4), 0)
    bw = binary_ep.train(digits, binary_ep.EPConfig(epochs=4, binary=True), 0)
    assert fp.accuracy > 0.85
    assert bw.accuracy > fp.accuracy - 0.04


def test_dw_in_situ_accuracy_and_energy(digits):
    r = dw_quantised.train(digits, 5, 0, epochs=4)
    assert r.accuracy > 0.75
    assert r.pulses > 0 and r.programming_J == pytest.approx(r.pulses * r.array.step_energy)
    assert r.read_per_inference_J > 0


def test_dw_ex_situ_three_states_close_to_in_situ(digits):
    """Ex-situ training runs the in-situ algorithm on the device model and transfers the
    levels: a 3-state array keeps the in-situ accuracy (rounding a floating-point network by
    its largest weight put most weights on the middle level: about 0.4)."""
    fp = dw_quantised.float_baseline(digits, 0)
    ins = dw_quantised.train(digits, 3, 0, mode="in-situ")
    ex = dw_quantised.train(digits, 3, 0, mode="ex-situ")
    assert fp > 0.9
    assert ex.accuracy > 0.8 and ex.accuracy > ins.accuracy - 0.05
    assert ex.pulses == ex.array.level.sum()          # the transfer's pulses only
    assert np.mean(ex.array.level == 1) < 0.7


def test_data_errors(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(DataError, match="promises"):
        data.read_idx(bad)
    with pytest.raises(ArgumentError):
        data.load_mnist()


def test_mnist_npz_loader(tmp_path):
    f = tmp_path / "m.npz"
    x = np.zeros((3, 28, 28), np.uint8)
    x[0, 0, 0] = 255
    np.savez(f, x_train=x, y_train=np.array([0, 1, 2]), x_test=x[:2], y_test=np.array([1, 9]))
    t = data.load_mnist(npz=f)
    assert t.x_train.shape == (3, 784) and t.x_train.max() == 1.0 and t.n_classes == 10


@pytest.mark.ngspice
@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice not installed")
def test_spice_slice_reproduces_numpy():
    a = synapses.RRAMArray((8, 4), 0, c2c=0.2)
    a.set_weights(np.random.default_rng(0).random(32))
    a.apply(np.arange(32), np.random.default_rng(1).integers(-3, 4, 32))
    assert spice_check.rram_slice(a).max_relative_error < 0.02
    d = synapses.DWArray((8, 4), 5, 0)
    d.program_levels(np.random.default_rng(0).integers(0, 5, (8, 4)))
    assert spice_check.dw_slice(d).max_relative_error < 0.02
    p = synapses.WeakResetPairs((8, 4), 0)
    p.pulse(np.random.default_rng(0).integers(-5, 6, (8, 4)))
    assert spice_check.weak_reset_slice(p).max_relative_error < 0.02
