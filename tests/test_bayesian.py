"""The memristor Bayesian machine (issue 20): exact naive Bayes, the level-1 stochastic
machine against it, the SPICE sense-amplifier column (ngspice, VACASK) and the energy model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neurospice.circuits.bayesian import column as col
from neurospice.circuits.bayesian import energy, machine as M, naive_bayes as nb
from neurospice.errors import ArgumentError, DataError, NetlistError
from neurospice.simulators import get_simulator


def small_model(seed=0):
    gen = np.random.default_rng(seed)
    lk = gen.uniform(0.1, 1.0, (3, 2, 3))
    return nb.NaiveBayes(np.log([0.5, 0.3, 0.2]), lk / lk.sum(axis=1, keepdims=True))


def test_posterior_is_bayes_rule_by_enumeration():
    m = small_model()
    x = np.array(list(itertools.product(range(2), repeat=3)))
    post = m.posterior(x)
    for row, p in zip(x, post):
        joint = np.exp(m.log_prior) * np.prod([m.likelihood[i, v] for i, v in enumerate(row)], 0)
        np.testing.assert_allclose(p, joint / joint.sum(), rtol=1e-12)


def test_fit_counts_with_laplace_smoothing():
    x = np.array([[0, 1], [0, 0], [1, 1]])
    y = np.array([0, 0, 1])
    m = nb.fit(x, y, n_values=2, alpha=1.0)
    assert m.likelihood[0, :, 0] == pytest.approx([3 / 4, 1 / 4])
    assert m.likelihood[1, :, 1] == pytest.approx([1 / 3, 2 / 3])
    assert np.exp(m.log_prior) == pytest.approx([3 / 5, 2 / 5])


def test_untrusted_inputs_raise_typed_errors():
    m = small_model()
    with pytest.raises(DataError):
        m.posterior(np.array([[0, 1, 2]]))
    with pytest.raises(DataError):
        m.posterior(np.array([[0.0, 1.0, 0.0]]))
    with pytest.raises(ArgumentError):
        M.program(m, bits=0)
    with pytest.raises(ArgumentError):
        M.flip_bits(M.program(m, 4), ber=1.5)
    with pytest.raises(NetlistError):
        col.ColumnDesign(r_lrs=float("nan"))


def test_exact_decision_on_a_certain_model():
    """Two observations that decide: the machine must pick the class they point at."""
    lk = np.full((2, 2, 2), 0.05)
    lk[:, 0, 0] = lk[:, 1, 1] = 0.95
    m = nb.NaiveBayes(np.log([0.5, 0.5]), lk)
    x = np.array([[0, 0], [1, 1]])
    counts = M.infer(M.program(m, 8), x, 400, seed=1)
    assert list(M.decide(counts)) == [0, 1]
    # the coincidence rate is the product of the stored ratios w/2^bits: (255/256)^3 for
    # the right class (two observations and the prior), (13/256)^2 (255/256) for the other
    assert 380 <= counts[0, 0] <= 400 and counts[0, 1] < 10


def test_level1_with_ideal_bits_reaches_exact_naive_bayes():
    pytest.importorskip("sklearn")
    xtr, ytr, xte, yte = nb.load_digits_task()
    model = nb.fit(xtr, ytr, 4, 10)
    exact = float(np.mean(model.predict(xte) == yte))
    curve = M.accuracy_vs_cycles(M.program(model, 8), xte, yte, [10, 100, 3000], seed=3)
    assert exact > 0.6
    assert curve[0] < curve[-1] - 0.2          # few cycles: far from it
    assert abs(curve[-1] - exact) <= 0.01      # enough cycles: within one point


def test_injected_upsets_flip_exactly_that_many_bits():
    mach = M.program(small_model(), 8)
    hit = M.flip_bits(mach, upsets=5, seed=2)
    diff = np.bitwise_xor(hit.words, mach.words)
    assert sum(bin(int(d)).count("1") for d in diff.ravel()) == 5


def test_lfsr_is_maximal_length():
    state = np.array([1])
    seen = set()
    for _ in range(65535):
        seen.add(int(state[0]))
        state, _ = M.lfsr_step(state, 1)
    assert len(seen) == 65535 and int(state[0]) == 1


def test_pair_error_rate_rises_with_variability():
    rates = [M.pair_error_rate(s, n=50_000) for s in (0.03e-9, 0.2e-9, 0.4e-9)]
    assert rates[0] == 0.0 and 0 < rates[1] < rates[2] < 0.5


def test_energy_breakdown_and_microcontroller():
    e = energy.energy_per_decision(n_obs=16, n_classes=10, bits=8, cycles=1000,
                                   read_energy_per_bit=8e-15)
    assert e["total"] == pytest.approx(sum(e[k] for k in ("memory", "rng", "logic",
                                                            "counters")))
    assert e["memory"] == pytest.approx(17 * 10 * 8 * 8e-15)
    assert energy.microcontroller_energy(16, 10) > e["total"]


@pytest.mark.ngspice
@pytest.mark.slow
def test_column_montecarlo_reads_every_bit_at_nominal_and_errs_at_low_supply():
    """1000 programmed bits (125 columns x 8 rows, RRAM and PCSA variability) read in
    ngspice: all correct at 1.2 V; errors at 0.6 V; level 1 uses those rates."""
    reads = col.montecarlo(n_bits=1000, vdd=(1.2, 0.6), seed=0)
    assert reads.draws.bits.size == 1000
    assert reads.errors(1.2) == 0
    assert np.min(reads.margin[1.2]) > 0.8                    # full-swing outputs
    assert reads.bit_error_rate(0.6) > 0.01
    e_nom = reads.energy_per_bit(1.2)
    assert 1e-16 < e_nom < 1e-12 and reads.energy_per_bit(0.6) < e_nom
    mach = M.program(small_model(), 8)
    assert np.array_equal(M.flip_bits(mach, ber=reads.bit_error_rate(1.2)).words, mach.words)
    assert not np.array_equal(M.flip_bits(mach, ber=reads.bit_error_rate(0.6)).words,
                              mach.words)


@pytest.mark.ngspice
def test_compiled_transistors_match_the_behavioral_sources():
    """The OSDI transistors (the fast default) and the B-source laws they compile read the
    same bits with the same margins and energies, at nominal and at a failing low supply."""
    design = col.ColumnDesign(rows=4)
    draws = col.draw_columns(design, 3, seed=7)
    sim = get_simulator("ngspice")
    for vdd in (1.2, 0.6):
        out = [col.sample_reads(design, sim.run(col.column_circuit(
            design, draws, vdd, rendering=r)).tran, vdd, 0, 3) for r in ("osdi", "bsource")]
        assert np.array_equal(out[0][0], out[1][0])
        np.testing.assert_allclose(out[0][1], out[1][1], atol=2e-3)
        np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-3)
    with pytest.raises(NetlistError):
        col.column_circuit(design, draws, 1.2, rendering="spice3")


@pytest.mark.ngspice
@pytest.mark.vacask
def test_column_ngspice_and_vacask_agree():
    if not get_simulator("vacask").is_available():
        pytest.skip("VACASK not available")
    design = col.ColumnDesign(rows=4)
    runs = [col.montecarlo(design, n_bits=16, vdd=(1.2,), seed=5, simulator=s, per_netlist=4)
            for s in ("ngspice", "vacask")]
    assert np.array_equal(runs[0].read[1.2], runs[1].read[1.2])
    assert runs[0].errors(1.2) == 0
    assert runs[1].energy_per_bit(1.2) == pytest.approx(runs[0].energy_per_bit(1.2), rel=0.15)
